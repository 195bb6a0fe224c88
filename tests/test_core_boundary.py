"""The core boundary (issue #10): every public core function refuses bad arguments up front with a
ValueError/TypeError that names the argument; NumPy integers are treated like Python's, ``bool``
is not a count; size guards refuse before allocating and state the limit."""
import numpy as np
import pytest

from wpgd_theory import (
    CorrelatedTaskModel,
    MultitaskModel,
    dwpgd_predict,
    effective_spectral_gap,
    find_fixed_points,
    fixed_point_bracket,
    fixed_point_map,
    fixed_point_map_derivative,
    h1,
    h1_derivative,
    h2,
    h2_derivative,
    linear_attention_risk,
    monte_carlo_risk,
    optimal_preconditioner,
    risk,
    risk_gradient,
    risk_of_weights,
    risk_of_weights_gradient,
    solve_model,
    solve_multitask,
    solve_optimal_wpgd,
    spectral_gap_condition,
    stationary_point,
    weight_moments,
    wpgd_predict,
)
from wpgd_theory.verify.search import two_cluster_instance

SIGMA, R, r = np.diag([1.0, 2.0]), np.array([[1, .5], [.5, 1]]), np.array([.9, .3])
MODEL = CorrelatedTaskModel(SIGMA, R, r, 0.1)
P, W = np.eye(2) / 4, np.ones(2)
MULTI = MultitaskModel(np.eye(2), [.5, .3], [3, 4], np.eye(2), 0.1)
LAM, A = np.array([0.5, 1.5]), np.array([0.6, 0.2])

BAD = [
    # (call, exception, the argument named in the message)
    (lambda: CorrelatedTaskModel(None, R, r, 0.1), TypeError, "Sigma"),
    (lambda: CorrelatedTaskModel("abc", R, r, 0.1), TypeError, "Sigma"),
    (lambda: CorrelatedTaskModel(SIGMA, R, r, True), TypeError, "sigma2"),
    (lambda: CorrelatedTaskModel(SIGMA, R, r, "0.1"), TypeError, "sigma2"),
    (lambda: CorrelatedTaskModel(SIGMA, R, r, np.nan), ValueError, "sigma2"),
    (lambda: CorrelatedTaskModel(SIGMA, R, None, 0.1), TypeError, "r"),
    (lambda: CorrelatedTaskModel(1e308 * np.eye(2), R, r, 1e308), ValueError, "Sigma"),
    (lambda: risk(None, P, W), TypeError, "model"),
    (lambda: risk(MODEL, None, W), TypeError, "preconditioner"),
    (lambda: risk(MODEL, P, "x"), TypeError, "weights"),
    (lambda: risk(MODEL, np.eye(3), W), ValueError, "preconditioner"),
    (lambda: risk_gradient(None, P, W), TypeError, "model"),
    (lambda: risk_gradient(MODEL, P, [1.0]), ValueError, "weights"),
    (lambda: linear_attention_risk(None), TypeError, "model"),
    (lambda: weight_moments(None, W), TypeError, "model"),
    (lambda: optimal_preconditioner(MODEL, [1.0]), ValueError, "weights"),
    (lambda: risk_of_weights(MODEL, [np.nan, 1.0]), ValueError, "weights"),
    (lambda: risk_of_weights_gradient(None, W), TypeError, "model"),
    (lambda: monte_carlo_risk(MODEL, P, W, num_prompts=0), ValueError, "num_prompts"),
    (lambda: monte_carlo_risk(MODEL, P, W, num_prompts=1.5), TypeError, "num_prompts"),
    (lambda: monte_carlo_risk(MODEL, P, W, num_prompts=True), TypeError, "num_prompts"),
    (lambda: monte_carlo_risk(MODEL, P, W, batch_size=0), ValueError, "batch_size"),
    (lambda: monte_carlo_risk(MODEL, P, W, batch_size=10**7), ValueError, "batch_size"),
    (lambda: monte_carlo_risk(MODEL, P, W, seed="a"), TypeError, "seed"),
    (lambda: monte_carlo_risk(MODEL, P, W, seed=-1), ValueError, "seed"),
    (lambda: MODEL.sample(0), ValueError, "num_prompts"),
    (lambda: MODEL.sample(np.bool_(True)), TypeError, "num_prompts"),
    (lambda: MODEL.sample(10**9), ValueError, "MAX_SAMPLE_ELEMENTS"),
    (lambda: solve_optimal_wpgd(SIGMA, R, r, 0.1, precision=True), TypeError, "precision"),
    (lambda: solve_optimal_wpgd(SIGMA, R, r, 0.1, precision=10), ValueError, "precision"),
    (lambda: solve_optimal_wpgd(SIGMA, R, r, 0.1, precision=10**6), ValueError, "precision"),
    (lambda: solve_optimal_wpgd(SIGMA, R, r, 0.1, grid_size=3), ValueError, "grid_size"),
    (lambda: solve_optimal_wpgd(SIGMA, R, r, 0.1, grid_size=65.0), TypeError, "grid_size"),
    (lambda: solve_model(None), TypeError, "model"),
    (lambda: find_fixed_points(None), TypeError, "spectra"),
    (lambda: find_fixed_points(MODEL, grid_size=10**9), ValueError, "grid_size"),
    (lambda: fixed_point_bracket(None), TypeError, "spectra"),
    (lambda: fixed_point_map(1.0, None), TypeError, "spectra"),
    (lambda: fixed_point_map_derivative(None, MODEL), TypeError, "gamma"),
    (lambda: stationary_point(1.0, None), TypeError, "spectra"),
    (lambda: spectral_gap_condition(None), TypeError, "model"),
    (lambda: h1(None, LAM, A), TypeError, "h_bar"),
    (lambda: h1(0.5, LAM, [1.0]), ValueError, "R_eigenvalues"),
    (lambda: h1_derivative(0.5, "x", A), TypeError, "R_eigenvalues"),
    (lambda: h2(1.0, "s", 2.0), TypeError, "sigma_eigenvalues"),
    (lambda: h2(1.0, [1.0], [1.0, 2.0]), ValueError, "M"),
    (lambda: h2_derivative(np.inf, [1.0], 2.0), ValueError, "gamma"),
    (lambda: effective_spectral_gap("x"), TypeError, "eigenvalues"),
    (lambda: wpgd_predict(None, np.eye(2), W, P, W), TypeError, "x"),
    (lambda: dwpgd_predict(W, np.eye(2), W, P, P, None), TypeError, "weights"),
    (lambda: MultitaskModel(np.eye(2), [.5, .3], [2**63, 1], np.eye(2), 0.1), ValueError,
     "sizes"),
    (lambda: MultitaskModel(np.eye(2), [.5, .3], [2**53, 1], np.eye(2), 0.1), ValueError,
     "2\\*\\*53"),
    (lambda: MultitaskModel(np.eye(2), [.5, .3], [True, 2], np.eye(2), 0.1), TypeError,
     "sizes"),
    (lambda: MultitaskModel(np.eye(2), [.5, .3], [1.5, 2], np.eye(2), 0.1), ValueError,
     "sizes"),
    (lambda: solve_multitask(None), TypeError, "model"),
    (lambda: solve_multitask(MULTI, grid_size=3), ValueError, "grid_size"),
]


