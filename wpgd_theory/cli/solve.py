"""``wpgd-theory solve FILE``: optimal WPGD of a dense or multitask problem, beside linear attention.

Prints the optimal risk ``L*``, the linear-attention risk ``L_ATT`` (``ω = 1``, best ``P``) a user
compares it against, ``γ*``, ``h₂(γ*)``, every fixed point of ``φ`` with its risk, slope and kind
(global or local minimum, saddle), the bracket searched, the uniqueness verdict, the residuals and
the optimal weights and preconditioner (block values for multitask input). For multitask input
also ``L*_vector``, the optimum of key-wise (vector) gating, which every eigen-direction of ``Σ``
gets its own block weights from (``< L*`` for anisotropic ``Σ``). ``--certify`` decides the
number of fixed points with interval arithmetic (``certify_solution``) and reports that verdict
instead of the spectral test alone. With ``--precision DIGITS`` every multiprecision number is
printed (text) and emitted (JSON) as a decimal string of DIGITS significant digits (a JSON float
would round it to double precision).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._io import InputError, add_json_flag, build_model, emit, int_in, load_problem

NAME = "solve"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help="optimal WPGD and the linear-attention risk of a problem file",
        description=__doc__.split("\n\n")[0] + " FILE is a .json object or .npz "
        "archive with keys Sigma, R, r, sigma2 (dense) or C, c, sizes, sigma2 and Sigma or d "
        "(multitask; docs/cli.md).")
    parser.add_argument("problem", type=Path, metavar="FILE", help="problem file (.json or .npz)")
    parser.add_argument("--grid-size", type=int_in(2, 10**6), default=129, metavar="G",
                        help="bracketing grid for the fixed points of φ (default 129)")
    parser.add_argument("--precision", type=int_in(1, 1000), default=None, metavar="DIGITS",
                        help="solve in mpmath with this many digits (dense input only)")
    parser.add_argument("--certify", action="store_true",
                        help="prove the number of fixed points with interval arithmetic (as the "
                             "certify verb does) and report uniqueness from that proof")
    parser.add_argument("--digits", type=int_in(15, 1000), default=30,
                        help="decimal digits of the interval arithmetic of --certify (default 30)")
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
    if args.certify:
        from ..verify.certify import certify_solution
        solution = certify_solution(solution, digits=args.digits)
    from ..core.spectral import fixed_point_bracket
    bracket = (fixed_point_bracket(solution.model if problem.kind == "dense"
                                   else solution.model.spectra)
               if solution.fixed_points else None)
    uniqueness = solution.uniqueness
    payload = {
        "kind": problem.kind, **shape,
        "risk": solution.risk, "linear_attention_risk": linatt, **extra,
        "gamma_star": solution.gamma_star, "h2_star": solution.h2_star,
        "fixed_points": [point._asdict() for point in solution.fixed_points],
        "bracket": bracket,
        "uniqueness_guaranteed": solution.uniqueness_guaranteed,
        "uniqueness": {"established": uniqueness.established, "reason": uniqueness.reason,
                       "fixed_points": uniqueness.fixed_points, "detail": uniqueness.detail},
        "certified": bool(args.certify),
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
def _fixed_point_lines(p):
    lines = [f"fixed points of phi: {len(p['fixed_points'])}"
             + (f" on the searched bracket [{p['bracket'][0]:.10g}, {p['bracket'][1]:.10g}] "
                f"= [1 + λ_min, 1 + λ_max] over the eigenvalues of R that carry r"
                if p["bracket"] else "")]
    for point in p["fixed_points"]:
        lines.append(f"  gamma = {float(point['gamma']):.10g}: risk {float(point['risk']):.12g}, "
                     f"slope phi' = {point['slope']:.4g} -> {point['kind']}")
    return lines


def _uniqueness_line(p):
    u = p["uniqueness"]
    source = "interval certificate" if p["certified"] else "Theorem 3 / relaxed condition"
    return (f"uniqueness guaranteed ({source}): {u['established']} — {u['reason']}"
            + (f"; {u['detail']}" if p["certified"] and u["detail"] else ""))


def _message_line(p):
    """The solver's message, without the bracket statement already printed with the numbers."""
    standard = (f"{len(p['fixed_points'])} fixed point(s) on [1 + λ_min, 1 + λ_max]; returned the "
                "one of lowest risk")
    if p["message"].startswith(standard):
        return "returned the lowest-risk fixed point" + p["message"][len(standard):]
    return p["message"]


def _text(p, weights_name):
    sizes = f", K = {p['K']}, sizes = {p['sizes']}" if p["kind"] == "multitask" else ""
    exact = (lambda v: v) if isinstance(p["risk"], str) else repr
    with np.printoptions(precision=10, threshold=50):
        return "\n".join([
            f"{p['kind']} problem: d = {p['d']}, n = {p['n']}{sizes}",
            f"optimal WPGD risk      L*    = {exact(p['risk'])}",
            f"linear-attention risk  L_ATT = {p['linear_attention_risk']!r}",
            *([f"key-wise gating risk   L*_vector = {p['vector_gating_risk']!r}"]
              if "vector_gating_risk" in p else []),
            f"gamma_star = {exact(p['gamma_star'])}, h2_star = {exact(p['h2_star'])}",
            *_fixed_point_lines(p),
            _uniqueness_line(p),
            (f"residuals: fixed point {_number(p['fixed_point_residual'], '.3g')}, "
             f"stationarity {_number(p['stationarity_residual'], '.3g')}"),
            _message_line(p),
            f"{weights_name} = {_array_text(p[weights_name])}",
            f"preconditioner (d × d) =\n{_array_text(p['preconditioner'])}",
        ])


def _array_text(value):
    """An array as NumPy prints it; decimal strings (``--precision``) one row per line."""
    if isinstance(value, list):
        rows = value if value and isinstance(value[0], list) else [value]
        return "\n".join("[" + " ".join(row) + "]" for row in rows)
    return str(np.asarray(value))
