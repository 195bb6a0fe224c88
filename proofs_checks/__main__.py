"""``python -m proofs_checks [--examples N] [--seed S]``: one row per statement."""
from __future__ import annotations

import argparse
import sys

from . import all_check_modules


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m proofs_checks", description=__doc__)
    parser.add_argument("--examples", type=int, default=20, help="random instances per statement")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = [module.report(examples=args.examples, seed=args.seed) for module in all_check_modules()]
    width = max(len(row.statement) for row in rows)
    print(f"{'statement':<{width}}  verdict    instances  worst residual")
    for row in rows:
        print(f"{row.statement:<{width}}  {row.verdict:<9}  {row.instances:>9}  {row.worst_residual:.2e}")
        if row.notes:
            print(f"{'':<{width}}  note: {row.notes}")
    return 0 if all(row.verdict in ("pass", "corrected") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
