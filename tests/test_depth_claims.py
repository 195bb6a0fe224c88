"""The depth claims of docs/findings.md §10, recomputed from the committed table
docs/figures/depth.csv (so the stated figures cannot drift from the data).

Independent routes: the CSV's reference columns against the library (``solve_multitask`` for
L*_WPGD, ``bayes_risk`` with the script's seed, and the closed-form floor tr Σ (1 − cᵀC⁻¹c) where
σ² = 0 and every block has n_k ≥ d); the typed table and figures against numbers computed here
from the raw per-seed rows.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from wpgd_theory import MultitaskModel, bayes_risk, paper_setting_model, solve_multitask

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
SETTINGS = {                                  # as benchmarks/experiments/depth.py
    "label-gate": lambda: MultitaskModel(np.eye(2), [0.2, 0.9], [8, 8], np.eye(4), 0.1),
    "fig1 (0.2,0.8)": lambda: paper_setting_model(40, 0.2, 0.8, 10, 0.0),
    "fig1 (0.8,0.2)": lambda: paper_setting_model(40, 0.8, 0.2, 10, 0.0),
}
LABELS = {"label-gate": "label-gate (2.0237 → 0.8014)",
          "fig1 (0.2,0.8)": "Figure 1 (0.2, 0.8) (5.6129 → 3.2)",
          "fig1 (0.8,0.2)": "Figure 1 (0.8, 0.2) (5.6129 → 3.2)"}
CLASSES = ("linear", "decay", "scalar", "vector")


@pytest.fixture(scope="module")
def rows():
    with open(FIGURES / "depth.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("test_risk", "paired_gap_vs_one_layer", "paired_gap_se", "one_layer_optimum",
                    "wpgd_risk", "bayes_floor"):
            row[key] = float(row[key]) if row[key] else None
        row["layers"] = int(row["layers"])
    return rows


@pytest.fixture(scope="module")
def findings():
    return (ROOT / "docs" / "findings.md").read_text()


def trained(rows, setting, gating, layers):
    found = [r for r in rows if (r["kind"], r["setting"], r["gating"], r["layers"])
             == ("trained", setting, gating, layers)]
    assert [r["seed"] for r in found] == ["0", "1"]
    return found


def paired_closed(row):
    risk = row["one_layer_optimum"] + row["paired_gap_vs_one_layer"]
    return 100 * (row["wpgd_risk"] - risk) / (row["wpgd_risk"] - row["bayes_floor"])


def cell(values):
    return ", ".join(f"{v:.1f}" for v in values).replace("-", "−") + " %"


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_reference_columns_are_the_library_values(rows, setting):
    model = SETTINGS[setting]()
    mine = [r for r in rows if r["setting"] == setting]
    assert len(mine) == 4 * 4 * 2 + sum(r["kind"] == "saa" for r in mine)
    wpgd = solve_multitask(model).risk
    assert all(r["wpgd_risk"] == pytest.approx(wpgd, rel=1e-12) for r in mine)
    # the floor is reproducible bit for bit from the script's seed (seed blocks, any executor)
    floor = bayes_risk(model, draws=100_000, seed=12345).risk
    assert {r["bayes_floor"] for r in mine} == {floor}
    if setting != "label-gate":     # σ² = 0, n_k = 20 ≥ d = 10: every task vector is recovered
        c = model.query_correlation
        exact = np.trace(model.Sigma) * (1 - c @ np.linalg.solve(model.task_correlation, c))
        assert floor == pytest.approx(exact, rel=1e-12) and exact == pytest.approx(3.2)


def test_one_layer_runs_are_at_their_class_optimum(rows, findings):
    ones = [r for r in rows if r["kind"] == "trained" and r["layers"] == 1]
    assert len(ones) == 24
    gaps = [100 * r["paired_gap_vs_one_layer"] / r["one_layer_optimum"] for r in ones]
    ses = [100 * r["paired_gap_se"] / r["one_layer_optimum"] for r in ones]
    assert (round(min(gaps), 2), round(max(gaps), 2)) == (0.04, 0.26)
    assert round(max(ses), 2) <= 0.04
    assert "**+0.04 % to +0.26 %**" in findings


def test_the_typed_table_is_the_csv(rows, findings):
    for setting in SETTINGS:
        assert f"| {LABELS[setting]} |" in findings
        for gating in CLASSES:
            cells = [cell(paired_closed(r) for r in trained(rows, setting, gating, L))
                     for L in (1, 2, 3, 4)]
            row = " | ".join(cells) + " |"
            assert row in findings, (setting, gating, row)


def test_depth_stays_far_from_the_bayes_floor(rows, findings):
    closed = [paired_closed(r) for r in rows if r["kind"] == "trained"]
    assert max(closed) < 50                     # "about half" at best, without starts
    starts = (FIGURES / "depth_starts.txt").read_text()
    for figure in ("48.7 %", "48.9 %", "48.5 %", "50.6 %", "1.4281", "1.4261", "1.4308", "1.4053"):
        assert figure in starts and figure in findings


def test_the_gating_class_gap_grows_with_depth_where_only_key_wise_gating_reaches_wpgd(rows,
                                                                                      findings):
    setting = "fig1 (0.8,0.2)"
    mean = {(g, L): np.mean([r["test_risk"] for r in trained(rows, setting, g, L)])
            for g in ("scalar", "vector") for L in (2, 3, 4)}
    gaps = [round(mean["scalar", L] - mean["vector", L], 2) for L in (2, 3, 4)]
    assert gaps == [1.96, 1.85, 1.84]
    assert "1.96 at L = 2, 1.85 at L = 3, 1.84 at L = 4" in findings
    one = trained(rows, setting, "scalar", 1)[0]
    vec = trained(rows, setting, "vector", 1)[0]
    assert round(one["one_layer_optimum"] - vec["one_layer_optimum"], 2) == 1.16
    assert mean["scalar", 4] > one["wpgd_risk"]         # four scalar layers stay above L*_WPGD


def test_deeper_trained_models_are_limited_by_optimisation(rows):
    # Figure 1 (0.2, 0.8): scalar gating worse at L = 3 and 4 than at L = 2 (a deeper model
    # contains the shallower one), and the two-layer SAA optimum below the trained two layers
    setting = "fig1 (0.2,0.8)"
    two = max(r["test_risk"] for r in trained(rows, setting, "scalar", 2))
    for L in (3, 4):
        assert min(r["test_risk"] for r in trained(rows, setting, "scalar", L)) > two
    saa = next(r for r in rows if r["setting"] == setting and r["kind"] == "saa"
               and r["layers"] == 2)
    assert saa["test_risk"] < 0.98 * two
