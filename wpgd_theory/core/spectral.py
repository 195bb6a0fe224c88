"""Spectral maps h₁, h₂, the fixed-point map of Theorem 2 and the spectral-gap test of Theorem 3.

With ``Σ = Σ_i s_i u_i u_iᵀ``, ``R = E diag(λ) Eᵀ``, ``a = Eᵀ r`` and ``M = σ² + tr Σ``
(docs/theory.md §3)::

    h₁(h̄) = Σ_i λ_i a_i² / (1 + λ_i h̄)²  ÷  Σ_i a_i² / (1 + λ_i h̄)²
    h₂(γ) = [1 + M · Σ_i s_i² / (M + s_i γ)²  ÷  Σ_i s_i³ / (M + s_i γ)²]⁻¹
    φ(γ)  = 1 + h₁(h₂(γ))                       (stationary points: γ* = φ(γ*))

The formulas use only arithmetic and sums, so they evaluate unchanged on float arrays and on
object arrays of ``mpmath.mpf`` (the high-precision route of the solver). They are scale-free:
``h₂`` depends on ``s/M`` only and ``h₁`` on the direction of ``a`` only, and are evaluated so
(``s/M``, and ``a/max|a|`` for floats), so no input scale over- or underflows. Functions taking a
``spectra`` argument accept any object with attributes ``sigma_eigenvalues``, ``M``,
``R_eigenvalues`` and ``r_coefficients`` — a :class:`~wpgd_theory.core.model.CorrelatedTaskModel`.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import mpmath
import numpy as np

from .validation import as_integer, as_values, check_spectra, eigenvalue_tolerance

__all__ = [
    "h1", "h1_derivative", "h2", "h2_derivative",
    "fixed_point_map", "fixed_point_map_derivative", "fixed_point_bracket",
    "find_fixed_points", "FixedPointSearch",
    "spectral_gap_condition", "SpectralGapTest", "as_grid_size", "MIN_GRID_SIZE", "MAX_GRID_SIZE",
]

#: Fewest grid points :func:`find_fixed_points` accepts (a coarser grid can step over a pair of
#: roots together with the extremum between them).
MIN_GRID_SIZE = 33
#: Most grid points :func:`find_fixed_points` accepts (refused before allocating).
MAX_GRID_SIZE = 10**6


def as_grid_size(grid_size):
    """``grid_size`` as an int in ``[MIN_GRID_SIZE, MAX_GRID_SIZE]``, or a ValueError/TypeError."""
    return as_integer(grid_size, "grid_size", minimum=MIN_GRID_SIZE, maximum=MAX_GRID_SIZE)


def _sum_last(values):
    if values.ndim > 1 and values.dtype == np.float64:
        # Batches (grids, core.batched): BLAS sums of short rows are ~8x faster than np.sum.
        return values @ np.ones(values.shape[-1])
    return np.sum(values, axis=-1)


def _scalar_or_array(result):
    if isinstance(result, np.generic) or (isinstance(result, np.ndarray) and result.ndim == 0):
        return result.item()  # Python float, or the mpmath number of an object array
    return result


def _column(x):
    return np.asarray(x)[..., None]


def _unit_direction(r_coefficients):
    """``a/max|a|`` for float arrays (``h₁`` is invariant to the scale of ``a``, and ``a²`` must
    not underflow); mpmath numbers have an unbounded exponent and are returned as they are."""
    a = np.asarray(r_coefficients)
    if a.dtype.kind != "f":
        return a
    scale = np.max(np.abs(a), axis=-1, keepdims=True, initial=0.0)
    return a / np.where(scale > 0, scale, 1.0)


#: Beyond this |argument| the maps are evaluated in homogeneous form. Below it every power the
#: kernels form stays far from under- or overflow (γ, h̄ ≤ 1e20 with λ ≤ 1e50, |a| ≤ 1, x ≤ 1),
#: and the plain form is exact and faster — the solvers only reach γ ≤ 1 + λ_max, h̄ < 1.
_HOMOGENEOUS_FROM = 1e20
#: Below this largest ``x = s/M`` (σ² ≫ tr Σ) h₂'s weights are rescaled to a largest weight 1.
_TINY_X = 1e-30


def _homogeneous(t):
    """``(u, v) = (1/c, t/c)`` with ``c = max(1, |t|)`` for float ``t`` beyond
    :data:`_HOMOGENEOUS_FROM`, so that ``1 + λt = c(u + λv)`` never overflows; ``(1, t)``
    otherwise and for mpmath numbers (unbounded exponent; intervals stay exact)."""
    if t.dtype.kind != "f" or not np.max(np.abs(t), initial=0.0) > _HOMOGENEOUS_FROM:
        return 1, t
    c = np.maximum(np.abs(t), 1.0)
    return 1 / c, t / c


def _largest_q(x, u, v):
    """The largest ``q = x/(u + xv)`` of each row — at ``x_max``, as q increases with x for
    γ ≥ 0 — when ``x_max < _TINY_X`` (its fifth power would underflow); else 1."""
    if x.dtype.kind != "f":
        return 1
    x_max = np.max(x, axis=-1, keepdims=True)
    if not np.min(x_max, initial=np.inf) < _TINY_X:
        return 1
    Q = x_max / (x_max * v + u)
    return np.where(Q > 0, Q, 1.0)


def _squeeze(u):
    return u[..., 0] if np.ndim(u) else u


# The kernels (underscored) take validated values and run in the root searches' inner loops;
# the public functions validate their arguments, then call them. Each weight is formed as a
# ratio before it is squared and, beyond |argument| 1e20, in homogeneous form with the largest
# weights O(1) (h₁ and h₂ are invariant to a common factor of their weights), so every argument
# up to the float maximum gives a finite value — squaring 1 + xγ overflowed from γ ≈ 1e155.

def _h1_weights(h_bar, lam, a):
    # w_i ∝ (a_i / (1 + λ_i h̄))², scaled by (1 + λ_min h̄)² with λ_min over the directions
    # carrying a, so that the largest weights are O(1) at any h̄ >= 0.
    lam, a = np.asarray(lam), _unit_direction(a)
    u, v = _homogeneous(_column(h_bar))
    if np.ndim(u):
        lam_min = np.min(np.where(a != 0, lam, np.inf), axis=-1, keepdims=True)
        lam_min = np.where(np.isfinite(lam_min), np.maximum(lam_min, 0.0), 0.0)
        t = (a / (lam * v + u)) * (lam_min * np.maximum(v, 0.0) + u)
    else:
        t = a / (lam * v + u)                     # array on the left: mpmath.iv scalars
    return lam, u, v, t * t


def _h1(h_bar, lam, a):
    lam, _, _, w = _h1_weights(h_bar, lam, a)
    return _scalar_or_array(_sum_last(lam * w) / _sum_last(w))


def _h1_derivative(h_bar, lam, a):
    # −2 [Σλ²w/(1 + λh̄) · Σw − Σλw · Σλw/(1 + λh̄)] / (Σw)², with 1/(1 + λh̄) = c⁻¹/(u + λv).
    lam, u, v, w = _h1_weights(h_bar, lam, a)
    damp = lam * w / (lam * v + u)
    W, N = _sum_last(w), _sum_last(lam * w)
    return _scalar_or_array(-2 * _squeeze(u) * (_sum_last(lam * damp) * W - N * _sum_last(damp))
                            / W**2)


def _h2_sums(gamma, s, M):
    # In x = s/M (h₂ is invariant under (s, M) → (ts, tM)), q = x/(u + xv) = c x/(1 + xγ),
    # divided by its row maximum Q when that is tiny: S_k = Σ x^k/(1 + xγ)² = (Q/c)² Σ x^{k-2} q²,
    # returned without the common factor (Q/c)², and the factor Q/c of h₂'.
    x, g = np.asarray(s) / M, _column(gamma)
    u, v = _homogeneous(g)
    Q = _largest_q(x, u, v)
    q = x / (x * v + u) / Q                      # array on the left: mpmath.iv scalars
    q2 = q * q
    return x, q, _squeeze(u * Q), _sum_last(q2), _sum_last(x * q2)


def _h2(gamma, s, M):
    _, _, _, S2, S3 = _h2_sums(gamma, s, M)
    return _scalar_or_array(S3 / (S3 + S2))


def _h2_derivative(gamma, s, M):
    # dS_k/dγ = −2 Σ x^{k+1}/(1 + xγ)³ = −2 (Q/c)³ Σ x^{k-2} q³, so with the sums of q:
    # h₂' = 2 (Q/c) (S₃ Σq³ − S₂ Σxq³) / (S₃ + S₂)².
    x, q, factor, S2, S3 = _h2_sums(gamma, s, M)
    q3 = q * q * q
    return _scalar_or_array(2 * factor * (S3 * _sum_last(q3) - S2 * _sum_last(x * q3))
                            / (S3 + S2) ** 2)


class _Values(NamedTuple):
    s: Any
    M: Any
    lam: Any
    a: Any


def _phi(gamma, v):
    return 1 + _h1(_h2(gamma, v.s, v.M), v.lam, v.a)


def _phi_derivative(gamma, v):
    return _h1_derivative(_h2(gamma, v.s, v.M), v.lam, v.a) * _h2_derivative(gamma, v.s, v.M)


def _matching(first, second, first_name, second_name):
    """Two validated 1-d value arrays of equal length (an eigenvalue list and its partner)."""
    first, second = as_values(first, first_name), as_values(second, second_name)
    if first.ndim != 1 or first.shape != second.shape:
        raise ValueError(f"{first_name} and {second_name} must be 1-d of equal length, got "
                         f"shapes {first.shape} and {second.shape}")
    return first, second


def _sigma_values(sigma_eigenvalues, M):
    s, M = as_values(sigma_eigenvalues, "sigma_eigenvalues"), as_values(M, "M")
    if s.ndim != 1 or M.ndim != 0:
        raise ValueError(f"sigma_eigenvalues must be 1-d and M a scalar, got shapes {s.shape} "
                         f"and {M.shape}")
    if M.dtype.kind == "f" and not M > 0:
        raise ValueError(f"M = σ² + tr Σ must be > 0, got {M.item():g}")
    return s, M.item()


_POLES = {"gamma": "1 + s_i gamma/M vanishes (gamma = -M/s_i)",
          "h_bar": "1 + λ_i h_bar vanishes (h_bar = -1/λ_i)"}


def _checked(kernel, argument, name, *rest):
    """``kernel(argument, *rest)``, or a ValueError naming ``name`` at a pole. Only negative
    arguments reach one: every finite argument ``>= 0`` gives a finite value."""
    with np.errstate(all="ignore"):
        value = kernel(argument, *rest)
    array = np.asarray(value)
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        where = np.asarray(argument, dtype=float)
        bad = where if where.ndim == 0 else where[~np.isfinite(array)][0]
        raise ValueError(f"{name} = {float(bad):.17g} is at (or within round-off of) a pole: "
                         f"{_POLES[name]}; the maps are defined for {name} >= 0")
    return value


def _spectral_values(spectra):
    """The four spectral attributes of ``spectra``, validated once."""
    check_spectra(spectra)
    s, M = _sigma_values(spectra.sigma_eigenvalues, spectra.M)
    lam, a = _matching(spectra.R_eigenvalues, spectra.r_coefficients, "spectra.R_eigenvalues",
                       "spectra.r_coefficients")
    return _Values(s, M, lam, a)


def h1(h_bar, R_eigenvalues, r_coefficients):
    """``h₁(h̄) = ωᵀRω / ωᵀω`` at ``ω ∝ (h̄R + I)⁻¹ r``, in the eigenbasis of R.

    Vectorised over ``h_bar``. Directions with ``a_i = 0`` carry zero weight.

    Examples
    --------
    >>> h1(0.5, np.array([0.5, 1.5]), np.array([1.0, 0.0]))   # only λ = 0.5 is seen
    0.5
    """
    return _checked(_h1, as_values(h_bar, "h_bar"), "h_bar", *_matching(
        R_eigenvalues, r_coefficients, "R_eigenvalues", "r_coefficients"))


def h1_derivative(h_bar, R_eigenvalues, r_coefficients):
    """``dh₁/dh̄ = −2 [Σλ²w/(1+λh̄) · Σw − Σλw · Σλw/(1+λh̄)] / (Σw)²``, ``w = a²/(1+λh̄)²``."""
    return _checked(_h1_derivative, as_values(h_bar, "h_bar"), "h_bar", *_matching(
        R_eigenvalues, r_coefficients, "R_eigenvalues", "r_coefficients"))


def h2(gamma, sigma_eigenvalues, M):
    """``h₂(γ) = S₃ / (S₃ + S₂)`` with ``S_k = Σ x_i^k / (1 + x_i γ)²``, ``x = s/M``.

    Equivalently ``[1 + M S₂/S₃]⁻¹`` in the unnormalised sums ``Σ s^k/(M + sγ)²``
    (docs/theory.md §3); vectorised over ``gamma``.

    Examples
    --------
    >>> h2(2.0, np.array([1.0, 1.0]), 3.0)   # Σ = I: h₂ ≡ 1/(1 + M)
    0.25
    """
    return _checked(_h2, as_values(gamma, "gamma"), "gamma",
                    *_sigma_values(sigma_eigenvalues, M))


def h2_derivative(gamma, sigma_eigenvalues, M):
    """``dh₂/dγ = (S₃' S₂ − S₃ S₂') / (S₃ + S₂)²`` with ``S_k' = −2 Σ x^{k+1}/(1 + xγ)³``."""
    return _checked(_h2_derivative, as_values(gamma, "gamma"), "gamma",
                    *_sigma_values(sigma_eigenvalues, M))


