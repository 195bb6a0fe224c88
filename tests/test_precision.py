"""The high-precision route (issue #10): the float64 eigendecomposition refined in multiprecision
(Ogita–Aishima, :mod:`wpgd_theory.core.multiprecision`) instead of a from-scratch mpmath Jacobi.

Independent routes: the solver at 100 digits, ``mpmath.eigsy`` (Jacobi) on small matrices, and
the closed form for ``Σ = I`` (``ω* ∝ ((1 + M)I + R)⁻¹r``, ``L* = M − d·rᵀ((1 + M)I + R)⁻¹r``)
solved with ``mpmath.lu_solve``. Speed is measured in benchmarks/bench_solver.py, not here.
"""
import os

import mpmath
import numpy as np
import pytest

from proofs_checks.strategies import random_model
from wpgd_theory import CorrelatedTaskModel, MultitaskModel, solve_model
from wpgd_theory.core import multiprecision


def max_abs_difference(got, want):
    return max(abs(g - w) for g, w in zip(np.ravel(got), np.ravel(want)))


def assert_agree(solution, reference, tolerance):
    with mpmath.workdps(110):
        tolerance = mpmath.mpf(tolerance)
        assert abs(solution.risk - reference.risk) <= tolerance * abs(reference.risk)
        assert abs(solution.gamma_star - reference.gamma_star) <= tolerance
        assert max_abs_difference(solution.weights, reference.weights) <= tolerance
        assert max_abs_difference(solution.preconditioner, reference.preconditioner) <= tolerance


@pytest.fixture(params=["flint", "mpmath"])
def backend(request, monkeypatch):
    """Run with python-flint's arb_mat products and with the pure-mpmath fallback."""
    if request.param == "flint":
        pytest.importorskip("flint")
    else:
        monkeypatch.setattr(multiprecision, "flint", None)
    return request.param


def test_fifty_digits_agree_with_a_hundred_digit_reference(backend):
    model = random_model(5, d=6, n=6, spread=3.0)
    assert_agree(solve_model(model, precision=50), solve_model(model, precision=100), 1e-45)


def test_fifty_digits_at_d_n_50():
    """d = n = 50 (took ~20 s with the Jacobi route; ~0.4 s now): 50 digits vs 70 digits."""
    model = random_model(7, d=50, n=50, spread=2.0)
    digits50, digits70 = solve_model(model, precision=50), solve_model(model, precision=70)
    assert_agree(digits50, digits70, 1e-45)
    assert digits50.stationarity_residual < mpmath.mpf(10) ** -50
    assert abs(float(digits50.risk) - solve_model(model).risk) < 1e-12 * model.M


def test_clustered_eigenvalues_match_the_isotropic_closed_form(backend):
    """Σ = I (one cluster of d equal eigenvalues) and a block R (repeated zero eigenvalues)."""
    multitask = MultitaskModel([[1, .4, .2], [.4, 1, .3], [.2, .3, 1]], [.5, .6, .1], [4, 3, 5],
                               np.eye(5), 0.3)
    dense = multitask.to_correlated_task_model()
    solution = solve_model(dense, precision=50)
    with mpmath.workdps(80):
        M = mpmath.mpf(dense.sigma2) + 5      # exact σ² + tr Σ (the float M is rounded)
        system = mpmath.matrix(dense.R.tolist()) + (1 + M) * mpmath.eye(dense.n)
        u = mpmath.lu_solve(system, mpmath.matrix(dense.r.tolist()))
        closed_form = M - dense.d * mpmath.fdot(u, dense.r.tolist())
        assert abs(solution.risk - closed_form) < mpmath.mpf(10) ** -45
        scale = solution.weights[0] / u[0]         # ω* is proportional to u
        assert max_abs_difference(solution.weights, [scale * v for v in u]) < 1e-45


