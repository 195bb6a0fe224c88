"""Adversarial inputs to training, its configurations and the CLI verbs that read files.

The contract (issue #18, item 4): a correct finite answer, or a ValueError/TypeError naming the
argument and the violated condition; no silent NaN/inf; from the CLI one line
``wpgd-theory: error: ...`` with exit status 2; no large allocation or long run before a refusal.
Tiny models and few steps keep the JAX compilations short (this file adds about 30 s).
"""
from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np
import pytest

jax = pytest.importorskip("jax")
pytest.importorskip("optax")

from wpgd_theory import (  # noqa: E402
    CorrelatedTaskModel,
    MultitaskModel,
    paper_setting_model,
    risk,
    solve_model,
)
from wpgd_theory.cli import main  # noqa: E402
from wpgd_theory.training import (  # noqa: E402
    MAX_TRAINING_FLOATS,
    ROW_COLUMNS,
    Architecture,
    evaluate,
    model_from_config,
    overlay_figure,
    rank_one_fit,
    read_rows_csv,
    run_train_config,
    task_scale,
    train,
    write_rows_csv,
)

PAPER = paper_setting_model(4, 0.2, 0.8, 2, 0.1)
R2 = [[1.0, 0.5], [0.5, 1.0]]


def dense(t):
    """The same correlated-task model with Σ and σ² multiplied by ``t``."""
    return CorrelatedTaskModel(t * np.diag([1.0, 2.0]), R2, [0.9, 0.3], 0.1 * t)


