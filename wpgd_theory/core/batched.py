"""Batched optimal WPGD: :func:`~wpgd_theory.core.solver.solve_optimal_wpgd` on stacks of
instances, vectorised end to end.

Inputs are stacks in NumPy style — ``Sigma (..., d, d)``, ``R (..., n, n)``, ``r (..., n)``,
``sigma2 (...)`` — whose batch axes broadcast. The pipeline has no Python loop over instances:

1. validation with vectorised checks; the first offending instance is re-validated by
   :class:`~wpgd_theory.core.model.CorrelatedTaskModel`, whose message is raised with the
   argument's batch index (``"R[3, 1] is not positive semidefinite ..."``);
2. batched ``eigh`` of ``Σ`` and ``R``;
3. the bracket ``[φ(1 + λ_min), φ(1 + λ_max)]`` (``φ`` is non-decreasing, so it holds every fixed
   point, with ``F = φ − γ ≥ 0`` at its left end and ``≤ 0`` at its right end);
4. instances whose proven contraction bound ``sup φ' ≤ (Δ_Σ Δ_R)² / (4M²) < 1`` (ranges over all
   eigenvalues, a conservative form of :func:`~wpgd_theory.verify.search.contraction_bound`)
   have exactly one fixed point and go straight to root refinement; the others get the grid of
   :func:`~wpgd_theory.core.spectral.find_fixed_points` — ``F`` and ``F'`` on ``grid_size``
   points, cells split at the critical points of ``F`` so that ``F`` is monotone on each piece —
   evaluated for all of them at once;
5. vectorised Illinois (regula falsi) on the critical points and on the roots, all at once;
6. the stationary point of every fixed point (padded array, NaN beyond each instance's count),
   the one of lowest risk, ``P*`` and ``ω*``, with the formulas of :mod:`wpgd_theory.core.risk`.

``φ`` is evaluated by :mod:`wpgd_theory.core.spectral` on normalised spectra ``(s/M, M = 1)`` (h₂
is invariant under ``(s, M) → (s/M, 1)``), so one call covers instances of different ``M``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .batched_validation import (
    MAX_BATCH_ELEMENTS,
    as_stack,
    check_batch_size,
    check_suspects,
    clip_psd,
    index_text,
    suspects,
    validate,
)
from .model import CorrelatedTaskModel
from .risk import (
    moments_from_coefficients,
    normalised_weights,
    preconditioner_eigenvalues,
    risk_from_moments,
    stationarity_residual,
)

# The unvalidated spectral kernels: the batch is validated once, at the boundary, and the public
# h1/h2/φ check for a single 1-d spectrum.
from .spectral import _h1 as h1
from .spectral import _h1_derivative as h1_derivative
from .spectral import _h2 as h2
from .spectral import _h2_derivative as h2_derivative
from .spectral import FLAT_WIDTH, _phi, _phi_derivative, _Values, as_grid_size
from .uniqueness import relaxed_uniqueness_bound

__all__ = [
    "solve_batched", "solve_batched_models", "solve_spectra_batched", "BatchedWPGDSolution", "BatchedFixedPoints",
    "has_batch_axes", "MAX_BATCH_ELEMENTS",
]

_EPS = np.finfo(float).eps
#: Instances per block of the grid evaluation (keeps the (block, grid, d) temporaries in cache).
_GRID_BLOCK = 256
#: Most numbers in one grid temporary (32 MB of float64): fewer instances per block at large d, n.
_GRID_ELEMENTS = 2**22


class _Spectra(NamedTuple):
    sigma_eigenvalues: np.ndarray
    M: object
    R_eigenvalues: np.ndarray
    r_coefficients: np.ndarray


def fixed_point_map(gamma, spectra):
    """``φ(γ)`` on stacked spectra (the kernel of :func:`~.spectral.fixed_point_map`)."""
    return _phi(gamma, _Values(*spectra))


def fixed_point_map_derivative(gamma, spectra):
    """``φ'(γ)`` on stacked spectra (the kernel of :func:`~.spectral.fixed_point_map_derivative`)."""
    return _phi_derivative(gamma, _Values(*spectra))


