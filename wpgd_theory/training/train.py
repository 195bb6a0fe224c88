"""Training loop (jit + scan, vmap over seeds), Monte Carlo test risk and the comparison with theory.

Prompts are drawn fresh inside every jitted step with ``jax.random``; Adam (optax) with a cosine
learning-rate decay to 1 % of ``learning_rate``; everything in float32 (see docs/training.md). The
test risk is a Monte Carlo mean of ``(y − ŷ)²`` over fresh prompts from a separate key
(``test_seed``, shared by every run so that runs are compared on the same prompts) with its
standard error; the learned weights are read through :func:`~wpgd_theory.gla.induced_weights`
and compared with the optimum of the model's class after the best scale.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..core.model import CorrelatedTaskModel
from ..core.predictor import wpgd_predict
from ..core.risk import risk as closed_form_risk
from ..core.solver import solve_model
from ..core.validation import as_bool, as_integer, as_real, as_real_array, as_sequence
from ..gla.checkpoint import rank_one_fit, shape_error
from ..multitask.gating import (
    decay_gating_optimum,
    linear_attention_optimum,
    scalar_gating_optimum,
)
from ..multitask.model import MultitaskModel, solve_multitask
from ..multitask.vector_gating import vector_gating_optimum
from ._jax import jax, jnp, optax
from .bayes import bayes_predictor
from .data import PromptSampler
from .models import DATA_READING_GATINGS, LABEL_READING_GATINGS, Architecture
from .multilayer import MultiLayerArchitecture, as_layers, reference_optimum
from .softmax import SoftmaxArchitecture
from .starts import MAX_STARTS, best_start, gate_starts

__all__ = [
    "DEFAULT_TEST_SEED",
    "MAX_STARTS",
    "MAX_STEPS",
    "MAX_TEST_PROMPTS",
    "MAX_TRAINING_FLOATS",
    "PairedEvaluation",
    "TheoryOptimum",
    "TrainResult",
    "build_architecture",
    "evaluate",
    "rank_one_fit",
    "shape_error",
    "task_scale",
    "theory_optimum",
    "train",
    "train_seeds",
]

DEFAULT_TEST_SEED = 20_251_201
"""Key of the test prompts (shared by all runs; training keys come from ``seed``)."""
MAX_STEPS = 10**6
"""Largest ``steps`` of one run (refused beyond, rather than running for days)."""
MAX_TEST_PROMPTS = 10**8
"""Largest ``test_prompts`` (streamed in chunks of at most 8192; refused beyond)."""
MAX_TRAINING_FLOATS = 2**29
"""Largest estimated working set of one training call, in float32 numbers (2 GiB): parameters
and Adam state, one step's prompts and tokens forward and backward per seed, an evaluation chunk
per seed and the float64 analysis. A call beyond it is refused before anything is allocated."""


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
    """:class:`TheoryOptimum` of an :class:`~wpgd_theory.training.Architecture`'s class.

    For ``L > 1`` layers it is the one-layer class optimum, marked as a reference; for softmax
    attention ``L*_WPGD``, a reference too.
    """
    if isinstance(arch, MultiLayerArchitecture):
        return reference_optimum(theory_optimum(arch.layer), arch.layers)
    model = arch.model
    if isinstance(arch, SoftmaxArchitecture):
        wpgd = solve_multitask(model)
        return TheoryOptimum("wpgd (reference only)", float(wpgd.risk), wpgd.preconditioner,
                             _per_example(model, wpgd.block_weights), float(wpgd.risk), False)
    if isinstance(model, CorrelatedTaskModel):
        solution = solve_model(model)
        return TheoryOptimum("wpgd", float(solution.risk), solution.preconditioner,
                             np.asarray(solution.weights, float), float(solution.risk))
    wpgd = solve_multitask(model)
    if arch.gating in ("wpgd", *DATA_READING_GATINGS, *LABEL_READING_GATINGS):
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
    bayes_test_risk, bayes_test_risk_se : float
        The Monte Carlo risk of the Bayes-optimal predictor (:mod:`wpgd_theory.training.bayes`)
        on the same test prompts: the floor under every in-context learner.
    bayes_paired_gap, bayes_paired_gap_se : float
        Mean of ``(y − ŷ)² − (y − ŷ_Bayes)²`` on the test prompts (``≥ 0`` up to sampling error)
        and its standard error: how far the trained model is from the best possible.
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
    params : dict
        The trained parameters, in the units of the normalised model that training runs on
        (``Σ/s``, ``σ²/s`` with ``s =`` :func:`task_scale`; ``s = 1`` when ``tr Σ = d`` and
        ``σ² ≤ √2``): :func:`evaluate` takes them as they are. Every risk above, the loss
        history and ``preconditioner`` are in the model's own units.
    layers : int
        Number of GLA layers (``optimum`` is the one-layer class optimum, a reference, if > 1).
    start_runs : tuple of dict
        With ``starts > 1``: every start's ``start``, ``train_loss`` (mean loss over the last
        10 % of the steps, on the common prompt stream), ``test_risk``, ``test_risk_se``,
        ``paired_gap`` and ``block_weights``; this result is the start with the lowest
        ``train_loss``.
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
    bayes_test_risk: Any = None
    bayes_test_risk_se: Any = None
    bayes_paired_gap: Any = None
    bayes_paired_gap_se: Any = None
    layers: int = 1
    start_runs: tuple = ()

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
        depth = "" if self.layers == 1 else f", layers={self.layers}"
        starts = "" if not self.start_runs else f", starts={len(self.start_runs)}"
        return (f"TrainResult({self.parameterisation} {self.gating}{depth}, seed={self.seed}"
                f"{starts}, "
                f"steps={self.steps}: test_risk={self.test_risk:.4f} ± {self.test_risk_se:.4f}, "
                f"optimum={self.optimum.risk:.4f} [{self.optimum.kind}], "
                f"gap={100 * self.relative_gap:+.2f}% (paired "
                f"{100 * self.relative_paired_gap:+.2f}% ± "
                f"{100 * self.paired_gap_se / self.optimum.risk:.2f}%){blocks}, "
                f"P error={self.preconditioner_error:.3f}, ω error={self.weights_error:.3f}, "
                f"{self.seconds:.1f} s)")

    def to_dict(self, *, history_stride=None):
        """JSON-ready summary (no parameters); the loss history every ``history_stride``-th step
        (default: thinned to ≤ 200 points)."""
        stride = (max(1, len(self.loss_history) // 200) if history_stride is None
                  else as_integer(history_stride, "history_stride", minimum=1))
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
            "bayes_test_risk": self.bayes_test_risk, "bayes_test_risk_se": self.bayes_test_risk_se,
            "bayes_paired_gap": self.bayes_paired_gap,
            "bayes_paired_gap_se": self.bayes_paired_gap_se,
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
            "seconds": self.seconds, "layers": self.layers,
            "start_runs": [{k: (listed(v) if k == "block_weights" else v)
                            for k, v in run.items()} for run in self.start_runs],
        }


# ---------------------------------------------------------------------- validation

def _positive_int(value, name):
    return as_integer(value, name, minimum=1)


def _seed(value, name):
    # jax.random.PRNGKey takes a 32-bit seed
    return as_integer(value, name, minimum=0, maximum=2**32 - 1)


def _learning_rate(value):
    return as_real(value, "learning_rate", minimum=0.0, strict_minimum=True)


def _test_prompts(value):
    value = as_integer(value, "test_prompts", minimum=2, maximum=MAX_TEST_PROMPTS)
    return value


def _seeds(seeds):
    return as_sequence(seeds, "seeds", _seed, of="int")


def _architecture(arch):
    if not isinstance(arch, Architecture):
        raise TypeError(f"arch must be an Architecture (Architecture.build(model, ...)), got "
                        f"{type(arch).__name__}")
    return arch


def _check_params(arch, params):
    """``params`` as float32 arrays with exactly the names and shapes of ``arch.init``."""
    expected = jax.eval_shape(arch.init, jax.random.PRNGKey(0))
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict like TrainResult.params, got "
                        f"{type(params).__name__}")
    names = jax.tree_util.tree_structure(expected)
    try:
        leaves = names.flatten_up_to(params)
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"params must have the entries of this architecture's parameters "
                         f"{sorted(expected)} (nested as in arch.init), got {sorted(params)}"
                         ) from None
    paths = [jax.tree_util.keystr(path) for path, _ in
             jax.tree_util.tree_flatten_with_path(expected)[0]]
    checked = []
    for path, leaf, shape in zip(paths, leaves, jax.tree_util.tree_leaves(expected)):
        array = as_real_array(np.asarray(leaf), f"params{path}")
        if array.shape != shape.shape:
            raise ValueError(f"params{path} must have shape {shape.shape}, got {array.shape}")
        checked.append(jnp.asarray(array, jnp.float32))
    return jax.tree_util.tree_unflatten(names, checked)


def _per_prompt_floats(arch):
    """float32 numbers of one prompt's tokens and projections: ``T × (D + 2d_k + 1)``."""
    return arch.T * (arch.D + 2 * arch.d_k + 1)


