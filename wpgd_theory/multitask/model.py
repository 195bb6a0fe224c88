"""Multitask prompts (poster Definition 2, docs/theory.md §7) and the structured WPGD solver.

``K`` tasks with vectors ``β_1..β_K`` and a query task ``β``, jointly Gaussian with
``E[β_k β_lᵀ] = C_kl I`` and ``E[β_k βᵀ] = c_k I``. Task ``k`` contributes ``n_k`` i.i.d. pairs
``y = xᵀβ_k + ε`` (a *block*), each block is followed by a delimiter token carrying a context
feature ``c^k`` (``x = 0``, ``y = 0`` there), and the prompt ends with the query token ``[x; 0; 0]``.

As a correlated-task model (docs/theory.md §1) this is ``R = U C Uᵀ``, ``r = U c`` with ``U`` the
``n × K`` block indicator and ``D = UᵀU = diag(n_k)``. ``U D^{-1/2}`` has orthonormal columns, so
the nonzero eigenvalues of ``R`` are those of the ``K × K`` matrix ``D^{1/2} C D^{1/2} = V diag(μ) Vᵀ``,
with eigenvectors ``U D^{-1/2} V``; ``r`` has coordinates ``a = Vᵀ D^{1/2} c`` on them and none on the
other ``n − K`` directions, which drop out of ``h₁`` and of the risk. A :class:`BlockSpectra` with
these ``K`` eigenvalues therefore runs the core fixed-point, moment and risk code unchanged, and
its ``R_eigenvectors = D^{-1/2} V`` maps eigen-coordinates straight to *block values*: the
optimal ``ω*`` is constant on blocks. Nothing of size ``n`` is ever formed, so ``n = 10⁹`` costs
the same as ``n = 10``.

More generally, restricting ``ω`` to be constant on *groups* of consecutive blocks (a membership
matrix ``S``, ``K × G``) is the same problem with ``D^{1/2}CD^{1/2}`` replaced by
``D_S^{-1/2} SᵀDCDS D_S^{-1/2}`` and ``a`` by ``Vᵀ D_S^{-1/2} SᵀDc`` (``D_S = SᵀDS``): see
:meth:`MultitaskModel.block_spectra`. The gating optimisers of :mod:`wpgd_theory.multitask.gating`
use that to solve each face of the monotone cone.
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from ..core._repr import compact_repr
from ..core.model import (
    CorrelatedTaskModel,  # noqa: F401 (doctests use Prompts)
    GaussianFeatures,
    check_correlations_bounded,
    check_unit_diagonal,
    effective_spectral_gap,
)
from ..core.risk import (
    moments_from_coefficients,
    normalised_weights,
    preconditioner_eigenvalues,
    risk_from_moments,
    scaled_preconditioner,
)
from ..core.solver import WPGDSolution, _assemble
from ..core.spectral import (
    as_grid_size,
    find_fixed_points,
    relevant_R_eigenvalues,
    spectral_gap_condition,
)
from ..core.uniqueness import spectral_uniqueness
from ..core.validation import (
    MAX_EXACT_INT,
    as_integer,
    as_real,
    as_real_array,
    as_symmetric_matrix,
    check_psd_eigenvalues,
    eigenvalue_tolerance,
    input_epsilon,
)

__all__ = [
    "MultitaskModel", "BlockSpectra", "MultitaskSolution", "solve_multitask",
    "corollary_linear_attention_risk", "multitask_linear_attention_risk",
    "as_delimiter_features", "multitask_prompt_tokens", "delimiter_positions",
]

DENSE_LIMIT = 20_000
"""Largest ``n`` for which :meth:`MultitaskModel.to_correlated_task_model` forms ``R`` (n × n)."""


class BlockSpectra(NamedTuple):
    """Spectral data of a multitask model restricted to weights constant on groups of blocks.

    Duck-types the ``spectra`` argument of :mod:`wpgd_theory.core.spectral`, :mod:`wpgd_theory.core.risk`
    and the solver: ``R_eigenvalues`` (``μ``, length ``G``) and ``r_coefficients`` (``a``) are the
    nonzero part of ``R``'s spectrum on the subspace; ``R_eigenvectors`` (``K × G``) maps
    eigen-coordinates ``ω̃`` to block values ``w = S D_S^{-1/2} V ω̃`` (not to an ``n``-vector).
    """

    __repr__ = compact_repr

    sigma_eigenvalues: np.ndarray
    sigma_eigenvectors: np.ndarray
    M: float
    R_eigenvalues: np.ndarray
    R_eigenvectors: np.ndarray
    r_coefficients: np.ndarray


def _as_sizes(sizes):
    """Block lengths as exact integers ``1 ≤ n_k`` with ``n = Σ n_k ≤ 2**53`` (int64 array).

    Python and NumPy integers (and integral floats) are accepted, ``bool`` is not; beyond
    ``2**53`` float64 — in which the spectra are computed — no longer holds every integer, so
    such sizes are refused rather than silently rounded or wrapped.
    """
    # Lists keep their Python elements (object dtype), so a bool among ints is still seen.
    array = sizes if isinstance(sizes, np.ndarray) else np.asarray(sizes, dtype=object)
    if array.dtype == bool or np.iscomplexobj(array) or not (
            array.dtype == object or np.issubdtype(array.dtype, np.number)):
        raise TypeError(f"sizes must be an array of positive integers, got dtype {array.dtype}")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"sizes must be a non-empty 1-d array (n_1, ..., n_K), got shape "
                         f"{array.shape}")
    values = [_exact_size(v) for v in array.tolist()]
    if min(values) < 1:
        raise ValueError(f"sizes must be positive (n_k >= 1), got {values}")
    if sum(values) > MAX_EXACT_INT:
        raise ValueError(f"sizes must satisfy n = sum(n_k) <= 2**53 = {MAX_EXACT_INT} (exact in "
                         f"float64), got n = {sum(values)}")
    return np.array(values, dtype=np.int64)


def _exact_size(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"sizes must be an array of positive integers, got an element of type "
                        f"{type(value).__name__}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not (np.isfinite(value) and value == int(value)):
        raise ValueError(f"sizes must be integers, got {value!r}")
    return int(value)


class MultitaskModel(GaussianFeatures):
    """Validated multitask model of Definition 2, solved without forming ``n × n`` matrices.

    Parameters
    ----------
    task_correlation : array_like, shape (K, K)
        ``C_kl = corr(β_k, β_l)``: symmetric, unit diagonal.
    query_correlation : array_like, shape (K,)
        ``c_k = corr(β_k, β)``, ``|c_k| ≤ 1``.
    sizes : array_like of int, shape (K,)
        Block lengths ``n_k ≥ 1``; ``n = Σ n_k``.
    Sigma : array_like, shape (d, d)
        Feature covariance (symmetric PSD, nonzero).
    sigma2 : float
        Label-noise variance ``σ² ≥ 0``.

    Raises
    ------
    TypeError, ValueError
        Naming the argument: shapes and K mismatches, NaN/inf, non-integer or non-positive
        sizes, non-unit diagonal, ``|c_k| > 1``, joint correlation ``[[C, c], [cᵀ, 1]]`` not PSD.

    Examples
    --------
    >>> model = MultitaskModel(np.eye(2), [0.9, 0.3], [500_000_000, 500_000_000], np.eye(3), 0.1)
    >>> model.K, model.n, model.d, model.M
    (2, 1000000000, 3, 3.1)
    >>> model.spectra.R_eigenvalues          # the nonzero eigenvalues of the 10⁹ × 10⁹ matrix R
    array([5.e+08, 5.e+08])
    >>> MultitaskModel(np.eye(2), [0.9, 0.6], [2, 2], np.eye(3), 0.1)
    Traceback (most recent call last):
    ...
    ValueError: joint correlation [[task_correlation, query_correlation], [query_correlationᵀ, 1]] is not positive semidefinite: smallest eigenvalue -0.0817 < ...
    """

    def __init__(self, task_correlation, query_correlation, sizes, Sigma, sigma2):
        self._task_eps = max(input_epsilon(task_correlation), input_epsilon(query_correlation))
        self.task_correlation = as_symmetric_matrix(task_correlation, "task_correlation")
        self.query_correlation = as_real_array(query_correlation, "query_correlation", ndim=1)
        self.sizes = _as_sizes(sizes)
        self._check_tasks()
        super().__init__(Sigma, sigma2)

    def _check_tasks(self):
        K = self.task_correlation.shape[0]
        for name, length in (("query_correlation", self.query_correlation.size),
                             ("sizes", self.sizes.size)):
            if length != K:
                raise ValueError(f"{name} must have length K = {K} (task_correlation is {K}×{K}), "
                                 f"got {length}")
        check_unit_diagonal(self.task_correlation, "task_correlation", "C_kk", self._task_eps)
        check_correlations_bounded(self.query_correlation, "query_correlation", "c_k",
                                   self._task_eps)
        joint = np.linalg.eigvalsh(self.joint_correlation)
        check_psd_eigenvalues(joint, "joint correlation [[task_correlation, query_correlation], "
                              "[query_correlationᵀ, 1]]", self._task_eps)
        # The slack C was accepted with (C is a principal block of the joint correlation, so
        # λ_min(C) ≥ λ_min(joint) ≥ −tol): every matrix derived from C inherits it.
        self._psd_tolerance = eigenvalue_tolerance(joint, self._task_eps)

    # ------------------------------------------------------------------ sizes and constants
    @property
    def K(self):
        """Number of context tasks (blocks)."""
        return self.task_correlation.shape[0]

    @property
    def n(self):
        """Number of context examples ``n = Σ n_k`` (a Python int)."""
        return int(self.sizes.sum())

    @property
    def joint_correlation(self):
        """The (K+1)×(K+1) joint correlation ``[[C, c], [cᵀ, 1]]`` of ``(β_1..β_K, β)``."""
        C, c = self.task_correlation, self.query_correlation
        return np.block([[C, c[:, None]], [c[None, :], np.ones((1, 1))]])

    # ------------------------------------------------------------------ spectra
    def block_spectra(self, membership=None):
        """:class:`BlockSpectra` of the problem restricted to ``w = S w_S`` (block values).

        Parameters
        ----------
        membership : array_like, shape (K, G), optional
            0/1 matrix ``S``: ``S[k, g] = 1`` iff block ``k`` belongs to group ``g`` (each block
            in at most one group; blocks in no group get weight 0). Default ``I_K``: every block
            free, i.e. the unrestricted problem.

        Examples
        --------
        >>> model = MultitaskModel([[1, .5], [.5, 1]], [.9, .3], [1, 3], np.eye(2), 0.)
        >>> tied = model.block_spectra([[1], [1]])   # uniform weights: R' = 1ᵀR1 / n
        >>> tied.R_eigenvalues, tied.r_coefficients ** 2 * 4   # (1ᵀr)² = (0.9 + 3·0.3)²
        (array([3.25]), array([3.24]))
        """
        S = np.eye(self.K) if membership is None else np.asarray(membership, dtype=float)
        n_k = self.sizes.astype(float)
        group_sizes = S.T @ n_k
        inv_sqrt = 1.0 / np.sqrt(group_sizes)
        weighted = n_k[:, None] * S                                   # D S
        gram = weighted.T @ self.task_correlation @ weighted         # SᵀDCDS
        reduced = inv_sqrt[:, None] * gram * inv_sqrt[None, :]
        mu, V = np.linalg.eigh((reduced + reduced.T) / 2)
        # reduced = TᵀCT with T = D S D_S^{-1/2}: ‖T‖² ≤ the largest column norm² Σ_g n_k²/N_g.
        gain = float(np.max((n_k**2) @ S * inv_sqrt**2, initial=0.0))
        mu = check_psd_eigenvalues(mu, "the block correlation D^{1/2} C D^{1/2}",
                                   inherited=self._psd_tolerance * gain)
        r_reduced = inv_sqrt * (weighted.T @ self.query_correlation)  # D_S^{-1/2} SᵀDc
        return BlockSpectra(self.sigma_eigenvalues, self.sigma_eigenvectors, self.M, mu,
                            S @ (inv_sqrt[:, None] * V), V.T @ r_reduced)

    @cached_property
    def spectra(self):
        """:class:`BlockSpectra` of the unrestricted problem (``K`` eigenvalues of ``R``)."""
        return self.block_spectra()

    @property
    def spectral_gap_R(self):
        """Effective spectral gap ``Δ_R`` (nonzero eigenvalues of R are those of D^{1/2}CD^{1/2})."""
        return effective_spectral_gap(self.spectra.R_eigenvalues)

    # ------------------------------------------------------------------ block weights
    def block_coefficients(self, block_weights):
        """Coordinates ``ω̃ = Vᵀ D^{1/2} w`` of ``ω = U w`` in R's eigenbasis (length K)."""
        w = as_real_array(block_weights, "block_weights", ndim=1)
        if w.shape != (self.K,):
            raise ValueError(f"block_weights must have shape (K,) = ({self.K},), got {w.shape}")
        sqrt_sizes = np.sqrt(self.sizes.astype(float))
        # R_eigenvectors = D^{-1/2} V, so Vᵀ D^{1/2} w = (R_eigenvectors)ᵀ D w.
        return self.spectra.R_eigenvectors.T @ (sqrt_sizes**2 * w)

    def block_moments(self, block_weights):
        """``(A, B, C) = (ωᵀr, ωᵀ(R + I)ω, M‖ω‖²)`` for ``ω = U w``, in O(K²)."""
        moments = moments_from_coefficients(self.block_coefficients(block_weights), self.spectra)
        return tuple(float(m) for m in moments)

    def block_risk(self, block_weights):
        """``L(ω)`` with the best preconditioner, for block-constant ``ω = U w``.

        Examples
        --------
        >>> model = MultitaskModel([[1, .5], [.5, 1]], [.9, .3], [1, 1], np.eye(2), 0.)
        >>> round(model.block_risk([1.0, 1.0]), 12)    # = linear_attention_risk, see risk.py
        1.68
        """
        w, _ = self._normalized(block_weights)
        return float(risk_from_moments(*self.block_moments(w), self.spectra))

    def block_preconditioner(self, block_weights):
        """The best preconditioner ``P(ω) = A(BΣ + CI)⁻¹`` for ``ω = U w``."""
        w, scale = self._normalized(block_weights)
        p = preconditioner_eigenvalues(*self.block_moments(w), self.spectra)
        return scaled_preconditioner(p, self.sigma_eigenvectors, scale, "block_weights")

    @staticmethod
    def _normalized(block_weights):
        return normalised_weights(as_real_array(block_weights, "block_weights", ndim=1))

    def block_labels(self):
        """Task index ``k(i)`` of every context example (length n; modest n only)."""
        self._require_dense("block_labels")
        return np.repeat(np.arange(self.K), self.sizes)

    def expand(self, block_values):
        """The n-vector ``U w`` (modest n only)."""
        w = as_real_array(block_values, "block_values", ndim=1)
        if w.shape != (self.K,):
            raise ValueError(f"block_values must have shape (K,) = ({self.K},), got {w.shape}")
        self._require_dense("expand")
        return np.repeat(w, self.sizes)

    def _require_dense(self, what, limit=DENSE_LIMIT):
        if self.n > limit:
            raise ValueError(f"{what} forms objects of size n = {self.n} > {limit}; use the "
                             "structured (block) methods instead")

    def to_correlated_task_model(self):
        """The equivalent :class:`CorrelatedTaskModel` with ``R = U C Uᵀ``, ``r = U c``.

        Forms the ``n × n`` matrix, so only for ``n ≤`` :data:`DENSE_LIMIT`.

        Examples
        --------
        >>> model = MultitaskModel([[1, .5], [.5, 1]], [.9, .3], [2, 1], np.eye(2), 0.)
        >>> dense = model.to_correlated_task_model()
        >>> dense.R
        array([[1. , 1. , 0.5],
               [1. , 1. , 0.5],
               [0.5, 0.5, 1. ]])
        >>> dense.r
        array([0.9, 0.9, 0.3])
        """
        self._require_dense("to_correlated_task_model")
        labels = self.block_labels()
        R = self.task_correlation[np.ix_(labels, labels)]
        return CorrelatedTaskModel(self.Sigma, R, self.query_correlation[labels], self.sigma2)

    # ------------------------------------------------------------------ sampling
    @cached_property
    def _task_factor(self):
        mu, V = np.linalg.eigh(self.joint_correlation)
        return V * np.sqrt(np.clip(mu, 0.0, None))

    def sample(self, num_prompts, seed=None):
        """Draw ``num_prompts`` multitask prompts exactly from the model.

        Per prompt, the ``K + 1`` task vectors are drawn jointly Gaussian with correlation
        ``[[C, c], [cᵀ, 1]]`` (each coordinate independently), then ``x ~ N(0, Σ)`` and
        ``y = xᵀβ_{k(i)} + ε`` for the ``n_k`` examples of block ``k``, and the query pair.

        Returns
        -------
        Prompts
            ``(context_inputs (b, n, d), context_labels (b, n), query_input (b, d),
            query_label (b,))`` with the blocks in order; see :func:`multitask_prompt_tokens`.

        Examples
        --------
        >>> model = MultitaskModel(np.eye(2), [0.9, 0.3], [2, 3], np.eye(4), 0.1)
        >>> prompts = model.sample(7, seed=0)
        >>> prompts.context_inputs.shape, prompts.context_labels.shape, prompts.query_label.shape
        ((7, 5, 4), (7, 5), (7,))
        """
        self._require_dense("sample")

        def task_vectors(rng, b):
            # K + 1 task vectors from the joint correlation, repeated over each block's examples.
            normal = rng.standard_normal((b, self.K + 1, self.d))
            tasks = np.einsum("ij,bjd->bid", self._task_factor, normal)
            return np.concatenate([tasks[:, self.block_labels()], tasks[:, self.K:]], axis=1)

        return self._sample_prompts(num_prompts, seed, task_vectors)

    def __repr__(self):
        return (f"MultitaskModel(K={self.K}, sizes={self.sizes.tolist()}, d={self.d}, "
                f"sigma2={self.sigma2:g})")


