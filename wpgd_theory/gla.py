"""Gated linear attention (GLA) forward passes and Theorem 1 (GLA ⇔ DWPGD) in NumPy.

The recurrence (THEORY.md §6, poster Definition 1), with column-vector conventions::

    S_t = G_t ⊙ S_{t-1} + v_t k_tᵀ,     o_t = S_t q_t,     S_0 = 0,

where ``S_t`` and ``G_t`` are ``(d_v, d_k)`` matrices: rows index value channels, columns index
key channels. Linear attention is ``G_t ≡ 1``. Unrolled, this is the *parallel* (masked, gated
attention) form::

    o_t = Σ_{s ≤ t} (D_{t,s} ⊙ v_s k_sᵀ) q_t,     D_{t,s} = G_{s+1} ⊙ … ⊙ G_t   (D_{t,t} = 1).

Conventions
-----------
* Token embeddings are the rows of ``Z`` (shape ``(..., T, D)``) and projections act on the right:
  ``k_t = W_kᵀ z_t``, i.e. ``K = Z W_k`` (likewise ``Q``, ``V``). ``W_q, W_k`` are ``(D, d_k)``
  and ``W_v`` is ``(D, d_v)``.
* Theorem 1 (poster): tokens ``z_i = [x_i; y_i]``, query token ``z_{n+1} = [x; 0]``, ``D = d + 1``,
  ``W_k = [[P_k, 0], [0, 0]]``, ``W_q = [[P_q, 0], [0, 0]]``, ``W_v = [[0, 0], [0, 1]]``. Then
  ``k_i = [P_kᵀ x_i; 0]``, ``q = [P_qᵀ x; 0]``, ``v_i = [0; y_i]`` and the prediction
  ``(o_{n+1})_{d+1}`` equals ``xᵀ P_q (X P_k ⊙ Ω)ᵀ y``, exactly as printed in the poster. Row ``i``
  of ``Ω`` is ``g_{i+1} ⊙ … ⊙ g_{n+1}`` where ``g_j = G_j[d, :d]`` (last row = the label's value
  channel, first ``d`` key columns). The query token's own gate ``g_{n+1}`` multiplies every row;
  ``G_1`` never matters (``S_0 = 0``).
* With ``Ω = ω 1ᵀ`` (scalar gating) this is WPGD ``xᵀ P Xᵀ(ω ⊙ y)`` with ``P = P_q P_kᵀ`` —
  note the transpose on ``P_k``, which comes from ``k_i = W_kᵀ z_i``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_real_array

__all__ = [
    "gla_recurrence",
    "gla_parallel",
    "gla_forward",
    "cumulative_gates",
    "gated_attention_matrix",
    "wpgd_predict",
    "dwpgd_predict",
    "theorem1_projections",
    "theorem1_prompt",
    "induced_weights",
    "theorem1_gla_predict",
    "theorem1_residual",
    "Theorem1Residual",
    "relative_error",
]


# --------------------------------------------------------------------------- validation helpers

def _require_ndim(array, ndim, name, layout):
    if array.ndim < ndim:
        raise ValueError(f"{name} must have shape {layout}, got shape {array.shape}")


def _broadcast_gates(gates, batch, T, d_v, d_k):
    """Broadcast ``gates`` to ``batch + (T, m, d_k)``; ``m = 1`` unless gates vary over values.

    Keeping ``m = 1`` for scalar and key-wise gating avoids materialising ``d_v`` copies.
    """
    full = batch + (T, d_v, d_k)
    try:
        np.broadcast_to(gates, full)
    except ValueError:
        raise ValueError(
            f"gates of shape {gates.shape} do not broadcast to (..., T, d_v, d_k) = {full}") from None
    rows = d_v if gates.ndim >= 2 and gates.shape[-2] == d_v else 1
    return np.broadcast_to(gates, batch + (T, rows, d_k))


def _validate_qkvg(queries, keys, values, gates):
    q = as_real_array(queries, "queries")
    k = as_real_array(keys, "keys")
    v = as_real_array(values, "values")
    g = as_real_array(gates, "gates")
    for array, name, layout in ((q, "queries", "(..., T, d_k)"), (k, "keys", "(..., T, d_k)"),
                                (v, "values", "(..., T, d_v)")):
        _require_ndim(array, 2, name, layout)
    if q.shape != k.shape:
        raise ValueError(f"queries and keys must have the same shape, got {q.shape} and {k.shape}")
    if v.shape[:-1] != q.shape[:-1]:
        raise ValueError(
            f"values must have shape (..., T, d_v) matching queries' leading shape {q.shape[:-1]}, "
            f"got {v.shape}")
    T = q.shape[-2]
    if T == 0:
        raise ValueError("the sequence is empty (T = 0)")
    batch, d_k, d_v = q.shape[:-2], q.shape[-1], v.shape[-1]
    return q, k, v, _broadcast_gates(g, batch, T, d_v, d_k)


# --------------------------------------------------------------------------- forward passes

def gla_recurrence(queries, keys, values, gates, *, return_state=False):
    """Run the GLA recurrence ``S_t = G_t ⊙ S_{t-1} + v_t k_tᵀ``, ``o_t = S_t q_t``.

    Parameters
    ----------
    queries, keys : array_like, shape (..., T, d_k)
        Query and key vectors ``q_t``, ``k_t``; leading axes are batch axes.
    values : array_like, shape (..., T, d_v)
        Value vectors ``v_t``.
    gates : array_like, broadcastable to (..., T, d_v, d_k)
        Gate matrices ``G_t``. Scalar gating is shape ``(..., T, 1, 1)``; key-wise (vector)
        gating is ``(..., T, 1, d_k)``; ``1.0`` everywhere gives causal linear attention.
    return_state : bool, optional
        Also return the final state ``S_T``.

    Returns
    -------
    outputs : ndarray, shape (..., T, d_v)
        The outputs ``o_t``.
    state : ndarray, shape (..., d_v, d_k)
        The final state, only if ``return_state`` is true.

    See Also
    --------
    gla_parallel : the same outputs from the masked, gated attention matrix.

    Examples
    --------
    With ``G ≡ 1`` the last output is ``Σ_t v_t (k_tᵀ q_T)``:

    >>> import numpy as np
    >>> q, k = np.ones((2, 2)), np.eye(2)
    >>> v = np.array([[1.0], [2.0]])
    >>> gla_recurrence(q, k, v, 1.0)[-1]
    array([3.])
    >>> gla_recurrence(q, k, v, 0.5)[-1]   # scalar gate: S_2 = 0.5 S_1 + v_2 k_2ᵀ
    array([2.5])
    """
    q, k, v, g = _validate_qkvg(queries, keys, values, gates)
    batch, T, d_k, d_v = q.shape[:-2], q.shape[-2], q.shape[-1], v.shape[-1]
    state = np.zeros(batch + (d_v, d_k))
    outputs = np.empty(batch + (T, d_v))
    for t in range(T):
        state = g[..., t, :, :] * state + v[..., t, :, None] * k[..., t, None, :]
        outputs[..., t, :] = np.einsum("...vk,...k->...v", state, q[..., t, :])
    return (outputs, state) if return_state else outputs


def cumulative_gates(gates):
    """Causal products of gates: ``D[..., t, s, :, :] = G_{s+1} ⊙ … ⊙ G_t`` for ``s ≤ t``.

    ``D[t, t] = 1`` (empty product) and ``D[t, s] = 0`` for ``s > t`` (the causal mask). Products
    are formed directly (no division), so gates equal to 0 are exact.

    Parameters
    ----------
    gates : array_like, shape (..., T, m, c)
        Gate matrices (any trailing gate shape, e.g. ``(1, 1)`` for scalar gates).

    Returns
    -------
    ndarray, shape (..., T, T, m, c)

    Examples
    --------
    >>> import numpy as np
    >>> cumulative_gates(np.array([2.0, 3.0, 5.0]).reshape(3, 1, 1))[..., 0, 0]
    array([[ 1.,  0.,  0.],
           [ 3.,  1.,  0.],
           [15.,  5.,  1.]])
    """
    g = as_real_array(gates, "gates")
    _require_ndim(g, 3, "gates", "(..., T, m, c)")
    T = g.shape[-3]
    later = np.arange(T)[:, None] > np.arange(T)[None, :]            # j > s
    factors = np.where(later[:, :, None, None], g[..., :, None, :, :], 1.0)
    products = np.cumprod(factors, axis=-4)                           # Π_{j ≤ t, j > s} G_j
    causal = (np.arange(T)[:, None] >= np.arange(T)[None, :])[:, :, None, None]
    return np.where(causal, products, 0.0)


def gated_attention_matrix(queries, keys, gates):
    """The masked, gated attention weights ``A[t, s, a] = Σ_b D_{t,s}[a, b] q_t[b] k_s[b]``.

    With them the GLA outputs are ``o_t[a] = Σ_s A[t, s, a] v_s[a]``. For scalar gates
    ``A[t, s] = (Π_{s<j≤t} γ_j) q_tᵀ k_s`` (decay-masked linear attention); ``G ≡ 1`` gives the
    causally masked ``Q Kᵀ``.

    Parameters
    ----------
    queries, keys : array_like, shape (..., T, d_k)
    gates : array_like, broadcastable to (..., T, d_v, d_k)

    Returns
    -------
    ndarray, shape (..., T, T, m)
        ``m = d_v`` if the gates vary along the value axis, else ``m = 1`` (one matrix shared by
        every value channel).

    Examples
    --------
    >>> import numpy as np
    >>> q = k = np.ones((3, 1))
    >>> gated_attention_matrix(q, k, 0.5)[..., 0]
    array([[1.  , 0.  , 0.  ],
           [0.5 , 1.  , 0.  ],
           [0.25, 0.5 , 1.  ]])
    """
    q = as_real_array(queries, "queries")
    k = as_real_array(keys, "keys")
    for array, name in ((q, "queries"), (k, "keys")):
        _require_ndim(array, 2, name, "(..., T, d_k)")
    if q.shape != k.shape:
        raise ValueError(f"queries and keys must have the same shape, got {q.shape} and {k.shape}")
    if q.shape[-2] == 0:
        raise ValueError("the sequence is empty (T = 0)")
    g = as_real_array(gates, "gates")
    rows = g.shape[-2] if g.ndim >= 2 else 1
    g = _broadcast_gates(g, q.shape[:-2], q.shape[-2], rows, q.shape[-1])
    return np.einsum("...tsab,...tb,...sb->...tsa", cumulative_gates(g), q, k)


def gla_parallel(queries, keys, values, gates):
    """GLA outputs from the parallel form ``o_t[a] = Σ_{s≤t} A[t, s, a] v_s[a]``.

    Same parameters and outputs as :func:`gla_recurrence` (without the state); costs
    ``O(T² d_v d_k)`` memory, so it is a cross-check rather than a production path.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = rng.normal(size=(3, 4, 2))
    >>> gates = rng.uniform(size=(4, 2, 2))
    >>> bool(np.allclose(gla_parallel(q, k, v, gates), gla_recurrence(q, k, v, gates)))
    True
    """
    q, k, v, g = _validate_qkvg(queries, keys, values, gates)
    weights = gated_attention_matrix(q, k, g)
    return np.einsum("...tsa,...sa->...ta", weights, v)


def gla_forward(Z, W_q, W_k, W_v, gates, *, return_state=False):
    """One GLA layer on token embeddings: ``q_t = W_qᵀ z_t``, ``k_t = W_kᵀ z_t``, ``v_t = W_vᵀ z_t``.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
        Token embeddings, one token per row; leading axes are batch axes (prompts).
    W_q, W_k : array_like, shape (D, d_k)
    W_v : array_like, shape (D, d_v)
    gates : array_like or callable
        Gates broadcastable to ``(..., T, d_v, d_k)``, or a function ``Z -> gates`` (e.g. a gate
        family from :mod:`wpgd_theory.gates` with its parameters bound).
    return_state : bool, optional
        Also return the final state ``S_T`` of shape ``(..., d_v, d_k)``.

    Returns
    -------
    outputs : ndarray, shape (..., T, d_v)
    state : ndarray, shape (..., d_v, d_k), only if ``return_state``.

    Examples
    --------
    Linear attention (``G ≡ 1``) with identity projections sums ``z_s (z_sᵀ z_t)``:

    >>> import numpy as np
    >>> Z = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> gla_forward(Z, np.eye(2), np.eye(2), np.eye(2), 1.0)
    array([[1., 0.],
           [3., 2.]])
    """
    Z = as_real_array(Z, "Z")
    _require_ndim(Z, 2, "Z", "(..., T, D)")
    D = Z.shape[-1]
    W_q, W_k, W_v = (as_real_array(W, name) for W, name in ((W_q, "W_q"), (W_k, "W_k"),
                                                            (W_v, "W_v")))
    for W, name, layout in ((W_q, "W_q", "(D, d_k)"), (W_k, "W_k", "(D, d_k)"),
                            (W_v, "W_v", "(D, d_v)")):
        if W.ndim != 2 or W.shape[0] != D:
            raise ValueError(f"{name} must have shape {layout} with D = {D} (the token width of Z), "
                             f"got shape {W.shape}")
    if W_q.shape != W_k.shape:
        raise ValueError(f"W_q and W_k must have the same shape (D, d_k), got {W_q.shape} and "
                         f"{W_k.shape}")
    G = gates(Z) if callable(gates) else gates
    return gla_recurrence(Z @ W_q, Z @ W_k, Z @ W_v, G, return_state=return_state)


# --------------------------------------------------------------------------- WPGD predictors

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


# --------------------------------------------------------------------------- Theorem 1

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
    g = as_real_array(gates, "gates")
    _require_ndim(g, 3, "gates", "(..., n + 1, m, c)")
    if g.shape[-3] < 1:
        raise ValueError(f"gates must cover the n + 1 ≥ 1 prompt tokens (axis -3), got shape "
                         f"{g.shape}")
    if g.shape[-2] not in (1, d + 1) or g.shape[-1] not in (1, d + 1):
        raise ValueError(f"gates must broadcast to (..., n + 1, d + 1, d + 1) with d + 1 = {d + 1}, "
                         f"got shape {g.shape}")
    last_row = np.broadcast_to(g[..., -1, :], g.shape[:-2] + (d + 1,))[..., :d]
    suffix = np.cumprod(last_row[..., ::-1, :], axis=-2)[..., ::-1, :]   # Π_{j ≥ i} g_j
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
