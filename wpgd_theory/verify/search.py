"""Counterexample search: instances where ``φ(γ) = 1 + h₁(h₂(γ))`` has several fixed points.

The search works directly in spectral coordinates. A correlation matrix ``R`` (unit diagonal)
can have any non-negative eigenvalues summing to ``n``, and ``r = E a`` is admissible iff
``Σ a_i² / λ_i ≤ 1`` (``[[R, r], [rᵀ, 1]] ⪰ 0``), so an instance is just
``(s, σ², λ, a)`` — a :class:`SpectralInstance`. :meth:`SpectralInstance.to_model` builds a dense
:class:`~wpgd_theory.core.model.CorrelatedTaskModel` with exactly that spectrum (``R`` from
:func:`scipy.stats.random_correlation`, the Davies–Higham algorithm).

Facts used (proved in ``docs/findings_search.md``):

* ``φ' = h₁'(h₂) h₂' ≥ 0`` and ``sup φ' ≤ (Δ_Σ Δ_R)² / (4 (M + s⁺_min)²)`` — see
  :func:`contraction_bound`. So Theorem 3's ``Δ_Σ Δ_R < M + s_min`` gives a contraction with
  constant ``< 1/4``, and ``Δ_Σ Δ_R < 2 (M + s⁺_min)`` already suffices.
* ``φ`` maps the bracket into itself with ``F = φ − γ`` positive at its left end and negative at
  its right end; so a fixed point with slope ``φ'(γ*) > 1`` lies between two others. The
  adversarial search therefore maximises the largest slope at a fixed point.

Stationary points are classified with the Hessian of the scale-invariant risk of the weights
``L(ω) = M − A² Σ s_i² / (B s_i + C)`` restricted to the sphere (:func:`stationary_points`), and
:func:`optimisation_outcomes` records where BFGS on ``L(ω)`` from random starts ends.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import differential_evolution, minimize

from ..core._repr import compact_repr
from ..core.batched import solve_spectra_batched
from ..core.model import CorrelatedTaskModel, effective_spectral_gap
from ..core.parallel import as_executor, map_chunks
from ..core.risk import (
    moments_from_coefficients,
    preconditioner_eigenvalues,
    risk_from_moments,
    weights_gradient_from_coefficients,
)
from ..core.spectral import MAX_GRID_SIZE, find_fixed_points, h2, spectral_gap_condition
from ..core.validation import (
    as_bool,
    as_integer,
    as_nonnegative_scalar,
    as_real,
    as_real_array,
    as_seed,
    check_spectra,
)

__all__ = [
    "SpectralInstance", "two_cluster_instance", "contraction_bound",
    "weights_risk", "weights_risk_gradient",
    "StationaryPoint", "stationary_points",
    "OptimisationOutcomes", "optimisation_outcomes",
    "SearchResult", "adversarial_search", "random_instance", "random_search",
]

MAX_SPECTRUM_SIZE = 10**7
"""Largest ``n`` or ``d`` a generated instance may have (arrays of that length are formed)."""
MAX_SEARCH_TRIALS = 10**6
"""Largest number of trials, starts, iterations or population size of a search."""


# --------------------------------------------------------------------------- instances

@dataclass(frozen=True)
class SpectralInstance:
    """A correlated-task model given by its spectra (the only data ``φ`` and ``L`` depend on).

    Parameters
    ----------
    sigma_eigenvalues : array_like, shape (d,)
        Eigenvalues ``s_i ≥ 0`` of ``Σ`` (not all zero).
    sigma2 : float
        Noise variance ``σ² ≥ 0``.
    R_eigenvalues : array_like, shape (n,)
        Eigenvalues ``λ_i ≥ 0`` of the correlation matrix ``R``; they must sum to ``n``.
    r_coefficients : array_like, shape (n,)
        ``a = Eᵀ r`` with ``Σ a_i²/λ_i ≤ 1`` (and ``a_i = 0`` where ``λ_i = 0``).

    Examples
    --------
    >>> inst = SpectralInstance([1.0, 2.0], 0.1, [0.5, 1.5], [0.5, 0.7])
    >>> inst.M, inst.d, inst.n
    (3.1, 2, 2)
    >>> SpectralInstance([1.0], 0.0, [0.5, 1.0], [0.6, 0.0])
    Traceback (most recent call last):
    ...
    ValueError: R_eigenvalues must sum to n = 2 (trace of a correlation matrix), got 1.5
    """

    sigma_eigenvalues: np.ndarray
    sigma2: float
    R_eigenvalues: np.ndarray
    r_coefficients: np.ndarray

    __repr__ = compact_repr

    def __post_init__(self):
        for _name in ("sigma_eigenvalues", "R_eigenvalues", "r_coefficients"):
            object.__setattr__(self, _name, as_real_array(getattr(self, _name), _name, ndim=1))
        object.__setattr__(self, "sigma2", as_nonnegative_scalar(self.sigma2, "sigma2"))
        s = np.asarray(self.sigma_eigenvalues, dtype=float).ravel()
        lam = np.asarray(self.R_eigenvalues, dtype=float).ravel()
        a = np.asarray(self.r_coefficients, dtype=float).ravel()
        sigma2 = float(self.sigma2)
        if not (np.all(np.isfinite(s)) and np.all(s >= 0) and np.any(s > 0)):
            raise ValueError("sigma_eigenvalues must be finite, >= 0 and not all zero")
        if not (np.isfinite(sigma2) and sigma2 >= 0):
            raise ValueError(f"sigma2 must be finite and >= 0, got {sigma2}")
        if lam.shape != a.shape or not (np.all(np.isfinite(lam)) and np.all(lam >= 0)):
            raise ValueError("R_eigenvalues must be finite, >= 0 and match r_coefficients")
        if abs(lam.sum() - lam.size) > 1e-9 * lam.size:
            raise ValueError(f"R_eigenvalues must sum to n = {lam.size} (trace of a correlation "
                             f"matrix), got {lam.sum():.6g}")
        if np.any((lam == 0) & (a != 0)) or np.sum(a[lam > 0] ** 2 / lam[lam > 0]) > 1:
            raise ValueError("r_coefficients must satisfy sum a_i^2 / lambda_i <= 1")
        if not np.any(a != 0):
            raise ValueError("r_coefficients are all zero: no fixed point")
        order = np.argsort(lam, kind="stable")
        object.__setattr__(self, "sigma_eigenvalues", np.sort(s))
        object.__setattr__(self, "sigma2", sigma2)
        object.__setattr__(self, "R_eigenvalues", lam[order])
        object.__setattr__(self, "r_coefficients", a[order])

    @property
    def M(self):
        """``M = σ² + Σ s_i``."""
        return self.sigma2 + float(np.sum(self.sigma_eigenvalues))

    @property
    def d(self):
        return self.sigma_eigenvalues.size

    @property
    def n(self):
        return self.R_eigenvalues.size

    @property
    def spectral_gap_sigma(self):
        return effective_spectral_gap(self.sigma_eigenvalues)

    @property
    def spectral_gap_R(self):
        return effective_spectral_gap(self.R_eigenvalues)

    @property
    def gap_condition_holds(self):
        """Theorem 3's hypothesis ``Δ_Σ Δ_R < M + s_min`` (:func:`spectral_gap_condition`)."""
        return spectral_gap_condition(self).holds

    def to_model(self, seed=0):
        """A dense :class:`CorrelatedTaskModel` with these spectra.

        ``Σ = diag(s)``; ``R`` is a random correlation matrix with eigenvalues ``λ``
        (:func:`scipy.stats.random_correlation`, seeded); ``r = E a``, where the ``a``-mass of a
        repeated eigenvalue is put on one eigenvector (``h₁`` and ``L`` only see ``Σ a²`` per
        eigenvalue).

        Examples
        --------
        >>> inst = SpectralInstance([1.0, 2.0], 0.1, [0.5, 1.5], [0.5, 0.7])
        >>> model = inst.to_model(seed=1)
        >>> np.allclose(np.diag(model.R), 1), np.allclose(model.R_eigenvalues, [0.5, 1.5])
        (True, True)
        """
        from scipy.stats import random_correlation  # 0.6 s to import: only when needed

        R = random_correlation.rvs(self.R_eigenvalues, random_state=seed, tol=1e-10)
        R = (R + R.T) / 2
        np.fill_diagonal(R, 1.0)
        lam, E = np.linalg.eigh(R)
        coefficients = np.zeros(self.n)
        for value in np.unique(self.R_eigenvalues):
            group = self.R_eigenvalues == value
            mass = np.sqrt(np.sum(self.r_coefficients[group] ** 2))
            coefficients[np.flatnonzero(group)[0]] = mass
        r = E @ coefficients
        return CorrelatedTaskModel(np.diag(self.sigma_eigenvalues), R, r, self.sigma2)


