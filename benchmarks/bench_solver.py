"""Speed of ``solve_optimal_wpgd`` against baselines measured in the same run.

1. (d, n) = (20, 40): speed-up over scipy BFGS on the joint (P, ω) problem (analytic gradient,
   one start) — the issue's baseline — and over BFGS on the reduced problem ``L(ω)`` (P
   eliminated in closed form, a much stronger baseline); with the risks each reaches.
2. d = n = 500: solver time (validation included) as a ratio of ``eigh(Sigma) + eigh(R)``.
   Baseline and solver runs alternate, so both see the same machine load; the ratio of the
   minima and of the medians are printed.
3. ``precision=50`` at d = n = 50 and 200: the refined-eigendecomposition route against the
   previous route (``mpmath.eigsy`` Jacobi from scratch, object-array products), kept here as a
   private baseline and run in a child process under a time budget (``> budget`` if cut off).

Usage: ``python benchmarks/bench_solver.py``. On a shared 2-core machine, OpenBLAS's spinning
threads make every BLAS call erratic when another process holds a core; run with
``OPENBLAS_NUM_THREADS=1`` for stable figures (both sides of each ratio use the same setting).
"""
from __future__ import annotations

import multiprocessing
import sys
import time

import mpmath
import numpy as np
from _timing import alternate, timed
from scipy.optimize import minimize

from proofs_checks.strategies import random_model
from wpgd_theory import risk_of_weights, risk_of_weights_gradient, solve_optimal_wpgd
from wpgd_theory.verify.brute_force import minimize_risk_jointly


def reduced_bfgs(model, seed):
    start = np.random.default_rng(seed).standard_normal(model.n)
    return minimize(lambda w: (risk_of_weights(model, w), risk_of_weights_gradient(model, w)),
                    start, jac=True, method="BFGS", options={"gtol": 1e-10})


def bench_vs_bfgs(d=20, n=40, seed=0):
    model = random_model(seed, d, n, spread=1.0)
    args = (model.Sigma, model.R, model.r, model.sigma2)
    t_solver = min(timed(lambda: solve_optimal_wpgd(*args))[0] for _ in range(200))
    solution = solve_optimal_wpgd(*args)
    t_joint, joint = timed(lambda: minimize_risk_jointly(model, starts=1, seed=seed))
    t_reduced, reduced = timed(lambda: reduced_bfgs(model, seed))
    print(f"(d, n) = ({d}, {n}): solver {t_solver * 1e3:.3f} ms (min of 200)")
    for name, t, value in [("joint BFGS over (P, w)", t_joint, joint.risk),
                           ("BFGS over w, P eliminated", t_reduced, reduced.fun)]:
        print(f"  {name:<26} {t * 1e3:9.1f} ms  speed-up {t / t_solver:>9,.0f}x  "
              f"risk {value:.15g}  (solver - baseline = {solution.risk - value:+.2e})")
    print(f"  solver risk {solution.risk:.15g}")


def bench_vs_eigh(size=500, seed=0, repeats=9):
    model = random_model(seed, size, size, spread=2.0)
    args = (model.Sigma, model.R, model.r, model.sigma2)
    eighs = lambda: (np.linalg.eigh(model.Sigma), np.linalg.eigh(model.R))  # noqa: E731
    alternate(eighs, lambda: solve_optimal_wpgd(*args), 1)  # warm-up
    t_eigh, t_solver, _, _ = alternate(eighs, lambda: solve_optimal_wpgd(*args), repeats)
    print(f"d = n = {size}: solver {np.min(t_solver) * 1e3:.1f} ms, eigh(Sigma) + eigh(R) "
          f"{np.min(t_eigh) * 1e3:.1f} ms (minima of {repeats}, alternating)")
    print(f"  ratio of minima {np.min(t_solver) / np.min(t_eigh):.2f}, "
          f"ratio of medians {np.median(t_solver) / np.median(t_eigh):.2f}")


def _jacobi_eigh(matrix):
    """The previous high-precision eigendecomposition: mpmath's Jacobi from scratch."""
    eigenvalues, vectors = mpmath.eigsy(mpmath.matrix(matrix.tolist()))
    n = matrix.shape[0]
    values = np.array([eigenvalues[i] for i in range(n)], dtype=object)
    V = np.array([[vectors[i, j] for j in range(n)] for i in range(n)], dtype=object)
    order = np.argsort([float(v) for v in values], kind="stable")
    return np.array([max(v, mpmath.mpf(0)) for v in values[order]], dtype=object), V[:, order]


def _time_precision(size, digits, baseline, queue):
    from wpgd_theory.core import risk as risk_module
    from wpgd_theory.core import solver as solver_module
    if baseline:
        solver_module._mp_eigh = _jacobi_eigh
        risk_module.mp_congruence = lambda U, p: (U * p) @ U.T
    model = random_model(0, size, size, spread=1.0)
    cpu = time.process_time()
    t, solution = timed(lambda: solver_module.solve_model(model, precision=digits))
    queue.put((t, time.process_time() - cpu, mpmath.nstr(solution.risk, digits)))


def run_with_budget(size, digits, baseline, budget):
    """Wall and CPU seconds and the risk (a string) of one precision solve in a child process,
    or ``(None, None, None)`` if it exceeds ``budget`` seconds of wall time."""
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_time_precision, args=(size, digits, baseline, queue))
    child.start()
    child.join(budget)
    if child.is_alive():
        child.terminate()
        child.join()
        return None, None, None
    return queue.get()


def bench_precision(sizes=(50, 200), digits=50, budget=120.0):
    def describe(wall, cpu):
        return f"> {budget:.0f} s (cut off)" if wall is None else f"{wall:.2f} s (CPU {cpu:.2f} s)"

    for size in sizes:
        t_new, cpu_new, risk_new = run_with_budget(size, digits, False, budget)
        t_old, cpu_old, risk_old = run_with_budget(size, digits, True, budget)
        old, new = describe(t_old, cpu_old), describe(t_new, cpu_new)
        ratio = "" if t_old is None or t_new is None else f", speed-up {cpu_old / cpu_new:.0f}x"
        print(f"precision={digits}, d = n = {size}: Jacobi route {old}, refined route {new}{ratio}")
        if risk_old is not None and risk_new is not None:
            print(f"  risks agree to all {digits} digits: {risk_old == risk_new}")


if __name__ == "__main__":
    bench_vs_bfgs()
    bench_vs_eigh()
    bench_precision(budget=float(sys.argv[1]) if len(sys.argv) > 1 else 120.0)
