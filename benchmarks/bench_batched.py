"""Speed of the batched solver against batched eigendecompositions measured in the same run.

1. 10 000 instances at d = n = 10: ``solve_optimal_wpgd`` on stacks (validation included) as a
   ratio of ``np.linalg.eigh(Sigma) + np.linalg.eigh(R)`` on the same stacks (target ≤ 3×), for
   two families: Wishart Σ with random joint task correlations (most instances have a proven
   contraction and skip the bracketing grid) and log-uniform Σ spectra over 4 decades with
   rank-2 task correlations (most need the grid). Also the per-instance loop over the
   single-instance solver on 500 of them, for the speed-up.
2. d = n = 500: the single-instance solve (and the batched one on a stack of one) as a ratio of
   ``eigh(Σ) + eigh(R)`` (target ≤ 1.5×).

Baseline and solver runs alternate so both see the same machine load; ratios of minima and of
medians are printed. Run with ``OPENBLAS_NUM_THREADS=1`` (the machine is shared):
``OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_batched.py``.
"""
from __future__ import annotations

import os

import numpy as np
from _timing import alternate, load, timed

from proofs_checks.strategies import random_model
from wpgd_theory import solve_optimal_wpgd


def joint_correlations(rng, size, n, rank):
    G = rng.standard_normal((size, n + 1, rank))
    G /= np.linalg.norm(G, axis=-1, keepdims=True)
    J = G @ np.swapaxes(G, -1, -2)
    idx = np.arange(n + 1)
    J[:, idx, idx] = 1.0
    return J[:, :n, :n].copy(), J[:, :n, n].copy()


def wishart_family(rng, size, d, n):
    X = rng.standard_normal((size, d, d))
    R, r = joint_correlations(rng, size, n, n + 1)
    return X @ np.swapaxes(X, -1, -2) / d, R, r, rng.uniform(0, 1, size)


def log_uniform_family(rng, size, d, n):
    Q = np.linalg.qr(rng.standard_normal((size, d, d)))[0]
    s = 10 ** rng.uniform(-2, 2, (size, d))
    R, r = joint_correlations(rng, size, n, 2)
    return (Q * s[:, None, :]) @ np.swapaxes(Q, -1, -2), R, r, rng.uniform(0, 1, size)


def bench_stack(name, arrays, repeats=5):
    Sigma, R = arrays[0], arrays[1]
    eighs = lambda: (np.linalg.eigh(Sigma), np.linalg.eigh(R))
    solve = lambda: solve_optimal_wpgd(*arrays)
    alternate(eighs, solve, 1)
    t_eigh, t_solve, _, _ = alternate(eighs, solve, repeats)
    out = solve()
    grid = float(np.mean(out.uniqueness_guaranteed))
    size = out.risk.size
    loop = 500
    t_loop = timed(lambda: [solve_optimal_wpgd(*(a[i] for a in arrays)) for i in range(loop)])[0]
    print(f"{name}: {size} instances, d = {Sigma.shape[-1]}, n = {R.shape[-1]}; "
          f"Theorem-3 condition holds on {grid:.0%}; "
          f"max fixed points {int(out.num_fixed_points.max())}")
    print(f"  batched solve {np.min(t_solve) * 1e3:.0f} ms, eigh(Sigma) + eigh(R) "
          f"{np.min(t_eigh) * 1e3:.0f} ms (minima of {repeats}, alternating)")
    print(f"  ratio of minima {np.min(t_solve) / np.min(t_eigh):.2f}, ratio of medians "
          f"{np.median(t_solve) / np.median(t_eigh):.2f}   (target <= 3)")
    per_single = t_loop / loop
    print(f"  single-instance loop {per_single * 1e6:.0f} us/instance vs batched "
          f"{np.min(t_solve) / size * 1e6:.1f} us/instance: speed-up "
          f"{per_single / (np.min(t_solve) / size):.0f}x")


def bench_large(size=500, seed=0, repeats=7):
    model = random_model(seed, size, size, spread=2.0)
    args = (model.Sigma, model.R, model.r, model.sigma2)
    eighs = lambda: (np.linalg.eigh(model.Sigma), np.linalg.eigh(model.R))
    for name, solve in [("single solve", lambda: solve_optimal_wpgd(*args)),
                        ("batched solve, stack of 1",
                         lambda: solve_optimal_wpgd(*(np.asarray(a)[None] for a in args)))]:
        alternate(eighs, solve, 1)
        t_eigh, t_solve, _, _ = alternate(eighs, solve, repeats)
        print(f"d = n = {size}, {name}: {np.min(t_solve) * 1e3:.1f} ms vs eigh(Sigma) + eigh(R) "
              f"{np.min(t_eigh) * 1e3:.1f} ms; ratio of minima "
              f"{np.min(t_solve) / np.min(t_eigh):.2f}, of medians "
              f"{np.median(t_solve) / np.median(t_eigh):.2f}   (target <= 1.5)")


if __name__ == "__main__":
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
          f"{load()}")
    rng = np.random.default_rng(0)
    bench_stack("Wishart family", wishart_family(rng, 10_000, 10, 10))
    bench_stack("log-uniform family", log_uniform_family(rng, 10_000, 10, 10))
    bench_large()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