def two_cluster_instance(n, d, *, s_large, s_small, k_large, sigma2, lam_small, lam_large,
                         mass_large, fill=0.999):
    """Two-level spectra: the shape the adversarial search converges to.

    ``Σ`` has ``k_large`` eigenvalues ``s_large`` and ``d − k_large`` eigenvalues ``s_small``.
    ``r`` lives on two eigenvalues of ``R``, ``lam_small`` and ``lam_large``; the other ``n − 2``
    eigenvalues share the remaining trace equally and carry no part of ``r``.
    ``a² = fill · (1 − mass_large, mass_large) · (lam_small, lam_large)`` so that
    ``Σ a²/λ = fill ≤ 1``.

    Examples
    --------
    >>> inst = two_cluster_instance(10, 3, s_large=2.0, s_small=0.5, k_large=1, sigma2=0.1,
    ...                             lam_small=0.5, lam_large=5.0, mass_large=0.5)
    >>> inst.R_eigenvalues.round(4), inst.sigma_eigenvalues
    (array([0.5   , 0.5625, 0.5625, 0.5625, 0.5625, 0.5625, 0.5625, 0.5625, 0.5625, 5.    ]), array([0.5, 0.5, 2. ]))
    """
    n = as_integer(n, "n", minimum=2, maximum=MAX_SPECTRUM_SIZE)
    d = as_integer(d, "d", minimum=1, maximum=MAX_SPECTRUM_SIZE)
    k_large = as_integer(k_large, "k_large")
    for _name, _value in (("s_large", s_large), ("s_small", s_small), ("sigma2", sigma2),
                          ("lam_small", lam_small), ("lam_large", lam_large)):
        as_real(_value, _name, minimum=0.0)
    mass_large = as_real(mass_large, "mass_large", minimum=0.0, maximum=1.0)
    fill = as_real(fill, "fill", minimum=0.0, maximum=1.0)
    if lam_small + lam_large > n:
        raise ValueError(f"lam_small + lam_large = {lam_small + lam_large} exceeds n = {n}")
    if not 1 <= k_large <= d:
        raise ValueError(f"k_large must be in [1, d], got {k_large}")
    rest = (n - lam_small - lam_large) / (n - 2) if n > 2 else 0.0
    lam = np.array([lam_small, lam_large] + [rest] * (n - 2))
    a = np.zeros(n)
    a[0] = np.sqrt(fill * (1 - mass_large) * lam_small)
    a[1] = np.sqrt(fill * mass_large * lam_large)
    s = np.array([s_large] * k_large + [s_small] * (d - k_large))
    return SpectralInstance(s, sigma2, lam, a)