def fixed_point_map(gamma, spectra):
    """The map ``φ(γ) = 1 + h₁(h₂(γ))`` whose fixed points are the stationary ``γ*``."""
    return _checked(_phi, as_values(gamma, "gamma"), "gamma", _spectral_values(spectra))


def fixed_point_map_derivative(gamma, spectra):
    """``φ'(γ) = h₁'(h₂(γ)) · h₂'(γ)`` (chain rule; ≥ 0 since both factors are ≤ 0)."""
    return _checked(_phi_derivative, as_values(gamma, "gamma"), "gamma",
                    _spectral_values(spectra))


def relevant_R_eigenvalues(spectra):
    """Eigenvalues of R whose direction carries part of ``r`` (``a_i ≠ 0`` beyond round-off)."""
    check_spectra(spectra)
    a = np.abs(np.asarray(spectra.r_coefficients, dtype=float))
    return np.asarray(spectra.R_eigenvalues, dtype=float)[a > eigenvalue_tolerance(a)]


def fixed_point_bracket(spectra):
    """``[1 + λ_min, 1 + λ_max]`` over the relevant eigenvalues: φ maps it into itself."""
    lam = relevant_R_eigenvalues(spectra)
    if lam.size == 0:
        raise ValueError("r = 0: h₁ is undefined and there is no fixed point")
    return 1.0 + float(lam.min()), 1.0 + float(lam.max())


