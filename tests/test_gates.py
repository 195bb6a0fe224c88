"""Gate families: entrywise formulas, structure, ranges, induced weights and Theorem 1 per family."""
import cmath
import math
from functools import partial

import numpy as np
import pytest
from hypothesis import given

from proofs_checks.check_theorem1 import check_theorem1, theorem1_instances
from wpgd_theory.core.predictor import wpgd_predict
from wpgd_theory.gla.gates import GATE_FAMILIES, gateloop_gate, hgrn2_gate
from wpgd_theory.gla.theorem1 import induced_weights, theorem1_gla_predict, theorem1_prompt

FAMILIES = sorted(GATE_FAMILIES)


def sigmoid(a):
    return 1.0 / (1.0 + math.exp(-a))


def softplus(a):
    return math.log1p(math.exp(a))


def reference_gate(name, z, p, a, b):
    """Entry G_t[a, b] (value channel a, key channel b) from the poster's table, scalar by scalar.

    Written from the row-vector table with plain loops, independently of wpgd_theory.gla.gates: the
    poster's key-indexed vectors α_t become our column index b, value-indexed ones our row a.
    """
    dot = lambda w: sum(zi * wi for zi, wi in zip(z, w))            # noqa: E731  (z_t W)[·]
    col = lambda W, j: [row[j] for row in W]                         # noqa: E731
    low_rank = lambda W1, W2, j: sum(dot(col(W1, r)) * W2[r][j] for r in range(len(W2)))  # noqa
    if name == "mamba2":
        return math.exp(-softplus(dot(p["W_gamma"])) * math.exp(p["a"]))
    if name == "mlstm":
        return sigmoid(dot(p["W_gamma"]))
    if name == "gated_retention":
        return sigmoid(dot(p["W_gamma"])) ** (1 / p["tau"])
    if name == "gla":
        return sigmoid(low_rank(p["W_alpha1"], p["W_alpha2"], b)) ** (1 / p["tau"])
    if name == "rwkv6":
        return math.exp(-math.exp(dot(col(p["W_alpha"], b))))
    if name == "hgrn2":
        return p["gamma"] + (1 - p["gamma"]) * sigmoid(dot(col(p["W_alpha"], b)))
    if name in ("gateloop_magnitude", "gateloop_real"):
        alpha = sigmoid(dot(col(p["W_alpha1"], b))) * cmath.exp(1j * dot(col(p["W_alpha2"], b)))
        return abs(alpha) if name == "gateloop_magnitude" else alpha.real
    if name == "dfw":
        return sigmoid(dot(col(p["W_alpha"], b))) * sigmoid(dot(col(p["W_beta"], a)))
    if name == "mamba":
        return math.exp(-softplus(low_rank(p["W_alpha1"], p["W_alpha2"], a)) * math.exp(p["A"][a][b]))
    raise KeyError(name)


def as_lists(parameters):
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in parameters.items()}


EXPECTED_STRUCTURE = {  # gate shape (rows, cols) for d_v = 3, d_k = 4
    "scalar": (1, 1), "key-wise": (1, 4), "outer": (3, 4), "per-channel": (3, 4)}


@pytest.mark.parametrize("name", FAMILIES)
def test_family_matches_the_table_entrywise(name):
    family = GATE_FAMILIES[name]
    rng = np.random.default_rng(FAMILIES.index(name))
    T, D, d_k, d_v = 4, 5, 4, 3
    Z = rng.standard_normal((T, D))
    params = family.random_parameters(rng, D, d_k, d_v)
    G = family(Z, **params)
    assert G.shape == (T,) + EXPECTED_STRUCTURE[family.structure]
    full = np.broadcast_to(G, (T, d_v, d_k))
    lists = as_lists(params)
    expected = np.array([[[reference_gate(name, Z[t].tolist(), lists, a, b) for b in range(d_k)]
                          for a in range(d_v)] for t in range(T)])
    # Same elementary functions evaluated in another order (math vs numpy): a few ulps.
    np.testing.assert_allclose(full, expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", FAMILIES)
def test_family_range_and_batching(name):
    family = GATE_FAMILIES[name]
    rng = np.random.default_rng(100 + FAMILIES.index(name))
    Z = rng.standard_normal((3, 6, 4))
    params = family.random_parameters(rng, 4, 4, 4, scale=3.0)
    G = family(Z, **params)
    assert family.low <= G.min() and G.max() <= family.high
    for b in range(3):
        np.testing.assert_array_equal(G[b], family(Z[b], **params))


def test_saturated_parameters_produce_exact_zeros_and_ones():
    # The Theorem 1 strategies use scale 30 to reach the boundary of the gate range; check that
    # this regime really produces gates exactly 0 and exactly 1 (so those cases are covered).
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 4))
    values = np.concatenate([np.ravel(family(Z, **family.random_parameters(rng, 4, 4, 4, scale=30)))
                             for family in GATE_FAMILIES.values()])
    assert np.any(values == 0.0) and np.any(values == 1.0)


@given(theorem1_instances(kinds=tuple(GATE_FAMILIES)))
def test_theorem1_holds_for_every_family(instance):
    check = check_theorem1(instance)
    assert check, (check.residual, instance)