def contraction_bound(spectra):
    """Proven bound ``sup_{γ>0} φ'(γ) ≤ (Δ_Σ Δ_R)² / (4 (M + s⁺_min)²)`` (effective gaps).

    Proof sketch: ``h₁' = −2 Cov_w(λ, λ/(1 + λh̄))`` and ``h₂' = M m'/(m + M)²`` with
    ``m = S₃/S₂`` and ``m' = −2 Cov_v(s, s/(M + sγ))``; ``Cov(X, g(X)) ≤ Lip(g) Var X`` and
    Popoviciu's ``Var X ≤ (range X)²/4`` give ``|h₁'| ≤ Δ_R²/2`` and
    ``|h₂'| ≤ Δ_Σ² / (2 (m + M)²) ≤ Δ_Σ² / (2 (M + s⁺_min)²)``.

    Examples
    --------
    >>> inst = SpectralInstance([1.0, 2.0], 0.1, [0.5, 1.5], [0.5, 0.7])
    >>> round(contraction_bound(inst), 6)    # (1·1)² / (4 (3.1 + 1)²)
    0.014872
    """
    check_spectra(spectra)
    s = np.asarray(spectra.sigma_eigenvalues, dtype=float)
    s_min_positive = float(np.min(s[s > 0]))
    product = (effective_spectral_gap(s)
               * effective_spectral_gap(np.asarray(spectra.R_eigenvalues, dtype=float)))
    return product**2 / (4 * (spectra.M + s_min_positive) ** 2)


