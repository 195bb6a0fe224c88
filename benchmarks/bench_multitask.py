"""Speed of the structured multitask solver against the dense solver, measured in the same run.

1. n = 10⁹ (K = 2 and K = 8, d = 10, anisotropic Σ): wall time of ``solve_multitask`` (model
   construction and validation included) and of the exact scalar-gating optimum (all 2^K − 1
   faces of the monotone cone). The dense route would need a 10⁹ × 10⁹ matrix.
2. n = 400 (K = 4): ``solve_multitask`` vs ``solve_model(model.to_correlated_task_model())``
   (the dense solver on the equivalent n × n model, its construction included), runs alternating
   so both see the same machine load; prints the risks they reach and the ratio of the medians.

Usage: ``python benchmarks/bench_multitask.py``.
"""
from __future__ import annotations

import time

import numpy as np

from wpgd_theory.core.solver import solve_model
from wpgd_theory.multitask.gating import scalar_gating_optimum
from wpgd_theory.multitask.model import MultitaskModel, solve_multitask


def timed(func, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return np.array(times), result


def correlated_tasks(K, seed):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((K + 1, K + 1))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    joint = vectors @ vectors.T
    return joint[:K, :K], joint[:K, K]


def huge(K, n=10**9, d=10):
    C, c = correlated_tasks(K, seed=K)
    sizes = np.full(K, n // K)
    sizes[-1] += n - sizes.sum()
    Sigma = np.diag(np.linspace(0.5, 2.0, d))
    return lambda: MultitaskModel(C, c, sizes, Sigma, 0.1)


def main():
    print("1. n = 10^9 (structured; no n-sized object is formed)")
    for K in (2, 8):
        make = huge(K)
        times, solution = timed(lambda: solve_multitask(make()), 50)
        model = make()
        face_times, scalar = timed(lambda: scalar_gating_optimum(model), 3)
        print(f"   K = {K}: solve_multitask  median {1e3 * np.median(times):7.2f} ms "
              f"(min {1e3 * times.min():.2f} ms), risk {solution.risk:.12g}")
        print(f"          scalar-gating optimum over {2**K - 1} faces: median "
              f"{1e3 * np.median(face_times):7.1f} ms, risk {scalar.risk:.12g}")

    print("2. n = 400, K = 4: structured vs dense solver (alternating runs)")
    C, c = correlated_tasks(4, seed=0)
    model = MultitaskModel(C, c, [100, 120, 80, 100], np.diag(np.linspace(0.5, 2.0, 10)), 0.1)
    structured_times, dense_times = [], []
    for _ in range(7):
        t, structured = timed(lambda: solve_multitask(MultitaskModel(
            C, c, model.sizes, model.Sigma, model.sigma2)), 1)
        structured_times.append(t[0])
        t, dense = timed(lambda: solve_model(model.to_correlated_task_model()), 1)
        dense_times.append(t[0])
    s, dd = np.median(structured_times), np.median(dense_times)
    print(f"   structured median {1e3 * s:8.2f} ms, risk {structured.risk:.15g}")
    print(f"   dense      median {1e3 * dd:8.2f} ms, risk {dense.risk:.15g}")
    print(f"   |risk difference| = {abs(structured.risk - dense.risk):.2e}; "
          f"dense / structured time ratio = {dd / s:.0f}x")


if __name__ == "__main__":
    main()
