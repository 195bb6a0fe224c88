"""The WPGD predictors: one weighted preconditioned gradient step from ``β = 0``.

``wpgd_predict`` is ``ŷ = xᵀ P Xᵀ(ω ⊙ y)`` (sample weights ``ω``; ``ω = 1`` is linear attention)
and ``dwpgd_predict`` the data-dependent form of Theorem 1, ``ŷ = xᵀ P_q (X P_k ⊙ Ω)ᵀ y``
(docs/theory.md §6). They live in ``core`` because the risk (``core.risk``) is the expected
squared error of this predictor; the GLA forward passes in ``wpgd_theory.gla`` are checked
against them.
"""
from __future__ import annotations

import numpy as np

from .validation import as_real_array, namespace_of
from .validation import require_ndim as _require_ndim

__all__ = ["wpgd_predict", "dwpgd_predict"]


def _batch_shape(named_shapes):
    try:
        return np.broadcast_shapes(*(shape for _, shape in named_shapes))
    except ValueError:
        described = ", ".join(f"{name} {shape}" for name, shape in named_shapes)
        raise ValueError(f"batch (leading) axes do not broadcast: {described}") from None


def _validate_regression(x, X, y):
    x = as_real_array(x, "x")
    X = as_real_array(X, "X")
    y = as_real_array(y, "y")
    _require_ndim(x, 1, "x", "(..., d)")
    _require_ndim(X, 2, "X", "(..., n, d)")
    _require_ndim(y, 1, "y", "(..., n)")
    n, d = X.shape[-2:]
    if x.shape[-1] != d:
        raise ValueError(f"x must have shape (..., d) with d = {d} (columns of X), got {x.shape}")
    if y.shape[-1] != n:
        raise ValueError(f"y must have shape (..., n) with n = {n} (rows of X), got {y.shape}")
    return x, X, y


def _validate_square(P, d, name):
    P = as_real_array(P, name)
    if P.ndim < 2 or P.shape[-2:] != (d, d):
        raise ValueError(f"{name} must have shape (..., d, d) with d = {d}, got {P.shape}")
    return P


def wpgd_predict(x, X, y, preconditioner, weights):
    """Weighted preconditioned gradient descent prediction ``ŷ = xᵀ P Xᵀ (ω ⊙ y)``.

    One step of weighted PGD from ``β = 0`` on the loss ``½ Σ_i ω_i (y_i − x_iᵀβ)²`` gives
    ``β̂ = P Xᵀ(ω ⊙ y)``; the prediction is ``xᵀ β̂``. ``ω = 1`` is plain PGD (linear attention).

    Parameters
    ----------
    x : array_like, shape (..., d)
        Query input.
    X : array_like, shape (..., n, d)
        Context inputs, one per row.
    y : array_like, shape (..., n)
        Context labels.
    preconditioner : array_like, shape (..., d, d)
        ``P``.
    weights : array_like, shape (..., n)
        Sample weights ``ω``.

    Returns
    -------
    ndarray, shape (...)
        The predictions (leading axes broadcast together).

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.eye(2), np.array([1.0, 2.0])
    >>> float(wpgd_predict(np.array([1.0, 1.0]), X, y, np.eye(2), np.array([0.5, 1.0])))
    2.5
    """
    xp = namespace_of(x, X, y, preconditioner, weights)
    if xp is not np:                # inside JAX transformations (training): no NumPy validation
        return xp.einsum("...i,...ij,...nj,...n->...", x, preconditioner, X, weights * y)
    x, X, y = _validate_regression(x, X, y)
    n, d = X.shape[-2:]
    P = _validate_square(preconditioner, d, "preconditioner")
    w = as_real_array(weights, "weights")
    if w.ndim < 1 or w.shape[-1] != n:
        raise ValueError(f"weights must have shape (..., n) with n = {n}, got {w.shape}")
    _batch_shape([("x", x.shape[:-1]), ("X", X.shape[:-2]), ("y", y.shape[:-1]),
                  ("preconditioner", P.shape[:-2]), ("weights", w.shape[:-1])])
    return np.einsum("...i,...ij,...nj,...n->...", x, P, X, w * y)


def dwpgd_predict(x, X, y, P_q, P_k, weights):
    """Data-dependent WPGD prediction of Theorem 1: ``ŷ = xᵀ P_q (X P_k ⊙ Ω)ᵀ y``.

    Written out, ``ŷ = Σ_i y_i Σ_b (P_qᵀ x)_b Ω_{ib} (P_kᵀ x_i)_b``: coordinate ``b`` of the
    ``i``-th key is scaled by ``Ω_{ib}``. With ``Ω = ω 1ᵀ`` it is
    ``wpgd_predict(x, X, y, P_q @ P_k.T, ω)``.

    Parameters
    ----------
    x : array_like, shape (..., d)
    X : array_like, shape (..., n, d)
    y : array_like, shape (..., n)
    P_q, P_k : array_like, shape (..., d, d)
    weights : array_like, shape (..., n, d)
        ``Ω``; e.g. from :func:`induced_weights`.

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> X, y, x = np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 1.0])
    >>> Omega = np.array([[0.5, 0.5], [1.0, 1.0]])
    >>> float(dwpgd_predict(x, X, y, np.eye(2), np.eye(2), Omega))
    2.5
    """
    x, X, y = _validate_regression(x, X, y)
    n, d = X.shape[-2:]
    P_q = _validate_square(P_q, d, "P_q")
    P_k = _validate_square(P_k, d, "P_k")
    Omega = as_real_array(weights, "weights")
    if Omega.ndim < 2 or Omega.shape[-2:] != (n, d):
        raise ValueError(f"weights (Ω) must have shape (..., n, d) = (..., {n}, {d}), "
                         f"got {Omega.shape}")
    _batch_shape([("x", x.shape[:-1]), ("X", X.shape[:-2]), ("y", y.shape[:-1]),
                  ("P_q", P_q.shape[:-2]), ("P_k", P_k.shape[:-2]),
                  ("weights", Omega.shape[:-2])])
    query = np.einsum("...i,...ib->...b", x, P_q)          # P_qᵀ x
    keys = np.einsum("...ni,...ib->...nb", X, P_k)          # rows x_iᵀ P_k
    return np.einsum("...b,...nb,...n->...", query, keys * Omega, y)
