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
import time

import numpy as np
from _timing import load, timed


def cpu_timed(func):
    """``(wall seconds, CPU seconds of this process, result)``: on the shared machine the CPU
    time (one BLAS thread) is what one free core would take."""
    cpu = time.process_time()
    wall, result = timed(func)
    return wall, time.process_time() - cpu, result

from wpgd_theory import CorrelatedTaskModel, MultitaskModel, bayes_risk
from wpgd_theory.sweeps import open_executor


def dense_model(n=100, d=100):
    # Equicorrelated tasks (every pair, and the query, at correlation 0.5).
    R = 0.5 * np.ones((n, n)) + 0.5 * np.eye(n)
    return CorrelatedTaskModel(np.eye(d), R, np.full(n, 0.5), 0.1)


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
    _, cpu_base, base = cpu_timed(lambda: textbook(model, 500))
    t, cpu, result = cpu_timed(lambda: bayes_risk(model, draws=10_000, seed=0))
    per_draw_base = cpu_base / 500
    print(f"dense d = n = 100: 10^4 draws {t:.2f} s wall, {cpu:.2f} s CPU (target <= 10 s on "
          f"one core); risk {result.risk:.4f} ± {result.standard_error:.4f}")
    print(f"  textbook pinv loop: {per_draw_base * 1e3:.2f} ms CPU/draw (risk {base:.4f} on 500 "
          f"draws) -> 10^4 draws {per_draw_base * 1e4:.1f} s; speed-up "
          f"{per_draw_base * 1e4 / cpu:.1f}x")


def multitask_model(n):
    C = [[1, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 1]]
    return MultitaskModel(C, [0.3, 0.5, 0.7], [n // 3] * 3, np.eye(10), 0.1)


def bench_multitask():
    small, huge = multitask_model(30), multitask_model(3 * 10**8)
    t_small, c_small, r_small = cpu_timed(lambda: bayes_risk(small, draws=100_000, seed=0))
    t_huge, c_huge, r_huge = cpu_timed(lambda: bayes_risk(huge, draws=100_000, seed=0))
    print(f"multitask d = 10, K = 3, 10^5 draws: n = 30 {t_small:.2f} s wall / {c_small:.2f} s "
          f"CPU (risk {r_small.risk:.4f}), n = 3e8 {t_huge:.2f} s wall / {c_huge:.2f} s CPU "
          f"(risk {r_huge.risk:.6f}); CPU ratio {c_huge / c_small:.2f} (target: <= 5 s each on "
          "one core, ratio ~ 1)")
    return huge, r_huge


def bench_dask(model, reference):
    times, cpus = {}, {}
    for workers in (1, 2, 1):
        with open_executor(f"dask-local:{workers}") as client:
            bayes_risk(model, draws=2000, seed=1, executor=client)          # warm-up
            before = sum(client.run(time.process_time).values())
            t, result = timed(lambda: bayes_risk(model, draws=100_000, seed=0, executor=client))
            cpu = sum(client.run(time.process_time).values()) - before
            assert result == reference, "results differ between executors"
            times.setdefault(workers, []).append(t)
            cpus.setdefault(workers, []).append(cpu)
    one, two = np.mean(times[1]), times[2][0]
    cpu_one, cpu_two = np.mean(cpus[1]), cpus[2][0]
    print(f"Dask LocalCluster, 10^5 draws at n = 3e8: 1 worker {times[1][0]:.2f} s and "
          f"{times[1][1]:.2f} s, 2 workers {two:.2f} s; speed-up {one / two:.2f}x "
          "(target >= 1.6); bit-identical to in-process: yes")
    print(f"  workers' CPU time: 1 worker {cpu_one:.2f} s, 2 workers {cpu_two:.2f} s in total; "
          f"estimate when each worker gets a free core: 2 x {cpu_one:.2f} / {cpu_two:.2f} = "
          f"{2 * cpu_one / cpu_two:.2f}x")


if __name__ == "__main__":
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, {load()}")
    bench_dense()
    model, reference = bench_multitask()
    bench_dask(model, reference)
    print(load())
