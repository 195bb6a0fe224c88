"""Training GLA models against the theory: :func:`train`, :func:`train_seeds` and
:func:`build_architecture`.

A run builds the architecture, trains it on its normalised model (:mod:`.scale`) with the
jitted loop of :mod:`.fit`, scores it on shared test prompts (:mod:`.evaluation`) and reads the
learned weights against the class optimum (:mod:`.theory`) into a :class:`TrainResult`
(:mod:`.result`); the arguments are checked by :mod:`.arguments`. The names of those modules'
``__all__`` are re-exported here, where they have always been importable from.
"""
from __future__ import annotations

import time

import numpy as np

from ..core.validation import as_bool, as_integer
from ..gla.checkpoint import rank_one_fit, shape_error
from ._jax import jax
from .arguments import (
    MAX_STEPS,
    MAX_TEST_PROMPTS,
    MAX_TRAINING_FLOATS,
    _check_footprint,
    _learning_rate,
    _positive_int,
    _seed,
    _seeds,
    _test_prompts,
)
from .evaluation import DEFAULT_TEST_SEED, PairedEvaluation, _check_finite, _evaluate, evaluate
from .fit import _fit
from .models import Architecture
from .multilayer import MultiLayerArchitecture, as_layers
from .result import TrainResult
from .scale import _normalised, task_scale
from .softmax import SoftmaxArchitecture
from .starts import MAX_STARTS, best_start, gate_starts
from .theory import TheoryOptimum, _analyse, theory_optimum

__all__ = [
    "DEFAULT_TEST_SEED",
    "MAX_STARTS",
    "MAX_STEPS",
    "MAX_TEST_PROMPTS",
    "MAX_TRAINING_FLOATS",
    "PairedEvaluation",
    "TheoryOptimum",
    "TrainResult",
    "build_architecture",
    "evaluate",
    "rank_one_fit",
    "shape_error",
    "task_scale",
    "theory_optimum",
    "train",
    "train_seeds",
]


def build_architecture(model, gating="scalar", parameterisation="constrained", init_scale=0.1,
                       layers=1):
    """The trainable model of ``(gating, parameterisation, layers)``: an
    :class:`~wpgd_theory.training.Architecture` (one layer), a
    :class:`~wpgd_theory.training.MultiLayerArchitecture` (``layers > 1``) or, for
    ``gating="softmax"``, a :class:`~wpgd_theory.training.SoftmaxArchitecture` (one layer)."""
    layers = as_layers(layers)
    if isinstance(gating, str) and gating == "softmax":
        if layers != 1:
            raise ValueError(f"layers must be 1 for gating 'softmax', got {layers}")
        return SoftmaxArchitecture.build(model, parameterisation, init_scale)
    if layers == 1:
        return Architecture.build(model, gating, parameterisation, init_scale)
    return MultiLayerArchitecture.build(model, gating, parameterisation, init_scale,
                                        layers=layers)


def train_seeds(model, gating="scalar", *, seeds=(0,), parameterisation="constrained",
                steps=2000, batch_size=256, learning_rate=1e-2, test_prompts=100_000,
                test_seed=DEFAULT_TEST_SEED, init_scale=0.1, progress=False,
                share_prompts=False, layers=1):
    """Train one model per seed at once (``jax.vmap``) and compare each with the theory.

    Parameters are those of :func:`train`, with ``seeds`` a sequence of ints, and

    share_prompts : bool
        If false (default) every seed draws its own training prompts, so the runs are
        independent and seed ``s`` gives exactly ``train(..., seed=s)``. If true, the seeds
        differ only in their initialisation: all train on the prompt stream of ``seeds[0]``,
        drawn once per step (its run is ``train(..., seed=seeds[0])``). The sampling is then
        paid once, not once per seed, which is what makes many inits cheap (the trap
        experiment) — but the runs share their data, so their spread measures the effect of
        the initialisation only.

    Returns
    -------
    list of TrainResult
        One per seed, in order; ``seconds`` is the wall time of the whole batch.
    """
    arch = build_architecture(model, gating, parameterisation, init_scale, layers)
    return _train_batch(arch, seeds, steps=steps, batch_size=batch_size,
                        learning_rate=learning_rate, test_prompts=test_prompts,
                        test_seed=test_seed, progress=progress, share_prompts=share_prompts)


