"""The Bayes risk of a multitask model through the sufficient statistics ``X_kᵀ y_k``.

Given the inputs, ``z_k = X_kᵀ y_k = W_k β_k + X_kᵀ ε_k`` with ``W_k = X_kᵀ X_k ~ Wishart(n_k, Σ)``
is sufficient for the task vectors, so the posterior — and the conditional risk — depends on the
design only through the ``W_k``. Writing ``W_k = F_k F_kᵀ`` (``F_k`` is d × d), ``z_k`` is
equivalent to ``u_k = F_kᵀ β_k + ξ_k``, ``ξ_k ~ N(0, σ²I)``: a dense problem with ``d`` rows per
block, conditioned by :func:`~wpgd_theory.core.bayes.gaussian_conditional_risks`
(``K d`` observations, whatever ``n``). ``F_k`` is drawn directly from its law: Bartlett
``F_k = Σ^{1/2} A`` (``A`` lower triangular, ``A_ii² ~ χ²(n_k − i + 1)``, ``A_ij ~ N(0, 1)``) when
``n_k ≥ d``, and ``[X_kᵀ, 0]`` from ``n_k`` sampled inputs when ``n_k < d`` (``W_k`` singular).
So ``n = 10⁹`` costs what ``n = 10`` costs.

Limits: ``n = 0`` gives ``σ² + tr Σ``; as every ``n_k → ∞`` (Σ full rank) the task vectors are
learnt exactly and the risk tends to ``σ² + tr Σ · (1 − cᵀC⁺c)`` (:func:`bayes_risk_limit`).

Examples
--------
The label-gate probe (d = 4, K = 2, n₁ = n₂ = 8, C = I, c = (0.2, 0.9), σ² = 0.1):

>>> model = MultitaskModel(np.eye(2), [0.2, 0.9], [8, 8], np.eye(4), 0.1)
>>> result = bayes_risk(model, draws=20_000, seed=0)
>>> print(f"{result.risk:.4f} ± {result.standard_error:.4f}")
0.8013 ± 0.0004
>>> round(bayes_risk_limit(model), 4)                    # n → ∞: 0.1 + 4 (1 − 0.85)
0.7
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..core.bayes import (
    DEFAULT_BAYES_DRAWS,
    correlation_factor,
    dense_bayes_predict,
    dense_bayes_risk,
    Observations,
    gaussian_conditional_risks,
    monte_carlo_bayes_risk,
)
from ..core.model import CorrelatedTaskModel
from ..core.validation import eigenvalue_tolerance
from .model import MultitaskModel

__all__ = ["bayes_risk", "bayes_predict", "bayes_risk_limit", "multitask_bayes_risk",
           "multitask_conditional_risks", "wishart_factors", "design_factors"]


def _as_multitask(model):
    if not isinstance(model, MultitaskModel):
        raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")
    return model


def _sqrt_sigma(model):
    return model.sigma_eigenvectors * np.sqrt(model.sigma_eigenvalues)


def wishart_factors(model, rng, count):
    """``count`` draws of ``(F_1, …, F_K)``, shape (count, K, d, d), with ``F_k F_kᵀ = W_k``.

    ``rng`` is a ``numpy.random.Generator``; the blocks are drawn in order, Bartlett for
    ``n_k ≥ d`` and ``n_k`` inputs for ``n_k < d`` (see the module docstring).
    """
    d = model.d
    root = _sqrt_sigma(model)
    factors = np.zeros((count, model.K, d, d))
    below = np.tril_indices(d, -1)
    for k, n_k in enumerate(model.sizes.tolist()):
        if n_k >= d:
            A = np.zeros((count, d, d))
            A[:, below[0], below[1]] = rng.standard_normal((count, below[0].size))
            degrees = n_k - np.arange(d)
            A[:, np.arange(d), np.arange(d)] = np.sqrt(rng.chisquare(degrees, (count, d)))
            factors[:, k] = root @ A
        else:
            X = rng.standard_normal((count, n_k, d)) @ root.T
            factors[:, k, :, :n_k] = np.swapaxes(X, -1, -2)
    return factors


def design_factors(model, X):
    """``F_k`` (count, K, d, d) with ``F_k F_kᵀ = X_kᵀ X_k`` from context inputs (count, n, d).

    ``F_k = Rᵀ`` of the QR decomposition ``X_k = Q R`` when ``n_k ≥ d``, else ``[X_kᵀ, 0]``.
    The bridge between sampled prompts and the Wishart route (tests compare the two on the
    same ``X``).
    """
    model = _as_multitask(model)
    X = np.asarray(X, dtype=float)
    if X.ndim != 3 or X.shape[1:] != (model.n, model.d):
        raise ValueError(f"X must have shape (count, n, d) = (count, {model.n}, {model.d}), "
                         f"got {X.shape}")
    d = model.d
    factors = np.zeros((X.shape[0], model.K, d, d))
    edges = np.concatenate([[0], np.cumsum(model.sizes)])
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        block = X[:, a:b]
        if b - a >= d:
            factors[:, k] = np.swapaxes(np.linalg.qr(block, mode="r"), -1, -2)
        else:
            factors[:, k, :, :b - a] = np.swapaxes(block, -1, -2)
    return factors


def multitask_conditional_risks(model, factors):
    """Bayes risks given ``W_k = F_k F_kᵀ`` (``factors`` of shape (count, K, d, d)).

    Examples
    --------
    Without data (``F = 0``) the risk is ``σ² + tr Σ``:

    >>> model = MultitaskModel(np.eye(2), [0.2, 0.9], [8, 8], np.eye(4), 0.1)
    >>> multitask_conditional_risks(model, np.zeros((1, 2, 4, 4)))
    array([4.1])
    """
    model = _as_multitask(model)
    factors = np.asarray(factors, dtype=float)
    K, d = model.K, model.d
    if factors.ndim != 4 or factors.shape[1:] != (K, d, d):
        raise ValueError(f"factors must have shape (count, K, d, d) = (count, {K}, {d}, {d}), "
                         f"got {factors.shape}")
    rows = np.swapaxes(factors, -1, -2).reshape(factors.shape[0], K * d, d)   # rows F_kᵀ
    labels = np.repeat(np.arange(K), d)

    def joint_factor():
        T = correlation_factor(model.joint_correlation)
        return np.concatenate([T[labels], T[K:]])

    return gaussian_conditional_risks(Observations(
        rows, model.task_correlation[np.ix_(labels, labels)], model.query_correlation[labels],
        model.Sigma, model.sigma2, joint_factor))


_BATCH = 1024


def _wishart_sampler(model, rng, count):
    out = np.empty(count)
    for start in range(0, count, _BATCH):
        stop = min(start + _BATCH, count)
        out[start:stop] = multitask_conditional_risks(model, wishart_factors(model, rng,
                                                                             stop - start))
    return out


def multitask_bayes_risk(model, *, draws=DEFAULT_BAYES_DRAWS, seed=0, executor=None):
    """Bayes risk of a :class:`MultitaskModel` by the Wishart route (cost independent of ``n``:
    one ``K d × K d`` solve per draw, an SVD of ``K d × rank(J) d`` when ``σ² = 0``).
    Parameters as :func:`bayes_risk`."""
    model = _as_multitask(model)
    return monte_carlo_bayes_risk(partial(_wishart_sampler, model), draws=draws, seed=seed,
                                  executor=executor, method="wishart", null_risk=model.M)


def bayes_risk(model, *, draws=DEFAULT_BAYES_DRAWS, seed=0, executor=None):
    """Bayes-optimal risk ``min over all predictors of E(y − ŷ)²``, by Monte Carlo over designs.

    Parameters
    ----------
    model : CorrelatedTaskModel or MultitaskModel
        Dense models are conditioned on the ``n × n`` label covariance
        (:func:`~wpgd_theory.core.bayes.dense_bayes_risk`); multitask models through their
        Wishart sufficient statistics (:func:`multitask_bayes_risk`, any ``n``).
    draws : int
        Monte Carlo draws of the design (``≥ 2``); each draw's risk is exact over the task
        vectors, the noise and the query (Rao–Blackwellised), so the standard error is small.
    seed : int
        Root seed ``≥ 0``; seed blocks of :data:`~wpgd_theory.core.bayes.BAYES_BLOCK_SIZE`
        draws use its children.
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        Runs the seed blocks; the result is bit-identical for every executor.

    Returns
    -------
    BayesRisk

    Raises
    ------
    TypeError, ValueError
        For another model type, ``draws < 2`` or a negative seed.

    Examples
    --------
    >>> model = MultitaskModel(np.eye(2), [0.2, 0.9], [8, 8], np.eye(4), 0.1)
    >>> bayes_risk(model, draws=2000, seed=1)
    BayesRisk(risk=0.80..., standard_error=0.00..., draws=2000, seed=1, method='wishart',
              null_risk=4.1)
    >>> bayes_risk(model, draws=1)
    Traceback (most recent call last):
    ...
    ValueError: draws must be >= 2, got 1
    """
    if isinstance(model, MultitaskModel):
        return multitask_bayes_risk(model, draws=draws, seed=seed, executor=executor)
    if isinstance(model, CorrelatedTaskModel):
        return dense_bayes_risk(model, draws=draws, seed=seed, executor=executor)
    raise TypeError(f"model must be a CorrelatedTaskModel or MultitaskModel, got "
                    f"{type(model).__name__}")


def bayes_risk_limit(model):
    """``σ² + tr Σ · (1 − cᵀC⁺c)``: the Bayes risk as every ``n_k → ∞`` (``Σ`` full rank).

    ``C⁺`` drops eigenvalues of ``C`` within round-off of 0 (singular ``C``: identical tasks).
    """
    model = _as_multitask(model)
    mu, V = np.linalg.eigh(model.task_correlation)
    keep = mu > eigenvalue_tolerance(mu)
    a = V[:, keep].T @ model.query_correlation
    explained = min(float(np.sum(a**2 / mu[keep])), 1.0)
    return model.sigma2 + float(np.sum(model.sigma_eigenvalues)) * (1.0 - explained)


def bayes_predict(model, X, y, x):
    """The Bayes-optimal prediction (posterior mean of ``xᵀβ``) for prompts of either model.

    A multitask model is conditioned as its dense equivalent (``R = C[k(i), k(j)]``,
    ``r = c[k(i)]``, block by block), so ``n ≤`` ``DENSE_LIMIT``; shapes as
    :func:`~wpgd_theory.core.bayes.dense_bayes_predict`.

    Examples
    --------
    >>> model = MultitaskModel(np.eye(2), [0.2, 0.9], [3, 3], np.eye(2), 0.1)
    >>> prompts = model.sample(4, seed=0)
    >>> bayes_predict(model, prompts.context_inputs, prompts.context_labels,
    ...               prompts.query_input).shape
    (4,)
    """
    if isinstance(model, MultitaskModel):
        model = model.to_correlated_task_model()
    return dense_bayes_predict(model, X, y, x)