class FixedPointSearch(NamedTuple):
    """All fixed points of ``φ`` found on its bracket, ascending.

    ``slopes`` are ``φ'(γ*)``: a fixed point with slope > 1 is repelling (it lies between two
    others); ``residuals`` are ``|φ(γ*) − γ*|``.
    """

    fixed_points: np.ndarray
    slopes: np.ndarray
    residuals: np.ndarray
    bracket: tuple


def find_fixed_points(spectra, *, grid_size=129):
    """Find every fixed point of ``φ(γ) = 1 + h₁(h₂(γ))`` on ``[1 + λ_min, 1 + λ_max]``.

    ``F(γ) = φ(γ) − γ`` and ``F' = φ' − 1`` are evaluated on a uniform grid of ``grid_size``
    points. A cell whose end slopes differ in sign is split at the critical point (a root of
    ``F'``), so that ``F`` is monotone on every piece; each piece whose ends differ in sign holds
    exactly one root. Both kinds of root are refined to full precision by
    ``_bracketed_root`` (``mpmath.findroot``'s Anderson–Björck method). ``F ≥ 0`` at the left end and ``≤ 0`` at the right end, so at least one root is
    always found. Roots are missed only if ``F'`` changes sign more than once inside one cell;
    :mod:`wpgd_theory.verify.certify` decides the count rigorously.

    Examples
    --------
    >>> from .model import CorrelatedTaskModel
    >>> model = CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    >>> search = find_fixed_points(model)
    >>> search.fixed_points, search.bracket
    (array([2.20376559]), (1.5, 2.5))
    """
    grid_size = as_grid_size(grid_size)
    values = _spectral_values(spectra)
    lo, hi = fixed_point_bracket(spectra)
    s = np.asarray(spectra.sigma_eigenvalues, dtype=float)
    positive = s[s > 0]
    image_lo, image_hi = float(_phi(lo, values)), float(_phi(hi, values))
    if hi - lo <= 4 * np.finfo(float).eps * hi or np.ptp(positive) <= eigenvalue_tolerance(s):
        roots = np.array([image_lo])  # φ is constant
    elif image_hi - image_lo <= FLAT_WIDTH * image_hi:
        # φ nearly constant (e.g. the relevant eigenvalues of R equal up to round-off): the grid
        # would see only round-off sign changes of F. φ maps the bracket into its image, so the
        # fixed point lies there: one root (the batched solver's rule).
        roots = np.array([_root_in(lambda g: _phi(g, values) - g, image_lo, image_hi)])
    else:
        roots = _grid_roots(lambda g: _phi(g, values) - g,
                            lambda g: _phi_derivative(g, values) - 1,
                            np.linspace(lo, hi, grid_size))
    return FixedPointSearch(
        fixed_points=roots,
        slopes=np.atleast_1d(_phi_derivative(roots, values)).astype(float),
        residuals=np.abs(np.atleast_1d(_phi(roots, values)) - roots),
        bracket=(lo, hi),
    )


