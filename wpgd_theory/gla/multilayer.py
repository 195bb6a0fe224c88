r"""Multi-layer GLA with a residual stream ⇔ coupled multi-step WPGD (Theorem 6, derived).

The paper states (without a printed formula available to this project) that an L-layer GLA with
causal masking implements L steps of weighted preconditioned gradient descent whose trajectories
are coupled. This module makes a precise version executable; ``docs/multilayer.md`` has the
statement and the proof.

Two independent routes compute the same numbers:

* :func:`multilayer_gla` — the network: ``Z_{ℓ+1} = Z_ℓ + GLA_ℓ(Z_ℓ)``, each layer
  :func:`wpgd_theory.gla.gla_forward`, i.e. the recurrence ``S_t = G_t ⊙ S_{t-1} + v_t k_tᵀ`` of
  :func:`wpgd_theory.gla.gla_recurrence` on ``q = Z W_q``, ``k = Z W_k``, ``v = Z W_v``;
* :func:`multilayer_wpgd` — the algorithm: every position ``i`` of the prompt (context tokens and
  the query) carries an iterate ``β_i`` updated by

  .. math::
     β_i^{(ℓ+1)} = β_i^{(ℓ)} + \sum_{j \le i} P_q^ℓ \,\mathrm{diag}(ω^ℓ_{j→i})\, P_k^{ℓ\top} x_j
     \bigl(y_j - x_j^\top β_j^{(ℓ)}\bigr),
     \qquad ω^ℓ_{j→i} = g^ℓ_{j+1} ⊙ \dots ⊙ g^ℓ_i ,

  with ``y_{n+1} := 0`` for the query, which is what the label slot of the query token holds.
  It uses no state matrices; its gate products come from :func:`wpgd_theory.gla.cumulative_gates`
  (the parallel form's helper, which the recurrence does not use).

:func:`multilayer_construction` gives the layer weights that make the two agree, and
:func:`multistep_wpgd` is textbook multi-step (W)PGD ``β_{ℓ+1} = β_ℓ + P_ℓ Xᵀ(ω_ℓ ⊙ (y − Xβ_ℓ))``,
which the non-causal ("prefix") variant reduces to.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._repr import compact_repr
from ..core.validation import as_bool, as_real_array
from .forward import cumulative_gates, gla_forward
from .theorem1 import theorem1_projections

__all__ = [
    "MultiLayerWPGD",
    "multilayer_construction",
    "multilayer_gla",
    "multilayer_wpgd",
    "multistep_wpgd",
]


# ----------------------------------------------------------------------------- validation

def _per_layer(value, name):
    """A non-empty list of per-layer entries (a list, a tuple, or an array's leading axis)."""
    if isinstance(value, np.ndarray):
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a sequence with one entry per layer, "
                        f"got {type(value).__name__}")
    if len(value) == 0:
        raise ValueError(f"{name} is empty: the number of layers L must be at least 1")
    return list(value)


def _per_layer_gates(gates, layers):
    """``gates`` as a list of ``layers`` gate specifications (``None`` means ``G ≡ 1``)."""
    if gates is None:
        return [1.0] * layers
    gates = _per_layer(gates, "gates")
    if len(gates) != layers:
        raise ValueError(f"gates has {len(gates)} entries but there are {layers} layers")
    return gates


def _layer_gate_matrices(spec, tokens, shape, layer):
    """Gate matrices ``G_t`` of one layer, broadcast to ``shape = (T, d_v, d_k)``.

    ``spec`` is array_like, or a callable mapping the layer's input tokens ``(T, D)`` to
    array_like (data-dependent gating).
    """
    name = f"gates[{layer}]"
    if callable(spec):
        spec = spec(tokens.copy())
        name = f"gates[{layer}](tokens)"
    gate = as_real_array(spec, name)
    try:
        return np.broadcast_to(gate, shape)
    except ValueError:
        raise ValueError(f"{name} has shape {gate.shape}, which does not broadcast to "
                         f"(T, d_v, d_k) = {shape}") from None