# --------------------------------------------------------------------------- the risk L(ω)

def _check_coefficients(spectra, coefficients):
    """``spectra`` is spectral data and ``coefficients`` a finite vector of its length ``n``."""
    check_spectra(spectra)
    w = as_real_array(coefficients, "coefficients", ndim=1)
    n = np.shape(spectra.R_eigenvalues)[0]
    if w.size != n:
        raise ValueError(f"coefficients must have length n = {n} (R_eigenvalues), got {w.size}")
    return w


def weights_risk(spectra, coefficients):
    """``L(ω)`` at ``ω = E ω̃`` from the coordinates ``ω̃`` in the eigenbasis of ``R``."""
    coefficients = _check_coefficients(spectra, coefficients)
    return float(risk_from_moments(*moments_from_coefficients(coefficients, spectra), spectra))


def weights_risk_gradient(spectra, coefficients):
    """Gradient of :func:`weights_risk` in the eigen-coordinates ``ω̃``: ``∂L/∂ω`` at ``P(ω)``
    (envelope theorem), from :func:`~wpgd_theory.core.risk.weights_gradient_from_coefficients`."""
    coefficients = _check_coefficients(spectra, coefficients)
    w = np.asarray(coefficients, dtype=float)
    p = preconditioner_eigenvalues(*moments_from_coefficients(w, spectra), spectra)
    return weights_gradient_from_coefficients(w, p, spectra)


# --------------------------------------------------------------------------- stationary points

class StationaryPoint(NamedTuple):
    """A fixed point ``γ*`` and the stationary weights ``ω* ∝ (h₂(γ*)R + I)⁻¹ r`` it defines.

    ``kind`` is ``"global minimum"``, ``"local minimum"`` or ``"saddle"`` (from the Hessian of
    ``L`` on the sphere, ``tangent_hessian`` = its eigenvalues at ``ω*/‖ω*‖``, ascending);
    ``curve_curvature`` is ``d²L/dh²`` along the family ``ω(h) = (hR + I)⁻¹ r`` at ``h₂(γ*)``.
    """

    __repr__ = compact_repr

    gamma: float
    h2: float
    risk: float
    slope: float
    coefficients: np.ndarray
    tangent_hessian: np.ndarray
    curve_curvature: float
    kind: str


def _numerical_hessian(spectra, w, step):
    n = w.size
    H = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = step
        H[:, j] = (weights_risk_gradient(spectra, w + e)
                   - weights_risk_gradient(spectra, w - e)) / (2 * step)
    return (H + H.T) / 2


def _curve_risk(spectra, h_bar):
    a, lam = np.asarray(spectra.r_coefficients), np.asarray(spectra.R_eigenvalues)
    return weights_risk(spectra, a / (1 + lam * h_bar))


