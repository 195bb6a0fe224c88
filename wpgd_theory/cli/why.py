"""``wpgd-theory why FILE``: which gating class reaches the WPGD optimum of a multitask problem,
and why.

Calls :func:`wpgd_theory.multitask.explain.explain_gating` on the multitask model of FILE (the
format of ``solve``): for vector gating, scalar gating with delimiters, a constant decay gate
without delimiters and linear attention, the optimal risk, the excess over ``L*_WPGD`` and the
reason (the optimal block weights are constant, inside the monotone cone, or leave it — then the
face of the cone that holds the best scalar gating: blocks gated to zero, blocks pooled).
"""
from __future__ import annotations

from pathlib import Path

from ._io import InputError, add_json_flag, build_model, emit, load_problem

NAME = "why"


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="which gating class reaches L*_WPGD on a multitask "
                                              "problem, and why", description=__doc__)
    parser.add_argument("problem", type=Path, metavar="FILE",
                        help="multitask problem file (.json or .npz: C, c, sizes, sigma2, "
                             "Sigma or d)")
    add_json_flag(parser)


def run(args):
    problem = load_problem(args.problem)
    if problem.kind != "multitask":
        raise InputError(f"{args.problem}: gating classes act on multitask prompts (blocks "
                         f"separated by delimiters); why needs a multitask file (C, c, sizes, "
                         f"sigma2, Sigma or d), got a {problem.kind} problem")
    from ..multitask.explain import explain_gating
    explanation = explain_gating(build_model(problem))
    payload = {"wpgd_risk": explanation.wpgd_risk, "block_weights": explanation.block_weights,
               "classes": [verdict._asdict() for verdict in explanation.verdicts]}
    emit(args, payload, str(explanation))
    return 0