@pytest.mark.parametrize("gap", [1e-8, 1e-20, 0.0])
def test_refined_eigenpairs_against_jacobi(backend, gap):
    """Near-degenerate and exactly repeated eigenvalues: the eigenvalues agree with mpmath's
    Jacobi to 1e-55 (relative to max|A|) and the residual ‖AX − XΛ‖ is at that level too."""
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    A = (Q * np.array([2.0, 2.0 + gap, 2.0, 0.5, -1.0, 0.0])) @ Q.T
    A = A / 2 + A.T / 2
    with mpmath.workdps(60):
        values, vectors = multiprecision.refine_eigh(A)
        reference = sorted(mpmath.eigsy(mpmath.matrix(A.tolist()))[0])
        assert max_abs_difference(values, reference) < mpmath.mpf(10) ** -55
        Amp = multiprecision.to_mpf_array(A)
        residual = Amp @ vectors - vectors * values
        assert max(abs(v) for v in residual.ravel()) < mpmath.mpf(10) ** -55
        gram = vectors.T @ vectors - np.eye(6)
        assert max(abs(v) for v in gram.ravel()) < mpmath.mpf(10) ** -40


def test_scaled_and_zero_matrices():
    with mpmath.workdps(40):
        values, _ = multiprecision.refine_eigh(np.diag([3e-300, 1e-300]))
        assert abs(values[1] / mpmath.mpf(3e-300) - 1) < mpmath.mpf(10) ** -38
        values, vectors = multiprecision.refine_eigh(np.zeros((3, 3)))
        assert all(v == 0 for v in values) and vectors[0, 0] == 1


@pytest.mark.parametrize("matrix, error, pattern", [
    ([[1.0, 2.0], [0.0, 1.0]], ValueError, r"matrix is not symmetric"),
    (np.ones((2, 3)), ValueError, r"matrix must be square"),
    ([[1.0, np.nan], [np.nan, 1.0]], ValueError, r"matrix contains NaN or inf"),
    ([[1j, 0], [0, 1]], TypeError, r"matrix must be a real numeric array"),
])
def test_refine_eigh_refuses_bad_matrices_naming_them(matrix, error, pattern):
    with pytest.raises(error, match=pattern):
        multiprecision.refine_eigh(matrix)


def test_mp_preconditioner_product_matches_object_matmul(monkeypatch):
    pytest.importorskip("flint")
    rng = np.random.default_rng(0)
    with mpmath.workdps(50):
        A = multiprecision.to_mpf_array(rng.standard_normal((5, 4))) / 3
        B = multiprecision.to_mpf_array(rng.standard_normal((4, 3))) / 7
        assert max_abs_difference(multiprecision.mp_matmul(A, B), A @ B) < mpmath.mpf(10) ** -48


def test_precision_keeps_working_for_singular_sigma():
    model = CorrelatedTaskModel(np.diag([0.0, 1.0, 3.0]), np.eye(2), [0.6, 0.3], 0.2)
    assert_agree(solve_model(model, precision=40), solve_model(model, precision=80), 1e-37)


# --------------------------------------------------------------------------- clusters (issue #18)
# Inside a repeated or nearly repeated eigenvalue, the eigenvectors eigh returns depend on the
# BLAS build; refine_eigh must not depend on them. The matrices below put clusters there on
# purpose (proofs_checks.strategies.clustered_matrix), so the tests fail on every machine.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from proofs_checks.strategies import (  # noqa: E402
    CLUSTER_KINDS,
    SEPARATIONS,
    clustered_matrix,
    degenerate_model,
    degenerate_models,
)
from wpgd_theory import solve_optimal_wpgd  # noqa: E402

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def assert_eigenpairs(A, values, vectors, digits):
    """Against mpmath's Jacobi (eigsy) at ``digits + 20``: eigenvalues to 10^-digits relative to
    max|A|; residual ‖AX − XΛ‖ and ‖XᵀX − I‖ at that level (max-entry norms). The vectors
    themselves are not compared: inside a cluster any orthonormal basis is right."""
    with mpmath.workdps(digits + 20):
        scale = max(abs(mpmath.mpf(v)) for v in A.ravel())
        tolerance = mpmath.mpf(10) ** -digits * scale
        reference = sorted(mpmath.eigsy(mpmath.matrix(A.tolist()))[0])
        assert max_abs_difference(values, reference) <= tolerance
        assert all(a <= b for a, b in zip(values[:-1], values[1:]))
        Amp = multiprecision.to_mpf_array(A)
        assert max(abs(v) for v in (Amp @ vectors - vectors * values).ravel()) <= tolerance
        gram = vectors.T @ vectors - np.eye(len(values), dtype=object)
        assert max(abs(v) for v in gram.ravel()) <= mpmath.mpf(10) ** -digits


