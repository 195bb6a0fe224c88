"""GLA forward passes and Theorem 1: recurrent vs parallel vs explicit loops vs WPGD formulas."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs_checks.check_theorem1 import GENERIC_GATES, check_theorem1, theorem1_instances
from wpgd_theory.core.predictor import dwpgd_predict, wpgd_predict
from wpgd_theory.gla.forward import (
    cumulative_gates,
    gated_attention_matrix,
    gla_forward,
    gla_parallel,
    gla_recurrence,
)
from wpgd_theory.gla.theorem1 import (
    induced_weights,
    theorem1_gla_predict,
    theorem1_projections,
    theorem1_prompt,
    theorem1_residual,
)

# Round-off: every route sums the same O(T d) products in a different order, so differences are
# ~1e-16 · T · d relative to the l1 mass of the terms; 1e-10 leaves a wide margin yet catches any
# wrong gate, mask or transpose (those give O(1) relative errors).
RTOL = 1e-10


# --------------------------------------------------------------------------- independent routes

def naive_gla_outputs(q, k, v, G):
    """o_t = Σ_{s ≤ t} (G_{s+1} ⊙ … ⊙ G_t ⊙ v_s k_sᵀ) q_t with explicit Python loops (2-D inputs)."""
    T, d_k = q.shape
    d_v = v.shape[1]
    G = np.broadcast_to(G, (T, d_v, d_k))
    out = np.zeros((T, d_v))
    for t in range(T):
        for s in range(t + 1):
            decay = np.ones((d_v, d_k))
            for j in range(s + 1, t + 1):
                decay = decay * G[j]
            out[t] += (decay * np.outer(v[s], k[s])) @ q[t]
    return out


def l1_mass(q, k, v, G):
    """Σ of |terms| of the unrolled outputs: the scale round-off is relative to."""
    return naive_gla_outputs(np.abs(q), np.abs(k), np.abs(v), np.abs(G))


def explicit_dwpgd(x, X, y, P_q, P_k, Omega):
    """Σ_i y_i Σ_b (P_qᵀ x)_b Ω_ib (P_kᵀ x_i)_b, term by term."""
    return sum(y[i] * sum((P_q.T @ x)[b] * Omega[i, b] * (P_k.T @ X[i])[b]
                          for b in range(X.shape[1])) for i in range(X.shape[0]))


@st.composite
def gla_inputs(draw):
    """Random (q, k, v, G) with a random gate structure and gates hitting exactly 0 and 1."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batch = draw(st.sampled_from([(), (2,), (2, 3)]))
    T, d_k, d_v = draw(st.integers(1, 7)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    structure = draw(st.sampled_from([(1, 1), (1, d_k), (d_v, 1), (d_v, d_k)]))
    q, k = rng.standard_normal((2,) + batch + (T, d_k))
    v = rng.standard_normal(batch + (T, d_v))
    gate_shape = batch + (T,) + structure
    G = np.where(rng.uniform(size=gate_shape) < 0.25,
                 rng.choice([0.0, 1.0, 1e-300], size=gate_shape), rng.uniform(-1, 1.2, gate_shape))
    return q, k, v, G


# --------------------------------------------------------------------------- forward passes

@given(gla_inputs())
def test_recurrent_form_equals_parallel_form(inputs):
    q, k, v, G = inputs
    recurrent, state = gla_recurrence(q, k, v, G, return_state=True)
    parallel = gla_parallel(q, k, v, G)
    # Elementwise l1 mass of the unrolled terms (the sum with every factor made non-negative).
    mass = gla_recurrence(np.abs(q), np.abs(k), np.abs(v), np.abs(G))
    assert np.all(np.abs(recurrent - parallel) <= RTOL * mass)
    # The final state is the last token's state: o_T = S_T q_T.
    np.testing.assert_allclose(np.einsum("...vk,...k->...v", state, q[..., -1, :]),
                               recurrent[..., -1, :], rtol=RTOL, atol=1e-300)


def test_parallel_and_recurrent_match_explicit_loops():
    rng = np.random.default_rng(0)
    T, d_k, d_v = 6, 3, 2
    q, k = rng.standard_normal((2, T, d_k))
    v = rng.standard_normal((T, d_v))
    for G in (rng.uniform(size=(T, d_v, d_k)), rng.uniform(size=(T, 1, d_k)),
              rng.uniform(size=(T, 1, 1)), np.ones((T, 1, 1))):
        expected = naive_gla_outputs(q, k, v, G)
        tolerance = RTOL * l1_mass(q, k, v, G)
        assert np.all(np.abs(gla_recurrence(q, k, v, G) - expected) <= tolerance)
        assert np.all(np.abs(gla_parallel(q, k, v, G) - expected) <= tolerance)


def test_cumulative_gates_are_products_over_the_open_closed_interval():
    rng = np.random.default_rng(1)
    G = rng.uniform(size=(5, 2, 3))
    G[2] = 0.0                                    # an exact zero must stay exact (no division)
    D = cumulative_gates(G)
    for t in range(5):
        for s in range(5):
            expected = np.prod(G[s + 1:t + 1], axis=0) if s <= t else np.zeros((2, 3))
            np.testing.assert_array_equal(D[t, s], expected)


def test_linear_attention_attention_matrix_is_masked_QKt():
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((2, 5, 3))
    A = gated_attention_matrix(q, k, 1.0)[..., 0]
    np.testing.assert_allclose(A, np.tril(q @ k.T), rtol=1e-14, atol=0)


def test_gla_forward_uses_right_multiplied_projections():
    # Non-square projections with D ≠ d_k ≠ d_v: a transposed W would fail shape or value checks.
    rng = np.random.default_rng(3)
    T, D, d_k, d_v = 5, 4, 3, 2
    Z = rng.standard_normal((T, D))
    W_q, W_k = rng.standard_normal((2, D, d_k))
    W_v = rng.standard_normal((D, d_v))
    G = rng.uniform(size=(T, d_v, d_k))
    q = np.array([W_q.T @ z for z in Z])
    k = np.array([W_k.T @ z for z in Z])
    v = np.array([W_v.T @ z for z in Z])
    expected = naive_gla_outputs(q, k, v, G)
    np.testing.assert_allclose(gla_forward(Z, W_q, W_k, W_v, G), expected,
                               rtol=0, atol=RTOL * l1_mass(q, k, v, G).max())
    # Gates may be a function of the tokens.
    np.testing.assert_array_equal(gla_forward(Z, W_q, W_k, W_v, lambda tokens: G),
                                  gla_forward(Z, W_q, W_k, W_v, G))


def test_gla_forward_is_batched_over_prompts():
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((3, 5, 4))
    W = rng.standard_normal((3, 4, 4))
    G = rng.uniform(size=(3, 5, 1, 4))
    out, state = gla_forward(Z, *W, G, return_state=True)
    for b in range(3):
        single, single_state = gla_forward(Z[b], *W, G[b], return_state=True)
        np.testing.assert_array_equal(out[b], single)
        np.testing.assert_array_equal(state[b], single_state)


# --------------------------------------------------------------------------- Theorem 1

@given(theorem1_instances(kinds=GENERIC_GATES))
def test_theorem1_identity_for_generic_gates(instance):
    check = check_theorem1(instance)
    assert check, check.residual


def test_theorem1_matches_the_explicit_term_by_term_sum():
    rng = np.random.default_rng(5)
    d, n = 3, 7
    X, x, y = rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(n)
    P_q, P_k = rng.standard_normal((2, d, d))
    G = rng.uniform(size=(n + 1, d + 1, d + 1))
    # Ω by explicit loops over the last row of each gate, first d columns.
    Omega = np.array([np.prod([G[j, d, :d] for j in range(i + 1, n + 1)], axis=0)
                      for i in range(n)])
    # Same factors multiplied in another order: equal up to a few ulps.
    np.testing.assert_allclose(induced_weights(G, d), Omega, rtol=1e-14)
    expected = explicit_dwpgd(x, X, y, P_q, P_k, Omega)
    gla = theorem1_gla_predict(x, X, y, P_q, P_k, G)
    np.testing.assert_allclose(gla, expected, rtol=RTOL)
    np.testing.assert_allclose(dwpgd_predict(x, X, y, P_q, P_k, Omega), expected, rtol=RTOL)


def test_induced_weights_are_the_last_row_of_the_cumulative_gates():
    # Two implementations of the same products: suffix cumprod vs the causal decay tensor.
    rng = np.random.default_rng(6)
    d, n = 2, 5
    G = rng.uniform(size=(n + 1, d + 1, d + 1))
    np.testing.assert_allclose(induced_weights(G, d), cumulative_gates(G)[n, :n, d, :d],
                               rtol=1e-14)


@given(st.integers(1, 5), st.integers(1, 10), st.integers(0, 2**32 - 1))
def test_linear_attention_is_pgd_with_P_q_P_k_transpose(d, n, seed):
    rng = np.random.default_rng(seed)
    X, x, y = rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(n)
    P_q, P_k = rng.standard_normal((2, d, d))
    gla = theorem1_gla_predict(x, X, y, P_q, P_k, np.ones((n + 1, 1, 1)))
    pgd = x @ P_q @ P_k.T @ X.T @ y
    scale = np.abs(x @ P_q) @ np.abs(P_k.T @ X.T) @ np.abs(y)
    assert abs(gla - pgd) <= RTOL * scale
    assert abs(wpgd_predict(x, X, y, P_q @ P_k.T, np.ones(n)) - pgd) <= RTOL * scale


def test_scalar_gating_is_wpgd_with_suffix_products_including_the_query_gate():
    rng = np.random.default_rng(7)
    d, n = 3, 6
    X, x, y = rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(n)
    P_q, P_k = rng.standard_normal((2, d, d))
    gamma = rng.uniform(0.2, 1.0, size=n + 1)
    omega = np.array([np.prod(gamma[i + 1:]) for i in range(n)])   # ω_i = Π_{j>i} γ_j
    gla = theorem1_gla_predict(x, X, y, P_q, P_k, gamma[:, None, None])
    expected = x @ P_q @ P_k.T @ X.T @ (omega * y)
    np.testing.assert_allclose(gla, expected, rtol=RTOL)
    # γ_1 never matters (S_0 = 0); γ_{n+1} (the query's gate) scales everything.
    gamma_changed = gamma.copy()
    gamma_changed[0] = 0.0
    np.testing.assert_allclose(theorem1_gla_predict(x, X, y, P_q, P_k, gamma_changed[:, None, None]),
                               gla, rtol=RTOL)
    gamma_changed = gamma.copy()
    gamma_changed[-1] *= 0.5
    np.testing.assert_allclose(theorem1_gla_predict(x, X, y, P_q, P_k, gamma_changed[:, None, None]),
                               0.5 * gla, rtol=RTOL)


def test_prediction_is_linear_in_the_labels():
    rng = np.random.default_rng(8)
    d, n = 3, 5
    X, x = rng.standard_normal((n, d)), rng.standard_normal(d)
    y1, y2 = rng.standard_normal((2, n))
    P_q, P_k = rng.standard_normal((2, d, d))
    G = rng.uniform(size=(n + 1, 1, d + 1))       # key-wise gates: independent of labels here
    f = lambda y: theorem1_gla_predict(x, X, y, P_q, P_k, G)   # noqa: E731
    np.testing.assert_allclose(f(2.0 * y1 - 3.0 * y2), 2.0 * f(y1) - 3.0 * f(y2), rtol=RTOL)


def test_perturbing_one_label_moves_the_output_by_that_tokens_weight():
    rng = np.random.default_rng(9)
    d, n, delta = 3, 6, 0.7
    X, x, y = rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(n)
    P_q, P_k = rng.standard_normal((2, d, d))
    gamma = rng.uniform(0.1, 1.0, size=(n + 1, 1, 1))
    keywise = rng.uniform(0.1, 1.0, size=(n + 1, 1, d + 1))
    base_scalar = theorem1_gla_predict(x, X, y, P_q, P_k, gamma)
    base_keywise = theorem1_gla_predict(x, X, y, P_q, P_k, keywise)
    for i in range(n):
        y_moved = y.copy()
        y_moved[i] += delta
        # Scalar gates: the move is δ ω_i xᵀ P x_i with ω_i = Π_{j>i} γ_j, P = P_q P_kᵀ.
        omega_i = np.prod(gamma[i + 1:, 0, 0])
        move = theorem1_gla_predict(x, X, y_moved, P_q, P_k, gamma) - base_scalar
        np.testing.assert_allclose(move, delta * omega_i * (x @ P_q @ P_k.T @ X[i]), rtol=1e-9)
        # Key-wise gates: the move is δ xᵀ P_q diag(Ω_i) P_kᵀ x_i.
        Omega_i = np.prod(keywise[i + 1:, 0, :d], axis=0)
        move = theorem1_gla_predict(x, X, y_moved, P_q, P_k, keywise) - base_keywise
        np.testing.assert_allclose(move, delta * (x @ P_q @ np.diag(Omega_i) @ P_k.T @ X[i]),
                                   rtol=1e-9)


def test_dwpgd_with_constant_rows_is_wpgd_and_predictors_batch():
    rng = np.random.default_rng(10)
    B, n, d = 4, 5, 3
    X, x, y = rng.standard_normal((B, n, d)), rng.standard_normal((B, d)), rng.standard_normal((B, n))
    P = rng.standard_normal((d, d))
    omega = rng.uniform(size=(B, n))
    batched = wpgd_predict(x, X, y, P, omega)
    assert batched.shape == (B,)
    for b in range(B):
        np.testing.assert_allclose(batched[b], x[b] @ P @ X[b].T @ (omega[b] * y[b]), rtol=1e-12)
    Omega = np.repeat(omega[..., None], d, axis=-1)
    np.testing.assert_allclose(dwpgd_predict(x, X, y, P, np.eye(d), Omega), batched, rtol=1e-12)


def test_theorem1_batched_over_prompts():
    rng = np.random.default_rng(11)
    B, n, d = 3, 4, 2
    X, x, y = rng.standard_normal((B, n, d)), rng.standard_normal((B, d)), rng.standard_normal((B, n))
    P_q, P_k = rng.standard_normal((2, d, d))
    G = rng.uniform(size=(B, n + 1, d + 1, d + 1))
    result = theorem1_residual(x, X, y, P_q, P_k, G)
    assert result.gla.shape == (B,) and result.residual < RTOL
    for b in range(B):
        np.testing.assert_allclose(result.gla[b], theorem1_gla_predict(x[b], X[b], y[b], P_q, P_k,
                                                                       G[b]), rtol=1e-14)


def test_theorem1_construction_shapes():
    W_q, W_k, W_v = theorem1_projections(np.eye(2), 2 * np.eye(2))
    assert W_q.shape == W_k.shape == W_v.shape == (3, 3)
    np.testing.assert_array_equal(W_q[:2, :2], 2 * np.eye(2))
    Z = theorem1_prompt(np.ones(2), np.zeros((4, 2)), np.arange(4.0))
    assert Z.shape == (5, 3) and Z[-1, -1] == 0 and np.array_equal(Z[:4, -1], np.arange(4.0))


# --------------------------------------------------------------------------- bad input

def test_empty_sequence_is_rejected():
    with pytest.raises(ValueError, match="T = 0"):
        gla_recurrence(np.ones((0, 2)), np.ones((0, 2)), np.ones((0, 1)), 1.0)
    with pytest.raises(ValueError, match="T = 0"):
        gla_parallel(np.ones((0, 2)), np.ones((0, 2)), np.ones((0, 1)), 1.0)
    with pytest.raises(ValueError, match="T = 0"):
        gla_forward(np.ones((0, 2)), np.eye(2), np.eye(2), np.eye(2), 1.0)


@pytest.mark.parametrize("bad_gate, error, message", [
    (np.nan, ValueError, "gates contains NaN"),
    (np.ones((4, 2, 3)), ValueError, r"gates of shape \(4, 2, 3\) do not broadcast"),
    (np.ones(3, dtype=complex), TypeError, "gates must be a real numeric array"),
])
def test_bad_gates_are_rejected(bad_gate, error, message):
    q = k = np.ones((3, 2))
    with pytest.raises(error, match=message):
        gla_recurrence(q, k, np.ones((3, 1)), bad_gate)
    with pytest.raises(error, match=message):
        gla_parallel(q, k, np.ones((3, 1)), bad_gate)


def test_projection_shape_mismatches_are_rejected():
    Z = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"W_k must have shape \(D, d_k\) with D = 4"):
        gla_forward(Z, np.ones((4, 2)), np.ones((3, 2)), np.ones((4, 1)), 1.0)
    with pytest.raises(ValueError, match="W_q and W_k must have the same shape"):
        gla_forward(Z, np.ones((4, 2)), np.ones((4, 3)), np.ones((4, 1)), 1.0)
    with pytest.raises(ValueError, match="values must have shape"):
        gla_recurrence(np.ones((3, 2)), np.ones((3, 2)), np.ones((4, 1)), 1.0)