def _context(x, X, y):
    """Validated ``x (d,)``, ``X (n, d)``, ``y (n,)``."""
    X = as_real_array(X, "X", ndim=2)
    y = as_real_array(y, "y", ndim=1)
    x = as_real_array(x, "x", ndim=1)
    n, d = X.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    if y.shape != (n,):
        raise ValueError(f"y must have shape (n,) = ({n},) to match X, got {y.shape}")
    if x.shape != (d,):
        raise ValueError(f"x must have shape (d,) = ({d},) to match X, got {x.shape}")
    return x, X, y


def _preconditioner_stack(P, name, d=None):
    """Per-layer ``(d, d)`` matrices as an array of shape ``(L, d, d)`` (``d`` from ``P[0]`` if
    not given)."""
    layers = [as_real_array(P_l, f"{name}[{l}]", ndim=2)
              for l, P_l in enumerate(_per_layer(P, name))]
    d = layers[0].shape[0] if d is None else d
    for l, P_l in enumerate(layers):
        if P_l.shape != (d, d):
            raise ValueError(f"{name}[{l}] must have shape (d, d) = ({d}, {d}), got {P_l.shape}")
    return np.stack(layers)


def _key_query_blocks(P_k, P_q, d=None):
    """Validated per-layer ``P_k``, ``P_q`` stacks of equal depth ``L``."""
    P_k = _preconditioner_stack(P_k, "P_k", d)
    P_q = _preconditioner_stack(P_q, "P_q", P_k.shape[1])
    if len(P_k) != len(P_q):
        raise ValueError(f"P_k has {len(P_k)} layers but P_q has {len(P_q)}")
    return P_k, P_q


# ----------------------------------------------------------------------------- the network

def multilayer_construction(P_k, P_q):
    """Layer weights ``(W_q, W_k, W_v)`` under which an L-layer residual GLA runs WPGD.

    Layer ℓ uses Theorem 1's key/query blocks and a value map that writes the *negated* label
    slot back into the label slot::

        W_k = [[P_k^ℓ, 0], [0, 0]],  W_q = [[P_q^ℓ, 0], [0, 0]],  W_v = [[0, 0], [0, -1]],

    i.e. :func:`wpgd_theory.gla.theorem1_projections` with the value sign flipped. With the
    residual stream the label slot of token i then holds the residual ``y_i − ŷ_i`` and the
    query's label slot holds ``−ŷ`` (von Oswald et al. 2023; Ahn et al. 2023).

    Parameters
    ----------
    P_k, P_q : sequence of L array_like of shape (d, d), or array_like of shape (L, d, d)
        Per-layer key and query preconditioner blocks; the step's preconditioner is
        ``P_q P_kᵀ``.

    Returns
    -------
    list of L tuples (W_q, W_k, W_v), each of shape (d + 1, d + 1)

    Examples
    --------
    >>> (W_q, W_k, W_v), = multilayer_construction([[[2.0]]], [[[3.0]]])
    >>> W_k
    array([[2., 0.],
           [0., 0.]])
    >>> W_v
    array([[ 0.,  0.],
           [ 0., -1.]])
    """
    layers = []
    for P_k_l, P_q_l in zip(*_key_query_blocks(P_k, P_q)):
        W_q, W_k, W_v = theorem1_projections(P_k_l, P_q_l)
        layers.append((W_q, W_k, 0.0 - W_v))    # subtract the update (0.0 − keeps zeros unsigned)
    return layers


def _layer_weights(weights, D):
    """Validated per-layer ``(W_q, W_k, W_v)`` triples for tokens of width ``D``."""
    checked = []
    for l, triple in enumerate(_per_layer(weights, "weights")):
        if not isinstance(triple, (list, tuple)) or len(triple) != 3:
            raise TypeError(f"weights[{l}] must be a triple (W_q, W_k, W_v)")
        W_q, W_k, W_v = (as_real_array(W, f"weights[{l}].{name}", ndim=2)
                         for W, name in zip(triple, ("W_q", "W_k", "W_v")))
        if W_q.shape != W_k.shape or W_q.shape[0] != D:
            raise ValueError(f"weights[{l}]: W_q and W_k must both have shape (D, d_k) with "
                             f"D = {D}, got {W_q.shape} and {W_k.shape}")
        if W_v.shape != (D, D):
            raise ValueError(f"weights[{l}].W_v must have shape (D, D) = ({D}, {D}) to write "
                             f"back into the residual stream, got {W_v.shape}")
        checked.append((W_q, W_k, W_v))
    return checked


