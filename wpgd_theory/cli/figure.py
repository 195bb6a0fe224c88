"""``wpgd-theory figure -o PNG``: Figure 1's theory curves (risk / d against n) drawn to a PNG.

Defaults are the paper's Figure-1 setting ``(r₁, r₂) = (0.3, 0.9)``, ``d = 10``, ``σ² = 0.1``,
``n = 2 … 1024``, risks divided by ``d``; every option of ``curves`` can override them. Needs
matplotlib (``pip install 'wpgd-theory[plot]'``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._io import add_json_flag, emit
from .curves import FIGURE1, add_setting_arguments, compute, curves_payload

NAME = "figure"


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="draw Figure 1 (theory curves) to a PNG",
                                   description=__doc__)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="PNG",
                        help="image file to write (a path ending in .png)")
    add_setting_arguments(parser, FIGURE1)
    parser.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True,
                        help="divide risks by d (default: yes)")
    parser.add_argument("--trained", type=Path, metavar="CSV",
                        help="overlay trained risks (rows of figure1_experiment, e.g. "
                             "docs/figures/training_figure1.csv) on the theory curves instead; "
                             "needs wpgd-theory[train]")
    add_json_flag(parser)


def _run_trained(args):
    from ._io import InputError, _check_regular_file
    _check_regular_file(args.trained)
    try:
        from ..training import overlay_figure, read_rows_csv
    except ImportError as exc:
        raise InputError(str(exc)) from None
    try:
        rows = read_rows_csv(args.trained)
        overlay_figure(rows, args.output)
    except (KeyError, ValueError, TypeError) as exc:
        message = str(exc).removeprefix(str(args.trained)).lstrip(":, ")
        raise InputError(f"{args.trained}: not a training-rows CSV: {message}") from None
    emit(args, {"png": str(args.output), "rows": len(rows)},
         f"wrote {args.output} ({len(rows)} trained runs over the theory curves)")
    return 0


def _check_output(path):
    """``-o`` must name a .png file (matplotlib would append '.png' to any other name, and the
    output would not be where it was reported)."""
    from ._io import InputError
    if path.is_dir():
        raise InputError(f"-o {path}: is a directory, expected a .png file name")
    if path.suffix.lower() != ".png":
        raise InputError(f"-o {path}: must end in .png, got suffix {path.suffix or 'none'!r}")


def run(args):
    _check_output(args.output)
    if args.trained is not None:
        return _run_trained(args)
    from ..multitask.curves import plot_curves
    curves = compute(args)
    try:
        plot_curves(curves, args.output)
    except ImportError as exc:
        print(f"wpgd-theory: error: {exc}", file=sys.stderr)
        return 1
    emit(args, {"png": str(args.output), "curves": curves_payload(curves)},
         f"wrote {args.output} ({len(curves.n)} values of n, r1 = {curves.r1:g}, "
         f"r2 = {curves.r2:g}, d = {curves.d}, sigma2 = {curves.sigma2:g})")
    return 0