def stationary_points(spectra, *, grid_size=2049):
    """Every fixed point of ``φ`` with its weights, risk, slope and Hessian classification.

    The Hessian is central differences (step ``1e-5``) of the analytic gradient at the unit
    vector ``ω*/‖ω*‖``; ``L`` is 0-homogeneous, so the radial direction is projected out. A
    tangent eigenvalue below ``−1e-7 · max|eigenvalue|`` makes a saddle.

    Examples
    --------
    >>> inst = SpectralInstance([1.0, 2.0], 0.1, [0.5, 1.5], [0.5, 0.7])
    >>> [(round(p.gamma, 6), p.kind) for p in stationary_points(inst)]
    [(2.037688, 'global minimum')]
    """
    check_spectra(spectra)
    grid_size = as_integer(grid_size, "grid_size", minimum=2, maximum=MAX_GRID_SIZE)
    search = find_fixed_points(spectra, grid_size=grid_size)
    s = np.asarray(spectra.sigma_eigenvalues, dtype=float)
    lam, a = np.asarray(spectra.R_eigenvalues), np.asarray(spectra.r_coefficients)
    points = []
    for gamma, slope in zip(search.fixed_points, search.slopes):
        h_bar = float(h2(gamma, s, spectra.M))
        w = a / (1 + lam * h_bar)
        w = w / np.linalg.norm(w)
        H = _numerical_hessian(spectra, w, 1e-5)
        basis = null_space(w[None, :])
        tangent = np.linalg.eigvalsh(basis.T @ H @ basis)
        delta = 1e-4 * h_bar
        curvature = (_curve_risk(spectra, h_bar + delta) - 2 * _curve_risk(spectra, h_bar)
                     + _curve_risk(spectra, h_bar - delta)) / delta**2
        points.append([float(gamma), h_bar, weights_risk(spectra, w), float(slope), w, tangent,
                       float(curvature)])
    best = min(range(len(points)), key=lambda k: points[k][2])
    result = []
    for k, p in enumerate(points):
        tangent = p[5]
        if tangent[0] < -1e-7 * np.max(np.abs(tangent)):
            kind = "saddle"
        else:
            kind = "global minimum" if k == best else "local minimum"
        result.append(StationaryPoint(*p, kind))
    return result


class OptimisationOutcomes(NamedTuple):
    """Where BFGS on ``L(ω)`` from random starts ended.

    ``counts[k]`` is the number of runs ending at ``stationary[k]``; ``unmatched`` counts runs
    ending elsewhere (e.g. on the ``ωᵀr = 0`` set of risk ``M``); ``end_gammas``/``end_risks``
    are per run.
    """

    __repr__ = compact_repr

    stationary: list
    counts: np.ndarray
    unmatched: int
    end_gammas: np.ndarray
    end_risks: np.ndarray


def optimisation_outcomes(spectra, *, starts=20, seed=0, stationary=None, method="L-BFGS-B",
                          gtol=1e-10, rtol=1e-5, restarts=5):
    """Minimise ``L(ω)`` from ``starts`` random ``ω ~ N(0, I_n)`` and match the end points.

    ``ω`` is optimised in the eigen-coordinates of ``R`` (``N(0, I)`` is rotation invariant and
    quasi-Newton methods started from the identity are invariant under orthogonal changes of
    variables, so this is the same experiment as in the original coordinates). ``L`` is
    0-homogeneous, so its gradient shrinks like ``1/‖ω‖``: plain BFGS drifts to ``‖ω‖ ~ 10⁸`` and
    stops on ``gtol`` short of stationarity. Each run is therefore restarted from ``ω/‖ω‖`` (up
    to ``restarts`` times) until the scale-free gradient ``‖∇L(ω)‖ ‖ω‖ ≤ gtol``. An end point
    is matched to the stationary point whose ``γ*`` is within ``rtol`` (relative) of
    ``γ = 1 + ωᵀRω/ωᵀω``.

    Examples
    --------
    >>> inst = SpectralInstance([1.0, 2.0], 0.1, [0.5, 1.5], [0.5, 0.7])
    >>> optimisation_outcomes(inst, starts=4).counts
    array([4])
    """
    check_spectra(spectra)
    starts = as_integer(starts, "starts", minimum=1, maximum=MAX_SEARCH_TRIALS)
    seed = as_seed(seed)
    restarts = as_integer(restarts, "restarts", minimum=0, maximum=MAX_SEARCH_TRIALS)
    gtol = as_real(gtol, "gtol", minimum=0.0, strict_minimum=True)
    rtol = as_real(rtol, "rtol", minimum=0.0, strict_minimum=True)
    stationary = stationary_points(spectra) if stationary is None else stationary
    lam = np.asarray(spectra.R_eigenvalues)
    rng = np.random.default_rng(seed)
    gammas = np.array([p.gamma for p in stationary])
    counts, unmatched, end_gammas, end_risks = np.zeros(len(stationary), int), 0, [], []

    def objective(w):
        return weights_risk(spectra, w), weights_risk_gradient(spectra, w)

    for _ in range(starts):
        w = rng.standard_normal(lam.size)
        for _ in range(restarts + 1):
            end = minimize(objective, w / np.linalg.norm(w), jac=True, method=method,
                           options={"gtol": gtol, "maxiter": 20_000})
            w = end.x
            if np.linalg.norm(end.jac) * np.linalg.norm(w) <= gtol:
                break
        gamma = 1 + float(np.sum(lam * w * w) / np.sum(w * w))
        end_gammas.append(gamma)
        end_risks.append(float(end.fun))
        k = int(np.argmin(np.abs(gammas - gamma)))
        if abs(gammas[k] - gamma) <= rtol * gammas[k]:
            counts[k] += 1
        else:
            unmatched += 1
    return OptimisationOutcomes(stationary, counts, unmatched, np.array(end_gammas),
                                np.array(end_risks))


