"""The ``wpgd-theory`` command line: ``curves`` and ``solve``."""
import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from wpgd_theory.cli import main
from wpgd_theory.core.solver import solve_optimal_wpgd
from wpgd_theory.multitask.curves import CURVE_COLUMNS, theory_curves

CURVES_ARGS = ["curves", "--r1", "0.9", "--r2", "0.3", "--d", "10", "--sigma2", "0.1",
               "--n", "2", "4", "8", "64"]
PROBLEM = {"Sigma": [[1.0, 0.0], [0.0, 2.0]], "R": [[1.0, 0.5], [0.5, 1.0]], "r": [0.9, 0.3],
           "sigma2": 0.1}


def read_csv(text):
    rows = list(csv.reader(text.splitlines()))
    return tuple(rows[0]), np.array([[float(v) for v in row] for row in rows[1:]])


def test_curves_csv_file_matches_theory_curves(tmp_path):
    path = tmp_path / "out.csv"
    assert main(CURVES_ARGS + ["--csv", str(path)]) == 0
    header, table = read_csv(path.read_text())
    expected = theory_curves([2, 4, 8, 64], 0.9, 0.3, d=10, sigma2=0.1)
    assert header == CURVE_COLUMNS
    assert np.array_equal(table, np.array(expected.rows(), dtype=float))


def test_curves_to_stdout_and_normalize(capsys):
    assert main(CURVES_ARGS + ["--normalize"]) == 0
    header, table = read_csv(capsys.readouterr().out)
    expected = theory_curves([2, 4, 8, 64], 0.9, 0.3, d=10, sigma2=0.1, normalize=True)
    assert np.array_equal(table, np.array(expected.rows(), dtype=float))


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


def test_curves_bad_input_exits_2_with_the_argument_named(capsys):
    assert main(["curves", "--r1", "0.9", "--r2", "0.9", "--d", "2", "--sigma2", "0.1",
                 "--n", "4"]) == 2
    assert "r1² + r2² must be <= 1" in capsys.readouterr().err
    assert main(["curves", "--r1", "0.1", "--r2", "0.2", "--d", "2", "--sigma2", "0.1",
                 "--n", "3"]) == 2
    assert "even integers" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["curves", "--r1", "0.1"])          # argparse: missing required options


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_solve_reads_json_and_npz(tmp_path, capsys, suffix):
    path = tmp_path / f"problem{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(PROBLEM))
    else:
        np.savez(path, **{key: np.asarray(value) for key, value in PROBLEM.items()})
    assert main(["solve", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = solve_optimal_wpgd(**PROBLEM)
    assert printed["risk"] == expected.risk
    assert np.array_equal(printed["weights"], expected.weights)
    assert np.array_equal(printed["preconditioner"], expected.preconditioner)
    assert main(["solve", str(path)]) == 0
    assert f"risk={expected.risk}" in capsys.readouterr().out


@pytest.mark.parametrize("content, suffix, pattern", [
    ({"Sigma": [[1.0]], "R": [[1.0]], "r": [0.5]}, ".json", "missing key(s) sigma2"),
    ([1, 2], ".json", "expected a JSON object"),
    ({}, ".txt", "expected a .json or .npz file"),
    ({**PROBLEM, "r": [0.9, -0.9]}, ".json", "not positive semidefinite"),
])
def test_solve_bad_input_exits_2(tmp_path, capsys, content, suffix, pattern):
    path = tmp_path / f"problem{suffix}"
    path.write_text(json.dumps(content))
    assert main(["solve", str(path)]) == 2
    assert pattern in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


def test_module_entry_point_runs_in_a_fresh_interpreter():
    result = subprocess.run([sys.executable, "-m", "wpgd_theory.cli"] + CURVES_ARGS[:-3],
                            capture_output=True, text=True, check=True)
    header, table = read_csv(result.stdout)
    assert header == CURVE_COLUMNS and table.shape == (1, 5)