def _root_in(F, a, b):
    """The root of a non-increasing ``F`` on ``[a, b]`` (an end if round-off hides the sign change)."""
    Fa, Fb = F(a), F(b)
    if Fa <= 0 or Fb >= 0:
        return a if abs(Fa) <= abs(Fb) else b
    return _bracketed_root(F, a, b)


def _grid_roots(F, dF, grid):
    values, slopes = F(grid), dF(grid)
    roots = list(grid[values == 0])
    sign_change = (values[:-1] * values[1:] < 0) | (slopes[:-1] * slopes[1:] < 0)
    for k in np.flatnonzero(sign_change):
        points, point_values = [grid[k]], [values[k]]
        if slopes[k] * slopes[k + 1] < 0:  # F has an extremum inside: split there
            critical = _bracketed_root(dF, grid[k], grid[k + 1])
            points.append(critical)
            point_values.append(F(critical))
            if point_values[-1] == 0:
                roots.append(critical)
        points.append(grid[k + 1])
        point_values.append(values[k + 1])
        for (a, Fa), (b, Fb) in zip(zip(points, point_values), zip(points[1:], point_values[1:])):
            if Fa * Fb < 0:
                roots.append(_bracketed_root(F, a, b))
    return np.array(sorted(roots))


_EPS = np.finfo(float).eps
#: Relative width of φ's image of the bracket below which φ is treated as constant (one fixed
#: point); shared by :func:`find_fixed_points` and the batched solver.
FLAT_WIDTH = 1e-9


