"""``python -m proofs_checks [--examples N] [--seed S] [--markdown FILE]``: measurements and
verdict per statement.

Exit status 1 if any statement fails, else 0. With ``--markdown FILE`` the report (without the
wall time, so that it is reproducible) also replaces the fenced block between the markers
``<!-- proofs-report:begin -->`` and ``<!-- proofs-report:end -->`` in ``FILE`` — this is how
``docs/proofs.md`` is regenerated: ``python -m proofs_checks --markdown docs/proofs.md``.
"""
from __future__ import annotations

import argparse
import sys

from ._report import report_text, timed_reports, write_markdown


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m proofs_checks", description=__doc__)
    parser.add_argument("--examples", type=int, default=20, help="random instances per statement")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", metavar="FILE",
                        help="also write the report into FILE between the proofs-report markers")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error(f"--examples must be >= 1, got {args.examples}")
    rows, provenance = timed_reports(examples=args.examples, seed=args.seed)
    print(report_text(rows, provenance))
    if args.markdown:
        write_markdown(args.markdown, report_text(rows, provenance, timing=False))
    return 1 if any(row.verdict == "fails" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
