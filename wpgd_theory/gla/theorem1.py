"""Theorem 1 (GLA ⇔ data-dependent WPGD): the construction, the induced weights, the residual.

With the projections of :func:`theorem1_projections` and tokens ``z_i = [x_i; y_i]``,
``z_{n+1} = [x; 0]``, the GLA output's label coordinate equals ``xᵀ P_q (X P_k ⊙ Ω)ᵀ y`` with
``Ω`` from :func:`induced_weights` (docs/theory.md §6; conventions in ``wpgd_theory.gla.forward``).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core._repr import compact_repr
from ..core.predictor import (
    _batch_shape,
    _validate_regression,
    _validate_square,
    dwpgd_predict,
)
from ..core.validation import as_real_array, namespace_of
from ..core.validation import require_ndim as _require_ndim
from .forward import gla_forward, suffix_gate_products

__all__ = [
    "theorem1_projections",
    "theorem1_prompt",
    "induced_weights",
    "theorem1_gla_predict",
    "theorem1_residual",
    "Theorem1Residual",
    "relative_error",
]


def theorem1_projections(P_k, P_q):
    """The projections of Theorem 1: ``W_k = [[P_k,0],[0,0]]``, ``W_q = [[P_q,0],[0,0]]``,
    ``W_v = [[0,0],[0,1]]``.

    Parameters
    ----------
    P_k, P_q : array_like, shape (d, d)

    Returns
    -------
    W_q, W_k, W_v : ndarray, shape (d + 1, d + 1)
        In the order :func:`gla_forward` takes them.

    Examples
    --------
    >>> import numpy as np
    >>> W_q, W_k, W_v = theorem1_projections(2 * np.eye(1), 3 * np.eye(1))
    >>> W_k
    array([[2., 0.],
           [0., 0.]])
    >>> W_v
    array([[0., 0.],
           [0., 1.]])
    """
    P_k = as_real_array(P_k, "P_k")
    if P_k.ndim != 2 or P_k.shape[0] != P_k.shape[1]:
        raise ValueError(f"P_k must be a square (d, d) matrix, got shape {P_k.shape}")
    d = P_k.shape[0]
    P_q = _validate_square(P_q, d, "P_q")
    if P_q.ndim != 2:
        raise ValueError(f"P_q must be a (d, d) matrix, got shape {P_q.shape}")
    W_q, W_k, W_v = np.zeros((3, d + 1, d + 1))
    W_q[:d, :d], W_k[:d, :d], W_v[d, d] = P_q, P_k, 1.0
    return W_q, W_k, W_v


def theorem1_prompt(x, X, y):
    """The prompt ``Z`` of Theorem 1: rows ``z_i = [x_i; y_i]`` then the query row ``[x; 0]``.

    Parameters
    ----------
    x : array_like, shape (..., d)
    X : array_like, shape (..., n, d)
    y : array_like, shape (..., n)

    Returns
    -------
    ndarray, shape (..., n + 1, d + 1)

    Examples
    --------
    >>> import numpy as np
    >>> theorem1_prompt(np.array([5.0]), np.array([[1.0], [2.0]]), np.array([3.0, 4.0]))
    array([[1., 3.],
           [2., 4.],
           [5., 0.]])
    """
    x, X, y = _validate_regression(x, X, y)
    batch = _batch_shape([("x", x.shape[:-1]), ("X", X.shape[:-2]), ("y", y.shape[:-1])])
    n, d = X.shape[-2:]
    Z = np.zeros(batch + (n + 1, d + 1))
    Z[..., :n, :d] = X
    Z[..., :n, d] = y
    Z[..., n, :d] = x
    return Z


def induced_weights(gates, d):
    """The weight matrix ``Ω`` of Theorem 1: row ``i`` is ``g_{i+1} ⊙ … ⊙ g_{n+1}``.

    ``g_j = G_j[d, :d]`` is the last row of the ``j``-th gate (the label's value channel)
    restricted to the first ``d`` (feature) key columns. Scalar gates ``G_j = γ_j 11ᵀ`` give
    ``Ω_i = (Π_{j>i} γ_j) 1ᵀ``; key-wise gates give a per-coordinate weight.

    Parameters
    ----------
    gates : array_like, shape (..., n + 1, m, c)
        Gates of the ``n + 1`` prompt tokens, broadcastable to ``(..., n + 1, d + 1, d + 1)``
        (``m, c ∈ {1, d + 1}``).
    d : int
        Feature dimension.

    Returns
    -------
    ndarray, shape (..., n, d)

    Examples
    --------
    >>> import numpy as np
    >>> gates = np.array([0.9, 0.5, 0.2]).reshape(3, 1, 1)       # n = 2
    >>> induced_weights(gates, d=2)
    array([[0.1, 0.1],
           [0.2, 0.2]])
    """
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    xp = namespace_of(gates)
    if xp is not np:                        # JAX arrays (training): same formula, no validation
        last_row = xp.broadcast_to(gates[..., -1, :], gates.shape[:-2] + (d + 1,))[..., :d]
        return suffix_gate_products(last_row[..., None, :])[..., 1:, 0, :]
    g = as_real_array(gates, "gates")
    _require_ndim(g, 3, "gates", "(..., n + 1, m, c)")
    if g.shape[-3] < 1:
        raise ValueError(f"gates must cover the n + 1 ≥ 1 prompt tokens (axis -3), got shape "
                         f"{g.shape}")
    if g.shape[-2] not in (1, d + 1) or g.shape[-1] not in (1, d + 1):
        raise ValueError(f"gates must broadcast to (..., n + 1, d + 1, d + 1) with d + 1 = {d + 1}, "
                         f"got shape {g.shape}")
    last_row = np.broadcast_to(g[..., -1, :], g.shape[:-2] + (d + 1,))[..., :d]
    suffix = suffix_gate_products(last_row[..., None, :])[..., 0, :]      # Π_{j ≥ i} g_j
    return suffix[..., 1:, :]


def _resolve_prompt_gates(gates, Z):
    return gates(Z) if callable(gates) else gates


def theorem1_gla_predict(x, X, y, P_q, P_k, gates):
    """GLA prediction ``(o_{n+1})_{d+1}`` under the construction of Theorem 1.

    Runs :func:`gla_forward` on :func:`theorem1_prompt` with :func:`theorem1_projections`.

    Parameters
    ----------
    x : array_like, shape (..., d)
    X : array_like, shape (..., n, d)
    y : array_like, shape (..., n)
    P_q, P_k : array_like, shape (d, d)
    gates : array_like or callable
        Gates of the ``n + 1`` tokens, broadcastable to ``(..., n + 1, d + 1, d + 1)``, or a
        function of the prompt ``Z`` returning them (data-dependent gating).

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> X, y, x = np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 1.0])
    >>> gates = np.array([1.0, 0.5, 1.0]).reshape(3, 1, 1)   # ω = (0.5, 1)
    >>> float(theorem1_gla_predict(x, X, y, np.eye(2), np.eye(2), gates))
    2.5
    """
    Z = theorem1_prompt(x, X, y)
    W_q, W_k, W_v = theorem1_projections(P_k, P_q)
    return gla_forward(Z, W_q, W_k, W_v, _resolve_prompt_gates(gates, Z))[..., -1, -1]


class Theorem1Residual(NamedTuple):
    """Both sides of Theorem 1 on one (batched) instance.

    ``residual`` is the worst ``|gla − dwpgd| / scale`` over the batch, where
    ``scale = Σ_i |y_i| Σ_b |(P_qᵀx)_b| |Ω_ib| |(P_kᵀx_i)_b|`` is the l1 mass of the summed terms
    (so cancellation and tiny weights do not inflate it); instances with ``scale = 0`` contribute
    their absolute difference.
    """

    __repr__ = compact_repr

    gla: np.ndarray
    dwpgd: np.ndarray
    weights: np.ndarray
    scale: np.ndarray
    residual: float


def theorem1_residual(x, X, y, P_q, P_k, gates):
    """Evaluate both sides of Theorem 1 and their relative residual.

    Parameters are those of :func:`theorem1_gla_predict`.

    Returns
    -------
    Theorem1Residual
        ``(gla, dwpgd, weights, scale, residual)``: the GLA prediction, the DWPGD prediction
        ``xᵀ P_q (X P_k ⊙ Ω)ᵀ y``, the induced ``Ω``, the l1 mass of the terms and the worst
        relative residual.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y, x = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=3)
    >>> P_q, P_k = rng.normal(size=(2, 3, 3))
    >>> gates = rng.uniform(size=(6, 4, 4))                       # full matrix gating
    >>> result = theorem1_residual(x, X, y, P_q, P_k, gates)
    >>> result.residual < 1e-12
    True
    """
    Z = theorem1_prompt(x, X, y)
    G = as_real_array(_resolve_prompt_gates(gates, Z), "gates")
    d = Z.shape[-1] - 1
    gla = theorem1_gla_predict(x, X, y, P_q, P_k, G)
    Omega = induced_weights(G, d)
    dwpgd = dwpgd_predict(x, X, y, P_q, P_k, Omega)
    scale = dwpgd_predict(np.abs(np.asarray(x, float) @ np.asarray(P_q, float)),
                          np.abs(np.asarray(X, float) @ np.asarray(P_k, float)),
                          np.abs(np.asarray(y, float)), np.eye(d), np.eye(d), np.abs(Omega))
    return Theorem1Residual(gla, dwpgd, Omega, scale, relative_error(gla, dwpgd, scale))


def relative_error(a, b, scale):
    """Worst ``|a − b| / scale`` over a batch (``|a − b|`` where ``scale = 0``).

    Examples
    --------
    >>> relative_error([1.0, 0.0], [1.5, 0.0], [10.0, 0.0])
    0.05
    """
    error = np.abs(np.asarray(a, float) - np.asarray(b, float))
    scale = np.broadcast_to(np.asarray(scale, float), error.shape)
    relative = np.where(scale > 0, error / np.where(scale > 0, scale, 1.0), error)
    return float(np.max(relative))