def has_batch_axes(Sigma, R, r, sigma2):
    """Whether the inputs of :func:`solve_optimal_wpgd` carry batch axes (``Sigma.ndim > 2`` …).

    Examples
    --------
    >>> has_batch_axes(np.eye(2), np.eye(3), np.zeros(3), 0.1)
    False
    >>> has_batch_axes(np.eye(2), np.eye(3), np.zeros(3), [0.1, 0.2])
    True
    """
    return bool(np.ndim(Sigma) > 2 or np.ndim(R) > 2 or np.ndim(r) > 1 or np.ndim(sigma2) > 0)


# --------------------------------------------------------------------------- root finding

def _rows(spectra, rows, axis=False):
    """Spectra of the instances ``rows``; ``axis`` adds a grid axis before the eigen-axis."""
    pick = (lambda x: x[rows][:, None, :]) if axis else (lambda x: x[rows])
    return _Spectra(pick(spectra.sigma_eigenvalues), 1.0, pick(spectra.R_eigenvalues),
                    pick(spectra.r_coefficients))


def _illinois(F, a, b, Fa, Fb, max_iterations=200):
    """Vectorised Illinois method on brackets ``[a, b]`` with ``Fa · Fb ≤ 0``.

    ``F(x, active)`` evaluates the function of the brackets ``active`` at ``x``. Stops each
    bracket when it is ``≤ 4 eps |x|`` wide or ``F(x) = 0``; falls back to bisection whenever the
    secant step leaves the bracket.
    """
    a, b, Fa, Fb = (np.array(v, dtype=float) for v in (a, b, Fa, Fb))
    x = np.where(np.abs(Fa) < np.abs(Fb), a, b)
    active = (Fa != 0) & (Fb != 0) & (np.abs(b - a) > 4 * _EPS * np.abs(x))
    for _ in range(max_iterations):
        act = np.flatnonzero(active)
        if act.size == 0:
            break
        aa, bb, fa, fb = a[act], b[act], Fa[act], Fb[act]
        with np.errstate(divide="ignore", invalid="ignore"):
            xx = bb - fb * (bb - aa) / (fb - fa)
        low, high = np.minimum(aa, bb), np.maximum(aa, bb)
        xx = np.where((xx > low) & (xx < high), xx, (aa + bb) / 2)
        fx = F(xx, act)
        flip = fx * fb < 0
        a[act] = np.where(flip, bb, aa)
        Fa[act] = np.where(flip, fb, fa / 2)
        b[act], Fb[act], x[act] = xx, fx, xx
        done = (fx == 0) | (np.abs(b[act] - a[act]) <= 4 * _EPS * np.abs(xx))
        active[act[done]] = False
    return x