# --------------------------------------------------------------------------- searches

class SearchResult(NamedTuple):
    """Outcome of :func:`adversarial_search` (``optimize`` is SciPy's ``OptimizeResult``)."""

    __repr__ = compact_repr

    instance: SpectralInstance
    max_slope: float
    fixed_points: np.ndarray
    slopes: np.ndarray
    parameters: dict
    optimize: object


_PARAMETER_BOUNDS = {  # log-scale unless stated
    "log_s_large": (-3.0, 3.0), "log_s_small": (-8.0, 0.0), "k_fraction": (0.0, 1.0),
    "log_sigma2": (-8.0, 3.0), "lam_small_fraction": (1e-3, 1.0),
    "lam_large_fraction": (0.3, 0.999), "mass_large": (1e-4, 1 - 1e-4),
}


def _instance_from_parameters(n, d, x):
    p = dict(zip(_PARAMETER_BOUNDS, x))
    lam_large = n * p["lam_large_fraction"]
    return p, two_cluster_instance(
        n, d, s_large=float(np.exp(p["log_s_large"])), s_small=float(np.exp(p["log_s_small"])),
        k_large=int(np.clip(round(1 + p["k_fraction"] * (d - 2)), 1, max(d - 1, 1))),
        sigma2=float(np.exp(p["log_sigma2"])),
        lam_small=(n - lam_large) * p["lam_small_fraction"], lam_large=lam_large,
        mass_large=p["mass_large"])


def _largest_fixed_point_slope(instance, grid_size=257):
    return float(np.max(find_fixed_points(instance, grid_size=grid_size).slopes))


class _NegativeLargestSlope:
    """Picklable objective of :func:`adversarial_search` (for process and Dask executors)."""

    def __init__(self, n, d):
        self.n, self.d = n, d

    def __call__(self, x):
        return -_largest_fixed_point_slope(_instance_from_parameters(self.n, self.d, x)[1])


class _ExecutorMap:
    """``map``-like callable for ``differential_evolution(workers=...)`` on an executor."""

    def __init__(self, executor):
        self.executor = executor

    def __call__(self, fn, iterable):
        return list(self.executor.map(fn, list(iterable)))


def adversarial_search(n, d, *, seed=0, maxiter=60, popsize=15, executor=None):
    """Maximise the largest slope ``φ'(γ*)`` at a fixed point over two-cluster instances.

    :func:`scipy.optimize.differential_evolution` over the parameters of
    :func:`two_cluster_instance` (log-scales of ``s``, ``σ²``; fractions of the trace for the two
    eigenvalues of ``R`` carrying ``r``; the split of ``r`` between them). A slope ``> 1`` proves
    (with ``F`` changing sign) that there are at least three fixed points.

    The population is evaluated generation by generation (``updating="deferred"``), through
    ``executor`` (None: in-process; a ``concurrent.futures.Executor`` or a Dask ``Client``,
    see :mod:`wpgd_theory.core.parallel`): the result does not depend on the executor.

    Examples
    --------
    >>> result = adversarial_search(8, 3, maxiter=5, popsize=5)
    >>> result.max_slope < 1        # n = 8 is far too small for several fixed points
    True
    """
    n = as_integer(n, "n", minimum=3, maximum=MAX_SPECTRUM_SIZE)
    d = as_integer(d, "d", minimum=2, maximum=MAX_SPECTRUM_SIZE)
    seed = as_seed(seed)
    maxiter = as_integer(maxiter, "maxiter", minimum=1, maximum=MAX_SEARCH_TRIALS)
    popsize = as_integer(popsize, "popsize", minimum=1, maximum=MAX_SEARCH_TRIALS)
    pool = as_executor(executor)
    optimize = differential_evolution(_NegativeLargestSlope(n, d),
                                      list(_PARAMETER_BOUNDS.values()),
                                      seed=seed, maxiter=maxiter, popsize=popsize, tol=1e-10,
                                      polish=False, updating="deferred",
                                      workers=map if pool is None else _ExecutorMap(pool))
    parameters, instance = _instance_from_parameters(n, d, optimize.x)
    search = find_fixed_points(instance, grid_size=2049)
    return SearchResult(instance, float(np.max(search.slopes)), search.fixed_points,
                        search.slopes, parameters, optimize)