@pytest.mark.parametrize("kind", CLUSTER_KINDS)
@pytest.mark.parametrize("separation", SEPARATIONS)
@pytest.mark.parametrize("clusters", [1, 3])
def test_refine_eigh_on_clusters(backend, kind, separation, clusters):
    """One cluster of all 7 eigenvalues, or 3 clusters at once; 50 digits (5 guard)."""
    A = clustered_matrix(11, 7, kind=kind, clusters=clusters, separation=separation)
    with mpmath.workdps(55):
        values, vectors = multiprecision.refine_eigh(A)
    assert_eigenpairs(A, values, vectors, 50)


@pytest.mark.parametrize("digits", [15, 300])
def test_refine_eigh_nested_clusters_at_low_and_high_precision(digits):
    """Clusters inside clusters (1, 1 + 1e-9, 1 + 1e-9 + 1e-20 below float64's resolution) and a
    negative eigenvalue: the recursion resolves each level; 15 digits is the lowest precision
    the solver accepts, 300 digits is past float64's exponent range for the targets."""
    Q = np.linalg.qr(np.random.default_rng(5).standard_normal((4, 4)))[0]
    inner = np.array([[1e-20, 0.0], [0.0, 0.0]])          # exact in floats, unlike a rotation
    A = np.zeros((5, 5))
    A[:4, :4] = (Q * np.array([1.0, 1.0, 1.0 + 1e-9, -0.5])) @ Q.T
    A = (A + A.T) / 2
    A[4, 4] = 1.0
    A[3:, 3:] += inner
    with mpmath.workdps(digits + 5):
        values, vectors = multiprecision.refine_eigh(A)
    assert_eigenpairs(A, values, vectors, digits)


@settings(deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.sampled_from(CLUSTER_KINDS),
       st.sampled_from(SEPARATIONS), st.integers(1, 4), st.booleans())
def test_refine_eigh_on_random_clustered_spectra(seed, d, kind, separation, clusters, signed):
    A = clustered_matrix(seed, d, kind=kind, clusters=clusters, separation=separation)
    if signed:                                   # indefinite: shift by a float eigenvalue
        A = A - np.median(np.linalg.eigvalsh(A)) * np.eye(d)
    with mpmath.workdps(45):
        values, vectors = multiprecision.refine_eigh(A)
    assert_eigenpairs(A, values, vectors, 40)


def assert_solver_agrees(model, digits=50, reference_digits=80):
    """``precision=digits`` against float64 (risk 1e-11 relative, as in test_solver) and
    against ``reference_digits`` (to 10^-(digits-5): risk relative, γ*, P*, ω* relative to
    their largest entries)."""
    fast = solve_model(model)
    exact, reference = (solve_model(model, precision=p) for p in (digits, reference_digits))
    if not fast.fixed_points:
        return
    assert float(exact.risk) == pytest.approx(fast.risk, rel=1e-11)
    with mpmath.workdps(reference_digits + 10):
        tolerance = mpmath.mpf(10) ** (5 - digits)
        assert abs(exact.risk - reference.risk) <= tolerance * reference.risk
        assert abs(exact.gamma_star - reference.gamma_star) <= tolerance * reference.gamma_star
        for name in ("weights", "preconditioner"):
            want = getattr(reference, name)
            scale = max(abs(v) for v in want.ravel())
            assert max_abs_difference(getattr(exact, name), want) <= tolerance * scale
        assert exact.stationarity_residual < tolerance


