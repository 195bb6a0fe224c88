"""Outputs that explain themselves (issue #20): help text without RST markup, fixed points with
their kind and the certified verdict in `solve`'s text output."""
import contextlib
import io
import json
import re

import pytest

from wpgd_theory.cli import VERBS, build_parser, main


def _help(argv):
    with contextlib.redirect_stdout(io.StringIO()) as out, pytest.raises(SystemExit) as stop:
        build_parser().parse_args(argv)
    assert stop.value.code == 0
    return out.getvalue()


@pytest.mark.parametrize("verb", [None] + [verb.NAME for verb in VERBS])
def test_help_is_plain_text(verb):
    """No reStructuredText in --help: no roles (:func:`…`), no double (or single) backquotes."""
    text = _help(["--help"] if verb is None else [verb, "--help"])
    assert "usage: wpgd-theory" in text
    assert not re.search(r":[a-z]+:`", text) and "`" not in text, text


def _run(argv):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        status = main(argv)
    return status, out.getvalue()


@pytest.fixture(scope="module")
def three_fixed_points(tmp_path_factory):
    """The two-block multitask model with the certified three-fixed-point landscape."""
    from wpgd_theory.verify.erratum import three_fixed_point_multitask_instance
    model = three_fixed_point_multitask_instance()
    path = tmp_path_factory.mktemp("solve") / "three.json"
    path.write_text(json.dumps({"C": model.task_correlation.tolist(),
                                "c": model.query_correlation.tolist(),
                                "sizes": model.sizes.tolist(), "Sigma": model.Sigma.tolist(),
                                "sigma2": model.sigma2}))
    return path


def test_solve_prints_each_fixed_point_with_its_risk_and_kind(three_fixed_points):
    status, text = _run(["solve", str(three_fixed_points)])
    assert status == 0
    kinds = re.findall(r"gamma = [\d.]+: risk [\d.]+, slope phi' = [\d.]+ -> ([a-z ]+)", text)
    assert kinds == ["global minimum", "saddle", "local minimum"]
    # The bracket printed is the one searched: [1 + 0.5, 1 + (n - 0.5)] (λ of R carrying r).
    assert "on the searched bracket [1.5, 191.5]" in text
    assert "uniqueness guaranteed (Theorem 3 / relaxed condition): False" in text


def test_solve_certify_reports_the_certified_verdict(tmp_path):
    """--certify replaces the spectral verdict by the interval certificate's (the three-fixed-
    point case, "certified non-unique", is the doctested example of docs/cli.md)."""
    dense = tmp_path / "dense.json"
    dense.write_text(json.dumps({"Sigma": [[1, 0], [0, 2]], "R": [[1, 0.5], [0.5, 1]],
                                 "r": [0.9, 0.3], "sigma2": 0.1}))
    status, out = _run(["solve", str(dense), "--certify", "--digits", "20", "--json"])
    payload = json.loads(out)
    assert status == 0 and payload["certified"] is True
    assert payload["uniqueness"]["reason"] == "certificate"
    assert payload["uniqueness"]["fixed_points"] == 1 == len(payload["fixed_points"])
    assert payload["fixed_points"][0]["kind"] == "global minimum"
    assert payload["risk"] == payload["fixed_points"][0]["risk"]


def test_curves_family_file_with_parameters_in_the_csv_header(tmp_path):
    """`curves --family FILE` for a 3-task family: the CSV header carries the parameters, the
    reader skips it, and the vector-gating column equals the closed form of key-wise gating
    written out here, ``M − Σ_j s_j² hᵀ G_j⁻¹ h`` (docs/theory.md §7), below L*_WPGD of the
    multitask solver for this anisotropic Σ."""
    import numpy as np

    from wpgd_theory.multitask.curves import MultitaskFamily, read_curves_csv
    from wpgd_theory.multitask.model import solve_multitask
    setting = {"C": [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]], "c": [0.2, 0.4, 0.8],
               "proportions": [1, 2, 1], "Sigma": [[1, 0], [0, 0.5]], "sigma2": 0.1}
    family_file = tmp_path / "family.json"
    family_file.write_text(json.dumps(setting))
    status, text = _run(["curves", "--family", str(family_file), "--n", "4", "40",
                         "--csv", str(tmp_path / "out.csv")])
    assert status == 0 and text.startswith(f"wrote {tmp_path / 'out.csv'}: 2 rows")
    metadata, columns = read_curves_csv(tmp_path / "out.csv")
    assert metadata["C"] == setting["C"] and metadata["proportions"] == [1, 2, 1]
    assert metadata["Sigma"] == setting["Sigma"] and metadata["sigma2"] == 0.1
    assert metadata["normalized"] is False and metadata["wpgd_theory"]
    family = MultitaskFamily(setting["C"], setting["c"], setting["proportions"],
                             np.array(setting["Sigma"]), setting["sigma2"])
    for n, vector in zip(columns["n"], columns["gla_vector"]):
        model = family.model(n)
        N = np.diag(model.sizes.astype(float))
        C, h, M = np.asarray(setting["C"], float), N @ setting["c"], model.M
        closed = M - sum(s**2 * h @ np.linalg.solve(s * (N @ C @ N + N) + M * N, h)
                         for s in (1.0, 0.5))
        # 1e-12 relative: two float routes to one closed form; strictly below WPGD's optimum
        assert vector == pytest.approx(closed, rel=1e-12)
        assert vector < solve_multitask(model).risk * (1 - 1e-6)
    status, _ = _run(["curves", "--family", str(family_file), "--n", "4", "--d", "3"])
    assert status == 2


