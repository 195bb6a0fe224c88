"""Figure-1 theory curves: each column against an independent route, CSV round trip, PNG."""
import csv
import io

import numpy as np
import pytest

from wpgd_theory.core.risk import linear_attention_risk, risk_of_weights
from wpgd_theory.core.risk import linear_attention_risk as dense_linear_attention_risk
from wpgd_theory.core.solver import solve_model
from wpgd_theory.multitask.curves import (
    CURVE_COLUMNS,
    MultitaskFamily,
    paper_setting_family,
    paper_setting_model,
    plot_curves,
    theory_curves,
    write_curves_csv,
)
from wpgd_theory.multitask.gating import (
    decay_gating_optimum,
    linear_attention_optimum,
    scalar_gating_optimum,
)
from wpgd_theory.multitask.model import MultitaskModel, multitask_linear_attention_risk
from wpgd_theory.multitask.vector_gating import vector_gating_optimum


def isotropic_wpgd_risk(n, r1, r2, d, sigma2):
    """docs/theory.md §2, Σ = I: L* = M − d rᵀ((1 + M)I + R)⁻¹ r on the dense n×n model."""
    model = paper_setting_model(n, r1, r2, d, sigma2).to_correlated_task_model()
    M = d + sigma2
    return M - d * model.r @ np.linalg.solve((1 + M) * np.eye(n) + model.R, model.r)


@pytest.mark.parametrize("r1, r2", [(0.9, 0.3), (0.3, 0.9), (0.6, 0.6), (0.0, 0.8)])
def test_columns_against_dense_routes(r1, r2):
    n_values = [2, 6, 20]
    curves = theory_curves(n_values, r1, r2, d=3, sigma2=0.2)
    for i, n in enumerate(n_values):
        dense = paper_setting_model(n, r1, r2, 3, 0.2).to_correlated_task_model()
        assert abs(curves.linatt[i] - linear_attention_risk(dense)) < 1e-12
        assert abs(curves.gla_vector[i] - isotropic_wpgd_risk(n, r1, r2, 3, 0.2)) < 1e-12
        assert abs(curves.gla_vector[i] - solve_model(dense).risk) < 1e-12
        # GLA-wo: best recency weights ρ^{n−i}; a coarse dense scan can only be worse.
        distance = n - 1 - np.arange(n)
        scan = min(risk_of_weights(dense, rho**distance) for rho in np.linspace(0.01, 1, 400))
        assert curves.gla_wo[i] <= scan + 1e-12
        assert curves.gla_vector[i] <= curves.gla[i] + 1e-12 <= curves.gla_wo[i] + 2e-12
        assert curves.gla_wo[i] <= curves.linatt[i] + 1e-12


def test_papers_setting_shapes():
    # Relevant task first: scalar gating cannot down-weight the later block → GLA = LinAtt,
    # while vector gating keeps improving. Relevant task last: GLA = WPGD*.
    first = theory_curves([4, 64, 1024], 0.9, 0.3, d=4, sigma2=0.1)
    assert np.allclose(first.gla, first.linatt, rtol=1e-12)
    assert np.all(first.gla_vector < first.gla - 0.1)
    last = theory_curves([4, 64, 1024], 0.3, 0.9, d=4, sigma2=0.1)
    assert np.allclose(last.gla, last.gla_vector, rtol=1e-12)
    assert np.all(last.gla < last.gla_wo) and np.all(last.gla_wo < last.linatt)


def test_huge_n_and_normalisation():
    curves = theory_curves([2**30], 0.3, 0.9, d=5, sigma2=0.5)
    normalised = theory_curves([2**30], 0.3, 0.9, d=5, sigma2=0.5, normalize=True)
    for column in CURVE_COLUMNS[1:]:
        assert np.allclose(getattr(normalised, column), getattr(curves, column) / 5, rtol=1e-14)
    # n → ∞ (C = I, Σ = I): L* = M − d Σ_k c_k² n_k/(n_k + 1 + M) → M − d(r1² + r2²), O(M/n) off
    assert abs(curves.gla_vector[0] - (5.5 - 5 * (0.3**2 + 0.9**2))) < 1e-6


def test_corollary_column_matches_structured_closed_form():
    curves = theory_curves([10, 100], 0.5, 0.4, d=2, sigma2=0.3)
    for n, value in zip(curves.n, curves.linatt):
        assert abs(value - multitask_linear_attention_risk(
            paper_setting_model(int(n), 0.5, 0.4, 2, 0.3))) < 1e-12


def test_csv_round_trip():
    curves = theory_curves([2, 8], 0.3, 0.9, d=4, sigma2=0.1)
    buffer = io.StringIO()
    write_curves_csv(curves, buffer)
    lines = buffer.getvalue().splitlines()
    header = [line for line in lines if line.startswith("#")]
    assert header[:2] == ["# K = 2", "# c = [0.3, 0.9]"] and "# d = 4" in header
    rows = list(csv.reader(lines[len(header):]))
    assert tuple(rows[0]) == CURVE_COLUMNS
    parsed = np.array([[float(v) for v in row] for row in rows[1:]])
    assert np.array_equal(parsed, np.array(curves.rows(), dtype=float))   # 17 digits: exact


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(n_values=[3]), ValueError, "even integers"),
    (dict(n_values=[0]), ValueError, "even integers"),
    (dict(n_values=[2.5]), ValueError, "even integers"),
    (dict(n_values=[]), TypeError, "non-empty"),
    (dict(r1=0.9, r2=0.9), ValueError, r"r1² \+ r2² must be <= 1"),
    (dict(r1="a"), TypeError, "r1 must be a finite real number"),
    (dict(d=0), ValueError, "d must be a positive integer"),
    (dict(sigma2=-1.0), ValueError, "sigma2 must be >= 0"),
])
def test_bad_input(kwargs, error, pattern):
    arguments = dict(n_values=[2, 4], r1=0.3, r2=0.4, d=2, sigma2=0.1)
    arguments.update(kwargs)
    n_values = arguments.pop("n_values")
    with pytest.raises(error, match=pattern):
        theory_curves(n_values, **arguments)


