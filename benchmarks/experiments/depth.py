"""Depth: trained L-layer GLA (L = 1..4, every constrained gating class) against L*_WPGD and the
Bayes floor, with the SAA optimum of causal L-step WPGD (scalar gating) as the independent target.

Settings: the two Figure-1 settings (r₁, r₂) = (0.2, 0.8) and (0.8, 0.2) at d = 10, n = 40,
σ² = 0 (as figure1.py), and the label-gate setting of docs/findings.md §8 (d = 4, K = 2,
n₁ = n₂ = 8, C = I, c = (0.2, 0.9), σ² = 0.1).

Writes docs/figures/depth.csv (one row per trained seed and per SAA estimate), depth.png
(risk against L) and depth.txt (the summary printed at the end).

The Bayes floor is :func:`wpgd_theory.bayes_risk` (Wishart route, ``--bayes-draws`` draws, its
standard error in the CSV).

Run: ``PYTHONPATH=$PWD python benchmarks/experiments/depth.py [--steps 3000] [--seeds 2]``
(``--from-csv`` redraws the figure and the summary only).
"""
from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np

from wpgd_theory import MultitaskModel, bayes_risk, paper_setting_model, solve_multitask
from wpgd_theory.training import saa_optimum, train_seeds

SETTINGS = {
    "fig1 (0.2,0.8)": lambda: paper_setting_model(40, 0.2, 0.8, 10, 0.0),
    "fig1 (0.8,0.2)": lambda: paper_setting_model(40, 0.8, 0.2, 10, 0.0),
    "label-gate": lambda: MultitaskModel(np.eye(2), [0.2, 0.9], [8, 8], np.eye(4), 0.1),
}
GATINGS = ("linear", "decay", "scalar", "vector")
COLUMNS = ("setting", "kind", "gating", "layers", "seed", "test_risk", "test_risk_se",
           "paired_gap_vs_one_layer", "paired_gap_se", "one_layer_optimum", "wpgd_risk",
           "bayes_floor", "bayes_floor_se", "gap_closed", "seconds")


# --------------------------------------------------------------------------- experiment

def run(args, writer_rows, out_csv):
    start = time.perf_counter()
    for name in args.settings:
        model = SETTINGS[name]()
        wpgd = float(solve_multitask(model).risk)
        floor = bayes_risk(model, draws=args.bayes_draws, seed=12345)
        bayes, bayes_se = floor.risk, floor.standard_error
        print(f"[{time.perf_counter() - start:6.0f} s] {name}: L*_WPGD = {wpgd:.4f}, Bayes "
              f"floor {bayes:.4f} ± {bayes_se:.4f}", flush=True)

        def row(kind, gating, layers, seed, risk, se, gap, gap_se, one_layer, seconds):
            closed = (wpgd - risk) / (wpgd - bayes)
            writer_rows.append(dict(zip(COLUMNS, (name, kind, gating, layers, seed, risk, se,
                                                  gap, gap_se, one_layer, wpgd, bayes,
                                                  bayes_se, closed, seconds))))
            _write(writer_rows, out_csv)

        for layers in args.layers:
            if not args.skip_saa and layers <= args.saa_max_layers:
                t = time.perf_counter()
                saa = saa_optimum(model, "scalar", layers=layers,
                                  train_prompts=args.saa_prompts, test_prompts=args.saa_test,
                                  max_iterations=args.saa_iterations)
                row("saa", "scalar", layers, "", saa.risk, saa.risk_se, "", "", "",
                    time.perf_counter() - t)
                print(f"[{time.perf_counter() - start:6.0f} s] {name} L={layers} {saa}",
                      flush=True)
            for gating in ([] if args.saa_only else args.gatings):
                results = train_seeds(model, gating, seeds=list(range(args.seeds)), layers=layers,
                                      steps=args.steps, batch_size=args.batch,
                                      learning_rate=args.lr, test_prompts=args.test_prompts)
                for r in results:
                    row("trained", gating, layers, r.seed, r.test_risk, r.test_risk_se,
                        r.paired_gap, r.paired_gap_se, r.optimum.risk, r.seconds)
                print(f"[{time.perf_counter() - start:6.0f} s] {name} L={layers} {gating:<7s} "
                      + ", ".join(f"{r.test_risk:.4f}" for r in results)
                      + f"  (one layer {results[0].optimum.risk:.4f})", flush=True)


