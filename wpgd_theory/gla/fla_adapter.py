"""Map this package's GLA convention to flash-linear-attention's (``fla``) and back.

fla's reference recurrence (``naive_recurrent_gla`` in ``fla/ops/gla/naive.py`` of
``fla-org/flash-linear-attention``) keeps a ``(d_k, d_v)`` state ``h`` per batch and head, with
row vectors and key-wise gates in log space::

    h_t = h_{t-1} * exp(gk_t)[:, None] + k_tᵀ v_t,      o_t = (scale · q_t) h_t,   scale = d_k^{-1/2},

on tensors laid out ``(B, T, H, d)``. Ours is ``S_t = G_t ⊙ S_{t-1} + v_t k_tᵀ``, ``o_t = S_t q_t``
with ``S_t`` of shape ``(d_v, d_k)`` and tensors ``(..., T, d)``. The dictionary:

* ``h_t = S_tᵀ``;
* ``G_t = 1 exp(gk_t)ᵀ`` (constant along the value axis), i.e. ``gk_t = log G_t[0, :]`` — only
  scalar and key-wise gates have an fla form;
* fla multiplies queries by ``scale``, so the adapter hands it ``q / scale``;
* our ``(B, H, T, d)`` arrays become fla's ``(B, T, H, d)`` (axes 1 and 2 swapped).
"""
from __future__ import annotations

import numpy as np

from ..core.validation import as_integer, as_real, as_real_array

__all__ = ["fla_scale", "to_fla", "from_fla"]


def fla_scale(d_k):
    """fla's default query scale ``d_k ** -0.5``.

    Examples
    --------
    >>> fla_scale(4)
    0.5
    """
    return float(as_integer(d_k, "d_k", minimum=1)) ** -0.5


def _heads_layout(array, name, last):
    if array.ndim != 4:
        raise ValueError(f"{name} must have shape (B, H, T, {last}), got shape {array.shape}")
    return array


def to_fla(queries, keys, values, gates, *, scale=None):
    """Translate GLA inputs from our convention to ``naive_recurrent_gla(q, k, v, gk)``'s.

    Parameters
    ----------
    queries, keys : array_like, shape (B, H, T, d_k)
    values : array_like, shape (B, H, T, d_v)
    gates : array_like, broadcastable to (B, H, T, d_v, d_k)
        Non-negative gates that do not vary along the value axis (scalar or key-wise gating).
        A zero gate becomes ``gk = -inf`` (``exp(-inf) = 0``).
    scale : float, optional
        The query scale fla applies (default :func:`fla_scale` of ``d_k``).

    Returns
    -------
    q, k, v, gk : ndarray, shape (B, T, H, ·)
        fla's arguments; ``q`` is divided by ``scale`` so fla's ``q * scale`` restores ours.

    Examples
    --------
    >>> import numpy as np
    >>> q = k = np.ones((1, 1, 2, 4)); v = np.ones((1, 1, 2, 1))
    >>> q_fla, k_fla, v_fla, gk = to_fla(q, k, v, np.exp(-1.0))
    >>> q_fla.shape, float(q_fla[0, 0, 0, 0]), float(gk[0, 0, 0, 0])
    ((1, 2, 1, 4), 2.0, -1.0)
    """
    q = _heads_layout(as_real_array(queries, "queries"), "queries", "d_k")
    k = _heads_layout(as_real_array(keys, "keys"), "keys", "d_k")
    v = _heads_layout(as_real_array(values, "values"), "values", "d_v")
    if q.shape != k.shape or v.shape[:3] != q.shape[:3]:
        raise ValueError(f"queries, keys (B, H, T, d_k) and values (B, H, T, d_v) disagree: "
                         f"{q.shape}, {k.shape}, {v.shape}")
    if q.shape[2] == 0:
        raise ValueError("the sequence is empty (T = 0)")
    d_k, d_v = q.shape[-1], v.shape[-1]
    g = as_real_array(gates, "gates")
    full = q.shape[:3] + (d_v, d_k)
    try:
        g = np.broadcast_to(g, full)
    except ValueError:
        raise ValueError(f"gates of shape {g.shape} do not broadcast to (B, H, T, d_v, d_k) = "
                         f"{full}") from None
    if np.any(g < 0):
        raise ValueError("gates must be non-negative: fla stores log-gates gk = log G")
    keywise = g[..., 0, :]
    if not np.array_equal(g, np.broadcast_to(keywise[..., None, :], full)):
        raise ValueError("gates vary along the value axis (d_v); fla's GLA gates are key-wise "
                         "(G_t = 1 exp(gk_t)ᵀ), so only scalar or key-wise gates can be mapped")
    scale = fla_scale(d_k) if scale is None else as_real(scale, "scale", minimum=0.0,
                                                         strict_minimum=True)
    with np.errstate(divide="ignore"):
        gk = np.log(keywise)
    return tuple(np.swapaxes(a, 1, 2) for a in (q / scale, k, v, gk))


def from_fla(outputs, state=None):
    """Translate fla's outputs ``o`` (B, T, H, d_v) and final state ``h`` (B, H, d_k, d_v) to ours.

    Returns
    -------
    outputs : ndarray, shape (B, H, T, d_v)
    state : ndarray, shape (B, H, d_v, d_k)
        ``S_T = h_Tᵀ``; only if ``state`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> o, h = np.zeros((2, 5, 3, 4)), np.zeros((2, 3, 6, 4))
    >>> [a.shape for a in from_fla(o, h)]
    [(2, 3, 5, 4), (2, 3, 4, 6)]
    """
    o = as_real_array(outputs, "outputs")
    if o.ndim != 4:
        raise ValueError(f"outputs must have fla's shape (B, T, H, d_v), got shape {o.shape}")
    o = np.swapaxes(o, 1, 2)
    if state is None:
        return o
    h = as_real_array(state, "state")
    if h.ndim != 4:
        raise ValueError(f"state must have fla's shape (B, H, d_k, d_v), got shape {h.shape}")
    return o, np.swapaxes(h, -1, -2)
