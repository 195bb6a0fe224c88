"""Importing the package is cheap: no heavy optional part is loaded until it is used.

The measurement runs in fresh interpreters (``subprocess``), so modules already imported by the
test session do not hide a regression. Not a timing benchmark of the package's numerics: the
bound (0.3 s, min of 3 runs) is generous against the ~1 ms the lazy root takes.
"""
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEAVY = ("scipy.stats", "sympy", "matplotlib", "jax")

PROBE = """
import json, sys, time
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(json.dumps({{"elapsed": elapsed, "loaded": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def probe(statement):
    """Run ``statement`` in a fresh interpreter; return (seconds, heavy modules loaded)."""
    code = PROBE.format(statement=statement, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True, cwd=ROOT)   # cwd first on sys.path
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return data["elapsed"], data["loaded"]


def test_import_wpgd_theory_is_fast_and_light():
    runs = [probe("import wpgd_theory") for _ in range(3)]
    assert min(elapsed for elapsed, _ in runs) <= 0.3, runs
    assert runs[0][1] == [], f"import wpgd_theory loaded {runs[0][1]}"


@pytest.mark.parametrize("statement", [
    "from wpgd_theory import solve_optimal_wpgd",
    "from wpgd_theory import solve_multitask, theory_curves",
    "import wpgd_theory.verify.search",
])
def test_public_names_do_not_pull_heavy_optional_modules(statement):
    _, loaded = probe(statement)
    assert loaded == [], f"{statement!r} loaded {loaded}"


def test_first_float64_solve_does_not_import_scipy_optimize():
    # The cold-start budget (import + first solve ≤ 0.2 s, benchmarks/bench_cold_start.py) rests
    # on this: scipy.optimize alone imports in ~0.3 s. Structural, so it cannot flake on load.
    code = ("import sys, numpy as np\n"
            "from wpgd_theory import solve_optimal_wpgd\n"
            "s = solve_optimal_wpgd(np.diag([1.0, 2.0, 4.0]), [[1, .3, 0], [.3, 1, .5], [0, .5, 1]],"
            " [.8, .4, .1], 0.25)\n"
            "print(sorted(m for m in ('scipy.optimize', 'scipy.linalg', 'sympy') if m in sys.modules),"
            " round(s.risk, 12))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True, cwd=ROOT)
    assert result.stdout.split("]")[0] + "]" == "[]", result.stdout
    assert result.stdout.strip().endswith("6.0957395395"), result.stdout   # README's quick start
