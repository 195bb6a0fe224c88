"""``python -m proofs_checks [--examples N] [--seed S]``: measurements and verdict per statement.

Exit status 1 if any statement fails, else 0.
"""
from __future__ import annotations

import argparse
import sys

from ._report import run_report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m proofs_checks", description=__doc__)
    parser.add_argument("--examples", type=int, default=20, help="random instances per statement")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error(f"--examples must be >= 1, got {args.examples}")
    return run_report(sys.stdout, examples=args.examples, seed=args.seed)


if __name__ == "__main__":
    sys.exit(main())
