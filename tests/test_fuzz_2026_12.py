"""The December 2026 adversarial table, rows of the library layers (core, gla, multitask, verify,
sweeps): each row an ordinary test. The contract: a correct finite answer (checked against an
independent route), or a ValueError/TypeError naming the argument and the violated condition,
raised before any large allocation or long run (the limit in the message).
"""
from __future__ import annotations

import io
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wpgd_theory as wt
from wpgd_theory.core.batched import solve_spectra_batched
from wpgd_theory.core.parallel import map_chunks, seed_blocks
from wpgd_theory.core.solver import stationary_point
from wpgd_theory.sweeps.phase import draw_spectra, run_phase_diagram, wilson_interval

S2 = np.diag([1.0, 2.0])
R2 = np.array([[1.0, 0.5], [0.5, 1.0]])
r2 = np.array([0.9, 0.3])
M2 = 3.1                                   # σ² + tr Σ for σ² = 0.1


# ------------------------------------------------------------------ #1 batched solver, tiny r

@pytest.mark.parametrize("t", [1e-156, 1e-160, 1e-200, 1e-300])
def test_batched_solver_is_scale_free_in_r(t):
    # Theory: φ depends on the direction of a only, so ω*(t r) = t ω*(r), P*(t r) = P*(r) and
    # L*(t r) = M − t² (M − L*(r)) → M. Was 3.0997604 at t = 1e-160 and NaN from 1e-164.
    unit = wt.solve_optimal_wpgd(np.stack([S2, S2]), R2, r2, 0.1)
    tiny = wt.solve_optimal_wpgd(np.stack([S2, S2]), R2, r2 * t, 0.1)
    single = wt.solve_optimal_wpgd(S2, R2, r2 * t, 0.1)
    expected = M2 - t**2 * (M2 - unit.risk)           # = M to float64 for t ≤ 1e-156
    np.testing.assert_allclose(tiny.risk, expected, rtol=1e-15)
    assert tiny.risk[0] == single.risk
    # rtol 1e-12: the same roots, refined from the same brackets (round-off of the moments)
    np.testing.assert_allclose(tiny.weights / t, unit.weights, rtol=1e-12)
    np.testing.assert_allclose(tiny.preconditioner, unit.preconditioner, rtol=1e-12)
    assert np.all(tiny.stationarity_residual < 1e-10)
    spectra = solve_spectra_batched([1.0, 2.0], 0.1, [0.5, 1.5], [0.9 * t, 0.3 * t])
    np.testing.assert_allclose(spectra.risk, M2, rtol=1e-15)


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_batched_stationarity_residual_at_extreme_sigma(scale):
    # Was NaN; the single solver's residual is scale-free, and so must the batch's be.
    out = wt.solve_optimal_wpgd(np.stack([S2 * scale] * 2), R2, r2, 0.0)
    single = wt.solve_optimal_wpgd(S2 * scale, R2, r2, 0.0)
    assert np.all(out.stationarity_residual < 1e-12)
    np.testing.assert_allclose(out.risk / scale, single.risk / scale, rtol=1e-13)


def test_batched_refuses_an_overflowing_preconditioner_like_the_single_solver():
    with pytest.raises(ValueError, match="overflows float64"):
        wt.solve_optimal_wpgd(S2 * 1e-310, R2, r2, 0.0)
    with pytest.raises(ValueError, match=r"instance \[0\].*overflows float64"):
        wt.solve_optimal_wpgd(np.stack([S2 * 1e-310] * 2), R2, r2, 0.0)


# ------------------------------------------------------------------ inconsistent acceptance

def test_batch_accepts_float32_instances_its_members_accept():
    A = (S2 + np.array([[0, 1e-7], [0, 0]])).astype(np.float32)   # asymmetric at float32 eps
    single = wt.solve_optimal_wpgd(A, R2, r2, 0.1)
    batch = wt.solve_optimal_wpgd(np.stack([A, A]), R2, r2, 0.1)
    np.testing.assert_allclose(batch.risk, single.risk, rtol=1e-14)