# ---------------------------------------------------------------------- structured solver

@dataclass(frozen=True)
class MultitaskSolution:
    """Optimal WPGD for a :class:`MultitaskModel`; the fields of
    :class:`~wpgd_theory.core.solver.WPGDSolution` with ``block_weights`` (length K) in place of the
    n-vector ``weights`` (``ω* = U block_weights``, canonical scaling ``(h₂(γ*)R + I)⁻¹r``)."""

    __repr__ = compact_repr

    preconditioner: np.ndarray
    block_weights: np.ndarray
    gamma_star: Any
    h2_star: Any
    risk: Any
    fixed_points: tuple
    uniqueness: Any
    spectral_gap: Any
    fixed_point_residual: Any
    stationarity_residual: Any
    message: str
    model: MultitaskModel = field(repr=False)

    @property
    def uniqueness_guaranteed(self):
        """``uniqueness.established`` (see :class:`~wpgd_theory.core.uniqueness.Uniqueness`)."""
        return self.uniqueness.established

    def weights(self):
        """The n-vector ``ω*`` (modest n only)."""
        return self.model.expand(self.block_weights)

    @classmethod
    def _from_wpgd(cls, solution):
        values = {f.name: getattr(solution, f.name) for f in dataclasses.fields(WPGDSolution)}
        values["block_weights"] = values.pop("weights")
        return cls(**values)


