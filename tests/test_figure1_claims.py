"""The Figure-1 claims of docs/training.md and docs/findings.md §8, recomputed from the committed
table docs/figures/training_figure1.csv (so the stated figures cannot drift from the data).

Independent route: the claims are typed in the docs; here they are computed from the raw per-run
rows (`seed_gaps`, `ordering_violations`) and compared with the typed numbers.
"""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("jax")

from wpgd_theory.training.experiments import ordering_violations, read_rows_csv, seed_gaps

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "docs" / "figures" / "training_figure1.csv"
FAILED = ((0.8, 0.2, 10, "gla_vector"), 2)        # the run that stayed at linear attention


@pytest.fixture(scope="module")
def rows():
    return read_rows_csv(CSV)


@pytest.fixture(scope="module")
def docs():
    return {name: (ROOT / "docs" / name).read_text() for name in ("training.md", "findings.md")}


def test_every_run_but_one_is_at_its_own_class_optimum(rows, docs):
    gaps = seed_gaps(rows)
    assert len(gaps) == 96                        # 2 settings × 4 n × 4 classes × 3 seeds
    failures = [(g["key"], g["seed"]) for g in gaps if g["paired"] > 1.0]
    assert failures == [FAILED]
    failed = next(g for g in gaps if (g["key"], g["seed"]) == FAILED)
    assert round(failed["paired"], 2) == 6.95     # typed as "+6.95 %" in the docs
    rest = [g for g in gaps if (g["key"], g["seed"]) != FAILED]
    # every other run is above its optimum (the optimum's predictor is the best in the class):
    # gaps 0.045–0.315 % paired (SE ≤ 0.044 %) and 0.064–0.347 % exact, as the docs state
    paired = (round(min(g["paired"] for g in rest), 3), round(max(g["paired"] for g in rest), 3))
    exact = [g["exact"] for g in rest if g["exact"] is not None]
    assert len(exact) == 72                        # vector gating has no closed-form risk
    exact = (round(min(exact), 3), round(max(exact), 3))
    assert paired == (0.045, 0.315)
    assert exact == (0.064, 0.347)
    assert round(max(g["paired_se"] for g in rest), 3) == 0.044
    for text in docs.values():
        assert "0.045–0.315 %" in text and "0.064–0.347 %" in text and "+6.95 %" in text


def test_the_ordering_holds_for_the_optima_not_for_the_trained_means(rows, docs):
    assert ordering_violations(rows, "optimum_risk") == []
    trained = ordering_violations(rows)
    # 7 of 8 points out of order; the one in order is (0.2, 0.8), n = 80 (vector well below)
    assert len(trained) == 7 and (0.2, 0.8, 80) not in trained
    assert "7 of the 8 points" in docs["training.md"]
    # exact risks of the learned predictors of LinAtt, GLA-wo, scalar GLA: out of order at the
    # four (0.8, 0.2) points, where the three optima tie
    assert ordering_violations(rows, "closed_form_risk") == [(0.8, 0.2, n) for n in (10, 20, 40,
                                                                                     80)]


def test_the_full_layer_runs_are_within_the_stated_range(docs):
    gaps = seed_gaps(read_rows_csv(ROOT / "docs" / "figures" / "training_figure1_full.csv"))
    assert len(gaps) == 24                        # 2 settings × 4 classes × 3 seeds at n = 40
    paired = (round(min(g["paired"] for g in gaps), 3), round(max(g["paired"] for g in gaps), 3))
    assert paired == (0.131, 2.104)
    assert "per seed 0.131–2.104 %" in docs["training.md"]