def _gla_layer(Z, W_q, W_k, W_v, gates, causal):
    """One GLA layer's outputs ``o_t`` (rows); ``gates`` already of shape (T, D, d_k)."""
    if causal:
        return gla_forward(Z, W_q, W_k, W_v, gates)
    # prefix mode: every token reads the state after the context tokens 1..n (the query, last,
    # is never a key), i.e. o_t = S_n q_t for all t.
    _, context_state = gla_forward(Z[:-1], W_q, W_k, W_v, gates[:-1], return_state=True)
    return (Z @ W_q) @ context_state.T


def multilayer_gla(Z, weights, gates=None, *, causal=True, return_all=False):
    """L-layer gated linear attention with a residual stream, ``Z_{ℓ+1} = Z_ℓ + GLA_ℓ(Z_ℓ)``.

    Parameters
    ----------
    Z : array_like, shape (T, D)
        Input tokens (rows), e.g. :func:`wpgd_theory.gla.theorem1_prompt`.
    weights : sequence of L triples (W_q, W_k, W_v)
        ``W_q, W_k`` of shape ``(D, d_k)`` and ``W_v`` of shape ``(D, D)``; token ``z_t`` gives
        ``q_t = W_qᵀ z_t``, ``k_t = W_kᵀ z_t``, ``v_t = W_vᵀ z_t``.
    gates : sequence of L gate specifications, or None
        Entry ℓ is array_like broadcastable to ``(T, D, d_k)`` (scalar gating ``(T, 1, 1)``,
        key-wise gating ``(T, 1, d_k)``, ...) or a callable ``tokens -> array_like`` evaluated on
        the layer's input ``Z_ℓ`` (data-dependent gating). ``None`` means ``G ≡ 1`` (linear
        attention) in every layer.
    causal : bool, optional
        ``True`` (default): token t attends to tokens ``1..t`` (the GLA recurrence). ``False``:
        prefix/full-context mode, every token attends to all tokens but the last one (the query),
        through the state ``S_{T-1}``; gates of the last token are then unused.
    return_all : bool, optional
        Return all residual-stream states ``Z_0, ..., Z_L`` instead of ``Z_L``.

    Returns
    -------
    ndarray, shape (T, D), or (L + 1, T, D) if ``return_all``

    Examples
    --------
    One layer of the Theorem 1 construction: the query's label slot is ``−xᵀ P_q P_kᵀ Xᵀ y``.

    >>> from .theorem1 import theorem1_prompt
    >>> Z = theorem1_prompt([1.0], [[1.0], [2.0]], [1.0, 2.0])
    >>> multilayer_gla(Z, multilayer_construction([[[0.2]]], [[[1.0]]]))[-1]
    array([ 1., -1.])
    """
    causal, return_all = as_bool(causal, "causal"), as_bool(return_all, "return_all")
    Z = as_real_array(Z, "Z", ndim=2)
    T, D = Z.shape
    if T < 2:
        raise ValueError(f"Z must hold at least one context token and the query, "
                         f"got shape {Z.shape}")
    layers = _layer_weights(weights, D)
    gate_specs = _per_layer_gates(gates, len(layers))
    states = [Z]
    for l, ((W_q, W_k, W_v), spec) in enumerate(zip(layers, gate_specs)):
        G = _layer_gate_matrices(spec, states[-1], (T, D, W_k.shape[1]), l)
        states.append(states[-1] + _gla_layer(states[-1], W_q, W_k, W_v, G, causal))
    return np.stack(states) if return_all else states[-1]


# ----------------------------------------------------------------------------- the algorithm