def solve_multitask(model, *, grid_size=129):
    """Optimal WPGD for a multitask model, in ``O(K³ + d³)`` regardless of ``n``.

    Runs the core solver (all fixed points of ``φ``, lowest-risk one) on
    :attr:`MultitaskModel.spectra`; agrees with
    ``solve_model(model.to_correlated_task_model())`` where the latter is affordable.

    Parameters
    ----------
    model : MultitaskModel
    grid_size : int, optional
        Bracketing grid for the fixed points (see :func:`~wpgd_theory.core.spectral.find_fixed_points`).

    Returns
    -------
    MultitaskSolution

    Examples
    --------
    >>> model = MultitaskModel(np.eye(2), [0.9, 0.3], [5 * 10**8, 5 * 10**8], np.diag([1., 2.]), 0.1)
    >>> solution = solve_multitask(model)
    >>> round(solution.risk, 9), solution.block_weights
    (0.400000017, array([5.51999996e-09, 1.83999999e-09]))

    Small cases agree with the dense solver:

    >>> from ..core.solver import solve_model
    >>> small = MultitaskModel([[1, .5], [.5, 1]], [.9, .3], [2, 3], np.diag([1., 2.]), 0.1)
    >>> dense = solve_model(small.to_correlated_task_model())
    >>> bool(abs(solve_multitask(small).risk - dense.risk) < 1e-12)
    True
    >>> bool(np.allclose(solve_multitask(small).weights(), dense.weights, rtol=1e-10, atol=0))
    True
    """
    if not isinstance(model, MultitaskModel):
        raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")
    grid_size = as_grid_size(grid_size)
    gap = spectral_gap_condition(model)
    spectra = model.spectra
    if relevant_R_eigenvalues(spectra).size == 0:
        nan = float("nan")
        return MultitaskSolution(
            preconditioner=np.zeros((model.d, model.d)), block_weights=np.zeros(model.K),
            gamma_star=nan, h2_star=nan, risk=model.M, fixed_points=(),
            uniqueness=spectral_uniqueness(model, fixed_points=0, gap=gap), spectral_gap=gap,
            fixed_point_residual=0.0,
            stationarity_residual=0.0,
            message=("query_correlation has no component the blocks can see (r = U c = 0): "
                     "optimal risk is M (predict 0), weights 0"),
            model=model)
    search = find_fixed_points(spectra, grid_size=grid_size)
    return MultitaskSolution._from_wpgd(
        _assemble(model, spectra, search.fixed_points, search.slopes, gap, float))


