"""The optimal WPGD solver (Theorems 2–3): all fixed points of φ, the best one, P* and ω*.

For each fixed point ``γ*`` of ``φ(γ) = 1 + h₁(h₂(γ))``::

    ω* = (h₂(γ*) R + I)⁻¹ r                  (canonical scaling, Theorem 2)
    P* = A (BΣ + CI)⁻¹ ∝ ((γ*/M) Σ + I)⁻¹     (best P for ω*; NOT the poster's Σ^{-1/2}(…)⁻¹Σ^{-1/2})

Everything after the two eigendecompositions is O(n + d) work in the eigenbases, except forming
the d×d matrix P* and the n-vector ω*. With ``precision=digits`` the same formulas run on
``mpmath`` numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import mpmath
import numpy as np

from ._repr import compact_repr
from .batched import has_batch_axes, solve_batched, solve_batched_models
from .model import CorrelatedTaskModel
from .multiprecision import refine_eigh
from .risk import (
    moments_from_coefficients,
    normalised_weights,
    preconditioner_eigenvalues,
    risk_from_moments,
    scaled_preconditioner,
    stationarity_residual,
)
from .spectral import (
    SpectralGapTest,
    as_grid_size,
    find_fixed_points,
    fixed_point_map,
    fixed_point_map_derivative,
    h2,
    relevant_R_eigenvalues,
    spectral_gap_condition,
)
from .uniqueness import Uniqueness, spectral_uniqueness
from .validation import as_integer, check_spectra

__all__ = ["solve_optimal_wpgd", "solve_model", "WPGDSolution", "FixedPoint", "stationary_point"]

#: Extra decimal digits carried through the mpmath route (eigendecompositions lose a few).
GUARD_DIGITS = 10
#: Most decimal digits ``precision`` accepts.
MAX_PRECISION = 10_000


class FixedPoint(NamedTuple):
    """One stationary point: ``γ*``, ``h₂(γ*)``, its risk and the slope ``φ'(γ*)``."""

    gamma: Any
    h2: Any
    risk: Any
    slope: float


@dataclass(frozen=True)
class WPGDSolution:
    """Result of :func:`solve_optimal_wpgd`, with named fields in the spirit of ``OptimizeResult``.

    Attributes
    ----------
    preconditioner : ndarray, shape (d, d)
        ``P*`` — the optimal preconditioner for ``weights``, ``∝ ((γ*/M)Σ + I)⁻¹``.
    weights : ndarray, shape (n,)
        ``ω* = (h₂(γ*)R + I)⁻¹ r`` (canonical scaling).
    gamma_star, h2_star, risk
        ``γ*``, ``h₂(γ*)`` and the optimal risk ``L*``.
    fixed_points : tuple of FixedPoint
        Every fixed point of ``φ`` found, ascending; ``gamma_star`` is the lowest-risk one.
    uniqueness : Uniqueness
        Why the optimum is unique or not (:func:`~.uniqueness.spectral_uniqueness`: the paper's
        condition, the proven relaxed one, or not established with the number of fixed points;
        a certificate via :func:`wpgd_theory.verify.certify.solve_certified`).
    uniqueness_guaranteed : bool
        ``uniqueness.established`` (property, kept for compatibility).
    spectral_gap : SpectralGapTest
        The numbers behind the paper's condition ``Δ_Σ Δ_R < M + s_min``.
    fixed_point_residual : float
        ``|φ(γ*) − γ*|``.
    stationarity_residual : float
        ``‖∂L/∂ω‖ / (2 |tr(P*Σ²)| ‖r‖)`` at ``(P*, ω*)`` (``∂L/∂P`` vanishes by construction).
    message : str
        What happened, including degenerate cases.
    """

    preconditioner: np.ndarray
    weights: np.ndarray
    gamma_star: Any
    h2_star: Any
    risk: Any
    fixed_points: tuple
    uniqueness: Uniqueness
    spectral_gap: SpectralGapTest
    fixed_point_residual: Any
    stationarity_residual: Any
    message: str
    model: CorrelatedTaskModel = field(repr=False)

    @property
    def uniqueness_guaranteed(self):
        """``uniqueness.established`` (paper condition, relaxed condition or certificate)."""
        return self.uniqueness.established

    __repr__ = compact_repr

    def __str__(self):
        return (f"WPGDSolution(risk={self.risk}, gamma_star={self.gamma_star}, "
                f"fixed_points={len(self.fixed_points)}, "
                f"uniqueness={self.uniqueness.reason!r})\n  {self.message}")