def random_instance(rng, n, d):
    """A random instance: log-uniform ``Σ`` spectrum over 6 decades, Dirichlet ``R`` spectrum
    (concentration log-uniform in ``[10⁻², 10]``) and ``a`` uniform on the admissible ellipsoid
    ``Σ a²/λ ≤ 1``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n = as_integer(n, "n", minimum=1, maximum=MAX_SPECTRUM_SIZE)
    d = as_integer(d, "d", minimum=1, maximum=MAX_SPECTRUM_SIZE)
    s = np.exp(rng.uniform(np.log(1e-4), np.log(1e2), size=d))
    lam = n * rng.dirichlet(np.full(n, np.exp(rng.uniform(np.log(1e-2), np.log(10)))))
    lam = lam * (n / lam.sum())
    direction = rng.standard_normal(n)
    direction /= np.linalg.norm(direction)
    a = direction * np.sqrt(lam) * rng.uniform() ** (1 / n) * 0.999
    return SpectralInstance(s, float(np.exp(rng.uniform(np.log(1e-4), np.log(10)))), lam, a)


def _random_search_block(n, d, block):
    rng = np.random.default_rng(block.seed)
    instances = [random_instance(rng, n, d) for _ in range(block.stop - block.start)]
    found = solve_spectra_batched(
        np.stack([x.sigma_eigenvalues for x in instances]), [x.sigma2 for x in instances],
        np.stack([x.R_eigenvalues for x in instances]),
        np.stack([x.r_coefficients for x in instances]), grid_size=257)
    several = [x for x, count in zip(instances, found.count) if count > 1]
    return several, float(np.nanmax(found.slopes))


def random_search(n, d, *, trials=200, seed=0, executor=None, block_size=50, progress=False):
    """Draw ``trials`` :func:`random_instance` s; return ``(hits, largest_slope, instances)``
    where ``hits`` counts instances with several fixed points (the instances are returned).

    Instances are drawn in seed blocks of ``block_size`` (block ``b`` from the ``b``-th child of
    ``SeedSequence(seed)``) and solved with the batched solver; ``executor`` (None, a
    ``concurrent.futures.Executor`` or a Dask ``Client``) runs the blocks and does not change
    the result (:func:`~wpgd_theory.core.parallel.map_chunks`).

    Examples
    --------
    >>> hits, largest, found = random_search(10, 3, trials=20)
    >>> hits, largest < 1
    (0, True)
    """
    n = as_integer(n, "n", minimum=1, maximum=MAX_SPECTRUM_SIZE)
    d = as_integer(d, "d", minimum=1, maximum=MAX_SPECTRUM_SIZE)
    trials = as_integer(trials, "trials", minimum=1, maximum=MAX_SEARCH_TRIALS)
    seed = as_seed(seed)
    seed = np.random.SeedSequence() if seed is None else seed   # None: fresh entropy
    block_size = as_integer(block_size, "block_size", minimum=1, maximum=MAX_SEARCH_TRIALS)
    progress = as_bool(progress, "progress")
    blocks = map_chunks(partial(_random_search_block, n, d), trials, seed=seed,
                        block_size=block_size, executor=executor, progress=progress,
                        description="random_search")
    found = [instance for several, _ in blocks for instance in several]
    largest = max((slope for _, slope in blocks), default=0.0)
    return len(found), largest, found
