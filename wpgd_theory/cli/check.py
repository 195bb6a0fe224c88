"""``wpgd-theory check``: the proofs report — per statement what was measured, its unit, the
tolerance, the number of instances and the verdict, then a summary line (``python -m proofs_checks``).

Exit status 1 if any statement's verdict is ``fails`` (``holds`` and ``holds as corrected`` are fine).
"""
from __future__ import annotations

import dataclasses

from ._io import add_json_flag, add_progress_flag, emit, int_in, progress_enabled

NAME = "check"


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="run the proofs report (exit 1 if a statement "
                                              "fails)", description=__doc__)
    parser.add_argument("--examples", type=int_in(1, 10**4), default=20, metavar="N",
                        help="random instances per statement (default 20)")
    parser.add_argument("--seed", type=int_in(0, 2**63 - 1), default=0,
                        help="seed of the instances (default 0)")
    add_progress_flag(parser)
    add_json_flag(parser)


def _as_dict(row):
    return {"statement": row.statement, "verdict": row.verdict, "instances": row.instances,
            "measurements": [dataclasses.asdict(m) for m in row.measurements],
            "correction": row.correction, "notes": row.notes}


def run(args):
    from proofs_checks import run_report, timed_reports

    rows, provenance = timed_reports(examples=args.examples, seed=args.seed,
                                     progress=progress_enabled(args))
    failed = [row.statement for row in rows if row.verdict == "fails"]
    if args.json:
        emit(args, {"passed": not failed, "failed": failed,
                    "provenance": dataclasses.asdict(provenance),
                    "statements": [_as_dict(row) for row in rows]}, "")
        return 1 if failed else 0
    return run_report(reports=rows, provenance=provenance)
