"""Our GLA against the real flash-linear-attention package (opt-in: needs ``torch`` and ``fla``).

Skipped unless ``torch`` and ``fla.ops.gla.naive`` import; neither is in any extra of this
project (a CPU torch plus ``fla-core`` is ~1 GB). To run it::

    pip install torch==2.13.0            # the CPU wheel; never let pip pick a CUDA build
    pip install fla-core==0.6.0 einops triton   # fla.ops imports triton even on the CPU
    pytest -q tests/test_fla_real.py

fla's ``naive_recurrent_gla`` computes in float32 (``.float()``) and returns outputs in the input
dtype and the state in float32, so the comparison with our float64 recurrence uses the float32
tolerance derived in ``tests/test_fla.py`` (``FLOAT32_RTOL = 2⁻¹⁶`` relative to the l1 mass of the
summed terms).
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from test_fla import FLOAT32_RTOL, assert_key_wise_families_match, keywise_inputs, l1_mass

from wpgd_theory.gla.fla_adapter import from_fla, to_fla
from wpgd_theory.gla.forward import gla_recurrence

torch = pytest.importorskip("torch")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")          # "Triton is not supported on current platform"
    naive = pytest.importorskip("fla.ops.gla.naive")


def run_fla(q, k, v, gk, dtype=torch.float64):
    """fla's reference on NumPy inputs (fla's layout); outputs and state back as NumPy."""
    tensors = [torch.from_numpy(np.ascontiguousarray(a)).to(dtype) for a in (q, k, v, gk)]
    o, h = naive.naive_recurrent_gla(*tensors, output_final_state=True)
    return o.numpy(), h.numpy()


@settings(max_examples=25)
@given(keywise_inputs())
def test_our_recurrence_agrees_with_real_fla(inputs):
    q, k, v, gates = inputs
    ours, state = gla_recurrence(q, k, v, gates, return_state=True)
    o_fla, h_fla = run_fla(*to_fla(q, k, v, gates))
    assert o_fla.dtype == np.float64 and h_fla.dtype == np.float32     # computed in float32
    theirs, their_state = from_fla(o_fla, h_fla)
    assert np.all(np.abs(theirs - ours) <= FLOAT32_RTOL * l1_mass(q, k, v, gates))
    state_mass = gla_recurrence(np.ones_like(q), np.abs(k), np.abs(v), gates,
                                return_state=True)[1]
    assert np.all(np.abs(their_state - state) <= FLOAT32_RTOL * state_mass)


def test_real_fla_is_float32_not_float64():
    # The agreement is at float32 round-off, not better: fla's reference casts with .float().
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 2, 3, 16, 4))
    v = rng.standard_normal((2, 3, 16, 5))
    gates = rng.uniform(0.5, 1.0, size=(2, 3, 16, 1, 4))
    ours = gla_recurrence(q, k, v, gates)
    theirs = from_fla(run_fla(*to_fla(q, k, v, gates))[0])
    relative = np.max(np.abs(theirs - ours) / l1_mass(q, k, v, gates))
    assert 1e-12 < relative < FLOAT32_RTOL
    print(f"max |fla - ours| / l1 mass = {relative:.2e}, max |fla - ours| = "
          f"{np.max(np.abs(theirs - ours)):.2e}")


def test_gate_families_through_real_fla():
    assert_key_wise_families_match(run_fla)