# ---------------------------------------------------------------------- linear attention

def corollary_linear_attention_risk(d, sigma2, n, sum_r, sum_R):
    """The poster's Corollary (``Σ = I``): ``d + σ² − d (1ᵀr)² / (n(d + σ² + 1) + 1ᵀR1)``.

    Parameters
    ----------
    d : int
    sigma2 : float
    n : int
    sum_r : float
        ``1ᵀr`` (``= Σ_k n_k c_k`` for a multitask model).
    sum_R : float
        ``1ᵀR1`` (``= nᵀ C n`` with ``n = (n_1..n_K)``).

    Examples
    --------
    >>> corollary_linear_attention_risk(2, 0.0, 2, 1.2, 3.0)   # see risk.linear_attention_risk
    1.68
    """
    d, n = as_integer(d, "d", minimum=1), as_integer(n, "n", minimum=1)
    sigma2 = as_real(sigma2, "sigma2", minimum=0.0)
    sum_r, sum_R = as_real(sum_r, "sum_r"), as_real(sum_R, "sum_R", minimum=0.0)
    return d + sigma2 - d * sum_r**2 / (n * (d + sigma2 + 1) + sum_R)


def multitask_linear_attention_risk(model):
    """Optimal linear-attention risk (``ω = 1``, best ``P``) of a multitask model, any ``Σ``.

    For ``Σ = I`` it equals :func:`corollary_linear_attention_risk` with ``1ᵀr = Σ n_k c_k`` and
    ``1ᵀR1 = nᵀCn``.

    Examples
    --------
    >>> model = MultitaskModel(np.eye(2), [0.9, 0.3], [10**9, 10**9], np.eye(5), 0.5)
    >>> n_k = model.sizes
    >>> formula = corollary_linear_attention_risk(5, 0.5, model.n, n_k @ [0.9, 0.3],
    ...                                           n_k @ model.task_correlation @ n_k)
    >>> bool(abs(multitask_linear_attention_risk(model) - formula) < 1e-12)
    True
    """
    if not isinstance(model, MultitaskModel):
        raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")
    return model.block_risk(np.ones(model.K))


