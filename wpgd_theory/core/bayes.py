"""The Bayes-optimal in-context predictor and its risk for the correlated-task model.

Given the context inputs ``X`` (n × d), the labels ``y`` are jointly Gaussian with the query task
``β``: ``Cov(y) = G = R ⊙ XXᵀ + σ²I`` and ``Cov(β, y) = Xᵀ diag(r)``. The posterior mean of ``β``
is ``Xᵀ diag(r) G⁺ y``, so the Bayes predictor is ``ŷ = xᵀ Xᵀ diag(r) G⁺ y``
(:func:`dense_bayes_predict`), and its risk *given* ``X`` — exact over ``β``, the noise and the
query
``x`` (Rao–Blackwellised) — is

    ``L(X) = σ² + tr Σ − tr(Σ Xᵀ diag(r) G⁺ diag(r) X)``  (:func:`conditional_bayes_risks`).

The Bayes risk ``E_X L(X)`` is a Monte Carlo mean over ``X`` only (:func:`dense_bayes_risk`),
scheduled in seed blocks through :func:`~wpgd_theory.core.parallel.map_chunks`, so the result
is bit-identical whatever the executor.

:class:`Observations` and :func:`gaussian_conditional_risks` are the conditioning shared with the
multitask Wishart route. When ``σ²`` is negligible against ``G`` (``σ² = 0``, identical tasks)
they condition through a square root of the prior (``θ = (T ⊗ I) ζ``, ``ζ ~ N(0, I)``) and an SVD
of the design, ``u = Mζ + ξ``: the posterior covariance ``I − V diag(s²/(s² + σ²)) Vᵀ`` needs no
inverse of a singular ``G``, and the rank decision is a tolerance on singular values, which an
SVD computes to about ``ε · s_max``.

Examples
--------
>>> model = CorrelatedTaskModel(np.eye(2), np.ones((3, 3)), np.ones(3), 0.1)   # one task
>>> result = dense_bayes_risk(model, draws=2000, seed=0)
>>> round(result.risk, 2), result.draws
(0.34, 2000)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ._repr import compact_repr
from .model import CorrelatedTaskModel, as_generator
from .parallel import map_chunks
from .validation import as_integer, eigenvalue_tolerance, namespace_of

__all__ = [
    "BayesRisk", "dense_bayes_predict", "conditional_bayes_risks", "dense_bayes_risk",
    "gaussian_conditional_risks", "Observations", "factor_svd", "factor_posterior_mean",
    "correlation_factor", "monte_carlo_bayes_risk", "sample_designs", "DEFAULT_BAYES_DRAWS",
    "BAYES_BLOCK_SIZE",
]

DEFAULT_BAYES_DRAWS = 10_000
"""Default number of Monte Carlo draws of the design."""

BAYES_BLOCK_SIZE = 512
"""Draws per seed block (part of the result: fixed so that a seed reproduces it)."""

_EPS = float(np.finfo(float).eps)
_BATCH_FLOATS = 2**22          # floats per working array inside one block (32 MB)


@dataclass(frozen=True)
class BayesRisk:
    """Monte Carlo Bayes risk ``E_X L(X)`` with its standard error.

    Attributes
    ----------
    risk : float
        Mean of the conditional risks ``L(X)`` over ``draws`` designs.
    standard_error : float
        Their sample standard deviation over ``√draws``.
    draws : int
    seed : int
        The root seed (the result is a function of it, ``draws`` and :data:`BAYES_BLOCK_SIZE`).
    method : str
        ``"dense"`` (n × n conditioning) or ``"wishart"`` (multitask sufficient statistics).
    null_risk : float
        ``σ² + tr Σ``, the risk of predicting 0 (the ``n = 0`` value).
    """

    risk: float
    standard_error: float
    draws: int
    seed: int
    method: str
    null_risk: float

    __repr__ = compact_repr


def _as_draws(draws):
    return as_integer(draws, "draws", minimum=2)


def _as_root_seed(seed):
    return as_integer(seed, "seed", minimum=0)


def correlation_factor(joint):
    """``T`` with ``T Tᵀ = joint`` (a PSD correlation matrix), without its null directions.

    Eigenvalues within :func:`~wpgd_theory.core.validation.eigenvalue_tolerance` of 0 are
    dropped, so ``T`` has ``rank(joint)`` columns (a singular ``joint`` is fine).

    Examples
    --------
    >>> correlation_factor(np.ones((2, 2))).shape           # identical tasks: rank one
    (2, 1)
    """
    mu, V = np.linalg.eigh(np.asarray(joint, dtype=float))
    keep = mu > eigenvalue_tolerance(mu)
    return V[:, keep] * np.sqrt(mu[keep])


# ---------------------------------------------------------------------- Gaussian conditioning

class Observations:
    """Context rows ``z_i`` with ``u_i = z_iᵀ β_{t(i)} + ξ_i``, ``ξ ~ N(0, σ²I)``, and the task
    correlations: ``row_correlation[i, j] = corr(β_{t(i)}, β_{t(j)})``, ``query_correlation[i] =
    corr(β_{t(i)}, β)``, ``joint_factor`` a square root of ``[[row_correlation,
    query_correlation], [query_correlationᵀ, 1]]`` (rows ``0..m−1`` for the context, the last
    for the query; computed only when needed). The dense model has ``z_i = x_i``; the multitask
    Wishart route has ``d`` rows ``F_kᵀ`` per block."""

    def __init__(self, rows, row_correlation, query_correlation, Sigma, sigma2, joint_factor):
        self.rows = rows
        self.row_correlation = row_correlation
        self.query_correlation = query_correlation
        self.Sigma = Sigma
        self.sigma2 = sigma2
        self.joint_factor = joint_factor          # callable () -> (m + 1, q) array

    def gram(self):
        """``G = (row correlation) ⊙ ZZᵀ + σ²I`` and ``B = Cov(u, β) = diag(query corr) Z``."""
        m = self.rows.shape[1]
        G = self.row_correlation * (self.rows @ np.swapaxes(self.rows, -1, -2))
        return G + self.sigma2 * np.eye(m), self.query_correlation[:, None] * self.rows

    def invertible(self, G):
        """Whether ``σ²`` is above the round-off of ``G``'s largest eigenvalue (``≤ tr G``):
        then ``G ⪰ σ²I`` is numerically positive definite and an LU solve is backward stable."""
        scale = float(np.max(np.trace(G, axis1=-2, axis2=-1))) if G.size else 0.0
        return self.sigma2 > 16 * G.shape[-1] * _EPS * scale

    def factor_svd(self):
        """:func:`factor_svd` of the rows with the prior factor."""
        return factor_svd(self.rows, self.joint_factor(), self.sigma2)

    def explained(self):
        """``tr(Σ Bᵀ G⁺ B)``, the variance of ``xᵀβ`` the observations explain (per design)."""
        b, m, _ = self.rows.shape
        if m == 0:
            return np.zeros(b)
        G, B = self.gram()
        if self.invertible(G):
            return np.sum((np.linalg.solve(G, B) @ self.Sigma) * B, axis=(-2, -1))
        _, _, shrink, query = self.factor_svd()
        return np.sum(shrink[..., None] * (query @ self.Sigma) * query, axis=(-2, -1))

    def posterior_mean(self, u):
        """``E[β | u] = Bᵀ G⁺ u`` for observations ``u`` (b, m): shape (b, d)."""
        G, B = self.gram()
        if self.invertible(G):
            return np.einsum("bnd,bn->bd", B, np.linalg.solve(G, u[..., None])[..., 0])
        return factor_posterior_mean(u, *self.factor_svd())


def factor_svd(rows, joint_factor, sigma2):
    """SVD of the design in the prior's square root (NumPy or JAX arrays alike).

    ``u_i = z_iᵀ β_{t(i)} + ξ_i`` with ``β_t = Σ_j T_{tj} ζ_j`` is ``u = Mζ + ξ``,
    ``M[i, (j, :)] = T_{t(i) j} z_iᵀ``. Returns ``U``, the kept singular values ``s`` (those
    within ``16 · max(m, qd) · ε · s_max`` of 0 — an SVD's round-off — set to 0), the shrink
    factors ``s²/(s² + σ²)`` (0 where dropped) and ``E V`` (``E = T_query ⊗ I`` maps ``ζ`` to the
    query task), shapes ``(..., m, k)``, ``(..., k)``, ``(..., k)``, ``(..., k, d)``.

    ``rows`` is ``(..., m, d)``; ``joint_factor`` is ``(m + 1, q)``, its last row the query's.
    """
    xp = namespace_of(rows, joint_factor)
    m, d = rows.shape[-2:]
    q = joint_factor.shape[-1]
    M = (joint_factor[:m, :, None] * rows[..., :, None, :]).reshape(rows.shape[:-2] + (m, q * d))
    U, s, Vt = xp.linalg.svd(M, full_matrices=False)
    eps = float(xp.finfo(M.dtype).eps)
    kept = s > 16 * max(m, q * d) * eps * s[..., :1]
    safe = xp.where(kept, s, 1.0)
    shrink = xp.where(kept, 1.0 / (1.0 + sigma2 / safe**2), 0.0)
    query = xp.einsum("j,...kjd->...kd", joint_factor[m], Vt.reshape(Vt.shape[:-1] + (q, d)))
    return U, xp.where(kept, s, 0.0), shrink, query


def factor_posterior_mean(u, U, s, shrink, query):
    """``E[β | u] = E V diag(s / (s² + σ²)) Uᵀ u`` from :func:`factor_svd` (NumPy or JAX)."""
    xp = namespace_of(u, U)
    gain = xp.where(s > 0, shrink / xp.where(s > 0, s, 1.0), 0.0)       # s / (s² + σ²)
    coefficients = gain * xp.einsum("...mk,...m->...k", U, u)
    return xp.einsum("...k,...kd->...d", coefficients, query)


def gaussian_conditional_risks(observations):
    """``σ² + tr Σ − tr(Σ Bᵀ G⁺ B)`` for every design of an :class:`Observations`.

    ``G⁺ B`` by an LU solve when ``σ²`` is above ``G``'s round-off
    (:meth:`Observations.invertible`);
    otherwise (``σ² = 0`` or negligible) through the prior's square root: with
    ``M = U diag(s) Vᵀ`` the design in ``ζ``, ``Cov(ζ | u) = I − V diag(s²/(s² + σ²)) Vᵀ`` needs
    no inverse of a singular ``G``, and the rank decision is a tolerance on singular values.
    """
    return observations.sigma2 + float(np.trace(observations.Sigma)) - observations.explained()


def _dense_observations(model, X):
    return Observations(X, model.R, model.r, model.Sigma, model.sigma2,
                        lambda: correlation_factor(model.joint_correlation))


def conditional_bayes_risks(model, X):
    """Bayes risk given the context inputs: ``σ² + tr Σ − tr(Σ Xᵀ diag(r) G⁺ diag(r) X)``.

    Parameters
    ----------
    model : CorrelatedTaskModel
    X : array_like, shape (b, n, d) or (n, d)
        Context inputs (one design per leading index).

    Returns
    -------
    ndarray, shape (b,) (or a float for one design)

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.eye(2), np.eye(1), [1.0], 0.0)
    >>> float(conditional_bayes_risks(model, [[1.0, 0.0]]))   # β₁ learnt exactly, β₂ unknown
    1.0
    """
    model = _as_dense(model)
    X, single = _as_designs(X, model.n, model.d, "X")
    risks = gaussian_conditional_risks(_dense_observations(model, X))
    return float(risks[0]) if single else risks


def _as_dense(model):
    if not isinstance(model, CorrelatedTaskModel):
        raise TypeError(f"model must be a CorrelatedTaskModel, got {type(model).__name__}")
    return model


def _as_designs(X, n, d, name):
    X = np.asarray(X, dtype=float)
    single = X.ndim == 2
    if single:
        X = X[None]
    if X.ndim != 3 or X.shape[1:] != (n, d):
        raise ValueError(f"{name} must have shape (b, n, d) or (n, d) with (n, d) = ({n}, {d}), "
                         f"got {np.shape(X)}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return X, single


def _as_batch(value, shape, name):
    array = np.asarray(value, dtype=float)
    if array.shape not in (shape, shape[1:]):
        raise ValueError(f"{name} must have shape {shape} (or {shape[1:]} for one prompt) to "
                         f"match X, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return array.reshape(shape)


def dense_bayes_predict(model, X, y, x):
    """The Bayes-optimal prediction ``ŷ = xᵀ Xᵀ diag(r) G⁺ y`` (posterior mean of ``xᵀβ``).

    Parameters
    ----------
    model : CorrelatedTaskModel
    X : array_like, shape (b, n, d) or (n, d)
        Context inputs.
    y : array_like, shape (b, n) or (n,)
        Context labels.
    x : array_like, shape (b, d) or (d,)
        Query inputs.

    Returns
    -------
    ndarray, shape (b,) (or a float for one prompt)

    Examples
    --------
    Noiseless single task with ``n = d``: the posterior mean is the exact ``β``.

    >>> model = CorrelatedTaskModel(np.eye(2), np.ones((2, 2)), [1.0, 1.0], 0.0)
    >>> beta = np.array([1.0, -2.0]); X = np.array([[1.0, 1.0], [0.0, 3.0]])
    >>> round(dense_bayes_predict(model, X, X @ beta, [2.0, 1.0]), 12)
    0.0
    """
    model = _as_dense(model)
    X, single = _as_designs(X, model.n, model.d, "X")
    b = X.shape[0]
    y = _as_batch(y, (b, model.n), "y")
    x = _as_batch(x, (b, model.d), "x")
    beta = _dense_observations(model, X).posterior_mean(y)
    prediction = np.einsum("bd,bd->b", beta, x)
    return float(prediction[0]) if single else prediction


# ---------------------------------------------------------------------- Monte Carlo

def _batches(count, floats_per_draw):
    size = max(1, _BATCH_FLOATS // max(1, floats_per_draw))
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def _block_risks(sampler, block):
    """Conditional risks of the draws of one seed block (``sampler(rng, count)`` draws them)."""
    rng = np.random.default_rng(block.seed)
    return sampler(rng, block.stop - block.start)


def monte_carlo_bayes_risk(sampler, *, draws, seed, executor, method, null_risk):
    """Mean and standard error of ``sampler``'s conditional risks over seed blocks.

    ``sampler(rng, count)`` returns ``count`` conditional risks drawn with ``rng`` only (it must
    be picklable for process and Dask executors); block ``k`` uses the ``k``-th child of
    ``seed``, so the result does not depend on ``executor``.
    """
    draws = _as_draws(draws)
    seed = _as_root_seed(seed)
    blocks = map_chunks(partial(_block_risks, sampler), draws, seed=seed,
                        block_size=BAYES_BLOCK_SIZE, executor=executor)
    risks = np.concatenate(blocks)
    se = float(np.std(risks, ddof=1) / np.sqrt(draws))
    return BayesRisk(float(np.mean(risks)), se, draws, seed, method, float(null_risk))


def _dense_sampler(model, rng, count):
    sqrt_sigma = model.sigma_eigenvectors * np.sqrt(model.sigma_eigenvalues)
    out = np.empty(count)
    for start, stop in _batches(count, model.n * (model.n + model.d)):
        X = rng.standard_normal((stop - start, model.n, model.d)) @ sqrt_sigma.T
        out[start:stop] = conditional_bayes_risks(model, X)
    return out


def dense_bayes_risk(model, *, draws=DEFAULT_BAYES_DRAWS, seed=0, executor=None):
    """Bayes risk of a :class:`CorrelatedTaskModel`: Monte Carlo over ``X`` of
    :func:`conditional_bayes_risks` (exact over ``β``, noise and query).

    Cost: one ``n × n`` solve per draw (an eigendecomposition when ``σ² = 0``).

    Parameters
    ----------
    model : CorrelatedTaskModel
    draws : int
        Number of designs ``X`` (``≥ 2``).
    seed : int
        Root seed (``≥ 0``).
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        Where the seed blocks run; the result is bit-identical for every choice.

    Returns
    -------
    BayesRisk
    """
    model = _as_dense(model)
    return monte_carlo_bayes_risk(partial(_dense_sampler, model), draws=draws, seed=seed,
                                  executor=executor, method="dense", null_risk=model.M)


def sample_designs(model, count, seed=None):
    """``count`` designs ``X`` (count, n, d) drawn from ``N(0, Σ)`` (for tests and docs)."""
    rng = as_generator(seed)
    sqrt_sigma = model.sigma_eigenvectors * np.sqrt(model.sigma_eigenvalues)
    return rng.standard_normal((count, model.n, model.d)) @ sqrt_sigma.T
