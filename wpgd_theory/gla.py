"""Gated linear attention (GLA) forward passes in NumPy.

The recurrence (THEORY.md §6, poster Definition 1), with column-vector conventions::

    S_t = G_t ⊙ S_{t-1} + v_t k_tᵀ,     o_t = S_t q_t,     S_0 = 0,

where ``S_t`` and ``G_t`` are ``(d_v, d_k)`` matrices. Linear attention is ``G_t ≡ 1``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["gla_recurrence"]


def _as_real_array(value, name):
    array = np.asarray(value)
    if array.dtype == object or np.iscomplexobj(array):
        raise TypeError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


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
    q = _as_real_array(queries, "queries")
    k = _as_real_array(keys, "keys")
    v = _as_real_array(values, "values")
    g = _as_real_array(gates, "gates")
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError("queries, keys and values must have shape (..., T, dim)")
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
    try:
        g = np.broadcast_to(g, batch + (T, d_v, d_k))
    except ValueError:
        raise ValueError(
            f"gates of shape {np.shape(gates)} do not broadcast to (..., T, d_v, d_k) = "
            f"{batch + (T, d_v, d_k)}") from None
    state = np.zeros(batch + (d_v, d_k))
    outputs = np.empty(batch + (T, d_v))
    for t in range(T):
        state = g[..., t, :, :] * state + v[..., t, :, None] * k[..., t, None, :]
        outputs[..., t, :] = np.einsum("...vk,...k->...v", state, q[..., t, :])
    return (outputs, state) if return_state else outputs