def _causal_weights(g):
    """``Ω[i, j] = g_{j+1} ⊙ … ⊙ g_i`` for ``j ≤ i``, 0 for ``j > i``; ``g`` of shape (T, d)."""
    return cumulative_gates(g[:, None, :])[:, :, 0, :]


def _prefix_weights(g):
    """Every position weights context token ``j ≤ n`` by ``g_{j+1} ⊙ … ⊙ g_n``; the query by 0."""
    omega = np.zeros((len(g),) + g.shape)
    omega[:, :-1] = _causal_weights(g[:-1])[-1]
    return omega


@dataclass(frozen=True)
class MultiLayerWPGD:
    """Trajectory of the coupled multi-step WPGD of :func:`multilayer_wpgd`.

    Positions ``0..n-1`` are the context tokens and position ``n`` is the query.

    Attributes
    ----------
    iterates : ndarray, shape (L + 1, n + 1, d)
        ``β_i^{(ℓ)}``; ``iterates[0] = 0``.
    predictions : ndarray, shape (L + 1, n + 1)
        Running predictions ``ŷ_i^{(ℓ)} = x_iᵀ β_i^{(ℓ)}``.
    residuals : ndarray, shape (L + 1, n + 1)
        ``y_i − ŷ_i^{(ℓ)}`` with ``y_{n+1} := 0``: the label slot of token i after ℓ layers.
    weights : ndarray, shape (L, n + 1, n + 1, d)
        ``weights[ℓ, i, j] = ω^ℓ_{j→i}``, the weight of token j's gradient term at position i.
    """

    __repr__ = compact_repr

    iterates: np.ndarray
    predictions: np.ndarray
    residuals: np.ndarray
    weights: np.ndarray

    @property
    def query_prediction(self):
        """``ŷ = xᵀ β_{n+1}^{(L)}``, the model's output."""
        return float(self.predictions[-1, -1])


def multilayer_wpgd(x, X, y, P_q, P_k, gates=None, *, causal=True):
    r"""The multi-step WPGD that the L-layer residual GLA implements, computed directly.

    Every position ``i ∈ {1..n+1}`` carries an iterate ``β_i`` (``β_i^{(0)} = 0``), updated by

    .. math::
        β_i^{(ℓ+1)} = β_i^{(ℓ)} + \sum_{j} P_q^ℓ \,\mathrm{diag}(ω^ℓ_{j→i})\, P_k^{ℓ\top} x_j
        \,(y_j - x_j^\top β_j^{(ℓ)}),

    where ``x_{n+1} = x``, ``y_{n+1} = 0``. Causal: the sum runs over ``j ≤ i`` with
    ``ω^ℓ_{j→i} = g^ℓ_{j+1} ⊙ … ⊙ g^ℓ_i`` — each position has its own weights, and token j's
    residual is taken at *its own* iterate ``β_j`` (coupled trajectories). Prefix
    (``causal=False``): the sum runs over context tokens ``j ≤ n`` with ``ω_j = g_{j+1} ⊙ … ⊙ g_n``
    for every position, so all ``β_i`` coincide and the recursion is plain multi-step WPGD.

    The gate vector ``g^ℓ_t`` is the last row of ``G^ℓ_t`` restricted to the first ``d`` columns;
    data-dependent gates are evaluated on the tokens ``[x_t; y_t − ŷ_t^{(ℓ)}]``.

    Parameters
    ----------
    x : array_like, shape (d,)
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Query input, context inputs and labels (the argument order of
        :func:`wpgd_theory.gla.theorem1_gla_predict`).
    P_q, P_k : sequence of L array_like of shape (d, d), or array_like of shape (L, d, d)
        Per-layer key/query blocks of :func:`multilayer_construction`.
    gates : sequence of L gate specifications, or None
        As in :func:`multilayer_gla`, for ``(n + 1, d + 1, d + 1)`` gate matrices.
    causal : bool, optional
        Causal (default) or prefix mode, matching :func:`multilayer_gla`.

    Returns
    -------
    MultiLayerWPGD

    Examples
    --------
    ``P = P_q P_kᵀ = 1/5 = (XᵀX)⁻¹``: prefix mode is one Newton step, then stays at ``β = 1``;
    the causal model drifts (the query's own slot enters with label 0 from layer 2 on).

    >>> x, X, y = [1.0], [[1.0], [2.0]], [1.0, 2.0]
    >>> P_q, P_k = [[[1.0]], [[1.0]]], [[[0.2]], [[0.2]]]
    >>> multilayer_wpgd(x, X, y, P_q, P_k, causal=False).predictions[:, -1]
    array([0., 1., 1.])
    >>> multilayer_wpgd(x, X, y, P_q, P_k).predictions[:, -1]
    array([0.  , 1.  , 0.96])
    """
    causal = as_bool(causal, "causal")
    x, X, y = _context(x, X, y)
    n, d = X.shape
    P_k, P_q = _key_query_blocks(P_k, P_q, d)
    gate_specs = _per_layer_gates(gates, len(P_k))
    inputs, labels = np.vstack([X, x]), np.append(y, 0.0)
    pair_weights = _causal_weights if causal else _prefix_weights
    iterates, weights = [np.zeros((n + 1, d))], []
    for l, spec in enumerate(gate_specs):
        beta = iterates[-1]
        residual = labels - np.einsum("id,id->i", inputs, beta)
        tokens = np.column_stack([inputs, residual])
        g = _layer_gate_matrices(spec, tokens, (n + 1, d + 1, d + 1), l)[:, d, :d]
        omega = pair_weights(g)
        key_features = inputs @ P_k[l]                      # row j: (P_kᵀ x_j)ᵀ
        step = np.einsum("ijk,jk,j->ik", omega, key_features, residual) @ P_q[l].T
        iterates.append(beta + step)
        weights.append(omega)
    iterates = np.stack(iterates)
    predictions = np.einsum("lid,id->li", iterates, inputs)
    return MultiLayerWPGD(iterates=iterates, predictions=predictions,
                          residuals=labels - predictions, weights=np.stack(weights))


