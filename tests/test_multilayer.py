"""Tests of ``wpgd_theory.gla.multilayer``: multi-layer GLA ⇔ coupled multi-step WPGD (Theorem 6).

Equalities between the network and the algorithm are asserted to 1e-10 relative to the trajectory
scale (both routes are short floating-point sums; observed differences are ~1e-16). Every
"the check can fail" test below shows a specific bug (gate offset, sign, transpose) moves the
residual above 1e-3, so the 1e-10 comparison would catch it.
"""
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs_checks.check_theorem6 import (
    GATE_FAMILIES,
    TOLERANCE,
    check_theorem6,
    instances,
    random_instance,
)
from wpgd_theory.core.predictor import dwpgd_predict
from wpgd_theory.gla.gates import GATE_FAMILIES as REGISTRY
from wpgd_theory.gla.multilayer import (
    multilayer_construction,
    multilayer_gla,
    multilayer_wpgd,
    multistep_wpgd,
)
from wpgd_theory.gla.theorem1 import induced_weights, theorem1_prompt


def _instance(seed=0, n=5, d=3, layers=3, family="vector (key-wise)"):
    return random_instance(np.random.default_rng(seed), n=n, d=d, layers=layers, family=family)


def _forward(inst, *, causal=True, gates="instance"):
    gates = inst.gates if gates == "instance" else gates
    return multilayer_gla(theorem1_prompt(inst.x, inst.X, inst.y),
                          multilayer_construction(inst.P_k, inst.P_q), gates,
                          causal=causal, return_all=True)


# ---------------------------------------------------------------- network = algorithm

@pytest.mark.parametrize("family", [name for name in GATE_FAMILIES if name not in REGISTRY])
@pytest.mark.parametrize("layers", [1, 2, 3, 4])
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "prefix"])
def test_every_family_and_depth(family, layers, causal):
    outcome = check_theorem6(_instance(seed=layers, layers=layers, family=family), causal=causal)
    assert outcome.passed and outcome.residual < TOLERANCE, outcome.details


@given(instances(max_layers=1))
def test_one_layer_is_theorem_1(inst):
    """L = 1, causal: both routes give Theorem 1's ``ŷ = xᵀ P_q (X P_k ⊙ Ω)ᵀ y``,
    ``Ω_j = g_{j+1} ⊙ … ⊙ g_{n+1}`` (:func:`wpgd_theory.gla.dwpgd_predict`, a third route)."""
    d = inst.X.shape[1]
    Z = theorem1_prompt(inst.x, inst.X, inst.y)
    gates = inst.gates[0](Z) if callable(inst.gates[0]) else inst.gates[0]
    omega = induced_weights(np.broadcast_to(gates, Z.shape[:1] + (d + 1, d + 1)), d)
    theorem1 = dwpgd_predict(inst.x, inst.X, inst.y, inst.P_q[0], inst.P_k[0], omega)
    network = -_forward(inst)[-1, -1, d]
    algorithm = multilayer_wpgd(inst.x, inst.X, inst.y, inst.P_q, inst.P_k, inst.gates)
    for value in (network, algorithm.query_prediction):
        assert abs(value - theorem1) <= TOLERANCE * max(1.0, abs(theorem1))


@given(instances(families=["scalar"]))
def test_prefix_scalar_gating_is_multistep_wpgd(inst):
    """Prefix mode, ``G_t = γ_t 11ᵀ``: WPGD with ``ω_{ℓ,j} = γ_{j+1} ⋯ γ_n`` at every step."""
    n = len(inst.y)
    gammas = np.array([g[:n, 0, 0] for g in inst.gates])                   # (L, n)
    omega = np.array([[np.prod(row[j + 1:]) for j in range(n)] for row in gammas])
    betas = multistep_wpgd(inst.X, inst.y, inst.P_q @ inst.P_k.transpose(0, 2, 1), omega)
    result = multilayer_wpgd(inst.x, inst.X, inst.y, inst.P_q, inst.P_k, inst.gates, causal=False)
    scale = np.max(np.abs(betas))
    shared = np.broadcast_to(betas[:, None], result.iterates.shape)   # every position alike
    np.testing.assert_allclose(result.iterates, shared, rtol=0, atol=TOLERANCE * scale)


# ---------------------------------------------------------------- causal vs prefix

def test_causal_and_prefix_agree_after_one_layer_only():
    inst = _instance(seed=3, layers=3, family="linear attention (G = 1)")
    causal = multilayer_wpgd(inst.x, inst.X, inst.y, inst.P_q, inst.P_k).predictions[:, -1]
    prefix = multilayer_wpgd(inst.x, inst.X, inst.y, inst.P_q, inst.P_k, causal=False)
    prefix = prefix.predictions[:, -1]
    assert abs(causal[1] - prefix[1]) <= TOLERANCE * abs(prefix[1])
    assert np.all(np.abs(causal[2:] - prefix[2:]) > 1e-3 * np.abs(prefix[2:]))


