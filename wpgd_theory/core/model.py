"""The correlated-task data model (docs/theory.md §1).

``x_i, x ~ N(0, Σ)``; task vectors ``β_1..β_n, β ~ N(0, I_d)`` jointly Gaussian with
``E[β_i β_jᵀ] = R_ij I`` and ``E[β_i βᵀ] = r_i I``; ``y_i = x_iᵀ β_i + ε_i``, ``y = xᵀ β + ε``,
``ε ~ N(0, σ²)``. Valid iff the joint correlation ``[[R, r], [rᵀ, 1]]`` is PSD.
"""
from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

import numpy as np

from .validation import (
    UNIT_DIAGONAL_ATOL,
    as_integer,
    as_nonnegative_scalar,
    as_real_array,
    as_seed,
    as_symmetric_matrix,
    check_psd_eigenvalues,
    eigenvalue_tolerance,
    input_epsilon,
)

__all__ = [
    "CorrelatedTaskModel", "Prompts", "effective_spectral_gap", "GaussianFeatures",
    "check_unit_diagonal", "check_correlations_bounded", "MAX_SAMPLE_ELEMENTS",
]

#: Largest number of floats one sampled array (``b × (n + 1) × d``) may hold; bigger batches are
#: refused before anything is allocated.
MAX_SAMPLE_ELEMENTS = 2**25


class Prompts(NamedTuple):
    """A batch of prompts drawn from the model.

    ``context_inputs`` (b, n, d) holds the rows ``x_i``, ``context_labels`` (b, n) the ``y_i``,
    ``query_input`` (b, d) is ``x`` and ``query_label`` (b,) is ``y``.
    """

    context_inputs: np.ndarray
    context_labels: np.ndarray
    query_input: np.ndarray
    query_label: np.ndarray


def effective_spectral_gap(eigenvalues):
    """Largest minus smallest *nonzero* eigenvalue (0 if fewer than two are nonzero).

    Examples
    --------
    >>> effective_spectral_gap([0.0, 0.5, 2.0])
    1.5
    """
    eigenvalues = as_real_array(eigenvalues, "eigenvalues", ndim=1)
    nonzero = eigenvalues[np.abs(eigenvalues) > eigenvalue_tolerance(eigenvalues)]
    return float(np.ptp(nonzero)) if nonzero.size else 0.0


def _unit_tolerance(eps):
    # UNIT_DIAGONAL_ATOL for float64 input; a float32 input is known only to its own round-off.
    return max(UNIT_DIAGONAL_ATOL, 16 * eps)


def check_unit_diagonal(matrix, name, entry, eps=0.0):
    """Raise unless ``|matrix_ii − 1| ≤ max(UNIT_DIAGONAL_ATOL, 16 eps)``; ``entry`` names it
    (e.g. ``R_ii``), ``eps`` is the input's round-off (:func:`input_epsilon`)."""
    worst = float(np.max(np.abs(np.diag(matrix) - 1.0)))
    if worst > _unit_tolerance(eps):
        raise ValueError(f"{name} must have unit diagonal ({entry} = 1); "
                         f"max |{entry} - 1| = {worst:.3g}")


def check_correlations_bounded(vector, name, entry, eps=0.0):
    """Raise unless every correlation satisfies ``|vector_i| ≤ 1`` (to the input's round-off)."""
    largest = float(np.max(np.abs(vector)))
    if largest > 1.0 + _unit_tolerance(eps):
        raise ValueError(f"{name} must satisfy |{entry}| <= 1; max |{entry}| = {largest:.6g}")