@pytest.mark.parametrize("call, error, name", BAD, ids=range(len(BAD)))
def test_bad_argument_is_refused_naming_it(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_numpy_integers_are_accepted_like_python_ints():
    """precision=np.int64(20) was rejected; NumPy counts now behave like Python ints."""
    exact = solve_optimal_wpgd(SIGMA, R, r, 0.1, precision=np.int64(20), grid_size=np.int32(65))
    assert abs(float(exact.risk) - solve_model(MODEL).risk) < 1e-14
    assert MODEL.sample(np.int64(3), seed=np.int64(1)).query_label.shape == (3,)
    estimate = monte_carlo_risk(MODEL, P, W, num_prompts=np.int64(50), batch_size=np.int16(20))
    assert estimate.num_prompts == 50
    sizes = np.array([3, 4], dtype=np.uint64)
    assert MultitaskModel(np.eye(2), [.5, .3], sizes, np.eye(2), 0.1).n == 7


def test_multitask_sizes_are_exact_up_to_2_53():
    """[2**63, 1] used to wrap to a negative n and return M."""
    model = MultitaskModel(np.eye(2), [.5, .3], [2**52, 2**52], np.eye(2), 0.1)
    assert model.n == 2**53 and isinstance(model.n, int)
    solution = solve_multitask(model)
    assert 0 < solution.risk < model.M


def test_coarse_grid_is_refused_on_a_three_root_instance():
    """grid_size=3 silently returned only the largest of three fixed points."""
    instance = two_cluster_instance(n=200, d=50, s_large=0.14, s_small=0.0025, k_large=1,
                                    sigma2=0.005, lam_small=0.5, lam_large=190.0,
                                    mass_large=0.2)
    with pytest.raises(ValueError, match="grid_size must be >= 33"):
        find_fixed_points(instance, grid_size=3)
    for grid_size in (33, 129, 1025):
        assert find_fixed_points(instance, grid_size=grid_size).fixed_points.size == 3


def test_monte_carlo_guard_refuses_before_allocating():
    big = CorrelatedTaskModel(np.eye(200), np.eye(400), np.full(400, 0.01), 0.1)
    with pytest.raises(ValueError, match="MAX_SAMPLE_ELEMENTS"):
        monte_carlo_risk(big, np.eye(200), np.ones(400), num_prompts=10**6, batch_size=10**6)