def test_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    plot_curves(theory_curves([2, 8, 32], 0.3, 0.9, d=4, sigma2=0.1), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_matplotlib_raises_a_helpful_import_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"wpgd-theory\[plot\]"):
        plot_curves(theory_curves([2], 0.3, 0.9, d=4, sigma2=0.1), tmp_path / "x.png")


def correlated_family(seed=0):
    """K = 3, correlated tasks, unequal blocks (1 : 2 : 1), anisotropic Σ (fixed seed)."""
    rng = np.random.default_rng(seed)
    C = np.array([[1.0, 0.6, -0.2], [0.6, 1.0, 0.1], [-0.2, 0.1, 1.0]])
    basis = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    Sigma = basis @ np.diag([2.0, 0.7, 0.1]) @ basis.T
    return MultitaskFamily(C, [0.3, 0.5, 0.7], [1, 2, 1], Sigma, 0.2)


def test_general_family_against_the_four_optima_called_directly():
    family = correlated_family()
    n_values = [4, 12, 40, 400, 4000]
    curves = theory_curves(n_values, family=family)
    for i, n in enumerate(n_values):
        sizes = np.array([1, 2, 1]) * n // 4
        model = MultitaskModel(family.task_correlation, family.query_correlation, sizes,
                               family.Sigma, family.sigma2)
        assert curves.linatt[i] == linear_attention_optimum(model).risk
        assert curves.gla[i] == scalar_gating_optimum(model).risk
        assert curves.gla_wo[i] == decay_gating_optimum(model).risk
        assert curves.gla_vector[i] == vector_gating_optimum(model).risk
        assert curves.gla_vector[i] <= curves.gla[i] + 1e-12 <= curves.gla_wo[i] + 2e-12
        assert curves.gla_wo[i] <= curves.linatt[i] + 1e-12
    assert curves.r1 is None and curves.d == 3 and curves.family is family


@pytest.mark.parametrize("n", [4, 8, 16])
def test_general_family_against_the_dense_solver(n):
    """Dense n×n route: solve_model for WPGD* (vector gating is at least as good: Σ is
    anisotropic, so strictly better here), the dense closed form at ω = 1 for LinAtt, and
    block-constant monotone weights on a grid (only worse) for scalar gating."""
    family = correlated_family()
    curves = theory_curves([n], family=family)
    dense = family.model(n).to_correlated_task_model()
    assert curves.gla_vector[0] < solve_model(dense).risk - 1e-6
    assert abs(curves.linatt[0] - dense_linear_attention_risk(dense)) < 1e-12
    blocks = np.repeat(np.arange(3), np.array([1, 2, 1]) * n // 4)
    grid = np.linspace(0, 1, 21)
    scan = min(risk_of_weights(dense, np.array([a, b, 1.0])[blocks])
               for a in grid for b in grid if a <= b and (a, b) != (0, 0))
    assert curves.gla[0] <= scan + 1e-12


def test_paper_preset_is_the_default_route():
    family = paper_setting_family(0.3, 0.9, 4, 0.1)
    by_family = theory_curves([2, 8, 32], family=family)
    by_setting = theory_curves([2, 8, 32], 0.3, 0.9, d=4, sigma2=0.1)
    assert by_family.rows() == by_setting.rows()
    assert (by_setting.r1, by_setting.r2) == (0.3, 0.9)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda f: theory_curves([4], family=f, d=3), TypeError, "either family= or"),
    (lambda f: theory_curves([4], 0.3), TypeError, "needs r1, r2, d and sigma2"),
    (lambda f: theory_curves([4], family="paper"), TypeError, "family must be a MultitaskFamily"),
    (lambda f: theory_curves([6], family=f), ValueError, r"multiples of sum\(proportions\) = 4"),
    (lambda f: f.model(0), ValueError, "multiples"),
    (lambda f: MultitaskFamily(np.eye(2), [.5, .5], [1, 0], np.eye(2), 0.1), ValueError,
     "proportions must be positive integers"),
    (lambda f: MultitaskFamily(np.eye(2), [.5, .5], [1, 1.5], np.eye(2), 0.1), ValueError,
     "proportions must be positive integers"),
    (lambda f: MultitaskFamily(np.eye(2), [.5, .5], [1], np.eye(2), 0.1), TypeError,
     "length-2 sequence"),
    (lambda f: MultitaskFamily(np.eye(2), [.9, .9], [1, 1], np.eye(2), 0.1), ValueError,
     "not positive semidefinite"),
])
def test_family_bad_input(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(correlated_family())


def test_compact_reprs():
    curves = theory_curves([4, 8], family=correlated_family())
    assert repr(curves) == ("TheoryCurves(MultitaskFamily(K=3, proportions=[1, 2, 1], d=3, "
                            "sigma2=0.2), n=[4, 8], normalized=False)")