def test_regression_shape_mismatches_are_rejected():
    X, y, x = np.ones((4, 2)), np.ones(4), np.ones(2)
    with pytest.raises(ValueError, match=r"x must have shape \(..., d\) with d = 2"):
        wpgd_predict(np.ones(3), X, y, np.eye(2), np.ones(4))
    with pytest.raises(ValueError, match=r"y must have shape \(..., n\) with n = 4"):
        wpgd_predict(x, X, np.ones(5), np.eye(2), np.ones(4))
    with pytest.raises(ValueError, match="preconditioner must have shape"):
        wpgd_predict(x, X, y, np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="weights must have shape"):
        wpgd_predict(x, X, y, np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="batch .* do not broadcast"):
        wpgd_predict(np.ones((3, 2)), np.ones((2, 4, 2)), y, np.eye(2), np.ones(4))
    with pytest.raises(ValueError, match=r"weights \(Ω\) must have shape"):
        dwpgd_predict(x, X, y, np.eye(2), np.eye(2), np.ones((4, 3)))
    with pytest.raises(ValueError, match="P_q must have shape"):
        theorem1_projections(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="gates must broadcast"):
        induced_weights(np.ones((5, 2, 2)), d=2)
    with pytest.raises(ValueError, match="d must be a positive integer"):
        induced_weights(np.ones((5, 1, 1)), d=0)
    with pytest.raises(ValueError, match="gates contains NaN"):
        theorem1_gla_predict(x, X, y, np.eye(2), np.eye(2), np.full((5, 1, 1), np.nan))


def test_empty_context_predicts_zero():
    # n = 0: the prompt is the query token alone (T = 1), so the prediction is an empty sum.
    result = theorem1_residual(np.ones(2), np.ones((0, 2)), np.ones(0), np.eye(2), np.eye(2),
                               np.ones((1, 1, 1)))
    assert result.weights.shape == (0, 2) and result.gla == 0.0 and result.dwpgd == 0.0
    with pytest.raises(ValueError, match="n \\+ 1 ≥ 1 prompt tokens"):
        induced_weights(np.ones((0, 1, 1)), d=2)
