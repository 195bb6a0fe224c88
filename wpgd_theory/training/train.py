"""Training loop (jit + scan, vmap over seeds), Monte Carlo test risk and the comparison with theory.

Prompts are drawn fresh inside every jitted step with ``jax.random``; Adam (optax) with a cosine
learning-rate decay to 1 % of ``learning_rate``; everything in float32 (see docs/training.md). The
test risk is a Monte Carlo mean of ``(y − ŷ)²`` over fresh prompts from a separate key
(``test_seed``, shared by every run so that runs are compared on the same prompts) with its
standard error; the learned weights are read through :func:`~wpgd_theory.gla.induced_weights`
and compared with the optimum of the model's class after the best scale.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..core.model import CorrelatedTaskModel
from ..core.predictor import wpgd_predict
from ..core.risk import risk as closed_form_risk
from ..core.solver import solve_model
from ..core.validation import as_integer, as_real
from ..gla.checkpoint import rank_one_fit, shape_error
from ..multitask.gating import (
    decay_gating_optimum,
    linear_attention_optimum,
    scalar_gating_optimum,
)
from ..multitask.model import MultitaskModel, solve_multitask
from ..multitask.vector_gating import vector_gating_optimum
from ._jax import jax, jnp, optax
from .data import PromptSampler
from .models import LABEL_READING_GATINGS, Architecture

__all__ = [
    "DEFAULT_TEST_SEED",
    "TheoryOptimum",
    "TrainResult",
    "evaluate",
    "rank_one_fit",
    "shape_error",
    "theory_optimum",
    "train",
    "train_seeds",
]

DEFAULT_TEST_SEED = 20_251_201
"""Key of the test prompts (shared by all runs; training keys come from ``seed``)."""


# ---------------------------------------------------------------------- theory side

@dataclass(frozen=True)
class TheoryOptimum:
    """The theory's optimum for a model class: risk, ``P*`` and per-example weights ``ω*``.

    ``describes_class`` is false for label-reading gates, where the WPGD optimum is only a
    reference (the predictor is not linear in the labels).
    """

    kind: str
    risk: float
    preconditioner: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    wpgd_risk: float
    describes_class: bool = True


def dense_model(model):
    """The :class:`~wpgd_theory.CorrelatedTaskModel` of a task model (a multitask model's
    ``to_correlated_task_model()``), for the closed forms of :mod:`wpgd_theory.core`."""
    if isinstance(model, MultitaskModel):
        return model.to_correlated_task_model()
    if isinstance(model, CorrelatedTaskModel):
        return model
    raise TypeError(f"model must be a CorrelatedTaskModel or MultitaskModel, got "
                    f"{type(model).__name__}")


def _per_example(model, block_weights):
    return model.expand(np.asarray(block_weights, float))


def theory_optimum(arch):
    """:class:`TheoryOptimum` of an :class:`~wpgd_theory.training.Architecture`'s class."""
    model = arch.model
    if isinstance(model, CorrelatedTaskModel):
        solution = solve_model(model)
        return TheoryOptimum("wpgd", float(solution.risk), solution.preconditioner,
                             np.asarray(solution.weights, float), float(solution.risk))
    wpgd = solve_multitask(model)
    if arch.gating in ("wpgd", "scalar_features", *LABEL_READING_GATINGS):
        return TheoryOptimum("wpgd" if arch.gating == "wpgd" else "wpgd (reference only)",
                             float(wpgd.risk), wpgd.preconditioner,
                             _per_example(model, wpgd.block_weights), float(wpgd.risk),
                             arch.gating == "wpgd")
    if arch.gating == "decay":
        best = decay_gating_optimum(model)
        weights = best.decay ** np.arange(model.n - 1, -1, -1, dtype=float)
        return TheoryOptimum("decay", float(best.risk), best.preconditioner, weights,
                             float(wpgd.risk))
    if arch.gating == "vector":
        # Key-wise gates give each eigen-direction of Σ its own block weights, so L*_vector can
        # be below L*_WPGD (anisotropic Σ; equal for Σ ∝ I). The reference predictor (P, ω) of
        # the paired gap stays WPGD*: for anisotropic Σ it is not the class optimum's predictor.
        best = vector_gating_optimum(model)
        return TheoryOptimum("vector", float(best.risk), wpgd.preconditioner,
                             _per_example(model, wpgd.block_weights), float(wpgd.risk))
    best = {"linear": linear_attention_optimum, "scalar": scalar_gating_optimum}[arch.gating](
        model)
    return TheoryOptimum(arch.gating, float(best.risk), best.preconditioner,
                         _per_example(model, best.block_weights), float(wpgd.risk))