def _grid_pieces(spectra, rows, lo, hi, grid_size):
    """Monotone pieces of ``F`` with a sign change (and exact zeros) on the grid instances."""
    unit = np.linspace(0.0, 1.0, grid_size)
    found = {key: [] for key in ("owner", "a", "b", "Fa", "Fb", "dFa", "dFb")}
    zeros_owner, zeros = [], []
    # (block, grid, max(d, n)) temporaries: at most _GRID_ELEMENTS numbers each, whatever d, n.
    width = max(spectra.sigma_eigenvalues.shape[-1], spectra.R_eigenvalues.shape[-1])
    step = max(1, min(_GRID_BLOCK, _GRID_ELEMENTS // (grid_size * width)))
    for start in range(0, rows.size, step):
        block = rows[start:start + step]
        grid = lo[block, None] + (hi[block] - lo[block])[:, None] * unit
        grid[:, -1] = hi[block]
        local = _rows(spectra, block, axis=True)
        # φ and φ' sharing h̄ = h₂(γ) (fixed_point_map and its derivative would each redo it).
        h_bar = h2(grid, local.sigma_eigenvalues, 1.0)
        values = 1 + h1(h_bar, local.R_eigenvalues, local.r_coefficients) - grid
        slopes = (h1_derivative(h_bar, local.R_eigenvalues, local.r_coefficients)
                  * h2_derivative(grid, local.sigma_eigenvalues, 1.0) - 1)
        values[:, 0] = np.maximum(values[:, 0], 0.0)   # F(lo) ≥ 0 and F(hi) ≤ 0 exactly
        values[:, -1] = np.minimum(values[:, -1], 0.0)
        i, k = np.nonzero(values == 0)
        zeros_owner.append(block[i])
        zeros.append(grid[i, k])
        cell = ((values[:, :-1] * values[:, 1:] < 0) | (slopes[:, :-1] * slopes[:, 1:] < 0))
        i, k = np.nonzero(cell)
        for key, value in (("owner", block[i]), ("a", grid[i, k]), ("b", grid[i, k + 1]),
                           ("Fa", values[i, k]), ("Fb", values[i, k + 1]),
                           ("dFa", slopes[i, k]), ("dFb", slopes[i, k + 1])):
            found[key].append(value)
    cells = {key: np.concatenate(value) if value else np.empty(0) for key, value in found.items()}
    cells["owner"] = cells["owner"].astype(int)
    return cells, np.concatenate(zeros_owner).astype(int), np.concatenate(zeros)


def _roots(spectra, lo, hi, unique, grid_rows, grid_size):
    """``(owner, root)`` pairs: every fixed point found, for every instance."""
    def F(rows_of):
        return lambda x, act: fixed_point_map(x, _rows(spectra, rows_of[act])) - x

    def dF(rows_of):
        return lambda x, act: fixed_point_map_derivative(x, _rows(spectra, rows_of[act])) - 1

    owners, roots = [], []
    # One fixed point: F is decreasing on [lo, hi].
    Flo = np.maximum(F(unique)(lo[unique], slice(None)), 0.0)
    Fhi = np.minimum(F(unique)(hi[unique], slice(None)), 0.0)
    owners.append(unique)
    roots.append(_illinois(F(unique), lo[unique], hi[unique], Flo, Fhi))
    if grid_rows.size:
        cells, zero_owner, zero = _grid_pieces(spectra, grid_rows, lo, hi, grid_size)
        owners.append(zero_owner)
        roots.append(zero)
        owner = cells["owner"]
        split = cells["dFa"] * cells["dFb"] < 0
        critical = cells["b"].copy()
        Fc = cells["Fb"].copy()
        if np.any(split):
            rows_of = owner[split]
            critical[split] = _illinois(dF(rows_of), cells["a"][split], cells["b"][split],
                                        cells["dFa"][split], cells["dFb"][split])
            Fc[split] = F(rows_of)(critical[split], slice(None))
            at_zero = split & (Fc == 0)
            owners.append(owner[at_zero])
            roots.append(critical[at_zero])
        # Piece 1: [a, c] (c = b if not split); piece 2: [c, b] on split cells.
        pieces = [(cells["a"], critical, cells["Fa"], Fc, np.ones_like(split)),
                  (critical, cells["b"], Fc, cells["Fb"], split)]
        for a, b, Fa, Fb, keep in pieces:
            change = keep & (Fa * Fb < 0)
            rows_of = owner[change]
            owners.append(rows_of)
            roots.append(_illinois(F(rows_of), a[change], b[change], Fa[change], Fb[change]))
    return np.concatenate(owners), np.concatenate(roots)


def _pad(owner, values, count_rows):
    order = np.lexsort((values, owner))
    owner, values = owner[order], values[order]
    # A bracket a few ulps wide puts several grid points on one float where F is exactly 0.
    keep = np.ones(owner.size, dtype=bool)
    keep[1:] = (owner[1:] != owner[:-1]) | (values[1:] != values[:-1])
    owner, values = owner[keep], values[keep]
    counts = np.bincount(owner, minlength=count_rows)
    width = max(int(counts.max(initial=0)), 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(owner.size) - starts[owner]
    padded = np.full((count_rows, width), np.nan)
    padded[owner, position] = values
    return padded, counts


# --------------------------------------------------------------------------- results

class BatchedFixedPoints(NamedTuple):
    """Every fixed point of ``φ`` for a stack of spectra (:func:`solve_spectra_batched`).

    ``fixed_points``, ``slopes``, ``h2_values`` and ``risks`` have shape ``batch + (k_max,)``,
    ascending in ``γ`` and padded with NaN beyond ``count`` (shape ``batch``); ``best`` indexes
    the lowest-risk one, whose ``γ*``, ``h₂(γ*)``, ``L*`` are ``gamma_star``, ``h2_star``,
    ``risk``. Instances with ``r = 0`` have ``count = 0``, ``risk = M`` and NaN ``γ*``.
    """

    fixed_points: np.ndarray
    slopes: np.ndarray
    h2_values: np.ndarray
    risks: np.ndarray
    count: np.ndarray
    best: np.ndarray
    gamma_star: np.ndarray
    h2_star: np.ndarray
    risk: np.ndarray
    coefficients: np.ndarray
    M: np.ndarray

    def __repr__(self):
        return (f"BatchedFixedPoints(batch_shape={self.count.shape}, "
                f"k_max={self.fixed_points.shape[-1]}, "
                f"several={int(np.sum(self.count > 1))}, "
                f"max_slope={float(np.nanmax(self.slopes, initial=0.0)):.4g})")


#: Instances whose slope bound is below this have one fixed point (margin for round-off).
_SLOPE_MARGIN = 0.99


def _slope_bound(t, lam, a, hi):
    """A proven bound on ``sup φ'`` over the bracket ``[lo, hi]`` (normalised ``t = s/M``).

    ``φ' = h₁'(h̄) h₂'(γ)`` with ``h₂' = m'/(1 + m)²``, ``m = E_v[t]`` (``v ∝ t²/(1 + tγ)²``),
    ``m' = −2 Cov_v(t, t/(1 + tγ))``, and ``h₁' = −2 Cov_w(λ, λ/(1 + λh̄))``
    (``w ∝ a²/(1 + λh̄)²``).
    ``Cov(X, g(X)) ≤ Lip(g) Var X ≤ Lip(g) range²/4`` for increasing ``g``; ``m`` decreases in
    ``γ`` so ``1/(1 + m)² ≤ (1 − h₂(hi))²``; ``h̄ ≥ h₂(hi)`` gives ``Lip ≤ 1/(1 + λ_min h₂(hi))²``
    over the eigenvalues carrying ``r`` (``|a| > 10⁻⁸ max|a|``); the others carry a weight share
    ``≤ ε = Σ_tiny a² (1 + λ_max)² / Σ_rel a²`` and add ``≤ 4ε range(λ)²``. This sharpens
    :func:`~wpgd_theory.verify.search.contraction_bound` on the bracket.
    """
    positive = t > 0
    t_range = np.max(t, axis=-1) - np.min(np.where(positive, t, np.inf), axis=-1)
    h_hi = h2(hi, t, 1.0)
    a2 = a * a
    relevant = a2 > 1e-16 * np.max(a2, axis=-1, keepdims=True)
    lam_high = np.max(np.where(relevant, lam, -np.inf), axis=-1)
    lam_low = np.min(np.where(relevant, lam, np.inf), axis=-1)
    share = (np.sum(np.where(relevant, 0.0, a2), axis=-1) * (1 + np.max(lam, axis=-1)) ** 2
             / np.sum(np.where(relevant, a2, 0.0), axis=-1))
    dh2 = t_range**2 * (1 - h_hi) ** 2 / 2
    dh1 = ((lam_high - lam_low) ** 2 / (2 * (1 + lam_low * h_hi) ** 2)
           + 4 * share * np.ptp(lam, axis=-1) ** 2)
    return dh1 * dh2


def _fixed_points_flat(s, sigma2, lam, a, grid_size):
    """Core of :func:`solve_spectra_batched` on flat stacks (N, d), (N,), (N, n), (N, n)."""
    N = s.shape[0]
    M = sigma2 + np.sum(s, axis=-1)
    informative = np.any(a != 0, axis=-1)
    a_scale = np.max(np.abs(a), axis=-1, keepdims=True)
    a_unit = np.where(informative[:, None], a / np.where(a_scale > 0, a_scale, 1.0), 1.0)
    spectra = _Spectra(s / M[:, None], 1.0, lam, a_unit)   # φ unchanged (module docstring)
    ends = 1 + np.stack([lam.min(axis=-1), lam.max(axis=-1)], axis=-1)
    lo, hi = np.moveaxis(fixed_point_map(ends, _rows(spectra, np.arange(N), axis=True)), -1, 0)
    hi = np.maximum(hi, lo)
    narrow = hi - lo <= 4 * _EPS * hi
    with np.errstate(invalid="ignore", divide="ignore"):
        contraction = _slope_bound(spectra.sigma_eigenvalues, lam, a_unit, hi) < _SLOPE_MARGIN
    # φ nearly constant (its image of [1 + λ_min, 1 + λ_max] ≤ 1e-9 wide): the grid would only
    # see round-off sign changes of F; one root, refined on [lo, hi].
    contraction |= hi - lo <= FLAT_WIDTH * hi
    unique = np.flatnonzero(informative & ~narrow & contraction)
    grid_rows = np.flatnonzero(informative & ~narrow & ~contraction)
    flat = np.flatnonzero(informative & narrow)
    owner, roots = _roots(spectra, lo, hi, unique, grid_rows, grid_size)
    owner = np.concatenate([owner, flat])
    roots = np.concatenate([roots, fixed_point_map(lo[flat], _rows(spectra, flat))])
    gammas, count = _pad(owner, roots, N)
    k = gammas.shape[1]
    wide = _rows(spectra, np.arange(N), axis=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        slopes = fixed_point_map_derivative(gammas, wide)
        h_bar = h2(gammas, wide.sigma_eigenvalues, 1.0)
        coefficients = a[:, None, :] / (1 + lam[:, None, :] * h_bar[..., None])
        raw = _Spectra(s[:, None, :], M[:, None], lam[:, None, :], a[:, None, :])
        # At max|ω̃| = 1 (as stationary_point): tiny or huge r cannot under- or overflow B, C.
        unit = normalised_weights(coefficients, axis=-1)[0]
        risks = risk_from_moments(*moments_from_coefficients(unit, raw), raw)
    risks = np.where(np.arange(k) < count[:, None], risks, np.nan)
    best = np.argmin(np.where(np.isnan(risks), np.inf, risks), axis=-1)
    pick = (np.arange(N), best)
    risk_star = np.where(informative, risks[pick], M)
    return (gammas, slopes, h_bar, risks, count, best, gammas[pick], h_bar[pick], risk_star,
            coefficients[pick], M)


def solve_spectra_batched(sigma_eigenvalues, sigma2, R_eigenvalues, r_coefficients, *,
                          grid_size=129):
    """All fixed points, their risks and the optimum for stacks of spectra ``(s, σ², λ, a)``.

    The spectral route of :func:`solve_batched` (no eigendecomposition): ``s (..., d) ≥ 0``,
    ``σ² (...)``, ``λ (..., n) ≥ 0`` the eigenvalues of ``R`` and ``a = Eᵀr (..., n)``; batch
    axes broadcast: each argument is one instance (shared by the batch) or a stack whose batch
    axes have the number of dimensions common to all stacks (size-1 axes stretch; an axis is never
    prepended, so an extra trailing axis is refused, not read as a batch axis). Only
    non-negativity is checked here (the sweeps build valid spectra).

    Returns
    -------
    BatchedFixedPoints

    Examples
    --------
    >>> out = solve_spectra_batched([[1.0, 2.0], [1.0, 1.0]], 0.1, [0.5, 1.5], [0.5, 0.7])
    >>> out.count, out.gamma_star.round(6)
    (array([1, 1]), array([2.037688, 2.045548]))
    """
    s = as_stack(sigma_eigenvalues, "sigma_eigenvalues", 1, "(..., d)")
    sigma2 = as_stack(sigma2, "sigma2", 0, "(...)")
    lam = as_stack(R_eigenvalues, "R_eigenvalues", 1, "(..., n)")
    a = as_stack(r_coefficients, "r_coefficients", 1, "(..., n)")
    grid_size = as_grid_size(grid_size)
    for name, values in (("sigma_eigenvalues", s), ("R_eigenvalues", lam)):
        if values.shape[-1] == 0:
            raise ValueError(f"{name} must have at least one eigenvalue, got shape {values.shape}")
    if a.shape[-1] != lam.shape[-1]:
        raise ValueError(f"r_coefficients must have shape (..., n) = (..., {lam.shape[-1]}) to "
                         f"match R_eigenvalues, got {a.shape}")
    batches = {"sigma_eigenvalues": s.shape[:-1], "sigma2": sigma2.shape,
               "R_eigenvalues": lam.shape[:-1], "r_coefficients": a.shape[:-1]}
    ranks = [len(shape) for shape in batches.values() if shape]
    if len(set(ranks)) > 1:
        common = max(set(ranks), key=ranks.count)
        odd = [name for name, shape in batches.items() if shape and len(shape) != common]
        raise ValueError(f"{' and '.join(odd)} must have {common} batch axes like the other "
                         "stacks (or none, to share one instance), got batch shapes "
                         + ", ".join(f"{name} {shape}" for name, shape in batches.items()))
    for name, bad, condition in (
            ("sigma_eigenvalues", np.any(s < 0, axis=-1) | ~np.any(s > 0, axis=-1),
             "must be >= 0 and not all zero"),
            ("sigma2", sigma2 < 0, "must be >= 0"),
            ("R_eigenvalues", np.any(lam < 0, axis=-1), "must be >= 0")):
        if np.any(bad):
            index = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
            where = index_text(index) if index else ""
            raise ValueError(f"{name}{where} {condition}")
    try:
        batch = np.broadcast_shapes(*batches.values())
    except ValueError:
        raise ValueError("batch shapes do not broadcast: " + ", ".join(
            f"{name} {shape}" for name, shape in batches.items())) from None
    d, n = s.shape[-1], lam.shape[-1]
    check_batch_size(batch, d + n, f"d = {d}, n = {n} (d + n numbers per instance)")
    out = _solve_flat_spectra(s, sigma2, lam, a, batch, grid_size)
    return BatchedFixedPoints(*out)


def _solve_flat_spectra(s, sigma2, lam, a, batch, grid_size):
    d, n = s.shape[-1], lam.shape[-1]
    flat = (np.broadcast_to(s, batch + (d,)).reshape(-1, d),
            np.broadcast_to(sigma2, batch).reshape(-1),
            np.broadcast_to(lam, batch + (n,)).reshape(-1, n),
            np.broadcast_to(a, batch + (n,)).reshape(-1, n))
    out = _fixed_points_flat(*flat, grid_size)
    return tuple(x.reshape(batch + x.shape[1:]) for x in out)


@dataclass(frozen=True, repr=False)
class BatchedWPGDSolution:
    """Result of :func:`solve_batched`: the fields of ``WPGDSolution`` with batch axes.

    Attributes
    ----------
    preconditioner : ndarray, shape batch + (d, d)
    weights : ndarray, shape batch + (n,)
    gamma_star, h2_star, risk : ndarray, shape batch
    fixed_points, fixed_point_slopes, fixed_point_risks : ndarray, shape batch + (k_max,)
        Every fixed point (ascending), ``φ'`` and the risk there; NaN beyond ``num_fixed_points``.
    num_fixed_points : ndarray of int, shape batch
    uniqueness_guaranteed : ndarray of bool, shape batch
        As :func:`~.uniqueness.spectral_uniqueness`: Theorem 3's ``Δ_Σ Δ_R < M + s_min``
        (effective gaps) or the relaxed ``Δ_Σ Δ_R < 2(M + s⁺_min)``, and ``r ≠ 0``.
    delta_sigma, delta_R, M : ndarray, shape batch
    fixed_point_residual, stationarity_residual : ndarray, shape batch
    """

    preconditioner: np.ndarray
    weights: np.ndarray
    gamma_star: np.ndarray
    h2_star: np.ndarray
    risk: np.ndarray
    fixed_points: np.ndarray
    fixed_point_slopes: np.ndarray
    fixed_point_risks: np.ndarray
    num_fixed_points: np.ndarray
    uniqueness_guaranteed: np.ndarray
    delta_sigma: np.ndarray
    delta_R: np.ndarray
    M: np.ndarray
    fixed_point_residual: np.ndarray
    stationarity_residual: np.ndarray

    @property
    def batch_shape(self):
        return self.risk.shape

    def __repr__(self):
        d, n = self.preconditioner.shape[-1], self.weights.shape[-1]
        return (f"BatchedWPGDSolution(batch_shape={self.batch_shape}, d={d}, n={n}, "
                f"k_max={self.fixed_points.shape[-1]}, "
                f"several_fixed_points={int(np.sum(self.num_fixed_points > 1))}, "
                f"uniqueness_guaranteed={int(np.sum(self.uniqueness_guaranteed))}/"
                f"{self.risk.size})")


def _effective_gap(values):
    nonzero = values != 0          # already clipped: round-off eigenvalues are exactly 0
    high = np.max(np.where(nonzero, values, -np.inf), axis=-1)
    low = np.min(np.where(nonzero, values, np.inf), axis=-1)
    return np.where(np.any(nonzero, axis=-1), high - low, 0.0)


def _as_given(value):
    # The instance as given: a float32 input keeps its dtype, hence the model's float32 tolerances.
    array = np.asarray(value)
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(float)


def _check_finite_preconditioner(p, weight_scale):
    """The single solver's refusal (:func:`~.risk.scaled_preconditioner`), naming the instance."""
    bad = ~np.all(np.isfinite(p), axis=-1)
    if np.any(bad):
        index = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
        raise ValueError(f"instance {index_text(index)}: weights are too small (max |weights| = "
                         f"{float(weight_scale[index]):.3g}): the preconditioner P(ω) = P(ω/c)/c "
                         "overflows float64; rescale Sigma and sigma2")


def solve_batched(Sigma, R, r, sigma2, *, grid_size=129):
    """:func:`~wpgd_theory.core.solver.solve_optimal_wpgd` for stacks of instances.

    Parameters
    ----------
    Sigma : array_like, shape (..., d, d)
    R : array_like, shape (..., n, n)
    r : array_like, shape (..., n)
    sigma2 : array_like, shape (...)
        Batch axes (``...``) broadcast against each other; each instance is validated exactly as
        by :class:`~wpgd_theory.core.model.CorrelatedTaskModel`, and an error names the argument
        and the batch index of the first bad instance.
    grid_size : int, optional
        Bracketing grid for instances without a proven contraction (as in the single solver).

    Returns
    -------
    BatchedWPGDSolution

    Examples
    --------
    >>> Sigma = np.stack([np.diag([1.0, 2.0]), np.eye(2)])          # batch shape (2,)
    >>> out = solve_batched(Sigma, [[1.0, 0.5], [0.5, 1.0]], [0.9, 0.3], 0.1)
    >>> out      # doctest: +NORMALIZE_WHITESPACE
    BatchedWPGDSolution(batch_shape=(2,), d=2, n=2, k_max=1, several_fixed_points=0,
                        uniqueness_guaranteed=2/2)
    >>> out.risk.round(8), out.weights.round(6)
    (array([2.45888258, 1.68695652]), array([[0.648963, 0.138236],
           [0.662681, 0.146014]]))
    >>> solve_batched(Sigma, [[[1, .5], [.5, 1]], [[1, 2], [2, 1]]], [0.9, 0.3], 0.1)
    Traceback (most recent call last):
    ...
    ValueError: R[1] is not positive semidefinite: smallest eigenvalue -1 < -...
    """
    given = (Sigma, R, r, sigma2)
    grid_size = as_grid_size(grid_size)
    Sigma, R, r, sigma2, batch, flags = validate(Sigma, R, r, sigma2)
    s, U = np.linalg.eigh(Sigma)
    lam, E = np.linalg.eigh(R)
    a = np.einsum("...ji,...j->...i", np.broadcast_to(E, np.broadcast_shapes(
        E.shape[:-2], r.shape[:-1]) + E.shape[-2:]), r)
    suspect = suspects(flags, R, r, sigma2, s, lam, a, batch)
    if np.any(suspect):
        check_suspects(suspect, *(_as_given(x) for x in given), batch)
    s, lam = clip_psd(s), clip_psd(lam)
    d, n = s.shape[-1], lam.shape[-1]
    (gammas, slopes, _h_values, risks, count, _best, gamma_star, h_star, risk_star, coefficients,
     M) = _solve_flat_spectra(s, sigma2, lam, a, batch, grid_size)
    s_b = np.broadcast_to(s, batch + (d,))
    lam_b = np.broadcast_to(lam, batch + (n,))
    a_b = np.broadcast_to(a, batch + (n,))
    spectra = _Spectra(s_b, M, lam_b, a_b)
    informative = count > 0
    coefficients = np.where(informative[..., None], coefficients, 0.0)
    # As the single solver: P of the unit weights ω/c is c·P(ω) (nothing under- or overflows).
    unit, weight_scale = normalised_weights(coefficients, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        p_unit = preconditioner_eigenvalues(*moments_from_coefficients(unit, spectra), spectra)
        p_unit = np.where(informative[..., None], p_unit, 0.0)
        stationarity = np.where(informative, stationarity_residual(spectra, unit, p_unit), 0.0)
        p = p_unit / weight_scale[..., None]
        normalised = _Spectra(s_b / M[..., None], 1.0, lam_b, a_b)
        residual = np.where(informative, np.abs(
            fixed_point_map(gamma_star, normalised) - gamma_star), 0.0)
    _check_finite_preconditioner(p, weight_scale)
    U_b = np.broadcast_to(U, batch + (d, d))
    E_b = np.broadcast_to(E, batch + (n, n))
    delta_sigma, delta_R = _effective_gap(s_b), _effective_gap(lam_b)
    return BatchedWPGDSolution(
        preconditioner=(U_b * p[..., None, :]) @ np.swapaxes(U_b, -1, -2),
        weights=np.einsum("...ij,...j->...i", E_b, coefficients),
        gamma_star=gamma_star, h2_star=h_star, risk=risk_star,
        fixed_points=gammas, fixed_point_slopes=slopes, fixed_point_risks=risks,
        num_fixed_points=count,
        # as spectral_uniqueness: the paper's or the relaxed condition, and r ≠ 0
        uniqueness_guaranteed=(count > 0) & (
            (delta_sigma * delta_R < M + np.min(s_b, axis=-1))
            | (delta_sigma * delta_R < relaxed_uniqueness_bound(M, s_b))),
        delta_sigma=delta_sigma, delta_R=delta_R, M=M,
        fixed_point_residual=residual, stationarity_residual=stationarity,
    )


def solve_batched_models(models, *, grid_size=129):
    """:func:`solve_batched` on a non-empty sequence of :class:`CorrelatedTaskModel` of one
    ``(d, n)``.

    Examples
    --------
    >>> one = CorrelatedTaskModel(np.eye(2), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    >>> two = CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    >>> solve_batched_models([one, two]).risk.round(8)
    array([1.68695652, 2.45888258])
    """
    if not isinstance(models, Sequence) or isinstance(models, (str, bytes)):
        raise TypeError("models must be a sequence (list or tuple) of CorrelatedTaskModel, got "
                        f"{type(models).__name__}")
    for k, model in enumerate(models):
        if not isinstance(model, CorrelatedTaskModel):
            raise TypeError(f"models[{k}] must be a CorrelatedTaskModel, got "
                            f"{type(model).__name__}")
    if not models:
        raise ValueError("models is empty")
    grid_size = as_grid_size(grid_size)
    shapes = {(m.d, m.n) for m in models}
    if len(shapes) > 1:
        raise ValueError(f"models must share (d, n) to be stacked, got {sorted(shapes)}")
    return solve_batched(np.stack([m.Sigma for m in models]), np.stack([m.R for m in models]),
                         np.stack([m.r for m in models]), np.array([m.sigma2 for m in models]),
                         grid_size=grid_size)
