"""Several starts of one training run: diverse gate initialisations, the best by training loss.

Used by :func:`~wpgd_theory.training.train` (``starts=k``): start 0 keeps the default
initialisation, starts ``1..k−1`` draw every gate logit uniformly from ``[−4, 4]``; all train on
one prompt stream (vmapped) and the start with the lowest final training loss is returned with
every start's summary in ``TrainResult.start_runs``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ._jax import jax, jnp

__all__ = ["MAX_STARTS"]

MAX_STARTS = 64
"""Largest ``starts`` of :func:`train` (each start is one more vmapped model)."""


def gate_starts(stacked, seed):
    """Stacked initial parameters with every ``"gate"`` array of starts ``1, 2, …`` replaced by
    logits uniform in ``[−4, 4]`` (start 0 keeps the default initialisation)."""
    rng = np.random.default_rng([seed, 0x57A7])

    def edit(path, leaf):
        last = path[-1] if path else None
        if getattr(last, "key", None) != "gate":
            return leaf
        draws = rng.uniform(-4.0, 4.0, size=(leaf.shape[0] - 1,) + leaf.shape[1:])
        return jnp.concatenate([leaf[:1], jnp.asarray(draws, leaf.dtype)])

    return jax.tree_util.tree_map_with_path(edit, stacked)


def best_start(results):
    """The start with the lowest final training loss, carrying every start's summary."""
    def final_loss(r):
        tail = max(1, len(r.loss_history) // 10)
        return float(np.mean(r.loss_history[-tail:]))
    runs = tuple({"start": k, "train_loss": final_loss(r), "test_risk": r.test_risk,
                  "test_risk_se": r.test_risk_se, "paired_gap": r.paired_gap,
                  "block_weights": r.block_weights} for k, r in enumerate(results))
    best = min(range(len(results)), key=lambda k: runs[k]["train_loss"])
    return replace(results[best], seed=results[0].seed, start_runs=runs)