# ---------------------------------------------------------------------- result

@dataclass(frozen=True)
class TrainResult:
    """One trained model against the theory (compact repr; ``to_dict`` is JSON-ready).

    Attributes
    ----------
    test_risk, test_risk_se : float
        Monte Carlo risk ``E(y − ŷ)²`` on ``test_prompts`` fresh prompts and its standard error.
    optimum : TheoryOptimum
        The class optimum (or the WPGD reference for label-reading gates).
    optimum_test_risk, optimum_test_risk_se : float
        The Monte Carlo risk of the optimum's own predictor (WPGD with ``P*``, ``ω*``) on the
        *same* test prompts, and its standard error.
    paired_gap, paired_gap_se : float
        Mean of ``(y − ŷ)² − (y − ŷ*)²`` over the test prompts and its standard error: the
        trained model against the optimum on common prompts, whose sampling error is far
        smaller than ``test_risk_se`` (both predictors err alike on a hard prompt).
    closed_form_risk : float or None
        Exact risk ``L(P, ω)`` of the learned WPGD predictor, where the model is one (constrained
        linear/decay/scalar, free WPGD): an evaluation that involves no sampling.
    preconditioner, weights, block_weights : ndarray
        Learned ``P`` and per-example ``ω`` (rank-one fit of ``P⁽ⁱ⁾``, ``ω_n = 1``), block means.
    theory_block_weights : ndarray
    preconditioner_error, weights_error : float
        :func:`shape_error` of the learned ``P``, ``ω`` against ``P*``, ``ω*``.
    rank_one_residual : float
        How far the learned ``P⁽ⁱ⁾`` are from the WPGD form ``ω_i P``.
    loss_history : ndarray
        Training loss (batch mean) at every step.
    """

    gating: str
    parameterisation: str
    seed: int
    steps: int
    batch_size: int
    learning_rate: float
    test_risk: float
    test_risk_se: float
    test_prompts: int
    optimum: TheoryOptimum
    optimum_test_risk: float
    optimum_test_risk_se: float
    paired_gap: float
    paired_gap_se: float
    closed_form_risk: Any
    preconditioner: np.ndarray
    weights: np.ndarray
    block_weights: Any
    theory_block_weights: Any
    preconditioner_error: float
    weights_error: float
    rank_one_residual: float
    loss_history: np.ndarray
    seconds: float
    params: dict = field(repr=False)

    @property
    def relative_gap(self):
        """``(test_risk − optimum) / optimum``."""
        return (self.test_risk - self.optimum.risk) / self.optimum.risk

    def within(self, relative, standard_errors=3.0):
        """Whether ``|test_risk − optimum| ≤ max(relative·optimum, standard_errors·SE)``."""
        tolerance = max(relative * self.optimum.risk, standard_errors * self.test_risk_se)
        return abs(self.test_risk - self.optimum.risk) <= tolerance

    @property
    def relative_paired_gap(self):
        """``paired_gap / optimum``: the gap measured on common prompts."""
        return self.paired_gap / self.optimum.risk

    def within_paired(self, relative, standard_errors=3.0):
        """Whether ``|paired_gap| ≤ max(relative·optimum, standard_errors·paired_gap_se)``."""
        tolerance = max(relative * self.optimum.risk, standard_errors * self.paired_gap_se)
        return abs(self.paired_gap) <= tolerance

    def __repr__(self):
        blocks = ("" if self.block_weights is None else
                  f", block_weights={np.round(self.block_weights, 3).tolist()} "
                  f"(theory {np.round(self.theory_block_weights, 3).tolist()})")
        return (f"TrainResult({self.parameterisation} {self.gating}, seed={self.seed}, "
                f"steps={self.steps}: test_risk={self.test_risk:.4f} ± {self.test_risk_se:.4f}, "
                f"optimum={self.optimum.risk:.4f} [{self.optimum.kind}], "
                f"gap={100 * self.relative_gap:+.2f}% (paired "
                f"{100 * self.relative_paired_gap:+.2f}% ± "
                f"{100 * self.paired_gap_se / self.optimum.risk:.2f}%){blocks}, "
                f"P error={self.preconditioner_error:.3f}, ω error={self.weights_error:.3f}, "
                f"{self.seconds:.1f} s)")

    def to_dict(self):
        """JSON-ready summary (no parameters, loss history thinned to ≤ 200 points)."""
        stride = max(1, len(self.loss_history) // 200)
        def listed(a):
            return None if a is None else np.asarray(a, float).tolist()
        return {
            "gating": self.gating, "parameterisation": self.parameterisation, "seed": self.seed,
            "steps": self.steps, "batch_size": self.batch_size,
            "learning_rate": self.learning_rate, "test_risk": self.test_risk,
            "test_risk_se": self.test_risk_se, "test_prompts": self.test_prompts,
            "optimum_test_risk": self.optimum_test_risk,
            "optimum_test_risk_se": self.optimum_test_risk_se,
            "paired_gap": self.paired_gap, "paired_gap_se": self.paired_gap_se,
            "optimum_kind": self.optimum.kind, "optimum_risk": self.optimum.risk,
            "optimum_describes_class": self.optimum.describes_class,
            "wpgd_risk": self.optimum.wpgd_risk, "relative_gap": self.relative_gap,
            "closed_form_risk": self.closed_form_risk,
            "preconditioner": listed(self.preconditioner), "weights": listed(self.weights),
            "block_weights": listed(self.block_weights),
            "theory_block_weights": listed(self.theory_block_weights),
            "preconditioner_error": self.preconditioner_error,
            "weights_error": self.weights_error, "rank_one_residual": self.rank_one_residual,
            "loss_history_stride": stride,
            "loss_history": np.asarray(self.loss_history[::stride], float).tolist(),
            "seconds": self.seconds,
        }


# ---------------------------------------------------------------------- validation

def _positive_int(value, name):
    return as_integer(value, name, minimum=1)


def _seed(value, name):
    # jax.random.PRNGKey takes a 32-bit seed
    return as_integer(value, name, minimum=0, maximum=2**32 - 1)


def _learning_rate(value):
    return as_real(value, "learning_rate", minimum=0.0, strict_minimum=True)


# ---------------------------------------------------------------------- training

def _chunk_length(steps, limit=1000):
    if steps <= limit:
        return steps
    divisors = [c for c in range(limit, 0, -1) if steps % c == 0]
    return divisors[0] if divisors[0] >= 100 else limit


@functools.lru_cache(maxsize=32)
def _compiled(arch, steps, batch_size, learning_rate, mode):
    """Jitted ``start`` and chunk runners, cached so that repeated runs skip compilation.

    ``mode``: ``"single"`` (one seed, no vmap), ``"independent"`` (vmap over seeds, each seed
    draws its own prompts) or ``"shared"`` (vmap over seeds' parameters only; every seed trains
    on the prompt stream of the first seed, drawn once per step).
    """
    sampler = PromptSampler(arch.model)
    schedule = optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01)
    optimizer = optax.adam(schedule)

    def loss_on(params, prompts):
        return jnp.mean((prompts.query_label - arch.predict(params, prompts)) ** 2)

    def update(params, opt_state, grads):
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    def step(carry, _):
        params, opt_state, data_key, t = carry
        prompts = sampler.sample(jax.random.fold_in(data_key, t), batch_size)
        if mode == "shared":
            loss, grads = jax.vmap(jax.value_and_grad(loss_on), (0, None))(params, prompts)
            params, opt_state = jax.vmap(update)(params, opt_state, grads)
        else:
            loss, grads = jax.value_and_grad(loss_on)(params, prompts)
            params, opt_state = update(params, opt_state, grads)
        return (params, opt_state, data_key, t + 1), loss

    def keys(seed):
        init_key, data_key = jax.random.split(jax.random.PRNGKey(seed))
        return init_key, data_key

    def start(seed):
        init_key, data_key = keys(seed)
        params = arch.init(init_key)
        return params, optimizer.init(params), data_key, jnp.asarray(0)

    def start_shared(seeds):
        params, opt_state, _, t = jax.vmap(start)(seeds)
        return params, opt_state, keys(seeds[0])[1], t[0]

    runners = {}

    def runner(length):
        if length not in runners:
            scan = lambda c: jax.lax.scan(step, c, None, length=length)
            runners[length] = jax.jit(jax.vmap(scan) if mode == "independent" else scan)
        return runners[length]

    first = {"single": start, "independent": jax.vmap(start), "shared": start_shared}[mode]
    return jax.jit(first), runner


