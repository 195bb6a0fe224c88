"""Monte Carlo test risk of trained parameters, paired with the optimum and the Bayes floor.

The test risk is a Monte Carlo mean of ``(y − ŷ)²`` over fresh prompts from a separate key
(``test_seed``, shared by every run so that runs are compared on the same prompts) with its
standard error; on the same prompts the optimum's WPGD predictor and the Bayes-optimal predictor
are scored too, so that the paired differences resolve gaps far below either risk's error.
"""
from __future__ import annotations

import collections
import functools
import threading
from typing import NamedTuple

import numpy as np

from ..core.predictor import wpgd_predict
from ..multitask.model import MultitaskModel
from ._jax import jax, jnp
from .arguments import (
    _architecture,
    _check_footprint,
    _check_params,
    _chunk_size,
    _seed,
    _test_prompts,
)
from .bayes import bayes_predictor
from .data import PromptSampler
from .scale import _normalised
from .theory import theory_optimum

__all__ = ["DEFAULT_TEST_SEED", "PairedEvaluation", "evaluate"]

DEFAULT_TEST_SEED = 20_251_201
"""Key of the test prompts (shared by all runs; training keys come from ``seed``)."""


def _test_key(test_seed, index):
    """Key of the ``index``-th chunk of test prompts (the same for every run and architecture)."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(test_seed), 0x7E57), index)


#: Bayes predictions are kept for the first this many test prompts (4 bytes each; later chunks
#: are recomputed when asked for), for the :data:`_BAYES_TABLES` most recent models.
_BAYES_CACHE_PROMPTS = 2**22
_BAYES_TABLES = 4
_bayes_tables = collections.OrderedDict()
_bayes_tables_lock = threading.Lock()


def _model_key(model):
    """The values that define ``model`` (two separately built equal models share a key)."""
    if isinstance(model, MultitaskModel):
        arrays = (model.task_correlation, model.query_correlation, model.sizes, model.Sigma)
    else:
        arrays = (model.R, model.r, model.Sigma)
    return (type(model).__name__, float(model.sigma2),
            *((a.shape, a.dtype.str, a.tobytes()) for a in arrays))


class _BayesTable:
    """The Bayes-optimal predictions on the test prompts of one (model, chunk, test_seed), one
    chunk at a time, computed once: they do not depend on what is being evaluated, and the
    Bayes predictor (an SVD per prompt where ``σ²`` is small) costs more than most models."""

    def __init__(self, model, chunk, test_seed):
        sampler, bayes = PromptSampler(model), bayes_predictor(model)
        self._predict = jax.jit(lambda index: bayes(sampler.sample(_test_key(test_seed, index),
                                                                   chunk)))
        self._kept_chunks, self._values = _BAYES_CACHE_PROMPTS // chunk, {}

    def __call__(self, index):
        if index in self._values:
            return self._values[index]
        values = self._predict(index)
        if index < self._kept_chunks:
            self._values[index] = values
        return values


def _bayes_table(model, chunk, test_seed):
    key = (_model_key(model), chunk, test_seed)
    with _bayes_tables_lock:                    # runs may share the process in threads
        if key in _bayes_tables:
            _bayes_tables.move_to_end(key)
            return _bayes_tables[key]
        table = _BayesTable(model, chunk, test_seed)
        _bayes_tables[key] = table
        while len(_bayes_tables) > _BAYES_TABLES:
            _bayes_tables.popitem(last=False)
        return table


@functools.lru_cache(maxsize=32)
def _evaluator(arch, chunk, test_seed):
    sampler = PromptSampler(arch.model)

    @jax.jit
    def sums(params, reference, index, bayes_predictions):
        prompts = sampler.sample(_test_key(test_seed, index), chunk)
        errors = (prompts.query_label - jax.vmap(arch.predict, in_axes=(0, None))(
            params, prompts)) ** 2                                  # (S, chunk)
        # The theory's optimal predictor on the same prompts: the paired difference has a far
        # smaller variance than either risk (common random numbers).
        optimal = (prompts.query_label - wpgd_predict(
            prompts.query_input, prompts.context_inputs, prompts.context_labels,
            reference[0], reference[1])) ** 2                       # (chunk,)
        paired = errors - optimal
        floor = (prompts.query_label - bayes_predictions) ** 2     # (chunk,)
        above = errors - floor
        return (jnp.sum(errors, axis=1), jnp.sum(errors**2, axis=1), jnp.sum(optimal),
                jnp.sum(optimal**2), jnp.sum(paired, axis=1), jnp.sum(paired**2, axis=1),
                jnp.sum(floor), jnp.sum(floor**2), jnp.sum(above, axis=1),
                jnp.sum(above**2, axis=1))

    return sums


class _MonteCarlo(NamedTuple):
    """Per-seed test risks, the optimum's risk on the same prompts, their paired differences."""

    mean: np.ndarray
    se: np.ndarray
    optimum_mean: float
    optimum_se: float
    paired_mean: np.ndarray
    paired_se: np.ndarray
    total: int
    bayes_mean: float = None
    bayes_se: float = None
    bayes_paired_mean: np.ndarray = None
    bayes_paired_se: np.ndarray = None


