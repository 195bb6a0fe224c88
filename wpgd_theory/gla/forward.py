"""Gated linear attention (GLA) forward passes and Theorem 1 (GLA ⇔ DWPGD) in NumPy.

The recurrence (docs/theory.md §6, poster Definition 1), with column-vector conventions::

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

import numpy as np

from ..core.validation import as_bool, as_real_array, namespace_of
from ..core.validation import require_ndim as _require_ndim

__all__ = [
    "gla_recurrence",
    "gla_parallel",
    "gla_forward",
    "gla_last_output",
    "suffix_gate_products",
    "cumulative_gates",
    "gated_attention_matrix",
]


# --------------------------------------------------------------------------- validation helpers


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


def _qkvg(queries, keys, values, gates, xp):
    """Validated NumPy inputs, or (inside JAX transformations) the arrays as they are."""
    if xp is np:
        return _validate_qkvg(queries, keys, values, gates)
    q, k, v, g = queries, keys, values, xp.asarray(gates)
    if g.ndim < 3:                       # no token axis: the same gate for every token
        g = xp.broadcast_to(xp.reshape(g, (1,) * (2 - g.ndim) + g.shape),
                            (q.shape[-2],) + (1,) * (2 - g.ndim) + g.shape)
    return q, k, v, g                    # unbroadcast: later products broadcast it


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
    return_state = as_bool(return_state, "return_state")
    xp = namespace_of(queries, keys, values, gates)
    q, k, v, g = _qkvg(queries, keys, values, gates, xp)
    batch, T, d_k, d_v = q.shape[:-2], q.shape[-2], q.shape[-1], v.shape[-1]
    state = xp.zeros(batch + (d_v, d_k))
    outputs = []
    for t in range(T):
        state = g[..., t, :, :] * state + v[..., t, :, None] * k[..., t, None, :]
        outputs.append(xp.einsum("...vk,...k->...v", state, q[..., t, :]))
    outputs = xp.stack(outputs, axis=-2)
    return (outputs, state) if return_state else outputs


def suffix_gate_products(gates):
    """Inclusive suffix products ``Π_{j ≥ s} G_j`` of a gate sequence (axis -3), any array module.

    Row ``s + 1`` is the factor ``D_{T,s} = G_{s+1} ⊙ … ⊙ G_T`` that the last output applies to
    token ``s``; :func:`~wpgd_theory.gla.induced_weights` and :func:`gla_last_output` both read
    them. Runs on NumPy or ``jax.numpy`` arrays (no validation: an internal building block).

    Parameters
    ----------
    gates : array, shape (..., T, m, c)

    Returns
    -------
    array, shape (..., T, m, c)

    Examples
    --------
    >>> import numpy as np
    >>> suffix_gate_products(np.array([2.0, 3.0, 5.0]).reshape(3, 1, 1))[:, 0, 0]
    array([30., 15.,  5.])
    """
    xp = namespace_of(gates)
    return xp.flip(xp.cumprod(xp.flip(gates, axis=-3), axis=-3), axis=-3)


def gla_last_output(queries, keys, values, gates):
    """The last GLA output ``o_T = Σ_{s ≤ T} (D_{T,s} ⊙ v_s k_sᵀ) q_T`` in ``O(T d_v d_k)``.

    The last row of :func:`gla_parallel` (equivalently ``gla_recurrence(...)[..., -1, :]``)
    computed from the suffix products of the gates, without the ``T × T`` attention matrix or a
    sequential loop. This is the prediction of a one-layer GLA on a prompt whose last token is
    the query; it runs on NumPy arrays (validated) or inside JAX transformations (the training
    code differentiates it).

    Parameters
    ----------
    queries, keys : array_like, shape (..., T, d_k)
    values : array_like, shape (..., T, d_v)
    gates : array_like, broadcastable to (..., T, d_v, d_k)

    Returns
    -------
    array, shape (..., d_v)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = rng.normal(size=(3, 4, 2))
    >>> gates = rng.uniform(size=(4, 2, 2))
    >>> bool(np.allclose(gla_last_output(q, k, v, gates), gla_recurrence(q, k, v, gates)[-1]))
    True
    """
    xp = namespace_of(queries, keys, values, gates)
    q, k, v, g = _qkvg(queries, keys, values, gates, xp)
    inclusive = suffix_gate_products(g)                          # Π_{j ≥ s} G_j
    later = xp.concatenate([inclusive[..., 1:, :, :], xp.ones_like(inclusive[..., :1, :, :])],
                           axis=-3)                              # D_{T,s} = Π_{j > s} G_j
    d_k, d_v = k.shape[-1], v.shape[-1]
    # Contractions as einsums: XLA's CPU broadcast-multiply-reduce over these shapes is 5× slower.
    scores = xp.einsum("...tmc,...tc->...tm", xp.broadcast_to(later, later.shape[:-1] + (d_k,)),
                       k * q[..., -1:, :])                                # (..., T, m)
    return xp.einsum("...ta,...ta->...a", xp.broadcast_to(scores, scores.shape[:-1] + (d_v,)), v)


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
        family from :mod:`wpgd_theory.gla.gates` with its parameters bound).
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
    return_state = as_bool(return_state, "return_state")
    xp = namespace_of(Z, W_q, W_k, W_v, None if callable(gates) else gates)
    if xp is not np:                       # inside JAX transformations: no NumPy validation
        G = gates(Z) if callable(gates) else gates
        return gla_recurrence(Z @ W_q, Z @ W_k, Z @ W_v, G, return_state=return_state)
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
