"""Gating on multitask prompts: reachable weights, exact optima and GLA constructions (Thms 4–5).

Prompt of Definition 2 (see :func:`~wpgd_theory.multitask.multitask_prompt_tokens`)::

    block 1 (n_1 tokens) | delim c^1 | block 2 | delim c^2 | … | block K | delim c^K | query

Under Theorem 1 token ``i`` gets weight ``Π_{j>i} g_j`` (product of the gates of every *later*
token, the query's own gate included). Delimiters have ``x = 0, y = 0``, so they add nothing to the
state; only their gates act.

Scalar gating driven by the delimiter features (:class:`DelimiterGate`): data and query tokens pass
with gate 1 (their feature part is 0), delimiter ``k`` applies ``g_k ∈ [0, 1]``. A token of block
``k`` is followed by the delimiters ``k, k+1, …, K`` (its own closing delimiter included) and the
query, so

    ω_k = Π_{l ≥ k} g_l          (ω_K = g_K; the last gate and the query's only rescale ω).

Reachable set: exactly the non-negative, non-decreasing block weights
``0 ≤ ω_1 ≤ … ≤ ω_K ≤ 1``; with the freedom ``(P, ω) → (cP, ω/c)`` (any ``c ≠ 0``) the reachable
*predictors* are those of the monotone cone ``𝒦 = {0 ≤ w_1 ≤ … ≤ w_K}`` and of ``−𝒦``. Since the
risk is invariant under ``ω → cω``, ``L*_scalar = min_{w ∈ 𝒦 \\ 0} L(w)``. Nothing richer is
reachable with data-independent scalar gates either: gating data tokens with values < 1 gives
per-token non-decreasing weights, whose block averages are non-decreasing and strictly better
(same ``A`` and ``ωᵀRω``, smaller ``‖ω‖²``).

:func:`scalar_gating_optimum` solves that constrained problem exactly: a minimiser lies in the
relative interior of one face of ``𝒦`` (which leading blocks are 0, which adjacent blocks are
tied), where it is a stationary point of ``L`` on the face's span — a merged-block WPGD problem
(:meth:`~wpgd_theory.multitask.MultitaskModel.block_spectra`) whose stationary points are all the
fixed points of the core map ``φ``. All ``2^K − 1`` faces are enumerated, every fixed point is
kept if feasible, and the best one wins.

Vector (key-wise) gating (:mod:`wpgd_theory.multitask.vector_gating`): every WPGD block-weight
vector ``w ∈ R^K`` is reachable (:func:`vector_gla_construction`: ``w = m⁺ − m⁻`` with ``m^±``
non-negative non-decreasing, two copies of the keys — key width ``2d`` — with their own key-wise
delimiter gates and opposite-signed queries). More: one gate per key channel gives every
eigen-direction of ``Σ`` its own block weights (:func:`keywise_gla_construction`), which beats
every WPGD predictor when ``Σ`` is not isotropic; ``L*_vector = L*_WPGD`` holds for ``Σ ∝ I``.

No delimiters ("GLA-wo", :func:`decay_gating_optimum`): tokens of different tasks are identically
distributed, so a data-independent gate is one constant ``ρ ∈ (0, 1]`` on every token, giving
recency weights ``ω_i ∝ ρ^{n−i}``; ``ρ = 1`` is linear attention.

Ordering that always holds: ``L*_vector ≤ L*_WPGD ≤ L*_scalar ≤ L*_wo ≤ L*_ATT`` (first equality
for ``Σ ∝ I``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import minimize_scalar

from ..core._repr import compact_repr
from ..core.risk import preconditioner_eigenvalues, risk_from_moments
from ..core.solver import stationary_point
from ..core.spectral import MAX_GRID_SIZE, find_fixed_points, relevant_R_eigenvalues
from ..core.validation import as_integer, as_real, as_real_array
from ..gla.forward import gla_forward
from ..gla.theorem1 import theorem1_projections
from .model import MultitaskModel, as_delimiter_features, solve_multitask
from .vector_gating import (
    _as_direction_weights,
    _as_width,
    direction_quadratic,
    monotone_cone_minimum,
)

__all__ = [
    "MonotoneFace", "monotone_cone_faces", "in_monotone_cone", "GatingOptimum",
    "scalar_gating_optimum", "linear_attention_optimum",
    "DecayOptimum", "decay_gating_optimum", "decay_moments", "isotropic_projection_optimum",
    "delimiter_gate_values", "monotone_split", "DelimiterGate", "GLAConstruction",
    "scalar_gla_construction", "vector_gla_construction", "keywise_gla_construction",
    "decay_gla_construction",
    "MAX_FACE_ENUMERATION_K",
]

MAX_FACE_ENUMERATION_K = 16
"""Largest K for the exact face enumeration (``2^K − 1`` faces)."""

CONE_RTOL = 1e-12
"""Relative slack (w.r.t. ``max|w|``) when testing membership of the monotone cone: stationary
points are computed to ~1e-15 relative, and a point on a face's boundary also lies in a smaller
face, which is enumerated too."""


def _check_model(model):
    if not isinstance(model, MultitaskModel):
        raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")


# ---------------------------------------------------------------------- the monotone cone

class MonotoneFace(NamedTuple):
    """A face of ``𝒦 = {0 ≤ w_1 ≤ … ≤ w_K}``: blocks ``< zero_prefix`` are 0, the rest are split
    into ``groups`` of consecutive blocks (``(start, stop)`` half-open) with one value each,
    strictly increasing from group to group in the face's relative interior."""

    zero_prefix: int
    groups: tuple

    def membership(self, K):
        """The ``K × G`` 0/1 matrix ``S`` with ``w = S w_S`` on this face."""
        S = np.zeros((K, len(self.groups)))
        for g, (start, stop) in enumerate(self.groups):
            S[start:stop, g] = 1.0
        return S