def _fit(arch, seeds, steps, batch_size, learning_rate, progress, share_prompts=False):
    """Train one model per seed at once (vmap); returns stacked params and losses (S, steps)."""
    # no vmap for one seed: batch axes of size 1 cost time
    mode = "single" if len(seeds) == 1 else "shared" if share_prompts else "independent"
    start, runner = _compiled(arch, steps, batch_size, learning_rate, mode)
    keys = jnp.asarray(seeds, dtype=jnp.uint32)
    carry = start(keys[0] if mode == "single" else keys)

    chunk, done, losses = _chunk_length(steps), 0, []
    bar = _progress_bar(steps, progress)
    while done < steps:
        length = min(chunk, steps - done)
        carry, loss = runner(length)(carry)
        loss = np.asarray(loss)
        loss = (loss.T if mode == "shared" else loss).reshape(len(seeds), length)
        losses.append(loss)
        bad = ~np.isfinite(loss)
        if bad.any():
            s, t = np.argwhere(bad)[0]
            raise FloatingPointError(
                f"training diverged: the loss of seed {seeds[s]} became {loss[s, t]} at step "
                f"{done + t} (gating {arch.gating!r}, learning_rate {learning_rate}); lower the "
                "learning_rate")
        done += length
        if bar is not None:
            bar.update(length)
    if bar is not None:
        bar.close()
    params = carry[0]
    if mode == "single":
        params = jax.tree_util.tree_map(lambda a: a[None], params)
    return params, np.concatenate(losses, axis=1)


