"""``wpgd-theory curves``: the Figure-1 theory table (risk against n) of the paper's setting or of
any task family, as CSV or JSON.

Columns ``n, linatt, gla, gla_wo, gla_vector`` (see
:func:`wpgd_theory.multitask.curves.theory_curves`), and ``bayes, bayes_se`` — the Bayes-optimal
floor — with ``--bayes-draws N``. The task family is either the paper's setting, given by
``--r1 --r2 --d --sigma2`` (``K = 2``, ``n₁ = n₂ = n/2``, ``corr(β₁, β₂) = 0``, ``Σ = I_d``), or
``--family FILE``: a JSON object with ``C`` (K × K), ``c`` (K), ``proportions`` (K positive
integers: block k has n·p_k/Σp examples), ``sigma2`` and ``Sigma`` (d × d) or ``d``. A ``--csv``
file starts with ``#`` comment lines holding the parameters (K, c, C, proportions, d, Σ, σ²,
normalisation, package version); the table on stdout has none.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ._io import InputError, add_json_flag, emit

NAME = "curves"

#: Figure 1 of the paper: relevant task last, risks divided by d.
FIGURE1 = {"r1": 0.3, "r2": 0.9, "d": 10, "sigma2": 0.1,
           "n": [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], "bayes_draws": 4000}


def add_setting_arguments(parser, defaults=None, *, family=False):
    """``--r1 --r2 --d --sigma2 --n`` (required, or with ``defaults``); shared with ``figure``.
    With ``family``, only ``--n`` is required (the others may come from ``--family FILE``)."""
    def option(flag, key, help, **kwargs):
        if defaults is None:
            parser.add_argument(flag, required=not family or key == "n", help=help, **kwargs)
        else:
            parser.add_argument(flag, default=defaults[key],
                                help=f"{help} (default {defaults[key]})", **kwargs)
    option("--r1", "r1", "corr(β_1, β)", type=float)
    option("--r2", "r2", "corr(β_2, β)", type=float)
    option("--d", "d", "feature dimension", type=int)
    option("--sigma2", "sigma2", "label-noise variance", type=float)
    option("--n", "n", "context lengths: even in the paper's setting; with --family, multiples "
                       "of the sum of the proportions" if family else "even context lengths",
           type=int, nargs="+", metavar="N")
    bayes = 0 if defaults is None else defaults.get("bayes_draws", 0)
    parser.add_argument("--bayes-draws", type=int, default=bayes, metavar="N",
                        help="Monte Carlo draws of the Bayes-optimal floor per n (0: none; "
                             f"~0.1 s per 10^4 draws at d = 10; default {bayes})")
    parser.add_argument("--bayes-seed", type=int, default=0, help="seed of those draws")


_SETTING = ("r1", "r2", "d", "sigma2")
_FAMILY_KEYS = ("C", "c", "proportions", "sigma2")


def load_family(path):
    """The :class:`~wpgd_theory.multitask.curves.MultitaskFamily` of a JSON family file."""
    from ..multitask.curves import MultitaskFamily
    from ._io import _json_array, _read_json
    data = _read_json(path, "a JSON object with keys C, c, proportions, sigma2 and Sigma or d")
    keys = set(data)
    described = "C, c, proportions, sigma2 and exactly one of Sigma or d"
    missing = [key for key in _FAMILY_KEYS if key not in keys]
    extra = sorted(keys - set(_FAMILY_KEYS) - {"Sigma", "d"})
    if missing or extra or len(keys & {"Sigma", "d"}) != 1:
        problem = (f"missing key(s) {', '.join(missing)}" if missing else
                   f"unknown key(s) {', '.join(map(repr, extra))}" if extra else
                   "needs exactly one of Sigma or d")
        raise InputError(f"{path}: {problem}; expected {described}")
    try:
        a = {key: _json_array(data[key], key) for key in keys}
        Sigma = a["Sigma"] if "Sigma" in a else np.eye(int(a["d"]))
        return MultitaskFamily(a["C"], a["c"], a["proportions"].astype(np.int64), Sigma,
                               float(a["sigma2"]))
    except (InputError, ValueError, TypeError) as exc:
        raise InputError(f"{path}: {' '.join(str(exc).split())}") from None


def compute(args):
    """The :class:`~wpgd_theory.multitask.curves.TheoryCurves` of the parsed setting."""
    from ..multitask.curves import theory_curves
    bayes = dict(bayes_draws=args.bayes_draws, bayes_seed=args.bayes_seed)
    if getattr(args, "family", None) is not None:
        given = [f"--{key}" for key in _SETTING if getattr(args, key) is not None]
        if given:
            raise InputError(f"--family replaces {', '.join(given)}: give one or the other")
        return theory_curves(args.n, family=load_family(args.family), normalize=args.normalize,
                             **bayes)
    absent = [f"--{key}" for key in _SETTING if getattr(args, key) is None]
    if absent:
        raise InputError(f"the paper's setting needs {', '.join(absent)} (or --family FILE)")
    try:
        return theory_curves(args.n, args.r1, args.r2, d=args.d, sigma2=args.sigma2,
                             normalize=args.normalize, **bayes)
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
    return {"r1": curves.r1, "r2": curves.r2, "d": curves.d, "sigma2": curves.sigma2,
            "normalized": curves.normalized,
            **{column: getattr(curves, column) for column in curves.columns}}


def _wrote(curves, args):
    """One line per file written: what it holds."""
    from ..multitask.curves import CURVE_COLUMNS
    what = (f"{len(curves.n)} rows (n = {curves.n[0]} … {curves.n[-1]}), columns "
            f"{', '.join(CURVE_COLUMNS)}; {curves.family.describe()}"
            f"{', risks / d' if curves.normalized else ''}")
    lines = [f"wrote {args.csv}: {what}; parameters in its # header"] if args.csv else []
    if args.png:
        lines.append(f"wrote {args.png}: the plot of these {len(curves.n)} rows")
    return lines


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help="optimal risks of LinAtt / GLA / GLA-wo / GLA-vector against n, for the "
                   "paper's setting or any task family (--family)", description=__doc__)
    add_setting_arguments(parser, family=True)
    parser.add_argument("--family", type=Path, metavar="FILE",
                        help="a task family (JSON: C, c, proportions, sigma2, Sigma or d) "
                             "instead of --r1 --r2 --d --sigma2")
    parser.add_argument("--normalize", action="store_true", help="divide risks by d")
    parser.add_argument("--csv", type=Path, help="write the table here (default: stdout)")
    parser.add_argument("--png", type=Path, help="also plot to this PNG (needs matplotlib)")
    add_json_flag(parser)


def run(args):
    from ..multitask.curves import plot_curves, write_curves_csv
    curves = compute(args)
    if args.csv:
        write_curves_csv(curves, args.csv)
    status = 0
    if args.png:
        try:
            plot_curves(curves, args.png)
        except ImportError as exc:
            print(f"wpgd-theory: error: {exc}", file=sys.stderr)
            args.png, status = None, 1
    wrote = _wrote(curves, args)
    if args.json:
        emit(args, curves_payload(curves), "")
    elif not args.csv:
        write_curves_csv(curves, sys.stdout, metadata=False)
    # What was written goes to stdout unless stdout carries the table (then to stderr).
    for line in wrote:
        print(line, file=sys.stdout if args.csv and not args.json else sys.stderr)
    return status