def test_result_reprs_show_the_fields_that_matter():
    from wpgd_theory.multitask.model import solve_multitask
    from wpgd_theory.verify.certify import certify_fixed_point
    from wpgd_theory.verify.erratum import (
        scalar_gating_claim,
        scalar_gating_counterexample,
        three_fixed_point_multitask_instance,
    )
    from wpgd_theory.verify.search import SpectralInstance
    claim = scalar_gating_claim(scalar_gating_counterexample(
        "K=3 orthogonal tasks, positive correlations c = (0.6, 0.1, 0.5)"))
    assert repr(claim).startswith("ScalarGatingClaim(holds=False, reachable=False")
    text = repr(solve_multitask(three_fixed_point_multitask_instance()))
    assert "fixed_points=<3 FixedPoint: global minimum, saddle, local minimum>" in text
    assert "uniqueness_guaranteed=False" in text and "message" not in text
    cert = certify_fixed_point(SpectralInstance([1.0, 3.0], 0.5, [0.25, 1.75], [0.3, 0.5]),
                               digits=20)
    midpoint, radius = re.search(r"enclosures=\[([\d.]+) ± ([\d.e-]+)\]", repr(cert)).groups()
    # The printed radius is half the certificate's width (2 significant digits).
    assert float(radius) == pytest.approx(cert.width / 2, rel=0.05)
    assert float(midpoint) == pytest.approx(2.0803233124107381, abs=1e-15)


def _fake_training(config, *, progress=False, history_stride=None):
    """What run_train_config returns, for a run whose Monte Carlo risk sits below the optimum
    (sampling) while its exact risk and paired gap sit above it."""
    history = [4.0 - 0.1 * k for k in range(10)]
    stride = history_stride or 5
    return {"config": config, "seconds": 0.5, "runs": [{
        "gating": "scalar", "parameterisation": "constrained", "seed": 0, "test_risk": 2.00,
        "test_risk_se": 0.02, "test_prompts": 8192, "optimum_test_risk": 1.99,
        "paired_gap": 0.01, "paired_gap_se": 0.004, "optimum_kind": "scalar",
        "optimum_risk": 2.02, "wpgd_risk": 2.02, "closed_form_risk": 2.03,
        "block_weights": [0.25, 1.0], "theory_block_weights": [0.26, 1.0],
        "loss_history_stride": stride, "loss_history": history[::stride]}]}


def test_train_output_explains_and_keeps_the_history_out_of_line(tmp_path, monkeypatch):
    training = pytest.importorskip("wpgd_theory.training")
    monkeypatch.setattr(training, "run_train_config", _fake_training)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model": {"kind": "paper", "n": 8, "r1": 0.2, "r2": 0.8,
                                            "d": 4, "sigma2": 0.1}}))
    status, text = _run(["train", str(config), "--history", str(tmp_path / "h.csv")])
    assert status == 0
    assert "exact (closed-form) risk of the learned predictor: 2.03 (+0.495 %" in text
    assert "block weights: learned [0.25, 1.  ], theory [0.26, 1.  ]" in text
    assert "below the optimum is sampling error" in text and "scores 1.99 on the same" in text
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0].startswith("# config = ") and lines[1] == "seed,step,loss"
    assert len(lines) == 2 + 10 and lines[-1] == "0,9,3.1"
    status, out = _run(["train", str(config), "--json"])
    run = json.loads(out)["runs"][0]
    assert "loss_history" not in run and run["final_loss"] == pytest.approx(3.5)
    status, out = _run(["train", str(config), "--json", "--history-stride", "3",
                        "--history", str(tmp_path / "h2.csv")])
    run = json.loads(out)["runs"][0]
    assert run["loss_history"] == pytest.approx([4.0, 3.7, 3.4, 3.1])
    assert run["loss_history_stride"] == 3


def test_progress_flag_draws_a_bar_and_degrades_without_tqdm(monkeypatch):
    import pathlib
    import sys
    import tempfile
    argv = ["sweep", "--n", "12", "--d", "3", "--instances", "20", "--block-size", "20"]
    for flag, drawn in (("--progress", True), ("--no-progress", False)):
        with contextlib.redirect_stderr(io.StringIO()) as err:
            status, _ = _run(argv + [flag])
        assert status == 0 and ("phase diagram" in err.getvalue()) is drawn
    dense = pathlib.Path(tempfile.mkdtemp()) / "dense.json"
    dense.write_text(json.dumps({"Sigma": [[1, 0], [0, 2]], "R": [[1, 0.5], [0.5, 1]],
                                 "r": [0.9, 0.3], "sigma2": 0.1}))
    with contextlib.redirect_stderr(io.StringIO()) as err:
        status, _ = _run(["certify", str(dense), "--progress"])
    assert status == 0 and "certify" in err.getvalue() and "box" in err.getvalue()
    monkeypatch.setitem(sys.modules, "tqdm", None)          # tqdm not installed
    with contextlib.redirect_stderr(io.StringIO()) as err:
        status, out = _run(argv + ["--progress"])
    assert status == 0 and "needs tqdm" in err.getvalue() and "boundary" in out
