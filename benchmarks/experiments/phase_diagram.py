"""The committed phase diagrams of docs/findings.md §7: docs/data/phase_diagram{,_tight}.{csv,png}.

``phase_diagram``: shapes two_cluster, two_cluster_tight, log_uniform × n ∈ {20, 50, 100, 200,
300, 500, 1000} × d ∈ {5, 20, 50}. ``phase_diagram_tight``: two_cluster_tight on the boundary
zoom, the union of one row of n per d (each cell is seeded from its own coordinates,
``wpgd_theory.sweeps.cell_seed``, so a union of sweeps is the same as one sweep of those cells).
2000 instances per cell, seed 0, seed blocks of 250. ``--export DIR`` also writes every instance
with several fixed points as a problem file for ``wpgd-theory certify``.

Run: ``PYTHONPATH=$PWD nice python benchmarks/experiments/phase_diagram.py``
(``--executor processes:2`` to use two cores; the tables do not depend on it).
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from wpgd_theory.sweeps import open_executor, run_phase_diagram

DATA = Path(__file__).resolve().parents[2] / "docs" / "data"
OPTIONS = dict(instances=2000, seed=0, block_size=250)
MAIN = ([20, 50, 100, 200, 300, 500, 1000], [5, 20, 50],
        ("two_cluster", "two_cluster_tight", "log_uniform"))
#: d → the n of the tight zoom.
TIGHT = {5: [20, 50, 100, 200, 300, 500, 1000], 10: [100, 150, 200, 300, 500, 700, 1000],
         20: [20, 50, 100, 150, 200, 300, 500, 700, 1000],
         50: [20, 50, 100, 150, 200, 300, 500, 700, 1000],
         100: [30, 50, 70, 100, 150, 200, 300, 500, 700, 1000]}


NAMES = ("phase_diagram", "phase_diagram_tight")


def tight_diagram(executor):
    parts = [run_phase_diagram(n_values, [d], ("two_cluster_tight",), executor=executor,
                               **OPTIONS) for d, n_values in TIGHT.items()]
    rows = sorted((row for part in parts for row in part.rows), key=lambda r: (r["d"], r["n"]))
    return dataclasses.replace(
        parts[0], rows=rows, slopes={k: v for p in parts for k, v in p.slopes.items()},
        several_instances={k: v for p in parts for k, v in p.several_instances.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executor", default="none")
    parser.add_argument("--export", type=Path, help="folder for the several-fixed-point files")
    parser.add_argument("--only", choices=NAMES, nargs="+", default=NAMES,
                        help="which of the two diagrams to compute (default both)")
    args = parser.parse_args()
    start = time.perf_counter()
    with open_executor(args.executor) as executor:
        for name in args.only:
            diagram = (run_phase_diagram(*MAIN, executor=executor, **OPTIONS)
                       if name == "phase_diagram" else tight_diagram(executor))
            diagram.to_csv(DATA / f"{name}.csv")
            diagram.plot(DATA / f"{name}.png")
            if args.export:
                diagram.export_several(args.export / name)
            print(f"{name}: {len(diagram.rows)} cells, "
                  f"{sum(r['several'] for r in diagram.rows)} instances with several fixed "
                  f"points, {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
