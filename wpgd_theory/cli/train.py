"""``wpgd-theory train CONFIG.json``: train one GLA configuration and compare it with the theory.

The configuration is a JSON object, the argument of
:func:`wpgd_theory.training.run_train_config`: ``model`` (``{"kind": "paper", "n", "r1", "r2",
"d", "sigma2"}``, ``"multitask"`` or ``"correlated"``), and optionally ``gating``,
``parameterisation``, ``steps``, ``batch_size``, ``learning_rate``, ``seed`` or ``seeds``,
``test_prompts``, ``test_seed``, ``init_scale``, ``layers`` (GLA layers), ``starts`` (gate
initialisations per seed, the best by training loss) and ``"gating": "softmax"``. Prints, per
seed, the Monte Carlo test risk ± its standard error against the theory's optimum for the gating
class, the exact closed-form risk of the learned predictor where it is a WPGD predictor, the
paired gap on the same prompts, the Bayes-optimal floor on the same prompts, and the learned
against the theory's block weights. The loss history stays out of the JSON unless
``--history-stride K`` asks for every K-th step; ``--history CSV`` writes all of it to a file.
Needs the extra ``wpgd-theory[train]`` (JAX + optax): without it, exit status 2 and a message
naming the extra.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ._io import (
    InputError,
    _read_json,
    add_json_flag,
    add_progress_flag,
    emit,
    int_in,
    progress_enabled,
)

NAME = "train"

#: Printed when a Monte Carlo risk sits below the optimum it is compared with.
BELOW_OPTIMUM_NOTE = (
    "note: a Monte Carlo test risk below the optimum is sampling error, not a model beating the "
    "theory: it is an average over a finite set of prompts (± its SE), and the optimum's own "
    "predictor scores {optimum_test_risk:.6g} on the same prompts. Compare the paired gap "
    "(same prompts, much smaller SE) or the exact closed-form risk.")


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="train a GLA model on sampled prompts and compare "
                                              "with the theory", description=__doc__)
    parser.add_argument("config", type=Path, metavar="CONFIG.json", help="training configuration")
    parser.add_argument("--history", type=Path, metavar="CSV",
                        help="write the training loss of every step (columns seed, step, loss) "
                             "to this CSV file")
    parser.add_argument("--history-stride", type=int_in(1, 10**9), metavar="K",
                        help="put the loss of every K-th step in the JSON output (default: no "
                             "loss history in the JSON)")
    add_progress_flag(parser)
    add_json_flag(parser)


def _weights(values):
    return np.array2string(np.asarray(values, float), precision=4, separator=", ")


def _run_lines(run):
    optimum = run["optimum_risk"]
    depth = "" if run.get("layers", 1) == 1 else f", {run['layers']} layers"
    starts = "" if not run.get("start_runs") else f", best of {len(run['start_runs'])} starts"
    lines = [f"{run['gating']} ({run['parameterisation']}{depth}{starts}), seed {run['seed']}: "
             f"Monte Carlo test "
             f"risk {run['test_risk']:.6g} ± {run['test_risk_se']:.2g} on "
             f"{run['test_prompts']} fresh prompts",
             f"  theory: class optimum {optimum:.6g} ({run['optimum_kind']}), "
             f"L*_WPGD = {run['wpgd_risk']:.6g}"]
    if run["closed_form_risk"] is not None:
        lines.append(f"  exact (closed-form) risk of the learned predictor: "
                     f"{run['closed_form_risk']:.6g} "
                     f"({100 * (run['closed_form_risk'] - optimum) / optimum:+.3f} % vs the "
                     f"optimum; no sampling)")
    lines.append(f"  paired gap on the same prompts: "
                 f"{100 * run['paired_gap'] / optimum:+.3f} % ± "
                 f"{100 * run['paired_gap_se'] / optimum:.3f} % (optimum's predictor there: "
                 f"{run['optimum_test_risk']:.6g})")
    if run.get("bayes_test_risk") is not None:
        lines.append(f"  Bayes-optimal floor on the same prompts: {run['bayes_test_risk']:.6g} "
                     f"(the model is {run['bayes_paired_gap']:+.4g} ± "
                     f"{run['bayes_paired_gap_se']:.2g} above it)")
    if run["block_weights"] is not None:
        lines.append(f"  block weights: learned {_weights(run['block_weights'])}, theory "
                     f"{_weights(run['theory_block_weights'])}")
    if run["test_risk"] < optimum:
        lines.append("  " + BELOW_OPTIMUM_NOTE.format(**run))
    return lines


def _text(out):
    lines = [line for run in out["runs"] for line in _run_lines(run)]
    lines.append(f"{len(out['runs'])} run(s) in {out['seconds']:.1f} s"
                 + (f"; wrote the loss history to {out['history']}" if out.get("history") else ""))
    return "\n".join(lines)


def _write_history(path, out, stride):
    """All loss values (``stride`` is 1 when --history is given) as ``seed, step, loss`` rows,
    after ``#`` lines holding the configuration."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(f"# config = {json.dumps(out['config'])}\n")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["seed", "step", "loss"])
        for run in out["runs"]:
            for k, loss in enumerate(run["loss_history"]):
                writer.writerow([run["seed"], k * stride, repr(float(loss))])


def run(args):
    config = _read_json(args.config, "a JSON object (a training configuration)")
    try:
        from ..training import run_train_config
    except ImportError as exc:
        raise InputError(str(exc)) from None
    stride = 1 if args.history else args.history_stride
    try:
        out = run_train_config(config, progress=progress_enabled(args), history_stride=stride)
    except Exception as exc:
        if "RESOURCE_EXHAUSTED" not in str(exc) and "out of memory" not in str(exc).lower():
            raise
        # past the footprint estimate of training.MAX_TRAINING_FLOATS: still one clean line
        raise MemoryError(f"JAX ran out of memory training {args.config} "
                          f"({type(exc).__name__}); lower batch_size, the number of seeds or "
                          "the model's size") from None
    if args.history:
        _write_history(args.history, out, stride)
        out["history"] = str(args.history)
    for run_ in out["runs"]:
        run_["final_loss"] = run_["loss_history"][-1] if run_["loss_history"] else None
        if args.history_stride is None:
            del run_["loss_history"], run_["loss_history_stride"]
        elif stride != args.history_stride:          # --history read all of it; thin for JSON
            run_["loss_history"] = run_["loss_history"][::args.history_stride]
            run_["loss_history_stride"] = args.history_stride
    emit(args, out, _text(out))
    return 0
