"""``wpgd-theory solve FILE``: optimal WPGD of a dense or multitask problem, beside linear attention.

Prints the optimal risk ``L*``, the linear-attention risk ``L_ATT`` (``ω = 1``, best ``P``) a user
compares it against, ``γ*``, ``h₂(γ*)``, every fixed point of ``φ``, Theorem 3's uniqueness test,
the residuals and the optimal weights and preconditioner (block values for multitask input). For
multitask input also ``L*_vector``, the optimum of key-wise (vector) gating, which every
eigen-direction of ``Σ`` gets its own block weights from (``< L*`` for anisotropic ``Σ``).
With ``--precision DIGITS`` every multiprecision number is printed (text) and emitted (JSON) as a
decimal string of DIGITS significant digits (a JSON float would round it to double precision).
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
    model = build_model(problem)
    if problem.kind == "dense":
        from ..core.risk import linear_attention_risk
        from ..core.solver import solve_model
        solution = solve_model(model, precision=args.precision, grid_size=args.grid_size)
        weights_name, weights = "weights", solution.weights
        linatt = linear_attention_risk(model)
        shape, extra = {"d": model.d, "n": model.n}, {}
    else:
        if args.precision is not None:
            raise InputError("--precision is supported for dense input only")
        from ..multitask.model import multitask_linear_attention_risk, solve_multitask
        from ..multitask.vector_gating import vector_gating_optimum
        solution = solve_multitask(model, grid_size=args.grid_size)
        weights_name, weights = "block_weights", solution.block_weights
        linatt = multitask_linear_attention_risk(model)
        shape = {"d": model.d, "n": model.n, "K": model.K, "sizes": model.sizes.tolist()}
        extra = {"vector_gating_risk": vector_gating_optimum(model).risk}
    payload = {
        "kind": problem.kind, **shape,
        "risk": solution.risk, "linear_attention_risk": linatt, **extra,
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
    if args.precision is not None:
        payload = _decimal_strings(dict(payload, **{weights_name: weights,
                                                    "preconditioner": solution.preconditioner}),
                                   args.precision)
    emit(args, payload, _text(payload, weights_name))
    return 0


def _decimal_strings(value, digits):
    """Every ``mpmath.mpf`` in ``value`` (nested dicts, lists, object arrays) as a decimal string
    of ``digits`` significant digits (:func:`mpmath.nstr`); other values unchanged."""
    import mpmath
    if isinstance(value, mpmath.mpf):
        return mpmath.nstr(value, digits)
    if isinstance(value, dict):
        return {key: _decimal_strings(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray)
                                            and value.dtype == object):
        return [_decimal_strings(item, digits) for item in value]
    return value


def _number(value, spec):
    """``value`` formatted with ``spec``, or as it is if it is already a decimal string."""
    return value if isinstance(value, str) else format(value, spec)


def _text(p, weights_name):
    sizes = f", K = {p['K']}, sizes = {p['sizes']}" if p["kind"] == "multitask" else ""
    gammas = ", ".join(_number(point["gamma"], ".10g") for point in p["fixed_points"]) or "none"
    exact = (lambda v: v) if isinstance(p["risk"], str) else repr
    with np.printoptions(precision=10, threshold=50):
        return "\n".join([
            f"{p['kind']} problem: d = {p['d']}, n = {p['n']}{sizes}",
            f"optimal WPGD risk      L*    = {exact(p['risk'])}",
            f"linear-attention risk  L_ATT = {p['linear_attention_risk']!r}",
            *([f"key-wise gating risk   L*_vector = {p['vector_gating_risk']!r}"]
              if "vector_gating_risk" in p else []),
            f"gamma_star = {exact(p['gamma_star'])}, h2_star = {exact(p['h2_star'])}",
            f"fixed points of phi: {len(p['fixed_points'])} (gamma = {gammas})",
            f"uniqueness guaranteed (Theorem 3): {p['uniqueness_guaranteed']}",
            (f"residuals: fixed point {_number(p['fixed_point_residual'], '.3g')}, "
             f"stationarity {_number(p['stationarity_residual'], '.3g')}"),
            p["message"],
            f"{weights_name} = {_array_text(p[weights_name])}",
            f"preconditioner (d × d) =\n{_array_text(p['preconditioner'])}",
        ])


def _array_text(value):
    """An array as NumPy prints it; decimal strings (``--precision``) one row per line."""
    if isinstance(value, list):
        rows = value if value and isinstance(value[0], list) else [value]
        return "\n".join("[" + " ".join(row) + "]" for row in rows)
    return str(np.asarray(value))
