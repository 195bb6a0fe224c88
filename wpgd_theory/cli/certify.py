"""``wpgd-theory certify FILE``: interval-arithmetic certificate of the fixed points of ``φ``.

Calls :func:`wpgd_theory.verify.certify.certify_fixed_point` on the model of FILE (the formats
of ``solve``, or a spectral file of eigenvalues as written by ``sweep --export-several``). Exit
status 1 if the certificate leaves boxes undecided within ``--max-boxes``; 2 if the input is
malformed or its kind is not supported by ``certify_fixed_point``.
"""
from __future__ import annotations

from pathlib import Path

from ._io import (
    InputError,
    add_json_flag,
    add_progress_flag,
    build_model,
    emit,
    int_in,
    load_problem,
    progress_enabled,
)

NAME = "certify"


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="certify every fixed point of φ (interval "
                                              "arithmetic)", description=__doc__)
    parser.add_argument("problem", type=Path, metavar="FILE", help="problem file (.json or .npz)")
    parser.add_argument("--digits", type=int_in(15, 1000), default=30,
                        help="decimal digits of the interval arithmetic (>= 15, default 30)")
    parser.add_argument("--max-boxes", type=int_in(0, 10**6), default=4000, metavar="B",
                        help="branch-and-bound budget (default 4000)")
    add_progress_flag(parser)
    add_json_flag(parser)


def run(args):
    problem = load_problem(args.problem)
    model = build_model(problem)
    from ..verify.certify import certify_fixed_point
    try:
        cert = certify_fixed_point(model, digits=args.digits, max_boxes=args.max_boxes,
                                   progress=progress_enabled(args))
    except TypeError as exc:
        raise InputError(f"certify does not support {problem.kind} input: {exc}") from None
    enclosures = [_endpoints(box, cert.digits) for box in cert.enclosures]
    payload = {
        "kind": problem.kind, "unique": cert.unique, "count": cert.count,
        "enclosures": enclosures, "contraction_bound": float(cert.contraction_bound),
        "width": cert.width, "undecided": len(cert.undecided), "boxes": cert.boxes,
        "digits": cert.digits, "rigorous": cert.rigorous, "eigen_residual": cert.eigen_residual,
        "message": cert.message,
    }
    text = "\n".join(
        [(f"{problem.kind} problem: {cert.count if cert.count is not None else 'undecided'} "
          f"fixed point(s), unique = {cert.unique}, rigorous = {cert.rigorous}")]
        + [f"  gamma in [{lo}, {hi}] (width {float(box.delta):.2g})"
           for (lo, hi), box in zip(enclosures, cert.enclosures)]
        + [(f"contraction bound sup phi' <= {float(cert.contraction_bound):.6g}; width "
            f"{cert.width:.3g}; {cert.boxes} boxes; {len(cert.undecided)} undecided"),
           cert.message])
    emit(args, payload, text)
    return 1 if cert.undecided else 0


def _endpoints(box, digits):
    """``[lower, upper]`` as decimal strings with ``digits + 5`` significant digits (rounded to
    nearest: far below the enclosure's own ε-inflation of ``~10^(2 − digits)``)."""
    import mpmath
    with mpmath.workdps(digits + 10):
        return [mpmath.nstr(mpmath.mpf(end._mpi_[0]), digits + 5) for end in (box.a, box.b)]
