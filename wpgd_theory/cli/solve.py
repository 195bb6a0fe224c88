"""``wpgd-theory solve FILE``: optimal WPGD of a dense or multitask problem, beside linear attention.

Prints the optimal risk ``L*``, the linear-attention risk ``L_ATT`` (``ω = 1``, best ``P``) a user
compares it against, ``γ*``, ``h₂(γ*)``, every fixed point of ``φ``, Theorem 3's uniqueness test,
the residuals and the optimal weights and preconditioner (block values for multitask input).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._io import InputError, add_json_flag, build_model, emit, int_in, load_problem

NAME = "solve"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help="optimal WPGD and the linear-attention risk of a problem file",
        description=__doc__.split("\n\n")[0].strip("`") + " FILE is a .json object or .npz "
        "archive with keys Sigma, R, r, sigma2 (dense) or C, c, sizes, sigma2 and Sigma or d "
        "(multitask; docs/cli.md).")
    parser.add_argument("problem", type=Path, metavar="FILE", help="problem file (.json or .npz)")
    parser.add_argument("--grid-size", type=int_in(2, 10**6), default=129, metavar="G",
                        help="bracketing grid for the fixed points of φ (default 129)")
    parser.add_argument("--precision", type=int_in(1, 1000), default=None, metavar="DIGITS",
                        help="solve in mpmath with this many digits (dense input only)")
    add_json_flag(parser)


def run(args):
    problem = load_problem(args.problem)
    if problem.kind == "spectral":
        raise InputError(f"{args.problem}: a spectral problem file (eigenvalues only) is read by "
                         f"certify; solve needs a dense or multitask file")
    model = build_model(problem)
    if problem.kind == "dense":
        from ..core.risk import linear_attention_risk
        from ..core.solver import solve_model
        solution = solve_model(model, precision=args.precision, grid_size=args.grid_size)
        weights_name, weights = "weights", solution.weights
        linatt = linear_attention_risk(model)
        shape = {"d": model.d, "n": model.n}
    else:
        if args.precision is not None:
            raise InputError("--precision is supported for dense input only")
        from ..multitask.model import multitask_linear_attention_risk, solve_multitask
        solution = solve_multitask(model, grid_size=args.grid_size)
        weights_name, weights = "block_weights", solution.block_weights
        linatt = multitask_linear_attention_risk(model)
        shape = {"d": model.d, "n": model.n, "K": model.K, "sizes": model.sizes.tolist()}
    payload = {
        "kind": problem.kind, **shape,
        "risk": solution.risk, "linear_attention_risk": linatt,
        "gamma_star": solution.gamma_star, "h2_star": solution.h2_star,
        "fixed_points": [point._asdict() for point in solution.fixed_points],
        "uniqueness_guaranteed": solution.uniqueness_guaranteed,
        "spectral_gap": solution.spectral_gap._asdict(),
        "fixed_point_residual": solution.fixed_point_residual,
        "stationarity_residual": solution.stationarity_residual,
        "message": solution.message,
        weights_name: np.asarray(weights, dtype=float),
        "preconditioner": np.asarray(solution.preconditioner, dtype=float),
    }
    emit(args, payload, _text(payload, weights_name))
    return 0


def _text(p, weights_name):
    sizes = f", K = {p['K']}, sizes = {p['sizes']}" if p["kind"] == "multitask" else ""
    gammas = ", ".join(f"{point['gamma']:.10g}" for point in p["fixed_points"]) or "none"
    with np.printoptions(precision=10, threshold=50):
        return "\n".join([
            f"{p['kind']} problem: d = {p['d']}, n = {p['n']}{sizes}",
            f"optimal WPGD risk      L*    = {p['risk']!r}",
            f"linear-attention risk  L_ATT = {p['linear_attention_risk']!r}",
            f"gamma_star = {p['gamma_star']!r}, h2_star = {p['h2_star']!r}",
            f"fixed points of phi: {len(p['fixed_points'])} (gamma = {gammas})",
            f"uniqueness guaranteed (Theorem 3): {p['uniqueness_guaranteed']}",
            (f"residuals: fixed point {p['fixed_point_residual']:.3g}, "
             f"stationarity {p['stationarity_residual']:.3g}"),
            p["message"],
            f"{weights_name} = {np.asarray(p[weights_name])}",
            f"preconditioner (d × d) =\n{np.asarray(p['preconditioner'])}",
        ])