def monotone_cone_faces(K):
    """All ``2^K − 1`` nonzero faces of the monotone cone in ``R^K``.

    Examples
    --------
    >>> [face.groups for face in monotone_cone_faces(2)]
    [((0, 2),), ((0, 1), (1, 2)), ((1, 2),)]
    """
    return _monotone_cone_faces(as_integer(K, "K", minimum=1))


def _monotone_cone_faces(K):
    for zero_prefix in range(K):
        free = K - zero_prefix
        for cuts in product((False, True), repeat=free - 1):
            bounds = [zero_prefix] + [zero_prefix + i + 1 for i, cut in enumerate(cuts) if cut]
            bounds.append(K)
            yield MonotoneFace(zero_prefix, tuple(zip(bounds[:-1], bounds[1:])))


def in_monotone_cone(weights, *, rtol=CONE_RTOL):
    """Whether ``w`` or ``−w`` is non-negative and non-decreasing (nonzero), up to ``rtol·max|w|``.

    Examples
    --------
    >>> in_monotone_cone([0.0, 0.5, 0.5, 1.0]), in_monotone_cone([-0.2, -1.0]), in_monotone_cone([1.0, 0.5])
    (True, True, False)
    """
    w = _as_block_vector(weights, "weights")
    rtol = as_real(rtol, "rtol", minimum=0.0)
    scale = float(np.max(np.abs(w), initial=0.0))
    if scale == 0.0:
        return False
    w = w * np.sign(w[-1]) if w[-1] != 0 else w
    slack = rtol * scale
    return bool(w[-1] > 0 and w[0] >= -slack and np.all(np.diff(w) >= -slack))


def _as_block_vector(value, name, K=None):
    """A finite non-empty 1-d float vector (of length ``K`` if given), or raise naming ``name``."""
    w = as_real_array(value, name, ndim=1)
    if w.size == 0 or (K is not None and w.size != K):
        raise ValueError(f"{name} must have length {'K = ' + str(K) if K else '>= 1'}, got "
                         f"{w.size}")
    return w


def _oriented(w):
    """``±w`` with the sign making the last (largest) block positive, scaled so it is 1."""
    return w / w[-1]


# ---------------------------------------------------------------------- optima