def solve_optimal_wpgd(Sigma, R, r, sigma2, *, precision=None, grid_size=129):
    """Optimal WPGD ``min_{P, ω} E[(y − xᵀPXᵀ(ω ⊙ y))²]`` under the correlated-task model.

    Parameters
    ----------
    Sigma : array_like, shape (d, d)
        Feature covariance (symmetric PSD, nonzero; may be singular).
    R : array_like, shape (n, n)
        Context-task correlation matrix (unit diagonal, PSD; may be singular).
    r : array_like, shape (n,)
        Correlations of the context tasks with the query task.
    sigma2 : float
        Label-noise variance ``≥ 0``.
    precision : int, optional
        Decimal digits. If given, the eigendecompositions, the fixed point (refined with
        ``mpmath.findroot``) and all outputs are computed in mpmath at that precision and
        returned as mpmath numbers (object arrays for ``preconditioner`` and ``weights``).
    grid_size : int, optional
        Grid used to bracket every fixed point before refining it (see
        :func:`~wpgd_theory.core.spectral.find_fixed_points`).

    Returns
    -------
    WPGDSolution
        Or, for stacks ``Sigma (..., d, d)``, ``R (..., n, n)``, ``r (..., n)``,
        ``sigma2 (...)`` (broadcast batch axes), a
        :class:`~wpgd_theory.core.batched.BatchedWPGDSolution` from
        :func:`~wpgd_theory.core.batched.solve_batched`.

    Examples
    --------
    >>> Sigma = np.diag([1.0, 2.0])
    >>> R = [[1.0, 0.5], [0.5, 1.0]]
    >>> solution = solve_optimal_wpgd(Sigma, R, [0.9, 0.3], 0.1)
    >>> round(solution.risk, 12), round(solution.gamma_star, 12)
    (2.458882582306, 2.203765586773)
    >>> solution.weights
    array([0.64896268, 0.13823632])
    >>> solution.uniqueness_guaranteed, len(solution.fixed_points)
    (True, 1)
    >>> solution.stationarity_residual < 1e-14
    True

    The same in 40-digit arithmetic:

    >>> import mpmath
    >>> exact = solve_optimal_wpgd(Sigma, R, [0.9, 0.3], 0.1, precision=40)
    >>> mpmath.nstr(exact.risk, 30)
    '2.45888258230648547681145183735'
    >>> exact.stationarity_residual < mpmath.mpf(10) ** -38
    True
    """
    if has_batch_axes(Sigma, R, r, sigma2):  # stacks (..., d, d) etc.: vectorised solver
        if precision is not None:
            raise ValueError("precision is not supported for batched inputs (Sigma.ndim > 2, "
                             "R.ndim > 2, r.ndim > 1 or sigma2.ndim > 0)")
        return solve_batched(Sigma, R, r, sigma2, grid_size=grid_size)
    return solve_model(CorrelatedTaskModel(Sigma, R, r, sigma2), precision=precision,
                       grid_size=grid_size)


def solve_model(model, *, precision=None, grid_size=129):
    """:func:`solve_optimal_wpgd` for an already validated :class:`CorrelatedTaskModel`.

    A list or tuple of models of one ``(d, n)`` is solved by the batched solver (batch shape
    ``(len(model),)``, a :class:`~wpgd_theory.core.batched.BatchedWPGDSolution`).
    """
    if isinstance(model, (list, tuple)) and precision is None:
        return solve_batched_models(model, grid_size=grid_size)
    if not isinstance(model, CorrelatedTaskModel):
        raise TypeError(f"model must be a CorrelatedTaskModel, got {type(model).__name__}")
    if precision is not None:
        precision = as_integer(precision, "precision", minimum=15, maximum=MAX_PRECISION)
    grid_size = as_grid_size(grid_size)
    gap = spectral_gap_condition(model)
    if relevant_R_eigenvalues(model).size == 0:
        return _solve_uninformative(model, gap, precision)
    search = find_fixed_points(model, grid_size=grid_size)
    if precision is None:
        return _assemble(model, model, search.fixed_points, search.slopes, gap, float)
    with mpmath.workdps(precision + GUARD_DIGITS):
        spectra = _mp_spectra(model)
        roots = [_mp_refine(spectra, g) for g in search.fixed_points]
        slopes = [float(fixed_point_map_derivative(g, spectra)) for g in roots]
        return _assemble(model, spectra, roots, slopes, gap, mpmath.mpf)


