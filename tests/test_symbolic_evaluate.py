"""Statements you can use (issue #12 item 4): complete hypotheses, ``Statement.evaluate`` on
concrete models against the numeric solver, K-term multitask forms, and the size guard.

Independent routes: the statement's SymPy formula (lambdified) on one side; the numeric solver
(:func:`solve_model`, :func:`solve_multitask`) and the numeric risk/spectral functions on the
other. Seeds fixed. Tolerances: ``1e-12`` relative for direct formulas (a few dozen flops on O(1)
numbers); ``1e-10`` for P* and the multitask weights, because the statement writes
``(A/C)((γ*/M)Σ + I)⁻¹`` and the solver ``A(BΣ + CI)⁻¹``, equal only up to γ*'s fixed-point
residual, and the block form solves a K×K system where the solver uses an eigendecomposition.
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
)
from wpgd_theory.core.solver import solve_model
from wpgd_theory.core.spectral import (
    find_fixed_points,
    fixed_point_map,
    fixed_point_map_derivative,
    h1,
    h2,
    spectral_gap_condition,
)
from wpgd_theory.multitask.model import (
    MultitaskModel,
    multitask_linear_attention_risk,
    solve_multitask,
)
from wpgd_theory.verify import symbolic as sym

SEED = 20251201
RTOL = 1e-12
RTOL_SOLVER = 1e-10


def relative_error(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)), 1e-300))


def random_correlation(rng, size):
    """A random (size + 1) × (size + 1) correlation matrix: task block and query column."""
    G = rng.standard_normal((size + 1, size + 2))
    J = G @ G.T
    J = J / np.sqrt(np.outer(np.diag(J), np.diag(J)))
    return J[:size, :size], J[:size, size]


def random_sigma(rng, d, identity=False):
    if identity:
        return np.eye(d)
    H = rng.standard_normal((d, d + 1))
    return H @ H.T / d + 0.1 * np.eye(d)


def random_model(rng, d, n, identity_sigma=False):
    R, r = random_correlation(rng, n)
    return CorrelatedTaskModel(random_sigma(rng, d, identity_sigma), R, r,
                               float(rng.uniform(0, 1)))


def random_multitask(rng, d, K, huge=False, identity_sigma=False):
    C, c = random_correlation(rng, K)
    sizes = rng.integers(10**8, 10**9, K) if huge else rng.integers(1, 5, K)
    return MultitaskModel(C, c, sizes, random_sigma(rng, d, identity_sigma),
                          float(rng.uniform(0, 1)))


SIZES = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (2, 4)]


# ------------------------------------------------------------------- hypotheses

def _has_psd(statement):
    return any(isinstance(h, sym.PositiveSemidefinite) for h in statement.hypotheses)


def _mentions(statement, text):
    return any(text in str(h) for h in statement.hypotheses)


@pytest.mark.parametrize("name", ["h1", "theorem2", "theorem3", "risk", "optimal_preconditioner",
                                  "risk_of_weights", "corollary"])
def test_general_statements_list_the_model_assumptions(name):
    statement = sym.all_statements()[name]
    assert _has_psd(statement), name
    assert _mentions(statement, "R[i, i], 1") or name == "optimal_preconditioner" and \
        _mentions(statement, "PSD(Sigma)"), name


def test_explicit_statements_list_the_model_assumptions():
    theorem2 = sym.stationary_point_statement(2, 2)
    for text in ("PSD(Sigma)", "R[i, i], 1", "E.T*E", "U.T*U", "E.T*r", "sigma^2 >= 0",
                 "Eq(gamma,"):
        assert _mentions(theorem2, text), text
    risk_statement = sym.risk_statement(2, 2)
    for text in ("Eq(R_11, 1)", "Eq(R_22, 1)", "sigma^2 >= 0"):
        assert _mentions(risk_statement, text), text
    assert _has_psd(risk_statement) and _has_psd(sym.h2_statement(2))
    assert _has_psd(sym.multitask_stationary_point_statement(2, 3))
    assert r"\succeq 0" in theorem2.latex(hypotheses=True)


# ------------------------------------------------------------------- evaluate: dense models

@pytest.mark.parametrize("d, n", SIZES)
def test_stationary_point_evaluate_is_the_solver_output(d, n):
    rng = np.random.default_rng(SEED + 10 * d + n)
    statement = sym.stationary_point_statement(d, n)
    for _ in range(3):
        model = random_model(rng, d, n)
        solution = solve_model(model)
        result = statement.evaluate(model)
        assert result["gamma"] == pytest.approx(solution.gamma_star, rel=1e-15)
        assert relative_error(result["weights"], solution.weights) < RTOL
        assert relative_error(result["preconditioner"], solution.preconditioner) < RTOL_SOLVER
        # every fixed point, passed explicitly, is a stationary point of the closed-form risk
        for gamma in find_fixed_points(model).fixed_points:
            point = statement.evaluate(model, gamma=gamma)
            P, w = point["preconditioner"], point["weights"]
            assert relative_error(P, optimal_preconditioner(model, w)) < RTOL_SOLVER


def test_a_mutated_statement_disagrees_with_the_solver():
    rng = np.random.default_rng(SEED)
    model = random_model(rng, 2, 2)
    statement = sym.stationary_point_statement(2, 2)
    mutant_conclusion = sympy.Tuple(*[
        sympy.Eq(part.lhs, part.rhs.xreplace({sym.gamma: sym.gamma / 2}), evaluate=False)
        for part in statement.conclusion])
    mutant = sym.Statement("mutant", statement.hypotheses, mutant_conclusion, statement.symbols,
                           instance=statement.instance)
    good, bad = statement.evaluate(model), mutant.evaluate(model)
    reference = solve_model(model).preconditioner
    assert relative_error(good["preconditioner"], reference) < RTOL_SOLVER
    assert relative_error(bad["preconditioner"], reference) > 1e-3


@pytest.mark.parametrize("d, n", [(1, 2), (2, 2), (3, 1)])
def test_spectral_statements_evaluate_as_the_spectral_functions(d, n):
    rng = np.random.default_rng(SEED + 100 * d + n)
    for _ in range(3):
        model = random_model(rng, d, n)
        gamma, h_bar = rng.uniform(1, 3), rng.uniform(0, 2)
        assert relative_error(sym.h1_statement(n).evaluate(model, h_bar=h_bar)["h1"],
                              h1(h_bar, model.R_eigenvalues, model.r_coefficients)) < RTOL
        assert relative_error(sym.h2_statement(d).evaluate(model, gamma=gamma)["h2"],
                              h2(gamma, model.sigma_eigenvalues, model.M)) < RTOL
        assert relative_error(sym.fixed_point_map_statement(d, n).evaluate(
            model, gamma=gamma)["phi"], fixed_point_map(gamma, model)) < RTOL
        gap = sym.spectral_gap_statement(d, n).evaluate(model, gamma=gamma)
        slope = fixed_point_map_derivative(gamma, model)
        assert gap["gap_condition"] == spectral_gap_condition(model).holds
        assert abs(gap["slope"] - slope) <= RTOL * max(abs(slope), 1e-3)
        assert gap["contraction"] == (abs(slope) < 1)


@pytest.mark.parametrize("d, n", [(1, 1), (2, 3), (3, 2)])
def test_risk_statements_evaluate_as_the_risk_functions(d, n):
    rng = np.random.default_rng(SEED + 7 * d + n)
    model = random_model(rng, d, n)
    P, w = rng.standard_normal((d, d)), rng.standard_normal(n)
    assert relative_error(sym.risk_statement(d, n).evaluate(model, P=P, weights=w)["risk"],
                          risk(model, P, w)) < RTOL
    assert relative_error(sym.optimal_preconditioner_statement(d).evaluate(
        model, weights=w)["preconditioner"], optimal_preconditioner(model, w)) < RTOL
    assert relative_error(sym.risk_of_weights_statement(d).evaluate(model, weights=w)["risk"],
                          risk_of_weights(model, w)) < RTOL
    identity = random_model(rng, d, n, identity_sigma=True)
    assert relative_error(sym.corollary_statement(n).evaluate(identity)["risk"],
                          linear_attention_risk(identity)) < RTOL


def test_substitute_puts_the_numbers_into_the_conclusion():
    rng = np.random.default_rng(SEED + 5)
    model = random_model(rng, 2, 2)
    substituted = sym.h2_statement(2).substitute(model, gamma=1.5)
    assert isinstance(substituted, sympy.Eq)
    assert relative_error(float(substituted.rhs), h2(1.5, model.sigma_eigenvalues, model.M)) \
        < 1e-12
    value = sym.risk_statement(2, 2).substitute(model, P=np.eye(2), weights=[1.0, 0.5]).rhs
    assert relative_error(float(value), risk(model, np.eye(2), np.array([1.0, 0.5]))) < 1e-12
    multitask = random_multitask(rng, 2, 2)
    w_equation, P_equation = sym.multitask_stationary_point_statement(2, 2).substitute(multitask)
    solution = solve_multitask(multitask)
    assert relative_error(np.array(w_equation.rhs, dtype=float).ravel(),
                          solution.block_weights) < RTOL_SOLVER
    assert relative_error(np.array(P_equation.rhs, dtype=float), solution.preconditioner) \
        < RTOL_SOLVER


# ------------------------------------------------------------------- evaluate: multitask

@pytest.mark.parametrize("d, K", [(1, 2), (2, 3), (3, 4)])
def test_multitask_evaluations_scale_with_K(d, K):
    rng = np.random.default_rng(SEED + 31 * d + K)
    eigen_form = sym.stationary_point_statement(d, K)
    block_form = sym.multitask_stationary_point_statement(d, K)
    for huge in (False, True):
        model = random_multitask(rng, d, K, huge=huge)
        solution = solve_multitask(model)
        eigen, block = eigen_form.evaluate(model), block_form.evaluate(model)
        for result in (eigen, block):
            assert relative_error(result["block_weights"], solution.block_weights) < RTOL_SOLVER
            assert relative_error(result["preconditioner"], solution.preconditioner) \
                < RTOL_SOLVER
        assert abs(block["phi"] - block["gamma"]) < 1e-9 * block["gamma"]   # γ = φ(γ) holds
        w = rng.standard_normal(K)
        assert relative_error(sym.optimal_preconditioner_statement(d).evaluate(
            model, weights=w)["preconditioner"], model.block_preconditioner(w)) < RTOL
        assert relative_error(sym.risk_of_weights_statement(d).evaluate(
            model, weights=w)["risk"], model.block_risk(w)) < RTOL
    small = random_multitask(rng, d, K)
    dense = solve_model(small.to_correlated_task_model())
    block = block_form.evaluate(small)
    assert relative_error(small.expand(block["block_weights"]), dense.weights) < RTOL_SOLVER


@pytest.mark.parametrize("K", [1, 3, 5])
def test_multitask_corollary_is_the_multitask_linear_attention_risk(K):
    rng = np.random.default_rng(SEED + K)
    model = random_multitask(rng, 3, K, huge=True, identity_sigma=True)
    assert relative_error(sym.multitask_corollary_statement(K).evaluate(model)["risk"],
                          multitask_linear_attention_risk(model)) < RTOL


@pytest.mark.parametrize("sizes", [(1, 1), (1, 2), (2, 1, 1)])
def test_block_reduction_is_exact(sizes):
    residual, *scalars = sym.prove_multitask_reduction(sizes)
    assert residual.is_zero_matrix and scalars == [0, 0, 0]


# ------------------------------------------------------------------- guards and errors

def test_oversized_explicit_forms_raise_naming_the_limit():
    limit = sym.MAX_EXPLICIT_TERMS
    for build in (lambda: sym.stationary_point_statement(8, limit + 1),
                  lambda: sym.h1_statement(10**6),
                  lambda: sym.multitask_corollary_statement(limit + 1)):
        with pytest.raises(ValueError, match=f"MAX_EXPLICIT_TERMS = {limit}"):
            build()
    # statements whose expansion grows faster have tighter, stated limits
    with pytest.raises(ValueError, match="the limit 256 for stationary_point_statement"):
        sym.stationary_point_statement(16, 32)
    with pytest.raises(ValueError, match="the limit 6 for risk_statement"):
        sym.risk_statement(7, 2)
    with pytest.raises(ValueError, match="the limit 3 for Theorem 6"):
        sym.multilayer_statement(4, 2)
    with pytest.raises(ValueError, match="positive integer"):
        sym.stationary_point_statement(0, 2)


def test_stationary_point_statement_8_by_30_builds():
    # Used to take minutes (symbolic inverse of a 30×30 diagonal); entrywise now.
    statement = sym.stationary_point_statement(8, 30)
    assert len(statement.conclusion[1].rhs) == 30


def test_evaluate_errors_name_the_problem():
    rng = np.random.default_rng(SEED)
    model = random_model(rng, 2, 3)
    with pytest.raises(ValueError, match="n = 2 eigen-terms but the model has 3"):
        sym.stationary_point_statement(2, 2).evaluate(model)
    with pytest.raises(TypeError, match="general form"):
        sym.stationary_point_statement().evaluate(model)
    with pytest.raises(TypeError, match="gamma= is required"):
        sym.h2_statement(2).evaluate(model)
    with pytest.raises(TypeError, match="CorrelatedTaskModel, a MultitaskModel"):
        sym.h2_statement(2).evaluate("model", gamma=1.0)
    with pytest.raises(ValueError, match="Sigma = I_d"):
        sym.corollary_statement(3).evaluate(model)
    multitask = random_multitask(rng, 2, 3)
    with pytest.raises(ValueError, match="K = 2; the model has d = 2, K = 3"):
        sym.multitask_stationary_point_statement(2, 2).evaluate(multitask)


def test_evaluation_repr_is_compact():
    rng = np.random.default_rng(SEED)
    text = repr(sym.stationary_point_statement(2, 2).evaluate(random_model(rng, 2, 2)))
    assert "<array (2, 2)>" in text and "<array (2,)>" in text and "[" not in text
