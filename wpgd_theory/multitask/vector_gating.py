"""Key-wise (vector) gating on multitask prompts, solved direction by direction (Theorem 5).

With key-wise delimiter gates every token of block ``k`` meets the same gate vector product
``ω_k ∈ R^{d_k}``, so a GLA layer with projections ``P_q``, ``P_k`` predicts

    ŷ = xᵀ Σ_k Q_k X_kᵀ y_k,        Q_k = P_q diag(ω_k) P_kᵀ,

one ``d × d`` matrix per block (``X_k``, ``y_k``: the block's inputs and labels). For *arbitrary*
per-block matrices, with ``N = diag(n_k)`` and ``M = tr Σ + σ²``, the population risk is

    L(Q) = M − 2 Σ_k n_k c_k tr(Σ Q_k Σ) + Σ_{k,l} n_k n_l C_kl tr(Σ Q_k Σ² Q_lᵀ)
             + Σ_k n_k tr(Σ Q_k (Σ² + MΣ) Q_kᵀ)

(:func:`block_matrix_risk`; the last term is the Gaussian fourth moment
``E[x y² xᵀ] = 2Σ² + MΣ`` of one example of a unit-variance task). In ``Σ``'s eigenbasis
(eigenvalues ``s_j``) the off-diagonal entries of the ``Q_k`` only add a PSD quadratic form, so an
optimum is diagonal, ``Q_k = U diag(q_{k·}) Uᵀ``, and the risk separates over the directions:

    L = M + Σ_j s_j² [q_jᵀ G_j q_j − 2 hᵀ q_j],   G_j = s_j (NCN + N) + M N,   h = N c,

with ``q_j = (q_{1j}, …, q_{Kj})`` the *direction weights* of direction ``j``
(:func:`direction_quadratic`). Two key widths:

* ``width="2d"`` (two key copies, Theorem 5's construction): each ``q_j = m⁺ − m⁻`` of two
  non-negative non-decreasing gate products, i.e. anything. ``q_j* = G_j⁻¹ h`` and
  ``L*_vector = M − Σ_j s_j² hᵀ G_j⁻¹ h`` — the best of *all* per-block linear predictors.
* ``width="d-aligned"`` (one key copy, ``P_q``, ``P_k`` diagonal in ``Σ``'s eigenbasis): each
  ``q_j`` is a sign times a vector of the monotone cone ``𝒦 = {0 ≤ m_1 ≤ … ≤ m_K}`` — a convex
  quadratic over ``±𝒦``, solved exactly by NNLS (:func:`monotone_cone_minimum`). This is *not*
  the optimum of key width ``d`` with free projections: mixing channels reaches non-diagonal
  ``Q_k`` and can do much better (a non-convex problem left open; docs/findings.md §9).

WPGD is the rank-one case ``q_{kj} = w_k p_j`` (one ``ω`` for every direction), so
``L*_vector ≤ L*_WPGD``, with equality iff the optimal columns ``q_j*`` are collinear — e.g. for
``Σ ∝ I`` (all ``G_j`` equal), or ``K = 1``. For anisotropic ``Σ`` vector gating is strictly
better in general: docs/findings.md §9.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.linalg import cho_factor, cho_solve, cholesky
from scipy.optimize import nnls

from ..core._repr import compact_repr
from ..core.validation import as_real_array
from .model import MultitaskModel, solve_multitask

__all__ = [
    "VECTOR_WIDTHS", "DirectionQuadratic", "direction_quadratic", "block_matrix_risk",
    "direction_risk", "direction_block_matrices", "block_matrix_predict",
    "monotone_cone_minimum", "monotone_cone_kkt_residual", "VectorGatingOptimum",
    "vector_gating_optimum",
]

VECTOR_WIDTHS = ("2d", "d-aligned")
"""Key-wise gating classes of :func:`vector_gating_optimum`: two key copies (any direction
weights), or one key copy with projections in ``Σ``'s eigenbasis (each direction's weights in
``±𝒦``)."""


def _check_model(model):
    if not isinstance(model, MultitaskModel):
        raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")


def _as_width(width):
    if width not in VECTOR_WIDTHS:
        raise ValueError(f"width must be one of {VECTOR_WIDTHS}, got {width!r}")
    return width


# ---------------------------------------------------------------------- the risk

class DirectionQuadratic(NamedTuple):
    """``L(q) = M + Σ_j weights_j (q_jᵀ gram_j q_j − 2 linearᵀ q_j)`` (see the module docstring).

    ``weights = s²`` (``d``), ``gram`` ``(d, K, K)`` with ``G_j = s_j(NCN + N) + MN``,
    ``linear = Nc`` (``K``); direction ``j`` is ``model.sigma_eigenvalues[j]``'s eigenvector.
    """

    weights: np.ndarray
    gram: np.ndarray
    linear: np.ndarray
    M: float


def direction_quadratic(model):
    """The per-direction quadratic of the risk of diagonal per-block matrices.

    Examples
    --------
    >>> model = MultitaskModel(np.eye(2), [0.3, 0.9], [20, 4], np.diag([0.1, 1.0, 10.0]), 0.1)
    >>> quadratic = direction_quadratic(model)
    >>> quadratic.gram.shape, quadratic.linear
    ((3, 2, 2), array([6. , 3.6]))
    """
    _check_model(model)
    n_k = model.sizes.astype(float)
    s = model.sigma_eigenvalues
    block = n_k[:, None] * model.task_correlation * n_k[None, :] + np.diag(n_k)   # NCN + N
    gram = s[:, None, None] * block + model.M * np.diag(n_k)
    return DirectionQuadratic(s**2, gram, n_k * model.query_correlation, float(model.M))


def _as_block_matrices(model, block_matrices):
    Q = as_real_array(block_matrices, "block_matrices", ndim=3)
    if Q.shape != (model.K, model.d, model.d):
        raise ValueError(f"block_matrices must have shape (K, d, d) = ({model.K}, {model.d}, "
                         f"{model.d}), got {Q.shape}")
    return Q


def _as_direction_weights(model, direction_weights):
    q = as_real_array(direction_weights, "direction_weights", ndim=2)
    if q.shape != (model.K, model.d):
        raise ValueError(f"direction_weights must have shape (K, d) = ({model.K}, {model.d}), "
                         f"got {q.shape}")
    return q


def block_matrix_risk(model, block_matrices):
    """Exact risk of the predictor ``ŷ = xᵀ Σ_k Q_k X_kᵀ y_k`` for arbitrary ``Q_k`` (K, d, d).

    The trace formula of the module docstring, in the original coordinates; WPGD with ``(P, w)``
    is ``Q_k = w_k P``.

    Examples
    --------
    >>> model = MultitaskModel([[1, .5], [.5, 1]], [.9, .3], [1, 1], np.eye(2), 0.)
    >>> P = model.block_preconditioner([1.0, 1.0])
    >>> round(block_matrix_risk(model, [P, P]), 12), round(model.block_risk([1.0, 1.0]), 12)
    (1.68, 1.68)
    """
    _check_model(model)
    Q = _as_block_matrices(model, block_matrices)
    Sigma = (model.sigma_eigenvectors * model.sigma_eigenvalues) @ model.sigma_eigenvectors.T
    n_k = model.sizes.astype(float)
    cross = n_k[:, None] * model.task_correlation * n_k[None, :]
    SQS = np.einsum("ab,kbc,cd->kad", Sigma, Q, Sigma)                  # Σ Q_k Σ
    linear = np.einsum("k,k,kaa->", n_k, model.query_correlation, SQS)
    # tr(A Bᵀ) = Σ_ab A_ab B_ab: tr(Σ Q_k Σ² Q_lᵀ) pairs ΣQ_kΣ² with Q_l; likewise Σ² + MΣ.
    pairs = np.einsum("kl,kab,lab->", cross, SQS @ Sigma, Q)
    own = np.einsum("k,kab,kab->", n_k, np.einsum("ab,kbc,cd->kad", Sigma, Q,
                                                   Sigma @ Sigma + model.M * Sigma), Q)
    return float(model.M - 2.0 * linear + pairs + own)


def direction_risk(model, direction_weights):
    """Exact risk of the diagonal per-block matrices with direction weights ``q`` (K, d).

    Examples
    --------
    >>> model = MultitaskModel(np.eye(2), [0.3, 0.9], [20, 4], np.diag([0.1, 1.0, 10.0]), 0.1)
    >>> q = vector_gating_optimum(model).direction_weights
    >>> bool(np.isclose(direction_risk(model, q), block_matrix_risk(model, direction_block_matrices(model, q)), rtol=1e-12))
    True
    """
    _check_model(model)
    q = _as_direction_weights(model, direction_weights)
    weights, gram, linear, M = direction_quadratic(model)
    quadratic = np.einsum("kj,jkl,lj->j", q, gram, q) - 2.0 * linear @ q
    return float(M + weights @ quadratic)


def direction_block_matrices(model, direction_weights):
    """``Q_k = U diag(q_{k·}) Uᵀ`` (K, d, d), ``U`` the eigenvectors of ``Σ``."""
    _check_model(model)
    q = _as_direction_weights(model, direction_weights)
    U = model.sigma_eigenvectors
    return np.einsum("aj,kj,bj->kab", U, q, U)


def block_matrix_predict(x, X, y, sizes, block_matrices):
    """``ŷ = xᵀ Σ_k Q_k X_kᵀ y_k`` for prompts ``x (…, d)``, ``X (…, n, d)``, ``y (…, n)``.

    Examples
    --------
    >>> X, y, x = np.ones((1, 3, 2)), np.array([[1.0, 2.0, 3.0]]), np.ones((1, 2))
    >>> block_matrix_predict(x, X, y, [1, 2], [np.eye(2), 2 * np.eye(2)])   # 2·1 + 2·2·5
    array([22.])
    """
    bounds = np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=int))])
    X, y, x = (np.asarray(a, dtype=float) for a in (X, y, x))
    total = 0.0
    for k, Q in enumerate(np.asarray(block_matrices, dtype=float)):
        moment = np.einsum("...ia,...i->...a", X[..., bounds[k]:bounds[k + 1], :],
                           y[..., bounds[k]:bounds[k + 1]])
        total = total + np.einsum("...a,ab,...b->...", x, Q, moment)
    return total


# ---------------------------------------------------------------------- the monotone cone

def _cone_objective(gram, linear, q):
    return float(q @ gram @ q - 2.0 * linear @ q)


def monotone_cone_minimum(gram, linear):
    """``argmin qᵀGq − 2hᵀq`` over ``q ∈ 𝒦 ∪ −𝒦`` (``𝒦 = {0 ≤ q_1 ≤ … ≤ q_K}``), ``G`` PD.

    ``q = ±Lz`` with ``L`` the lower-triangular ones (``z ≥ 0`` the increments); with
    ``G = FᵀF`` and ``u = G⁻¹h`` this is the NNLS problem ``min ‖F(Lz ∓ u)‖`` — the ``G``-metric
    projection of ``±u`` onto ``𝒦``. Returns the better sign's minimiser (``0`` if ``h = 0``).

    Examples
    --------
    >>> monotone_cone_minimum(np.eye(2), [1.0, 0.5])      # isotonic average of (1, 0.5)
    array([0.75, 0.75])
    """
    G = np.asarray(gram, dtype=float)
    h = np.asarray(linear, dtype=float)
    scale = float(np.max(np.abs(G)))
    G, h = G / scale, h / scale                            # same minimiser, O(1) entries
    factor = cholesky(G)                                   # G = factorᵀ factor
    u = cho_solve((factor, False), h)
    cumulative = np.tril(np.ones((h.size, h.size)))
    candidates = [sign * (cumulative @ nnls(factor @ cumulative, factor @ (sign * u))[0])
                  for sign in (1.0, -1.0)]
    return min(candidates, key=lambda q: _cone_objective(G, h, q))


def monotone_cone_kkt_residual(gram, linear, q):
    """KKT residual of ``q`` for :func:`monotone_cone_minimum` on its own sign's cone.

    With ``q = σLz`` the conditions are ``z ≥ 0``, ``∇ = σLᵀ(Gq − h) ≥ 0`` and ``z ∘ ∇ = 0``;
    returns the largest violation relative to ``max(|G|)·max(|q|, |u|)``. (Which sign wins is a
    comparison of the two cones' minima, not a KKT condition.)

    Examples
    --------
    >>> G, h = np.eye(2), np.array([1.0, 0.5])
    >>> monotone_cone_kkt_residual(G, h, [0.75, 0.75]), monotone_cone_kkt_residual(G, h, [1.0, 1.0])
    (0.0, 0.5)
    """
    G = np.asarray(gram, dtype=float)
    scale = float(np.max(np.abs(G)))
    G, h = G / scale, np.asarray(linear, dtype=float) / scale       # O(1) entries, as solved
    q = np.asarray(q, dtype=float)
    sign = -1.0 if q[-1] < 0 else 1.0
    z = np.diff(sign * q, prepend=0.0)
    gradient = sign * np.cumsum((G @ q - h)[::-1])[::-1]            # σLᵀ(Gq − h)
    unit = max(float(np.max(np.abs(q))), float(np.max(np.abs(np.linalg.solve(G, h)))), 1e-300)
    return float(max(0.0, np.max(-z) / unit, np.max(-gradient) / unit,
                     np.max(np.abs(z * gradient)) / unit**2))


# ---------------------------------------------------------------------- the optimum

@dataclass(frozen=True)
class VectorGatingOptimum:
    """The best key-wise-gated GLA predictor on a multitask model.

    Attributes
    ----------
    kind : str
        ``"vector"``.
    width : str
        ``"2d"`` (two key copies: any direction weights) or ``"d-aligned"`` (one copy in
        ``Σ``'s eigenbasis: each column in ``±𝒦``).
    risk : float
        ``L*_vector`` for that width.
    direction_weights : ndarray, shape (K, d)
        Column ``j``: the block weights of ``Σ``'s eigendirection ``j``
        (``model.sigma_eigenvalues[j]``); the optimal per-block matrices are
        ``Q_k = U diag(direction_weights[k]) Uᵀ`` (:attr:`block_matrices`).
    wpgd_risk : float
        ``L*_WPGD`` for reference (``risk ≤ wpgd_risk`` for ``width="2d"``).
    """

    __repr__ = compact_repr

    kind: str
    width: str
    risk: float
    direction_weights: np.ndarray
    wpgd_risk: float
    model: MultitaskModel = field(repr=False)

    @property
    def block_matrices(self):
        """The optimal per-block matrices ``Q_k`` (K, d, d)."""
        return direction_block_matrices(self.model, self.direction_weights)

    @property
    def reaches_wpgd(self):
        """Whether the risk is ``L*_WPGD`` to ``1e-12`` relative (no gain over WPGD)."""
        return bool(abs(self.risk - self.wpgd_risk) <= 1e-12 * max(1.0, abs(self.wpgd_risk)))

    @property
    def beats_wpgd(self):
        """Whether the risk is below ``L*_WPGD`` by more than ``1e-12`` relative."""
        return bool(self.wpgd_risk - self.risk > 1e-12 * max(1.0, abs(self.wpgd_risk)))

    def predict(self, prompts):
        """The optimal predictor on sampled :class:`~wpgd_theory.Prompts` (b,)."""
        return block_matrix_predict(prompts.query_input, prompts.context_inputs,
                                    prompts.context_labels, self.model.sizes,
                                    self.block_matrices)


def vector_gating_optimum(model, *, width="2d"):
    """Exact optimum of key-wise delimiter gating (Theorem 5), any ``Σ``.

    Parameters
    ----------
    model : MultitaskModel
    width : {"2d", "d-aligned"}
        ``"2d"`` (Theorem 5's two key copies; the best per-block linear predictor of all, so
        no key width does better) or ``"d-aligned"`` (one key copy with projections in ``Σ``'s
        eigenbasis; each direction's block weights in ``±𝒦``, solved by NNLS per direction —
        an upper bound for key width ``d`` with free projections).

    Returns
    -------
    VectorGatingOptimum
        Its ``risk`` is :func:`direction_risk` of the optimal ``direction_weights``.

    Examples
    --------
    Anisotropic ``Σ``: each eigendirection gets its own block weights, and vector gating beats
    every WPGD predictor (docs/findings.md §9).

    >>> model = MultitaskModel(np.eye(2), [0.3, 0.9], [20, 4], np.diag([0.1, 1.0, 10.0]), 0.1)
    >>> best = vector_gating_optimum(model)
    >>> round(best.risk, 6), round(best.wpgd_risk, 6), best.beats_wpgd
    (4.832116, 4.842896, True)
    >>> np.round(best.direction_weights[0] / best.direction_weights[1], 4)   # ω_1/ω_2 per direction
    array([0.2932, 0.1677, 0.0922])

    ``Σ ∝ I``: every direction has the same weights, the optimum is WPGD's.

    >>> vector_gating_optimum(MultitaskModel(np.eye(2), [0.3, 0.9], [20, 4], np.eye(3), 0.1)).reaches_wpgd
    True
    """
    _check_model(model)
    width = _as_width(width)
    quadratic = direction_quadratic(model)
    columns = []
    for gram in quadratic.gram:
        if width == "2d":
            columns.append(cho_solve(cho_factor(gram), quadratic.linear))
        else:
            columns.append(monotone_cone_minimum(gram, quadratic.linear))
    q = np.stack(columns, axis=1)
    return VectorGatingOptimum("vector", width, direction_risk(model, q), q,
                               solve_multitask(model).risk, model)
