"""Speed of the Bayes-risk Monte Carlo, measured in one run with ratios against baselines.

1. Dense model, d = n = 100, 10⁴ draws, one core (target ≤ 10 s); baseline: the textbook loop
   (one ``numpy.linalg.pinv`` of G per draw) on 500 draws, extrapolated.
2. Multitask model, d = 10, K = 3, 10⁵ draws at n = 30 and n = 3·10⁸ (target ≤ 5 s each; the
   ratio n = 3·10⁸ / n = 30 shows the cost does not grow with n).
3. The same 10⁵ draws on a Dask ``LocalCluster`` with 2 single-threaded workers against 1 worker
   (target ≥ 1.6×), results compared bit for bit.

The machine is shared: the load average is printed. Usage:
``OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_bayes.py``
"""
from __future__ import annotations

import os

import numpy as np
from _timing import load, timed

from wpgd_theory import CorrelatedTaskModel, MultitaskModel, bayes_risk
from wpgd_theory.sweeps import open_executor


def dense_model(n=100, d=100):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n + 1, n + 1)) / np.sqrt(n)
    J = A @ A.T + np.eye(n + 1)
    J /= np.sqrt(np.outer(np.diag(J), np.diag(J)))
    return CorrelatedTaskModel(np.eye(d), J[:n, :n], J[:n, n], 0.1)


def textbook(model, draws):
    rng = np.random.default_rng(0)
    risks = []
    for _ in range(draws):
        X = rng.standard_normal((model.n, model.d))
        G = model.R * (X @ X.T) + model.sigma2 * np.eye(model.n)
        B = model.r[:, None] * X
        risks.append(model.M - np.trace(B.T @ np.linalg.pinv(G) @ B))
    return np.mean(risks)


def bench_dense():
    model = dense_model()
    t_base, base = timed(lambda: textbook(model, 500))
    t, result = timed(lambda: bayes_risk(model, draws=10_000, seed=0))
    per_draw_base = t_base / 500
    print(f"dense d = n = 100: 10^4 draws {t:.2f} s (target <= 10 s); risk {result.risk:.4f} ± "
          f"{result.standard_error:.4f}")
    print(f"  textbook pinv loop: {per_draw_base * 1e3:.2f} ms/draw (risk {base:.4f} on 500 "
          f"draws) -> 10^4 draws {per_draw_base * 1e4:.1f} s; speed-up "
          f"{per_draw_base * 1e4 / t:.1f}x")


def multitask_model(n):
    C = [[1, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 1]]
    return MultitaskModel(C, [0.3, 0.5, 0.7], [n // 3] * 3, np.eye(10), 0.1)


def bench_multitask():
    small, huge = multitask_model(30), multitask_model(3 * 10**8)
    t_small, r_small = timed(lambda: bayes_risk(small, draws=100_000, seed=0))
    t_huge, r_huge = timed(lambda: bayes_risk(huge, draws=100_000, seed=0))
    print(f"multitask d = 10, K = 3, 10^5 draws: n = 30 {t_small:.2f} s (risk "
          f"{r_small.risk:.4f}), n = 3e8 {t_huge:.2f} s (risk {r_huge.risk:.6f}); "
          f"ratio {t_huge / t_small:.2f} (target: <= 5 s each, ratio ~ 1)")
    return huge, r_huge


def bench_dask(model, reference):
    times = {}
    for workers in (1, 2, 1):
        with open_executor(f"dask-local:{workers}") as client:
            bayes_risk(model, draws=2000, seed=1, executor=client)          # warm-up
            t, result = timed(lambda: bayes_risk(model, draws=100_000, seed=0, executor=client))
            assert result == reference, "results differ between executors"
            times.setdefault(workers, []).append(t)
    one, two = np.mean(times[1]), times[2][0]
    print(f"Dask LocalCluster, 10^5 draws at n = 3e8: 1 worker {times[1][0]:.2f} s and "
          f"{times[1][1]:.2f} s, 2 workers {two:.2f} s; speed-up {one / two:.2f}x "
          "(target >= 1.6); bit-identical to in-process: yes")


if __name__ == "__main__":
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, {load()}")
    bench_dense()
    model, reference = bench_multitask()
    bench_dask(model, reference)
    print(load())