@dataclass(frozen=True)
class GatingOptimum:
    """The best WPGD predictor a gating class can reach on a multitask model.

    Attributes
    ----------
    kind : str
        ``"linear"`` (ω = 1) or ``"scalar"`` (delimiter-driven scalar gates); key-wise gating
        has its own result, :class:`~wpgd_theory.multitask.vector_gating.VectorGatingOptimum`.
    risk : float
        The optimal risk over the reachable set.
    block_weights : ndarray, shape (K,)
        An optimal ``w`` (``ω = U w``), scaled so that ``w_K = 1`` when ``w_K ≠ 0``.
    preconditioner : ndarray, shape (d, d)
        ``P(w)``, the best preconditioner for ``block_weights``.
    face : MonotoneFace or None
        For ``"scalar"``: the face of the monotone cone holding the optimum.
    wpgd_risk : float
        ``L*_WPGD`` for reference.
    """

    __repr__ = compact_repr

    kind: str
    risk: float
    block_weights: np.ndarray
    preconditioner: np.ndarray
    face: Any
    wpgd_risk: float
    model: MultitaskModel = field(repr=False)

    @property
    def reaches_wpgd(self):
        """Whether this class attains ``L*_WPGD`` (to ``1e-12`` relative)."""
        return bool(self.risk - self.wpgd_risk <= 1e-12 * max(1.0, abs(self.wpgd_risk)))


def _optimum(model, kind, w, face, wpgd_risk):
    w = np.asarray(w, dtype=float)
    if w[-1] != 0:
        w = w / w[-1]
    return GatingOptimum(kind, model.block_risk(w), w, model.block_preconditioner(w), face,
                         wpgd_risk, model)


def linear_attention_optimum(model):
    """Linear attention: ``w = 1`` with its best preconditioner (Corollary; any ``Σ``).

    Examples
    --------
    >>> from .model import MultitaskModel
    >>> model = MultitaskModel([[1, .5], [.5, 1]], [.9, .3], [1, 1], np.eye(2), 0.)
    >>> round(linear_attention_optimum(model).risk, 12)
    1.68
    """
    _check_model(model)
    return _optimum(model, "linear", np.ones(model.K), None, solve_multitask(model).risk)


def scalar_gating_optimum(model):
    """Exact optimum of delimiter-driven scalar gating: ``min L(w)`` over the monotone cone.

    Enumerates the ``2^K − 1`` faces of ``𝒦``; on each, every fixed point of the merged-block
    problem is a candidate, kept if it lies in ``𝒦`` (or ``−𝒦``); the lowest risk wins. Uniform
    weights (linear attention) are always a candidate, so ``L*_scalar ≤ L*_ATT``.

    Parameters
    ----------
    model : MultitaskModel
        With ``K ≤`` :data:`MAX_FACE_ENUMERATION_K`.

    Returns
    -------
    GatingOptimum
        ``block_weights`` non-negative, non-decreasing, ``w_K = 1``.

    Examples
    --------
    Three orthogonal tasks with ``c = (0.6, 0.1, 0.5)``: ``ω* ∝ c`` is not monotone; the best
    scalar gating ties the first two blocks (their isotonic average) — and beats linear attention.

    >>> from .model import MultitaskModel
    >>> model = MultitaskModel(np.eye(3), [0.6, 0.1, 0.5], [4, 4, 4], np.eye(2), 0.1)
    >>> best = scalar_gating_optimum(model)
    >>> best.block_weights, best.face
    (array([0.7, 0.7, 1. ]), MonotoneFace(zero_prefix=0, groups=((0, 2), (2, 3))))
    >>> best.wpgd_risk < best.risk < linear_attention_optimum(model).risk
    True
    """
    _check_model(model)
    if model.K > MAX_FACE_ENUMERATION_K:
        if np.ptp(model.sigma_eigenvalues) <= 1e-12 * model.sigma_eigenvalues.max():
            return isotropic_projection_optimum(model)      # exact for Σ = sI, any K
        raise ValueError(f"model has K = {model.K} blocks and an anisotropic Sigma: "
                         f"scalar_gating_optimum enumerates 2^K − 1 faces, limit K <= "
                         f"MAX_FACE_ENUMERATION_K = {MAX_FACE_ENUMERATION_K} (any K works for "
                         f"Sigma = s·I)")
    wpgd_risk = solve_multitask(model).risk
    best_risk, best_w, best_face = model.block_risk(np.ones(model.K)), np.ones(model.K), None
    for face in monotone_cone_faces(model.K):
        spectra = model.block_spectra(face.membership(model.K))
        if relevant_R_eigenvalues(spectra).size == 0:
            continue                                   # ωᵀr ≡ 0 on this face: risk M
        for gamma in find_fixed_points(spectra).fixed_points:
            _, coefficients, _, risk_value = stationary_point(gamma, spectra)
            w = spectra.R_eigenvectors @ coefficients
            if risk_value < best_risk and in_monotone_cone(w):
                best_risk, best_w, best_face = float(risk_value), _oriented(w), face
    if best_face is None:
        best_face = MonotoneFace(0, ((0, model.K),))
    return _optimum(model, "scalar", best_w, best_face, wpgd_risk)