def run_cli(*argv):
    """``(status, stdout, stderr)`` of ``wpgd-theory argv`` run in-process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exc:                   # argparse usage errors
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def assert_one_line_error(status, err, fragment):
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wpgd-theory: error:"), err
    assert "unexpected" not in err and fragment in err, err


# ---------------------------------------------------------------------- scale-free training

def test_training_is_scale_free_and_reports_in_the_models_units():
    """The risk is homogeneous, L(tΣ, tσ²; P/t) = t·L(Σ, σ²; P): training runs on the
    normalised model Σ/s, σ²/s with s ∝ t, so runs at t = 1e-150 and 1e20 are the run at t = 1
    with every risk multiplied by t and P divided by t. Before, t = 1e-150 gave test_risk exactly
    0 (float32 underflow) and a NaN paired gap."""
    kwargs = dict(parameterisation="wpgd", steps=30, batch_size=8, test_prompts=64,
                  learning_rate=0.05)
    base = train(dense(1.0), **kwargs)
    assert base.test_risk > 0 and np.isfinite(base.paired_gap)
    for t in (1e-150, 1e20):
        scaled = train(dense(t), **kwargs)
        assert task_scale(dense(t)) == pytest.approx(1.5 * t, rel=1e-15)
        # the normalised models agree to a few ulps, and float32 training on them is then the
        # same computation: 1e-5 relative covers the ulps propagated through 30 Adam steps
        for name in ("test_risk", "test_risk_se", "paired_gap", "optimum_test_risk",
                     "closed_form_risk"):
            assert getattr(scaled, name) / t == pytest.approx(getattr(base, name), rel=1e-5), name
        assert scaled.loss_history / t == pytest.approx(base.loss_history, rel=1e-5)
        assert scaled.preconditioner * t == pytest.approx(base.preconditioner, rel=1e-5, abs=0)
        # the optimum comes from the float64 solver in the user's units (independent route)
        assert scaled.optimum.risk == pytest.approx(solve_model(dense(t)).risk, rel=1e-12)
        assert scaled.optimum.risk / t == pytest.approx(base.optimum.risk, rel=1e-12)
        # the closed-form risk of the reported P, ω in the user's units is the reported one
        assert risk(dense(t), scaled.preconditioner, scaled.weights) == pytest.approx(
            scaled.closed_form_risk, rel=1e-10)


def test_evaluate_reports_in_the_models_units():
    """Monte Carlo risk of given WPGD parameters against the closed form L(P, ω) (float64)."""
    t = 1e-150
    arch = Architecture.build(dense(t), parameterisation="wpgd")
    P, omega = np.array([[0.3, 0.0], [0.0, 0.2]]), np.array([0.6, 0.15])
    # params live in the normalised model's units (P_normalised = s·P_user)
    params = {"P": P * task_scale(dense(t)), "omega": omega}
    evaluation = evaluate(arch, params, test_prompts=16_384)
    mean, se, exact = evaluation.risk, evaluation.risk_se, risk(dense(t), P, omega)
    assert evaluation.prompts == 16_384 and se > 0
    assert abs(mean - exact) <= 4 * se, (mean, exact, se)      # 4 SE: a 6e-5 false alarm rate
    # the paired gap is in the user's units too: on common prompts risk − gap = the optimum's
    # Monte Carlo risk, up to float32 sums (relative 1e-5)
    assert abs(evaluation.risk - evaluation.paired_gap - evaluation.optimum_risk) <= 1e-5 * mean


# ---------------------------------------------------------------------- diverging runs

def test_a_diverging_run_raises_floating_point_error():
    # lr = 1e6 gave test_risk 7.8e25 with an infinite standard error and no error
    with pytest.raises(FloatingPointError, match="learning_rate"):
        train(PAPER, "scalar", steps=50, batch_size=16, test_prompts=64, learning_rate=1e6)


def test_an_overflowing_initialisation_is_named():
    with pytest.raises(FloatingPointError, match="step 0.*init_scale"):
        train(PAPER, "scalar", steps=2, batch_size=4, test_prompts=64, init_scale=1e30)


# ---------------------------------------------------------------------- argument checks

@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"init_scale": "0.1"}, TypeError, "init_scale must be a real number"),
    ({"init_scale": True}, TypeError, "init_scale must be a real number"),
    ({"init_scale": None}, TypeError, "init_scale must be a real number"),
    ({"init_scale": 0.0}, ValueError, "init_scale must be > 0"),
    ({"progress": "yes"}, TypeError, "progress must be a bool"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"steps": 10**12}, ValueError, "steps must be <= 1000000"),
    ({"test_prompts": 10**13}, ValueError, "test_prompts must be <="),
    ({"test_prompts": 1}, ValueError, "test_prompts must be >= 2"),
    ({"batch_size": 10**9}, ValueError, f"MAX_TRAINING_FLOATS = {MAX_TRAINING_FLOATS}"),
])
def test_bad_training_arguments_are_refused_before_training(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        train(PAPER, "scalar", **kwargs)


def test_share_prompts_and_seeds_are_checked():
    from wpgd_theory.training import train_seeds
    with pytest.raises(TypeError, match="share_prompts must be a bool"):
        train_seeds(PAPER, seeds=[0, 1], share_prompts=1)
    with pytest.raises(ValueError, match="seeds is empty"):
        train_seeds(PAPER, seeds=[])
    with pytest.raises(ValueError, match=r"seeds\[1\] must be >= 0"):
        train_seeds(PAPER, seeds=[0, -1])


def test_a_large_model_is_refused_by_its_estimated_footprint():
    # vector gating, d = 256, n = 4000: 5e6 floats a prompt, 256 prompts a step (JAX ran out of
    # memory on such sizes); the estimate 4·batch·T·(D + 2d_k + 1) alone is 5e9 > 5.4e8
    long = MultitaskModel(np.eye(2), [0.2, 0.8], [2000, 2000], np.eye(256), 0.1)
    with pytest.raises(ValueError, match="MAX_TRAINING_FLOATS"):
        train(long, "vector")
    assert 4 * 256 * 4003 * (256 + 3 + 2 * 512 + 1) > MAX_TRAINING_FLOATS


def test_evaluate_checks_its_arguments():
    arch = Architecture.build(PAPER, "scalar")
    params = arch.init(jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match="arch must be an Architecture"):
        evaluate(None, params)
    with pytest.raises(ValueError, match="params must have the entries"):
        evaluate(arch, {})
    with pytest.raises(ValueError, match=r"params\['W_q'\] contains NaN"):
        evaluate(arch, dict(params, W_q=np.full((2, 2), np.nan)))
    with pytest.raises(ValueError, match=r"params\['W_k'\] must have shape \(2, 2\)"):
        evaluate(arch, dict(params, W_k=np.ones((3, 2))))
    with pytest.raises(ValueError, match="test_prompts must be >= 2"):
        evaluate(arch, params, test_prompts=1)


@pytest.mark.parametrize("stack, error, fragment", [
    (np.zeros((0, 2, 2)), ValueError, "n, d >= 1"),
    (np.full((2, 2, 2), np.nan), ValueError, "contains NaN"),
    (np.zeros((2, 2, 2)), ValueError, "all zero"),
    (np.ones((2, 2, 3)), ValueError, r"shape \(n, d, d\)"),
    (np.ones(3), ValueError, "3-dimensional"),
])
def test_rank_one_fit_refuses_what_has_no_fit(stack, error, fragment):
    with pytest.raises(error, match=fragment):
        rank_one_fit(stack)


# ---------------------------------------------------------------------- configurations

PAPER_SPEC = {"kind": "paper", "n": 8, "r1": 0.2, "r2": 0.8, "d": 4}


@pytest.mark.parametrize("spec, fragment", [
    ({**PAPER_SPEC, "sigma_2": 0.5}, "unknown model (kind 'paper') keys 'sigma_2'; accepted: "
                                     "'d', 'kind', 'n', 'r1', 'r2', 'sigma2'"),
    ({"kind": "multitask", "task_correlation": [[1]], "query_correlation": [0.5],
      "sizes": [4], "d": 7, "Sigma": [[2.0]]}, "both 'd' and 'Sigma'"),
    ({"kind": "correlated", "R": [[1]], "r": [0.5], "Sigma": [[1.0]], "sigmaa2": 0.3},
     "'sigmaa2'"),
    ({**PAPER_SPEC, "Sigma": [[1.0]]}, "unknown model (kind 'paper') keys 'Sigma'"),
    ({"kind": "dense"}, "model kind must be"),
])
def test_model_specs_refuse_unknown_and_conflicting_keys(spec, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        model_from_config(spec)


def test_train_configs_refuse_unknown_and_conflicting_keys():
    with pytest.raises(ValueError, match="unknown config keys 'lr'; accepted: "):
        run_train_config({"model": PAPER_SPEC, "lr": 1})
    with pytest.raises(ValueError, match="both 'seed' and 'seeds'"):
        run_train_config({"model": PAPER_SPEC, "seed": 3, "seeds": [0, 1]})
    with pytest.raises(ValueError, match="^seed must be >= 0"):
        run_train_config({"model": PAPER_SPEC, "seed": -1})
    with pytest.raises(TypeError, match="share_prompts must be a bool"):
        run_train_config({"model": PAPER_SPEC, "share_prompts": "no"})


def test_json_files_refuse_duplicate_keys(tmp_path):
    problem = tmp_path / "p.json"
    problem.write_text('{"Sigma": [[1]], "R": [[1]], "r": [0.5], "sigma2": 0.1, "sigma2": 0.3}')
    assert_one_line_error(*run_cli("solve", problem)[::2], "duplicate key 'sigma2'")
    config = tmp_path / "c.json"
    config.write_text('{"model": {"kind": "paper", "n": 4, "r1": 0.2, "r2": 0.8, "d": 2, '
                      '"d": 3}}')
    assert_one_line_error(*run_cli("train", config)[::2], "duplicate key 'd'")


# ---------------------------------------------------------------------- solve --precision

def test_solve_precision_prints_the_requested_digits(tmp_path):
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps({"Sigma": [[1, 0], [0, 2]], "R": R2, "r": [0.9, 0.3],
                                   "sigma2": 0.1}))
    status, out, err = run_cli("solve", problem, "--precision", 30)
    assert status == 0, err
    risk_line = next(line for line in out.splitlines() if line.startswith("optimal WPGD risk"))
    text_risk = risk_line.split("=")[-1].strip()
    status, out, err = run_cli("solve", problem, "--precision", 40, "--json")
    assert status == 0, err
    payload = json.loads(out)
    assert isinstance(payload["risk"], str) and isinstance(payload["weights"][0], str)
    # two precisions agree to the 30 digits asked first (the last one may round): an mpmath
    # solve at 40 digits is the independent high-precision route
    assert len(text_risk.replace(".", "")) == 30
    assert abs(float(payload["risk"]) - float(text_risk)) <= 1e-28
    assert payload["risk"].startswith(text_risk[:-2])
    # and both are the float64 solver's risk to its round-off
    assert float(payload["risk"]) == pytest.approx(solve_model(dense(1.0)).risk, rel=1e-13)


# ---------------------------------------------------------------------- figure and rows

ROW = dict(zip(ROW_COLUMNS, (0.2, 0.8, 10, 4, 0.0, "gla", "scalar", "constrained", 0, 10, 8,
                             0.01, 3.1, 0.01, 3.0, 3.05, 0.03, 1, 1, 1, 3.0, 0.1, 0.01, 2.0, 1.1,
                             0.02)))


@pytest.mark.parametrize("rows, fragment", [
    ([], "header but no rows"),
    ([ROW, {**ROW, "n": 20, "d": 50}], "rows mix 2 settings"),
    ([{**ROW, "test_risk": float("nan")}], "column test_risk must be finite"),
    ([{**ROW, "d": 4.7}], "column d must be an integer"),
    ([{**ROW, "curve": "mamba"}], "curve must be one of"),
    ([{**ROW, "test_risk_se": None}], "column test_risk_se is missing or empty"),
])
def test_figure_trained_refuses_rows_it_cannot_draw(tmp_path, rows, fragment):
    path = tmp_path / "rows.csv"
    write_rows_csv(rows, path)
    assert_one_line_error(*run_cli("figure", "-o", tmp_path / "o.png", "--trained",
                                   path)[::2], fragment)


def test_figure_rows_files_with_short_rows_and_bad_cells(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(",".join(ROW_COLUMNS) + "\n0.2,0.8,10\n")
    assert_one_line_error(*run_cli("figure", "-o", tmp_path / "o.png", "--trained",
                                   path)[::2], f"line 2: expected {len(ROW_COLUMNS)} cells, got fewer")
    path.write_text(",".join(ROW_COLUMNS) + "\n" + ",".join(
        "x" if k == "n" else str(v) for k, v in ROW.items()) + "\n")
    with pytest.raises(ValueError, match="column n must be a number, got 'x'"):
        read_rows_csv(path)


def test_figure_output_must_be_a_png_file(tmp_path):
    assert_one_line_error(*run_cli("figure", "-o", tmp_path / "noext", "--n", 2, 4)[::2],
                          "must end in .png")
    assert_one_line_error(*run_cli("figure", "-o", tmp_path, "--n", 2, 4)[::2],
                          "is a directory")
    assert not (tmp_path / "noext.png").exists()


def test_overlay_and_csv_writer_refuse_what_is_not_rows(tmp_path):
    with pytest.raises(ValueError, match="rows is empty"):
        overlay_figure([], tmp_path / "o.png")
    with pytest.raises(ValueError, match=r"rows\[0\]: column r1 is missing"):
        overlay_figure([{}], tmp_path / "o.png")
    with pytest.raises(TypeError, match="rows must be a sequence of dicts"):
        overlay_figure("abc", tmp_path / "o.png")
    with pytest.raises(TypeError, match=r"rows\[0\] must be a dict"):
        write_rows_csv([1, 2], tmp_path / "r.csv")


# ---------------------------------------------------------------------- messages

def test_cli_messages_name_the_option():
    assert_one_line_error(*run_cli("check", "--seed", -1)[::2], "argument --seed")
    with warnings.catch_warnings():   # a computed answer comes without warnings (it printed
        warnings.simplefilter("error")  # three 0/0 RuntimeWarnings from the stationarity residual)
        status, out, err = run_cli("curves", "--r1", 0.3, "--r2", 0.9, "--d", 4, "--sigma2",
                                   1e200, "--n", 2)
    if status == 0:          # computed (scale-free kernels): then every risk is finite
        values = [float(v) for line in out.splitlines()[1:] for v in line.split(",")]
        assert np.all(np.isfinite(values)) and not err
    else:                    # or refused: one line naming the option, no warnings before it
        assert_one_line_error(status, err, "--sigma2")
