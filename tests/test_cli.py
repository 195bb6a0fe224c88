"""The ``wpgd-theory`` command line: every verb through the console script, good and bad input.

The console script is run as ``python -m wpgd_theory.cli`` with this work tree first on the path
(the installed ``wpgd-theory`` may point at another checkout).
"""
import csv
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from wpgd_theory.cli import VERBS, _io, main
from wpgd_theory.core.model import CorrelatedTaskModel
from wpgd_theory.core.risk import linear_attention_risk
from wpgd_theory.core.solver import solve_optimal_wpgd
from wpgd_theory.multitask.curves import CURVE_COLUMNS, theory_curves
from wpgd_theory.multitask.model import (
    MultitaskModel,
    multitask_linear_attention_risk,
    solve_multitask,
)
from wpgd_theory.multitask.vector_gating import vector_gating_optimum

ROOT = Path(__file__).resolve().parents[1]
CURVES_ARGS = ["curves", "--r1", "0.9", "--r2", "0.3", "--d", "10", "--sigma2", "0.1",
               "--n", "2", "4", "8", "64"]
PROBLEM = {"Sigma": [[1.0, 0.0], [0.0, 2.0]], "R": [[1.0, 0.5], [0.5, 1.0]], "r": [0.9, 0.3],
           "sigma2": 0.1}
MULTITASK = {"C": [[1.0, 0.0], [0.0, 1.0]], "c": [0.3, 0.9], "sizes": [10**9, 10**9], "d": 3,
             "sigma2": 0.1}