def isotropic_projection_optimum(model):
    """The rule that holds for ``Σ = sI``: best scalar weights = Q-projection of ``±ω*`` onto 𝒦.

    For ``Σ = sI``, ``L(w) = M − d s² (bᵀw)² / wᵀQw`` with ``b = Dc`` and
    ``Q = s(DCD + D) + MD`` (block form of ``s(R + I) + MI``), and ``ω* ∝ u = Q⁻¹b``. Over a convex
    cone, ``max (bᵀw)²/wᵀQw = max_± ‖Π_𝒦(±u)‖²_Q``, attained at the Q-metric projection. The
    projection is solved as non-negative least squares in the increments ``t ≥ 0`` of
    ``w = (t_1, t_1 + t_2, …)`` (:func:`~wpgd_theory.multitask.vector_gating.monotone_cone_minimum`
    on :func:`~wpgd_theory.multitask.vector_gating.direction_quadratic`'s ``Q``, the same for
    every direction) — an independent route to :func:`scalar_gating_optimum`.
    With ``C = I`` the metric is diagonal and this is weighted isotonic regression of ``ω*``
    (pool-adjacent-violators), clipped at 0.

    Returns
    -------
    GatingOptimum
        ``kind = "scalar"``, ``face = None``.

    Raises
    ------
    ValueError
        If ``Σ`` is not a multiple of the identity.
    """
    _check_model(model)
    s = model.sigma_eigenvalues
    if np.ptp(s) > 1e-12 * s.max():
        raise ValueError("isotropic_projection_optimum needs Sigma = s·I (isotropic features)")
    quadratic = direction_quadratic(model)
    w = monotone_cone_minimum(quadratic.gram[0], quadratic.linear)
    best = w if np.any(w) else np.ones(model.K)           # h = 0: every w is as bad
    return _optimum(model, "scalar", best, None, solve_multitask(model).risk)


# ---------------------------------------------------------------------- no delimiters (GLA-wo)

class DecayOptimum(NamedTuple):
    """Best constant gate ``ρ`` without delimiters: ``ω_i ∝ ρ^{n−i}`` (``ρ = 1``: linear attention)."""

    __repr__ = compact_repr

    risk: float
    decay: float
    preconditioner: np.ndarray