def stationary_point(gamma, spectra):
    """The stationary point of Theorem 2 belonging to the fixed point ``γ``, in R's eigenbasis.

    Returns ``(h_bar, coefficients, moments, risk)``: ``h̄ = h₂(γ)``, the coordinates
    ``ω̃ = Eᵀω = a / (1 + λh̄)`` of ``ω = (h̄R + I)⁻¹r``, the moments ``(A, B, C)`` of
    ``ω̃ / max|ω̃|`` (the risk and the direction of ``P(ω)`` do not depend on the scale of ``ω``,
    and unit weights cannot under- or overflow) and the risk.
    ``spectra`` is any object with ``sigma_eigenvalues, M, R_eigenvalues, r_coefficients``.
    """
    check_spectra(spectra)
    h_bar = h2(gamma, spectra.sigma_eigenvalues, spectra.M)
    coefficients = spectra.r_coefficients / (1 + spectra.R_eigenvalues * h_bar)
    moments = moments_from_coefficients(normalised_weights(coefficients)[0], spectra)
    return h_bar, coefficients, moments, risk_from_moments(*moments, spectra)


def _assemble(model, spectra, roots, slopes, gap, scalar):
    candidates = []
    for gamma, slope in zip(roots, slopes):
        h_bar, coefficients, moments, risk_value = stationary_point(gamma, spectra)
        candidates.append((scalar(risk_value), scalar(gamma), scalar(h_bar), coefficients,
                           moments, slope))
    best = min(candidates, key=lambda c: c[0])
    risk_star, gamma, h_bar, coefficients, moments, _ = best
    unit, scale = normalised_weights(coefficients)
    with np.errstate(over="ignore"):    # an overflow is refused by scaled_preconditioner
        p = preconditioner_eigenvalues(*moments, spectra)   # of P(ω/scale) = scale · P(ω)
    return WPGDSolution(
        preconditioner=scaled_preconditioner(p, spectra.sigma_eigenvectors, scale),
        weights=spectra.R_eigenvectors @ coefficients,
        gamma_star=gamma, h2_star=h_bar, risk=risk_star,
        fixed_points=tuple(FixedPoint(c[1], c[2], c[0], float(c[5])) for c in candidates),
        uniqueness=spectral_uniqueness(model, fixed_points=len(candidates), gap=gap),
        spectral_gap=gap, fixed_point_residual=scalar(abs(fixed_point_map(gamma, spectra) - gamma)),
        stationarity_residual=scalar(stationarity_residual(spectra, unit, p)),
        message=(f"{len(candidates)} fixed point(s) on [1 + λ_min, 1 + λ_max]; "
                 "returned the one of lowest risk"),
        model=model,
    )


def _solve_uninformative(model, gap, precision):
    zero = mpmath.mpf(0) if precision else 0.0
    M, nan = model.M, float("nan")
    if precision:
        with mpmath.workdps(precision + GUARD_DIGITS):
            M, nan = mpmath.fsum([model.sigma2, *map(mpmath.mpf, model.Sigma.diagonal())]), mpmath.nan
    return WPGDSolution(
        preconditioner=np.full((model.d, model.d), zero), weights=np.full(model.n, zero),
        gamma_star=nan, h2_star=nan, risk=M, fixed_points=(),
        uniqueness=spectral_uniqueness(model, fixed_points=0, gap=gap),
        spectral_gap=gap, fixed_point_residual=zero, stationarity_residual=zero,
        message=("r = 0: no context task is correlated with the query task, so every WPGD "
                 "predictor is useless; optimal risk is M (predict 0), weights 0"),
        model=model,
    )


class _Spectra(NamedTuple):
    sigma_eigenvalues: np.ndarray
    sigma_eigenvectors: Any
    M: Any
    R_eigenvalues: np.ndarray
    R_eigenvectors: Any
    r_coefficients: np.ndarray


def _mp_eigh(matrix):
    # The float64 eigendecomposition refined in multiprecision (Ogita–Aishima), with the
    # round-off negatives of PSD matrices clipped as in the float route.
    values, vectors = refine_eigh(matrix)
    return np.array([max(v, mpmath.mpf(0)) for v in values], dtype=object), vectors


def _mp_spectra(model):
    s, U = _mp_eigh(model.Sigma)
    lam, E = _mp_eigh(model.R)
    r = np.array([mpmath.mpf(v) for v in model.r], dtype=object)
    return _Spectra(s, U, mpmath.mpf(model.sigma2) + mpmath.fsum(s), lam, E, E.T @ r)


def _mp_refine(spectra, gamma_float):
    F = lambda g: fixed_point_map(g, spectra) - g  # noqa: E731
    width = mpmath.mpf(gamma_float) * mpmath.mpf(10) ** -8
    lo, hi = mpmath.mpf(gamma_float) - width, mpmath.mpf(gamma_float) + width
    if F(lo) * F(hi) < 0:
        return mpmath.findroot(F, (lo, hi), solver="anderson")
    return mpmath.findroot(F, mpmath.mpf(gamma_float))  # tangential root: secant