# ---------------------------------------------------------------------- prompt tokens

def as_delimiter_features(delimiter_features, K):
    """Validate delimiter features ``c^1..c^K`` (rows, shape ``(K, d_c)``): linearly independent.

    ``None`` gives the standard basis ``I_K``.

    Examples
    --------
    >>> as_delimiter_features(None, 2)
    array([[1., 0.],
           [0., 1.]])
    >>> as_delimiter_features([[1, 2], [2, 4]], 2)
    Traceback (most recent call last):
    ...
    ValueError: delimiter_features must be K = 2 linearly independent rows c^k; got rank 1
    """
    if delimiter_features is None:
        return np.eye(K)
    F = as_real_array(delimiter_features, "delimiter_features", ndim=2)
    if F.shape[0] != K:
        raise ValueError(f"delimiter_features must have K = {K} rows (one c^k per task), got "
                         f"shape {F.shape}")
    rank = np.linalg.matrix_rank(F)
    if rank < K:
        raise ValueError(f"delimiter_features must be K = {K} linearly independent rows c^k; "
                         f"got rank {rank}")
    return F


def delimiter_positions(sizes):
    """Token index of each delimiter in the prompt (0-based): block k ends, then its delimiter.

    Examples
    --------
    >>> delimiter_positions([2, 3])      # x x | x x x | query
    array([2, 6])
    """
    sizes = _as_sizes(sizes)
    return np.cumsum(sizes) + np.arange(sizes.size)


