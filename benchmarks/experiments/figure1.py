"""Figure 1 end to end: trained LinAtt, GLA-wo, scalar GLA and vector GLA against the theory.

Paper setting: K = 2, Σ = I_d, corr(β₁, β₂) = 0, (r₁, r₂) ∈ {(0.2, 0.8), (0.8, 0.2)},
n ∈ {10, 20, 40, 80}, d = 10, σ² = 0, 3 seeds per point (vmapped). Writes
docs/figures/training_figure1[_<parameterisation>].csv and .png and prints the wall time.

Run: ``PYTHONPATH=$PWD nice python benchmarks/experiments/figure1.py [--steps 3000] [--full]``.
The trained softmax-attention baseline is a further class: ``--classes softmax --append`` adds
its rows to the existing CSV (same seeds, so the same training prompts, and the same test set).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from wpgd_theory.training import figure1_experiment, overlay_figure, write_rows_csv
from wpgd_theory.training.experiments import (
    BASELINE_CLASSES,
    FIGURE1_CLASSES,
    read_rows_csv,
    summarise,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--n", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="full layer instead of constrained")
    parser.add_argument("--out", default="docs/figures")
    parser.add_argument("--settings", nargs="+", default=["0.2,0.8", "0.8,0.2"],
                        help="(r1, r2) pairs as r1,r2")
    parser.add_argument("--classes", nargs="+", default=list(FIGURE1_CLASSES),
                        choices=list(FIGURE1_CLASSES + BASELINE_CLASSES))
    parser.add_argument("--append", action="store_true", help="add to the existing CSV")
    parser.add_argument("--from-csv", action="store_true",
                        help="no training: redraw the PNG and print the summary of the CSV")
    args = parser.parse_args(argv)
    parameterisation = "full" if args.full else "constrained"
    stem = os.path.join(args.out, "training_figure1" + ("_full" if args.full else ""))
    if args.from_csv:
        rows = read_rows_csv(stem + ".csv")
        overlay_figure(rows, stem + ".png")
        print_summary(rows)
        return
    rows, start = (read_rows_csv(stem + ".csv") if args.append else []), time.perf_counter()
    settings = [tuple(float(v) for v in pair.split(",")) for pair in args.settings]

    def report(new):
        key = lambda r: (float(r["r1"]), float(r["r2"]), int(r["n"]), r["curve"])
        replaced = {key(r) for r in new}
        rows[:] = [r for r in rows if key(r) not in replaced] + new    # a rerun replaces rows
        write_rows_csv(rows, stem + ".csv")
        first = new[0]
        risks = ", ".join(f"{r['test_risk']:.4f}" for r in new)
        print(f"[{time.perf_counter() - start:7.1f} s] r=({first['r1']:g},{first['r2']:g}) "
              f"n={first['n']:<3d} {first['curve']:<10s} trained {risks}  optimum "
              f"{first['optimum_risk']:.4f}", flush=True)

    figure1_experiment(args.n, settings, seeds=range(args.seeds), classes=args.classes,
                       parameterisation=parameterisation,
                       steps=args.steps, batch_size=args.batch, learning_rate=args.lr,
                       callback=report)
    total = time.perf_counter() - start
    overlay_figure(rows, stem + ".png")
    print(f"total {total:.0f} s for {len(rows)} runs; wrote {stem}.csv and {stem}.png")
    print_summary(rows)


def print_summary(rows):
    """Markdown table: MC mean ± SE over seeds, optimum, gap; the paired gap against the
    optimum's predictor on the same prompts; the exact risk of the learned WPGD."""
    exact = {}
    for row in rows:
        if row.get("closed_form_risk") is not None:
            key = (row["r1"], row["r2"], int(row["n"]), row["curve"])
            exact.setdefault(key, []).append(float(row["closed_form_risk"]))
    paired = summarise(rows, "paired_gap")
    print("| (r1, r2) | n | class | trained MC risk (mean ± SE) | optimum | gap | paired gap "
          "(mean ± SE) | within max(2 %, 3 SE) | exact risk of learned predictor (gap) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, (mean, se, opt) in sorted(summarise(rows).items()):
        (r1, r2, n, curve), gap = key, 100 * (mean - opt) / opt
        ok = abs(mean - opt) <= max(0.02 * opt, 3 * se)
        paired_text = "—"
        if key in paired:
            paired_gap, paired_se, _ = paired[key]
            paired_text = f"{100 * paired_gap / opt:+.2f} ± {100 * paired_se / opt:.2f} %"
            ok = abs(paired_gap) <= max(0.02 * opt, 3 * paired_se)
        values = exact.get(key)
        exact_text = ("—" if not values else
                      f"{np.mean(values):.4f} ({100 * (np.mean(values) - opt) / opt:+.2f} %)")
        print(f"| ({r1:g}, {r2:g}) | {n} | {curve} | {mean:.4f} ± {se:.4f} | {opt:.4f} | "
              f"{gap:+.2f} % | {paired_text} | {'yes' if ok else 'NO'} | {exact_text} |")


if __name__ == "__main__":
    main()
