"""``wpgd-theory sweep``: the uniqueness phase diagram over a grid of ``(n, d, spectral shape)``.

For each cell, ``--instances`` random instances are solved with the batched solver; the report
gives the share with more than one fixed point (Clopper–Pearson interval), the largest slope
``φ'(γ*)`` and, per shape, the boundary: for each ``d`` the smallest ``n`` with a nonzero share.
``--executor`` runs the seed blocks in-process (``none``), on local processes (``processes:N``),
on a local Dask cluster (``dask-local:N``) or on a running Dask scheduler (``dask:ADDRESS``); the
result does not depend on it (docs/scale.md). Each cell is seeded from its own coordinates and
``--seed``, so a cell's numbers are the same in any grid. ``--export-several DIR`` writes every
instance with several fixed points as a problem file that ``certify`` reads.
"""
from __future__ import annotations

from pathlib import Path

from ._io import add_json_flag, add_progress_flag, emit, int_in, progress_enabled

NAME = "sweep"
SHAPES = ("two_cluster", "two_cluster_tight", "log_uniform")


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="uniqueness phase diagram over (n, d, shape)",
                                   description=__doc__)
    parser.add_argument("--n", type=int_in(2, 10**5), nargs="+", default=[20, 50, 100, 200],
                        metavar="N", help="context lengths (default 20 50 100 200)")
    parser.add_argument("--d", type=int_in(1, 10**4), nargs="+", default=[5, 20, 50],
                        metavar="D", help="feature dimensions (default 5 20 50)")
    parser.add_argument("--shapes", nargs="+", choices=SHAPES,
                        default=["two_cluster", "log_uniform"], help="spectral families")
    parser.add_argument("--instances", type=int_in(1, 10**8), default=1000,
                        help="instances per cell (default 1000)")
    parser.add_argument("--seed", type=int_in(0, 2**63 - 1), default=0)
    parser.add_argument("--block-size", type=int_in(1, 10**6), default=500,
                        help="instances per seed block (part of the result; default 500)")
    parser.add_argument("--executor", default="none",
                        help="none | processes[:N] | dask-local[:N] | dask:ADDRESS")
    parser.add_argument("--csv", type=Path, help="write the table to this CSV file")
    parser.add_argument("--png", type=Path, help="draw the heat map to this PNG file")
    parser.add_argument("--export-several", type=Path, metavar="DIR",
                        help="write each instance with several fixed points to DIR as a JSON "
                             "problem file (read by certify)")
    add_progress_flag(parser)
    add_json_flag(parser)


def _text(out):
    lines = [f"{'shape':<18}{'n':>7}{'d':>6}{'instances':>11}{'several':>9}"
             f"{'share':>9}{'max slope':>11}"]
    for row in out["rows"]:
        lines.append(f"{row['shape']:<18}{row['n']:>7}{row['d']:>6}{row['instances']:>11}"
                     f"{row['several']:>9}{row['share']:>9.4f}{row['max_slope']:>11.4f}")
    for shape, boundary in out["boundary"].items():
        cells = ", ".join(f"d={d}: n={n if n is not None else '-'}" for d, n in boundary.items())
        lines.append(f"boundary {shape}: {cells}")
    lines.append(f"{out['instances']} instances in {out['seconds']:.1f} s (seed {out['seed']}, "
                 f"block size {out['block_size']})"
                 + "".join(f"; wrote {out[key]}" for key in ("csv", "png") if out[key]))
    if out["exported"] is not None:
        lines.append(f"wrote {len(out['exported'])} instance(s) with several fixed points to "
                     f"{out['export_several']}" + "".join(f"\n  {p}" for p in out["exported"]))
    return "\n".join(lines)


def run(args):
    from ..sweeps.run import sweep_main

    out = sweep_main({"n": args.n, "d": args.d, "shapes": args.shapes,
                      "instances": args.instances, "seed": args.seed,
                      "block_size": args.block_size, "executor": args.executor,
                      "progress": progress_enabled(args),
                      "export_several": str(args.export_several) if args.export_several else None,
                      "csv": str(args.csv) if args.csv else None,
                      "png": str(args.png) if args.png else None})
    emit(args, out, _text(out))
    return 0
