"""Vector (key-wise) gating against WPGD for anisotropic Σ (issue #21; docs/findings.md §9).

Issue #21's instance (K = 2, C = I, Σ = diag(0.1, 1, 10), sizes (20, 4), c = (0.3, 0.9), σ² = 0.1)
and the same with the blocks reversed (relevant block first):

1. closed forms: L*_vector (key width 2d), one aligned key copy ("d-aligned"), L*_WPGD, L*_scalar;
2. brute force over all per-block matrices Q_k (L-BFGS, curvature-scaled) against L*_vector;
3. Monte Carlo on common prompts: the per-block predictor of L*_vector against WPGD* (paired
   gap ± SE);
4. key width d with FREE projections (P_q, P_k any d × d, one gate per key channel per delimiter):
   L-BFGS from several starts on the exact risk. This class is not solved in closed form; the
   best value found is an upper bound on its optimum.

Writes docs/figures/vector_gating.txt. Run:
``PYTHONPATH=$PWD nice python benchmarks/experiments/vector_gating.py [--prompts 1000000]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize

from proofs_checks.check_theorem4 import brute_force_vector_risk
from wpgd_theory.core.predictor import wpgd_predict
from wpgd_theory.multitask.gating import scalar_gating_optimum
from wpgd_theory.multitask.model import MultitaskModel, solve_multitask
from wpgd_theory.multitask.vector_gating import (
    block_matrix_predict,
    block_matrix_risk,
    vector_gating_optimum,
)

SIGMA = np.diag([0.1, 1.0, 10.0])


def paired_gap(model, num_prompts, chunk=50_000):
    """Mean and SE of (y − ŷ_vector)² − (y − ŷ_WPGD*)² on common prompts."""
    best, wpgd = vector_gating_optimum(model), solve_multitask(model)
    omega, Q = model.expand(wpgd.block_weights), best.block_matrices
    total, total2, count = 0.0, 0.0, 0
    for index in range(-(-num_prompts // chunk)):
        X, y, x, target = model.sample(min(chunk, num_prompts - count), seed=1000 + index)
        difference = ((target - block_matrix_predict(x, X, y, model.sizes, Q)) ** 2
                      - (target - wpgd_predict(x, X, y, wpgd.preconditioner, omega)) ** 2)
        total, total2, count = total + difference.sum(), total2 + (difference**2).sum(), \
            count + difference.size
    mean = total / count
    return mean, np.sqrt((total2 / count - mean**2) / (count - 1))


def free_width_d_risk(model, *, starts, seed=0):
    """Best risk found for one key copy with free P_q, P_k and per-channel delimiter gates."""
    K, d = model.K, model.d

    def matrices(t):
        P_q, P_k = t[:d * d].reshape(d, d), t[d * d:2 * d * d].reshape(d, d)
        gates = 1.0 / (1.0 + np.exp(-t[2 * d * d:].reshape(K, d)))   # g_{k,c} ∈ (0, 1)
        products = np.cumprod(gates[::-1], axis=0)[::-1]               # ω_{k,c} = Π_{l≥k} g_l
        return np.einsum("ac,kc,bc->kab", P_q, products, P_k)

    rng = np.random.default_rng(seed)
    best = np.inf
    for _ in range(starts):
        t0 = np.concatenate([rng.standard_normal(2 * d * d) / np.sqrt(model.n),
                             rng.standard_normal(K * d)])
        result = minimize(lambda t: block_matrix_risk(model, matrices(t)), t0, method="L-BFGS-B",
                          options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-12})
        best = min(best, result.fun)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=1_000_000)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--out", default="docs/figures/vector_gating.txt")
    args = parser.parse_args(argv)
    start, lines = time.time(), []
    for name, c, sizes in (("issue #21", [0.3, 0.9], [20, 4]),
                           ("blocks reversed", [0.9, 0.3], [4, 20])):
        model = MultitaskModel(np.eye(2), c, sizes, SIGMA, 0.1)
        best = vector_gating_optimum(model)
        aligned = vector_gating_optimum(model, width="d-aligned")
        gap, se = paired_gap(model, args.prompts)
        lines += [
            f"{name}: C = I, c = {c}, sizes = {sizes}, Sigma = diag(0.1, 1, 10), sigma2 = 0.1",
            f"  L*_vector (width 2d)        = {best.risk:.9f}",
            f"  brute force over all Q_k    = {brute_force_vector_risk(model):.9f}",
            f"  L*_WPGD                     = {best.wpgd_risk:.9f}",
            f"  one aligned key copy (d)    = {aligned.risk:.9f}",
            f"  width d, free projections   <= {free_width_d_risk(model, starts=args.starts):.9f}"
            f"  (best of {args.starts} L-BFGS starts)",
            f"  L*_scalar                   = {scalar_gating_optimum(model).risk:.9f}",
            f"  block ratio w_1/w_2 per direction (s = 0.1, 1, 10): "
            f"{np.round(best.direction_weights[0] / best.direction_weights[1], 4).tolist()}",
            f"  closed-form gap L*_vector - L*_WPGD = {best.risk - best.wpgd_risk:.6f}",
            f"  paired Monte Carlo gap ({args.prompts} prompts) = {gap:.6f} +- {se:.6f}",
        ]
    lines.append(f"total {time.time() - start:.0f} s")
    text = "\n".join(lines)
    print(text)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
