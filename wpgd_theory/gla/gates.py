"""Gate families of real GLA architectures (poster table, after Yang et al., ICML 2024).

Each family is a function ``(Z, **parameters) -> G`` from token embeddings ``Z`` of shape
``(..., T, D)`` to gates ``G_t`` broadcastable to ``(..., T, d_v, d_k)``, in this package's
column-vector convention ``S_t = G_t ⊙ S_{t-1} + v_t k_tᵀ`` (``S_t`` is ``(d_v, d_k)``: rows are
value channels, columns are key channels).

Translating the poster's row-vector table
-----------------------------------------
The poster (like the GLA paper) writes row vectors ``x_t W`` and a ``(d_k, d_v)`` state
``S_t = G_t ⊙ S_{t-1} + k_tᵀ v_t``, ``o_t = q_t S_t``. That state is the transpose of ours, so
every table entry ``G_t`` is transposed here (poster → this module):

* Mamba-2: ``G_t = γ_t 1ᵀ1``, ``γ_t = exp(−softplus(x_t W_γ) e^{a})`` → scalar, ``(…, T, 1, 1)``.
* mLSTM: ``γ_t = σ(x_t W_γ)`` → scalar.
* Gated Retention: ``γ_t = σ(x_t W_γ)^{1/τ}`` → scalar.
* GLA: ``G_t = α_tᵀ1``, ``α_t = σ(x_t W_{α1} W_{α2})^{1/τ}`` → key-wise ``1 α_tᵀ``, ``(…, T, 1, d_k)``.
* RWKV-6: ``G_t = α_tᵀ1``, ``α_t = exp(−exp(x_t W_α))`` → key-wise.
* HGRN-2: ``G_t = α_tᵀ1``, ``α_t = γ + (1−γ) σ(x_t W_α)`` → key-wise.
* GateLoop: ``G_t = α_tᵀ1``, ``α_t = σ(x_t W_{α1}) e^{i x_t W_{α2}}`` → key-wise, real part or
  magnitude (below).
* DFW: ``G_t = α_tᵀ β_t``, ``α_t = σ(x_t W_α)``, ``β_t = σ(x_t W_β)`` → outer product
  ``β_t α_tᵀ``, ``(…, T, d_v, d_k)``.
* Mamba: ``G_t = exp(−(1ᵀα_t) ⊙ exp(A))``, ``α_t = softplus(x_t W_{α1} W_{α2})`` →
  ``exp(−α_t 1ᵀ ⊙ exp(A))`` with ``α_t ∈ R^{d_v}`` and ``A`` of shape ``(d_v, d_k)`` (the
  poster's ``A`` transposed), ``(…, T, d_v, d_k)``.

Here ``x_t`` is the token embedding ``z_t`` (a row of ``Z``), so ``x_t W`` is ``Z @ W``. In the
poster's ``α_tᵀ 1`` the gate vector indexes *keys* (rows of its ``d_k × d_v`` state); Mamba's
``Δ_t = α_t`` indexes *value channels* ("per-channel"); DFW's ``α`` gates keys and ``β`` values.
(The poster prints DFW as ``α_t β_tᵀ``, which for row vectors would be a scalar; the outer product
``α_tᵀ β_t`` of the GLA paper is meant.)

GateLoop's gate is complex, ``α_t = σ(x_t W_{α1}) e^{i x_t W_{α2}}``. A real GLA can carry either
its magnitude ``σ(x_t W_{α1})`` (the decay envelope, in ``[0, 1]``; family ``"gateloop_magnitude"``)
or its real part ``σ(x_t W_{α1}) cos(x_t W_{α2})`` (in ``[−1, 1]``; ``"gateloop_real"``). Neither
reproduces GateLoop's output exactly: the real part of a product of complex gates is not the
product of their real parts, while the magnitude of the product *is* the product of magnitudes —
so ``"gateloop_magnitude"`` gives exactly ``|Ω|`` of the complex model.

In Theorem 1 only the last row of ``G_t`` (the label's value channel), restricted to the first
``d`` key columns, enters ``Ω``: value-wise factors (Mamba's ``α_t``, DFW's ``β_t``) contribute only
through their last coordinate.

The registry :data:`GATE_FAMILIES` maps a name to a :class:`GateFamily`, which is callable like the
underlying function and also knows its parameter shapes, valid range and how to draw parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit

from ..core.validation import as_real_array, namespace_of
from .theorem1 import induced_weights

__all__ = [
    "GateFamily",
    "GATE_FAMILIES",
    "mamba_gate",
    "mamba2_gate",
    "mlstm_gate",
    "gated_retention_gate",
    "gla_gate",
    "rwkv6_gate",
    "hgrn2_gate",
    "gateloop_gate",
    "dfw_gate",
]


# --------------------------------------------------------------------------- helpers

def _tokens(Z):
    if namespace_of(Z) is not np:           # JAX arrays (training): validated by the caller
        return Z
    Z = as_real_array(Z, "Z")
    if Z.ndim < 2:
        raise ValueError(f"Z must have shape (..., T, D), got shape {Z.shape}")
    if Z.shape[-2] == 0:
        raise ValueError("Z has no tokens (T = 0)")
    return Z


def _matrix(W, name, rows, cols=None, rows_are="D, the token width of Z"):
    """Validate a projection of shape ``(rows, cols)`` (``cols=None``: any); return it as float."""
    if namespace_of(W) is not np:
        return W
    W = as_real_array(W, name)
    if W.ndim != 2 or W.shape[0] != rows or (cols is not None and W.shape[1] != cols):
        expected = f"({rows}, {'k' if cols is None else cols})"
        raise ValueError(f"{name} must have shape {expected} (rows = {rows_are}), "
                         f"got shape {W.shape}")
    return W


def _vector(w, name, length):
    if namespace_of(w) is not np:
        return w
    w = as_real_array(w, name)
    if w.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},) (D, the token width of Z), "
                         f"got shape {w.shape}")
    return w


def _scalar(value, name, *, positive=False):
    value = as_real_array(value, name)
    if value.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {value.shape}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {float(value)}")
    return float(value)


def _softplus(a):
    return namespace_of(a).logaddexp(0.0, a)


def _sigmoid(a):
    """``expit`` on NumPy arrays, ``jax.nn.sigmoid`` on JAX arrays."""
    if namespace_of(a) is np:
        return expit(a)
    import jax
    return jax.nn.sigmoid(a)


def _exp(a):
    return namespace_of(a).exp(a)


def _scalar_gate(gamma):
    return gamma[..., None, None]


def _keywise_gate(alpha):
    return alpha[..., None, :]


# --------------------------------------------------------------------------- the families

def mamba2_gate(Z, W_gamma, a):
    """Mamba-2: scalar ``γ_t = exp(−softplus(z_tᵀ W_γ) e^{a})``, ``G_t = γ_t 11ᵀ``.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_gamma : array_like, shape (D,)
    a : float
        Log of the (negated) state decay rate ``−A = e^{a}``.

    Returns
    -------
    ndarray, shape (..., T, 1, 1), values in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> mamba2_gate(np.zeros((1, 2)), np.ones(2), a=0.0)[..., 0, 0]       # exp(−log 2)
    array([0.5])
    """
    Z = _tokens(Z)
    W_gamma = _vector(W_gamma, "W_gamma", Z.shape[-1])
    a = _scalar(a, "a")
    return _scalar_gate(_exp(-_softplus(Z @ W_gamma) * np.exp(a)))


def mlstm_gate(Z, W_gamma):
    """mLSTM forget gate: scalar ``γ_t = σ(z_tᵀ W_γ)``, ``G_t = γ_t 11ᵀ``.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_gamma : array_like, shape (D,)

    Returns
    -------
    ndarray, shape (..., T, 1, 1), values in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> mlstm_gate(np.zeros((1, 3)), np.ones(3))[..., 0, 0]
    array([0.5])
    """
    Z = _tokens(Z)
    return _scalar_gate(_sigmoid(Z @ _vector(W_gamma, "W_gamma", Z.shape[-1])))


def gated_retention_gate(Z, W_gamma, tau):
    """Gated Retention: scalar ``γ_t = σ(z_tᵀ W_γ)^{1/τ}``, ``G_t = γ_t 11ᵀ``.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_gamma : array_like, shape (D,)
    tau : float, positive
        Temperature; larger ``τ`` pushes gates towards 1.

    Returns
    -------
    ndarray, shape (..., T, 1, 1), values in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> gated_retention_gate(np.zeros((1, 3)), np.ones(3), tau=0.5)[..., 0, 0]
    array([0.25])
    """
    Z = _tokens(Z)
    tau = _scalar(tau, "tau", positive=True)
    return _scalar_gate(_sigmoid(Z @ _vector(W_gamma, "W_gamma", Z.shape[-1])) ** (1.0 / tau))


def gla_gate(Z, W_alpha1, W_alpha2, tau):
    """GLA (Yang et al.): key-wise ``α_t = σ(z_tᵀ W_{α1} W_{α2})^{1/τ}``, ``G_t = 1 α_tᵀ``.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_alpha1 : array_like, shape (D, r)
        Low-rank down projection.
    W_alpha2 : array_like, shape (r, d_k)
    tau : float, positive
        Temperature (16 in the GLA paper).

    Returns
    -------
    ndarray, shape (..., T, 1, d_k), values in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> gla_gate(np.zeros((1, 2)), np.ones((2, 1)), np.ones((1, 3)), tau=1.0)
    array([[[0.5, 0.5, 0.5]]])
    """
    Z = _tokens(Z)
    W_alpha1 = _matrix(W_alpha1, "W_alpha1", Z.shape[-1])
    W_alpha2 = _matrix(W_alpha2, "W_alpha2", W_alpha1.shape[1], rows_are="columns of W_alpha1")
    tau = _scalar(tau, "tau", positive=True)
    return _keywise_gate(_sigmoid(Z @ W_alpha1 @ W_alpha2) ** (1.0 / tau))


def rwkv6_gate(Z, W_alpha):
    """RWKV-6: key-wise ``α_t = exp(−exp(z_tᵀ W_α))``, ``G_t = 1 α_tᵀ``.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_alpha : array_like, shape (D, d_k)

    Returns
    -------
    ndarray, shape (..., T, 1, d_k), values in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> rwkv6_gate(np.zeros((1, 2)), np.ones((2, 2)))
    array([[[0.36787944, 0.36787944]]])
    """
    Z = _tokens(Z)
    with np.errstate(over="ignore"):        # exp(−exp(large)) = exp(−inf) = 0 exactly
        return _keywise_gate(_exp(-_exp(Z @ _matrix(W_alpha, "W_alpha", Z.shape[-1]))))


def hgrn2_gate(Z, W_alpha, gamma):
    """HGRN-2: key-wise ``α_t = γ + (1 − γ) σ(z_tᵀ W_α)`` with lower bound ``γ ∈ [0, 1)``.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_alpha : array_like, shape (D, d_k)
    gamma : float or array_like, shape (d_k,)
        Forget-gate lower bound(s), each in ``[0, 1)``.

    Returns
    -------
    ndarray, shape (..., T, 1, d_k), values in [γ, 1]

    Examples
    --------
    >>> import numpy as np
    >>> hgrn2_gate(np.zeros((1, 2)), np.ones((2, 2)), gamma=np.array([0.0, 0.5]))
    array([[[0.5 , 0.75]]])
    """
    Z = _tokens(Z)
    W_alpha = _matrix(W_alpha, "W_alpha", Z.shape[-1])
    gamma = as_real_array(gamma, "gamma")
    if gamma.shape not in ((), (W_alpha.shape[1],)):
        raise ValueError(f"gamma must be a scalar or have shape ({W_alpha.shape[1]},), "
                         f"got shape {gamma.shape}")
    if np.any((gamma < 0) | (gamma >= 1)):
        raise ValueError(f"gamma (the forget-gate lower bound) must lie in [0, 1), got {gamma}")
    return _keywise_gate(gamma + (1.0 - gamma) * _sigmoid(Z @ W_alpha))


def gateloop_gate(Z, W_alpha1, W_alpha2, part="magnitude"):
    """GateLoop: key-wise complex ``α_t = σ(z_tᵀ W_{α1}) e^{i z_tᵀ W_{α2}}``, made real.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_alpha1, W_alpha2 : array_like, shape (D, d_k)
        Magnitude and phase projections.
    part : {"magnitude", "real"}
        ``"magnitude"`` keeps ``|α_t| = σ(z_tᵀ W_{α1})`` (in [0, 1]); ``"real"`` keeps
        ``Re α_t = σ(z_tᵀ W_{α1}) cos(z_tᵀ W_{α2})`` (in [−1, 1]). See the module notes.

    Returns
    -------
    ndarray, shape (..., T, 1, d_k)

    Examples
    --------
    >>> import numpy as np
    >>> Z, W1, W2 = np.ones((1, 1)), np.zeros((1, 1)), np.full((1, 1), np.pi)
    >>> gateloop_gate(Z, W1, W2, part="magnitude"), gateloop_gate(Z, W1, W2, part="real")
    (array([[[0.5]]]), array([[[-0.5]]]))
    """
    Z = _tokens(Z)
    W_alpha1 = _matrix(W_alpha1, "W_alpha1", Z.shape[-1])
    W_alpha2 = _matrix(W_alpha2, "W_alpha2", Z.shape[-1], W_alpha1.shape[1],
                       rows_are="D; columns must match W_alpha1")
    magnitude = _sigmoid(Z @ W_alpha1)
    if part == "magnitude":
        return _keywise_gate(magnitude)
    if part == "real":
        return _keywise_gate(magnitude * namespace_of(W_alpha2).cos(Z @ W_alpha2))
    raise ValueError(f"part must be 'magnitude' or 'real', got {part!r}")


def dfw_gate(Z, W_alpha, W_beta):
    """DFW: outer-product gate ``G_t = β_t α_tᵀ``, ``α_t = σ(z_tᵀ W_α)``, ``β_t = σ(z_tᵀ W_β)``.

    ``α_t`` gates keys, ``β_t`` gates values (the poster's ``α_tᵀ β_t``, transposed).

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_alpha : array_like, shape (D, d_k)
    W_beta : array_like, shape (D, d_v)

    Returns
    -------
    ndarray, shape (..., T, d_v, d_k), values in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> dfw_gate(np.zeros((1, 1)), np.ones((1, 2)), np.ones((1, 1)))
    array([[[0.25, 0.25]]])
    """
    Z = _tokens(Z)
    alpha = _sigmoid(Z @ _matrix(W_alpha, "W_alpha", Z.shape[-1]))
    beta = _sigmoid(Z @ _matrix(W_beta, "W_beta", Z.shape[-1]))
    return beta[..., :, None] * alpha[..., None, :]


def mamba_gate(Z, W_alpha1, W_alpha2, A):
    """Mamba (S6), per-channel: ``G_t = exp(−α_t 1ᵀ ⊙ exp(A))``, ``α_t = softplus(z_tᵀ W_{α1} W_{α2})``.

    ``α_t ∈ R^{d_v}`` is the per-channel step size ``Δ_t``; ``exp(A)`` (``A`` of shape
    ``(d_v, d_k)``) is the negated state matrix, so ``G_t[a, b] = exp(−Δ_t[a] e^{A[a, b]})``.

    Parameters
    ----------
    Z : array_like, shape (..., T, D)
    W_alpha1 : array_like, shape (D, r)
    W_alpha2 : array_like, shape (r, d_v)
    A : array_like, shape (d_v, d_k)

    Returns
    -------
    ndarray, shape (..., T, d_v, d_k), values in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> G = mamba_gate(np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)), np.zeros((1, 2)))
    >>> G                                                  # exp(−softplus(0)) = 1/2
    array([[[0.5, 0.5]]])
    """
    Z = _tokens(Z)
    W_alpha1 = _matrix(W_alpha1, "W_alpha1", Z.shape[-1])
    W_alpha2 = _matrix(W_alpha2, "W_alpha2", W_alpha1.shape[1], rows_are="columns of W_alpha1")
    A = _matrix(A, "A", W_alpha2.shape[1], rows_are="d_v, the columns of W_alpha2")
    step = _softplus(Z @ W_alpha1 @ W_alpha2)
    with np.errstate(over="ignore"):
        return _exp(-step[..., :, None] * _exp(A))


# --------------------------------------------------------------------------- the registry

@dataclass(frozen=True)
class GateFamily:
    """A gate family: its function, parameter shapes and valid gate range.

    Calling the family calls ``function(Z, **parameters)`` and checks the result lies in
    ``[low, high]``.

    Attributes
    ----------
    name : str
    function : callable
        ``(Z, **parameters) -> G``.
    structure : str
        ``"scalar"``, ``"key-wise"``, ``"outer"`` (value ⊗ key) or ``"per-channel"``.
    low, high : float
        Valid range of the gate entries.
    reference : str
        Where the parameterisation comes from.
    shapes : callable
        ``(D, d_k, d_v, rank) -> {parameter: shape}`` for the array parameters.
    hyper : callable
        ``rng -> {parameter: value}`` drawing the non-array hyperparameters (may be empty).
    """

    name: str
    function: Callable
    structure: str
    low: float
    high: float
    reference: str
    shapes: Callable
    hyper: Callable = lambda rng: {}

    def __call__(self, Z, **parameters):
        return self.check(self.function(Z, **parameters))

    def check(self, gates):
        """Return ``gates`` as a float array if all entries lie in ``[low, high]``; else raise.

        Examples
        --------
        >>> GATE_FAMILIES["mlstm"].check([[[1.5]]])
        Traceback (most recent call last):
        ...
        ValueError: gates of family 'mlstm' must lie in [0.0, 1.0], found values in [1.5, 1.5]
        """
        gates = as_real_array(gates, "gates")
        if gates.size and (gates.min() < self.low or gates.max() > self.high):
            raise ValueError(
                f"gates of family {self.name!r} must lie in [{self.low}, {self.high}], found values "
                f"in [{gates.min()}, {gates.max()}]")
        return gates

    def random_parameters(self, rng, D, d_k, d_v, *, rank=2, scale=1.0):
        """Draw parameters: Gaussian arrays with standard deviation ``scale``, plus hyperparameters.

        Large ``scale`` saturates gates towards exactly 0 and 1.

        Examples
        --------
        >>> import numpy as np
        >>> params = GATE_FAMILIES["gla"].random_parameters(np.random.default_rng(0), 3, 3, 3)
        >>> sorted(params), params["W_alpha1"].shape
        (['W_alpha1', 'W_alpha2', 'tau'], (3, 2))
        """
        parameters = {name: scale * rng.standard_normal(shape)
                      for name, shape in self.shapes(D, d_k, d_v, rank).items()}
        parameters.update(self.hyper(rng))
        return parameters

    def prompt_weights(self, Z, **parameters):
        """The Theorem 1 weights ``Ω`` this family induces on a prompt ``Z`` of width ``d + 1``.

        Examples
        --------
        >>> import numpy as np
        >>> Z = np.zeros((3, 2))                                 # n = 2, d = 1
        >>> GATE_FAMILIES["mlstm"].prompt_weights(Z, W_gamma=np.ones(2))
        array([[0.25],
               [0.5 ]])
        """
        return induced_weights(self(Z, **parameters), np.shape(Z)[-1] - 1)


def _uniform(name, low, high):
    return lambda rng: {name: float(rng.uniform(low, high))}


GATE_FAMILIES: dict[str, GateFamily] = {family.name: family for family in [
    GateFamily("mamba", mamba_gate, "per-channel", 0.0, 1.0, "Gu & Dao, 2023",
               lambda D, dk, dv, r: {"W_alpha1": (D, r), "W_alpha2": (r, dv), "A": (dv, dk)}),
    GateFamily("mamba2", mamba2_gate, "scalar", 0.0, 1.0, "Dao & Gu, 2024",
               lambda D, dk, dv, r: {"W_gamma": (D,)}, _uniform("a", -2.0, 1.0)),
    GateFamily("mlstm", mlstm_gate, "scalar", 0.0, 1.0, "Beck et al., 2024; Peng et al., 2021",
               lambda D, dk, dv, r: {"W_gamma": (D,)}),
    GateFamily("gated_retention", gated_retention_gate, "scalar", 0.0, 1.0, "Sun et al., 2024",
               lambda D, dk, dv, r: {"W_gamma": (D,)}, _uniform("tau", 0.25, 4.0)),
    GateFamily("dfw", dfw_gate, "outer", 0.0, 1.0, "Mao, 2022; Pramanik et al., 2023",
               lambda D, dk, dv, r: {"W_alpha": (D, dk), "W_beta": (D, dv)}),
    GateFamily("gateloop_magnitude", lambda Z, W_alpha1, W_alpha2: gateloop_gate(
        Z, W_alpha1, W_alpha2, part="magnitude"), "key-wise", 0.0, 1.0, "Katsch, 2023",
               lambda D, dk, dv, r: {"W_alpha1": (D, dk), "W_alpha2": (D, dk)}),
    GateFamily("gateloop_real", lambda Z, W_alpha1, W_alpha2: gateloop_gate(
        Z, W_alpha1, W_alpha2, part="real"), "key-wise", -1.0, 1.0, "Katsch, 2023",
               lambda D, dk, dv, r: {"W_alpha1": (D, dk), "W_alpha2": (D, dk)}),
    GateFamily("hgrn2", hgrn2_gate, "key-wise", 0.0, 1.0, "Qin et al., 2024b",
               lambda D, dk, dv, r: {"W_alpha": (D, dk)}, _uniform("gamma", 0.0, 0.9)),
    GateFamily("rwkv6", rwkv6_gate, "key-wise", 0.0, 1.0, "Peng et al., 2024",
               lambda D, dk, dv, r: {"W_alpha": (D, dk)}),
    GateFamily("gla", gla_gate, "key-wise", 0.0, 1.0, "Yang et al., 2024",
               lambda D, dk, dv, r: {"W_alpha1": (D, r), "W_alpha2": (r, dk)},
               _uniform("tau", 0.25, 4.0)),
]}
"""Every gate family of the poster's table, by name (GateLoop twice: magnitude and real part)."""