def _train_batch(arch, seeds, *, steps, batch_size, learning_rate, test_prompts, test_seed,
                 progress, share_prompts, edit_init=None):
    seeds = _seeds(seeds)
    steps = as_integer(steps, "steps", minimum=1, maximum=MAX_STEPS)
    batch_size = _positive_int(batch_size, "batch_size")
    test_prompts = _test_prompts(test_prompts)
    test_seed = _seed(test_seed, "test_seed")
    learning_rate = _learning_rate(learning_rate)
    share_prompts = as_bool(share_prompts, "share_prompts")
    as_bool(progress, "progress")
    _check_footprint(arch, len(seeds), batch_size)
    start = time.perf_counter()
    normal, scale = _normalised(arch)
    params, losses = _fit(normal, seeds, steps, batch_size, learning_rate, progress,
                          share_prompts, edit_init)
    optimum = theory_optimum(arch)
    mc = _evaluate(normal, params, test_prompts, test_seed,
                   (optimum.preconditioner * scale, optimum.weights))
    _check_finite({"test risk": mc.mean * scale, "its standard error": mc.se * scale,
                   "paired gap": mc.paired_mean * scale,
                   "the paired gap's standard error": mc.paired_se * scale}, "the trained model",
                  f"; training diverged: lower the learning_rate (now {learning_rate})")
    seconds = time.perf_counter() - start
    layers = getattr(arch, "layers", 1)
    results = []
    for i, seed in enumerate(seeds):
        own = jax.tree_util.tree_map(lambda a, i=i: np.asarray(a[i]), params)
        results.append(TrainResult(
            gating=arch.gating, parameterisation=arch.parameterisation, seed=seed, steps=steps,
            batch_size=batch_size, learning_rate=learning_rate,
            test_risk=float(mc.mean[i]) * scale, test_risk_se=float(mc.se[i]) * scale,
            test_prompts=int(mc.total), optimum=optimum,
            optimum_test_risk=mc.optimum_mean * scale,
            optimum_test_risk_se=mc.optimum_se * scale,
            paired_gap=float(mc.paired_mean[i]) * scale,
            paired_gap_se=float(mc.paired_se[i]) * scale,
            loss_history=np.asarray(losses[i], float) * scale, seconds=seconds, params=own,
            bayes_test_risk=mc.bayes_mean * scale, bayes_test_risk_se=mc.bayes_se * scale,
            bayes_paired_gap=float(mc.bayes_paired_mean[i]) * scale,
            bayes_paired_gap_se=float(mc.bayes_paired_se[i]) * scale, layers=layers,
            **_analyse(normal, own, optimum, scale)))
    return results


def train(model, gating="scalar", *, parameterisation="constrained", steps=2000, batch_size=256,
          learning_rate=1e-2, seed=0, test_prompts=100_000, test_seed=DEFAULT_TEST_SEED,
          init_scale=0.1, progress=False, layers=1, starts=1):
    """Train one GLA (or WPGD) model on fresh prompts and compare it with the theory.

    Parameters
    ----------
    model : MultitaskModel
        The task distribution (a :class:`~wpgd_theory.CorrelatedTaskModel` too for
        ``parameterisation="wpgd"``).
    gating : str
        ``"linear"``, ``"decay"``, ``"scalar"``, ``"vector"``; for the full layer also
        ``"scalar_token"`` and the names of :data:`~wpgd_theory.gla.GATE_FAMILIES`.
    parameterisation : {"constrained", "full", "wpgd"}
        See :mod:`wpgd_theory.training.models`.
    steps, batch_size : int
        Adam steps and fresh prompts per step.
    learning_rate : float
        Peak Adam learning rate (cosine decay to 1 %).
    seed : int
        Initialisation and training-data key; the run is deterministic for a seed.
    test_prompts : int
        Fresh test prompts (rounded up to whole chunks of 8192, fewer for long prompts).
    test_seed : int
        Key of the test prompts (default shared by every run).
    init_scale : float
        Scale of the random initial projections.
    progress : bool
        Show a tqdm progress bar.
    layers : int
        Number of GLA layers on a residual stream (Theorem 6; 1 to 16): see
        :class:`~wpgd_theory.training.MultiLayerArchitecture`. Not for ``"wpgd"`` or
        ``"softmax"``.
    starts : int
        Gate initialisations trained side by side on the same prompt stream (1 to 64): start 0
        is the default initialisation (the run of ``starts=1``), starts ``1, 2, …`` draw every
        gate logit uniformly from ``[−4, 4]`` (and their own projections). The result is the
        start with the lowest final training loss; ``start_runs`` reports all of them.

    Returns
    -------
    TrainResult

    Raises
    ------
    TypeError, ValueError
        Naming the argument (model type, unknown gating, non-positive steps or batch size,
        learning rate ≤ 0 or NaN, ...).
    FloatingPointError
        If the loss or the test risk is not finite (diverged run).

    Examples
    --------
    >>> from wpgd_theory import paper_setting_model
    >>> model = paper_setting_model(8, 0.2, 0.8, 4, 0.1)
    >>> result = train(model, "scalar", steps=400, batch_size=128, learning_rate=0.03,
    ...                test_prompts=16_384)
    >>> abs(result.relative_gap) < 0.05, result.optimum.kind
    (True, 'scalar')
    """
    arch = build_architecture(model, gating, parameterisation, init_scale, layers)
    starts = as_integer(starts, "starts", minimum=1, maximum=MAX_STARTS)
    seed = _seed(seed, "seed")
    options = dict(steps=steps, batch_size=batch_size, learning_rate=learning_rate,
                   test_prompts=test_prompts, test_seed=test_seed, progress=progress)
    if starts == 1:
        return _train_batch(arch, [seed], share_prompts=False, **options)[0]
    seeds = [(seed + k) % 2**32 for k in range(starts)]
    results = _train_batch(arch, seeds, share_prompts=True,
                           edit_init=lambda stacked: gate_starts(stacked, seed), **options)
    return best_start(results)
