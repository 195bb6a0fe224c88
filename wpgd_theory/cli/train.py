"""``wpgd-theory train CONFIG.json``: train one GLA configuration and compare it with the theory.

The configuration is a JSON object, the argument of
:func:`wpgd_theory.training.run_train_config`: ``model`` (``{"kind": "paper", "n", "r1", "r2",
"d", "sigma2"}``, ``"multitask"`` or ``"correlated"``), and optionally ``gating``,
``parameterisation``, ``steps``, ``batch_size``, ``learning_rate``, ``seed`` or ``seeds``,
``test_prompts``, ``test_seed``, ``init_scale``. Prints, per seed, the Monte Carlo test risk ±
its standard error against the theory's optimum for the gating class. Needs the extra
``wpgd-theory[train]`` (JAX + optax): without it, exit status 2 and a message naming the extra.
"""
from __future__ import annotations

from pathlib import Path

from ._io import InputError, _read_json, add_json_flag, emit

NAME = "train"


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="train a GLA model on sampled prompts and compare "
                                              "with the theory", description=__doc__)
    parser.add_argument("config", type=Path, metavar="CONFIG.json", help="training configuration")
    add_json_flag(parser)


def _text(out):
    lines = []
    for run in out["runs"]:
        lines.append(f"{run['gating']} ({run['parameterisation']}), seed {run['seed']}: test risk "
                     f"{run['test_risk']:.6g} ± {run['test_risk_se']:.2g} vs the class optimum "
                     f"{run['optimum_risk']:.6g} (L*_WPGD = {run['wpgd_risk']:.6g}); on the "
                     f"same prompts {100 * run['paired_gap'] / run['optimum_risk']:+.2f} % ± "
                     f"{100 * run['paired_gap_se'] / run['optimum_risk']:.2f} %")
    lines.append(f"{len(out['runs'])} run(s) in {out['seconds']:.1f} s")
    return "\n".join(lines)


def run(args):
    config = _read_json(args.config, "a JSON object (a training configuration)")
    try:
        from ..training import run_train_config
    except ImportError as exc:
        raise InputError(str(exc)) from None
    try:
        out = run_train_config(config)
    except Exception as exc:
        if "RESOURCE_EXHAUSTED" not in str(exc) and "out of memory" not in str(exc).lower():
            raise
        # past the footprint estimate of training.MAX_TRAINING_FLOATS: still one clean line
        raise MemoryError(f"JAX ran out of memory training {args.config} "
                          f"({type(exc).__name__}); lower batch_size, the number of seeds or "
                          "the model's size") from None
    emit(args, out, _text(out))
    return 0
