"""Depth: trained L-layer GLA (L = 1..4, every constrained gating class) against L*_WPGD and the
Bayes floor, with the SAA optimum of causal L-step WPGD (scalar gating) as the independent target.

Settings: the two Figure-1 settings (r₁, r₂) = (0.2, 0.8) and (0.8, 0.2) at d = 10, n = 40,
σ² = 0 (as figure1.py), and the label-gate setting of docs/findings.md §8 (d = 4, K = 2,
n₁ = n₂ = 8, C = I, c = (0.2, 0.9), σ² = 0.1).

Writes docs/figures/depth.csv (one row per trained seed and per SAA estimate), depth.png
(risk against L) and depth.txt (the summary printed at the end).

The Bayes floor is :func:`wpgd_theory.bayes_risk` (Wishart route, ``--bayes-draws`` draws, its
standard error in the CSV).

Run: ``PYTHONPATH=$PWD python benchmarks/experiments/depth.py`` reproduces the committed table
(the defaults are the run's settings; the cells run ``--jobs`` at a time, default one per core,
and their numbers do not depend on ``--jobs``); ``--from-csv`` redraws the figure and the
summary only.
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
# SAA of scalar L-step WPGD up to this depth: at the Figure-1 size (d = 10) L >= 3 does not
# converge within its iteration budget (docs/findings.md §10), so it is not run by default.
SAA_MAX_LAYERS = {"fig1 (0.2,0.8)": 2, "fig1 (0.8,0.2)": 2, "label-gate": 4}
COLUMNS = ("setting", "kind", "gating", "layers", "seed", "test_risk", "test_risk_se",
           "paired_gap_vs_one_layer", "paired_gap_se", "one_layer_optimum", "wpgd_risk",
           "bayes_floor", "bayes_floor_se", "gap_closed", "seconds")


# --------------------------------------------------------------------------- experiment

def run(args, rows, out_csv):
    """Train and estimate every (setting, L, class) cell, ``args.jobs`` cells at a time.

    Each cell is one process's work (``train_seeds`` vmaps the seeds; SAA is one optimisation),
    so the cells are independent and their numbers do not depend on ``--jobs``: the seeds, the
    prompts and the test set are fixed per cell. ``seconds`` is the cell's own wall time, which
    is longer when cells share the cores.
    """
    start = time.perf_counter()
    references = {}
    for name in args.settings:
        model = SETTINGS[name]()
        floor = bayes_risk(model, draws=args.bayes_draws, seed=12345)
        references[name] = (float(solve_multitask(model).risk), floor.risk, floor.standard_error)
        print(f"[{time.perf_counter() - start:6.0f} s] {name}: L*_WPGD = {references[name][0]:.4f}"
              f", Bayes floor {floor.risk:.4f} ± {floor.standard_error:.4f}", flush=True)
    cells = _cells(args)
    order = {cell: k for k, cell in enumerate(sorted(cells, key=_canonical(args)))}
    for cell, new_rows, line in _map(_run_cell, [(vars(args), cell) for cell in cells],
                                     args.jobs):
        rows.extend(_finish(row, references[cell[0]]) for row in new_rows)
        rows.sort(key=lambda r: (order[_cell_of(r)], str(r["seed"])))
        _write(rows, out_csv)
        print(f"[{time.perf_counter() - start:6.0f} s] {line}", flush=True)


def _cells(args):
    """The (setting, layers, kind, gating) cells, the most expensive first (deep, key-wise,
    Figure-1 size) so that the processes finish together."""
    cells = []
    for name in args.settings:
        saa_layers = args.saa_max_layers or SAA_MAX_LAYERS[name]
        for layers in args.layers:
            if not args.skip_saa and layers <= saa_layers:
                cells.append((name, layers, "saa", "scalar"))
            if not args.saa_only:
                cells.extend((name, layers, "trained", gating) for gating in args.gatings)
    cost = {"linear": 1.0, "decay": 1.1, "scalar": 1.1, "vector": 1.6}
    size = {"label-gate": 0.4}
    return sorted(cells, key=lambda c: -size.get(c[0], 1.0) * (c[1] + 1) * (
        2.0 if c[2] == "saa" else cost[c[3]]))


def _canonical(args):
    settings, gatings = list(args.settings), list(GATINGS)
    return lambda c: (settings.index(c[0]), c[1], c[2] != "saa", gatings.index(c[3]))


def _cell_of(row):
    return (row["setting"], int(row["layers"]), row["kind"], row["gating"])


def _map(function, arguments, jobs):
    """``function(*a)`` for each ``a``, yielding results as they finish; ``jobs`` processes
    (spawned: JAX does not survive a fork) or, with ``jobs = 1``, in this process in order."""
    if jobs == 1:
        for a in arguments:
            yield function(*a)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for future in as_completed([pool.submit(function, *a) for a in arguments]):
            yield future.result()


def _run_cell(options, cell):
    """One cell's rows (without the reference columns) and its log line."""
    name, layers, kind, gating = cell
    model = SETTINGS[name]()
    start = time.perf_counter()
    if kind == "saa":
        saa = saa_optimum(model, "scalar", layers=layers, train_prompts=options["saa_prompts"],
                          test_prompts=options["saa_test"],
                          max_iterations=options["saa_iterations"])
        rows = [_row(name, kind, gating, layers, "", saa.risk, saa.risk_se, "", "", "",
                     time.perf_counter() - start)]
        return cell, rows, f"{name} L={layers} {saa}"
    results = train_seeds(model, gating, seeds=list(range(options["seeds"])), layers=layers,
                          steps=options["steps"], batch_size=options["batch"],
                          learning_rate=options["lr"], test_prompts=options["test_prompts"])
    rows = [_row(name, kind, gating, layers, r.seed, r.test_risk, r.test_risk_se, r.paired_gap,
                 r.paired_gap_se, r.optimum.risk, r.seconds) for r in results]
    return cell, rows, (f"{name} L={layers} {gating:<7s} "
                        + ", ".join(f"{r.test_risk:.4f}" for r in results)
                        + f"  (one layer {results[0].optimum.risk:.4f})")


def _row(name, kind, gating, layers, seed, risk, se, gap, gap_se, one_layer, seconds):
    return dict(zip(COLUMNS, (name, kind, gating, layers, seed, risk, se, gap, gap_se, one_layer,
                              None, None, None, None, seconds)))


def _finish(row, reference):
    """Fill in L*_WPGD, the Bayes floor and the fraction of the gap between them closed."""
    wpgd, bayes, bayes_se = reference
    closed = (wpgd - row["test_risk"]) / (wpgd - bayes)
    return dict(row, wpgd_risk=wpgd, bayes_floor=bayes, bayes_floor_se=bayes_se, gap_closed=closed)


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
    parser.add_argument("--lr", type=float, default=0.01,
                        help="Adam learning rate (0.03 traps L = 3 label-gate models and lets "
                             "L = 4 linear attention diverge)")
    parser.add_argument("--test-prompts", type=int, default=65_536)
    parser.add_argument("--bayes-draws", type=int, default=100_000)
    parser.add_argument("--skip-saa", action="store_true")
    parser.add_argument("--saa-only", action="store_true",
                        help="only the SAA estimates (rows to append to a training run's CSV)")
    parser.add_argument("--saa-max-layers", type=int, default=None,
                        help="deepest SAA estimate (default: 4 for label-gate, 2 for Figure 1)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="cells trained at once, one process each (default: the cores)")
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
