"""Interval certificates (:mod:`wpgd_theory.verify.certify`) against independent routes.

Independent routes: the solver's 40-digit ``mpmath.findroot`` fixed point, the float
``find_fixed_points`` (grid + brentq), and dense float sampling of ``φ'``. Tolerances: float roots
are accurate to ~1e-15 relative, so they must lie within an enclosure widened by 1e-12·γ.
"""
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


@pytest.mark.parametrize("kwargs, error", [
    ({"digits": 10}, ValueError), ({"digits": 30.0}, TypeError), ({"digits": True}, TypeError),
    ({"max_boxes": -1}, ValueError),
    ({"digits": 10**6}, ValueError),     # capped as the certify verb: 10⁶ digits ran for hours
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        certify_fixed_point(SpectralInstance([1.0], 0.0, [1.0], [0.5]), **kwargs)


# --------------------------------------------------------------------------- rigorous eigen-data

from types import SimpleNamespace  # noqa: E402

from wpgd_theory.multitask.model import MultitaskModel, solve_multitask  # noqa: E402
from wpgd_theory.verify import enclosures  # noqa: E402
from proofs_checks.check_theorem2 import random_model  # noqa: E402
from proofs_checks.strategies import degenerate_models  # noqa: E402
from wpgd_theory.verify.enclosures import enclose_spectra  # noqa: E402


def _exact_contains(interval, value):
    with mpmath.workdps(80):
        return bool(mpmath.mpf(interval.a) <= mpmath.mpf(value) <= mpmath.mpf(interval.b))


@pytest.mark.parametrize("mp_eigen_limit", [40, 0])   # mpmath eigsy / NumPy eigh route
def test_enclosures_contain_exact_clustered_spectrum(mp_eigen_limit):
    """R = (1 − ρ)I + ρ11ᵀ (ρ = 1/4, exact): eigenvalue 3/4 three times, 7/4 once; the masses of
    a = Eᵀr are ‖r‖² − (1ᵀr)²/4 on the cluster and (1ᵀr)²/4, computed here in exact rationals."""
    from fractions import Fraction
    R = 0.75 * np.eye(4) + 0.25 * np.ones((4, 4))
    r = np.array([0.3, 0.1, 0.2, 0.05])
    enc = enclose_spectra(np.diag([1.0, 2.0]), 0.1, R, r, digits=30, mp_eigen_limit=mp_eigen_limit)
    assert enc.rigorous and len(enc.pairs) == 2
    exact_r = [Fraction(x) for x in r]
    total, mean = sum(x * x for x in exact_r), sum(exact_r) ** 2 / 4
    with mpmath.workdps(80):
        for (lam, a), (value, mass) in zip(enc.pairs, [(0.75, total - mean), (1.75, mean)]):
            assert _exact_contains(lam, value)
            assert _exact_contains(a, mpmath.sqrt(mpmath.mpf(mass.numerator) / mass.denominator))
    assert all(_exact_contains(s, v) for s, v in zip(enc.sigma_eigenvalues, [1.0, 2.0]))
    with mpmath.workdps(80):
        assert _exact_contains(enc.M, mpmath.mpf(0.1) + 3)     # σ² is the float nearest 0.1
    width = max(float(a.delta) for _, a in enc.pairs)
    assert width < (1e-35 if mp_eigen_limit else 1e-13)


def test_enclosures_hold_for_poor_eigenvectors():
    """The bounds are verified, not trusted: eigenvectors perturbed by 1e-6 widen the enclosures
    (to ~1e-5) but they still contain the exact eigenvalues and cluster masses."""
    R = 0.75 * np.eye(4) + 0.25 * np.ones((4, 4))
    r = np.array([0.3, 0.1, 0.2, 0.05])
    theta, Q = np.linalg.eigh(R)
    Q = Q + 1e-6 * np.random.default_rng(0).standard_normal(Q.shape)
    bounds = enclosures._arb_bounds(R, None, theta, Q, r)
    radius = enclosures._weyl_radius(bounds, theta)
    pairs = enclosures._cluster_pairs(theta, bounds, radius)
    assert 1e-7 < radius < 1e-4 and len(pairs) == 2
    masses = [np.sum(r**2) - np.sum(r) ** 2 / 4, np.sum(r) ** 2 / 4]
    for (lam, a), value, mass in zip(pairs, [0.75, 1.75], masses):
        assert _exact_contains(lam, value) and _contains(a, np.sqrt(mass), 1e-15)


def test_multitask_enclosure_matches_its_dense_counterpart():
    model = MultitaskModel([[1, .4, .1], [.4, 1, .2], [.1, .2, 1]], [.6, .5, .3], [3, 5, 4],
                           np.diag([1.0, 2.0]), 0.2)
    dense = model.to_correlated_task_model()
    cert_mt, cert_dense = certify_fixed_point(model), certify_fixed_point(dense)
    assert cert_mt.rigorous and cert_dense.rigorous and cert_mt.unique and cert_dense.unique
    assert cert_mt.enclosures[0].a <= cert_dense.enclosures[0].b
    assert cert_dense.enclosures[0].a <= cert_mt.enclosures[0].b       # overlapping proofs
    gamma = solve_multitask(model).gamma_star
    assert _contains(cert_mt.enclosures[0], gamma, 1e-12 * gamma)
    # solutions are accepted as their models
    assert certify_fixed_point(solve_multitask(model)).count == 1


def test_dense_three_fixed_points_are_certified_rigorously():
    instance = two_cluster_instance(**THREE_FIXED_POINTS)
    cert = certify_fixed_point(instance.to_model(seed=0), digits=15, contraction_refinements=0)
    assert cert.rigorous and cert.count == 3 and cert.unique is False
    for box, root in zip(cert.enclosures, [10.363860692420, 39.203383319967, 91.218440361462]):
        assert _contains(box, root, 1e-11 * root)


def test_without_flint_dense_models_are_not_rigorous(monkeypatch):
    monkeypatch.setattr(enclosures, "flint", None)
    model = CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    cert = certify_fixed_point(model)
    assert cert.unique is True and cert.rigorous is False
    assert "wpgd-theory[rigorous]" in cert.message
    with pytest.raises(ImportError, match=r"wpgd-theory\[rigorous\]"):
        certify_fixed_point(model, rigorous=True)
    # exact spectral input needs no extra
    assert certify_fixed_point(SpectralInstance([1.0, 3.0], 0.5, [0.25, 1.75], [0.3, 0.5]),
                               digits=20, rigorous=True).rigorous


def _spectra(**changes):
    values = dict(sigma_eigenvalues=[1.0, 2.0], sigma2=0.1, R_eigenvalues=[0.5, 1.5],
                  r_coefficients=[0.5, 0.7])
    values.update(changes)
    return SimpleNamespace(**{k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize("changes, error, name", [
    (dict(sigma2=-0.1), ValueError, "sigma2"),
    (dict(sigma2=float("nan")), ValueError, "sigma2"),
    (dict(sigma2="0.1"), TypeError, "sigma2"),
    (dict(R_eigenvalues=[-0.5, 1.5]), ValueError, "R_eigenvalues"),
    (dict(sigma_eigenvalues=[-1.0, 2.0]), ValueError, "sigma_eigenvalues"),
    (dict(sigma_eigenvalues=[0.0, 0.0]), ValueError, "sigma_eigenvalues"),
    (dict(sigma_eigenvalues=[1.0, float("inf")]), ValueError, "sigma_eigenvalues"),
    (dict(r_coefficients=[0.0, 0.0]), ValueError, "r_coefficients"),
    (dict(r_coefficients=[0.5]), ValueError, "r_coefficients"),
    (dict(R_eigenvalues=[[0.5, 1.5]]), ValueError, "R_eigenvalues"),
    (dict(r_coefficients=None), TypeError, "r_coefficients"),
    (dict(sigma2=None), TypeError, "sigma2"),
])
def test_unvalidated_spectra_are_rejected(changes, error, name):
    with pytest.raises(error, match=name):
        certify_fixed_point(_spectra(**changes), digits=15)


def test_spectra_with_M_instead_of_sigma2():
    ok = SimpleNamespace(sigma_eigenvalues=[1.0, 2.0], M=3.1, R_eigenvalues=[0.5, 1.5],
                         r_coefficients=[0.5, 0.7])
    assert certify_fixed_point(ok, digits=15).unique is True
    with pytest.raises(ValueError, match="M must be"):
        certify_fixed_point(SimpleNamespace(**{**vars(ok), "M": 1.0}), digits=15)


@pytest.mark.parametrize("kwargs", [{"digits": np.int64(20)}, {"max_boxes": np.int32(400)}])
def test_numpy_integers_are_accepted(kwargs):
    assert certify_fixed_point(SpectralInstance([1.0], 0.0, [1.0], [0.5]), **kwargs).unique


def test_wrong_type_names_the_argument():
    with pytest.raises(TypeError, match="spectra must be"):
        certify_fixed_point(np.eye(2))
    with pytest.raises(TypeError, match="rigorous"):
        certify_fixed_point(SpectralInstance([1.0], 0.0, [1.0], [0.5]), rigorous="yes")


@settings(deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_float_route_enclosures_contain_60_digit_eigen_data(seed, singular_sigma, singular_R):
    """Independent route: mpmath.eigsy at 60 digits. Every eigenvalue of Σ and R lies in its
    enclosure, and each R-cluster's mass Σ a_i² (over the 60-digit eigenvalues inside the
    cluster's interval) lies in the enclosed mass."""
    rng = np.random.default_rng(seed)
    model = random_model(rng, int(rng.integers(1, 5)), int(rng.integers(1, 7)),
                         singular_sigma=singular_sigma, singular_R=singular_R)
    assert_enclosures_contain_60_digit_eigen_data(model)


@settings(deadline=None, max_examples=12)
@given(degenerate_models(max_d=5, max_n=6))
def test_enclosures_and_certificates_on_degenerate_spectra(model):
    """Repeated and nearly repeated eigenvalues of Σ and R (issue #18): the float-route
    enclosures contain the 60-digit eigen-data, and the certificate's enclosures contain the
    50-digit solver's γ* (exactly: both are accurate far beyond the 20-digit interval width)."""
    assert_enclosures_contain_60_digit_eigen_data(model)
    solution = solve_model(model, precision=50)
    if not solution.fixed_points:
        return
    cert = certify_fixed_point(model, digits=20)
    assert any(_contains(box, solution.gamma_star, 0) for box in cert.enclosures)


def assert_enclosures_contain_60_digit_eigen_data(model):
    enc = enclose_spectra(model.Sigma, model.sigma2, model.R, model.r, digits=20,
                          mp_eigen_limit=0)
    assert enc.rigorous
    with mpmath.workdps(60):
        s_exact = mpmath.eigsy(mpmath.matrix(model.Sigma.tolist()))[0]
        lam, E = mpmath.eigsy(mpmath.matrix(model.R.tolist()))
        a = E.T * mpmath.matrix(model.r.tolist())
        s_sorted = sorted(max(s_exact[i], 0) for i in range(model.d))
        for box, value in zip(enc.sigma_eigenvalues, s_sorted):
            assert mpmath.mpf(box.a) <= value <= mpmath.mpf(box.b)
        covered = set()
        for box, root_mass in enc.pairs:
            inside = [i for i in range(model.n)
                      if mpmath.mpf(box.a) <= max(lam[i], 0) <= mpmath.mpf(box.b)]
            covered.update(inside)
            mass = mpmath.fsum(a[i] ** 2 for i in inside)
            assert mpmath.mpf(root_mass.a) ** 2 <= mass * (1 + mpmath.mpf(10) ** -40)
            assert mass <= mpmath.mpf(root_mass.b) ** 2 * (1 + mpmath.mpf(10) ** -40)
        # eigenvalues in no kept cluster carry no mass
        assert all(abs(a[i]) < 1e-12 for i in range(model.n) if i not in covered)


def test_rigorous_certificate_with_exact_eigenvectors():
    # Diagonal Σ: the float eigenvectors are exact, so the ball of squared residuals is [0 ± ρ²],
    # which reaches below 0; its square root must still give a finite upper bound (regression:
    # arb.sqrt of such a ball was indeterminate and certify_fixed_point raised ValueError).
    model = CorrelatedTaskModel(np.diag([1.0, 2.0, 3.0]), [[1, .3], [.3, 1]], [.5, .2], 0.2)
    certificate = certify_fixed_point(model, digits=20)
    assert certificate.rigorous and certificate.unique
    (enclosure,) = certificate.enclosures
    gamma = solve_model(model).gamma_star          # float64: within a few ulps of the enclosure
    assert float(enclosure.a) - 4e-15 * gamma <= gamma <= float(enclosure.b) + 4e-15 * gamma