@given(instances(families=["linear attention (G = 1)"]))
def test_first_token_runs_pgd_on_its_own_sample(inst):
    """Causal, ``G ≡ 1``: position 1 sees only ``(x_1, y_1)``: β_1 follows PGD on that sample."""
    result = multilayer_wpgd(inst.x, inst.X, inst.y, inst.P_q, inst.P_k)
    betas = multistep_wpgd(inst.X[:1], inst.y[:1], inst.P_q @ inst.P_k.transpose(0, 2, 1))
    np.testing.assert_allclose(result.iterates[:, 0], betas, rtol=0,
                               atol=TOLERANCE * max(1.0, np.max(np.abs(betas))))


@given(instances(max_n=6), st.integers(0, 5))
def test_causal_mask(inst, cut):
    """Perturbing tokens after position ``cut`` leaves every earlier label slot unchanged."""
    n = len(inst.y)
    cut = min(cut, n - 1)
    perturbed = replace(inst, X=inst.X.copy(), y=inst.y.copy(), x=inst.x + 1.0)
    perturbed.X[cut + 1:] += 1.0
    perturbed.y[cut + 1:] -= 2.0
    before, after = _forward(inst), _forward(perturbed)
    np.testing.assert_array_equal(before[:, :cut + 1], after[:, :cut + 1])


def test_query_self_term_from_layer_two():
    """The query's own slot ``−ŷ`` enters its update with weight 1 (label 0): shrinkage by
    ``1 − xᵀ P x``. One context token, ``G ≡ 1``, ``P = p``: β_1 ← β_1 + p x_1 (y_1 − x_1 β_1),
    ŷ ← ŷ + p x x_1 (y_1 − x_1 β_1) − p x² ŷ.
    """
    X, y, x, p = np.array([[2.0]]), np.array([1.0]), np.array([3.0]), 0.1
    result = multilayer_wpgd(x, X, y, [[[1.0]]] * 2, [[[p]]] * 2)
    r1 = 1.0 - 2.0 * (p * 2.0 * 1.0)                       # y_1 − x_1 β_1 after layer 1
    yhat1 = p * 3.0 * 2.0 * 1.0
    yhat2 = yhat1 + p * 3.0 * 2.0 * r1 - p * 9.0 * yhat1
    np.testing.assert_allclose(result.predictions[:, -1], [0.0, yhat1, yhat2], rtol=1e-14)


def test_weights_are_per_position_gate_products():
    inst = _instance(seed=5, n=4, layers=1, family="vector (key-wise)")
    d = inst.X.shape[1]
    result = multilayer_wpgd(inst.x, inst.X, inst.y, inst.P_q, inst.P_k, inst.gates)
    g = inst.gates[0][:, 0, :d]
    assert np.allclose(result.weights[0, 3, 1], g[2] * g[3], rtol=1e-15)
    assert np.allclose(result.weights[0, 2, 1], g[2], rtol=1e-15)
    assert np.all(result.weights[0, 1, 2] == 0.0) and np.all(result.weights[0, 2, 2] == 1.0)


# ---------------------------------------------------------------- the comparison can fail

def _mutated_gates(gates, shift):
    return [np.roll(np.broadcast_to(g, g.shape), shift, axis=0) for g in gates]


@pytest.mark.parametrize("shift", [1, -1])
def test_check_detects_gate_offset_by_one(shift):
    """Gates shifted by one position emulate ``g_j ⋯ g_{i−1}`` (or ``g_{j+2} ⋯ g_{i+1}``)."""
    inst = _instance(seed=7, layers=2, family="vector (key-wise)")
    d = inst.X.shape[1]
    wrong = multilayer_wpgd(inst.x, inst.X, inst.y, inst.P_q, inst.P_k,
                            _mutated_gates(inst.gates, shift))
    network = _forward(inst)[:, :, d]
    assert np.max(np.abs(network - wrong.residuals)) > 1e-3 * np.max(np.abs(network))


def test_check_detects_wrong_value_sign():
    inst = _instance(seed=8, layers=2, family="scalar")
    weights = [(W_q, W_k, -W_v) for W_q, W_k, W_v in multilayer_construction(inst.P_k, inst.P_q)]
    d = inst.X.shape[1]
    states = multilayer_gla(theorem1_prompt(inst.x, inst.X, inst.y), weights, inst.gates,
                            return_all=True)
    expected = multilayer_wpgd(inst.x, inst.X, inst.y, inst.P_q, inst.P_k, inst.gates).residuals
    assert np.max(np.abs(states[:, :, d] - expected)) > 1e-3 * np.max(np.abs(expected))


def test_check_detects_transposed_preconditioner():
    inst = _instance(seed=9, layers=2, family="matrix")
    swapped = replace(inst, P_k=inst.P_q / 10, P_q=inst.P_k * 10)  # P_k P_qᵀ instead of P_q P_kᵀ
    d = inst.X.shape[1]
    wrong = multilayer_wpgd(swapped.x, swapped.X, swapped.y, swapped.P_q, swapped.P_k, inst.gates)
    network = _forward(inst)[:, :, d]
    assert np.max(np.abs(network - wrong.residuals)) > 1e-3 * np.max(np.abs(network))