@pytest.mark.parametrize("kwargs, name", [
    ({"sigma2": True}, "sigma2"), ({"sigma2": np.True_}, "sigma2"),
    ({"sigma2": np.timedelta64(1, "s")}, "sigma2"),
    ({"sigma2": np.array([np.timedelta64(1, "s")] * 2)}, "sigma2"),
    ({"Sigma": S2.astype(bool)}, "Sigma"), ({"Sigma": np.stack([S2, S2]).astype(bool)}, "Sigma"),
])
def test_bools_and_durations_are_not_numbers(kwargs, name):
    arguments = {"Sigma": S2, "R": R2, "r": r2, "sigma2": 0.1, **kwargs}
    with pytest.raises(TypeError, match=name):
        wt.solve_optimal_wpgd(**arguments)


# ------------------------------------------------------------------ silent NaN/inf: spectral maps

def _h2_mp(gamma, s, M):
    """``(h₂, h₂')`` by their plain definitions in 50-digit arithmetic (the independent route:
    no rescaling, mpmath's exponent does not overflow): ``S_k = Σ x^k/(1 + xγ)²``,
    ``S_k' = −2 Σ x^{k+1}/(1 + xγ)³``."""
    with mpmath.workdps(50):
        x = [mpmath.mpf(v) / mpmath.mpf(M) for v in s]
        g = mpmath.mpf(gamma)
        S2_, S3_ = (mpmath.fsum(v**k / (1 + v * g) ** 2 for v in x) for k in (2, 3))
        dS2, dS3 = (-2 * mpmath.fsum(v**(k + 1) / (1 + v * g) ** 3 for v in x) for k in (2, 3))
        return S3_ / (S3_ + S2_), (dS3 * S2_ - S3_ * dS2) / (S3_ + S2_) ** 2


@pytest.mark.parametrize("gamma", [1e3, 1e99, 1e101, 1e155, 1e200, 1e300, 1.7e308])
def test_h2_and_phi_are_finite_and_right_up_to_the_float_maximum(gamma):
    s = [1.0, 2.0]
    # rtol 1e-14: a few roundings of O(1) sums, in either form (plain or homogeneous)
    value, slope = _h2_mp(gamma, s, M2)
    assert wt.h2(gamma, s, M2) == pytest.approx(float(value), rel=1e-14)
    # h₂' ~ 1/γ² is a difference of O(1) products: float64 keeps ~1e-16/γ absolute accuracy
    assert wt.h2_derivative(gamma, s, M2) == pytest.approx(float(slope), rel=1e-8,
                                                           abs=1e-15 / gamma)
    model = wt.CorrelatedTaskModel(S2, R2, r2, 0.1)
    assert math.isfinite(wt.fixed_point_map(gamma, model))
    assert math.isfinite(wt.fixed_point_map_derivative(gamma, model))


def test_h1_limit_at_huge_h_bar():
    # h̄ → ∞: weights a²/(λh̄)² ∝ a²/λ², so h₁ → Σ a²/λ / Σ a²/λ² (λ > 0), and → 0 if λ = 0
    # carries part of a (that direction keeps weight a² while the others vanish).
    lam, a = np.array([0.5, 1.5]), np.array([0.5, 0.7])
    limit = np.sum(a**2 / lam) / np.sum(a**2 / lam**2)
    for h_bar in (1e155, 1e200, 1e300):
        assert wt.h1(h_bar, lam, a) == pytest.approx(limit, rel=1e-13)
        assert math.isfinite(wt.h1_derivative(h_bar, lam, a))
    assert wt.h1(1e200, [0.0, 1.5], [0.5, 0.7]) == 0.0


