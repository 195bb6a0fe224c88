"""The optimisation trap: where descent on the certified three-fixed-point instance ends.

The exact-risk descent (`population_descent`) is cheap and deterministic, so the tests run it on
the certified instance itself; the sampled-prompt experiment (`trap_experiment`) is run on a
small model here and on the instance by `benchmarks/experiments/trap.py` (docs/training.md).
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

from wpgd_theory import CorrelatedTaskModel, risk, solve_model
from wpgd_theory.multitask.model import solve_multitask
from wpgd_theory.training.trap import (
    match_stationary_points,
    population_descent,
    stationary_directions,
    trap_experiment,
)
from wpgd_theory.verify.erratum import (
    three_fixed_point_instance,
    three_fixed_point_multitask_instance,
)
from wpgd_theory.verify.search import stationary_points


@pytest.fixture(scope="module")
def instance():
    model = three_fixed_point_instance().to_model(seed=0)
    points = stationary_points(model)
    assert [p.kind for p in points] == ["global minimum", "saddle", "local minimum"]
    return model, points, stationary_directions(model, points)


@pytest.mark.parametrize(("init_scale", "expected"), [(0.1, 0), (1.0, 2)])
def test_initial_scale_decides_the_basin_of_exact_descent(instance, init_scale, expected):
    # Adam on the exact risk from the free-WPGD initialisations of train(): small starts end at
    # the global minimum, unit-scale starts at the non-global local minimum (measured 8/8 each)
    model, points, directions = instance
    for P, omega in population_descent(model, [0, 1], steps=4000, init_scale=init_scale):
        cosines, nearest = match_stationary_points([omega], directions)
        assert nearest[0] == expected, cosines
        assert cosines[0, expected] > 0.999, cosines
        # at the stationary point: within 1e-4 of its risk (the minima are 2.3e-3 apart; seed 0
        # from unit scale is still 1.2e-5 above the local minimum after 4000 steps)
        assert abs(risk(model, P, omega) - points[expected].risk) <= 1e-4 * points[expected].risk


def test_the_multitask_instance_has_the_same_landscape():
    model = three_fixed_point_multitask_instance()
    dense = model.to_correlated_task_model()
    points = stationary_points(dense)
    assert [p.kind for p in points] == ["global minimum", "saddle", "local minimum"]
    gammas = [float(f.gamma) for f in solve_multitask(model).fixed_points]
    np.testing.assert_allclose(gammas, [p.gamma for p in points], rtol=1e-8)
    # block-weight ratios w1/w2 of the three points: in (0, 1), reachable by scalar gating
    directions = stationary_directions(model, points)
    ratios = directions[:, 0] / directions[:, -1]
    np.testing.assert_allclose(ratios, [0.0104, 0.0519, 0.1134], atol=1e-4)


def test_trap_experiment_counts_runs_at_the_unique_minimum():
    # one stationary point: every run ends there (plumbing: shared prompts, matching, risks)
    model = CorrelatedTaskModel(np.eye(3), [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]],
                                [0.6, 0.2, 0.5], 0.1)
    outcome = trap_experiment(model, inits=3, steps=600, batch_size=256, learning_rate=0.02,
                              test_prompts=8192)
    assert outcome.counts.tolist() == [3] and outcome.seeds == (0, 1, 2)
    assert np.all(outcome.cosines[:, 0] > 0.99), outcome.cosines
    best = solve_model(model).risk
    assert np.all(outcome.risks >= best * (1 - 1e-9)) and np.all(outcome.risks <= best * 1.03)
    assert np.all(outcome.paired_gaps >= -3 * outcome.paired_gap_ses)
    assert "global minimum" in outcome.table()
    # the quench (exact descent from the trained model) lands on the minimum itself
    np.testing.assert_allclose(outcome.quenched_risks, best, rtol=1e-6)


@pytest.mark.parametrize("target", [0, 2])
def test_the_quench_stays_in_the_basin_it_starts_in(instance, target):
    # start 2 % off each minimum (a random perturbation of (P, ω)): exact descent returns to it
    model, points, directions = instance
    from wpgd_theory import optimal_preconditioner
    from wpgd_theory.training.trap import _adam_descent
    rng = np.random.default_rng(target)
    omega = directions[target] * (1 + 0.02 * rng.standard_normal(model.n))
    P = optimal_preconditioner(model, omega) * (1 + 0.02 * rng.standard_normal((model.d,) * 2))
    P_end, omega_end = _adam_descent(model, P, omega, 4000, 1e-3)
    cosines, nearest = match_stationary_points([omega_end], directions)
    assert nearest[0] == target and cosines[0, target] > 0.9999, cosines
    assert abs(risk(model, P_end, omega_end) - points[target].risk) <= 1e-6 * points[target].risk