def decay_moments(model, decay):
    """``(A, B, C)`` for recency weights ``ω_i = ρ^{n−i}`` (last context token weight 1), O(K).

    Block ``k`` sits at distances ``e_k … e_k + n_k − 1`` from the end (``e_k = Σ_{l>k} n_l``), so
    its weight sum is ``S_k = ρ^{e_k}(1 − ρ^{n_k})/(1 − ρ)``; then ``A = cᵀS``,
    ``ωᵀRω = SᵀCS`` and ``‖ω‖² = (1 − ρ^{2n})/(1 − ρ²)``.

    Examples
    --------
    >>> from .model import MultitaskModel
    >>> model = MultitaskModel([[1, .5], [.5, 1]], [.9, .3], [1, 1], np.eye(2), 0.)
    >>> decay_moments(model, 1.0), model.block_moments([1.0, 1.0])
    ((1.2, 5.0, 4.0), (1.2, 5.0, 4.0))
    """
    rho = float(decay)
    if not 0.0 < rho <= 1.0:
        raise ValueError(f"decay must lie in (0, 1], got {decay!r}")
    n_k = model.sizes.astype(float)
    ends = np.concatenate([np.cumsum(n_k[::-1])[::-1][1:], [0.0]])     # e_k = Σ_{l>k} n_l
    if rho == 1.0:
        sums, norm2 = n_k, float(model.n)
    else:
        theta = -np.log(rho)
        sums = np.exp(-theta * ends) * np.expm1(-theta * n_k) / np.expm1(-theta)
        norm2 = float(np.expm1(-2 * theta * model.n) / np.expm1(-2 * theta))
    A = float(model.query_correlation @ sums)
    B = float(sums @ model.task_correlation @ sums) + norm2
    return A, B, model.M * norm2


def _decay_risk(model, decay):
    return float(risk_from_moments(*decay_moments(model, decay), model.spectra))


def decay_gating_optimum(model, *, grid_size=400, max_log_decay=50.0):
    """Best constant gate without delimiters (GLA-wo), over ``ρ = e^{−θ}``, ``θ ∈ [0, 50]``.

    A 1-d problem: ``θ = 0`` (linear attention) plus ``grid_size`` log-spaced ``θ`` from
    ``10⁻³/n`` to ``max_log_decay``, then bounded Brent refinement between the neighbours of the
    best grid point.

    Examples
    --------
    >>> from .model import MultitaskModel
    >>> model = MultitaskModel(np.eye(2), [0.1, 0.9], [50, 50], np.eye(2), 0.1)   # recent task relevant
    >>> best = decay_gating_optimum(model)
    >>> 0 < best.decay < 1, best.risk < linear_attention_optimum(model).risk
    (True, True)
    """
    _check_model(model)
    grid_size = as_integer(grid_size, "grid_size", minimum=2, maximum=MAX_GRID_SIZE)
    max_log_decay = as_real(max_log_decay, "max_log_decay", minimum=0.0, strict_minimum=True)
    thetas = np.concatenate([[0.0], np.geomspace(1e-3 / model.n, max_log_decay, grid_size)])
    risks = np.array([_decay_risk(model, np.exp(-t)) for t in thetas])
    i = int(np.argmin(risks))
    theta, best = thetas[i], risks[i]
    if 0 < i < thetas.size - 1:
        refined = minimize_scalar(lambda t: _decay_risk(model, np.exp(-t)),
                                  bounds=(thetas[i - 1], thetas[i + 1]), method="bounded",
                                  options={"xatol": 1e-12 * thetas[i + 1]})
        if refined.fun < best:
            theta, best = float(refined.x), float(refined.fun)
    decay = float(np.exp(-theta))
    p = preconditioner_eigenvalues(*decay_moments(model, decay), model.spectra)
    return DecayOptimum(best, decay, (model.sigma_eigenvectors * p) @ model.sigma_eigenvectors.T)


# ---------------------------------------------------------------------- GLA constructions

def delimiter_gate_values(monotone, scale=None):
    """Delimiter gates ``g ∈ [0, 1]^K`` with ``Π_{l ≥ k} g_l = m_k / scale``.

    ``m`` must be non-negative and non-decreasing; ``scale ≥ m_K`` (default ``m_K``). Then
    ``g_K = m_K/scale`` and ``g_k = m_k/m_{k+1}`` (1 where ``m_{k+1} = 0``, where any value works).

    Examples
    --------
    >>> delimiter_gate_values([0.0, 0.25, 0.5, 1.0])
    array([0. , 0.5, 0.5, 1. ])
    """
    m = _as_block_vector(monotone, "monotone")
    if not in_monotone_cone(m, rtol=1e-9) and np.any(m):
        raise ValueError(f"monotone must be non-negative and non-decreasing, got {m}")
    m = np.maximum.accumulate(np.clip(m, 0.0, None))     # remove round-off violations
    scale = m[-1] if scale is None else as_real(scale, "scale")
    if scale < m[-1] or scale <= 0:
        raise ValueError(f"scale must be positive and >= max weight {m[-1]}, got {scale}")
    following = m[1:]
    ratios = np.divide(m[:-1], following, out=np.ones_like(following), where=following > 0)
    return np.append(ratios, m[-1] / scale)


