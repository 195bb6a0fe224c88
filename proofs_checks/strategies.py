"""Hypothesis strategies for valid correlated-task instances, shared by tests and proof checks.

An instance is built from a seeded NumPy generator so that shrinking and replay stay cheap:

* ``Σ = Q diag(s) Qᵀ`` with log-uniform eigenvalues over ``spread`` decades, some of them
  optionally zero (singular Σ);
* the joint task correlation ``J = G Gᵀ`` from ``n + 1`` unit-norm rows of a random
  ``(n + 1) × k`` factor: ``R = J[:n, :n]``, ``r = J[:n, n]`` — always valid, singular when
  ``k ≤ n``;
* ``σ²`` zero or positive.

:func:`degenerate_models` builds Σ and R with repeated and nearly repeated eigenvalues on purpose
(:func:`clustered_matrix`, :func:`clustered_correlation`): the eigenvectors that ``eigh`` returns
inside such a cluster depend on the BLAS build, so these are the instances on which derandomised
examples could pass on one machine and fail on another. Three constructions:

* ``"rotated"``: ``Q diag(s) Qᵀ`` with each cluster centre repeated (times ``1 + separation·j``);
  forming it in floats spreads an exact cluster by ~1e-16 relative (the issue #18 instance);
* ``"exact"``: permuted block equicorrelation matrices ``c((1 − ρ)I + ρ11ᵀ)``, whose float
  entries make the eigenvalue ``c(1 − ρ)`` exactly repeated, with non-trivial eigenvectors;
* ``"perturbed"``: block-diagonal ``c·I`` plus symmetric off-diagonal noise of relative size
  ``separation`` (exact in floats even at 1e-17, unlike a rotation).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from wpgd_theory.core.model import CorrelatedTaskModel

__all__ = ["random_model", "models", "clustered_matrix", "clustered_correlation",
           "degenerate_model", "degenerate_models", "CLUSTER_KINDS", "SEPARATIONS"]

#: The constructions of :func:`clustered_matrix` (``"exact"`` and ``"perturbed"`` also of R).
CLUSTER_KINDS = ("rotated", "exact", "perturbed")
#: Relative separations inside a cluster: exact, below float64, and above it.
SEPARATIONS = (0.0, 1e-17, 1e-12, 1e-8)


def random_model(seed, d, n, *, rank=None, spread=2.0, zero_sigma_eigenvalues=0,
                 sigma2=None):
    """A reproducible random valid :class:`CorrelatedTaskModel`.

    Parameters
    ----------
    seed : int
    d, n : int
        Feature dimension and number of context tasks.
    rank : int, optional
        Rank of the joint task correlation (default ``n + 1``: nonsingular).
    spread : float
        Σ's eigenvalues are ``10**uniform(-spread/2, spread/2)``.
    zero_sigma_eigenvalues : int
        How many of Σ's eigenvalues are exactly zero (``< d``).
    sigma2 : float, optional
        Noise variance (default ``uniform(0, 1)``).

    Examples
    --------
    >>> model = random_model(0, 3, 4, rank=2)
    >>> model.d, model.n, int(np.sum(model.R_eigenvalues > 0))
    (3, 4, 2)
    """
    rng = np.random.default_rng(seed)
    s = 10 ** rng.uniform(-spread / 2, spread / 2, size=d)
    s[:zero_sigma_eigenvalues] = 0.0
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    G = rng.standard_normal((n + 1, rank or n + 1))
    G /= np.linalg.norm(G, axis=1, keepdims=True)
    J = G @ G.T
    np.fill_diagonal(J, 1.0)
    noise = rng.uniform(0, 1) if sigma2 is None else sigma2
    return CorrelatedTaskModel((Q * s) @ Q.T, J[:n, :n], J[:n, n], noise)


@st.composite
def models(draw, max_d=8, max_n=8, max_spread=3.0, allow_singular=True):
    """Strategy for valid models with ``d ≤ max_d``, ``n ≤ max_n`` (optionally singular Σ, R)."""
    d = draw(st.integers(1, max_d))
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rank = draw(st.integers(1, n + 1)) if allow_singular else n + 1
    zeros = draw(st.integers(0, d - 1)) if allow_singular else 0
    spread = draw(st.floats(0.0, max_spread))
    sigma2 = draw(st.one_of(st.just(0.0), st.floats(0.01, 2.0)))
    return random_model(seed, d, n, rank=rank, spread=spread, zero_sigma_eigenvalues=zeros,
                        sigma2=sigma2)


def _cluster_sizes(rng, size, clusters):
    """``clusters`` positive sizes summing to ``size`` (fewer if ``size < clusters``)."""
    clusters = max(1, min(clusters, size))
    cuts = np.sort(rng.choice(np.arange(1, size), clusters - 1, replace=False)) if clusters > 1 \
        else np.array([], dtype=int)
    return np.diff(np.concatenate([[0], cuts, [size]])).astype(int)


def _permuted_blocks(rng, blocks):
    size = sum(b.shape[0] for b in blocks)
    matrix, start = np.zeros((size, size)), 0
    for block in blocks:
        stop = start + block.shape[0]
        matrix[start:stop, start:stop] = block
        start = stop
    order = rng.permutation(size)
    return matrix[np.ix_(order, order)]


def _equicorrelation(m, rho):
    return (1 - rho) * np.eye(m) + rho * np.ones((m, m)) if m > 1 else np.ones((1, 1))


def _perturbed_identity(rng, m, separation):
    noise = np.triu(rng.uniform(-1, 1, (m, m)), 1) * (separation / max(1, m))
    return np.eye(m) + noise + noise.T


def clustered_matrix(seed, d, *, kind="rotated", clusters=1, separation=0.0, spread=2.0):
    """A reproducible symmetric PSD ``d × d`` float matrix with clustered eigenvalues.

    Parameters
    ----------
    seed : int
    d : int
    kind : {"rotated", "exact", "perturbed"}
        The construction (see the module docstring).
    clusters : int
        Number of clusters (at most ``d``); their centres are ``10**uniform(-spread/2,
        spread/2)``.
    separation : float
        Relative separation of the eigenvalues inside a cluster (0: exactly repeated, up to the
        round-off of the ``"rotated"`` construction).

    Examples
    --------
    >>> A = clustered_matrix(0, 5, kind="exact", clusters=2)
    >>> values = np.linalg.eigvalsh(A)
    >>> bool(np.min(np.diff(values)) < 1e-15 * np.max(values))   # a repeated eigenvalue
    True
    """
    rng = np.random.default_rng(seed)
    sizes = _cluster_sizes(rng, d, clusters)
    centres = 10 ** rng.uniform(-spread / 2, spread / 2, size=sizes.size)
    if kind == "rotated":
        s = np.concatenate([c * (1 + separation * np.arange(m)) for c, m in zip(centres, sizes)])
        Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
        matrix = (Q * s) @ Q.T
        return (matrix + matrix.T) / 2
    if kind == "exact":
        # ρ > −1/(m − 1) keeps the block positive definite (its other eigenvalue is 1 + (m−1)ρ).
        rhos = [rng.uniform(-0.5 / max(1, m - 1), 0.9) for m in sizes]
        return _permuted_blocks(rng, [c * _equicorrelation(m, p)
                                      for c, m, p in zip(centres, sizes, rhos)])
    if kind == "perturbed":
        return _permuted_blocks(rng, [c * _perturbed_identity(rng, m, separation)
                                      for c, m in zip(centres, sizes)])
    raise ValueError(f"kind must be one of {CLUSTER_KINDS}, got {kind!r}")


def clustered_correlation(seed, n, *, kind="exact", clusters=1, separation=0.0, strength=0.9):
    """A reproducible valid pair ``(R, r)`` (unit diagonal, joint correlation PSD) whose ``R``
    has repeated (``kind="exact"``: permuted equicorrelation blocks) or nearly repeated
    (``"perturbed"``: ``I`` plus off-diagonal noise of size ``separation``) eigenvalues;
    ``r = t·Rv/√(vᵀRv)`` with ``t = strength`` has ``rᵀR⁺r = t² < 1``.

    Examples
    --------
    >>> R, r = clustered_correlation(1, 4, clusters=2)
    >>> bool(np.allclose(np.diag(R), 1) and r @ np.linalg.pinv(R) @ r < 1)
    True
    """
    rng = np.random.default_rng(seed)
    sizes = _cluster_sizes(rng, n, clusters)
    if kind == "exact":
        blocks = [_equicorrelation(m, p) for m, p in zip(sizes, rng.uniform(0, 1, sizes.size))]
    elif kind == "perturbed":
        blocks = [_perturbed_identity(rng, m, separation) for m in sizes]
    else:
        raise ValueError(f"kind must be 'exact' or 'perturbed', got {kind!r}")
    R = _permuted_blocks(rng, blocks)
    Rv = R @ rng.standard_normal(n)
    quadratic = float(np.sqrt(Rv @ np.linalg.pinv(R) @ Rv))
    r = strength * Rv / quadratic if quadratic > 0 else np.zeros(n)
    return R, r


def degenerate_model(seed, d, n, *, sigma_kind="rotated", R_kind="exact", clusters=1,
                     separation=0.0, sigma2=0.0):
    """A :class:`CorrelatedTaskModel` whose Σ (:func:`clustered_matrix`) and, unless
    ``R_kind="random"`` (as :func:`random_model`), R (:func:`clustered_correlation`) have
    clustered eigenvalues.

    Examples
    --------
    >>> model = degenerate_model(0, 4, 3, clusters=1)
    >>> float(np.ptp(model.sigma_eigenvalues) / model.sigma_eigenvalues.max()) < 1e-14
    True
    """
    Sigma = clustered_matrix(seed, d, kind=sigma_kind, clusters=clusters, separation=separation)
    if R_kind == "random":
        base = random_model(seed + 1, 1, n)
        R, r = base.R, base.r
    else:
        R, r = clustered_correlation(seed + 1, n, kind=R_kind, clusters=clusters,
                                     separation=separation)
    return CorrelatedTaskModel(Sigma, R, r, sigma2)


@st.composite
def degenerate_models(draw, max_d=8, max_n=8, max_clusters=3):
    """Strategy for models with repeated or nearly repeated eigenvalues in Σ and/or R: every
    construction, cluster count and separation of :data:`SEPARATIONS`, on purpose."""
    d = draw(st.integers(2, max_d))
    n = draw(st.integers(1, max_n))
    return degenerate_model(
        draw(st.integers(0, 2**32 - 2)), d, n,
        sigma_kind=draw(st.sampled_from(CLUSTER_KINDS)),
        R_kind=draw(st.sampled_from(("exact", "perturbed", "random"))),
        clusters=draw(st.integers(1, max_clusters)),
        separation=draw(st.sampled_from(SEPARATIONS)),
        sigma2=draw(st.one_of(st.just(0.0), st.floats(0.01, 2.0))),
    )