def _progress_bar(total, progress):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:                                           # pragma: no cover
        return None
    return tqdm(total=total, desc="training", unit="step")


@functools.lru_cache(maxsize=32)
def _evaluator(arch, chunk, test_seed):
    sampler = PromptSampler(arch.model)
    base = jax.random.fold_in(jax.random.PRNGKey(test_seed), 0x7E57)

    @jax.jit
    def sums(params, reference, index):
        prompts = sampler.sample(jax.random.fold_in(base, index), chunk)
        errors = (prompts.query_label - jax.vmap(arch.predict, in_axes=(0, None))(
            params, prompts)) ** 2                                  # (S, chunk)
        # The theory's optimal predictor on the same prompts: the paired difference has a far
        # smaller variance than either risk (common random numbers).
        optimal = (prompts.query_label - wpgd_predict(
            prompts.query_input, prompts.context_inputs, prompts.context_labels,
            reference[0], reference[1])) ** 2                       # (chunk,)
        paired = errors - optimal
        return (jnp.sum(errors, axis=1), jnp.sum(errors**2, axis=1), jnp.sum(optimal),
                jnp.sum(optimal**2), jnp.sum(paired, axis=1), jnp.sum(paired**2, axis=1))

    return sums


class _MonteCarlo(NamedTuple):
    """Per-seed test risks, the optimum's risk on the same prompts, their paired differences."""

    mean: np.ndarray
    se: np.ndarray
    optimum_mean: float
    optimum_se: float
    paired_mean: np.ndarray
    paired_se: np.ndarray
    total: int


def _mean_and_se(first, second, total):
    mean = first / total
    variance = np.maximum(second / total - mean**2, 0.0) * total / (total - 1)
    return mean, np.sqrt(variance / total)


def _chunk_size(arch, limit=8192, floats=2**25):
    """Test prompts per evaluation chunk: 8192, halved while one seed's projected tokens
    (``T × (D + 2d_k + 1)`` floats a prompt) would exceed ``2²⁵`` floats (128 MB). Depends on the
    architecture only, so every run of it sees the same test prompts."""
    per_prompt = arch.T * (arch.D + 2 * arch.d_k + 1)
    chunk = limit
    while chunk > 64 and chunk * per_prompt > floats:
        chunk //= 2
    return chunk