def multistep_wpgd(X, y, preconditioners, sample_weights=None):
    """Textbook multi-step weighted preconditioned gradient descent from ``β_0 = 0``.

    ``β_{ℓ+1} = β_ℓ + P_ℓ Xᵀ (ω_ℓ ⊙ (y − X β_ℓ))``, i.e. ``β_{ℓ+1} = β_ℓ − P_ℓ ∇L_ℓ(β_ℓ)`` for
    ``L_ℓ(β) = ½ Σ_j ω_{ℓ,j} (y_j − x_jᵀ β)²``. ``ω ≡ 1`` is multi-step PGD.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    preconditioners : sequence of L array_like of shape (d, d)
    sample_weights : array_like of shape (L, n) or (n,), optional
        Per-step sample weights ``ω_ℓ`` (a single ``(n,)`` vector is used at every step).

    Returns
    -------
    ndarray, shape (L + 1, d)
        The iterates ``β_0 = 0, β_1, ..., β_L``.

    Examples
    --------
    >>> multistep_wpgd([[1.0], [2.0]], [1.0, 2.0], [[[0.1]], [[0.1]]])[:, 0]
    array([0.  , 0.5 , 0.75])
    """
    X = as_real_array(X, "X", ndim=2)
    y = as_real_array(y, "y", ndim=1)
    n, d = X.shape
    if y.shape != (n,):
        raise ValueError(f"y must have shape (n,) = ({n},) to match X, got {y.shape}")
    P = _preconditioner_stack(preconditioners, "preconditioners", d)
    omega = (np.ones(n) if sample_weights is None
             else as_real_array(sample_weights, "sample_weights"))
    try:
        omega = np.broadcast_to(omega, (len(P), n))
    except ValueError:
        raise ValueError(f"sample_weights must have shape (n,) or (L, n) = ({len(P)}, {n}), "
                         f"got {omega.shape}") from None
    iterates = [np.zeros(d)]
    for P_l, omega_l in zip(P, omega):
        beta = iterates[-1]
        iterates.append(beta + P_l @ X.T @ (omega_l * (y - X @ beta)))
    return np.stack(iterates)