def _bracketed_root(F, a, b):
    """The root of the float function ``F`` in ``[a, b]`` (``F(a) F(b) < 0``), to ``4 eps``.

    ``mpmath.findroot`` at float64's 53 bits: its Anderson–Björck method (the bracketing regula
    falsi the ``precision=`` route refines with), whose answer is accepted only if ``F`` changes
    sign within ``4 eps · max(1, |x|)`` of it — the criterion of ``brentq(..., rtol=4 eps)``.
    Where ``F`` is flat (a close pair of fixed points: ``|F| ~ 1e-17`` across a pair 1e-8 apart)
    the method stops on ``|F| < tol`` short of the root; the remaining bracket is then halved by
    mpmath's bisection, which trusts only the sign of ``F``. mpmath imports in ~20 ms where
    ``scipy.optimize`` takes ~0.3 s, which every first solve and every CLI call would pay
    (docs/scale.md, "Cold start").

    Examples
    --------
    >>> root = _bracketed_root(lambda x: x * x - 2.0, 1.0, 2.0)
    >>> bool(abs(root - 2.0 ** 0.5) <= 4 * _EPS * 2.0 ** 0.5)
    True
    >>> pair = lambda x: (x - 0.33) * (x - 0.33000001)         # flat between the two roots
    >>> root = _bracketed_root(pair, 0.330000005, 1.0)
    >>> bool(abs(root - 0.33000001) <= 4 * _EPS)
    True
    """
    root = _findroot(F, a, b, "anderson")
    step = 4 * _EPS * max(1.0, abs(root))
    lo, hi = max(a, root - step), min(b, root + step)
    F_lo, F_hi = F(lo), F(hi)
    if F_lo * F_hi <= 0:
        return root
    a, b = (hi, b) if F_hi * F(b) < 0 else (a, lo)
    return _findroot(F, a, b, "bisect")


def _findroot(F, a, b, solver):
    with mpmath.workprec(53):
        root = mpmath.findroot(lambda x: F(float(x)), (a, b), solver=solver,
                               tol=4 * _EPS, maxsteps=2000, verify=False)
    return float(root)


class SpectralGapTest(NamedTuple):
    """Theorem 3's hypothesis ``Δ_Σ · Δ_R < M + s_min`` evaluated on a model."""

    delta_sigma: float
    delta_R: float
    bound: float
    holds: bool


def spectral_gap_condition(model):
    """Evaluate ``Δ_Σ · Δ_R < M + s_min`` (effective gaps: nonzero eigenvalues only).

    Examples
    --------
    >>> from .model import CorrelatedTaskModel
    >>> model = CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    >>> spectral_gap_condition(model)
    SpectralGapTest(delta_sigma=1.0, delta_R=1.0, bound=4.1, holds=True)
    """
    for attribute in ("spectral_gap_sigma", "spectral_gap_R", "M", "sigma_eigenvalues"):
        if not hasattr(model, attribute):
            raise TypeError(f"model must be a CorrelatedTaskModel or MultitaskModel, got "
                            f"{type(model).__name__}")
    delta_sigma, delta_R = model.spectral_gap_sigma, model.spectral_gap_R
    bound = model.M + float(np.min(model.sigma_eigenvalues))
    return SpectralGapTest(delta_sigma, delta_R, bound, bool(delta_sigma * delta_R < bound))
