"""Closed-form risk against independent routes: Monte Carlo, finite differences, the Corollary."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime

from proofs_checks.strategies import models, random_model
from wpgd_theory import (
    CorrelatedTaskModel,
    linear_attention_risk,
    monte_carlo_risk,
    optimal_preconditioner,
    risk,
    risk_gradient,
    risk_of_weights,
    risk_of_weights_gradient,
)


def random_point(model, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((model.d, model.d)) / model.d, rng.standard_normal(model.n)


@settings(max_examples=15)
@given(models(max_d=4, max_n=5, max_spread=1.0), st.integers(0, 2**16))
def test_closed_form_matches_monte_carlo(model, seed):
    """|MC − closed form| < 5 standard errors (a 5σ band: false-alarm rate ~6e-7 per example)."""
    P, weights = random_point(model, seed)
    estimate = monte_carlo_risk(model, P, weights, num_prompts=40_000, seed=seed)
    assert abs(estimate.mean - risk(model, P, weights)) < 5 * estimate.stderr


def test_monte_carlo_detects_a_wrong_fourth_moment():
    """The MC route is sharp enough to reject the risk with half of the Gaussian 2Σ² term dropped.

    E[x xᵀ (xᵀβ)²] = 2Σ E[ββᵀ] Σ + tr(Σ E[ββᵀ]) Σ; using Σ E[ββᵀ] Σ instead removes ‖ω‖²Σ² from
    the B-term.
    """
    model = random_model(4, d=3, n=4, sigma2=0.2)
    P, weights = random_point(model, 1)
    S = model.Sigma
    wrong = risk(model, P, weights) - np.trace(P.T @ S @ P @ (np.sum(weights**2) * S @ S))
    estimate = monte_carlo_risk(model, P, weights, num_prompts=100_000, seed=2)
    assert abs(estimate.mean - wrong) > 10 * estimate.stderr


@given(models(max_d=5, max_n=5), st.integers(0, 2**16))
def test_gradient_matches_finite_differences(model, seed):
    """Central differences are exact for a polynomial of degree 4 up to O(h²·|L''''|): rtol 1e-5."""
    P, weights = random_point(model, seed)
    d = model.d

    def f(z):
        return risk(model, z[: d * d].reshape(d, d), z[d * d:])

    z = np.concatenate([P.ravel(), weights])
    h = 1e-6
    numeric = np.array([(f(z + h * e) - f(z - h * e)) / (2 * h) for e in np.eye(z.size)])
    grad_P, grad_w = risk_gradient(model, P, weights)
    analytic = np.concatenate([grad_P.ravel(), grad_w])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6 * (1 + np.abs(analytic).max()))


@given(models(max_d=5, max_n=5), st.integers(0, 2**16))
def test_optimal_preconditioner_is_the_minimiser_for_fixed_weights(model, seed):
    _, weights = random_point(model, seed)
    P = optimal_preconditioner(model, weights)
    grad_P, _ = risk_gradient(model, P, weights)
    scale = np.abs(risk_gradient(model, np.zeros_like(P), weights)[0]).max()
    assert np.abs(grad_P).max() <= 1e-10 * max(scale, 1.0)
    # Convex quadratic in P: any perturbation does not decrease the risk.
    rng = np.random.default_rng(seed)
    for _ in range(3):
        assert risk(model, P + 0.01 * rng.standard_normal(P.shape), weights) >= \
            risk(model, P, weights) - 1e-12 * model.M
    assert risk_of_weights(model, weights) == pytest.approx(risk(model, P, weights),
                                                            rel=1e-12, abs=1e-12 * model.M)


@given(models(max_d=4, max_n=5), st.integers(0, 2**16))
def test_risk_of_weights_gradient_matches_finite_differences(model, seed):
    _, weights = random_point(model, seed)
    numeric = approx_fprime(weights, lambda w: risk_of_weights(model, w), 1e-7)
    analytic = risk_of_weights_gradient(model, weights)
    np.testing.assert_allclose(analytic, numeric, atol=2e-5 * (1 + np.abs(numeric).max()))


@given(models(max_d=4, max_n=4), st.floats(0.1, 10.0), st.integers(0, 2**16))
def test_risk_is_invariant_to_rescaling(model, c, seed):
    P, weights = random_point(model, seed)
    assert risk(model, c * P, weights / c) == pytest.approx(risk(model, P, weights), rel=1e-10)


@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**16), st.floats(0.0, 2.0))
def test_poster_corollary_is_the_identity_covariance_case(d, n, seed, sigma2):
    """L*_ATT = d + σ² − d (1ᵀr)² / (n(d + σ² + 1) + 1ᵀR1) for Σ = I (poster's Corollary)."""
    base = random_model(seed, 1, n, sigma2=sigma2)
    model = CorrelatedTaskModel(np.eye(d), base.R, base.r, sigma2)
    one = np.ones(n)
    corollary = d + sigma2 - d * (one @ model.r) ** 2 / (n * (d + sigma2 + 1) + one @ model.R @ one)
    assert linear_attention_risk(model) == pytest.approx(corollary, rel=1e-12)


def test_zero_weights_give_the_trivial_risk():
    model = random_model(0, d=3, n=2)
    assert risk_of_weights(model, np.zeros(2)) == model.M
    np.testing.assert_array_equal(optimal_preconditioner(model, np.zeros(2)), 0.0)


@pytest.mark.parametrize("call, pattern", [
    (lambda m: risk(m, np.eye(3), np.ones(2)), r"preconditioner must have shape \(d, d\)"),
    (lambda m: risk(m, np.eye(2), np.ones(3)), r"weights must have shape \(n,\)"),
    (lambda m: risk(m, np.eye(2), [1.0, np.nan]), "weights contains NaN"),
    (lambda m: risk_of_weights("model", np.ones(2)), "model must be a CorrelatedTaskModel"),
])
def test_risk_rejects_bad_input(call, pattern):
    model = random_model(0, d=2, n=2)
    with pytest.raises((ValueError, TypeError), match=pattern):
        call(model)


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1e170, 1e300])
def test_extreme_weight_scales_are_handled_by_scale_invariance(scale):
    """L(cω) = L(ω) at any finite scale (no underflow to M, no OverflowError)."""
    model = random_model(1, d=3, n=4)
    weights = np.random.default_rng(0).standard_normal(4)
    assert risk_of_weights(model, scale * weights) == pytest.approx(
        risk_of_weights(model, weights), rel=1e-12)
    if scale >= 1e-170:  # P(cω) = P(ω)/c is representable
        np.testing.assert_allclose(scale * optimal_preconditioner(model, scale * weights),
                                   optimal_preconditioner(model, weights), rtol=1e-12)


def test_unrepresentable_preconditioner_is_a_clear_error():
    model = random_model(1, d=3, n=4)
    with pytest.raises(ValueError, match="weights are too small"):
        optimal_preconditioner(model, [5e-324, 0.0, 0.0, 0.0])