class GaussianFeatures:
    """The feature part of the data model: ``x ~ N(0, Σ)`` and label noise ``σ²``.

    Validates ``Sigma`` (symmetric, PSD, nonzero) and ``sigma2 ≥ 0`` and caches
    ``Σ = U diag(s) Uᵀ``; shared by :class:`CorrelatedTaskModel` and the multitask model.
    """

    def __init__(self, Sigma, sigma2):
        self.Sigma = as_symmetric_matrix(Sigma, "Sigma")
        self.sigma2 = as_nonnegative_scalar(sigma2, "sigma2")
        s, U = np.linalg.eigh(self.Sigma)
        self.sigma_eigenvalues = check_psd_eigenvalues(s, "Sigma", input_epsilon(Sigma))
        self.sigma_eigenvectors = U
        if not np.any(self.sigma_eigenvalues > 0):
            raise ValueError("Sigma is zero: the features carry no signal (need tr Sigma > 0)")
        if not np.isfinite(self.M):
            raise ValueError("Sigma and sigma2 are too large: M = sigma2 + tr Sigma overflows "
                             "float64 (rescale both by the same factor; the risk scales with it)")

    @property
    def d(self):
        """Feature dimension."""
        return self.Sigma.shape[0]

    @cached_property
    def M(self):
        """``M = σ² + tr Σ``, the risk of predicting 0."""
        with np.errstate(over="ignore"):
            return self.sigma2 + float(np.sum(self.sigma_eigenvalues))

    @property
    def spectral_gap_sigma(self):
        """Effective spectral gap ``Δ_Σ`` (largest minus smallest nonzero eigenvalue of Σ)."""
        return effective_spectral_gap(self.sigma_eigenvalues)

    def _sample_prompts(self, num_prompts, seed, task_vectors):
        """Prompts whose example ``i`` (the last is the query) uses task vector ``tasks[:, i]``.

        ``task_vectors(rng, b)`` draws the per-example task vectors, shape ``(b, n + 1, d)``;
        inputs ``x = U diag(√s) z`` and noise ``ε ~ N(0, σ²)`` are drawn here, after them.
        """
        b = as_integer(num_prompts, "num_prompts", minimum=1)
        n = self.n
        check_sample_size(b, n, self.d, "num_prompts")
        rng = as_generator(seed)
        tasks = task_vectors(rng, b)
        sqrt_sigma = self.sigma_eigenvectors * np.sqrt(self.sigma_eigenvalues)
        inputs = rng.standard_normal((b, n + 1, self.d)) @ sqrt_sigma.T
        noise = np.sqrt(self.sigma2) * rng.standard_normal((b, n + 1))
        labels = np.einsum("bik,bik->bi", inputs, tasks) + noise
        return Prompts(inputs[:, :n], labels[:, :n], inputs[:, n], labels[:, n])


def check_sample_size(b, n, d, name):
    """Refuse, before allocating, a batch whose ``b × (n + 1) × d`` arrays exceed the limit."""
    elements = b * (n + 1) * d
    if elements > MAX_SAMPLE_ELEMENTS:
        raise ValueError(f"{name} = {b} prompts of (n + 1) × d = {n + 1} × {d} floats need "
                         f"{elements} > MAX_SAMPLE_ELEMENTS = {MAX_SAMPLE_ELEMENTS} per array; "
                         "sample in smaller batches")


def as_generator(seed):
    """``numpy.random.default_rng(seed)``, with a ``TypeError``/``ValueError`` naming ``seed``
    unless it is None, an int ``>= 0``, a ``SeedSequence`` or a ``Generator`` (:func:`as_seed`)."""
    return np.random.default_rng(as_seed(seed))


