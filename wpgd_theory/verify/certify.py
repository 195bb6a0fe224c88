"""Interval-arithmetic certificates for the fixed points of ``φ(γ) = 1 + h₁(h₂(γ))``.

:func:`certify_fixed_point` encloses **every** fixed point of ``φ`` (the stationary ``γ*`` of
Theorem 2) in a narrow interval that provably contains exactly one, decides whether the fixed
point is unique, and bounds ``sup φ'`` over the bracket — with :mod:`mpmath.iv` interval
arithmetic, evaluating the very formulas of :mod:`wpgd_theory.spectral` on object arrays of
intervals. It needs no hypothesis: it works where Theorem 3's spectral-gap condition fails.

Method (branch and bound on ``F(γ) = φ(γ) − γ`` over the bracket ``[1 + λ_min, 1 + λ_max]``,
padded slightly so that no fixed point sits on the boundary):

* ``h₂`` is decreasing and ``h₁`` non-increasing (each derivative is ``−2`` times the covariance of
  two increasing functions of one variable, Chebyshev's sum inequality), so ``φ`` is
  non-decreasing and on a box ``[a, b]``: ``F ⊂ [φ(a) − b, φ(b) − a]`` and
  ``h₂([a, b]) = [h₂(b), h₂(a)]`` — tight enclosures from point evaluations. A box whose ``F``
  excludes 0 holds no fixed point.
* ``φ'([a, b]) ⊂ h₁'(h₂([a, b])) · h₂'([a, b])``. If this excludes 1, ``F`` is strictly monotone on
  the box: it holds a fixed point iff ``F(a)``, ``F(b)`` have opposite signs, and then exactly one.
  That root is located with :func:`mpmath.findroot` and re-verified by a sign change of the
  interval ``F`` on a box of width ``~10^(2−digits)`` around it (ε-inflation).
* Otherwise the box is split, up to ``max_boxes``; boxes left over are reported as undecided.

The contraction bound is the largest upper end of ``φ'`` over a cover of the bracket (refined
where it is largest); it does not use any analytic bound, so it independently tests
:func:`wpgd_theory.search.contraction_bound` (the proven ``sup φ' ≤ (Δ_Σ Δ_R)² / (4(M + s⁺_min)²)``).

Rigour. For *spectral data* (an object with ``sigma_eigenvalues``, ``R_eigenvalues``,
``r_coefficients`` and ``sigma2`` or ``M``, e.g. :class:`wpgd_theory.search.SpectralInstance`)
the floats are exact binary numbers and the certificate is a proof (``rigorous=True``). For a
:class:`~wpgd_theory.model.CorrelatedTaskModel` the certificate is **conditional on the
eigendecomposition** (``rigorous=False``): eigenpairs are computed with ``mpmath.eigsy`` at
``digits + 10`` digits (or taken from NumPy when ``max(n, d) > mp_eigen_limit``) and every
eigenvalue and coefficient is widened by the eigen-residual ``max_i ‖A q_i − θ_i q_i‖`` (plus the
orthogonality defect times ``‖r‖`` for the coefficients ``a = Qᵀr``). The residual bound is
rigorous for each eigenvalue separately; matching eigenvalues one-to-one and bounding the
coefficients of clustered eigenvalues would need more (e.g. Davis–Kahan with certified gaps), so the
eigen step is documented, not proved.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import mpmath
import numpy as np
from mpmath import iv

from ..core.model import CorrelatedTaskModel
from ..core.spectral import fixed_point_map, h1_derivative, h2, h2_derivative

__all__ = ["certify_fixed_point", "FixedPointCertificate"]


@dataclass(frozen=True)
class FixedPointCertificate:
    """Result of :func:`certify_fixed_point` (named fields, like ``scipy.optimize.OptimizeResult``).

    Attributes
    ----------
    enclosures : list of mpmath.iv.mpf
        Disjoint intervals, ascending, each provably containing exactly one fixed point of ``φ``.
    unique : bool or None
        ``True``: exactly one fixed point on the bracket. ``False``: at least two (the count is
        ``len(enclosures)`` if ``undecided`` is empty). ``None``: not decided within the budget.
    contraction_bound : mpmath.mpf
        Upper bound on ``sup φ'`` over the bracket (``φ' ≥ 0``, so it bounds ``sup |φ'|``);
        ``< 1`` proves that ``φ`` is a contraction there.
    width : float
        Largest width of the enclosures (``nan`` if there are none).
    slopes : list of mpmath.iv.mpf
        Enclosure of ``φ'`` on each enclosure: a slope ``> 1`` marks a repelling fixed point.
    boxes : int
        Boxes examined by the branch and bound (root finding plus contraction refinement).
    undecided : list of mpmath.iv.mpf
        Boxes where neither the absence nor the number of fixed points was decided.
    bracket : mpmath.iv.mpf
        The search interval (``[1 + λ_min, 1 + λ_max]`` over relevant eigenvalues, padded).
    digits : int
        Working precision (decimal digits) of the interval arithmetic.
    rigorous : bool
        ``True`` for exact spectral input; ``False`` if conditional on an eigendecomposition.
    eigen_residual : float
        Radius by which eigen-data were widened (0 for exact spectral input).
    message : str
        What was proved.
    """

    enclosures: list
    unique: Any
    contraction_bound: Any
    width: float
    slopes: list
    boxes: int
    undecided: list
    bracket: Any
    digits: int
    rigorous: bool
    eigen_residual: float
    message: str = field(default="")

    @property
    def count(self):
        """Number of fixed points if decided (``None`` while boxes are undecided)."""
        return len(self.enclosures) if not self.undecided else None


class _IntervalSpectra(NamedTuple):
    sigma_eigenvalues: np.ndarray   # object array of iv.mpf (zeros dropped)
    M: Any
    R_eigenvalues: np.ndarray       # relevant eigenvalues only (a ≠ 0)
    r_coefficients: np.ndarray


def certify_fixed_point(spectra, *, digits=30, max_boxes=4000, contraction_refinements=64,
                        mp_eigen_limit=40):
    """Enclose every fixed point of ``φ(γ) = 1 + h₁(h₂(γ))`` and bound ``φ'`` rigorously.

    Parameters
    ----------
    spectra : CorrelatedTaskModel or spectral data
        A model, or any object with ``sigma_eigenvalues``, ``R_eigenvalues``, ``r_coefficients``
        and ``sigma2`` (or ``M``) — e.g. :class:`wpgd_theory.search.SpectralInstance`.
    digits : int
        Decimal digits of the interval arithmetic (≥ 15). Enclosure widths are ``~10^(2−digits)``
        relative.
    max_boxes : int
        Budget of boxes for locating fixed points; what is left is reported as undecided.
    contraction_refinements : int
        Extra box splits spent tightening the contraction bound where it is largest.
    mp_eigen_limit : int
        Models with ``max(n, d)`` up to this use ``mpmath.eigsy``; larger ones NumPy's ``eigh``.

    Returns
    -------
    FixedPointCertificate

    Examples
    --------
    >>> import numpy as np
    >>> from ..core.model import CorrelatedTaskModel
    >>> model = CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    >>> cert = certify_fixed_point(model, digits=30)
    >>> cert.unique, len(cert.enclosures), cert.contraction_bound < 1
    (True, 1, True)
    >>> cert.enclosures[0]            # contains γ* = 2.2037655867...
    mpi('2.20376558677...', '2.20376558677...')
    >>> cert.width < 1e-25
    True
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 15:
        raise ValueError(f"digits must be an int >= 15, got {digits!r}")
    for name, value in (("max_boxes", max_boxes), ("contraction_refinements",
                                                    contraction_refinements)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    with _interval_dps(digits), mpmath.workdps(digits):
        ispectra, rigorous, residual = _interval_spectra(spectra, digits, mp_eigen_limit)
        return _BranchAndBound(ispectra, digits, max_boxes, contraction_refinements).run(
            rigorous, residual)


@contextmanager
def _interval_dps(digits):
    """``mpmath.iv`` has no ``workdps``: set and restore its precision."""
    saved = iv.prec
    iv.dps = digits
    try:
        yield
    finally:
        iv.prec = saved


# --------------------------------------------------------------------------- eigen-data

def _iv(x):
    return iv.mpf(x)


def _widen(values, radius, nonnegative=False):
    out = []
    for v in values:
        lo, hi = mpmath.mpf(v) - radius, mpmath.mpf(v) + radius
        if nonnegative:
            lo = max(lo, mpmath.mpf(0))
        out.append(iv.mpf([lo, hi]))
    return out


def _interval_spectra(spectra, digits, mp_eigen_limit):
    if isinstance(spectra, CorrelatedTaskModel):
        return _model_interval_spectra(spectra, digits, mp_eigen_limit)
    for name in ("sigma_eigenvalues", "R_eigenvalues", "r_coefficients"):
        if not hasattr(spectra, name):
            raise TypeError(f"spectra must be a CorrelatedTaskModel or have attribute {name!r}")
    s = [_iv(float(v)) for v in np.asarray(spectra.sigma_eigenvalues, dtype=float)]
    noise = spectra.sigma2 if hasattr(spectra, "sigma2") else None
    M = (_iv(float(noise)) + iv.fsum(s)) if noise is not None else _iv(float(spectra.M))
    lam = np.asarray(spectra.R_eigenvalues, dtype=float)
    a = np.asarray(spectra.r_coefficients, dtype=float)
    return _assemble(s, M, _merge_equal(lam, a)), True, 0.0


def _merge_equal(lam, a):
    """Exact spectral data: drop ``a_i = 0`` and merge equal eigenvalues (``a² `` adds up)."""
    mass = {}
    for value, coefficient in zip(lam, a):
        if coefficient != 0:
            mass[value] = mass.get(value, _iv(0)) + _iv(coefficient) ** 2
    return [(_iv(value), iv.sqrt(m)) for value, m in sorted(mass.items())]


def _assemble(s, M, pairs):
    if not pairs:
        raise ValueError("r = 0: h₁ is undefined and there is no fixed point")
    positive = [v for v in s if v.b > 0]
    if not positive:
        raise ValueError("Sigma is zero: h₂ is undefined")
    lam, a = zip(*pairs)
    return _IntervalSpectra(np.array(positive, dtype=object), M, np.array(lam, dtype=object),
                            np.array(a, dtype=object))


def _model_interval_spectra(model, digits, mp_eigen_limit):
    use_mp = max(model.n, model.d) <= mp_eigen_limit
    with mpmath.workdps(digits + 10):
        if use_mp:
            from ..core.solver import _mp_spectra  # the solver's high-precision eigen route
            mp = _mp_spectra(model)
            s_vals, U, lam_vals, E = (mp.sigma_eigenvalues, mp.sigma_eigenvectors,
                                      mp.R_eigenvalues, mp.R_eigenvectors)
        else:
            s_vals, U = model.sigma_eigenvalues, model.sigma_eigenvectors
            lam_vals, E = model.R_eigenvalues, model.R_eigenvectors
        res_sigma = _eigen_residual(model.Sigma, s_vals, U, use_mp)
        res_R = _eigen_residual(model.R, lam_vals, E, use_mp)
        orthogonality = _orthogonality_defect(E, use_mp)
        r_norm = float(np.linalg.norm(model.r))
        a_vals = (E.T @ np.array([mpmath.mpf(v) for v in model.r], dtype=object)
                  if use_mp else model.r_coefficients)
    floor = 10.0 ** (-digits - 5) if use_mp else 0.0
    s = _widen(s_vals, res_sigma + floor, nonnegative=True)
    lam = _widen(lam_vals, res_R + floor, nonnegative=True)
    a_radius = r_norm * (orthogonality + res_R) + floor
    a = _widen(a_vals, a_radius)
    M = _iv(float(model.sigma2)) + iv.fsum(s)
    # Keep every direction whose widened coefficient may be nonzero: conservative bracket.
    pairs = [(v, c) for v, c in zip(lam, a) if not (c.a == 0 and c.b == 0)]
    residual = max(res_sigma, res_R, a_radius)
    return _assemble(s, M, pairs), False, residual


def _eigen_residual(A, values, vectors, use_mp):
    """``max_i ‖A q_i − θ_i q_i‖ / ‖q_i‖`` (+ round-off of evaluating it in floats)."""
    if use_mp:
        Amp = np.array([[mpmath.mpf(x) for x in row] for row in A], dtype=object)
        R = Amp @ vectors - vectors * np.asarray(values, dtype=object)
        norms = [mpmath.sqrt(mpmath.fsum(R[:, i] ** 2) / mpmath.fsum(vectors[:, i] ** 2))
                 for i in range(R.shape[1])]
        return float(max(norms))
    Q, theta = np.asarray(vectors, dtype=float), np.asarray(values, dtype=float)
    R = A @ Q - Q * theta
    n = A.shape[0]
    rounding = 4 * n * np.finfo(float).eps * (np.linalg.norm(A, 2) + np.max(np.abs(theta)))
    return float(np.max(np.linalg.norm(R, axis=0) / np.linalg.norm(Q, axis=0)) + rounding)


def _orthogonality_defect(Q, use_mp):
    if use_mp:
        G = Q.T @ Q - np.eye(Q.shape[0], dtype=object) * mpmath.mpf(1)
        return float(mpmath.sqrt(mpmath.fsum(np.ravel(G) ** 2)))
    Q = np.asarray(Q, dtype=float)
    return float(np.linalg.norm(Q.T @ Q - np.eye(Q.shape[0])) + 4 * Q.shape[0] * np.finfo(float).eps)


# --------------------------------------------------------------------------- branch and bound

class _Leaf(NamedTuple):
    box: Any          # iv.mpf
    slope: Any        # iv.mpf enclosure of φ' on the box


class _BranchAndBound:
    SPLIT = mpmath.mpf(0.5) - mpmath.mpf(2) ** -13   # off-centre: never split on a "nice" root

    def __init__(self, spectra, digits, max_boxes, contraction_refinements):
        self.spectra, self.digits = spectra, digits
        self.max_boxes, self.contraction_refinements = max_boxes, contraction_refinements
        self.boxes = 0
        self._phi_cache, self._h2_cache = {}, {}

    # ---- interval evaluations
    def phi(self, x):
        """Interval ``φ(x)`` at a point ``x`` (an mpf endpoint)."""
        if x not in self._phi_cache:
            self._phi_cache[x] = fixed_point_map(_iv(x), self.spectra)
        return self._phi_cache[x]

    def h2_point(self, x):
        if x not in self._h2_cache:
            self._h2_cache[x] = h2(_iv(x), self.spectra.sigma_eigenvalues, self.spectra.M)
        return self._h2_cache[x]

    def slope(self, a, b):
        """Enclosure of ``φ'`` on ``[a, b]``; ``h₂([a, b]) = [h₂(b), h₂(a)]`` by monotonicity."""
        sp = self.spectra
        h_bar = iv.mpf([self.h2_point(b).a, self.h2_point(a).b])
        d1 = h1_derivative(h_bar, sp.R_eigenvalues, sp.r_coefficients)
        d2 = h2_derivative(iv.mpf([a, b]), sp.sigma_eigenvalues, sp.M)
        value = d1 * d2
        zero = mpmath.mpf(0)
        return iv.mpf([max(mpmath.mpf(value.a), zero), max(mpmath.mpf(value.b), zero)])  # φ' ≥ 0

    def F_sign(self, x):
        """Sign of ``F(x) = φ(x) − x`` if decided by the interval, else 0."""
        value = self.phi(x) - x
        return 1 if value.a > 0 else -1 if value.b < 0 else 0

    # ---- main loop
    def bracket(self):
        lam = self.spectra.R_eigenvalues
        lo = 1 + min(mpmath.mpf(v.a) for v in lam)   # .a/.b are point intervals
        hi = 1 + max(mpmath.mpf(v.b) for v in lam)
        pad = (hi - lo) * mpmath.mpf(2) ** -20 + mpmath.mpf(10) ** (-self.digits // 2) * hi
        return max(lo - pad, mpmath.mpf(2) ** -30), hi + pad

    def run(self, rigorous, eigen_residual):
        lo, hi = self.bracket()
        stack, leaves, roots, undecided = [(lo, hi)], [], [], []
        min_width = (hi - lo) * mpmath.mpf(10) ** (-(self.digits - 8))
        while stack:
            a, b = stack.pop()
            self.boxes += 1
            slope = self.slope(a, b)
            outcome = self.classify(a, b, slope)
            if outcome == "split":
                if self.boxes + len(stack) < self.max_boxes and b - a > min_width:
                    m = a + (b - a) * self.SPLIT
                    stack.extend([(m, b), (a, m)])
                    continue
                undecided.append(iv.mpf([a, b]))
            elif outcome == "root":
                roots.append(self.enclose_root(a, b, slope))
            leaves.append(_Leaf(iv.mpf([a, b]), slope))
        roots.sort(key=lambda r: r[0].a)
        bound = self.refine_contraction(leaves)
        return self.certificate(roots, undecided, bound, iv.mpf([lo, hi]), rigorous,
                                eigen_residual)

    def classify(self, a, b, slope):
        """``"empty"``, ``"root"`` (exactly one) or ``"split"``."""
        phi_a, phi_b = self.phi(a), self.phi(b)
        if phi_a.a - b > 0 or phi_b.b - a < 0:     # φ non-decreasing: F([a,b]) excludes 0
            return "empty"
        if not (slope.a <= 1 <= slope.b):          # F strictly monotone on [a, b]
            sa, sb = self.F_sign(a), self.F_sign(b)
            if sa and sb:
                return "root" if sa != sb else "empty"
        return "split"

    def enclose_root(self, a, b, slope):
        """Root of the monotone ``F`` on ``[a, b]``: findroot, then verify a tight sign change."""
        mid = self.midpoint_spectra()
        F = lambda g: fixed_point_map(g, mid) - g   # noqa: E731
        try:
            x = mpmath.findroot(F, (a, b), solver="anderson")
        except (ValueError, ZeroDivisionError):
            x = a + (b - a) / 2
        x = min(max(mpmath.mpf(x), a), b)
        delta = max(abs(x), mpmath.mpf(1)) * mpmath.mpf(10) ** (2 - self.digits)
        while True:
            lo, hi = max(x - delta, a), min(x + delta, b)
            self.boxes += 1
            s_lo, s_hi = self.F_sign(lo), self.F_sign(hi)
            if s_lo and s_hi and s_lo != s_hi:
                box = iv.mpf([lo, hi])
                return box, self.slope(lo, hi)
            if lo == a and hi == b:  # cannot happen: the signs at a, b were verified
                return iv.mpf([a, b]), slope
            delta *= 10

    def midpoint_spectra(self):
        sp = self.spectra
        mid = lambda arr: np.array([mpmath.mpf(v.mid) for v in arr], dtype=object)  # noqa: E731
        return _IntervalSpectra(mid(sp.sigma_eigenvalues), mpmath.mpf(sp.M.mid),
                                mid(sp.R_eigenvalues), mid(sp.r_coefficients))

    def refine_contraction(self, leaves):
        """Split the leaves carrying the largest upper slope, to tighten ``sup φ'``."""
        leaves = list(leaves)
        for _ in range(self.contraction_refinements):
            k = max(range(len(leaves)), key=lambda i: leaves[i].slope.b)
            a, b = mpmath.mpf(leaves[k].box.a), mpmath.mpf(leaves[k].box.b)
            m = a + (b - a) * self.SPLIT
            if not a < m < b:
                break
            self.boxes += 2
            leaves[k:k + 1] = [_Leaf(iv.mpf([a, m]), self.slope(a, m)),
                               _Leaf(iv.mpf([m, b]), self.slope(m, b))]
        return mpmath.mpf(max(leaf.slope.b for leaf in leaves))

    def certificate(self, roots, undecided, bound, bracket, rigorous, eigen_residual):
        enclosures = [box for box, _ in roots]
        slopes = [s for _, s in roots]
        count = len(enclosures)
        unique = (count == 1) if not undecided else (False if count >= 2 else None)
        width = max((float(box.delta) for box in enclosures), default=float("nan"))
        contraction = bound < 1
        if unique is None:
            message = (f"undecided: {count} fixed point(s) enclosed, {len(undecided)} box(es) "
                       f"left after {self.boxes} boxes")
        else:
            lo, hi = (mpmath.nstr(mpmath.mpf(end), 8) for end in (bracket.a, bracket.b))
            message = (f"{count} fixed point(s) of φ on [{lo}, {hi}]"
                       + (", each isolated" if count > 1 else "")
                       + (f"; sup φ' ≤ {mpmath.nstr(bound, 6)}"
                          + (" < 1: φ is a contraction" if contraction else " (not a contraction)")))
        if not rigorous:
            message += " [conditional on the eigendecomposition]"
        return FixedPointCertificate(
            enclosures=enclosures, unique=unique, contraction_bound=bound, width=width,
            slopes=slopes, boxes=self.boxes, undecided=undecided, bracket=bracket,
            digits=self.digits, rigorous=rigorous, eigen_residual=eigen_residual,
            message=message)
