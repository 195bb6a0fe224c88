"""The :class:`~wpgd_theory.core.uniqueness.Uniqueness` result: why the optimum is unique or not.

Four instances (issue #12): one meeting the paper's condition ``Δ_Σ Δ_R < M + s_min``, one meeting
only the proven relaxed ``Δ_Σ Δ_R < 2(M + s⁺_min)``, one beyond both that the interval certificate
proves unique, and the certified three-fixed-point instance of docs/findings.md §6. Independent
routes: the gap numbers are recomputed here from NumPy eigenvalues; the certified counts are
compared with the float fixed-point search on a fine grid.
"""
import dataclasses

import numpy as np
import pytest

from wpgd_theory import (
    CorrelatedTaskModel,
    MultitaskModel,
    Uniqueness,
    certify_solution,
    certify_uniqueness,
    solve_certified,
    solve_model,
    solve_multitask,
    spectral_uniqueness,
)
from wpgd_theory.core.spectral import find_fixed_points
from wpgd_theory.verify import enclosures
from wpgd_theory.verify.search import two_cluster_instance

THREE_FIXED_POINTS = dict(n=200, d=50, s_large=0.14, s_small=0.0025, k_large=1, sigma2=0.005,
                          lam_small=0.5, lam_large=190.0, mass_large=0.2)


def paper_model():
    return CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1)


def relaxed_model():
    """Δ_Σ Δ_R = 2.9 · 1.8 = 5.22: above M + s_min = 3.2, below 2(M + s⁺_min) = 6.4."""
    return CorrelatedTaskModel(np.diag([0.1, 3.0]), [[1, .9], [.9, 1]], [.9, .8], 0.0)


def beyond_model():
    """Δ_Σ Δ_R = 0.99 · 3.6 = 3.564 ≥ 2(M + s⁺_min) = 2.66, yet one fixed point (certified)."""
    R = 0.1 * np.eye(4) + 0.9 * np.ones((4, 4))
    return CorrelatedTaskModel(np.diag([0.01, 0.3, 1.0]), R, [0.9, 0.8, 0.75, 0.7], 0.01)


def _gap_numbers(model):
    """Independent recomputation: effective gaps and bounds from NumPy eigenvalues."""
    s = np.linalg.eigvalsh(model.Sigma)
    lam = np.linalg.eigvalsh(model.R)
    s_pos, lam_pos = s[s > 1e-12], lam[lam > 1e-12]
    product = np.ptp(s_pos) * np.ptp(lam_pos)
    M = model.sigma2 + np.trace(model.Sigma)
    return product, M + s.min(), 2 * (M + s_pos.min())


def test_paper_condition():
    model = paper_model()
    product, paper, relaxed = _gap_numbers(model)
    assert product < paper
    u = solve_model(model).uniqueness
    assert (u.established, u.reason, u.fixed_points) == (True, "paper condition", 1)
    np.testing.assert_allclose([u.product, u.paper_bound, u.relaxed_bound],
                               [product, paper, relaxed], rtol=1e-12)
    assert solve_model(model).uniqueness_guaranteed is True


def test_relaxed_condition_only():
    model = relaxed_model()
    product, paper, relaxed = _gap_numbers(model)
    assert paper <= product < relaxed
    u = solve_model(model).uniqueness
    assert (u.established, u.reason, u.fixed_points) == (True, "relaxed condition", 1)
    assert solve_model(model).uniqueness_guaranteed is True    # compatibility property


def test_certified_unique_beyond_both_conditions():
    model = beyond_model()
    product, _, relaxed = _gap_numbers(model)
    assert product >= relaxed
    solution = solve_model(model)
    assert solution.uniqueness.reason == "not established" and not solution.uniqueness_guaranteed
    assert "solver found 1" in solution.uniqueness.detail
    u = certify_uniqueness(solution)
    assert (u.established, u.reason, u.fixed_points, u.rigorous) == (True, "certificate", 1, True)
    assert u.certificate.unique is True and u.certificate.rigorous
    certified = solve_certified(model.Sigma, model.R, model.r, model.sigma2)
    assert certified.uniqueness.reason == "certificate" and certified.uniqueness_guaranteed
    assert certified.risk == pytest.approx(solution.risk, rel=1e-14)


def test_certified_three_fixed_points():
    instance = two_cluster_instance(**THREE_FIXED_POINTS)
    u = certify_uniqueness(instance, digits=20)
    assert (u.established, u.reason, u.fixed_points, u.rigorous) == (
        False, "certified non-unique", 3, True)
    assert find_fixed_points(instance, grid_size=4097).fixed_points.size == 3
    assert u.product >= u.relaxed_bound


