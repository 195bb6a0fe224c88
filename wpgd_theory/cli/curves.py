"""``wpgd-theory curves``: the Figure-1 theory table (risk against n) as CSV or JSON.

Setting: ``K = 2``, ``n₁ = n₂ = n/2``, ``corr(β₁, β₂) = 0``, ``Σ = I_d``; columns
``n, linatt, gla, gla_wo, gla_vector`` (see :func:`wpgd_theory.multitask.curves.theory_curves`).
"""
from __future__ import annotations

import sys
from pathlib import Path

from ._io import add_json_flag, emit

NAME = "curves"

#: Figure 1 of the paper: relevant task last, risks divided by d.
FIGURE1 = {"r1": 0.3, "r2": 0.9, "d": 10, "sigma2": 0.1,
           "n": [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]}


def add_setting_arguments(parser, defaults=None):
    """``--r1 --r2 --d --sigma2 --n`` (required, or with ``defaults``); shared with ``figure``."""
    def option(flag, key, help, **kwargs):
        if defaults is None:
            parser.add_argument(flag, required=True, help=help, **kwargs)
        else:
            parser.add_argument(flag, default=defaults[key],
                                help=f"{help} (default {defaults[key]})", **kwargs)
    option("--r1", "r1", "corr(β_1, β)", type=float)
    option("--r2", "r2", "corr(β_2, β)", type=float)
    option("--d", "d", "feature dimension", type=int)
    option("--sigma2", "sigma2", "label-noise variance", type=float)
    option("--n", "n", "even context lengths", type=int, nargs="+", metavar="N")


def compute(args):
    """The :class:`~wpgd_theory.multitask.curves.TheoryCurves` of the parsed setting."""
    from ..multitask.curves import theory_curves
    from ._io import InputError
    try:
        return theory_curves(args.n, args.r1, args.r2, d=args.d, sigma2=args.sigma2,
                             normalize=args.normalize)
    except ArithmeticError as exc:
        raise InputError(f"--sigma2 {args.sigma2:g} with --d {args.d}: the theory's risks are "
                         f"not computable in float64 ({exc})") from None
    except ValueError as exc:
        if "NaN or inf" not in str(exc):
            raise
        raise InputError(f"--sigma2 {args.sigma2:g} with --d {args.d}: the theory's risks are "
                         f"not computable in float64 (an intermediate {exc})") from None


def curves_payload(curves):
    """The curves as a JSON-ready dict (setting and one list per column)."""
    from ..multitask.curves import CURVE_COLUMNS
    return {"r1": curves.r1, "r2": curves.r2, "d": curves.d, "sigma2": curves.sigma2,
            "normalized": curves.normalized,
            **{column: getattr(curves, column) for column in CURVE_COLUMNS}}


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help="optimal risks of LinAtt / GLA / GLA-wo / GLA-vector against n (K = 2, "
                   "n_1 = n_2 = n/2, corr(β_1, β_2) = 0, Σ = I)", description=__doc__)
    add_setting_arguments(parser)
    parser.add_argument("--normalize", action="store_true", help="divide risks by d")
    parser.add_argument("--csv", type=Path, help="write the table here (default: stdout)")
    parser.add_argument("--png", type=Path, help="also plot to this PNG (needs matplotlib)")
    add_json_flag(parser)


def run(args):
    from ..multitask.curves import plot_curves, write_curves_csv
    curves = compute(args)
    if args.csv:
        write_curves_csv(curves, args.csv)
    if args.json:
        emit(args, curves_payload(curves), "")
    elif not args.csv:
        write_curves_csv(curves, sys.stdout)
    if args.png:
        try:
            plot_curves(curves, args.png)
        except ImportError as exc:
            print(f"wpgd-theory: error: {exc}", file=sys.stderr)
            return 1
    return 0
