"""Scale-free numerics (issue #10): ``(tΣ, tσ²)`` has risk ``t·L*``, the same weights and the
preconditioner ``P*/t``, for every representable ``t`` from 1e-300 to 1e300.

Independent route: the same problem at ``t = 1``; the relations are exact, so the tolerance
(1e-10 relative) only covers round-off of two different float computations.
"""
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs_checks.strategies import random_model
from wpgd_theory import (
    CorrelatedTaskModel,
    MultitaskModel,
    optimal_preconditioner,
    risk,
    risk_of_weights,
    solve_multitask,
    solve_optimal_wpgd,
)

SIGMA = np.diag([1.0, 6.0])
R3 = np.array([[1, .6, .1], [.6, 1, .3], [.1, .3, 1]])
r3 = np.array([.5, .2, .4])
TRUE_RISK = 7.229127892503449  # L* at t = 1 (agrees with the 50-digit route to 1e-15)

log_scales = st.floats(-300, 300, allow_nan=False)


def assert_scaled(solution, base, t, rtol=1e-10):
    assert solution.risk / t == pytest.approx(base.risk, rel=rtol)
    np.testing.assert_allclose(solution.weights, base.weights, rtol=rtol, atol=0)
    np.testing.assert_allclose(solution.preconditioner * t, base.preconditioner, rtol=rtol,
                               atol=rtol * np.abs(base.preconditioner).max())


@pytest.mark.parametrize("t", [2e-15, 1e-16, 1e-300, 1e200, 1e300])
def test_issue_reproducer_is_scale_free(t):
    """Was L*/t = 6.236 at t = 2e-15, 'Sigma is zero' at 1e-16, NaN at large t."""
    solution = solve_optimal_wpgd(t * SIGMA, R3, r3, t)
    assert solution.risk / t == pytest.approx(TRUE_RISK, rel=1e-12)
    model = CorrelatedTaskModel(t * SIGMA, R3, r3, t)
    # The returned (P, ω) attains the returned risk (was 7.240·t at t = 2e-15).
    assert risk(model, solution.preconditioner, solution.weights) / t == pytest.approx(
        TRUE_RISK, rel=1e-12)


@settings(deadline=None)  # examples: the Hypothesis profile (thorough: 1000)
@given(log_scales, st.integers(0, 3))
def test_dense_solution_scales_with_t(log_t, seed):
    model = random_model(seed, 4, 5, sigma2=0.3)
    t = 10.0 ** log_t
    base = solve_optimal_wpgd(model.Sigma, model.R, model.r, model.sigma2)
    scaled = solve_optimal_wpgd(t * model.Sigma, model.R, model.r, t * model.sigma2)
    assert_scaled(scaled, base, t)


@settings(deadline=None)
@given(log_scales)
def test_multitask_solution_scales_with_t(log_t):
    t = 10.0 ** log_t
    args = ([[1, .3, .1], [.3, 1, .2], [.1, .2, 1]], [.6, .1, .4], [3, 10**6, 7])
    base = solve_multitask(MultitaskModel(*args, np.diag([1.0, 0.2, 3.0]), 0.4))
    scaled = solve_multitask(MultitaskModel(*args, t * np.diag([1.0, 0.2, 3.0]), t * 0.4))
    assert scaled.risk / t == pytest.approx(base.risk, rel=1e-10)
    np.testing.assert_allclose(scaled.block_weights, base.block_weights, rtol=1e-10)
    np.testing.assert_allclose(scaled.preconditioner * t, base.preconditioner, rtol=1e-10,
                               atol=1e-10 * np.abs(base.preconditioner).max())


@pytest.mark.parametrize("t", [2.0**-996, 2.0**-53, 2.0**996])
def test_high_precision_route_is_scale_free(t):
    """Powers of two, so that t·Σ is exactly the scaled problem (the check is to 28 digits)."""
    base = solve_optimal_wpgd(SIGMA, R3, r3, 1.0, precision=30)
    scaled = solve_optimal_wpgd(t * SIGMA, R3, r3, t, precision=30)
    with mpmath.workdps(40):
        assert abs(scaled.risk / mpmath.mpf(t) / base.risk - 1) < mpmath.mpf(10) ** -28
        for w, w0 in zip(scaled.weights, base.weights):
            assert abs(w - w0) < mpmath.mpf(10) ** -28
        for p, p0 in zip(scaled.preconditioner.ravel(), base.preconditioner.ravel()):
            assert abs(p * mpmath.mpf(t) - p0) < mpmath.mpf(10) ** -28


