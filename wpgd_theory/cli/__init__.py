"""The ``wpgd-theory`` command line: one module per verb, registered in :data:`VERBS`.

Each verb module exposes ``NAME``, ``add_parser(subparsers)`` and ``run(args) -> int``; adding a
verb is adding its module to :data:`VERBS`. Exit status: 0 ok, 1 a check failed (or an optional
output could not be produced), 2 bad input. Errors are one line on stderr
(``wpgd-theory: error: ...``), never a traceback or a warning before it (warnings raised by a
verb that succeeds are shown after it). Heavy imports happen inside ``run``.

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
import sys
import warnings

from . import certify, check, curves, figure, solve, sweep, train
from ._io import InputError, load_problem

__all__ = ["VERBS", "InputError", "build_parser", "load_problem", "main"]

#: The verb modules, in ``--help`` order.
VERBS = (solve, curves, check, certify, figure, sweep, train)

PROG = "wpgd-theory"


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    """The argparse parser with one subcommand per module of :data:`VERBS`."""
    parser = _Parser(
        prog=PROG,
        description="Executable theory of 'Gating is Weighting' (GLA = weighted preconditioned "
                    "GD). Every verb takes --json (strict JSON output). Exit status: 0 ok, 1 a "
                    "check failed, 2 bad input.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="VERB")
    for verb in VERBS:
        verb.add_parser(commands)
    return parser


def _fail(message):
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def main(argv=None):
    """Entry point of the ``wpgd-theory`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    run = {verb.NAME: verb.run for verb in VERBS}[args.command]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = run(args)
        for warning in caught:             # shown after a success; a failure is one line
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
        return status
    except RecursionError:
        return _fail("input nested too deeply")
    except (ValueError, TypeError, ArithmeticError, OSError, MemoryError) as exc:
        return _fail(exc)
    except Exception as exc:  # noqa: BLE001 (never a traceback; still say what it was)
        return _fail(f"unexpected {type(exc).__name__}: {exc}")
