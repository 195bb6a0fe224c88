"""The optimisation trap, trained: where training ends on a risk with several minima.

Beyond Theorem 3's condition the WPGD risk can have a non-global local minimum
(:func:`~wpgd_theory.verify.erratum.three_fixed_point_instance`: a global minimum, a saddle and a
local minimum, 0.23 % apart in risk). :func:`trap_experiment` trains a model from many random
initialisations on fresh prompts — the free WPGD predictor ``(P, ω)`` or a gated GLA whose
weighting can reach every stationary point — and matches each learned ``ω`` to the stationary
points of :func:`~wpgd_theory.verify.search.stationary_points`: every stationary point is
``ω_k ∝ (h₂(γ_k)R + I)⁻¹ r``, and a run is counted at the one whose direction is nearest
(largest ``|cos(ω, ω_k)|``). The seeds share one prompt stream (``share_prompts``), so the runs
differ only in where they start.

:func:`population_descent` runs the same optimiser (Adam, the same schedule) from the same
initial ``(P, ω)`` on the exact risk ``L(P, ω)`` (:func:`~wpgd_theory.risk_gradient`) instead of
sampled prompts: the deterministic counterpart, which says whether a run's end is decided by the
landscape or by the sampling noise.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from ..core._repr import compact_repr
from ..core.risk import risk, risk_gradient
from ..core.solver import stationary_point
from ..core.validation import as_integer, as_real, as_real_array, as_sequence
from ..verify.search import StationaryPoint, stationary_points
from ._jax import jax, jnp, optax
from .models import Architecture
from .theory import dense_model
from .train import DEFAULT_TEST_SEED, train_seeds

__all__ = ["TrapOutcome", "match_stationary_points", "population_descent", "trap_experiment"]


def stationary_directions(model, stationary):
    """Unit per-example weights ``ω_k ∝ (h₂(γ_k)R + I)⁻¹ r`` of the stationary points (from
    their ``γ`` by :func:`~wpgd_theory.core.solver.stationary_point`, in ``R``'s eigenbasis)."""
    dense = dense_model(model)
    rows = np.array([dense.R_eigenvectors @ stationary_point(point.gamma, dense)[1]
                     for point in stationary])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def match_stationary_points(weights, directions):
    """``|cos|`` of each learned ``ω`` (rows) with each stationary direction, and the nearest.

    Examples
    --------
    >>> directions = np.array([[1.0, 0.0], [0.6, 0.8]])
    >>> cosines, nearest = match_stationary_points([[2.0, 0.1], [-0.5, -0.9]], directions)
    >>> nearest.tolist(), np.round(cosines[1], 3).tolist()
    ([0, 1], [0.486, 0.991])
    """
    W = np.atleast_2d(as_real_array(weights, "weights"))
    D = np.atleast_2d(as_real_array(directions, "directions"))
    if W.ndim != 2 or D.ndim != 2 or W.shape[1] != D.shape[1]:
        raise ValueError(f"weights (runs, n) and directions (points, n) must be matrices with "
                         f"the same n, got shapes {W.shape} and {D.shape}")
    for name, rows in (("weights", W), ("directions", D)):
        if not np.all(np.linalg.norm(rows, axis=1) > 0):
            raise ValueError(f"{name} has a zero row: no direction to compare")
    W = W / np.linalg.norm(W, axis=1, keepdims=True)
    cosines = np.abs(W @ (D / np.linalg.norm(D, axis=1, keepdims=True)).T)
    return cosines, np.argmax(cosines, axis=1)


@dataclass(frozen=True)
class TrapOutcome:
    """Where training from ``len(seeds)`` initialisations ended.

    Attributes
    ----------
    stationary : list of StationaryPoint
        The stationary points (global minimum, saddles, local minima), ascending in ``γ``.
    counts : ndarray
        ``counts[k]`` runs are in the basin of ``stationary[k]``: exact descent from the trained
        model (the quench) ends there.
    basins : ndarray
        That index, per run.
    nearest, cosines : ndarray
        The stationary point nearest in direction to the trained ``ω`` (before the quench), and
        ``|cos(ω, ω_k)|`` for every point, shape ``(runs, points)``.
    risks : ndarray
        Exact risk ``L(P, ω)`` of each trained predictor (the rank-one WPGD fit for vector
        gating), with no sampling error.
    quenched_cosines, quenched_risks : ndarray
        The same after the quench; at a stationary point ``cos ≈ 1`` and the risk is its risk.
    paired_gaps, paired_gap_ses : ndarray
        Trained Monte Carlo risk minus the global optimum's, on common test prompts.
    """

    __repr__ = compact_repr

    gating: str
    seeds: tuple
    stationary: list = field(repr=False)
    counts: np.ndarray
    basins: np.ndarray
    nearest: np.ndarray = field(repr=False)
    cosines: np.ndarray = field(repr=False)
    risks: np.ndarray
    quenched_cosines: np.ndarray = field(repr=False)
    quenched_risks: np.ndarray = field(repr=False)
    paired_gaps: np.ndarray = field(repr=False)
    paired_gap_ses: np.ndarray = field(repr=False)
    results: list = field(repr=False)
    seconds: float

    def table(self):
        """One line per stationary point: kind, γ, risk, runs in its basin."""
        lines = []
        for k, point in enumerate(self.stationary):
            lines.append(f"{point.kind:>15s}  gamma={point.gamma:9.4f}  risk={point.risk:.7f}  "
                         f"runs={int(self.counts[k])}/{len(self.seeds)}")
        return "\n".join(lines)


_MAX_SEED = 2**32 - 1                        # jax.random.PRNGKey takes a 32-bit seed


def _check_stationary(stationary, dense):
    if stationary is None:
        return stationary_points(dense)
    points = as_sequence(stationary, "stationary", lambda v, n: v, of="StationaryPoint")
    for k, point in enumerate(points):
        if not isinstance(point, StationaryPoint):
            raise TypeError(f"stationary[{k}] must be a StationaryPoint, got "
                            f"{type(point).__name__}")
    return points


def trap_experiment(model, gating="wpgd", *, inits=8, seed=0, steps=4000, batch_size=256,
                    learning_rate=1e-2, init_scale=0.1, test_prompts=16_384,
                    test_seed=DEFAULT_TEST_SEED, stationary=None, quench_steps=4000,
                    quench_learning_rate=1e-3, progress=False):
    """Train from ``inits`` random initialisations and count where the runs end.

    Parameters
    ----------
    model : CorrelatedTaskModel or MultitaskModel
        An instance with several stationary points (e.g. ``three_fixed_point_instance()
        .to_model(seed=0)``).
    gating : str
        ``"wpgd"`` (free ``(P, ω)``) or a gating of the constrained GLA (``"vector"`` reaches
        every weighting, :func:`~wpgd_theory.multitask.gating.vector_gla_construction`).
    inits : int
        Number of initialisations (seeds ``seed, …, seed + inits − 1``, vmapped, one shared
        prompt stream).
    steps, batch_size, learning_rate, init_scale, test_prompts, test_seed, progress :
        As for :func:`~wpgd_theory.training.train`.
    stationary : list of StationaryPoint, optional
        Default :func:`~wpgd_theory.verify.search.stationary_points` of the (dense) model.
    quench_steps, quench_learning_rate : int, float
        Exact descent from each learned ``(P, ω)`` (Adam on ``L(P, ω)``): it ends at the
        minimum of the basin the trained model is in, which identifies the basin even when
        training stopped short of the minimum (sampling noise). ``quench_steps = 0`` skips it.

    Returns
    -------
    TrapOutcome
    """
    dense = dense_model(model)
    inits = as_integer(inits, "inits", minimum=1, maximum=4096)
    seed = as_integer(seed, "seed", minimum=0, maximum=_MAX_SEED - inits)
    quench_steps = as_integer(quench_steps, "quench_steps", minimum=0)
    quench_learning_rate = as_real(quench_learning_rate, "quench_learning_rate", minimum=0.0,
                                   strict_minimum=True)
    parameterisation = "wpgd" if gating == "wpgd" else "constrained"
    stationary = _check_stationary(stationary, dense)
    directions = stationary_directions(model, stationary)
    seeds = tuple(range(seed, seed + inits))
    results = train_seeds(model, gating, seeds=seeds, parameterisation=parameterisation,
                          steps=steps, batch_size=batch_size, learning_rate=learning_rate,
                          test_prompts=test_prompts, test_seed=test_seed,
                          init_scale=init_scale, progress=progress, share_prompts=True)
    cosines, nearest = match_stationary_points([r.weights for r in results], directions)
    risks = np.array([r.closed_form_risk if r.closed_form_risk is not None
                      else risk(dense, r.preconditioner, r.weights) for r in results])
    if quench_steps:
        ends = [_adam_descent(dense, r.preconditioner, r.weights, quench_steps,
                              quench_learning_rate) for r in results]
        quenched_cosines, basins = match_stationary_points([w for _, w in ends], directions)
        quenched_risks = np.array([risk(dense, P, w) for P, w in ends])
    else:
        quenched_cosines, basins, quenched_risks = cosines, nearest, risks
    return TrapOutcome(
        gating=results[0].gating, seeds=seeds, stationary=stationary,
        counts=np.bincount(basins, minlength=len(stationary)), basins=basins,
        nearest=nearest, cosines=cosines, risks=risks, quenched_cosines=quenched_cosines,
        quenched_risks=quenched_risks,
        paired_gaps=np.array([r.paired_gap for r in results]),
        paired_gap_ses=np.array([r.paired_gap_se for r in results]), results=results,
        seconds=results[0].seconds)


@functools.lru_cache(maxsize=8)
def _adam(steps, learning_rate):
    """Adam with the training schedule and its jitted update (compiled once per schedule)."""
    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01))
    return optimizer, jax.jit(optimizer.update)