@settings(deadline=None, max_examples=15)  # each example: three solves, two in mpmath
@given(degenerate_models(max_d=7, max_n=7))
def test_solver_on_degenerate_spectra_agrees_across_precisions(model):
    assert_solver_agrees(model)


@pytest.mark.parametrize("sigma_kind, R_kind", [("rotated", "exact"), ("exact", "perturbed"),
                                                ("perturbed", "exact")])
def test_solver_on_degenerate_sigma_and_R(backend, sigma_kind, R_kind):
    model = degenerate_model(4, 6, 5, sigma_kind=sigma_kind, R_kind=R_kind, clusters=2,
                             separation=1e-17, sigma2=0.1)
    assert_solver_agrees(model)


def test_multitask_model_with_a_repeated_task_block():
    """The multitask model's dense R has a zero eigenvalue of multiplicity n − K and, with two
    identical tasks, a repeated nonzero one; Σ = Q(2I)Qᵀ is the issue #18 covariance."""
    Q = np.linalg.qr(np.random.default_rng(2).standard_normal((4, 4)))[0]
    multitask = MultitaskModel([[1, .5, .5], [.5, 1, .5], [.5, .5, 1]], [.4, .4, .4], [3, 3, 2],
                               Q @ (2 * np.eye(4)) @ Q.T, 0.2)
    assert_solver_agrees(multitask.to_correlated_task_model())


def rotated_identity_seeds():
    """Issue #18's acceptance sweep: 40 seeds per d under HYPOTHESIS_PROFILE=thorough (≈ 3 min),
    a representative subset by default."""
    if THOROUGH:
        return [(d, seed) for d in (2, 4, 10, 50) for seed in range(40)]
    return [(2, 0), (4, 1), (4, 2), (4, 3), (10, 4), (50, 5)]


@pytest.mark.parametrize("d, seed", rotated_identity_seeds())
def test_rotated_multiples_of_the_identity(d, seed):
    """Σ = Q(2I)Qᵀ, R = [[1]], r = [0.5], σ² = 0 (the issue #18 instance, which raised
    ArithmeticError for 14 of 40 seeds at d = 4 on one BLAS build): 50 digits agree with
    float64 to 1e-14 relative risk (float64's own error is a few ulps) and with 100 digits to
    1e-45 (risk relative, P* and ω* absolute; both are O(1))."""
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))[0]
    args = (Q @ (2 * np.eye(d)) @ Q.T, [[1.0]], [0.5], 0.0)
    fast = solve_optimal_wpgd(*args)
    digits50 = solve_optimal_wpgd(*args, precision=50)
    assert abs(float(digits50.risk) - fast.risk) <= 1e-14 * fast.risk
    assert_agree(digits50, solve_optimal_wpgd(*args, precision=100), 1e-45)


def test_a_thousand_digits_on_clusters_below_float64():
    """Σ and R with clusters separated by 1e-17 (2 each), d = n = 4, at 1000 digits (0.1 s):
    against 1020 digits to 1e-995 (risk relative; P*, ω* relative to their largest entries)."""
    model = degenerate_model(1, 4, 4, sigma_kind="perturbed", R_kind="perturbed", clusters=2,
                             separation=1e-17, sigma2=0.0)
    assert_solver_agrees(model, digits=1000, reference_digits=1020)


@pytest.mark.skipif(not THOROUGH, reason="≈ 12 s of CPU: HYPOTHESIS_PROFILE=thorough")
def test_fifty_digits_at_d_200_on_three_clusters():
    """d = 200 (Σ: three rotated clusters), n = 30 (R: three exact equicorrelation blocks):
    50 digits against float64 and against 80 digits."""
    model = degenerate_model(3, 200, 30, sigma_kind="rotated", R_kind="exact", clusters=3,
                             sigma2=0.1)
    assert_solver_agrees(model)
