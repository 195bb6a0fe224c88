"""Interval certificates (:mod:`wpgd_theory.verify.certify`) against independent routes.

Independent routes: the solver's 40-digit ``mpmath.findroot`` fixed point, the float
``find_fixed_points`` (grid + brentq), and dense float sampling of ``φ'``. Tolerances: float roots
are accurate to ~1e-15 relative, so they must lie within an enclosure widened by 1e-12·γ.
"""
import mpmath
import numpy as np
import pytest
from mpmath import iv

from wpgd_theory.core.model import CorrelatedTaskModel
from wpgd_theory.core.solver import solve_model
from wpgd_theory.core.spectral import find_fixed_points, fixed_point_map, fixed_point_map_derivative
from wpgd_theory.verify.certify import certify_fixed_point
from wpgd_theory.verify.search import SpectralInstance, two_cluster_instance

THREE_FIXED_POINTS = dict(n=200, d=50, s_large=0.14, s_small=0.0025, k_large=1, sigma2=0.005,
                          lam_small=0.5, lam_large=190.0, mass_large=0.2)
"""Found by ``adversarial_search(200, 50, seed=0)`` and rounded; Δ_ΣΔ_R = 26.5 ≫ M + s_min."""


def _contains(box, x, slack):
    """Point-in-interval with exact mpf endpoints (iv comparisons are three-valued)."""
    with mpmath.workdps(60):
        return bool(mpmath.mpf(box.a) - slack <= x <= mpmath.mpf(box.b) + slack)


def _sampled_sup_slope(spectra, lo, hi, samples=20001):
    return float(np.max(fixed_point_map_derivative(np.linspace(lo, hi, samples), spectra)))


@pytest.fixture(scope="module")
def three():
    instance = two_cluster_instance(**THREE_FIXED_POINTS)
    return instance, certify_fixed_point(instance, digits=30)


def test_three_fixed_points_are_certified(three):
    instance, cert = three
    assert not instance.gap_condition_holds
    assert cert.unique is False and cert.count == 3 and cert.rigorous
    roots = find_fixed_points(instance, grid_size=4097).fixed_points
    assert roots.size == 3
    for box, root in zip(cert.enclosures, roots):
        assert _contains(box, root, 1e-12 * root)
    assert cert.width < 1e-24
    assert [s.a > 1 for s in cert.slopes] == [False, True, False]   # repelling middle point
    assert all(s.b < 1 for k, s in enumerate(cert.slopes) if k != 1)


def test_contraction_bound_bounds_sampled_slope(three):
    instance, cert = three
    sampled = _sampled_sup_slope(instance, float(cert.bracket.a), float(cert.bracket.b))
    assert sampled > 1                       # not a contraction
    assert sampled <= cert.contraction_bound <= 1.5 * sampled


def test_unique_fixed_point_of_a_model_matches_the_40_digit_solver():
    model = CorrelatedTaskModel(np.diag([1.0, 2.0, 5.0]), [[1, .5, .2], [.5, 1, .1], [.2, .1, 1]],
                                [.6, .3, .2], 0.3)
    assert model.spectral_gap_sigma * model.spectral_gap_R < model.M + 1.0
    cert = certify_fixed_point(model, digits=30)
    exact = solve_model(model, precision=40).gamma_star
    assert cert.unique is True and cert.rigorous and cert.contraction_bound < 1
    assert _contains(cert.enclosures[0], exact, mpmath.mpf(10) ** -25)
    assert cert.width < 1e-20


def test_constant_map_single_relevant_eigenvalue():
    # r lives on one eigenvalue: φ ≡ 1 + λ, the fixed point is exactly 1 + λ.
    instance = SpectralInstance([1.0, 3.0], 0.5, [0.25, 1.75], [0.0, 1.2])
    cert = certify_fixed_point(instance, digits=20)
    assert cert.unique is True and _contains(cert.enclosures[0], 2.75, 1e-15)


def test_interval_evaluation_encloses_float_evaluation():
    instance = two_cluster_instance(**THREE_FIXED_POINTS)
    from wpgd_theory.verify.certify import _interval_dps, _interval_spectra
    with _interval_dps(25):
        spectra, rigorous, _ = _interval_spectra(instance, 25, 40)
        for gamma in (2.0, 39.2, 150.0):
            value = fixed_point_map(iv.mpf(gamma), spectra)
            assert rigorous and _contains(value, fixed_point_map(gamma, instance), 1e-12 * gamma)


def test_undecided_when_budget_is_tiny(three):
    instance, _ = three
    cert = certify_fixed_point(instance, digits=20, max_boxes=3, contraction_refinements=0)
    assert cert.unique is None and cert.undecided and "undecided" in cert.message


@pytest.mark.parametrize("kwargs", [{"digits": 10}, {"digits": 30.0}, {"max_boxes": -1}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        certify_fixed_point(SpectralInstance([1.0], 0.0, [1.0], [0.5]), **kwargs)
