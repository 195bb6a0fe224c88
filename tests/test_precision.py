"""The high-precision route (issue #10): the float64 eigendecomposition refined in multiprecision
(Ogita–Aishima, :mod:`wpgd_theory.core.multiprecision`) instead of a from-scratch mpmath Jacobi.

Independent routes: the solver at 100 digits, ``mpmath.eigsy`` (Jacobi) on small matrices, and
the closed form for ``Σ = I`` (``ω* ∝ ((1 + M)I + R)⁻¹r``, ``L* = M − d·rᵀ((1 + M)I + R)⁻¹r``)
solved with ``mpmath.lu_solve``. Speed is measured in benchmarks/bench_solver.py, not here.
"""
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