def cli(*args, timeout=120):
    """Run the console script in a fresh interpreter; return (status, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "wpgd_theory.cli", *map(str, args)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout,
                            check=False)
    return result.returncode, result.stdout, result.stderr


def strict_json(text):
    def reject(name):
        raise AssertionError(f"non-strict JSON constant {name}")
    return json.loads(text, parse_constant=reject)


def assert_one_line_error(status, err, pattern=""):
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wpgd-theory: error: "), err
    assert "Traceback" not in err
    assert pattern in lines[0], lines[0]


def read_csv(text):
    rows = list(csv.reader(text.splitlines()))
    return tuple(rows[0]), np.array([[float(v) for v in row] for row in rows[1:]])


def write_json(path, content):
    path.write_text(json.dumps(content))
    return path


def write_npz(path, content, **overrides):
    np.savez(path, **{key: np.asarray(value) for key, value in content.items()}, **overrides)
    return path


# --------------------------------------------------------------------------- help and parser

def test_help_lists_every_verb_and_json():
    status, out, _ = cli("--help")
    assert status == 0
    for verb in VERBS:
        assert verb.NAME in out
    assert "--json" in out
    for verb in VERBS:
        status, out, _ = cli(verb.NAME, "--help")
        assert status == 0 and "--json" in out, verb.NAME


def test_console_script_entry_point_is_the_package_main():
    import tomllib
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"wpgd-theory": "wpgd_theory.cli:main"}
    assert callable(main)


def test_cli_import_is_light():
    # `wpgd-theory --help` pays for NumPy only: verbs import SciPy, mpmath, matplotlib in run().
    code = ("import sys, wpgd_theory.cli; heavy = [m for m in ('scipy', 'sympy', 'mpmath', "
            "'matplotlib', 'jax', 'proofs_checks') if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True)
    assert result.stdout.strip() == "[]"


def test_usage_errors_are_one_line_with_status_2():
    assert_one_line_error(*cli("solve")[::2], "the following arguments are required: FILE")
    assert_one_line_error(*cli("frobnicate")[::2], "invalid choice")
    assert_one_line_error(*cli("curves", "--r1", "x")[::2], "invalid float value")


# --------------------------------------------------------------------------- solve

@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_solve_dense_json_and_npz(tmp_path, suffix):
    path = tmp_path / f"problem{suffix}"
    (write_json if suffix == ".json" else write_npz)(path, PROBLEM)
    status, out, err = cli("solve", path, "--json")
    assert status == 0, err
    printed = strict_json(out)
    expected = solve_optimal_wpgd(**PROBLEM)
    model = CorrelatedTaskModel(**PROBLEM)
    assert printed["kind"] == "dense" and (printed["d"], printed["n"]) == (2, 2)
    assert printed["risk"] == expected.risk
    assert printed["linear_attention_risk"] == linear_attention_risk(model)
    assert printed["risk"] < printed["linear_attention_risk"]
    assert np.array_equal(printed["weights"], expected.weights)
    assert np.array_equal(printed["preconditioner"], expected.preconditioner)
    assert [p["gamma"] for p in printed["fixed_points"]] == [expected.gamma_star]
    assert printed["uniqueness_guaranteed"] is True
    status, out, _ = cli("solve", path)
    assert status == 0
    assert f"L*    = {expected.risk!r}" in out and "L_ATT = " in out


@pytest.mark.parametrize("sigma", ["d", "Sigma"])
def test_solve_multitask_reports_block_weights_and_linear_attention(tmp_path, sigma):
    content = dict(MULTITASK)
    if sigma == "Sigma":
        del content["d"]
        content["Sigma"] = np.diag([1.0, 2.0, 0.5]).tolist()
    status, out, err = cli("solve", write_json(tmp_path / "m.json", content), "--json")
    assert status == 0, err
    printed = strict_json(out)
    model = MultitaskModel(content["C"], content["c"], content["sizes"],
                           content.get("Sigma", np.eye(3)), content["sigma2"])
    expected = solve_multitask(model)
    assert printed["kind"] == "multitask" and printed["n"] == 2 * 10**9 and printed["K"] == 2
    assert printed["risk"] == expected.risk
    assert printed["linear_attention_risk"] == multitask_linear_attention_risk(model)
    # Key-wise gating: never above L*_WPGD (here equal even for the anisotropic Σ: with C = I and
    # equal sizes every direction wants the same block ratio c_1/c_2).
    vector = printed["vector_gating_risk"]
    assert vector == vector_gating_optimum(model).risk
    assert vector == pytest.approx(expected.risk, rel=1e-12)
    assert np.array_equal(printed["block_weights"], expected.block_weights)
    assert "weights" not in printed


def test_solve_multitask_npz_and_text(tmp_path):
    path = write_npz(tmp_path / "m.npz", MULTITASK)
    status, out, err = cli("solve", path)
    assert status == 0, err
    assert out.startswith("multitask problem: d = 3, n = 2000000000, K = 2")
    assert "block_weights = " in out and "L*_vector = " in out


def test_solve_json_is_strict_where_values_are_undefined(tmp_path):
    # r = 0 is admissible: γ* and h₂(γ*) are undefined (NaN inside), printed as null.
    status, out, err = cli("solve", write_json(tmp_path / "r0.json", {**PROBLEM, "r": [0, 0]}),
                           "--json")
    assert status == 0, err
    printed = strict_json(out)
    assert printed["gamma_star"] is None and printed["h2_star"] is None
    assert printed["risk"] == pytest.approx(3.1)


def _fifo(path):
    os.mkfifo(path)
    return path


def _zip_with_corrupt_member(path):
    with zipfile.ZipFile(path, "w") as archive:
        for key in PROBLEM:
            archive.writestr(f"{key}.npy", b"\x93NUMPY garbage")
    return path


def _truncated_npz(path):
    full = write_npz(path.with_name("full.npz"), PROBLEM)
    path.write_bytes(full.read_bytes()[:200])
    return path


def _npy_named_npz(path):
    np.save(path.with_name("a.npy"), np.ones(3))
    path.with_name("a.npy").rename(path)
    return path


def _object_npz(path):
    return write_npz(path, {**PROBLEM, "r": np.array([0.9, 0.3], dtype=object)})


# (name, file name, writer, expected message fragment)
MALFORMED = [
    ("json corrupt", "p.json", lambda p: p.write_text('{"Sigma": [[1'), "invalid JSON"),
    ("json empty", "p.json", lambda p: p.write_text(""), "is empty"),
    ("json blank", "p.json", lambda p: p.write_text("  \n"), "invalid JSON"),
    ("json not utf-8", "p.json", lambda p: p.write_bytes(b"\xff\xfe\x00{"), "not UTF-8"),
    ("json deeply nested", "p.json", lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
     "nested too deeply"),
    ("json nested value", "p.json",
     lambda p: write_json(p, {**PROBLEM, "r": [[[0.9]], 0.3]}), "r must be a number, got an array"),
    ("json top-level array", "p.json", lambda p: write_json(p, [1, 2]), "expected a JSON object"),
    ("json non-numeric", "p.json", lambda p: write_json(p, {**PROBLEM, "R": [["a", 1], [1, 1]]}),
     "R must be a number, got a string"),
    ("json string for number", "p.json", lambda p: write_json(p, {**PROBLEM, "sigma2": "0.1"}),
     "sigma2 must be a number, got a string ('0.1')"),
    ("json boolean", "p.json", lambda p: write_json(p, {**PROBLEM, "sigma2": True}),
     "sigma2 must be a number, got a boolean"),
    ("json null", "p.json", lambda p: write_json(p, {**PROBLEM, "sigma2": None}),
     "sigma2 must be a number, got null"),
    ("json NaN literal", "p.json",
     lambda p: p.write_text(json.dumps(PROBLEM).replace("0.1", "NaN")), "non-finite number NaN"),
    ("json overflow to inf", "p.json",
     lambda p: p.write_text(json.dumps(PROBLEM).replace("0.1", "1e400")),
     "sigma2 contains a non-finite number"),
    ("json integer overflow", "p.json",
     lambda p: p.write_text(json.dumps({**PROBLEM, "r": [10**400, 0.3]})),
     "r contains a non-finite number (1000000000…(401 digits))"),
    ("json ragged", "p.json", lambda p: write_json(p, {**PROBLEM, "R": [[1, 0.5], [0.5]]}),
     "R is not rectangular"),
    ("json missing key", "p.json",
     lambda p: write_json(p, {k: v for k, v in PROBLEM.items() if k != "sigma2"}),
     "missing key(s) sigma2"),
    ("json wrong key", "p.json",
     lambda p: write_json(p, {**{k: v for k, v in PROBLEM.items() if k != "r"}, "rr": [0.9, 0.3]}),
     "missing key(s) r"),
    ("json extra key", "p.json", lambda p: write_json(p, {**PROBLEM, "extra": 1}),
     "unknown key(s) 'extra'"),
    ("json wrong rank", "p.json", lambda p: write_json(p, {**PROBLEM, "r": 0.9}),
     "r must be a 1-d array"),
    ("json invalid model", "p.json", lambda p: write_json(p, {**PROBLEM, "r": [0.9, -0.9]}),
     "not positive semidefinite"),
    ("json negative sigma2", "p.json", lambda p: write_json(p, {**PROBLEM, "sigma2": -1}),
     "sigma2 must be >= 0"),
    ("multitask Sigma and d", "p.json",
     lambda p: write_json(p, {**MULTITASK, "Sigma": [[1.0]]}), "exactly one of Sigma"),
    ("multitask neither", "p.json",
     lambda p: write_json(p, {k: v for k, v in MULTITASK.items() if k != "d"}),
     "got neither"),
    ("multitask fractional size", "p.json",
     lambda p: write_json(p, {**MULTITASK, "sizes": [2.5, 3]}), "sizes must be an integer"),
    ("multitask size past int64", "p.json",
     lambda p: write_json(p, {**MULTITASK, "sizes": [2**63, 1]}), "in [1, 2**53]"),
    ("multitask huge d", "p.json", lambda p: write_json(p, {**MULTITASK, "d": 10**6}),
     "d must be an integer in [1, 4096]"),
    ("npz corrupt", "p.npz", lambda p: p.write_bytes(os.urandom(512)), "not an .npz archive"),
    ("npz truncated", "p.npz", _truncated_npz, "not a readable .npz archive"),
    ("npz empty", "p.npz", lambda p: p.write_bytes(b""), "is empty"),
    ("npz corrupt member", "p.npz", _zip_with_corrupt_member, "Sigma is not a readable array"),
    ("npz single array", "p.npz", _npy_named_npz, "is a single .npy array"),
    ("npz pickle", "p.npz", lambda p: p.write_bytes(pickle.dumps(PROBLEM)),
     "pickled data is never loaded"),
    ("npz object array", "p.npz", _object_npz, "r is an object array"),
    ("npz wrong keys", "p.npz", lambda p: write_npz(p, {"a": 1.0}), "missing key(s) Sigma, R"),
    ("npz extra key", "p.npz", lambda p: write_npz(p, {**PROBLEM, "junk": np.zeros(3)}),
     "unknown key(s) 'junk'"),
    ("npz string", "p.npz", lambda p: write_npz(p, {**PROBLEM, "sigma2": "0.1"}),
     "sigma2 must hold real numbers, got dtype <U3"),
    ("npz complex", "p.npz", lambda p: write_npz(p, {**PROBLEM, "r": [0.9 + 1j, 0.3]}),
     "r must hold real numbers"),
    ("npz non-finite", "p.npz", lambda p: write_npz(p, {**PROBLEM, "r": [np.nan, 0.3]}),
     "r contains NaN or inf"),
    ("npz wrong rank", "p.npz", lambda p: write_npz(p, {**PROBLEM, "sigma2": [0.1]}),
     "sigma2 must be 0-dimensional"),
    ("fifo json", "p.json", _fifo, "not a regular file"),
    ("fifo npz", "p.npz", _fifo, "not a regular file"),
    ("directory", "p.npz", lambda p: p.mkdir(), "is a directory"),
    ("missing file", "absent.json", lambda p: None, "absent.json: no such file"),
    ("unknown suffix", "p.txt", lambda p: p.write_text("{}"), "expected a .json or .npz file"),
]


@pytest.mark.parametrize("name, filename, make, pattern", MALFORMED,
                         ids=[case[0] for case in MALFORMED])
def test_solve_malformed_file_exits_2_in_process(tmp_path, capsys, name, filename, make, pattern):
    path = tmp_path / filename
    make(path)
    assert main(["solve", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line_error(2, captured.err, pattern)


def test_solve_malformed_files_through_the_console_script(tmp_path):
    # The same table in fresh interpreters: status 2, one stderr line, no traceback.
    for index, (name, filename, make, pattern) in enumerate(MALFORMED):
        folder = tmp_path / str(index)
        folder.mkdir()
        make(folder / filename)
        status, out, err = cli("solve", folder / filename, "--json")
        assert out == "", name
        assert_one_line_error(status, err, pattern)


def test_npz_reads_only_the_named_members(tmp_path, monkeypatch):
    read = []
    original = np.lib.npyio.NpzFile.__getitem__
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__",
                        lambda self, key: read.append(key) or original(self, key))
    problem = _io.load_problem(write_npz(tmp_path / "m.npz", MULTITASK))
    assert sorted(read) == ["C", "c", "d", "sigma2", "sizes"]
    assert problem.arrays["Sigma"].shape == (3, 3)


def test_npz_member_size_is_checked_before_reading(tmp_path, monkeypatch, capsys):
    path = write_npz(tmp_path / "p.npz", {**PROBLEM, "R": np.eye(64),       # R: 32 kB
                                          "r": np.full(64, 0.1)})
    read = []
    original = np.lib.npyio.NpzFile.__getitem__
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__",
                        lambda self, key: read.append(key) or original(self, key))
    monkeypatch.setattr(_io, "MAX_FILE_BYTES", 4096)
    assert main(["solve", str(path)]) == 2
    assert_one_line_error(2, capsys.readouterr().err, "array R is 32896 bytes uncompressed, more "
                                                      "than the limit 4096")
    assert read == ["Sigma"]


def test_npz_shapes_are_checked_from_headers_before_reading(tmp_path, monkeypatch, capsys):
    # Fuzz table (Dec 2026): a 1 MB archive of zeros reached 1.8 GB before its mismatch was
    # refused. Here no member is read at all: the shapes come from the .npy headers.
    path = write_npz(tmp_path / "p.npz", {**PROBLEM, "R": np.eye(3)})       # r has n = 2
    read = []
    original = np.lib.npyio.NpzFile.__getitem__
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__",
                        lambda self, key: read.append(key) or original(self, key))
    assert main(["solve", str(path)]) == 2
    assert_one_line_error(2, capsys.readouterr().err, "r must have shape (3,) to match R (3, 3)")
    assert read == []


# --------------------------------------------------------------------------- curves

def test_curves_csv_file_matches_theory_curves(tmp_path):
    path = tmp_path / "out.csv"
    assert main(CURVES_ARGS + ["--csv", str(path)]) == 0
    header, table = read_csv(path.read_text())
    expected = theory_curves([2, 4, 8, 64], 0.9, 0.3, d=10, sigma2=0.1)
    assert header == CURVE_COLUMNS
    assert np.array_equal(table, np.array(expected.rows(), dtype=float))


def test_curves_through_the_console_script():
    status, out, err = cli(*CURVES_ARGS, "--normalize")
    assert status == 0, err
    header, table = read_csv(out)
    expected = theory_curves([2, 4, 8, 64], 0.9, 0.3, d=10, sigma2=0.1, normalize=True)
    assert header == CURVE_COLUMNS
    assert np.array_equal(table, np.array(expected.rows(), dtype=float))
    status, out, err = cli(*CURVES_ARGS, "--json")
    assert status == 0, err
    printed = strict_json(out)
    assert printed["n"] == [2, 4, 8, 64] and printed["normalized"] is False
    raw = theory_curves([2, 4, 8, 64], 0.9, 0.3, d=10, sigma2=0.1)     # not normalised
    assert printed["gla_vector"] == raw.gla_vector.tolist()
    for bad, pattern in ((["--n", "3"], "even integers"), (["--r2", "0.9"], "r1² + r2² must be"),
                         (["--d", "0"], "d must be a positive integer")):
        assert_one_line_error(*cli(*CURVES_ARGS, *bad)[::2], pattern)


def test_curves_png(tmp_path, capsys):
    csv_path, png_path = tmp_path / "out.csv", tmp_path / "out.png"
    status = main(CURVES_ARGS + ["--csv", str(csv_path), "--png", str(png_path)])
    assert csv_path.exists()                      # the table is written either way
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert status == 1 and not png_path.exists()
        assert "pip install 'wpgd-theory[plot]'" in capsys.readouterr().err
    else:
        assert status == 0 and png_path.read_bytes()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------- figure

def test_figure_through_the_console_script(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "figure1.png"
    status, out, err = cli("figure", "-o", png, "--n", "2", "8", "32", "--json")
    assert status == 0, err
    printed = strict_json(out)
    expected = theory_curves([2, 8, 32], 0.3, 0.9, d=10, sigma2=0.1, normalize=True)
    assert printed["png"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"
    assert printed["curves"]["gla"] == expected.gla.tolist()
    assert printed["curves"]["normalized"] is True
    assert_one_line_error(*cli("figure", "-o", png, "--d", "0")[::2], "d must be")
    assert_one_line_error(*cli("figure")[::2], "-o/--output")


# --------------------------------------------------------------------------- certify

def test_certify_through_the_console_script(tmp_path):
    status, out, err = cli("certify", write_json(tmp_path / "p.json", PROBLEM), "--json")
    assert status == 0, err
    printed = strict_json(out)
    assert printed["unique"] is True and printed["count"] == 1 and printed["undecided"] == 0
    lower, upper = map(float, printed["enclosures"][0])
    gamma = solve_optimal_wpgd(**PROBLEM).gamma_star
    assert upper - lower < 1e-20
    assert (lower + upper) / 2 == pytest.approx(gamma, rel=1e-14)   # γ* in float64
    assert printed["contraction_bound"] < 1
    status, out, err = cli("certify", write_json(tmp_path / "p.json", PROBLEM))
    assert status == 0 and "unique = True" in out
    assert_one_line_error(*cli("certify", write_json(tmp_path / "b.json", [1]))[::2],
                          "expected a JSON object")
    assert_one_line_error(*cli("certify", tmp_path / "p.json", "--digits", "5")[::2],
                          "argument --digits: must be an integer in [15, 1000], got 5")
    assert_one_line_error(*cli("solve", tmp_path / "p.json", "--grid-size", "10**9")[::2],
                          "argument --grid-size: must be an integer, got '10**9'")


def test_certify_unsupported_model_is_bad_input(tmp_path, monkeypatch, capsys):
    import wpgd_theory.verify.certify as certify_module

    def unsupported(model, **kwargs):
        raise TypeError(f"spectra must be a CorrelatedTaskModel, got {type(model).__name__}")
    monkeypatch.setattr(certify_module, "certify_fixed_point", unsupported)
    assert main(["certify", str(write_json(tmp_path / "m.json", MULTITASK))]) == 2
    assert_one_line_error(2, capsys.readouterr().err, "certify does not support multitask input")


def test_certify_undecided_exits_1(tmp_path, monkeypatch, capsys):
    import dataclasses

    import wpgd_theory.verify.certify as certify_module
    real = certify_module.certify_fixed_point

    def out_of_budget(model, **kwargs):
        cert = real(model, **kwargs)
        return dataclasses.replace(cert, unique=None, undecided=[cert.bracket])
    monkeypatch.setattr(certify_module, "certify_fixed_point", out_of_budget)
    assert main(["certify", str(write_json(tmp_path / "p.json", PROBLEM))]) == 1
    assert "1 undecided" in capsys.readouterr().out


# --------------------------------------------------------------------------- check

def test_check_through_the_console_script():
    status, out, err = cli("check", "--examples", "1", "--json", timeout=300)
    assert status == 0, err
    printed = strict_json(out)
    assert printed["passed"] is True and printed["failed"] == []
    verdicts = {row["verdict"] for row in printed["statements"]}
    assert verdicts <= {"holds", "holds as corrected"} and len(printed["statements"]) >= 8
    assert all(row["measurements"] for row in printed["statements"])
    assert_one_line_error(*cli("check", "--examples", "0")[::2],
                          "argument --examples: must be an integer in [1, 10000], got 0")


def test_check_exits_1_when_a_statement_fails(monkeypatch, capsys):
    import proofs_checks
    from proofs_checks._report import CheckReport, Measurement, StatementReport

    class Failing:
        @staticmethod
        def report(examples, seed):
            return StatementReport.judge("Theorem X", [Measurement.of(
                "residual", "absolute", [CheckReport(False, 0.5, 1e-10)])], notes="counterexample")
    monkeypatch.setattr(proofs_checks, "all_check_modules", lambda: [Failing])
    assert main(["check", "--examples", "1", "--json"]) == 1
    assert strict_json(capsys.readouterr().out)["failed"] == ["Theorem X"]
    assert main(["check", "--examples", "1"]) == 1
    out = capsys.readouterr().out
    assert "Theorem X" in out and "1 fail" in out.splitlines()[-1]


# --------------------------------------------------------------------------- sweep

def test_sweep_through_the_console_script(tmp_path):
    from wpgd_theory.sweeps import run_phase_diagram

    status, out, err = cli("sweep", "--n", "20", "50", "--d", "3", "--instances", "30",
                           "--block-size", "10", "--shapes", "two_cluster", "--json",
                           "--csv", str(tmp_path / "p.csv"))
    assert status == 0, err
    printed = strict_json(out)
    direct = run_phase_diagram([20, 50], [3], ("two_cluster",), instances=30, block_size=10)
    assert [row["several"] for row in printed["rows"]] == [r["several"] for r in direct.rows]
    assert [row["max_slope"] for row in printed["rows"]] == [r["max_slope"] for r in direct.rows]
    assert (tmp_path / "p.csv").read_text().count("\n") == 3       # header + two cells
    # Same result on two local processes (seed blocks, not workers, fix the random stream).
    status, out2, err = cli("sweep", "--n", "20", "50", "--d", "3", "--instances", "30",
                            "--block-size", "10", "--shapes", "two_cluster", "--json",
                            "--executor", "processes:2", timeout=300)
    assert status == 0, err
    assert strict_json(out2)["rows"] == printed["rows"]
    assert_one_line_error(*cli("sweep", "--n", "1")[::2],
                          "argument --n: must be an integer in [2, 100000], got 1")
    assert_one_line_error(*cli("sweep", "--n", "20", "--d", "3", "--executor", "bogus")[::2],
                          "unknown executor spec 'bogus'")


# --------------------------------------------------------------------------- train, figure --trained

TRAIN_CONFIG = {"model": {"kind": "paper", "n": 8, "r1": 0.2, "r2": 0.8, "d": 4, "sigma2": 0.1},
                "gating": "scalar", "steps": 300, "batch_size": 128, "test_prompts": 8192,
                "seeds": [0, 1]}


def test_train_through_the_console_script(tmp_path):
    pytest.importorskip("jax")
    from wpgd_theory import scalar_gating_optimum
    from wpgd_theory.training import model_from_config

    status, out, err = cli("train", str(write_json(tmp_path / "c.json", TRAIN_CONFIG)), "--json",
                           timeout=300)
    assert status == 0, err
    runs = strict_json(out)["runs"]
    optimum = scalar_gating_optimum(model_from_config(TRAIN_CONFIG["model"])).risk
    assert [run["seed"] for run in runs] == [0, 1]
    for run in runs:
        assert run["optimum_risk"] == pytest.approx(optimum, rel=1e-12)
        # 300 Adam steps on d = 4, n = 8: within 3 % or 4 SE of the class optimum, never far below
        assert abs(run["test_risk"] - optimum) <= max(0.03 * optimum, 4 * run["test_risk_se"])
    bad = {**TRAIN_CONFIG, "model": {**TRAIN_CONFIG["model"], "r1": "0.2"}}
    assert_one_line_error(*cli("train", str(write_json(tmp_path / "b.json", bad)))[::2],
                          "r1 must be a finite real number, got '0.2'")
    assert_one_line_error(*cli("train", str(write_json(tmp_path / "k.json", {"lr": 1})))[::2],
                          "unknown config keys")
    assert_one_line_error(*cli("train", str(tmp_path))[::2], "is a directory")


def test_figure_overlays_trained_rows(tmp_path):
    pytest.importorskip("jax")
    pytest.importorskip("matplotlib")
    rows = ROOT / "docs" / "figures" / "training_figure1.csv"
    status, out, err = cli("figure", "-o", str(tmp_path / "o.png"), "--trained", str(rows),
                           "--json")
    assert status == 0, err
    assert strict_json(out)["rows"] == rows.read_text().count("\n") - 1
    assert (tmp_path / "o.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    not_rows = tmp_path / "x.csv"
    not_rows.write_text("a,b\n1,2\n")
    assert_one_line_error(*cli("figure", "-o", str(tmp_path / "p.png"), "--trained",
                               str(not_rows))[::2], "not a training-rows CSV")
