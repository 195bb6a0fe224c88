"""Command line: ``wpgd-theory curves …`` and ``wpgd-theory solve FILE``.

Examples
--------
>>> main(["curves", "--r1", "0.3", "--r2", "0.9", "--d", "4", "--sigma2", "0.1", "--n", "2", "8"])
n,linatt,gla,gla_wo,gla_vector
2,3.6279...,3.5098...,3.5098...,3.5098...
8,2.8341...,2.5176...,2.5755...,2.5176...
0
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .core.solver import solve_optimal_wpgd
from .multitask.curves import plot_curves, theory_curves, write_curves_csv

__all__ = ["main", "build_parser", "load_problem"]

PROBLEM_KEYS = ("Sigma", "R", "r", "sigma2")


def build_parser():
    """The argparse parser with subcommands ``curves`` and ``solve``."""
    parser = argparse.ArgumentParser(
        prog="wpgd-theory",
        description="Executable theory of 'Gating is Weighting' (GLA = weighted preconditioned GD).")
    commands = parser.add_subparsers(dest="command", required=True)

    curves = commands.add_parser(
        "curves", help="optimal risks of LinAtt / GLA / GLA-wo / GLA-vector against n (K = 2, "
                       "n_1 = n_2 = n/2, corr(β_1, β_2) = 0, Σ = I)")
    curves.add_argument("--r1", type=float, required=True, help="corr(β_1, β)")
    curves.add_argument("--r2", type=float, required=True, help="corr(β_2, β)")
    curves.add_argument("--d", type=int, required=True, help="feature dimension")
    curves.add_argument("--sigma2", type=float, required=True, help="label-noise variance")
    curves.add_argument("--n", type=int, nargs="+", required=True, metavar="N",
                        help="even context lengths")
    curves.add_argument("--normalize", action="store_true", help="divide risks by d")
    curves.add_argument("--csv", type=Path, help="write the table here (default: stdout)")
    curves.add_argument("--png", type=Path, help="also plot to this PNG (needs matplotlib)")

    solve = commands.add_parser(
        "solve", help="optimal WPGD for Sigma, R, r, sigma2 read from a .json or .npz file")
    solve.add_argument("problem", type=Path, help=f".json or .npz with keys {', '.join(PROBLEM_KEYS)}")
    solve.add_argument("--json", action="store_true", help="print the solution as JSON")
    return parser


def load_problem(path):
    """Read ``Sigma, R, r, sigma2`` from a JSON object or an ``.npz`` archive.

    Raises
    ------
    ValueError
        Unknown suffix, unreadable file or missing keys (named).
    """
    path = Path(path)
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object with keys {PROBLEM_KEYS}")
    elif path.suffix == ".npz":
        with np.load(path) as archive:
            data = {key: archive[key] for key in archive.files}
    else:
        raise ValueError(f"{path}: expected a .json or .npz file, got suffix {path.suffix!r}")
    missing = [key for key in PROBLEM_KEYS if key not in data]
    if missing:
        raise ValueError(f"{path}: missing key(s) {', '.join(missing)}")
    sigma2 = data["sigma2"]
    sigma2 = float(sigma2) if np.ndim(sigma2) == 0 else sigma2
    return data["Sigma"], data["R"], data["r"], sigma2


def _run_curves(args):
    curves = theory_curves(args.n, args.r1, args.r2, d=args.d, sigma2=args.sigma2,
                           normalize=args.normalize)
    write_curves_csv(curves, args.csv if args.csv else sys.stdout)
    if args.png:
        try:
            plot_curves(curves, args.png)
        except ImportError as exc:
            print(f"wpgd-theory: error: {exc}", file=sys.stderr)
            return 1
    return 0


def _run_solve(args):
    solution = solve_optimal_wpgd(*load_problem(args.problem))
    if args.json:
        print(json.dumps({
            "risk": solution.risk, "gamma_star": solution.gamma_star,
            "h2_star": solution.h2_star, "weights": solution.weights.tolist(),
            "preconditioner": solution.preconditioner.tolist(),
            "fixed_points": [point.gamma for point in solution.fixed_points],
            "uniqueness_guaranteed": solution.uniqueness_guaranteed,
            "stationarity_residual": solution.stationarity_residual,
        }, indent=2))
    else:
        with np.printoptions(precision=10, suppress=False):
            print(solution)
            print(f"weights        = {solution.weights}")
            print(f"preconditioner =\n{solution.preconditioner}")
    return 0


def main(argv=None):
    """Entry point of the ``wpgd-theory`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = {"curves": _run_curves, "solve": _run_solve}[args.command]
    try:
        return run(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"wpgd-theory {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