def monotone_split(weights):
    """``w = m⁺ − m⁻`` with ``m^±`` non-negative and non-decreasing (minimal increments).

    Examples
    --------
    >>> plus, minus = monotone_split([0.5, -1.0, 2.0])
    >>> plus, minus
    (array([0.5, 0.5, 3.5]), array([0. , 1.5, 1.5]))
    """
    w = _as_block_vector(weights, "weights")
    steps = np.diff(w, prepend=0.0)
    return np.cumsum(np.clip(steps, 0, None)), np.cumsum(np.clip(-steps, 0, None))


@dataclass(frozen=True)
class DelimiterGate:
    """Gate function ``G(z) = (1 + z_cᵀ U)`` broadcast as ``(…, T, 1, m)``.

    ``z_c = z[offset:]`` is the context-feature part of a token: 0 on data and query tokens
    (gate exactly 1), ``c^k`` on delimiter ``k`` (gate ``1 + c^kᵀU``). ``m = 1`` is scalar gating,
    ``m = d_k`` key-wise (vector) gating.
    """

    __repr__ = compact_repr

    feature_map: np.ndarray
    offset: int

    @classmethod
    def from_values(cls, delimiter_features, gate_values, offset):
        """Solve ``1 + c^kᵀU = gate_values[k]`` (exact: the ``c^k`` are linearly independent)."""
        F = np.asarray(delimiter_features, dtype=float)
        values = np.asarray(gate_values, dtype=float).reshape(F.shape[0], -1)
        return cls(np.linalg.pinv(F) @ (values - 1.0), offset)

    def __call__(self, Z):
        gates = 1.0 + np.asarray(Z, dtype=float)[..., self.offset:] @ self.feature_map
        return gates[..., None, :]


class GLAConstruction(NamedTuple):
    """GLA parameters for :func:`~wpgd_theory.gla.gla_forward`; the prediction is
    ``outputs[..., -1, output_index]``. ``delimiter_gates`` lists the gate values applied (K,
    ``(2, K)`` for the two key copies of vector gating, or the constant decay)."""

    __repr__ = compact_repr

    W_q: np.ndarray
    W_k: np.ndarray
    W_v: np.ndarray
    gates: Any
    output_index: int
    delimiter_gates: Any

    def predict(self, Z):
        """Run the GLA layer on prompts ``Z`` (…, T, D) and read the prediction."""
        return gla_forward(Z, self.W_q, self.W_k, self.W_v, self.gates)[..., -1, self.output_index]


def _padded_theorem1_projections(P_k, P_q, extra):
    return tuple(np.pad(W, ((0, extra), (0, extra))) for W in theorem1_projections(P_k, P_q))


def scalar_gla_construction(model, block_weights, delimiter_features=None):
    """GLA with delimiter-driven scalar gates implementing WPGD with weights ``w`` (in ``±𝒦``).

    Theorem 1's projections (padded with zeros for the feature coordinates) with ``P_k = I`` and
    ``P_q = P(ω_gate)``, where ``ω_gate = m/m_K`` is what the gates realise (``m = ±w``). The
    prediction equals ``xᵀ P(w) Xᵀ(ω ⊙ y)``, ``ω = U w`` — exactly, not just in risk.

    Examples
    --------
    >>> from .model import MultitaskModel, multitask_prompt_tokens
    >>> from ..core.predictor import wpgd_predict
    >>> model = MultitaskModel(np.eye(2), [0.3, 0.8], [2, 3], np.eye(2), 0.1)
    >>> construction = scalar_gla_construction(model, [0.5, 1.0])
    >>> construction.delimiter_gates
    array([0.5, 1. ])
    >>> prompts = model.sample(4, seed=0)
    >>> gla = construction.predict(multitask_prompt_tokens(prompts, model.sizes))
    >>> X, y, x = prompts.context_inputs, prompts.context_labels, prompts.query_input
    >>> wpgd = wpgd_predict(x, X, y, model.block_preconditioner([0.5, 1.0]), model.expand([0.5, 1.0]))
    >>> bool(np.allclose(gla, wpgd, rtol=1e-12, atol=0))
    True
    """
    _check_model(model)
    w = _as_block_vector(block_weights, "block_weights", model.K)
    if not in_monotone_cone(w, rtol=1e-9):
        raise ValueError(f"block_weights {w} are not reachable by scalar gating: need ±w "
                         "non-negative and non-decreasing (use vector_gla_construction)")
    m = w * np.sign(w[-1])
    gates = delimiter_gate_values(m)
    F = as_delimiter_features(delimiter_features, model.K)
    d = model.d
    W_q, W_k, W_v = _padded_theorem1_projections(np.eye(d), model.block_preconditioner(m / m[-1]),
                                                 F.shape[1])
    return GLAConstruction(W_q, W_k, W_v, DelimiterGate.from_values(F, gates, d + 1), d, gates)


