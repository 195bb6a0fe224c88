"""Cold start: a fresh interpreter importing the package and solving one 3×3 instance.

Each measurement is a new ``python`` process (nothing cached in ``sys.modules``), run
alternately with its baseline so that both see the same machine load:

1. ``import numpy`` — the floor any NumPy-based package pays;
2. ``from wpgd_theory import solve_optimal_wpgd`` and one float64 solve (issue target ≤ 0.2 s);
3. the same preceded by ``import scipy.optimize`` — what the solver paid when it refined roots
   with ``scipy.optimize.brentq`` (imported at module top);
4. ``python -m wpgd_theory.cli solve FILE`` — every CLI call pays its start-up.

Then the per-solve cost of the root refinement, warm, in one process: mpmath.findroot (the
solver's) against ``brentq`` on the same 50 models. Usage: ``python benchmarks/bench_cold_start.py``
(``--importtime`` also prints the slowest imports of case 2 from ``python -X importtime``).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

import numpy as np
from _timing import load

SOLVE = ("import numpy as np\n"
         "from wpgd_theory import solve_optimal_wpgd\n"
         "solve_optimal_wpgd(np.diag([1.0, 2.0, 4.0]), [[1, .3, 0], [.3, 1, .5], [0, .5, 1]],"
         " [.8, .4, .1], 0.25)\n")
CASES = {
    "import numpy": "import numpy\n",
    "import + first solve": SOLVE,
    "import scipy.optimize + import + first solve": "import scipy.optimize\n" + SOLVE,
}


def run(args):
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def cold_times(repeats, problem):
    commands = {name: [sys.executable, "-c", code] for name, code in CASES.items()}
    commands["CLI solve FILE"] = [sys.executable, "-m", "wpgd_theory.cli", "solve", problem]
    times = {name: [] for name in commands}
    for _ in range(repeats):                 # alternate: every case sees the same load
        for name, args in commands.items():
            times[name].append(run(args))
    return {name: np.array(values) for name, values in times.items()}


def root_refinement_ratio():
    from scipy.optimize import brentq

    from proofs_checks.strategies import random_model
    from wpgd_theory.core import spectral
    from wpgd_theory.core.solver import solve_model

    models = [random_model(seed, 6, 8, spread=1.0) for seed in range(50)]
    ours = spectral._bracketed_root

    def per_solve():
        start = time.perf_counter()
        gammas = [solve_model(model).gamma_star for model in models]
        return (time.perf_counter() - start) / len(models), np.array(gammas)

    rtol = 4 * np.finfo(float).eps
    try:
        t_ours, g_ours = min(per_solve() for _ in range(5))
        spectral._bracketed_root = lambda F, a, b: brentq(F, a, b, xtol=1e-300, rtol=rtol)
        t_brentq, g_brentq = min(per_solve() for _ in range(5))
    finally:
        spectral._bracketed_root = ours
    return t_ours, t_brentq, float(np.max(np.abs(g_ours - g_brentq) / g_brentq))


def main(repeats=15):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"Sigma": [[1, 0, 0], [0, 2, 0], [0, 0, 4]],
                   "R": [[1, .3, 0], [.3, 1, .5], [0, .5, 1]], "r": [.8, .4, .1],
                   "sigma2": 0.25}, handle)
    print(f"cold start, {repeats} fresh processes per case, alternating; {load()}")
    times = cold_times(repeats, handle.name)
    floor = np.median(times["import numpy"])
    for name, values in times.items():
        print(f"  {name:46s} median {np.median(values):.3f} s  min {values.min():.3f} s  "
              f"({np.median(values) / floor:.1f}x import numpy)")
    ours, brentq_time, difference = root_refinement_ratio()
    print(f"warm per-solve time (d=6, n=8, 50 models): mpmath.findroot {ours * 1e3:.2f} ms, "
          f"brentq {brentq_time * 1e3:.2f} ms (ratio {ours / brentq_time:.2f}); "
          f"largest relative difference of gamma* {difference:.1e}")
    if "--importtime" in sys.argv:
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", SOLVE],
                                capture_output=True, text=True, check=True)
        rows = [line for line in result.stderr.splitlines()
                if line.startswith("import time:") and line.split("|")[1].strip().isdigit()]
        rows.sort(key=lambda line: int(line.split("|")[1]), reverse=True)
        print("slowest cumulative imports (us):")
        print("\n".join(rows[:8]))


if __name__ == "__main__":
    main()
