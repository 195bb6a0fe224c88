"""Hypothesis strategies for valid correlated-task instances, shared by tests and proof checks.

An instance is built from a seeded NumPy generator so that shrinking and replay stay cheap:

* ``Σ = Q diag(s) Qᵀ`` with log-uniform eigenvalues over ``spread`` decades, some of them
  optionally zero (singular Σ);
* the joint task correlation ``J = G Gᵀ`` from ``n + 1`` unit-norm rows of a random
  ``(n + 1) × k`` factor: ``R = J[:n, :n]``, ``r = J[:n, n]`` — always valid, singular when
  ``k ≤ n``;
* ``σ²`` zero or positive.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from wpgd_theory.core.model import CorrelatedTaskModel

__all__ = ["random_model", "models"]


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
