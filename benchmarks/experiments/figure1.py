"""Figure 1 end to end: trained LinAtt, GLA-wo, scalar GLA and vector GLA against the theory.

Paper setting: K = 2, Σ = I_d, corr(β₁, β₂) = 0, (r₁, r₂) ∈ {(0.2, 0.8), (0.8, 0.2)},
n ∈ {10, 20, 40, 80}, d = 10, σ² = 0, 3 seeds per point (vmapped). Writes
docs/figures/training_figure1[_<parameterisation>].csv and .png and prints the wall time.

Run: ``PYTHONPATH=$PWD nice python benchmarks/experiments/figure1.py [--steps 3000] [--full]``.
"""
from __future__ import annotations

import argparse
import os
import time

from wpgd_theory.training import figure1_experiment, overlay_figure, write_rows_csv
from wpgd_theory.training.experiments import summarise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--n", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="full layer instead of constrained")
    parser.add_argument("--out", default="docs/figures")
    args = parser.parse_args(argv)
    parameterisation = "full" if args.full else "constrained"
    stem = os.path.join(args.out, "training_figure1" + ("_full" if args.full else ""))
    rows, start = [], time.perf_counter()

    def report(new):
        rows.extend(new)
        write_rows_csv(rows, stem + ".csv")
        first = new[0]
        risks = ", ".join(f"{r['test_risk']:.4f}" for r in new)
        print(f"[{time.perf_counter() - start:7.1f} s] r=({first['r1']:g},{first['r2']:g}) "
              f"n={first['n']:<3d} {first['curve']:<10s} trained {risks}  optimum "
              f"{first['optimum_risk']:.4f}", flush=True)

    figure1_experiment(args.n, seeds=range(args.seeds), parameterisation=parameterisation,
                       steps=args.steps, batch_size=args.batch, learning_rate=args.lr,
                       callback=report)
    total = time.perf_counter() - start
    overlay_figure(rows, stem + ".png")
    print(f"total {total:.0f} s for {len(rows)} runs; wrote {stem}.csv and {stem}.png")
    print("r1   r2   n   class      mean ± se        optimum   gap%    within max(2%,3SE)")
    for (r1, r2, n, curve), (mean, se, opt) in sorted(summarise(rows).items()):
        gap = 100 * (mean - opt) / opt
        ok = abs(mean - opt) <= max(0.02 * opt, 3 * se)
        print(f"{r1:<4g} {r2:<4g} {n:<3d} {curve:<10s} {mean:.4f} ± {se:.4f}  {opt:.4f}  "
              f"{gap:+6.2f}  {ok}")


if __name__ == "__main__":
    main()
