"""Cross-check against flash-linear-attention's reference GLA recurrence.

``naive_recurrent_gla`` below re-implements, line for line in NumPy, the PyTorch reference in
repository ``fla-org/flash-linear-attention``, file ``fla/ops/gla/naive.py`` (read at commit
0315a70ea55304398ad372e56cdd211ce0119571, identical in the fla-core 0.6.0 release). Only torch
idioms are translated, keeping fla's precision: ``x.transpose(1, 2).float()`` →
``np.swapaxes(x, 1, 2).astype(np.float32)`` (fla computes in float32 whatever the input dtype),
``q.new_zeros(..., dtype=torch.float32)`` → ``np.zeros(..., np.float32)``, ``o.to(dtype)`` →
``o.astype(dtype)`` (outputs go back to the input dtype, the state stays float32). NumPy ≥ 2
keeps ``float32 * python float`` in float32, as torch does. ``tests/test_fla_real.py`` runs the
package itself when ``torch`` and ``fla`` are installed.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wpgd_theory.gla.fla_adapter import fla_scale, from_fla, to_fla
from wpgd_theory.gla.forward import gla_forward, gla_recurrence
from wpgd_theory.gla.gates import GATE_FAMILIES

# fla's float32 against our float64. Inputs are rounded to float32 (relative u = 2⁻²⁴ each), the
# gates pass through log and exp (relative error ≤ (1 + |log g|)·u per gate, and g·|log g| ≤ 1/e
# keeps the absolute error of a gate product ≤ (T + 1)·u), then each output sums T·d_k products of
# at most T + 3 float32 factors. With T ≤ 6 and d_k ≤ 4 that is at most ~40 round-offs per term,
# so 2⁻¹⁶ = 256·u relative to the l1 mass of the terms (``l1_mass``) leaves a factor ≥ 6 of room
# while staying ~10⁵ times below any convention error (a wrong scale, transpose or gate index is an
# O(1) relative change).
FLOAT32_RTOL = 2.0**-16


def l1_mass(q, k, v, gates):
    """``Σ |q| |k| |v| G``: the output of the recurrence on absolute values (no cancellation)."""
    return gla_recurrence(np.abs(q), np.abs(k), np.abs(v), gates)


def naive_recurrent_gla(q, k, v, gk, initial_state=None, output_final_state=False):
    """fla/ops/gla/naive.py::naive_recurrent_gla, in NumPy. Inputs (B, T, H, ·)."""
    dtype = q.dtype
    q, k, v, gk = (np.swapaxes(x, 1, 2).astype(np.float32) for x in (q, k, v, gk))
    B, H, T, K, V = *q.shape, v.shape[-1]
    o = np.zeros_like(v)
    scale = K ** -0.5

    h = np.zeros((B, H, K, V), dtype=np.float32)
    if initial_state is not None:
        h += initial_state.astype(np.float32)

    for i in range(T):
        q_i = q[:, :, i] * scale
        k_i = k[:, :, i]
        v_i = v[:, :, i]
        gk_i = np.exp(gk[:, :, i])
        kv_i = k_i[..., None] * v_i[..., None, :]
        h = h * gk_i[..., None] + kv_i
        o[:, :, i] = (q_i[..., None] * h).sum(-2)

    if not output_final_state:
        h = None
    return np.swapaxes(o, 1, 2).astype(dtype), h


@st.composite
def keywise_inputs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    B, H, T = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 6))
    d_k, d_v = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    q, k = rng.standard_normal((2, B, H, T, d_k))
    v = rng.standard_normal((B, H, T, d_v))
    gate_shape = (B, H, T, 1, draw(st.sampled_from([1, d_k])))      # scalar or key-wise
    gates = np.where(rng.uniform(size=gate_shape) < 0.2, rng.choice([0.0, 1.0], size=gate_shape),
                     rng.uniform(size=gate_shape))
    return q, k, v, gates


@given(keywise_inputs())
def test_our_recurrence_agrees_with_fla_reference(inputs):
    q, k, v, gates = inputs
    ours, state = gla_recurrence(q, k, v, gates, return_state=True)
    o_fla, h_fla = naive_recurrent_gla(*to_fla(q, k, v, gates), output_final_state=True)
    theirs, their_state = from_fla(o_fla, h_fla)
    assert o_fla.dtype == np.float64 and h_fla.dtype == np.float32       # fla's dtypes
    assert np.all(np.abs(ours - theirs) <= FLOAT32_RTOL * l1_mass(q, k, v, gates))
    state_mass = gla_recurrence(np.ones_like(q), np.abs(k), np.abs(v), gates, return_state=True)[1]
    assert np.all(np.abs(their_state - state) <= FLOAT32_RTOL * state_mass)


def test_fla_state_is_our_state_transposed_and_scale_is_explicit():
    # Without the adapter's q/scale, fla's output is ours times d_k^{-1/2}; its state is Sᵀ.
    rng = np.random.default_rng(0)
    B, H, T, d_k, d_v = 1, 2, 5, 4, 3
    q, k = rng.standard_normal((2, B, H, T, d_k))
    v = rng.standard_normal((B, H, T, d_v))
    alpha = rng.uniform(0.5, 1.0, size=(B, H, T, d_k))
    ours, state = gla_recurrence(q, k, v, alpha[..., None, :], return_state=True)
    swap = lambda a: np.swapaxes(a, 1, 2)                             # noqa: E731
    o_fla, h_fla = naive_recurrent_gla(swap(q), swap(k), swap(v), swap(np.log(alpha)),
                                       output_final_state=True)
    np.testing.assert_allclose(swap(o_fla), fla_scale(d_k) * ours, rtol=FLOAT32_RTOL,
                               atol=FLOAT32_RTOL * np.abs(ours).max())
    np.testing.assert_allclose(np.swapaxes(h_fla, -1, -2), state, rtol=FLOAT32_RTOL)


def assert_key_wise_families_match(reference):
    """A GLA layer with each key-wise gate family equals ``reference`` (fla's layout, returning
    ``(outputs, state)``) through the adapter, to the float32 tolerance."""
    rng = np.random.default_rng(1)
    T, D, d_k, d_v = 6, 4, 3, 2
    Z = rng.standard_normal((1, 1, T, D))
    W_q, W_k = rng.standard_normal((2, D, d_k))
    W_v = rng.standard_normal((D, d_v))
    for name in ("gla", "rwkv6", "hgrn2", "mlstm", "mamba2", "gateloop_magnitude"):
        family = GATE_FAMILIES[name]
        gates = family(Z, **family.random_parameters(rng, D, d_k, d_v))
        ours = gla_forward(Z, W_q, W_k, W_v, gates)
        theirs = from_fla(reference(*to_fla(Z @ W_q, Z @ W_k, Z @ W_v, gates))[0])
        mass = l1_mass(Z @ W_q, Z @ W_k, Z @ W_v, gates)
        assert np.all(np.abs(theirs - ours) <= FLOAT32_RTOL * mass), name


def test_gate_families_run_through_fla_when_key_wise():
    # A GLA layer (the GLA family's data-dependent key-wise gates) through fla's reference.
    assert_key_wise_families_match(naive_recurrent_gla)


def test_adapter_rejects_what_fla_cannot_express():
    q = k = np.ones((1, 1, 3, 2))
    v = np.ones((1, 1, 3, 2))
    with pytest.raises(ValueError, match="gates vary along the value axis"):
        to_fla(q, k, v, np.array([[0.5, 0.5], [0.2, 0.2]]))          # (d_v, d_k) rows differ
    with pytest.raises(ValueError, match="gates must be non-negative"):
        to_fla(q, k, v, -0.5)
    with pytest.raises(ValueError, match=r"queries must have shape \(B, H, T, d_k\)"):
        to_fla(np.ones((3, 2)), k, v, 1.0)
    with pytest.raises(ValueError, match="T = 0"):
        to_fla(np.ones((1, 1, 0, 2)), np.ones((1, 1, 0, 2)), np.ones((1, 1, 0, 2)), 1.0)
    with pytest.raises(ValueError, match="gates contains NaN"):
        to_fla(q, k, v, np.nan)
    with pytest.raises(ValueError, match=r"outputs must have fla's shape \(B, T, H, d_v\)"):
        from_fla(np.ones((3, 2)))