@settings(deadline=None)
@given(st.integers(-996, 996))
def test_high_precision_route_scales_with_t(exponent):
    """Property over t = 2^k (exact scaling of the inputs), 25 digits."""
    t = 2.0 ** exponent
    base = solve_optimal_wpgd(SIGMA, R3, r3, 1.0, precision=25)
    scaled = solve_optimal_wpgd(t * SIGMA, R3, r3, t, precision=25)
    with mpmath.workdps(35):
        assert abs(scaled.risk / mpmath.mpf(t) / base.risk - 1) < mpmath.mpf(10) ** -23
        assert max(abs(w - w0) for w, w0 in zip(scaled.weights, base.weights)) < 1e-23


def test_huge_isotropic_sigma_is_finite():
    """Σ = 1e200·I gave NaN risk, weights and P; σ² = 1 is negligible next to it."""
    solution = solve_optimal_wpgd(1e200 * np.eye(2), R3, r3, 1.0)
    base = solve_optimal_wpgd(np.eye(2), R3, r3, 1e-200)
    assert_scaled(solution, base, 1e200)


def test_tiny_query_correlation():
    """r × 1e-200 gave NaN. ω* = (h̄R + I)⁻¹r scales with r, P* does not, L* = M − O(1e-400)."""
    base = solve_optimal_wpgd(SIGMA, R3, r3, 1.0)
    tiny = solve_optimal_wpgd(SIGMA, R3, r3 * 1e-200, 1.0)
    assert tiny.risk == 8.0   # M = 1 + 1 + 6
    np.testing.assert_allclose(tiny.weights, base.weights * 1e-200, rtol=1e-12)
    np.testing.assert_allclose(tiny.preconditioner, base.preconditioner, rtol=1e-12, atol=1e-15)


def test_multitask_tiny_query_correlation():
    """c = (1e-300, 0) gave NaN in solve_multitask."""
    args = (np.eye(2), [3, 4], np.eye(2), 0.1)
    base = solve_multitask(MultitaskModel(args[0], [1.0, 0.0], *args[1:]))
    tiny = solve_multitask(MultitaskModel(args[0], [1e-300, 0.0], *args[1:]))
    assert tiny.risk == pytest.approx(2.1, rel=1e-15)
    np.testing.assert_allclose(tiny.block_weights, base.block_weights * 1e-300, rtol=1e-12)
    np.testing.assert_allclose(tiny.preconditioner, base.preconditioner, rtol=1e-12)


@pytest.mark.parametrize("t", [1e-300, 1e300])
def test_risk_functions_are_scale_free(t):
    model, scaled = (CorrelatedTaskModel(u * SIGMA, R3, r3, u) for u in (1.0, t))
    w = np.array([0.3, -0.2, 0.5])
    assert risk_of_weights(scaled, w) / t == pytest.approx(risk_of_weights(model, w), rel=1e-12)
    P = optimal_preconditioner(model, w)
    np.testing.assert_allclose(optimal_preconditioner(scaled, w) * t, P, rtol=1e-12, atol=1e-15)
    assert risk(scaled, P / t, w) / t == pytest.approx(risk(model, P, w), rel=1e-12)


def test_float32_singular_sigma_is_psd_to_its_own_round_off():
    """A rank-1 float32 Σ has a float64 eigenvalue ~ -1e-8 (float32 rounding): accepted."""
    v = np.array([0.1, 0.7, 0.3], dtype=np.float32)
    Sigma = np.outer(v, v).astype(np.float32) * np.float32(3.3)
    smallest = np.linalg.eigvalsh(Sigma.astype(float)).min()
    assert smallest < -16 * 3 * np.finfo(float).eps * np.abs(Sigma).max()   # not PSD in float64
    model = CorrelatedTaskModel(Sigma, R3, r3, np.float32(0.1))
    assert np.min(model.sigma_eigenvalues) == 0.0
    with pytest.raises(ValueError, match="Sigma is not positive semidefinite"):
        CorrelatedTaskModel(Sigma.astype(float), R3, r3, 0.1)   # the same numbers as float64


def test_multitask_risk_is_never_negative_at_huge_n():
    """Perfectly correlated tasks, σ² = 0: L* = 2/(n + 2) ≈ 4e-16; the old sum gave -8.9e-16."""
    for n in (10**15, 2**52):
        solution = solve_multitask(MultitaskModel([[1.0]], [1.0], [n], np.eye(1), 0.0))
        assert 0 < solution.risk < 1e-14


def test_float32_correlations_are_checked_to_float32_round_off():
    """A float32 correlation matrix whose diagonal is 1 only to float32 precision is accepted."""
    R32 = np.array([[np.float32(1) - np.float32(6e-8), 0.6], [0.6, 1]], dtype=np.float32)
    model = CorrelatedTaskModel(SIGMA, R32, np.array([0.5, 0.2], dtype=np.float32), 0.1)
    assert model.n == 2
    with pytest.raises(ValueError, match="unit diagonal"):
        CorrelatedTaskModel(SIGMA, R32.astype(float), [0.5, 0.2], 0.1)