class CorrelatedTaskModel(GaussianFeatures):
    """Validated correlated-task model with cached eigendecompositions.

    Parameters
    ----------
    Sigma : array_like, shape (d, d)
        Feature covariance ``Σ``: symmetric, PSD, nonzero.
    R : array_like, shape (n, n)
        Context-task correlations ``R_ij``: symmetric, PSD, unit diagonal.
    r : array_like, shape (n,)
        Correlations ``r_i`` of each context task with the query task, ``|r_i| ≤ 1``.
    sigma2 : float
        Label-noise variance ``σ² ≥ 0``.

    Raises
    ------
    TypeError, ValueError
        Naming the argument and the violated condition (shape, NaN/inf, complex, symmetry, PSD,
        ``R_ii ≠ 1``, ``|r_i| > 1``, joint correlation ``[[R, r], [rᵀ, 1]]`` not PSD, ``σ² < 0``).

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, 0.5], [0.5, 1]], [0.9, 0.3], 0.1)
    >>> model.d, model.n, model.M
    (2, 2, 3.1)
    >>> model.sigma_eigenvalues, model.R_eigenvalues
    (array([1., 2.]), array([0.5, 1.5]))
    >>> CorrelatedTaskModel(np.eye(2), [[1, 0.5], [0.5, 1]], [0.9, -0.9], 0.1)
    Traceback (most recent call last):
    ...
    ValueError: joint correlation [[R, r], [rᵀ, 1]] is not positive semidefinite: rᵀ R⁺ r = 3.24 > 1 ...
    """

    def __init__(self, Sigma, R, r, sigma2):
        self._R_eps = max(input_epsilon(R), input_epsilon(r))
        self.R = as_symmetric_matrix(R, "R")
        self.r = as_real_array(r, "r", ndim=1)
        self._check_shapes_and_diagonal()
        super().__init__(Sigma, sigma2)
        lam, E = np.linalg.eigh(self.R)
        self.R_eigenvalues = check_psd_eigenvalues(lam, "R", self._R_eps)
        self.R_eigenvectors = E
        self.r_coefficients = E.T @ self.r
        self._check_joint_correlation()

    def _check_shapes_and_diagonal(self):
        n = self.R.shape[0]
        if self.r.shape != (n,):
            raise ValueError(f"r must have shape (n,) = ({n},) to match R, got {self.r.shape}")
        check_unit_diagonal(self.R, "R", "R_ii", self._R_eps)
        check_correlations_bounded(self.r, "r", "r_i", self._R_eps)

    def _check_joint_correlation(self):
        # [[R, r], [rᵀ, 1]] ⪰ 0  ⇔  R − r rᵀ ⪰ 0 (Schur complement of the unit entry). With the
        # round-off shift tol: diag(λ + tol) − a aᵀ ⪰ 0  ⇔  Σ a_i² / (λ_i + tol) ≤ 1.
        tol = eigenvalue_tolerance(self.R_eigenvalues, self._R_eps)
        quadratic = float(np.sum(self.r_coefficients**2 / (self.R_eigenvalues + tol)))
        if quadratic > 1.0:
            raise ValueError(
                "joint correlation [[R, r], [rᵀ, 1]] is not positive semidefinite: "
                f"rᵀ R⁺ r = {quadratic:.3g} > 1 (r must lie in the range of R with rᵀR⁺r <= 1)")

    @property
    def n(self):
        """Number of context examples."""
        return self.R.shape[0]

    @property
    def spectral_gap_R(self):
        """Effective spectral gap ``Δ_R`` (largest minus smallest nonzero eigenvalue of R)."""
        return effective_spectral_gap(self.R_eigenvalues)

    @property
    def joint_correlation(self):
        """The (n+1)×(n+1) joint task correlation ``[[R, r], [rᵀ, 1]]``."""
        return np.block([[self.R, self.r[:, None]], [self.r[None, :], np.ones((1, 1))]])

    @cached_property
    def _task_factor(self):
        # J = F Fᵀ with F = V sqrt(μ); eigh rather than Cholesky so that singular J works.
        mu, V = np.linalg.eigh(self.joint_correlation)
        return V * np.sqrt(np.clip(mu, 0.0, None))

    def sample(self, num_prompts, seed=None):
        """Draw ``num_prompts`` prompts exactly from the model.

        Parameters
        ----------
        num_prompts : int
            Batch size ``b ≥ 1``.
        seed : None, int or numpy.random.Generator
            Seed for ``numpy.random.default_rng``.

        Returns
        -------
        Prompts
            Arrays of shapes (b, n, d), (b, n), (b, d), (b,).
        """
        def task_vectors(rng, b):
            # Each of the d coordinates is an independent N(0, J) vector over the n + 1 tasks.
            normal = rng.standard_normal((b, self.n + 1, self.d))
            return np.einsum("ij,bjk->bik", self._task_factor, normal)

        return self._sample_prompts(num_prompts, seed, task_vectors)

    def __repr__(self):
        return (f"CorrelatedTaskModel(d={self.d}, n={self.n}, sigma2={self.sigma2:g}, "
                f"M={self.M:g})")
