"""``wpgd-theory check``: the proofs report, one row per statement (``python -m proofs_checks``).

Exit status 1 if any statement's verdict is ``fail`` (``pass`` and ``corrected`` are fine).
"""
from __future__ import annotations

from ._io import add_json_flag, emit, int_in

NAME = "check"
#: Verdicts that do not fail the check.
OK_VERDICTS = ("pass", "corrected")


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="run the proofs report (exit 1 if a statement "
                                              "fails)", description=__doc__)
    parser.add_argument("--examples", type=int_in(1, 10**4), default=20, metavar="N",
                        help="random instances per statement (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the instances (default 0)")
    add_json_flag(parser)


def run(args):
    from proofs_checks import all_check_modules
    from proofs_checks.__main__ import main as report_main
    if not args.json:
        return report_main(["--examples", str(args.examples), "--seed", str(args.seed)])
    rows = [module.report(examples=args.examples, seed=args.seed)
            for module in all_check_modules()]
    failed = [row.statement for row in rows if row.verdict not in OK_VERDICTS]
    emit(args, {"passed": not failed, "failed": failed, "statements": [
        {"statement": row.statement, "verdict": row.verdict, "instances": row.instances,
         "worst_residual": row.worst_residual, "notes": row.notes} for row in rows]}, "")
    return 1 if failed else 0