@pytest.mark.parametrize("call, name", [
    (lambda: wt.h2(-M2 / 2.0, [1.0, 2.0], M2), "gamma"),                 # the pole −M/s
    (lambda: wt.h2([1.0, -M2 / 2.0], [1.0, 2.0], M2), "gamma"),
    (lambda: wt.h2_derivative(-M2 / 2.0, [1.0, 2.0], M2), "gamma"),
    (lambda: wt.h1(-1 / 1.5, [0.5, 1.5], [0.5, 0.7]), "h_bar"),
    (lambda: wt.h2(1.0, [1.0, 2.0], 0.0), "M"),
])
def test_poles_and_zero_M_are_refused(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_stationary_point_at_the_largest_gamma_is_finite():
    model = wt.CorrelatedTaskModel(S2, R2, r2, 0.1)
    h_bar, coefficients, _, risk = stationary_point(1e308, model)
    # h₂(∞) = Σx / (Σx + d) with x = s/M; the risk of any weights is in [optimum, M]
    assert h_bar == pytest.approx((3 / M2) / (3 / M2 + 2), rel=1e-14)
    assert np.all(np.isfinite(coefficients))
    assert wt.solve_model(model).risk <= risk <= M2


# ------------------------------------------------------------------ symbolic statements

def test_symbolic_evaluate_refuses_instead_of_nan_or_reshape():
    from wpgd_theory.verify import symbolic as S
    model = wt.CorrelatedTaskModel(S2, R2, r2, 0.1)
    statement = S.risk_statement(2, 2)
    with pytest.raises(ValueError, match=r"P must have shape \(2, 2\)"):
        statement.evaluate(model, P=[[1, 2, 3, 4]], weights=[1, 1])     # was risk 1341.5
    with pytest.raises(ValueError, match="P contains NaN"):
        statement.evaluate(model, P=[[np.nan, 0], [0, 1]], weights=[1, 1])
    with pytest.raises(ValueError, match="weights must not be all zero"):
        S.optimal_preconditioner_statement(2).evaluate(model, weights=[0, 0])
    # the closed form at a valid point still agrees with the numeric risk (independent code)
    P = np.array([[0.2, 0.0], [0.0, 0.1]])
    value = statement.evaluate(model, P=P, weights=[1.0, 0.5]).values["risk"]
    assert value == pytest.approx(wt.risk(model, P, [1.0, 0.5]), rel=1e-12)
    with pytest.raises(ValueError, match="d_size must be a positive integer"):
        S.prove_stationarity(0, 1)                                     # "held" for d = 0
    with pytest.raises(ValueError, match="MAX_ISSERLIS_ORDER"):
        S.isserlis_moment(tuple(range(40)), np.eye(40))


# ------------------------------------------------------------------ #2 sweep_main

SMALL = {"n": [12], "d": [3], "instances": 4, "block_size": 4}


@pytest.mark.parametrize("changes, error, name", [
    ({"n": "345", "d": "23"}, TypeError, "n must be a sequence"),       # was n ∈ {3, 4, 5}
    ({"n": [12.9]}, TypeError, r"n\[0\] must be an int"),               # was 12
    ({"instances": 4.7}, TypeError, "instances must be an int"),        # was 4
    ({"seed": "3"}, TypeError, "seed must be an int"),
    ({"intances": 4}, ValueError, "unknown sweep option.*'intances'.*instances"),
    ({"csv": 3}, TypeError, "csv must be a file path"),                 # was taken as an fd
    ({"progress": "yes"}, TypeError, "progress must be a bool"),
    ({"executor": 2}, TypeError, "executor must be a str"),
])
def test_sweep_main_checks_instead_of_coercing(changes, error, name):
    with pytest.raises(error, match=name):
        wt.sweep_main({**SMALL, **changes})


def test_sweep_main_names_its_argument_and_writes_into_an_open_file():
    with pytest.raises(TypeError, match="args must be a dict"):
        wt.sweep_main(None)
    handle = io.StringIO()
    out = wt.sweep_main({**SMALL, "csv": handle})
    assert not handle.closed and out["csv"] is handle
    assert handle.getvalue().splitlines()[0].startswith("shape,n,d,instances")
    assert len(handle.getvalue().splitlines()) == 1 + 2                # two default shapes


# ------------------------------------------------------------------ memory and hangs

@pytest.mark.parametrize("call, limit", [
    (lambda: wt.solve_optimal_wpgd(np.broadcast_to(S2, (10**5, 1, 2, 2)),
                                   np.broadcast_to(R2, (1, 10**5, 2, 2)), r2, 0.1),
     "MAX_BATCH_ELEMENTS"),
    (lambda: wt.solve_optimal_wpgd(S2, R2, r2, np.broadcast_to(0.1, (10**9,))),
     "MAX_BATCH_ELEMENTS"),
    (lambda: solve_spectra_batched(np.ones((10**5, 1, 2)), 0.1, np.ones((1, 10**5, 2)),
                                   [0.5, 0.5]), "MAX_BATCH_ELEMENTS"),
    (lambda: seed_blocks(10**11), "MAX_SEED_BLOCKS"),
    (lambda: map_chunks(len, 10**11), "MAX_SEED_BLOCKS"),
    (lambda: run_phase_diagram([10], [3], instances=10**12), "MAX_PHASE_INSTANCES"),
    (lambda: run_phase_diagram([10**5], [10**4], instances=256, block_size=256),
     "MAX_DRAW_ELEMENTS"),
    (lambda: wt.certify_fixed_point(wt.CorrelatedTaskModel(S2, R2, r2, 0.1), digits=10**6),
     "digits must be <= 1000"),
])
def test_refused_before_allocating_or_running(call, limit):
    with pytest.raises(ValueError, match=limit):
        call()


# ------------------------------------------------------------------ deep exceptions, messages

@pytest.mark.parametrize("call, error, name", [
    (lambda: wilson_interval(10**300, 10**300), ValueError, "trials must be <= "),
    (lambda: draw_spectra("log_uniform", 5, 3, np.random.default_rng(0), 0), ValueError,
     "count must be >= 1"),
    (lambda: run_phase_diagram(np.array(10), [3]), TypeError, "n_values must be a sequence"),
    (lambda: solve_spectra_batched([1.0, 2.0], 0.1, np.ones(0), np.ones(0)), ValueError,
     "R_eigenvalues must have at least one eigenvalue"),
    (lambda: solve_spectra_batched([1.0, 2.0], 0.1, [-0.5, 1.5], [0.5, 0.5]), ValueError,
     "^R_eigenvalues must be >= 0$"),                     # was "R_eigenvalues[] ... s not ..."
    (lambda: wt.multilayer_gla(np.zeros((3, 2)), [], causal="no"), TypeError,
     "causal must be a bool"),
    (lambda: wt.multilayer_wpgd([1.0], [[1.0], [2.0]], [1.0, 2.0], [[[1.0]]], [[[1.0]]],
                                causal=1), TypeError, "causal must be a bool"),
    (lambda: wt.gla_forward(np.eye(2), np.eye(2), np.eye(2), np.eye(2), 1.0,
                            return_state="yes"), TypeError, "return_state must be a bool"),
])
def test_clear_errors_instead_of_deep_ones(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_phase_diagram_plot_values_are_checked(tmp_path):
    diagram = run_phase_diagram([10], [3], instances=4, block_size=4)
    with pytest.raises(ValueError, match=r"values\[0\] must be one of"):
        diagram.plot(tmp_path / "x.png", values=("bogus",))             # was KeyError
    with pytest.raises(TypeError, match="path must be a file path"):
        diagram.to_csv(3)


def _unit_block(block):
    return block.stop - block.start


def test_executor_problems_are_named():
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    try:   # refused before any worker starts: a lambda does not pickle
        with pytest.raises(TypeError, match="fn must be picklable"):
            map_chunks(lambda block: 0, 4, block_size=2, executor=pool)
    finally:
        pool.shutdown()
    threads = ThreadPoolExecutor(1)
    threads.shutdown()
    with pytest.raises(ValueError, match="executor ThreadPoolExecutor cannot take work"):
        map_chunks(_unit_block, 4, block_size=2, executor=threads)


# ------------------------------------------------------------------ one PSD rule for multitask

@st.composite
def singular_multitask(draw):
    """A multitask model whose joint correlation is singular (rank < K + 1), given at float32 or
    rounded to 9 digits (so it is PSD only up to the input's round-off), with blocks up to 1e8."""
    K = draw(st.integers(2, 4))
    rank = draw(st.integers(1, K))
    B = np.array(draw(st.lists(st.floats(-1, 1), min_size=(K + 1) * rank,
                               max_size=(K + 1) * rank))).reshape(K + 1, rank)
    B[:, 0] += 1e-3                                       # no zero row
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    J = B @ B.T
    C, c = J[:K, :K], J[:K, K]
    if draw(st.booleans()):
        C, c = C.astype(np.float32), c.astype(np.float32)
    else:
        C, c = np.round(C, 9), np.round(c, 9)
        np.fill_diagonal(C, 1.0)
    sizes = draw(st.lists(st.integers(1, 10**8), min_size=K, max_size=K))
    return C, c, sizes


@settings(deadline=None)  # examples: the Hypothesis profile (thorough: 1000)
@given(singular_multitask())
def test_a_multitask_model_is_valid_everywhere_or_nowhere(data):
    from wpgd_theory.multitask import (
        decay_gating_optimum,
        linear_attention_optimum,
        scalar_gating_optimum,
        vector_gating_optimum,
    )
    C, c, sizes = data
    try:
        model = wt.MultitaskModel(C, c, sizes, np.diag([1.0, 0.5]), 0.1)
    except ValueError as exc:
        assert "joint correlation" in str(exc)
        return
    solution = wt.solve_multitask(model)
    # Scalar, decay and uniform weights restrict WPGD (risk ≥ L*); key-wise gating contains it
    # (risk ≤ L*, strictly below for this anisotropic Σ in general: findings §9). All run on the
    # same accepted model.
    for optimum in (scalar_gating_optimum, decay_gating_optimum, linear_attention_optimum):
        assert optimum(model).risk >= solution.risk * (1 - 1e-9)
    assert 0 <= vector_gating_optimum(model).risk <= solution.risk * (1 + 1e-9)


def test_float32_multitask_keeps_a_real_block_direction():
    """Issue #18, the draw of random seeds 4242 and 90210: C = [[1, x], [x, 1]], c = (1, x) at
    float32, blocks (1, 12200). The block correlation D^{1/2}CD^{1/2} has eigenvalues 0.1997 and
    12200.8; the accepted slack of the joint correlation (float32 round-off, 1.6e-5) scaled by the
    block gain 12200 is 0.195, and the solver used to *zero* every eigenvalue up to it: it dropped
    the 0.1997 direction and reported 0.380688, below the true optimum. The slack only widens what
    is accepted; zeroed is the matrix's own round-off."""
    from scipy.optimize import minimize_scalar
    x = np.float32(0.8946059)
    Sigma = np.diag([1.0, 0.5])
    as32 = wt.MultitaskModel(np.array([[1, x], [x, 1]], np.float32), np.array([1, x], np.float32),
                             [1, 12200], Sigma, 0.1)
    as64 = wt.MultitaskModel([[1, float(x)], [float(x), 1]], [1, float(x)], [1, 12200], Sigma, 0.1)
    np.testing.assert_allclose(as32.spectra.R_eigenvalues, [0.19966723, 12200.80033277], rtol=1e-8)
    solution = wt.solve_multitask(as32)
    # Independent routes: (1) THEORY §2's L(ω) = M − A² Σ s²/(Bs + C) written out here in 40-digit
    # mpmath on the exact float32 values (A = Σ n_k w_k c_k, B = Σ n_k n_l w_k w_l C_kl + Σ n_k w_k²,
    # C = M Σ n_k w_k²), minimised over the one free ratio t = w₂/w₁ by a root of dL/dt;
    # (2) brute force over t of the float64 model's block risk (bounded Brent, xatol 1e-12).
    with mpmath.workdps(40):
        n, xs = (1, 12200), mpmath.mpf(float(x))
        Cm, cm, s = [[1, xs], [xs, 1]], [1, xs], [mpmath.mpf(1), mpmath.mpf("0.5")]
        M = mpmath.mpf("0.1") + sum(s)

        def risk(t):
            w = (1, t)
            A = sum(n[k] * w[k] * cm[k] for k in range(2))
            norm = sum(n[k] * w[k] ** 2 for k in range(2))
            B = sum(n[k] * n[j] * w[k] * w[j] * Cm[k][j] for k in range(2) for j in range(2))
            return M - A**2 * sum(si**2 / ((B + norm) * si + M * norm) for si in s)

        t_float = solution.block_weights[1] / solution.block_weights[0]
        exact = risk(mpmath.findroot(lambda t: mpmath.diff(risk, t), t_float))
    brute = minimize_scalar(lambda t: as64.block_risk([1.0, t]), bounds=(-10, 10),
                            method="bounded", options={"xatol": 1e-12}).fun
    assert solution.risk == pytest.approx(float(exact), rel=1e-12)
    assert solution.risk == pytest.approx(brute, rel=1e-9) and solution.risk <= brute * (1 + 1e-12)
    assert solution.risk == pytest.approx(wt.solve_multitask(as64).risk, rel=1e-12)
    # Its own (P, ω) evaluated on the model: it attains what it reports.
    assert as64.block_risk(solution.block_weights) == pytest.approx(solution.risk, rel=1e-12)
    from wpgd_theory.multitask import vector_gating_optimum
    assert vector_gating_optimum(as32).risk <= solution.risk