def _evaluate(arch, stacked_params, num_prompts, test_seed, optimum):
    """Monte Carlo risks ``E(y − ŷ)²`` per seed and of the optimum, on shared fresh prompts."""
    chunk = min(_chunk_size(arch), num_prompts)
    num_chunks = -(-num_prompts // chunk)
    sums = _evaluator(arch, chunk, test_seed)
    reference = (jnp.asarray(optimum.preconditioner, jnp.float32),
                 jnp.asarray(optimum.weights, jnp.float32))
    totals = [0.0] * 6
    for index in range(num_chunks):
        totals = [t + np.asarray(s, float) for t, s in zip(totals, sums(stacked_params,
                                                                         reference, index))]
    total = num_chunks * chunk
    mean, se = _mean_and_se(totals[0], totals[1], total)
    optimum_mean, optimum_se = _mean_and_se(totals[2], totals[3], total)
    paired_mean, paired_se = _mean_and_se(totals[4], totals[5], total)
    return _MonteCarlo(mean, se, float(optimum_mean), float(optimum_se), paired_mean, paired_se,
                       total)


def evaluate(arch, params, *, test_prompts=100_000, test_seed=DEFAULT_TEST_SEED):
    """Monte Carlo risk ``E(y − ŷ)²`` and its standard error for one parameter set.

    Parameters
    ----------
    arch : Architecture
    params : dict
        E.g. ``TrainResult.params`` (possibly edited, for ablations).

    Returns
    -------
    (float, float, int)
        Mean, standard error, number of prompts.
    """
    stacked = jax.tree_util.tree_map(lambda a: jnp.asarray(a)[None], params)
    result = _evaluate(arch, stacked, _positive_int(test_prompts, "test_prompts"),
                       _seed(test_seed, "test_seed"), theory_optimum(arch))
    return float(result.mean[0]), float(result.se[0]), result.total


def _analyse(arch, params, optimum):
    """Learned ``P``, ``ω``, block weights, errors against the optimum, closed-form risk."""
    model = arch.model
    prompts = model.sample(64, seed=0)
    per_token = arch.token_preconditioners(params, prompts).mean(axis=0)
    P, omega, residual = rank_one_fit(per_token)
    blocks = theory_blocks = None
    if isinstance(model, MultitaskModel):
        edges = np.concatenate([[0], np.cumsum(model.sizes)])
        def block_means(w):
            means = np.array([w[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
            return means / means[-1] if means[-1] != 0 else means
        blocks, theory_blocks = block_means(omega), block_means(optimum.weights)
    exact = None
    if arch.parameterisation == "wpgd" or (arch.parameterisation == "constrained"
                                           and arch.gating != "vector"):
        exact = float(closed_form_risk(dense_model(model), P, omega))
    return dict(preconditioner=P, weights=omega, block_weights=blocks,
                theory_block_weights=theory_blocks,
                preconditioner_error=shape_error(P, optimum.preconditioner),
                weights_error=shape_error(omega, optimum.weights), rank_one_residual=residual,
                closed_form_risk=exact)


def train_seeds(model, gating="scalar", *, seeds=(0,), parameterisation="constrained",
                steps=2000, batch_size=256, learning_rate=1e-2, test_prompts=100_000,
                test_seed=DEFAULT_TEST_SEED, init_scale=0.1, progress=False,
                share_prompts=False):
    """Train one model per seed at once (``jax.vmap``) and compare each with the theory.

    Parameters are those of :func:`train`, with ``seeds`` a sequence of ints, and

    share_prompts : bool
        If false (default) every seed draws its own training prompts, so the runs are
        independent and seed ``s`` gives exactly ``train(..., seed=s)``. If true, the seeds
        differ only in their initialisation: all train on the prompt stream of ``seeds[0]``,
        drawn once per step (its run is ``train(..., seed=seeds[0])``). The sampling is then
        paid once, not once per seed, which is what makes many inits cheap (the trap
        experiment) — but the runs share their data, so their spread measures the effect of
        the initialisation only.

    Returns
    -------
    list of TrainResult
        One per seed, in order; ``seconds`` is the wall time of the whole batch.
    """
    arch = Architecture.build(model, gating, parameterisation, init_scale)
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a sequence of ints, got {type(seeds).__name__}")
    seeds = [_seed(s, "seeds") for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    steps = _positive_int(steps, "steps")
    batch_size = _positive_int(batch_size, "batch_size")
    test_prompts = _positive_int(test_prompts, "test_prompts")
    if test_prompts < 2:
        raise ValueError(f"test_prompts must be >= 2 (a standard error needs two), got "
                         f"{test_prompts}")
    test_seed = _seed(test_seed, "test_seed")
    learning_rate = _learning_rate(learning_rate)
    start = time.perf_counter()
    if not isinstance(share_prompts, (bool, np.bool_)):
        raise TypeError(f"share_prompts must be a bool, got {type(share_prompts).__name__}")
    params, losses = _fit(arch, seeds, steps, batch_size, learning_rate, progress,
                          bool(share_prompts))
    optimum = theory_optimum(arch)
    mc = _evaluate(arch, params, test_prompts, test_seed, optimum)
    if not np.all(np.isfinite(mc.mean)):
        raise FloatingPointError(f"the test risk is not finite ({mc.mean.tolist()}): the trained "
                                 "model overflows on fresh prompts; lower the learning_rate")
    seconds = time.perf_counter() - start
    results = []
    for i, seed in enumerate(seeds):
        own = jax.tree_util.tree_map(lambda a, i=i: np.asarray(a[i]), params)
        results.append(TrainResult(
            gating=arch.gating, parameterisation=arch.parameterisation, seed=seed, steps=steps,
            batch_size=batch_size, learning_rate=learning_rate, test_risk=float(mc.mean[i]),
            test_risk_se=float(mc.se[i]), test_prompts=int(mc.total), optimum=optimum,
            optimum_test_risk=mc.optimum_mean, optimum_test_risk_se=mc.optimum_se,
            paired_gap=float(mc.paired_mean[i]), paired_gap_se=float(mc.paired_se[i]),
            loss_history=losses[i], seconds=seconds, params=own,
            **_analyse(arch, own, optimum)))
    return results


def train(model, gating="scalar", *, parameterisation="constrained", steps=2000, batch_size=256,
          learning_rate=1e-2, seed=0, test_prompts=100_000, test_seed=DEFAULT_TEST_SEED,
          init_scale=0.1, progress=False):
    """Train one GLA (or WPGD) model on fresh prompts and compare it with the theory.

    Parameters
    ----------
    model : MultitaskModel
        The task distribution (a :class:`~wpgd_theory.CorrelatedTaskModel` too for
        ``parameterisation="wpgd"``).
    gating : str
        ``"linear"``, ``"decay"``, ``"scalar"``, ``"vector"``; for the full layer also
        ``"scalar_token"`` and the names of :data:`~wpgd_theory.gla.GATE_FAMILIES`.
    parameterisation : {"constrained", "full", "wpgd"}
        See :mod:`wpgd_theory.training.models`.
    steps, batch_size : int
        Adam steps and fresh prompts per step.
    learning_rate : float
        Peak Adam learning rate (cosine decay to 1 %).
    seed : int
        Initialisation and training-data key; the run is deterministic for a seed.
    test_prompts : int
        Fresh test prompts (rounded up to whole chunks of 8192, fewer for long prompts).
    test_seed : int
        Key of the test prompts (default shared by every run).
    init_scale : float
        Scale of the random initial projections.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    TrainResult

    Raises
    ------
    TypeError, ValueError
        Naming the argument (model type, unknown gating, non-positive steps or batch size,
        learning rate ≤ 0 or NaN, ...).
    FloatingPointError
        If the loss or the test risk is not finite (diverged run).

    Examples
    --------
    >>> from wpgd_theory import paper_setting_model
    >>> model = paper_setting_model(8, 0.2, 0.8, 4, 0.1)
    >>> result = train(model, "scalar", steps=400, batch_size=128, learning_rate=0.03,
    ...                test_prompts=16_384)
    >>> abs(result.relative_gap) < 0.05, result.optimum.kind
    (True, 'scalar')
    """
    return train_seeds(model, gating, seeds=[seed], parameterisation=parameterisation,
                       steps=steps, batch_size=batch_size, learning_rate=learning_rate,
                       test_prompts=test_prompts, test_seed=test_seed, init_scale=init_scale,
                       progress=progress)[0]