@pytest.mark.parametrize("name", FAMILIES)
def test_prompt_weights_are_suffix_products_of_the_label_row(name):
    family = GATE_FAMILIES[name]
    rng = np.random.default_rng(200 + FAMILIES.index(name))
    d, n = 3, 6
    Z = theorem1_prompt(rng.standard_normal(d), rng.standard_normal((n, d)), rng.standard_normal(n))
    params = family.random_parameters(rng, d + 1, d + 1, d + 1)
    lists = as_lists(params)
    # g_j[b] = G_j[d, b] for b < d, from the entrywise reference; Ω_i = Π_{j>i} g_j.
    g = np.array([[reference_gate(name, Z[j].tolist(), lists, d, b) for b in range(d)]
                  for j in range(n + 1)])
    expected = np.array([np.prod(g[i + 1:], axis=0) for i in range(n)])
    np.testing.assert_allclose(family.prompt_weights(Z, **params), expected, rtol=1e-12)
    if family.structure == "scalar":                       # one weight per token
        Omega = family.prompt_weights(Z, **params)
        np.testing.assert_array_equal(Omega, np.repeat(Omega[:, :1], d, axis=1))


@pytest.mark.parametrize("name", [n for n in FAMILIES if GATE_FAMILIES[n].structure == "scalar"])
def test_scalar_families_are_wpgd(name):
    family = GATE_FAMILIES[name]
    rng = np.random.default_rng(300 + FAMILIES.index(name))
    d, n = 2, 8
    X, x, y = rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(n)
    P_q, P_k = rng.standard_normal((2, d, d))
    params = family.random_parameters(rng, d + 1, d + 1, d + 1)
    gamma = family(theorem1_prompt(x, X, y), **params)[:, 0, 0]
    omega = np.array([np.prod(gamma[i + 1:]) for i in range(n)])
    gla = theorem1_gla_predict(x, X, y, P_q, P_k, partial(family, **params))
    np.testing.assert_allclose(gla, wpgd_predict(x, X, y, P_q @ P_k.T, omega), rtol=1e-10)


def test_gateloop_magnitude_is_exact_and_real_part_is_not():
    # |Π α_j| = Π |α_j|: the magnitude family gives exactly |Ω| of complex GateLoop, while the
    # real-part family differs from Re Π α_j (documented in wpgd_theory.gla.gates).
    rng = np.random.default_rng(4)
    d, n = 2, 5
    Z = rng.standard_normal((n + 1, d + 1))
    W1, W2 = rng.standard_normal((2, d + 1, d + 1))
    complex_alpha = (1 / (1 + np.exp(-Z @ W1))) * np.exp(1j * (Z @ W2))
    complex_Omega = np.array([np.prod(complex_alpha[i + 1:, :d], axis=0) for i in range(n)])
    magnitude = induced_weights(gateloop_gate(Z, W1, W2, part="magnitude"), d)
    real = induced_weights(gateloop_gate(Z, W1, W2, part="real"), d)
    np.testing.assert_allclose(magnitude, np.abs(complex_Omega), rtol=1e-12)
    assert np.max(np.abs(real - complex_Omega.real)) > 1e-3


# --------------------------------------------------------------------------- bad input

def test_bad_tokens_and_parameters_are_rejected():
    family = GATE_FAMILIES["gla"]
    params = family.random_parameters(np.random.default_rng(0), 3, 3, 3)
    with pytest.raises(ValueError, match="Z contains NaN"):
        family(np.full((2, 3), np.nan), **params)
    with pytest.raises(ValueError, match="T = 0"):
        family(np.ones((0, 3)), **params)
    with pytest.raises(ValueError,
                       match=r"W_alpha1 must have shape \(4, k\) \(rows = D, the token width of Z"):
        family(np.ones((2, 4)), **params)
    with pytest.raises(ValueError, match="tau must be positive"):
        family(np.ones((2, 3)), **{**params, "tau": -1.0})
    with pytest.raises(ValueError, match=r"gamma .* must lie in \[0, 1\)"):
        hgrn2_gate(np.ones((2, 3)), np.ones((3, 2)), gamma=1.0)
    with pytest.raises(ValueError, match="part must be 'magnitude' or 'real'"):
        gateloop_gate(np.ones((2, 3)), np.ones((3, 2)), np.ones((3, 2)), part="imag")
    with pytest.raises(ValueError, match=r"W_gamma must have shape \(3,\)"):
        GATE_FAMILIES["mlstm"](np.ones((2, 3)), W_gamma=np.ones(4))
    with pytest.raises(TypeError, match="W_alpha must be a real numeric array"):
        GATE_FAMILIES["rwkv6"](np.ones((2, 3)), W_alpha=np.ones((3, 2), dtype=complex))


@pytest.mark.parametrize("gates, message", [
    (-0.1 * np.ones((2, 1, 1)), r"must lie in \[0.0, 1.0\]"),
    (np.full((2, 1, 1), np.nan), "gates contains NaN"),
])
def test_gates_outside_the_family_range_are_rejected(gates, message):
    with pytest.raises(ValueError, match=message):
        GATE_FAMILIES["mamba2"].check(gates)


def test_gateloop_real_part_admits_negative_gates():
    assert GATE_FAMILIES["gateloop_real"].check(-0.5 * np.ones(2)).min() == -0.5
    with pytest.raises(ValueError, match=r"must lie in \[-1.0, 1.0\]"):
        GATE_FAMILIES["gateloop_real"].check(-1.5 * np.ones(2))