def multitask_prompt_tokens(prompts, sizes, delimiter_features=None):
    """The token matrix ``Z`` of Definition 2 (one token per row).

    Data token ``[x_i; y_i; 0]``, then after block ``k`` the delimiter ``[0; 0; c^k]``, and the
    query token ``[x; 0; 0]`` last: shape ``(b, n + K + 1, d + 1 + d_c)``.

    Parameters
    ----------
    prompts : Prompts
        Blocks in order, e.g. from :meth:`MultitaskModel.sample`.
    sizes : array_like of int, shape (K,)
    delimiter_features : array_like, shape (K, d_c), optional
        Linearly independent rows ``c^k``; default ``I_K``.

    Examples
    --------
    >>> from wpgd_theory import Prompts
    >>> X = np.array([[[1.0], [2.0], [3.0]]]); y = np.array([[10.0, 20.0, 30.0]])
    >>> Z = multitask_prompt_tokens(Prompts(X, y, np.array([[7.0]]), np.zeros(1)), [2, 1])
    >>> Z[0]
    array([[ 1., 10.,  0.,  0.],
           [ 2., 20.,  0.,  0.],
           [ 0.,  0.,  1.,  0.],
           [ 3., 30.,  0.,  0.],
           [ 0.,  0.,  0.,  1.],
           [ 7.,  0.,  0.,  0.]])
    """
    missing = [f for f in ("context_inputs", "context_labels", "query_input")
               if not hasattr(prompts, f)]
    if missing:
        raise TypeError(f"prompts must be a Prompts (context_inputs, context_labels, "
                        f"query_input, ...), got {type(prompts).__name__}")
    sizes = _as_sizes(sizes)
    F = as_delimiter_features(delimiter_features, sizes.size)
    X = as_real_array(prompts.context_inputs, "context_inputs", ndim=3)
    y = as_real_array(prompts.context_labels, "context_labels", ndim=2)
    x = as_real_array(prompts.query_input, "query_input", ndim=2)
    b, n, d = X.shape
    if n != sizes.sum() or y.shape != (b, n) or x.shape != (b, d):
        raise ValueError(f"prompts do not match sizes {sizes.tolist()} (n = {sizes.sum()}): "
                         f"context_inputs {X.shape}, context_labels {y.shape}, "
                         f"query_input {x.shape}")
    K, d_c = F.shape
    delimiters = delimiter_positions(sizes)
    data = np.setdiff1d(np.arange(n + K), delimiters)
    Z = np.zeros((b, n + K + 1, d + 1 + d_c))
    Z[:, data, :d] = X
    Z[:, data, d] = y
    Z[:, delimiters, d + 1:] = F
    Z[:, -1, :d] = x
    return Z