def _adam_descent(dense, P, omega, steps, learning_rate):
    """Adam (cosine schedule to 1 %, as in training) on the exact risk from ``(P, ω)``."""
    optimizer, update = _adam(steps, learning_rate)
    params = {"P": np.array(P, float), "omega": np.array(omega, float)}
    state = optimizer.init({k: jnp.asarray(v, jnp.float32) for k, v in params.items()})
    for _ in range(steps):
        grad_P, grad_w = risk_gradient(dense, params["P"], params["omega"])
        updates, state = update({"P": jnp.asarray(grad_P, jnp.float32),
                                 "omega": jnp.asarray(grad_w, jnp.float32)}, state)
        params = {k: params[k] + np.asarray(updates[k], float) for k in params}
    return params["P"], params["omega"]


def _adam_descent_gla(arch, params, steps, learning_rate):
    """Adam (the training schedule) on the exact risk of a constrained GLA's parameters: the
    exact gradient ``∇L(P, ω)`` (float64) pulled back through ``(P, ω) = arch.wpgd_form``."""
    optimizer, update = _adam(steps, learning_rate)
    dense = dense_model(arch.model)
    form = jax.jit(arch.wpgd_form)
    pullback = jax.jit(lambda p, cotangent: jax.vjp(arch.wpgd_form, p)[1](cotangent)[0])
    state = optimizer.init(params)
    for _ in range(steps):
        P, omega = (np.asarray(a, float) for a in form(params))
        grads = pullback(params, tuple(jnp.asarray(g, jnp.float32)
                                       for g in risk_gradient(dense, P, omega)))
        updates, state = update(grads, state)
        params = optax.apply_updates(params, updates)
    return tuple(np.asarray(a, float) for a in form(params))