def _write(rows, path):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _read(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for r in rows:
        for k in COLUMNS[3:]:
            r[k] = None if r[k] in ("", None) else float(r[k])
    return rows


def paired_gap_closed(row):
    """The fraction of the WPGD→Bayes gap closed, with the test-set noise taken out: the risk is
    ``one-layer class optimum + paired gap`` (both predictors on the same test prompts), so only
    the paired standard error remains (``paired_gap_se``, typically 0.02–0.04 % of the risk)."""
    risk = row["one_layer_optimum"] + row["paired_gap_vs_one_layer"]
    return (row["wpgd_risk"] - risk) / (row["wpgd_risk"] - row["bayes_floor"])


def summary(rows):
    lines = []
    for name in dict.fromkeys(r["setting"] for r in rows):
        mine = [r for r in rows if r["setting"] == name]
        wpgd, bayes = mine[0]["wpgd_risk"], mine[0]["bayes_floor"]
        lines.append(f"{name}: L*_WPGD = {wpgd:.4f}, Bayes floor = {bayes:.4f} ± "
                     f"{mine[0]['bayes_floor_se']:.4f}")
        for r in mine:
            if r["kind"] == "saa":
                lines.append(f"  SAA scalar L={int(r['layers'])}: {r['test_risk']:.4f} ± "
                             f"{r['test_risk_se']:.4f}, gap closed {100 * r['gap_closed']:.1f} %")
        for gating in dict.fromkeys(r["gating"] for r in mine if r["kind"] == "trained"):
            previous = None
            for layers in sorted({int(r["layers"]) for r in mine}):
                runs = [r for r in mine if r["kind"] == "trained" and r["gating"] == gating
                        and int(r["layers"]) == layers]
                if not runs:
                    continue
                risks = [r["test_risk"] for r in runs]
                closed = [100 * r["gap_closed"] for r in runs]
                paired = [100 * paired_gap_closed(r) for r in runs]
                mean = float(np.mean(risks))
                step = ("" if previous is None else
                        f", this layer closes {100 * (previous - mean) / (wpgd - bayes):+.1f} %")
                lines.append(f"  {gating:<7s} L={layers}: per seed "
                             + ", ".join(f"{v:.4f}" for v in risks)
                             + f" (± {runs[0]['test_risk_se']:.4f}); gap to Bayes closed "
                             + ", ".join(f"{c:.1f}" for c in closed) + " % (paired: "
                             + ", ".join(f"{c:.1f}" for c in paired) + f" %){step}")
                previous = mean
    return "\n".join(lines)


def figure(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(dict.fromkeys(r["setting"] for r in rows))
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        mine = [r for r in rows if r["setting"] == name]
        for k, gating in enumerate(GATINGS):
            points = {}
            for r in mine:
                if r["kind"] == "trained" and r["gating"] == gating:
                    points.setdefault(int(r["layers"]), []).append(r["test_risk"])
            if points:
                Ls = sorted(points)
                ax.errorbar(np.array(Ls) + 0.06 * (k - 1.5), [np.mean(points[L]) for L in Ls],
                            yerr=[np.std(points[L]) for L in Ls], fmt="o-", ms=4, capsize=2,
                            label=f"trained {gating} (seed mean, spread)")
        saa = sorted((int(r["layers"]), r["test_risk"]) for r in mine if r["kind"] == "saa")
        if saa:
            ax.plot(*zip(*saa), "k^--", ms=6, mfc="none", label="SAA optimum, scalar L-step WPGD")
        ax.axhline(mine[0]["wpgd_risk"], color="gray", ls="-", label="L*_WPGD (one layer)")
        ax.axhline(mine[0]["bayes_floor"], color="k", ls=":", label="Bayes floor (bayes_risk)")
        ax.set_xlabel("layers L")
        ax.set_ylabel("test risk")
        ax.set_xticks(sorted({int(r["layers"]) for r in mine}))
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--gatings", nargs="+", default=list(GATINGS), choices=list(GATINGS))
    parser.add_argument("--layers", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--test-prompts", type=int, default=65_536)
    parser.add_argument("--bayes-draws", type=int, default=100_000)
    parser.add_argument("--skip-saa", action="store_true")
    parser.add_argument("--saa-only", action="store_true",
                        help="only the SAA estimates (rows to append to a training run's CSV)")
    parser.add_argument("--saa-max-layers", type=int, default=4)
    parser.add_argument("--saa-prompts", type=int, default=20_000)
    parser.add_argument("--saa-test", type=int, default=100_000)
    parser.add_argument("--saa-iterations", type=int, default=400)
    parser.add_argument("--out", default="docs/figures")
    parser.add_argument("--from-csv", action="store_true")
    args = parser.parse_args(argv)
    stem = os.path.join(args.out, "depth")
    if not args.from_csv:
        rows = []
        start = time.perf_counter()
        run(args, rows, stem + ".csv")
        print(f"total {time.perf_counter() - start:.0f} s")
    rows = _read(stem + ".csv")
    figure(rows, stem + ".png")
    text = summary(rows)
    with open(stem + ".txt", "w") as handle:
        handle.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