def _mean_and_se(first, second, total):
    mean = first / total
    variance = np.maximum(second / total - mean**2, 0.0) * total / (total - 1)
    return mean, np.sqrt(variance / total)


def _evaluate(arch, stacked_params, num_prompts, test_seed, reference):
    """Monte Carlo risks ``E(y − ŷ)²`` per seed and of the WPGD predictor ``reference = (P, ω)``
    (the optimum), on shared fresh prompts of ``arch.model``."""
    chunk = min(_chunk_size(arch), num_prompts)
    num_chunks = -(-num_prompts // chunk)
    sums = _evaluator(arch, chunk, test_seed)
    bayes = _bayes_table(arch.model, chunk, test_seed)
    reference = (jnp.asarray(reference[0], jnp.float32), jnp.asarray(reference[1], jnp.float32))
    totals = [0.0] * 10
    for index in range(num_chunks):
        chunk_sums = sums(stacked_params, reference, index, bayes(index))
        totals = [t + np.asarray(s, float) for t, s in zip(totals, chunk_sums)]
    total = num_chunks * chunk
    mean, se = _mean_and_se(totals[0], totals[1], total)
    optimum_mean, optimum_se = _mean_and_se(totals[2], totals[3], total)
    paired_mean, paired_se = _mean_and_se(totals[4], totals[5], total)
    bayes_mean, bayes_se = _mean_and_se(totals[6], totals[7], total)
    above_mean, above_se = _mean_and_se(totals[8], totals[9], total)
    return _MonteCarlo(mean, se, float(optimum_mean), float(optimum_se), paired_mean, paired_se,
                       total, float(bayes_mean), float(bayes_se), above_mean, above_se)


class PairedEvaluation(NamedTuple):
    """:func:`evaluate`'s result: the model's Monte Carlo risk and the paired gap to the optimum.

    ``paired_gap`` is the mean of ``(y − ŷ)² − (y − ŷ*)²`` on the same prompts, ``ŷ*`` the class
    optimum's predictor (for label-reading gates the WPGD optimum, a reference only).
    """

    risk: float
    risk_se: float
    prompts: int
    optimum_risk: float
    paired_gap: float
    paired_gap_se: float


def evaluate(arch, params, *, test_prompts=100_000, test_seed=DEFAULT_TEST_SEED):
    """Monte Carlo risk ``E(y − ŷ)²`` of one parameter set, and its paired gap to the optimum.

    Parameters
    ----------
    arch : Architecture
    params : dict
        E.g. ``TrainResult.params`` (possibly edited, for ablations).

        Parameters are in the units of the normalised model that training runs on
        (:func:`task_scale`); the risk is reported in the model's own units.
    test_prompts : int
        At least 2 (a standard error needs two), at most :data:`MAX_TEST_PROMPTS`.

    Returns
    -------
    PairedEvaluation
        ``(risk, risk_se, prompts, optimum_risk, paired_gap, paired_gap_se)``, in the model's own
        units: the paired gap resolves differences far below ``risk_se`` (common prompts).

    Raises
    ------
    FloatingPointError
        If the predictions overflow float32 (the risk would not be finite).
    """
    arch = _architecture(arch)
    params = _check_params(arch, params)
    test_prompts, test_seed = _test_prompts(test_prompts), _seed(test_seed, "test_seed")
    _check_footprint(arch, 1, 0)
    normal, scale = _normalised(arch)
    optimum = theory_optimum(arch)
    stacked = jax.tree_util.tree_map(lambda a: jnp.asarray(a)[None], params)
    result = _evaluate(normal, stacked, test_prompts, test_seed,
                       (optimum.preconditioner * scale, optimum.weights))
    evaluation = PairedEvaluation(
        float(result.mean[0]) * scale, float(result.se[0]) * scale, result.total,
        result.optimum_mean * scale, float(result.paired_mean[0]) * scale,
        float(result.paired_se[0]) * scale)
    _check_finite({"test risk": evaluation.risk, "its standard error": evaluation.risk_se,
                   "paired gap": evaluation.paired_gap}, "these params")
    return evaluation


def _check_finite(values, what, hint=""):
    """Raise FloatingPointError if any of the named Monte Carlo values is not finite."""
    bad = {k: v for k, v in values.items() if not np.all(np.isfinite(v))}
    if bad:
        listed = ", ".join(f"{k} {np.asarray(v).tolist()}" for k, v in bad.items())
        raise FloatingPointError(f"the Monte Carlo evaluation of {what} is not finite ({listed}):"
                                 f" the predictions overflow float32{hint}")