def population_descent(model, seeds, *, gating="wpgd", steps=4000, learning_rate=1e-2,
                       init_scale=0.1):
    """Adam on the exact risk from the initialisations of ``seeds``.

    The same initial parameters as ``train(model, gating, seed=s, init_scale=...)`` and the same
    optimiser and schedule, with the exact gradient (:func:`~wpgd_theory.risk_gradient`,
    float64) in place of the sampled one. ``gating="wpgd"`` descends on the free ``(P, ω)``;
    ``"linear"``, ``"decay"`` or ``"scalar"`` (a :class:`~wpgd_theory.training.MultitaskModel`
    only) on the constrained GLA's own parameters ``(W_q, W_k, gate logits)``, through the
    predictor's WPGD form (:meth:`~wpgd_theory.training.Architecture.wpgd_form`): the landscape
    seen by the GLA's parameters, not by ``(P, ω)``.

    Returns
    -------
    list of (P, ω) ndarray pairs
        The end points (the learned predictor's ``P``, ``ω``), one per seed.

    Examples
    --------
    >>> from wpgd_theory import CorrelatedTaskModel, solve_model, risk
    >>> model = CorrelatedTaskModel(np.eye(2), [[1, 0.3], [0.3, 1]], [0.7, 0.2], 0.1)
    >>> (P, omega), = population_descent(model, [0], steps=3000, learning_rate=0.05)
    >>> bool(risk(model, P, omega) <= solve_model(model).risk * (1 + 1e-4))
    True
    """
    dense = dense_model(model)
    seeds = as_sequence(seeds, "seeds",
                        lambda v, n: as_integer(v, n, minimum=0, maximum=_MAX_SEED), of="int")
    steps = as_integer(steps, "steps", minimum=1)
    learning_rate = as_real(learning_rate, "learning_rate", minimum=0.0, strict_minimum=True)
    if gating == "wpgd":
        arch = Architecture.build(model, parameterisation="wpgd", init_scale=init_scale)
    else:
        arch = Architecture.build(model, gating, "constrained", init_scale=init_scale)
        if arch.gating == "vector":
            raise ValueError("gating must be 'wpgd', 'linear', 'decay' or 'scalar' (gates that "
                             "give a WPGD predictor), got 'vector'")
    ends = []
    for s in seeds:
        init_key = jax.random.split(jax.random.PRNGKey(s))[0]       # as in train()
        start = arch.init(init_key)
        if arch.gating == "wpgd":
            ends.append(_adam_descent(dense, start["P"], start["omega"], steps, learning_rate))
        else:
            ends.append(_adam_descent_gla(arch, start, steps, learning_rate))
    return ends
