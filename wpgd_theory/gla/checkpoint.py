"""Reading a trained GLA layer: its induced per-example preconditioners and weights (Theorem 1).

A one-layer GLA on Theorem 1's tokens ``z_i = [x_i; y_i]``, ``z_{n+1} = [x; 0]`` with key-wise
gates predicts, through a readout ``u`` of its value channels, ``ŷ = uᵀ o_{n+1}``. The part of
``ŷ`` that is bilinear in ``(x, x_i)`` and linear in ``y_i`` is ``Σ_i y_i xᵀ P⁽ⁱ⁾ x_i`` with

    ``P⁽ⁱ⁾ = (W_v u)_{d+1} · W_q,x diag(Ω_i) W_k,xᵀ``,

``W_q,x``, ``W_k,x`` the feature rows of the query and key projections and ``Ω_i`` row ``i`` of
:func:`~wpgd_theory.gla.theorem1.induced_weights` (the gate products ``g_{i+1} ⊙ … ⊙ g_{n+1}``).
When the layer is WPGD, ``P⁽ⁱ⁾ = ω_i P`` and the best rank-one fit (:func:`rank_one_fit`) of the
stack recovers ``(P, ω)``; :func:`read_gla` compares them with the theory's ``(P*, ω*)``.

The weights can be plain arrays (``W_q``, ``W_k`` of shape ``(d + 1, d_k)``, ``W_v`` of shape
``(d + 1, d_v)``, tokens are rows and projections act on the right as in
:func:`~wpgd_theory.gla.forward.gla_forward`) or a flash-linear-attention ``GatedLinearAttention``
state dict (:func:`fla_gla_arrays`; PyTorch tensors or NumPy arrays — torch is never imported
unless :func:`load_fla_state_dict` reads a file).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core._repr import compact_repr
from ..core.model import CorrelatedTaskModel
from ..core.solver import solve_model
from ..core.validation import as_integer, as_real, as_real_array, as_seed
from .fla_adapter import fla_scale
from .theorem1 import induced_weights, theorem1_prompt

__all__ = [
    "example_preconditioners",
    "keywise_induced_weights",
    "rank_one_fit",
    "GLAReading",
    "read_gla",
    "FLAGLAArrays",
    "fla_gla_arrays",
    "load_fla_state_dict",
]


def shape_error(learned, target):
    """``min_c ‖c·learned − target‖ / ‖target‖`` (sign and scale free; 1 if ``learned = 0``).

    Examples
    --------
    >>> shape_error([2.0, 4.0], [1.0, 2.0]), round(shape_error([1.0, 0.0], [1.0, 1.0]), 6)
    (0.0, 0.707107)
    """
    a, b = np.ravel(np.asarray(learned, float)), np.ravel(np.asarray(target, float))
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 1.0
    cosine = min(1.0, abs(float(a @ b)) / (na * nb))
    return float(np.sqrt(max(0.0, 1.0 - cosine**2)))


def rank_one_fit(token_preconditioners):
    """Best ``P⁽ⁱ⁾ ≈ ω_i P`` (SVD) of per-example preconditioners ``(n, d, d)``.

    Returns ``(P, ω, residual)`` with ``ω`` scaled so its last entry is 1 (or its largest
    entry, if the last is 0) and ``residual`` the relative Frobenius norm of what ``ω P`` misses.

    Examples
    --------
    >>> stack = np.array([0.5, 1.0])[:, None, None] * (2 * np.eye(2))
    >>> P, omega, residual = rank_one_fit(stack)
    >>> np.round(P, 12) + 0.0, omega, residual < 1e-12
    (array([[2., 0.],
           [0., 2.]]), array([0.5, 1. ]), True)
    """
    stack = as_real_array(token_preconditioners, "token_preconditioners", ndim=3)
    n, d = stack.shape[0], stack.shape[-1]
    if n < 1 or d < 1 or stack.shape[1] != d:
        raise ValueError(f"token_preconditioners must have shape (n, d, d) with n, d >= 1, got "
                         f"{stack.shape}")
    U, s, Vt = np.linalg.svd(stack.reshape(n, d * d), full_matrices=False)
    if s[0] == 0:
        raise ValueError("token_preconditioners are all zero: no rank-one fit P, ω exists")
    omega, P = U[:, 0] * s[0], Vt[0].reshape(d, d)
    pivot = omega[-1] if abs(omega[-1]) > 1e-9 * np.max(np.abs(omega)) else omega[
        np.argmax(np.abs(omega))]
    total = float(np.sqrt(np.sum(s**2)))
    residual = float(np.sqrt(np.sum(s[1:] ** 2)) / total) if total > 0 else 0.0
    return P * pivot, omega / pivot, residual


def _projections(W_q, W_k, W_v, readout):
    W_q = as_real_array(W_q, "W_q", ndim=2)
    W_k = as_real_array(W_k, "W_k", ndim=2)
    W_v = as_real_array(W_v, "W_v", ndim=2)
    if W_q.shape != W_k.shape or W_v.shape[0] != W_q.shape[0] or W_q.shape[0] < 2:
        raise ValueError(f"W_q, W_k must be (d + 1, d_k) and W_v (d + 1, d_v) with d ≥ 1, got "
                         f"shapes {W_q.shape}, {W_k.shape}, {W_v.shape}")
    d_v = W_v.shape[1]
    u = np.eye(d_v)[-1] if readout is None else as_real_array(readout, "readout", ndim=1)
    if u.shape != (d_v,):
        raise ValueError(f"readout must have one entry per value channel (d_v = {d_v}), got "
                         f"shape {u.shape}")
    return W_q, W_k, float(W_v[-1] @ u)


def example_preconditioners(W_q, W_k, W_v, Omega, *, readout=None):
    """Per-example preconditioners ``P⁽ⁱ⁾ = (W_v u)_{d+1} · W_q,x diag(Ω_i) W_k,xᵀ``.

    Parameters
    ----------
    W_q, W_k : array_like, shape (d + 1, d_k)
        Query and key projections (tokens are rows: ``k_i = W_kᵀ z_i``).
    W_v : array_like, shape (d + 1, d_v)
    Omega : array_like, shape (..., n, d_k)
        Induced key-wise weights (:func:`keywise_induced_weights`).
    readout : array_like, shape (d_v,), optional
        The prediction is ``uᵀ o``; default the last value channel (Theorem 1's ``(o)_{d+1}``).

    Returns
    -------
    ndarray, shape (..., n, d, d)

    Examples
    --------
    Theorem 1's projections with ``P_k = I``, ``P_q = P`` give ``P⁽ⁱ⁾ = ω_i P``:

    >>> from wpgd_theory.gla.theorem1 import theorem1_projections
    >>> P = np.array([[2.0, 1.0], [0.0, 1.0]])
    >>> W_q, W_k, W_v = theorem1_projections(np.eye(2), P)
    >>> Omega = np.array([[0.5, 0.5, 0.0], [1.0, 1.0, 0.0]])      # d_k = d + 1 = 3
    >>> example_preconditioners(W_q, W_k, W_v, Omega)[0]
    array([[1. , 0.5],
           [0. , 0.5]])
    """
    W_q, W_k, label = _projections(W_q, W_k, W_v, readout)
    Omega = as_real_array(Omega, "Omega")
    if Omega.ndim < 2 or Omega.shape[-1] != W_q.shape[1]:
        raise ValueError(f"Omega must have shape (..., n, d_k) with d_k = {W_q.shape[1]}, got "
                         f"shape {Omega.shape}")
    d = W_q.shape[0] - 1
    return label * np.einsum("ib,...nb,jb->...nij", W_q[:d], Omega, W_k[:d])


def keywise_induced_weights(gates):
    """Theorem 1's ``Ω`` for key-wise gates ``α_t`` (``G_t = 1 α_tᵀ``) of the ``n + 1`` tokens.

    Parameters
    ----------
    gates : array_like, shape (..., n + 1, d_k)

    Returns
    -------
    ndarray, shape (..., n, d_k)
        Row ``i`` is ``α_{i+1} ⊙ … ⊙ α_{n+1}`` (:func:`~wpgd_theory.gla.theorem1.induced_weights`).

    Examples
    --------
    >>> keywise_induced_weights(np.array([[1.0, 1.0], [0.5, 1.0], [0.5, 0.2]]))
    array([[0.25, 0.2 ],
           [0.5 , 0.2 ]])
    """
    g = as_real_array(gates, "gates")
    if g.ndim < 2 or g.shape[-2] < 1:
        raise ValueError(f"gates must have shape (..., n + 1, d_k), got shape {g.shape}")
    padded = np.concatenate([g, np.ones(g.shape[:-1] + (1,))], axis=-1)[..., None, :]
    return induced_weights(padded, g.shape[-1])


@dataclass(frozen=True)
class GLAReading:
    """What a GLA layer computes in WPGD terms, against the theory (compact repr).

    ``preconditioner``, ``weights``: the rank-one fit ``P⁽ⁱ⁾ ≈ ω_i P`` of the per-example
    preconditioners averaged over the prompts (``ω`` scaled to end in 1); ``rank_one_residual``:
    what the fit misses (0 for WPGD); ``preconditioner_error``, ``weights_error``: sign- and
    scale-free distances (``min_c ‖c·a − b‖/‖b‖``) to the optimum's ``P*``, ``ω*``.
    """

    preconditioner: np.ndarray
    weights: np.ndarray
    rank_one_residual: float
    preconditioner_error: float
    weights_error: float
    example_preconditioners: np.ndarray
    optimum: Any

    def __repr__(self):
        return compact_repr(self)


def read_gla(W_q, W_k, W_v, gates, model, *, readout=None, optimum=None, prompts=64, seed=0):
    """Read a GLA layer's induced ``(P, ω)`` and compare them with the theory's ``(P*, ω*)``.

    Parameters
    ----------
    W_q, W_k, W_v, readout
        As in :func:`example_preconditioners`; ``d + 1`` must be the model's ``d + 1``.
    gates : array_like or callable
        Key-wise gates of the ``n + 1`` tokens, shape ``(n + 1, d_k)`` (fixed) or a function of
        the tokens ``Z`` of shape ``(b, n + 1, d + 1)`` returning ``(b, n + 1, d_k)``
        (data-dependent gates, e.g. :attr:`FLAGLAArrays.gates`).
    model : CorrelatedTaskModel
        The task model; its prompts (``prompts`` of them, ``seed``) average data-dependent gates.
    optimum : optional
        Anything with ``preconditioner`` and ``weights`` (default ``solve_model(model)``).

    Returns
    -------
    GLAReading

    Examples
    --------
    Theorem 1's construction of the optimum, read back:

    >>> from wpgd_theory.core.model import CorrelatedTaskModel
    >>> from wpgd_theory.gla.theorem1 import theorem1_projections
    >>> model = CorrelatedTaskModel(np.diag([1.0, 2.0]), 0.5 * np.eye(3) + 0.5, [0.6] * 3, 0.1)
    >>> best = solve_model(model)
    >>> W_q, W_k, W_v = theorem1_projections(np.eye(2), best.preconditioner)
    >>> omega = best.weights / best.weights[-1]
    >>> gates = np.append(np.append(1.0, omega[:-1] / omega[1:]), omega[-1])[:, None] * np.ones(3)
    >>> reading = read_gla(W_q, W_k, W_v, gates, model)
    >>> reading.preconditioner_error < 1e-12, reading.weights_error < 1e-12
    (True, True)
    """
    if not isinstance(model, CorrelatedTaskModel):
        raise TypeError(f"model must be a CorrelatedTaskModel, got {type(model).__name__}")
    W_q_arr = as_real_array(W_q, "W_q", ndim=2)
    if W_q_arr.shape[0] != model.d + 1:
        raise ValueError(f"W_q must have d + 1 = {model.d + 1} rows (the model's tokens "
                         f"[x; y]), got shape {W_q_arr.shape}")
    b = as_integer(prompts, "prompts", minimum=1)
    if callable(gates):
        sample = model.sample(b, seed=as_seed(seed))
        Z = theorem1_prompt(sample.query_input, sample.context_inputs, sample.context_labels)
        g = as_real_array(gates(Z), "gates(Z)")
    else:
        g = as_real_array(gates, "gates")
    if g.shape[-2:] != (model.n + 1, W_q_arr.shape[1]) or g.ndim not in (2, 3):
        raise ValueError(f"gates must have shape ([b,] n + 1, d_k) = ([b,] {model.n + 1}, "
                         f"{W_q_arr.shape[1]}), got shape {g.shape}")
    stack = example_preconditioners(W_q_arr, W_k, W_v, keywise_induced_weights(g),
                                    readout=readout)
    if stack.ndim == 4:
        stack = stack.mean(axis=0)
    P, omega, residual = rank_one_fit(stack)
    optimum = solve_model(model) if optimum is None else optimum
    return GLAReading(P, omega, residual, shape_error(P, optimum.preconditioner),
                      shape_error(omega, optimum.weights), stack, optimum)


# ----------------------------------------------------------------- flash-linear-attention

@dataclass(frozen=True)
class FLAGLAArrays:
    """One head of an fla ``GatedLinearAttention`` layer as plain arrays in this package's layout.

    ``W_q`` (already multiplied by fla's query scale ``d_k^{-1/2}``), ``W_k``: ``(D, d_k)``;
    ``W_v``: ``(D, d_v)``; ``readout``: the ``o_proj`` row that writes the label coordinate,
    restricted to this head; the low-rank gate ``gk = logsigmoid(W_2 (W_1 z) + b_2) / normalizer``.
    """

    W_q: np.ndarray
    W_k: np.ndarray
    W_v: np.ndarray
    readout: np.ndarray
    gate_down: np.ndarray
    gate_up: np.ndarray
    gate_bias: np.ndarray
    gate_logit_normalizer: float

    def gates(self, Z):
        """Key-wise gates ``α = exp(gk)`` of tokens ``Z`` ``(..., T, D)`` → ``(..., T, d_k)``."""
        logits = np.asarray(Z, float) @ self.gate_down.T @ self.gate_up.T + self.gate_bias
        log_sigmoid = -np.logaddexp(0.0, -logits)
        return np.exp(log_sigmoid / self.gate_logit_normalizer)

    def read(self, model, **options):
        """:func:`read_gla` of this head."""
        return read_gla(self.W_q, self.W_k, self.W_v, self.gates, model, readout=self.readout,
                        **options)

    def __repr__(self):
        return (f"FLAGLAArrays(D={self.W_q.shape[0]}, d_k={self.W_q.shape[1]}, "
                f"d_v={self.W_v.shape[1]})")


def _to_numpy(value, key):
    if hasattr(value, "detach"):                      # a torch tensor, without importing torch
        value = value.detach().cpu().double().numpy()
    return as_real_array(value, f"state_dict[{key!r}]")


def _entry(state_dict, prefix, key):
    full = prefix + key
    if full not in state_dict:
        raise ValueError(f"state_dict has no {full!r}: not an fla GatedLinearAttention layer "
                         f"(keys: {sorted(state_dict)[:8]}...)")
    return _to_numpy(state_dict[full], full)


def fla_gla_arrays(state_dict, *, num_heads=1, head=0, label_channel=-1,
                   gate_logit_normalizer=16.0, prefix=""):
    """One head of an fla ``GatedLinearAttention`` state dict as :class:`FLAGLAArrays`.

    fla's layer (``fla/layers/gla.py``) holds ``q_proj``, ``k_proj``, ``v_proj`` (``nn.Linear``
    without bias, weights ``(out, in)``), the low-rank key-wise gate ``gk_proj`` (``gk_proj.0``
    ``(r, D)`` without bias, then ``gk_proj.1`` ``(d_k·H, r)`` with bias) applied as
    ``logsigmoid(·) / gate_logit_normalizer``, and ``o_proj`` ``(D, d_v·H)``. Its output gate
    ``g_proj`` and the normalisation ``g_norm`` act on ``o`` after the attention and are not part
    of Theorem 1: they are ignored here (exact for a layer trained without them, a linearisation
    otherwise).

    Parameters
    ----------
    state_dict : mapping
        Parameter name → tensor (PyTorch) or array.
    num_heads, head : int
        fla splits ``q, k`` into ``num_heads`` heads of ``d_k`` and ``v`` into heads of ``d_v``.
    label_channel : int
        The output (hidden) coordinate that carries the prediction (default the last, ``y``'s).
    gate_logit_normalizer : float
        fla's default is 16.
    prefix : str
        Prefix of the layer's keys in a model's state dict (e.g. ``"model.layers.0.attn."``).

    Examples
    --------
    >>> D, r = 3, 2
    >>> rng = np.random.default_rng(0)
    >>> sd = {"q_proj.weight": rng.normal(size=(4, D)), "k_proj.weight": rng.normal(size=(4, D)),
    ...       "v_proj.weight": rng.normal(size=(4, D)), "o_proj.weight": rng.normal(size=(D, 4)),
    ...       "gk_proj.0.weight": rng.normal(size=(r, D)),
    ...       "gk_proj.1.weight": rng.normal(size=(4, r)), "gk_proj.1.bias": np.zeros(4)}
    >>> fla_gla_arrays(sd, num_heads=2, head=1)
    FLAGLAArrays(D=3, d_k=2, d_v=2)
    """
    if not hasattr(state_dict, "keys"):
        raise TypeError(f"state_dict must be a mapping of parameter names to tensors or arrays, "
                        f"got {type(state_dict).__name__}")
    H = as_integer(num_heads, "num_heads", minimum=1)
    h = as_integer(head, "head", minimum=0, maximum=H - 1)
    q, k, v, o, down, up, bias = (_entry(state_dict, prefix, key) for key in (
        "q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight", "gk_proj.0.weight",
        "gk_proj.1.weight", "gk_proj.1.bias"))
    if q.ndim != 2 or q.shape != k.shape or v.shape[1] != q.shape[1] or o.shape[1] != v.shape[0]:
        raise ValueError(f"q_proj, k_proj (key_dim, D), v_proj (value_dim, D) and o_proj (D, "
                         f"value_dim) disagree: {q.shape}, {k.shape}, {v.shape}, {o.shape}")
    if q.shape[0] % H or v.shape[0] % H:
        raise ValueError(f"num_heads = {H} does not divide key_dim {q.shape[0]} and value_dim "
                         f"{v.shape[0]}")
    d_k, d_v = q.shape[0] // H, v.shape[0] // H
    keys, values = slice(h * d_k, (h + 1) * d_k), slice(h * d_v, (h + 1) * d_v)
    channel = as_integer(label_channel, "label_channel", minimum=-o.shape[0],
                         maximum=o.shape[0] - 1)
    if down.ndim != 2 or down.shape[1] != q.shape[1] or up.shape != (q.shape[0], down.shape[0]) \
            or bias.shape != (q.shape[0],):
        raise ValueError(f"gk_proj.0 (r, D), gk_proj.1 (key_dim, r) and its bias (key_dim,) "
                         f"disagree: {down.shape}, {up.shape}, {bias.shape}")
    return FLAGLAArrays(
        W_q=q[keys].T * fla_scale(d_k), W_k=k[keys].T, W_v=v[values].T,
        readout=o[channel, values], gate_down=down, gate_up=up[keys],
        gate_bias=bias[keys],
        gate_logit_normalizer=as_real(gate_logit_normalizer, "gate_logit_normalizer",
                                      minimum=0.0, strict_minimum=True))


def load_fla_state_dict(path):
    """Load a PyTorch checkpoint file (``torch.load``, weights only) as a state dict.

    Needs PyTorch (``pip install torch``); raises ImportError naming it otherwise.
    """
    try:
        import torch
    except ImportError as error:                      # torch is optional and heavy
        raise ImportError("reading a PyTorch checkpoint needs torch: pip install torch "
                          "(or pass a state dict of arrays to fla_gla_arrays)") from error
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state.get("state_dict", state) if isinstance(state, dict) else state