def _check_footprint(arch, seeds, batch_size):
    """Refuse, before allocating, a call whose estimated working set exceeds the limit."""
    parameters = sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(
        jax.eval_shape(arch.init, jax.random.PRNGKey(0))))
    per_prompt = _per_prompt_floats(arch)
    # training: parameters, gradients and Adam's two moments, and a step's prompts forward
    # and backward (×4); evaluation: a chunk of test prompts (×3); analysis: n d×d in float64
    floats = (seeds * (4 * parameters + 4 * batch_size * per_prompt
                       + 3 * _chunk_size(arch) * per_prompt) + 2 * arch.n * arch.d**2)
    if floats > MAX_TRAINING_FLOATS:
        raise ValueError(
            f"training {arch} with {seeds} seed(s) and batch_size {batch_size} needs an "
            f"estimated {floats:.3g} float32 numbers ({parameters} parameters, {per_prompt} per "
            f"prompt) > MAX_TRAINING_FLOATS = {MAX_TRAINING_FLOATS} (2 GiB); lower batch_size, "
            "the number of seeds or the model's size")


# ---------------------------------------------------------------------- scale

def task_scale(model):
    """The scale ``s = max(tr Σ / d, σ² / 2⁴⁰)`` at which training runs the model.

    The risk is homogeneous: the model ``(tΣ, tσ²)`` has ``t`` times the risk of ``(Σ, σ²)`` at
    ``P/t``. Training and its Monte Carlo evaluation run on ``(Σ/s, σ²/s)``, whose prompts are
    O(1) in float32 whatever the user's units (the noise term keeps the squared errors of a
    noise-dominated model below float32's range), and every risk, loss and learned ``P`` is
    reported back in the model's own units. ``s = 1`` when ``tr Σ = d`` and ``σ² ≤ 2⁴⁰`` (then
    nothing is rescaled), and ``s`` is proportional to ``t``, so a rescaled model trains on the
    same normalised model: training is scale-free.

    Examples
    --------
    >>> from wpgd_theory import MultitaskModel
    >>> task_scale(MultitaskModel(np.eye(1), [0.5], [2], 1e-150 * np.eye(3), 0.0))
    1e-150
    >>> task_scale(MultitaskModel(np.eye(1), [0.5], [2], np.eye(3), 0.1))
    1.0
    """
    if not isinstance(model, (MultitaskModel, CorrelatedTaskModel)):
        raise TypeError(f"model must be a MultitaskModel or CorrelatedTaskModel, got "
                        f"{type(model).__name__}")
    return max(float(np.sum(model.sigma_eigenvalues)) / model.d, model.sigma2 / 2.0**40)


