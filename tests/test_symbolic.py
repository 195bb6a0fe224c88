"""The SymPy statements are the numeric code's formulas, and the symbolic proofs hold.

Bridges: each explicit-size statement is lambdified and evaluated on seeded random points next to
the numeric function of :mod:`wpgd_theory.core.spectral`, :mod:`wpgd_theory.core.risk` or
:mod:`wpgd_theory.core.solver`. Tolerance ``RTOL = 1e-12`` relative (both sides are a few dozen
floating-point operations on O(1) numbers, so round-off is ~1e-15); the stationary point is
compared at ``1e-10`` because the solver's ``P* = A(BΣ + CI)⁻¹`` and the statement's
``(A/C)((γ*/M)Σ + I)⁻¹`` agree only up to the fixed-point residual of ``γ*``. Each bridge also
has a mutant (a deliberately wrong formula) that the tolerance rejects.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from wpgd_theory.core.model import CorrelatedTaskModel
from wpgd_theory.core.risk import (
    linear_attention_risk,
    optimal_preconditioner,
    risk,
    risk_of_weights,
    weight_moments,
)
from wpgd_theory.core.solver import solve_model
from wpgd_theory.core.spectral import (
    fixed_point_map,
    fixed_point_map_derivative,
    h1,
    h2,
    spectral_gap_condition,
)
from wpgd_theory.verify import symbolic as sym

RTOL = 1e-12
SEED = 20250406


def relative_error(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)), 1e-300))


def random_model(rng, d, n, *, identity_sigma=False):
    """A valid correlated-task model with positive definite Σ and R (generic spectra)."""
    G = rng.standard_normal((n + 1, n + 2))
    J = G @ G.T
    J = J / np.sqrt(np.outer(np.diag(J), np.diag(J)))
    if identity_sigma:
        Sigma = np.eye(d)
    else:
        H = rng.standard_normal((d, d + 1))
        Sigma = H @ H.T / d + 0.1 * np.eye(d)
    return CorrelatedTaskModel(Sigma, J[:n, :n], J[:n, n], float(rng.uniform(0.0, 1.0)))


SIZES = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (2, 4)]


# ----------------------------------------------------------------------- lambdify bridges

@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_h1_statement_is_spectral_h1(n):
    rng = np.random.default_rng(SEED + n)
    f = sym.h1_statement(n).lambdify()
    for _ in range(20):
        lam, a, h_bar = rng.uniform(0, 3, n), rng.standard_normal(n), rng.uniform(0, 2)
        assert relative_error(f(h_bar, lam, a), h1(h_bar, lam, a)) < RTOL


@pytest.mark.parametrize("d", [1, 2, 4])
def test_h2_statement_is_spectral_h2(d):
    rng = np.random.default_rng(SEED + d)
    f = sym.h2_statement(d).lambdify()
    for _ in range(20):
        s = rng.uniform(0.05, 3, d)
        M, gamma = float(np.sum(s) + rng.uniform(0, 1)), rng.uniform(1, 4)
        assert relative_error(f(gamma, s, M), h2(gamma, s, M)) < RTOL


def test_h2_mutant_is_rejected():
    # The bridge discriminates: h₂ with M Σs³/… in place of M Σs²/… is a different formula.
    d, rng = 2, np.random.default_rng(SEED)
    statement = sym.h2_statement(d)
    s_1, s_2 = sym.symbol_vector("s", 2)
    mutant = statement.lambdify(statement.expression.subs({s_1**2: s_1**3, s_2**2: s_2**3}))
    s, gamma = rng.uniform(0.5, 2, d), 1.5
    M = float(np.sum(s) + 0.3)
    assert relative_error(statement.lambdify()(gamma, s, M), h2(gamma, s, M)) < RTOL
    assert relative_error(mutant(gamma, s, M), h2(gamma, s, M)) > 1e-3


@pytest.mark.parametrize("d, n", SIZES)
def test_fixed_point_map_and_its_derivative_match_spectral(d, n):
    rng = np.random.default_rng(SEED + 10 * d + n)
    statement = sym.fixed_point_map_statement(d, n)
    phi = statement.lambdify()
    slope = statement.lambdify(sympy.diff(statement.expression, sym.gamma))
    for _ in range(5):
        model = random_model(rng, d, n)
        args = (model.sigma_eigenvalues, model.M, model.R_eigenvalues, model.r_coefficients)
        for gamma in rng.uniform(1, 3, 4):
            assert relative_error(phi(gamma, *args), fixed_point_map(gamma, model)) < RTOL
            numeric = fixed_point_map_derivative(gamma, model)
            assert abs(slope(gamma, *args) - numeric) <= RTOL * max(abs(numeric), 1e-3)


@pytest.mark.parametrize("d, n", [(1, 1), (2, 2), (3, 2), (2, 3)])
def test_spectral_gap_hypothesis_is_spectral_gap_condition(d, n):
    rng = np.random.default_rng(SEED + 100 * d + n)
    statement = sym.spectral_gap_statement(d, n)
    gap = statement.hypotheses[0]
    holds, product, bound = (statement.lambdify(e) for e in (gap, gap.lhs, gap.rhs))
    verdicts = set()
    for _ in range(30):
        model = random_model(rng, d, n)   # Σ, R positive definite: effective gap = max − min
        if rng.uniform() < 0.5:  # stretch Σ's spectrum so that the condition sometimes fails
            model = CorrelatedTaskModel(model.Sigma * rng.uniform(1, 20), model.R, model.r,
                                        model.sigma2)
        args = (1.0, model.sigma_eigenvalues, model.M, model.R_eigenvalues,
                model.r_coefficients)
        test = spectral_gap_condition(model)
        assert bool(holds(*args)) == test.holds
        assert relative_error(product(*args), test.delta_sigma * test.delta_R) < 1e-10 \
            or test.delta_sigma * test.delta_R == 0
        assert relative_error(bound(*args), test.bound) < RTOL
        verdicts.add(test.holds)
    if d > 1 and n > 1:
        assert verdicts == {True, False}


@pytest.mark.parametrize("d, n", SIZES)
def test_stationary_point_statement_is_the_solver_output(d, n):
    rng = np.random.default_rng(SEED + 1000 * d + n)
    stationary = sym.stationary_point_statement(d, n).lambdify()
    for _ in range(3):
        model = random_model(rng, d, n)
        solution = solve_model(model)
        P_eig, w_eig = stationary(solution.gamma_star, model.sigma_eigenvalues, model.M,
                                  model.R_eigenvalues, model.r_coefficients)
        U, E = model.sigma_eigenvectors, model.R_eigenvectors
        assert relative_error(E @ np.ravel(w_eig), solution.weights) < RTOL
        assert relative_error(U @ P_eig @ U.T, solution.preconditioner) < 1e-10


@pytest.mark.parametrize("d, n", SIZES)
def test_risk_statement_is_risk(d, n):
    rng = np.random.default_rng(SEED + 7 * d + n)
    f = sym.risk_statement(d, n).lambdify()
    for _ in range(5):
        model = random_model(rng, d, n)
        P, w = rng.standard_normal((d, d)), rng.standard_normal(n)
        value = f(model.Sigma, model.R, model.r, model.sigma2, P, w)
        assert relative_error(value, risk(model, P, w)) < RTOL


def test_risk_mutant_is_rejected():
    # Dropping the "+ I" of B = ωᵀ(R + I)ω is caught by the bridge.
    rng = np.random.default_rng(SEED)
    statement = sym.risk_statement(2, 2)
    B = statement.definitions[1].rhs
    w = sympy.Matrix(sym.symbol_vector("omega", 2))
    definitions = (statement.definitions[0],
                   sympy.Eq(sym.B_, B - (w.T * w)[0, 0]),  # ωᵀRω instead of ωᵀ(R + I)ω
                   *statement.definitions[2:])
    mutant = sym.Statement("mutant", (), statement.conclusion, statement.symbols, definitions)
    model = random_model(rng, 2, 2)
    P, w_num = rng.standard_normal((2, 2)), rng.standard_normal(2)
    value = mutant.lambdify()(model.Sigma, model.R, model.r, model.sigma2, P, w_num)
    assert relative_error(value, risk(model, P, w_num)) > 1e-3


@pytest.mark.parametrize("d", [1, 2, 3])
def test_optimal_preconditioner_and_risk_of_weights_statements(d):
    rng = np.random.default_rng(SEED + 31 * d)
    f_P = sym.optimal_preconditioner_statement(d).lambdify()
    f_L = sym.risk_of_weights_statement(d).lambdify()
    for n in (1, 3):
        model = random_model(rng, d, n)
        w = rng.standard_normal(n)
        A, B, C = weight_moments(model, w)
        assert relative_error(f_P(model.Sigma, A, B, C), optimal_preconditioner(model, w)) < RTOL
        assert relative_error(f_L(model.sigma_eigenvalues, model.M, A, B, C),
                              risk_of_weights(model, w)) < RTOL


@pytest.mark.parametrize("d, n", [(1, 1), (2, 3), (4, 2), (3, 5)])
def test_corollary_statement_is_linear_attention_risk(d, n):
    rng = np.random.default_rng(SEED + 17 * d + n)
    f = sym.corollary_statement(n).lambdify()
    model = random_model(rng, d, n, identity_sigma=True)
    value = f(d, model.sigma2, model.R, model.r)
    assert relative_error(value, linear_attention_risk(model)) < RTOL
    # The same formula without the "+ 1" in n(d + σ² + 1) is a different number.
    statement = sym.corollary_statement(n)
    mutant = statement.lambdify(statement.expression.subs(sym.d + sym.sigma2 + 1,
                                                          sym.d + sym.sigma2))
    assert relative_error(mutant(d, model.sigma2, model.R, model.r),
                          linear_attention_risk(model)) > 1e-3


def test_general_forms_instantiate_to_explicit_forms():
    assert sym.instantiate(sym.h2_statement().conclusion.rhs, d=3) == \
        sym.h2_statement(3).conclusion.rhs
    assert sym.instantiate(sym.h1_statement().conclusion.rhs, n=2) == \
        sym.h1_statement(2).conclusion.rhs
    risk_general = sym.risk_statement()
    assert isinstance(risk_general.conclusion.rhs.args[0], sympy.Basic)
    assert r"\operatorname{tr}" in risk_general.latex()
    assert set(sym.all_statements()) >= {"h1", "h2", "phi", "theorem2", "theorem3", "risk",
                                         "corollary"}
    for statement in sym.all_statements().values():
        assert statement.latex(hypotheses=True)
        assert str(statement)


# ----------------------------------------------------------------------- symbolic proofs

@pytest.mark.parametrize("d, n", [(1, 1), (1, 2), (2, 1), (2, 2)])
def test_stationarity_at_the_fixed_point(d, n):
    assert sym.prove_stationarity(d, n).is_zero_matrix


@pytest.mark.parametrize("d, n", [(1, 1), (1, 2), (2, 1)])
def test_stationarity_needs_the_fixed_point_equation(d, n):
    residual = sym.prove_stationarity(d, n, assume_fixed_point=False)
    assert any(entry != 0 for entry in residual)


def test_stationarity_fails_for_the_poster_preconditioner():
    residual = sym.prove_stationarity(2, 1, form="poster")
    assert any(entry != 0 for entry in residual)


def test_poster_preconditioner_residual():
    s1, s2 = sym.symbol_vector("s", 2)
    assert sym.poster_preconditioner_residual("theorem") == 0
    poster = sym.poster_preconditioner_residual("poster")
    assert sympy.simplify(poster - (s2 - s1) / s1) == 0
    assert poster.subs(s2, s1) == 0            # scalar Σ: the two forms are proportional
    assert sym.poster_preconditioner_residual("poster", n_size=1) == poster


@pytest.mark.parametrize("n", [1, 2, 3])
def test_h1_is_the_rayleigh_quotient(n):
    assert sym.prove_h1_is_rayleigh_quotient(n) == 0


@pytest.mark.parametrize("d", [1, 2])
def test_optimal_preconditioner_is_a_global_minimiser(d):
    assert sym.prove_optimal_preconditioner(d).is_zero_matrix
    identity_residual, eigenvalues = sym.preconditioner_hessian(d)
    assert identity_residual.is_zero_matrix
    assert all(value.is_nonnegative for value in eigenvalues)
    assert sym.prove_risk_of_weights(d) == 0


def test_wrong_preconditioner_is_not_stationary():
    # A(BΣ + CI)⁻¹ with B and C swapped is not a critical point: the check can fail.
    Sigma = sym.symbol_matrix("Sigma", 2, symmetric=True)
    P = sym.symbol_matrix("P", 2)
    L = sympy.expand(sym.risk_in_moments(Sigma, P, sym.A_, sym.B_, sym.C_).doit())
    wrong = sym.A_ * (sym.C_ * Sigma + sym.B_ * sympy.eye(2)).inv()
    gradient = P.applyfunc(lambda p: sympy.diff(L, p)).xreplace(dict(zip(P, wrong)))
    assert not gradient.applyfunc(sympy.cancel).is_zero_matrix


@pytest.mark.parametrize("d, n", [(1, 1), (1, 2), (2, 1), (2, 2)])
def test_corollary(d, n):
    assert sym.prove_corollary(d, n) == 0


@pytest.mark.parametrize("d, n", [(1, 1), (1, 2), (2, 1), (2, 2)])
def test_closed_form_risk_from_gaussian_moments(d, n):
    assert sym.prove_risk_from_gaussian_moments(d, n) == 0


def test_gaussian_moments_detect_a_wrong_closed_form():
    assert sym.prove_risk_from_gaussian_moments(1, 1, plus_identity=False) != 0


def test_isserlis_agrees_with_sympy_stats():
    from sympy.stats import E, Normal

    rho = sympy.Symbol("rho", real=True)
    X, Y = Normal("X", 0, 1), Normal("Y", 0, 1)
    Z1, Z2 = X, rho * X + sympy.sqrt(1 - rho**2) * Y
    covariance = sympy.Matrix([[1, rho], [rho, 1]])
    for powers in [(2, 2), (4, 0), (1, 3), (3, 1), (2, 1)]:
        indices = (0,) * powers[0] + (1,) * powers[1]
        expected = sympy.expand(E(sympy.expand(Z1 ** powers[0] * Z2 ** powers[1])))
        assert sympy.expand(sym.isserlis_moment(indices, covariance) - expected) == 0


@pytest.mark.parametrize("d, n", [(1, 2), (2, 1), (2, 2)])
def test_eigenbasis_reduction(d, n):
    assert sym.prove_orthogonal_invariance(d, n) == (0, 0, 0, 0)


def test_fixed_point_map_is_constant_only_in_degenerate_sizes():
    assert sym.prove_fixed_point_map_constant(1, 2) == 0
    assert sym.prove_fixed_point_map_constant(2, 1) == 0
    # d = n = 2: φ' is not identically 0 — exact value at a rational point.
    slope = sympy.diff(sym.fixed_point_map_expression(2, 2), sym.gamma)
    s_1, s_2 = sym.symbol_vector("s", 2)
    l_1, l_2 = sym.symbol_vector("lambda", 2)
    a_1, a_2 = sym.symbol_vector("a", 2)
    point = {sym.gamma: 2, s_1: 1, s_2: 3, sym.M: 5, l_1: sympy.Rational(1, 2), l_2: 2,
             a_1: 1, a_2: 1}
    assert slope.xreplace(point) != 0