def vector_gla_construction(model, block_weights, delimiter_features=None):
    """GLA with key-wise delimiter gates implementing WPGD with *any* block weights ``w``.

    Keys ``[x_i; x_i]`` (width ``2d``, ``P_k = I`` twice), queries ``[P_q x; −P_q x]``; the first
    copy's key-wise gates realise ``m⁺/s``, the second's ``m⁻/s`` (:func:`monotone_split`,
    ``s = max(m⁺_K, m⁻_K)``), so the prediction is ``xᵀ P_q Xᵀ((m⁺ − m⁻)/s ⊙ y)`` with
    ``P_q = P(w/s)``: WPGD with weights ``w`` (Theorem 5).

    Examples
    --------
    >>> from .model import MultitaskModel, multitask_prompt_tokens
    >>> from ..core.predictor import wpgd_predict
    >>> model = MultitaskModel(np.eye(2), [0.5, -0.5], [2, 3], np.eye(2), 0.1)
    >>> construction = vector_gla_construction(model, [-1.0, 1.0])
    >>> prompts = model.sample(4, seed=0)
    >>> gla = construction.predict(multitask_prompt_tokens(prompts, model.sizes))
    >>> X, y, x = prompts.context_inputs, prompts.context_labels, prompts.query_input
    >>> wpgd = wpgd_predict(x, X, y, model.block_preconditioner([-1.0, 1.0]), model.expand([-1.0, 1.0]))
    >>> bool(np.allclose(gla, wpgd, rtol=1e-12, atol=0))
    True
    """
    _check_model(model)
    w = _as_block_vector(block_weights, "block_weights", model.K)
    if w.shape != (model.K,) or not np.any(w):
        raise ValueError(f"block_weights must be a nonzero vector of shape ({model.K},)")
    plus, minus = monotone_split(w)
    scale = max(plus[-1], minus[-1])
    gates = np.stack([delimiter_gate_values(plus, scale), delimiter_gate_values(minus, scale)])
    F = as_delimiter_features(delimiter_features, model.K)
    d, D = model.d, model.d + 1 + F.shape[1]
    P_q = model.block_preconditioner(w / scale)
    W_q, W_k = np.zeros((D, 2 * d)), np.zeros((D, 2 * d))
    W_q[:d, :d], W_q[:d, d:] = P_q, -P_q
    W_k[:d, :d], W_k[:d, d:] = np.eye(d), np.eye(d)
    W_v = np.zeros((D, D))
    W_v[d, d] = 1.0
    keywise = np.repeat(gates.T, d, axis=1)                       # (K, 2d): copy +, copy −
    return GLAConstruction(W_q, W_k, W_v, DelimiterGate.from_values(F, keywise, d + 1), d, gates)


