"""The batched solver (core.batched) against the single-instance solver, instance by instance.

Tolerances: risk ≤ 1e-12 relative (both solve the same fixed-point equation to full precision
and the risk is stationary in γ there); fixed points ≤ 1e-10 relative (root refinement stops at
a bracket of a few ulps; the two methods differ); P*, ω* ≤ 1e-9 relative to their largest entry.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs_checks.strategies import CLUSTER_KINDS, SEPARATIONS, degenerate_model, random_model
from wpgd_theory.core.batched import (
    BatchedWPGDSolution,
    solve_batched,
    solve_spectra_batched,
)
from wpgd_theory.core.solver import solve_optimal_wpgd
from wpgd_theory.core.spectral import find_fixed_points
from wpgd_theory.verify.search import random_instance, two_cluster_instance

THREE = dict(n=200, d=50, s_large=0.14, s_small=0.0025, k_large=1, sigma2=0.005,
             lam_small=0.5, lam_large=190.0, mass_large=0.2)


def assert_matches_single(batched, Sigma, R, r, sigma2, index):
    single = solve_optimal_wpgd(Sigma, R, r, sigma2)
    assert batched.risk[index] == pytest.approx(single.risk, rel=1e-12, abs=0)
    assert batched.num_fixed_points[index] == len(single.fixed_points)
    assert batched.uniqueness_guaranteed[index] == single.uniqueness_guaranteed
    gammas = [fp.gamma for fp in single.fixed_points]
    k = len(gammas)
    np.testing.assert_allclose(batched.fixed_points[index][:k], gammas, rtol=1e-10)
    assert np.all(np.isnan(batched.fixed_points[index][k:]))
    np.testing.assert_allclose(batched.fixed_point_slopes[index][:k],
                               [fp.slope for fp in single.fixed_points], rtol=1e-6, atol=1e-12)
    for name in ("weights", "preconditioner"):
        expected = getattr(single, name)
        scale = max(np.max(np.abs(expected)), 1e-300)
        np.testing.assert_allclose(getattr(batched, name)[index], expected, rtol=0,
                                   atol=1e-9 * scale)
    if k:
        assert batched.gamma_star[index] == pytest.approx(single.gamma_star, rel=1e-10)
        assert batched.stationarity_residual[index] < 1e-10
    else:
        assert np.isnan(batched.gamma_star[index])


def stack(models):
    return (np.stack([m.Sigma for m in models]), np.stack([m.R for m in models]),
            np.stack([m.r for m in models]), np.array([m.sigma2 for m in models]))


@st.composite
def batches(draw, max_size=6):
    d = draw(st.integers(1, 6))
    n = draw(st.integers(1, 6))
    size = draw(st.integers(1, max_size))
    models = []
    for _ in range(size):
        seed = draw(st.integers(0, 2**32 - 2))
        if draw(st.booleans()):    # repeated or nearly repeated eigenvalues of Σ and R
            models.append(degenerate_model(
                seed, d, n, sigma_kind=draw(st.sampled_from(CLUSTER_KINDS)),
                R_kind=draw(st.sampled_from(("exact", "perturbed", "random"))),
                clusters=draw(st.integers(1, 3)), separation=draw(st.sampled_from(SEPARATIONS)),
                sigma2=draw(st.one_of(st.just(0.0), st.floats(0.01, 2.0)))))
            continue
        models.append(random_model(
            seed, d, n, rank=draw(st.integers(1, n + 1)), zero_sigma_eigenvalues=draw(
                st.integers(0, d - 1)), spread=draw(st.floats(0.0, 4.0)),
            sigma2=draw(st.one_of(st.just(0.0), st.floats(0.01, 2.0)))))
    return models


@given(batches())
def test_random_batches_match_the_single_solver(models):
    """Singular Σ and R (random ranks, zero eigenvalues) and clustered spectra (exact, 1e-17,
    1e-12, 1e-8 separations) included by the strategy."""
    arrays = stack(models)
    batched = solve_batched(*arrays)
    assert batched.batch_shape == (len(models),)
    for i, model in enumerate(models):
        assert_matches_single(batched, model.Sigma, model.R, model.r, model.sigma2, i)


def test_degenerate_instances_in_one_batch():
    """r = 0, Σ = I (φ constant), repeated eigenvalues of R, singular Σ, σ² = 0."""
    d, n = 3, 4
    R = 0.3 * np.ones((n, n)) + 0.7 * np.eye(n)          # eigenvalues 0.7 (×3), 1.9
    cases = [
        (np.diag([1.0, 2.0, 3.0]), R, np.zeros(n), 0.1),                 # r = 0
        (np.eye(d), R, np.full(n, 0.4), 0.2),                            # Σ = I
        (np.diag([0.0, 0.0, 2.0]), R, np.array([0.5, 0.1, 0.0, 0.2]), 0.0),  # rank 1, σ² = 0
        (np.diag([1e-3, 1.0, 1e3]), np.eye(n), np.array([0.6, 0.0, 0.3, 0.0]), 1.0),
        (np.diag([0.5, 0.5, 2.0]), R, np.array([0.2, 0.2, 0.2, 0.2]), 0.3),  # r ∥ top eigvec
    ]
    batched = solve_batched(*(np.stack([c[k] for c in cases]) for k in range(4)))
    for i, case in enumerate(cases):
        assert_matches_single(batched, *case, i)
    assert batched.num_fixed_points[0] == 0 and batched.risk[0] == pytest.approx(6.1)
    assert np.all(batched.weights[0] == 0) and np.all(batched.preconditioner[0] == 0)


@pytest.fixture(scope="module")
def three_fixed_points_model():
    return two_cluster_instance(**THREE).to_model(seed=0)


def test_three_fixed_points_mixed_into_a_batch(three_fixed_points_model):
    model = three_fixed_points_model
    others = [random_model(seed, model.d, model.n, spread=3.0) for seed in range(3)]
    models = [others[0], model, others[1], model, others[2]]
    batched = solve_batched(*stack(models))
    assert batched.num_fixed_points.tolist() == [1, 3, 1, 3, 1]
    assert batched.fixed_points.shape == (5, 3)
    for i, m in enumerate(models):
        assert_matches_single(batched, m.Sigma, m.R, m.r, m.sigma2, i)
    np.testing.assert_allclose(batched.fixed_points[1], [10.36386069242035, 39.203383319967934,
                                                         91.21844036146227], rtol=1e-9)


def test_spectral_route_matches_find_fixed_points():
    rng = np.random.default_rng(0)
    instances = [random_instance(rng, 30, 8) for _ in range(40)]
    out = solve_spectra_batched(*(np.stack([np.asarray(v) for v in values])
                                  for values in zip(*map(_spectra, instances))))
    for i, x in enumerate(instances):
        expected = find_fixed_points(x).fixed_points
        np.testing.assert_allclose(out.fixed_points[i, :out.count[i]], expected, rtol=1e-10)
    three = solve_spectra_batched(*_spectra(two_cluster_instance(**THREE)))
    assert int(three.count) == 3 and float(three.slopes[1]) > 1
    assert three.gamma_star == pytest.approx(10.36386069242035, rel=1e-10)


def _spectra(x):
    return x.sigma_eigenvalues, x.sigma2, x.R_eigenvalues, x.r_coefficients


@pytest.mark.parametrize("batch", [(), (4,), (2, 3)])
def test_batch_shapes(batch):
    size = int(np.prod(batch, dtype=int))
    models = [random_model(seed, 3, 4) for seed in range(max(size, 1))]
    arrays = [a.reshape(batch + a.shape[1:]) if batch else a[0] for a in stack(models)]
    if batch == ():
        from wpgd_theory.core.batched import solve_batched as direct
        out = direct(*arrays)
    else:
        out = solve_optimal_wpgd(*arrays)          # dispatches on the batch axes
    assert isinstance(out, BatchedWPGDSolution)
    assert out.batch_shape == batch
    assert out.weights.shape == batch + (4,) and out.preconditioner.shape == batch + (3, 3)
    assert out.fixed_points.shape[:-1] == batch and out.num_fixed_points.shape == batch
    for flat, model in enumerate(models[:size] if batch else models[:1]):
        index = np.unravel_index(flat, batch) if batch else ()
        assert_matches_single(out, model.Sigma, model.R, model.r, model.sigma2, index)


def test_batch_axes_broadcast():
    """One R and r shared by a (2, 3) stack of Σ and a (3,) vector of σ²."""
    Sigmas = np.stack([random_model(seed, 3, 2).Sigma for seed in range(6)]).reshape(2, 3, 3, 3)
    R, r, sigma2 = np.array([[1, .5], [.5, 1]]), np.array([0.9, 0.3]), np.array([0., .1, 1.])
    out = solve_optimal_wpgd(Sigmas, R, r, sigma2)
    assert out.batch_shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert_matches_single(out, Sigmas[i, j], R, r, sigma2[j], (i, j))


def _valid_stack(shape=(4, 2)):
    models = [random_model(seed, 3, 3) for seed in range(int(np.prod(shape)))]
    return [a.reshape(shape + a.shape[1:]).copy() for a in stack(models)]


@pytest.mark.parametrize("argument, corrupt, message", [
    (1, lambda R: R.__setitem__((3, 1, 0, 1), 5.0), r"R\[3, 1\] is not symmetric"),
    (1, lambda R: R.__setitem__((2, 0, 0, 0), 1.5), r"R\[2, 0\] must have unit diagonal"),
    (0, lambda S: S.__setitem__((1, 1), -np.eye(3)), r"Sigma\[1, 1\] is not positive semidef"),
    (0, lambda S: S.__setitem__((0, 1), 0.0), r"Sigma\[0, 1\] is zero"),
    (2, lambda r: r.__setitem__((3, 0, 2), 1.5), r"r\[3, 0\] must satisfy \|r_i\| <= 1"),
    (3, lambda s: s.__setitem__((2, 1), -0.5), r"sigma2\[2, 1\] must be >= 0"),
    (0, lambda S: S.__setitem__((1, 0, 0, 0), np.nan), r"Sigma\[1, 0\] contains NaN or inf"),
])
def test_bad_instance_is_named_by_its_index(argument, corrupt, message):
    arrays = _valid_stack()
    corrupt(arrays[argument])
    with pytest.raises(ValueError, match=message):
        solve_optimal_wpgd(*arrays)


def test_bad_joint_correlation_and_psd_R_are_named():
    arrays = _valid_stack((3,))
    arrays[1][2] = np.array([[1, .9, 0], [.9, 1, 0], [0, 0, 1]])
    arrays[2][2] = np.array([0.9, -0.9, 0.0])
    with pytest.raises(ValueError, match=r"instance \[2\]: joint correlation"):
        solve_optimal_wpgd(*arrays)
    arrays = _valid_stack((3,))
    arrays[1][1] = np.array([[1, .9, .9], [.9, 1, -.9], [.9, -.9, 1]])
    with pytest.raises(ValueError, match=r"R\[1\] is not positive semidefinite"):
        solve_optimal_wpgd(*arrays)


def test_shape_errors_name_the_argument():
    Sigma, R, r, sigma2 = _valid_stack((3,))
    with pytest.raises(ValueError, match=r"r must have shape \(\.\.\., n\)"):
        solve_optimal_wpgd(Sigma, R, r[:, :2], sigma2)
    with pytest.raises(ValueError, match="batch shapes do not broadcast"):
        solve_optimal_wpgd(Sigma, R, r, np.zeros(4))
    with pytest.raises(ValueError, match="precision is not supported"):
        solve_optimal_wpgd(Sigma, R, r, sigma2, precision=30)
    with pytest.raises(ValueError, match="grid_size must be >= "):
        solve_batched(Sigma, R, r, sigma2, grid_size=2)


def test_spectral_route_refuses_an_extra_axis_naming_the_argument():
    s, sigma2, lam, a = [[1.0, 2.0]], [0.1], [[0.5, 1.5]], [[0.5, 0.7]]
    # One instance per argument (no batch axes) broadcasts against the stacks; size-1 axes too.
    assert solve_spectra_batched([1.0, 2.0], 0.1, lam, a).count.shape == (1,)
    assert solve_spectra_batched(s, [0.1, 0.2], lam, a).count.shape == (2,)
    with pytest.raises(ValueError, match=r"^sigma2 must have 1 batch axes"):
        solve_spectra_batched(s, np.full((1, 7), 0.1), lam, a)
    with pytest.raises(ValueError, match=r"^sigma_eigenvalues must have 1 batch axes"):
        solve_spectra_batched(np.ones((1, 2, 7)), sigma2, lam, a)
    with pytest.raises(ValueError, match=r"r_coefficients must have shape \(\.\.\., n\) = "
                                         r"\(\.\.\., 7\) to match R_eigenvalues"):
        solve_spectra_batched(s, sigma2, np.ones((1, 2, 7)), a)
    with pytest.raises(TypeError, match="grid_size must be an int"):
        solve_spectra_batched(s, sigma2, lam, a, grid_size=129.0)


@pytest.mark.parametrize("shape, n, d", [("log_uniform", 12, 5), ("two_cluster", 60, 8),
                                         ("two_cluster", 200, 50)])
def test_slope_bound_bounds_the_sampled_slope(shape, n, d):
    """The bound that lets most instances skip the grid, against φ' on 2001 points of the
    bracket (φ' from spectral.fixed_point_map_derivative on the unnormalised spectra)."""
    from wpgd_theory.core.batched import _slope_bound
    from wpgd_theory.core.spectral import fixed_point_map, fixed_point_map_derivative
    from wpgd_theory.sweeps.phase import draw_spectra
    from wpgd_theory.verify.search import SpectralInstance
    s, sigma2, lam, a = draw_spectra(shape, n, d, np.random.default_rng(1), 60)
    for i in range(60):
        x = SpectralInstance(s[i], sigma2[i], lam[i], a[i])
        lo, hi = fixed_point_map(1 + x.R_eigenvalues[[0, -1]], x)
        sampled = np.max(fixed_point_map_derivative(np.linspace(lo, hi, 2001), x))
        bound = _slope_bound((x.sigma_eigenvalues / x.M)[None], x.R_eigenvalues[None],
                             x.r_coefficients[None] / np.max(np.abs(x.r_coefficients)),
                             np.array([hi]))[0]
        assert sampled <= bound * (1 + 1e-9) + 1e-15


def test_nearly_constant_phi_has_one_fixed_point():
    """Regression: R's spectrum (≈ 0 ×9, 10) with r almost only on λ = 10 makes φ constant to
    1e-13 over its bracket; the grid saw round-off sign changes and reported two roots 1 ulp
    apart. Instance 4610 of seed block 12 of the d = n = 10 log-uniform sweep (seed 0)."""
    from wpgd_theory.core.parallel import seed_blocks
    from wpgd_theory.sweeps.phase import draw_spectra
    block = seed_blocks(100_000, seed=0, block_size=5000)[12]
    s, sigma2, lam, a = draw_spectra("log_uniform", 10, 10, np.random.default_rng(block.seed),
                                     4611)
    out = solve_spectra_batched(s[-1], sigma2[-1], lam[-1], a[-1])
    assert int(out.count) == 1
    assert float(out.gamma_star) == pytest.approx(11.0, rel=1e-12)


def test_solve_model_on_a_list_of_models():
    from wpgd_theory.core.solver import solve_model
    models = [random_model(seed, 3, 4, rank=2) for seed in range(4)]
    out = solve_model(models)
    assert out.batch_shape == (4,)
    for i, m in enumerate(models):
        assert_matches_single(out, m.Sigma, m.R, m.r, m.sigma2, i)
    with pytest.raises(ValueError, match="must share"):
        solve_model(models + [random_model(0, 2, 4)])
    from wpgd_theory.core.batched import solve_batched_models
    with pytest.raises(TypeError, match=r"models\[1\] must be a CorrelatedTaskModel"):
        solve_batched_models([models[0], "model"])
    with pytest.raises(TypeError, match="models must be a sequence"):
        solve_batched_models(iter(models))
    with pytest.raises(ValueError, match="models is empty"):
        solve_batched_models([])