def test_three_fixed_points_on_the_dense_model_solve_certified():
    """The dense 200 × 50 model: the verified eigen-data route proves three fixed points."""
    model = two_cluster_instance(**THREE_FIXED_POINTS).to_model(seed=0)
    solution = solve_model(model)
    certified = certify_solution(solution, digits=15, contraction_refinements=0)
    u = certified.uniqueness
    assert (u.reason, u.fixed_points, u.rigorous) == ("certified non-unique", 3, True)
    assert certified.risk == solution.risk and "WARNING" not in certified.message


def test_certificate_catches_roots_the_solver_missed(monkeypatch):
    """A solver that misses two of the three fixed points (simulated: the real solution with only
    a non-global fixed point kept, since grid_size >= 33 no longer misses them here): the
    certificate proves three, certify_solution warns, and solve_certified re-solves on an 8×
    finer grid and returns the global one."""
    from wpgd_theory.verify import certify as certify_module

    model = two_cluster_instance(**THREE_FIXED_POINTS).to_model(seed=0)
    real_solve = certify_module.solve_model
    full = real_solve(model)
    assert len(full.fixed_points) == 3
    missed = next(p for p in full.fixed_points if p.gamma != full.gamma_star)
    blind = dataclasses.replace(full, fixed_points=(missed,), gamma_star=missed.gamma,
                                h2_star=missed.h2, risk=missed.risk)
    grids = []

    def missing_solver(model, *, precision=None, grid_size=129):
        grids.append(grid_size)
        return blind if grid_size == 129 else real_solve(model, precision=precision,
                                                         grid_size=grid_size)

    monkeypatch.setattr(certify_module, "solve_model", missing_solver)
    options = dict(digits=15, contraction_refinements=0)
    assert "WARNING: 3 fixed points certified" in certify_solution(blind, **options).message
    solved = solve_certified(model.Sigma, model.R, model.r, model.sigma2, **options)
    assert grids == [129, 8 * 129]
    assert len(solved.fixed_points) == 3 and "WARNING" not in solved.message
    assert solved.gamma_star == pytest.approx(full.gamma_star, rel=1e-12)
    assert solved.gamma_star == pytest.approx(10.363860692420, rel=1e-10)
    assert solved.risk < blind.risk


def test_multitask_model_and_solution():
    model = MultitaskModel([[1, .3], [.3, 1]], [.8, .4], [10**8, 9 * 10**8], np.eye(2), 0.5)
    assert solve_multitask(model).uniqueness.reason == "paper condition"
    u = certify_uniqueness(model, digits=20)
    assert (u.reason, u.fixed_points, u.rigorous) == ("certificate", 1, True)
    v = certify_solution(solve_multitask(model), digits=20).uniqueness
    assert (v.reason, v.fixed_points) == ("certificate", 1)


def test_no_signal_is_not_established():
    model = CorrelatedTaskModel(np.eye(2), np.eye(2), [0.0, 0.0], 0.1)
    for u in (solve_model(model).uniqueness, certify_uniqueness(model)):
        assert (u.established, u.reason, u.fixed_points) == (False, "not established", 0)
        assert "r = 0" in u.detail
    assert not solve_model(model).uniqueness_guaranteed


def test_without_python_flint_falls_back_to_the_spectral_reason(monkeypatch):
    monkeypatch.setattr(enclosures, "flint", None)
    u = certify_uniqueness(relaxed_model())
    assert (u.reason, u.established, u.rigorous) == ("relaxed condition", True, False)
    assert "wpgd-theory[rigorous]" in u.detail
    v = certify_uniqueness(beyond_model())
    assert (v.reason, v.established) == ("not established", False)
    with pytest.raises(ImportError, match=r"wpgd-theory\[rigorous\]"):
        certify_uniqueness(beyond_model(), rigorous=True)


def test_result_object():
    u = spectral_uniqueness(paper_model(), fixed_points=1)
    assert bool(u) and len(repr(u)) < 160 and "certificate=" not in repr(u)
    with pytest.raises(ValueError, match="reason must be one of"):
        Uniqueness(True, "because")
    with pytest.raises(Exception):
        u.established = False          # frozen
    with pytest.raises(TypeError, match="solution must be"):
        certify_solution(paper_model())


def test_to_dict_is_strict_json_and_keeps_the_enclosure():
    import json
    certified = solve_certified(*[getattr(paper_model(), k) for k in ("Sigma", "R", "r", "sigma2")])
    data = json.loads(json.dumps(certified.uniqueness.to_dict(), allow_nan=False))
    assert data["reason"] == "certificate" and data["certificate"]["count"] == 1
    (lo, hi), = data["certificate"]["enclosures"]
    gamma = certified.gamma_star                    # float64: within a few ulps of the enclosure
    assert lo - 4e-15 * gamma <= gamma <= hi + 4e-15 * gamma
    none = solve_model(CorrelatedTaskModel(np.eye(2), np.eye(2), [0.0, 0.0], 0.1)).uniqueness
    json.dumps(none.to_dict(), allow_nan=False)