def _rescaled_model(model, scale):
    """The model with ``Σ/scale`` and ``σ²/scale`` (same tasks, same sizes)."""
    if isinstance(model, MultitaskModel):
        return MultitaskModel(model.task_correlation, model.query_correlation, model.sizes,
                              model.Sigma / scale, model.sigma2 / scale)
    return CorrelatedTaskModel(model.Sigma / scale, model.R, model.r, model.sigma2 / scale)


@functools.lru_cache(maxsize=32)
def _normalised(arch):
    """``(architecture on the normalised model, s)`` (cached: compiled code is reused)."""
    scale = task_scale(arch.model)
    if scale == 1.0:
        return arch, 1.0
    return _with_model(arch, _rescaled_model(arch.model, scale)), scale


def _with_model(arch, model):
    """``arch`` on another model: one-layer architectures hold it, the multi-layer and softmax
    wrappers hold their one-layer ``layer``."""
    if isinstance(arch, Architecture):
        return dataclasses.replace(arch, model=model)
    return dataclasses.replace(arch, layer=_with_model(arch.layer, model))


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


def _fit(arch, seeds, steps, batch_size, learning_rate, progress, share_prompts=False,
         edit_init=None):
    """Train one model per seed at once (vmap); returns stacked params and losses (S, steps).

    ``edit_init`` (optional) maps the stacked initial parameters to new ones (the diverse gate
    starts of ``starts``); Adam's initial state does not depend on the parameters' values.
    """
    # no vmap for one seed: batch axes of size 1 cost time
    mode = "single" if len(seeds) == 1 else "shared" if share_prompts else "independent"
    start, runner = _compiled(arch, steps, batch_size, learning_rate, mode)
    keys = jnp.asarray(seeds, dtype=jnp.uint32)
    carry = start(keys[0] if mode == "single" else keys)
    if edit_init is not None:
        carry = (edit_init(carry[0]),) + tuple(carry[1:])

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
            if done + t == 0:
                raise FloatingPointError(
                    f"the loss of seed {seeds[s]} is {loss[s, t]} at step 0, before any update: "
                    f"the initial predictions overflow float32 (init_scale {arch.init_scale}); "
                    "lower init_scale")
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
    if not as_bool(progress, "progress"):
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
    bayes = bayes_predictor(arch.model)

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
        floor = (prompts.query_label - bayes(prompts)) ** 2              # (chunk,)
        above = errors - floor
        return (jnp.sum(errors, axis=1), jnp.sum(errors**2, axis=1), jnp.sum(optimal),
                jnp.sum(optimal**2), jnp.sum(paired, axis=1), jnp.sum(paired**2, axis=1),
                jnp.sum(floor), jnp.sum(floor**2), jnp.sum(above, axis=1),
                jnp.sum(above**2, axis=1))

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
    bayes_mean: float = None
    bayes_se: float = None
    bayes_paired_mean: np.ndarray = None
    bayes_paired_se: np.ndarray = None