def test_check_theorem6_reports_a_broken_network(monkeypatch):
    """The proofs_checks entry point itself fails when the network adds instead of subtracts."""
    import proofs_checks.check_theorem6 as module

    def plus_sign(P_k, P_q):
        return [(W_q, W_k, -W_v) for W_q, W_k, W_v in multilayer_construction(P_k, P_q)]

    inst = _instance(seed=11, layers=2, family="mlstm")
    assert check_theorem6(inst).passed
    monkeypatch.setattr(module, "multilayer_construction", plus_sign)
    outcome = check_theorem6(inst)
    assert not outcome.passed and outcome.residual > 1e-3


def test_check_theorem6_reports_an_off_by_one_recursion(monkeypatch):
    import proofs_checks.check_theorem6 as module

    def shifted(x, X, y, P_q, P_k, gates, causal=True):
        return multilayer_wpgd(x, X, y, P_q, P_k, _mutated_gates(gates, 1), causal=causal)

    inst = _instance(seed=12, layers=1, family="scalar")
    monkeypatch.setattr(module, "multilayer_wpgd", shifted)
    outcome = check_theorem6(inst)
    assert not outcome.passed and outcome.residual > 1e-3


# ---------------------------------------------------------------- registry gate families

@pytest.mark.parametrize("family", list(REGISTRY))
def test_registry_gate_families_for_every_depth(family):
    """Every architecture's gate (Mamba, Mamba-2, mLSTM, ...), fresh parameters per layer,
    evaluated on the layer's tokens, L = 1..4, causal and prefix."""
    for layers in range(1, 5):
        inst = _instance(seed=10 + layers, n=4, d=2, layers=layers, family=family)
        for causal in (True, False):
            outcome = check_theorem6(inst, causal=causal)
            assert outcome.passed, (layers, causal, outcome.residual)


# ---------------------------------------------------------------- bad input

X, Y, XQ = np.ones((3, 2)), np.ones(3), np.ones(2)
PK = PQ = [np.eye(2)] * 2


@pytest.mark.parametrize("call, error, message", [
    (lambda: multilayer_wpgd(XQ, X, Y, [], []), ValueError, "P_k is empty"),
    (lambda: multilayer_wpgd(XQ, X, Y, PQ, PK[:1]), ValueError, "P_k has 1 layers but P_q has 2"),
    (lambda: multilayer_wpgd(XQ, X, Y, PK, PQ, gates=[1.0]), ValueError, "gates has 1 entries"),
    (lambda: multilayer_wpgd(XQ, X, Y, PK, PQ, gates=0.5), TypeError, "gates must be a sequence"),
    (lambda: multilayer_wpgd(XQ, X, Y[:2], PK, PQ), ValueError, "y must have shape"),
    (lambda: multilayer_wpgd(np.ones(3), X, Y, PK, PQ), ValueError, "x must have shape"),
    (lambda: multilayer_wpgd(XQ, X, Y, PQ, [np.ones((2, 3))] * 2), ValueError, r"P_k\[0\]"),
    (lambda: multilayer_wpgd(XQ, X, Y, PQ, [np.eye(2), np.ones(2)]), ValueError, r"P_k\[1\]"),
    (lambda: multilayer_wpgd(XQ, np.full((3, 2), np.nan), Y, PK, PQ), ValueError, "X contains NaN"),
    (lambda: multilayer_wpgd(XQ, X, Y, PK, PQ, gates=[1.0, np.ones((5, 1, 1))]), ValueError,
     r"gates\[1\]"),
    (lambda: multilayer_wpgd(XQ, X, Y, PK, PQ, gates=[1.0, lambda Z: Z[:, :1, None] * np.nan]),
     ValueError, r"gates\[1\]\(tokens\) contains NaN"),
    (lambda: multilayer_gla(np.ones((4, 3)), []), ValueError, "weights is empty"),
    (lambda: multilayer_gla(np.ones((4, 3)), [(np.eye(3), np.eye(3), np.eye(2))]), ValueError,
     r"weights\[0\].W_v"),
    (lambda: multilayer_gla(np.ones((4, 3)), [(np.eye(3), np.eye(3))]), TypeError, "triple"),
    (lambda: multilayer_gla("tokens", multilayer_construction(PK, PQ)), TypeError, "Z must be"),
    (lambda: multilayer_gla(np.ones((1, 3)), multilayer_construction(PK, PQ)), ValueError,
     "at least one context token"),
    (lambda: multilayer_construction(PK, PQ[:1]), ValueError, "P_k has 2 layers but P_q has 1"),
    (lambda: multistep_wpgd(X, Y, PK, sample_weights=np.ones(4)), ValueError, "sample_weights"),
])
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