def keywise_gla_construction(model, direction_weights, delimiter_features=None, *, width="2d"):
    """GLA with key-wise delimiter gates realising per-block matrices ``Q_k = U diag(q_k) Uᵀ``.

    The predictor of :func:`~wpgd_theory.multitask.vector_gating.vector_gating_optimum`:
    ``ŷ = xᵀ Σ_k Q_k X_kᵀ y_k`` with ``q`` (K × d) the direction weights (``U``: ``Σ``'s
    eigenvectors). Keys are ``Uᵀx_i`` (in every copy), one gate per key channel.

    * ``width="2d"``: keys ``[Uᵀx; Uᵀx]``, queries ``[sUᵀx; −sUᵀx]``; channel ``j`` of the first
      copy gates ``m⁺_j/s``, of the second ``m⁻_j/s``, with ``q_{·j} = m⁺_j − m⁻_j``
      (:func:`monotone_split`) and ``s`` the largest gate product. Any ``q``.
    * ``width="d-aligned"``: keys ``Uᵀx``, queries ``s·diag(σ_j) Uᵀx``; channel ``j`` gates
      ``σ_j q_{·j}/s``, which must be non-negative and non-decreasing for a sign ``σ_j``.

    Examples
    --------
    >>> from .model import MultitaskModel, multitask_prompt_tokens
    >>> from .vector_gating import vector_gating_optimum
    >>> model = MultitaskModel(np.eye(2), [0.3, 0.9], [3, 2], np.diag([0.1, 1.0, 10.0]), 0.1)
    >>> best = vector_gating_optimum(model)
    >>> prompts = model.sample(4, seed=0)
    >>> gla = keywise_gla_construction(model, best.direction_weights).predict(
    ...     multitask_prompt_tokens(prompts, model.sizes))
    >>> bool(np.allclose(gla, best.predict(prompts), rtol=1e-12, atol=0))
    True
    """
    _check_model(model)
    q = _as_direction_weights(model, direction_weights)
    if _as_width(width) == "2d":
        copies = np.stack([np.stack(monotone_split(column), axis=1) for column in q.T], axis=1)
        plus, minus = copies[..., 0], copies[..., 1]                  # (K, d) each
        signs = np.concatenate([np.ones(model.d), -np.ones(model.d)])
        products = np.concatenate([plus, minus], axis=1)
    else:
        signs = np.where(q[-1] < 0, -1.0, 1.0)
        products = q * signs
        for j, column in enumerate(products.T):
            if np.any(column) and not in_monotone_cone(column, rtol=1e-9):
                raise ValueError(f"direction_weights[:, {j}] = {q[:, j]} is not reachable with "
                                 "width 'd-aligned': need ± a non-negative non-decreasing "
                                 "column (use width='2d')")
    scale = float(np.max(products[-1])) or 1.0
    gates = np.stack([delimiter_gate_values(column, scale) for column in products.T], axis=1)
    F = as_delimiter_features(delimiter_features, model.K)
    d, D, width_k = model.d, model.d + 1 + F.shape[1], products.shape[1]
    U = model.sigma_eigenvectors
    W_q, W_k = np.zeros((D, width_k)), np.zeros((D, width_k))
    W_k[:d] = np.tile(U, width_k // d)
    W_q[:d] = np.tile(U, width_k // d) * (scale * signs)
    W_v = np.zeros((D, D))
    W_v[d, d] = 1.0
    return GLAConstruction(W_q, W_k, W_v, DelimiterGate.from_values(F, gates, d + 1), d, gates)


def decay_gla_construction(model, decay):
    """GLA without delimiters: Theorem 1 prompt, constant scalar gate ``ρ`` on every token.

    Token ``i`` gets ``ω_i = ρ^{n+1−i}`` (the query's gate included), so ``P_q = P(ω_ref)/ρ`` with
    ``ω_ref,i = ρ^{n−i}``. Use with :func:`~wpgd_theory.gla.theorem1_prompt`.
    """
    _check_model(model)
    decay = as_real(decay, "decay", minimum=0.0, maximum=1.0, strict_minimum=True)
    p = preconditioner_eigenvalues(*decay_moments(model, decay), model.spectra)
    P = (model.sigma_eigenvectors * p) @ model.sigma_eigenvectors.T
    W_q, W_k, W_v = theorem1_projections(np.eye(model.d), P / decay)
    return GLAConstruction(W_q, W_k, W_v, float(decay), model.d, float(decay))