def _mean_and_se(first, second, total):
    mean = first / total
    variance = np.maximum(second / total - mean**2, 0.0) * total / (total - 1)
    return mean, np.sqrt(variance / total)


def _chunk_size(arch, limit=8192, floats=2**25):
    """Test prompts per evaluation chunk: 8192, halved while one seed's projected tokens
    (``T × (D + 2d_k + 1)`` floats a prompt) would exceed ``2²⁵`` floats (128 MB). Depends on the
    architecture only, so every run of it sees the same test prompts."""
    per_prompt = _per_prompt_floats(arch)
    chunk = limit
    while chunk > 64 and chunk * per_prompt > floats:
        chunk //= 2
    return chunk


def _evaluate(arch, stacked_params, num_prompts, test_seed, reference):
    """Monte Carlo risks ``E(y − ŷ)²`` per seed and of the WPGD predictor ``reference = (P, ω)``
    (the optimum), on shared fresh prompts of ``arch.model``."""
    chunk = min(_chunk_size(arch), num_prompts)
    num_chunks = -(-num_prompts // chunk)
    sums = _evaluator(arch, chunk, test_seed)
    reference = (jnp.asarray(reference[0], jnp.float32), jnp.asarray(reference[1], jnp.float32))
    totals = [0.0] * 10
    for index in range(num_chunks):
        totals = [t + np.asarray(s, float) for t, s in zip(totals, sums(stacked_params,
                                                                         reference, index))]
    total = num_chunks * chunk
    mean, se = _mean_and_se(totals[0], totals[1], total)
    optimum_mean, optimum_se = _mean_and_se(totals[2], totals[3], total)
    paired_mean, paired_se = _mean_and_se(totals[4], totals[5], total)
    bayes_mean, bayes_se = _mean_and_se(totals[6], totals[7], total)
    above_mean, above_se = _mean_and_se(totals[8], totals[9], total)
    return _MonteCarlo(mean, se, float(optimum_mean), float(optimum_se), paired_mean, paired_se,
                       total, float(bayes_mean), float(bayes_se), above_mean, above_se)


class PairedEvaluation(NamedTuple):
    """:func:`evaluate`'s result: the model's Monte Carlo risk and the paired gap to the optimum.

    ``paired_gap`` is the mean of ``(y − ŷ)² − (y − ŷ*)²`` on the same prompts, ``ŷ*`` the class
    optimum's predictor (for label-reading gates the WPGD optimum, a reference only).
    """

    risk: float
    risk_se: float
    prompts: int
    optimum_risk: float
    paired_gap: float
    paired_gap_se: float


def evaluate(arch, params, *, test_prompts=100_000, test_seed=DEFAULT_TEST_SEED):
    """Monte Carlo risk ``E(y − ŷ)²`` of one parameter set, and its paired gap to the optimum.

    Parameters
    ----------
    arch : Architecture
    params : dict
        E.g. ``TrainResult.params`` (possibly edited, for ablations).

        Parameters are in the units of the normalised model that training runs on
        (:func:`task_scale`); the risk is reported in the model's own units.
    test_prompts : int
        At least 2 (a standard error needs two), at most :data:`MAX_TEST_PROMPTS`.

    Returns
    -------
    PairedEvaluation
        ``(risk, risk_se, prompts, optimum_risk, paired_gap, paired_gap_se)``, in the model's own
        units: the paired gap resolves differences far below ``risk_se`` (common prompts).

    Raises
    ------
    FloatingPointError
        If the predictions overflow float32 (the risk would not be finite).
    """
    arch = _architecture(arch)
    params = _check_params(arch, params)
    test_prompts, test_seed = _test_prompts(test_prompts), _seed(test_seed, "test_seed")
    _check_footprint(arch, 1, 0)
    normal, scale = _normalised(arch)
    optimum = theory_optimum(arch)
    stacked = jax.tree_util.tree_map(lambda a: jnp.asarray(a)[None], params)
    result = _evaluate(normal, stacked, test_prompts, test_seed,
                       (optimum.preconditioner * scale, optimum.weights))
    evaluation = PairedEvaluation(
        float(result.mean[0]) * scale, float(result.se[0]) * scale, result.total,
        result.optimum_mean * scale, float(result.paired_mean[0]) * scale,
        float(result.paired_se[0]) * scale)
    _check_finite({"test risk": evaluation.risk, "its standard error": evaluation.risk_se,
                   "paired gap": evaluation.paired_gap}, "these params")
    return evaluation


def _check_finite(values, what, hint=""):
    """Raise FloatingPointError if any of the named Monte Carlo values is not finite."""
    bad = {k: v for k, v in values.items() if not np.all(np.isfinite(v))}
    if bad:
        listed = ", ".join(f"{k} {np.asarray(v).tolist()}" for k, v in bad.items())
        raise FloatingPointError(f"the Monte Carlo evaluation of {what} is not finite ({listed}):"
                                 f" the predictions overflow float32{hint}")


def _analyse(arch, params, optimum, scale=1.0):
    """Learned ``P``, ``ω``, block weights, errors against the optimum, closed-form risk.

    ``arch`` is the architecture on the normalised model (``Σ/scale``); ``P`` and the risk are
    returned in the units of the model ``scale`` times larger, those of ``optimum``."""
    model = arch.model
    if not isinstance(arch, Architecture):
        # several layers or softmax attention: no per-example P⁽ⁱ⁾ to read
        return dict(preconditioner=None, weights=None, block_weights=None,
                    theory_block_weights=None, preconditioner_error=float("nan"),
                    weights_error=float("nan"), rank_one_residual=float("nan"),
                    closed_form_risk=None)
    prompts = model.sample(64, seed=0)
    per_token = arch.token_preconditioners(params, prompts, average=True)
    P, omega, residual = rank_one_fit(per_token)
    P = P / scale
    blocks = theory_blocks = None
    if isinstance(model, MultitaskModel):
        edges = np.concatenate([[0], np.cumsum(model.sizes)])
        def block_means(w):
            means = np.array([w[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
            return means / means[-1] if means[-1] != 0 else means
        blocks, theory_blocks = block_means(omega), block_means(optimum.weights)
    exact = None
    if arch.parameterisation == "wpgd" or (arch.parameterisation == "constrained"
                                           and arch.gating not in ("vector", "scalar_x")):
        exact = float(closed_form_risk(dense_model(model), P * scale, omega)) * scale
    return dict(preconditioner=P, weights=omega, block_weights=blocks,
                theory_block_weights=theory_blocks,
                preconditioner_error=shape_error(P, optimum.preconditioner),
                weights_error=shape_error(omega, optimum.weights), rank_one_residual=residual,
                closed_form_risk=exact)


def build_architecture(model, gating="scalar", parameterisation="constrained", init_scale=0.1,
                       layers=1):
    """The trainable model of ``(gating, parameterisation, layers)``: an
    :class:`~wpgd_theory.training.Architecture` (one layer), a
    :class:`~wpgd_theory.training.MultiLayerArchitecture` (``layers > 1``) or, for
    ``gating="softmax"``, a :class:`~wpgd_theory.training.SoftmaxArchitecture` (one layer)."""
    layers = as_layers(layers)
    if isinstance(gating, str) and gating == "softmax":
        if layers != 1:
            raise ValueError(f"layers must be 1 for gating 'softmax', got {layers}")
        return SoftmaxArchitecture.build(model, parameterisation, init_scale)
    if layers == 1:
        return Architecture.build(model, gating, parameterisation, init_scale)
    return MultiLayerArchitecture.build(model, gating, parameterisation, init_scale,
                                        layers=layers)


def train_seeds(model, gating="scalar", *, seeds=(0,), parameterisation="constrained",
                steps=2000, batch_size=256, learning_rate=1e-2, test_prompts=100_000,
                test_seed=DEFAULT_TEST_SEED, init_scale=0.1, progress=False,
                share_prompts=False, layers=1):
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
    arch = build_architecture(model, gating, parameterisation, init_scale, layers)
    return _train_batch(arch, seeds, steps=steps, batch_size=batch_size,
                        learning_rate=learning_rate, test_prompts=test_prompts,
                        test_seed=test_seed, progress=progress, share_prompts=share_prompts)


def _train_batch(arch, seeds, *, steps, batch_size, learning_rate, test_prompts, test_seed,
                 progress, share_prompts, edit_init=None):
    seeds = _seeds(seeds)
    steps = as_integer(steps, "steps", minimum=1, maximum=MAX_STEPS)
    batch_size = _positive_int(batch_size, "batch_size")
    test_prompts = _test_prompts(test_prompts)
    test_seed = _seed(test_seed, "test_seed")
    learning_rate = _learning_rate(learning_rate)
    share_prompts = as_bool(share_prompts, "share_prompts")
    as_bool(progress, "progress")
    _check_footprint(arch, len(seeds), batch_size)
    start = time.perf_counter()
    normal, scale = _normalised(arch)
    params, losses = _fit(normal, seeds, steps, batch_size, learning_rate, progress,
                          share_prompts, edit_init)
    optimum = theory_optimum(arch)
    mc = _evaluate(normal, params, test_prompts, test_seed,
                   (optimum.preconditioner * scale, optimum.weights))
    _check_finite({"test risk": mc.mean * scale, "its standard error": mc.se * scale,
                   "paired gap": mc.paired_mean * scale,
                   "the paired gap's standard error": mc.paired_se * scale}, "the trained model",
                  f"; training diverged: lower the learning_rate (now {learning_rate})")
    seconds = time.perf_counter() - start
    layers = getattr(arch, "layers", 1)
    results = []
    for i, seed in enumerate(seeds):
        own = jax.tree_util.tree_map(lambda a, i=i: np.asarray(a[i]), params)
        results.append(TrainResult(
            gating=arch.gating, parameterisation=arch.parameterisation, seed=seed, steps=steps,
            batch_size=batch_size, learning_rate=learning_rate,
            test_risk=float(mc.mean[i]) * scale, test_risk_se=float(mc.se[i]) * scale,
            test_prompts=int(mc.total), optimum=optimum,
            optimum_test_risk=mc.optimum_mean * scale,
            optimum_test_risk_se=mc.optimum_se * scale,
            paired_gap=float(mc.paired_mean[i]) * scale,
            paired_gap_se=float(mc.paired_se[i]) * scale,
            loss_history=np.asarray(losses[i], float) * scale, seconds=seconds, params=own,
            bayes_test_risk=mc.bayes_mean * scale, bayes_test_risk_se=mc.bayes_se * scale,
            bayes_paired_gap=float(mc.bayes_paired_mean[i]) * scale,
            bayes_paired_gap_se=float(mc.bayes_paired_se[i]) * scale, layers=layers,
            **_analyse(normal, own, optimum, scale)))
    return results


def train(model, gating="scalar", *, parameterisation="constrained", steps=2000, batch_size=256,
          learning_rate=1e-2, seed=0, test_prompts=100_000, test_seed=DEFAULT_TEST_SEED,
          init_scale=0.1, progress=False, layers=1, starts=1):
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
    layers : int
        Number of GLA layers on a residual stream (Theorem 6; 1 to 16): see
        :class:`~wpgd_theory.training.MultiLayerArchitecture`. Not for ``"wpgd"`` or
        ``"softmax"``.
    starts : int
        Gate initialisations trained side by side on the same prompt stream (1 to 64): start 0
        is the default initialisation (the run of ``starts=1``), starts ``1, 2, …`` draw every
        gate logit uniformly from ``[−4, 4]`` (and their own projections). The result is the
        start with the lowest final training loss; ``start_runs`` reports all of them.

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
    arch = build_architecture(model, gating, parameterisation, init_scale, layers)
    starts = as_integer(starts, "starts", minimum=1, maximum=MAX_STARTS)
    seed = _seed(seed, "seed")
    options = dict(steps=steps, batch_size=batch_size, learning_rate=learning_rate,
                   test_prompts=test_prompts, test_seed=test_seed, progress=progress)
    if starts == 1:
        return _train_batch(arch, [seed], share_prompts=False, **options)[0]
    seeds = [(seed + k) % 2**32 for k in range(starts)]
    results = _train_batch(arch, seeds, share_prompts=True,
                           edit_init=lambda stacked: gate_starts(stacked, seed), **options)
    return best_start(results)
