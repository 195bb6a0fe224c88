"""Validated enclosures of the spectral data ``φ`` depends on, for dense and multitask models.

:func:`~wpgd_theory.verify.certify.certify_fixed_point` needs the eigenvalues ``s_i`` of ``Σ``,
``M = σ² + tr Σ``, and for ``R`` the eigenvalues ``λ`` with the *masses* ``Σ_{i∈J} a_i²`` of
``a = Eᵀr`` over eigenvalue clusters ``J`` (``h₁``, ``h₁'`` and ``h₂`` are sums of
``a_i² g(λ_i)`` and of ``g(s_i)``, so a cluster enters as ``m_J g(λ_J)`` with ``λ_J`` an interval
holding all its eigenvalues). :func:`enclose_spectra` encloses all of them from an approximate
eigendecomposition ``A ≈ Q Θ Qᵀ`` (NumPy's ``eigh``, or ``mpmath.eigsy`` for small matrices) by
verified residual bounds, computed in ball arithmetic (python-flint's ``arb_mat``):

1. ``δ ≥ ‖QᵀQ − I‖_F`` and ``ρ ≥ ‖AQ − QΘ‖_F``. With the polar factor ``U = Q H⁻¹``
   (``H = (QᵀQ)^{1/2}``, ``‖H − I‖ ≤ δ``, ``‖H⁻¹‖ ≤ (1 − δ)^{-1/2}``) the orthonormal ``U``
   satisfies ``‖AU − UΘ‖ ≤ ε := (ρ + 2δ max_i|θ_i − c|) / √(1 − δ)`` for any centre ``c``.
2. ``UᵀAU − Θ`` is symmetric with norm ``≤ ε``: by Weyl's theorem the ``k``-th smallest
   eigenvalue of ``A`` lies within ``ε`` of the ``k``-th smallest ``θ``.
3. Clusters ``J`` are runs of sorted ``θ`` with gaps ``≤ T = √(ε·scale)``. The eigenvalues of
   ``A`` with indices outside ``J`` are at distance ``≥ g_J = dist(θ_{∉J}, [min θ_J, max θ_J]) − ε``
   from ``[min θ_J, max θ_J]``, so by the Davis–Kahan ``sin Θ`` theorem the exact spectral
   projector ``P_J`` and ``U_J U_Jᵀ`` differ by ``η_J ≤ ε / g_J`` in norm, and
   ``|‖P_J r‖ − ‖Q_Jᵀ r‖| ≤ η_J ‖r‖ + δ/(1 − δ)·‖Qᵀr‖``. The cluster mass is the square of that
   enclosure of ``‖P_J r‖``.

Everything above is rigorous for the exact matrix entries (floats, or for a multitask model the
real numbers ``√(n_k n_l) C_kl``, enclosed as balls). Eigenvalue enclosures meeting 0 are clipped at 0
and ``M`` gets the matching one-sided widening: the certificate is about the positive semidefinite
part of the input, which is the model the toolkit defines (validation clips round-off negatives).

Without python-flint (the ``rigorous`` extra) the same bounds are evaluated in ordinary floats (or
mpmath numbers) with a round-off allowance: ``rigorous=False``.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import mpmath
import numpy as np
from mpmath import iv
from mpmath.libmp import from_man_exp

from ..core._repr import summarize
from ..core.model import CorrelatedTaskModel
from ..core.solver import WPGDSolution
from ..core.validation import (
    as_integer,
    as_nonnegative_scalar,
    as_real_array,
    as_symmetric_matrix,
    check_psd_eigenvalues,
)
from ..multitask.model import MultitaskModel, MultitaskSolution, _as_sizes

__all__ = ["SpectralEnclosure", "enclose_spectra", "have_flint"]

_iv = iv.mpf

try:  # optional extra `rigorous`
    import flint
except ImportError:  # pragma: no cover - exercised only without the extra
    flint = None


def have_flint():
    """Whether python-flint (``pip install 'wpgd-theory[rigorous]'``) is importable."""
    return flint is not None


class SpectralEnclosure(NamedTuple):
    """Enclosed spectral data (``mpmath.iv`` intervals) of a model.

    ``sigma_eigenvalues``: one interval per eigenvalue of ``Σ``; ``M``: ``σ² + tr Σ``;
    ``pairs``: ``(λ_J, √m_J)`` per eigenvalue cluster of ``R`` with possibly nonzero mass;
    ``rigorous``: whether ball arithmetic was used; ``radius``: the largest ``ε`` (Weyl radius)
    over ``Σ`` and ``R``.
    """

    sigma_eigenvalues: list
    M: Any
    pairs: list
    rigorous: bool
    radius: float

    def __repr__(self):
        return (f"SpectralEnclosure(sigma_eigenvalues=<list of {len(self.sigma_eigenvalues)} "
                f"intervals>, M={summarize(self.M)}, pairs=<list of {len(self.pairs)} (λ, √m) "
                f"intervals>, rigorous={self.rigorous}, radius={self.radius!r})")


class _Bounds(NamedTuple):
    residual: Any      # ρ ≥ ‖AQ − QΘ‖_F   (mpf upper bound)
    defect: Any        # δ ≥ ‖QᵀQ − I‖_F
    projections: list  # Qᵀr as (lo, hi) mpf pairs (empty if r is None)
    projection_norm: Any  # ≥ ‖Qᵀr‖
    r_norm: Any        # ≥ ‖r‖
    trace: tuple       # (lo, hi) of tr A


# --------------------------------------------------------------------------- arithmetic backends

def _mpf_of_arb_point(x):
    """The exact value of an arb point (no rounding to the current mpmath precision)."""
    mantissa, exponent = x.man_exp()
    return mpmath.mp.make_mpf(from_man_exp(int(mantissa), int(exponent)))


def _arb_interval(x):
    return _mpf_of_arb_point(x.lower()), _mpf_of_arb_point(x.upper())


def _arb(x):
    return flint.arb(x) if isinstance(x, mpmath.mpf) else flint.arb(float(x))


def _arb_bounds(matrix, scales, theta, Q, r):
    """Ball-arithmetic bounds for ``A = diag(t) matrix diag(t)`` (``t = scales`` or 1)."""
    n = matrix.shape[0]
    t = [flint.arb(1)] * n if scales is None else [flint.arb(int(k)).sqrt() for k in scales]
    A = flint.arb_mat([[t[i] * flint.arb(float(matrix[i, j])) * t[j] for j in range(n)]
                       for i in range(n)])
    Qm = flint.arb_mat([[_arb(Q[i, j]) for j in range(n)] for i in range(n)])
    th = [_arb(v) for v in theta]
    AQ = A * Qm
    residual = flint.arb(0)
    for i in range(n):
        for j in range(n):
            e = AQ[i, j] - Qm[i, j] * th[j]
            residual += e * e
    G = Qm.transpose() * Qm
    defect = flint.arb(0)
    for i in range(n):
        for j in range(n):
            e = G[i, j] - (1 if i == j else 0)
            defect += e * e
    trace = sum((A[i, i] for i in range(n)), flint.arb(0))
    projections, projection_norm, r_norm = [], flint.arb(0), flint.arb(0)
    if r is not None:
        rv = [t[i] * flint.arb(float(r[i])) for i in range(n)]
        r_norm = sum((x * x for x in rv), flint.arb(0))
        for j in range(n):
            p = sum((Qm[i, j] * rv[i] for i in range(n)), flint.arb(0))
            projections.append(_arb_interval(p))
            projection_norm += p * p
    return _Bounds(_upper_sqrt(residual), _upper_sqrt(defect), projections,
                   _upper_sqrt(projection_norm), _upper_sqrt(r_norm), _arb_interval(trace))


def _upper_sqrt(square_sum):
    """An exact upper bound on the square root of a sum of squares held as an arb ball.

    A ball of squares of balls around 0 (``[0 ± ρ]²`` is ``[0 ± ρ²]`` in midpoint–radius form)
    reaches below 0, where ``arb.sqrt`` is indeterminate; its exact upper endpoint is ≥ 0.
    """
    return _mpf_of_arb_point(square_sum.upper().sqrt().upper())


def _plain_bounds(matrix, scales, theta, Q, r):
    """The same quantities in floats/mpmath numbers plus a round-off allowance (not rigorous)."""
    n = matrix.shape[0]
    mp = Q.dtype == object
    conv = (lambda x: mpmath.mpf(x)) if mp else float  # noqa: E731
    t = np.ones(n) if scales is None else np.sqrt(np.asarray(scales, dtype=float))
    if mp:
        t = np.array([mpmath.sqrt(mpmath.mpf(int(k))) for k in scales] if scales is not None
                     else [mpmath.mpf(1)] * n, dtype=object)
    A = np.array([[t[i] * conv(matrix[i, j]) * t[j] for j in range(n)] for i in range(n)],
                 dtype=object if mp else float)
    theta = np.asarray(theta, dtype=object if mp else float)
    unit = mpmath.eps if mp else np.finfo(float).eps
    relative = 8 * n * unit                                  # round-off allowance, relative
    scale = max(abs(x) for x in np.ravel(A)) * n + max(abs(x) for x in theta)
    E = A @ Q - Q * theta
    residual = mpmath.sqrt(mpmath.fsum(x * x for x in np.ravel(E))) + relative * scale
    G = Q.T @ Q - np.eye(n)
    defect = mpmath.sqrt(mpmath.fsum(x * x for x in np.ravel(G))) + relative
    tr = mpmath.fsum(A[i, i] for i in range(n))
    tr_pad = relative * mpmath.fsum(abs(A[i, i]) for i in range(n))
    projections, projection_norm, r_norm = [], mpmath.mpf(0), mpmath.mpf(0)
    if r is not None:
        rv = np.array([t[i] * conv(r[i]) for i in range(n)], dtype=object if mp else float)
        r_norm = mpmath.sqrt(mpmath.fsum(x * x for x in rv)) * (1 + relative)
        coefficients = Q.T @ rv
        projections = [(mpmath.mpf(c) - relative * r_norm, mpmath.mpf(c) + relative * r_norm)
                       for c in coefficients]
        projection_norm = mpmath.sqrt(mpmath.fsum(c * c for c in coefficients)) * (1 + relative)
    return _Bounds(mpmath.mpf(residual), mpmath.mpf(defect), projections,
                   mpmath.mpf(projection_norm), mpmath.mpf(r_norm),
                   (mpmath.mpf(tr) - tr_pad, mpmath.mpf(tr) + tr_pad))


# --------------------------------------------------------------------------- eigen-data

def _approximate_eigh(matrix, scales, use_mp):
    """Sorted approximate eigenpairs of ``diag(t) matrix diag(t)`` (floats, or mpf arrays)."""
    n = matrix.shape[0]
    if not use_mp:
        t = np.ones(n) if scales is None else np.sqrt(np.asarray(scales, dtype=float))
        theta, Q = np.linalg.eigh(t[:, None] * matrix * t[None, :])
        return theta, Q
    t = [mpmath.mpf(1)] * n if scales is None else [mpmath.sqrt(mpmath.mpf(int(k)))
                                                    for k in scales]
    A = mpmath.matrix([[t[i] * mpmath.mpf(float(matrix[i, j])) * t[j] for j in range(n)]
                       for i in range(n)])
    values, vectors = mpmath.eigsy(A)
    theta = np.array([values[i] for i in range(n)], dtype=object)
    Q = np.array([[vectors[i, j] for j in range(n)] for i in range(n)], dtype=object)
    order = np.argsort([float(v) for v in theta], kind="stable")
    return theta[order], Q[:, order]


def _lower(x):
    return mpmath.mpf(x.a)


def _upper(x):
    return mpmath.mpf(x.b)


def _weyl_radius(bounds, theta):
    """``ε = (ρ + 2δ max|θ − c|) / √(1 − δ)``, an upper bound (interval arithmetic)."""
    delta = bounds.defect
    if not delta < mpmath.mpf(0.5):
        raise ArithmeticError(f"approximate eigenvectors are far from orthonormal "
                              f"(‖QᵀQ − I‖ ≤ {mpmath.nstr(delta, 3)})")
    spread = (iv.mpf(max(theta)) - iv.mpf(min(theta))) / 2
    value = (iv.mpf(bounds.residual) + 2 * iv.mpf(delta) * spread) / iv.sqrt(1 - iv.mpf(delta))
    return _upper(value)


def _clip(interval):
    """``max(x, 0)`` of an interval (PSD part, see the module docstring)."""
    zero = mpmath.mpf(0)
    return iv.mpf([max(_lower(interval), zero), max(_upper(interval), zero)])


def _eigenvalue_intervals(theta, radius):
    pad = iv.mpf([-radius, radius])
    return [_clip(iv.mpf(v) + pad) for v in theta]


def _clusters(theta, radius):
    """Index runs of sorted ``θ`` separated by gaps ``> √(ε · scale)`` (and always ``> 4ε``)."""
    values = [mpmath.mpf(v) for v in theta]
    scale = max(max(abs(v) for v in values), mpmath.mpf(1))
    threshold = max(mpmath.sqrt(radius * scale), 4 * radius)   # a heuristic: any choice is valid
    runs, start = [], 0
    for k in range(1, len(values)):
        if values[k] - values[k - 1] > threshold:
            runs.append(range(start, k))
            start = k
    runs.append(range(start, len(values)))
    return runs, values


def _cluster_pairs(theta, bounds, radius):
    """``(λ_J, √m_J)`` intervals per cluster (Davis–Kahan projection bound)."""
    runs, values = _clusters(theta, radius)
    delta = iv.mpf(bounds.defect)
    polar = (delta / (1 - delta)) * iv.mpf(bounds.projection_norm)    # ‖(H⁻¹ − I)Qᵀr‖ bound
    pad = iv.mpf([-radius, radius])
    pairs = []
    for run in runs:
        lo, hi = iv.mpf(values[run[0]]), iv.mpf(values[run[-1]])
        others = [iv.mpf(v) for k, v in enumerate(values) if k not in run]
        eta = iv.mpf(0)
        if others:
            gap = min(_lower(lo - v) if v.b < lo.a else _lower(v - hi) for v in others)
            gap = _lower(iv.mpf(gap) - radius)
            eta = iv.mpf(1) if gap <= 0 else iv.mpf([0, min(_upper(iv.mpf(radius) / iv.mpf(gap)), 1)])
        squares = iv.mpf(0)                       # ‖Q_Jᵀ r‖², from the coefficient enclosures
        for k in run:
            c = iv.mpf(list(bounds.projections[k]))
            squares += c * c
        norm = iv.sqrt(iv.mpf([max(_lower(squares), mpmath.mpf(0)), _upper(squares)]))
        slack = _upper(eta * iv.mpf(bounds.r_norm) + polar)
        a = iv.mpf([max(_lower(norm - slack), mpmath.mpf(0)), _upper(norm + slack)])
        if a.b > 0:
            pairs.append((_clip(iv.mpf([lo.a, hi.b]) + pad), a))
    return pairs


def _enclose(matrix, scales, r, use_mp, rigorous):
    theta, Q = _approximate_eigh(matrix, scales, use_mp)
    bounds = (_arb_bounds if rigorous else _plain_bounds)(matrix, scales, theta, Q, r)
    radius = _weyl_radius(bounds, theta)
    return theta, bounds, radius


def enclose_spectra(Sigma, sigma2, R, r, *, sizes=None, digits=30, mp_eigen_limit=40,
                    rigorous=None):
    """Enclose the spectral data of ``(Σ, σ², R, r)``; with ``sizes`` the multitask reduction.

    Parameters
    ----------
    Sigma : ndarray, shape (d, d)
        Exact (binary float) feature covariance.
    sigma2 : float
    R : ndarray
        ``R`` (n × n), or for a multitask model the task correlation ``C`` (K × K): then
        ``sizes`` are the block lengths and the matrix enclosed is ``D^{1/2} C D^{1/2}`` with
        ``r = D^{1/2} c`` (``r`` = the query correlation ``c``); its nonzero eigenvalues and
        masses are those of the ``n × n`` ``R = U C Uᵀ``, ``r = U c``.
    r : ndarray
    sizes : array of int, optional
    digits : int
        Working decimal digits of the enclosures.
    mp_eigen_limit : int
        Matrices of size up to this are diagonalised with ``mpmath.eigsy`` at ``digits + 10``
        digits (tight enclosures, ~``10^-digits``); larger ones with NumPy (``~10^-13``).
    rigorous : bool, optional
        ``None``: ball arithmetic if python-flint is installed. ``True`` requires it
        (ImportError naming the extra otherwise); ``False`` forces the float route.

    Returns
    -------
    SpectralEnclosure

    Raises
    ------
    TypeError, ValueError
        Naming the argument: ``Sigma`` and ``R`` must be finite, symmetric and positive
        semidefinite, ``r`` a finite vector of ``R``'s size, ``sigma2 >= 0``, ``sizes`` positive
        integers (one per row of ``R``).

    Examples
    --------
    >>> import numpy as np
    >>> enc = enclose_spectra(np.diag([1.0, 2.0]), 0.1, np.array([[1, .5], [.5, 1]]),
    ...                       np.array([.9, .3]), digits=20)
    >>> enc.rigorous == have_flint(), len(enc.pairs)
    (True, 2)
    >>> enc.pairs[0][0]                       # λ = 0.5 exactly, enclosed
    mpi('0.5', '0.5...')
    >>> enclose_spectra(np.eye(2), 0.1, [[1.0]], [0.5, 0.5])
    Traceback (most recent call last):
    ...
    ValueError: r must have shape (1,) like R (1 x 1), got shape (2,)
    """
    return _enclose_spectra(Sigma, sigma2, R, r, sizes, digits, mp_eigen_limit, rigorous,
                            check_psd=True)


def _enclose_spectra(Sigma, sigma2, R, r, sizes, digits, mp_eigen_limit, rigorous, check_psd):
    # check_psd=False for a validated model: it was accepted with the tolerance of its own input
    # type (core.validation.check_psd_eigenvalues), which a float64 re-check would not repeat.
    Sigma, sigma2, R, r, sizes = _check_inputs(Sigma, sigma2, R, r, sizes, check_psd)
    digits = as_integer(digits, "digits", minimum=1)
    mp_eigen_limit = as_integer(mp_eigen_limit, "mp_eigen_limit", minimum=0)
    if rigorous is not None and not isinstance(rigorous, (bool, np.bool_)):
        raise TypeError(f"rigorous must be None, True or False, got {type(rigorous).__name__}")
    if rigorous is None:
        rigorous = have_flint()
    if rigorous and not have_flint():
        raise ImportError("rigorous certificates of dense or multitask models need python-flint: "
                          "pip install 'wpgd-theory[rigorous]'")
    if rigorous:
        saved = flint.ctx.prec
        flint.ctx.prec = max(128, int((digits + 10) * 3.33) + 32)
    saved_iv = iv.prec
    iv.dps = max(digits + 10, int(mpmath.mp.dps))
    try:
        with mpmath.workdps(digits + 10):
            d, n = Sigma.shape[0], R.shape[0]
            s_theta, s_bounds, s_radius = _enclose(Sigma, None, None, d <= mp_eigen_limit,
                                                   rigorous)
            l_theta, l_bounds, l_radius = _enclose(R, sizes, r, n <= mp_eigen_limit, rigorous)
            s = _eigenvalue_intervals(s_theta, s_radius)
            # tr of the PSD part = tr Σ + Σ max(−s_i, 0) ∈ tr Σ + [0, Σ max(ε − θ_i, 0)].
            negative = iv.mpf(0)
            for v in s_theta:
                negative += iv.mpf([0, max(_upper(iv.mpf(s_radius) - iv.mpf(v)), mpmath.mpf(0))])
            M = iv.mpf(float(sigma2)) + iv.mpf(list(s_bounds.trace)) + negative
            pairs = _cluster_pairs(l_theta, l_bounds, l_radius)
    finally:
        iv.prec = saved_iv
        if rigorous:
            flint.ctx.prec = saved
    return SpectralEnclosure(s, M, pairs, bool(rigorous), float(max(s_radius, l_radius)))


def _check_inputs(Sigma, sigma2, R, r, sizes, check_psd=True):
    """The arguments of :func:`enclose_spectra` as validated float arrays (``sizes``: int64)."""
    Sigma = as_symmetric_matrix(Sigma, "Sigma")
    sigma2 = as_nonnegative_scalar(sigma2, "sigma2")
    R = as_symmetric_matrix(R, "R")
    for name, matrix in (("Sigma", Sigma), ("R", R)) if check_psd else ():
        check_psd_eigenvalues(np.linalg.eigvalsh(matrix), name)
    n = R.shape[0]
    r = as_real_array(r, "r", ndim=1)
    if r.shape != (n,):
        raise ValueError(f"r must have shape ({n},) like R ({n} x {n}), got shape {r.shape}")
    if sizes is not None:
        if isinstance(sizes, (str, bytes)):
            raise TypeError(f"sizes must be an array of positive integers, got "
                            f"{type(sizes).__name__}")
        sizes = _as_sizes(sizes)                  # the multitask model's own check
        if sizes.shape != (n,):
            raise ValueError(f"sizes must have shape ({n},), one block length per row of R, got "
                             f"shape {sizes.shape}")
    return Sigma, sigma2, R, r, sizes


# --------------------------------------------------------------------------- any input

class IntervalSpectra(NamedTuple):
    """Interval spectra in the duck type of :mod:`wpgd_theory.core.spectral` (object arrays)."""

    sigma_eigenvalues: np.ndarray   # object array of iv.mpf (zeros dropped)
    M: Any
    R_eigenvalues: np.ndarray       # relevant eigenvalues only (a ≠ 0)
    r_coefficients: np.ndarray


def _unwrap(spectra):
    """A solution (``WPGDSolution``/``MultitaskSolution``) stands for its model."""
    if isinstance(spectra, (WPGDSolution, MultitaskSolution)):
        return spectra.model
    return spectra


def interval_spectra(spectra, digits, mp_eigen_limit, rigorous=None):
    """``(IntervalSpectra, rigorous, radius)`` for a model, a solution or spectral data."""
    spectra = _unwrap(spectra)
    # A model is valid everywhere or nowhere: its matrices are not re-checked for PSD here.
    if isinstance(spectra, CorrelatedTaskModel):
        enclosure = _enclose_spectra(spectra.Sigma, spectra.sigma2, spectra.R, spectra.r, None,
                                     digits, mp_eigen_limit, rigorous, check_psd=False)
    elif isinstance(spectra, MultitaskModel):
        enclosure = _enclose_spectra(spectra.Sigma, spectra.sigma2, spectra.task_correlation,
                                     spectra.query_correlation, spectra.sizes, digits,
                                     mp_eigen_limit, rigorous, check_psd=False)
    else:
        s, M, lam, a = _validated_spectra(spectra)
        return _assemble(s, M, _merge_equal(lam, a)), True, 0.0
    return (_assemble(enclosure.sigma_eigenvalues, enclosure.M, enclosure.pairs),
            enclosure.rigorous, enclosure.radius)


def _validated_spectra(spectra):
    """Spectral data checked up front: ValueError naming the attribute, TypeError if missing."""
    for name in ("sigma_eigenvalues", "R_eigenvalues", "r_coefficients"):
        if not hasattr(spectra, name):
            raise TypeError("spectra must be a CorrelatedTaskModel, MultitaskModel, a solution of "
                            f"either, or spectral data with attribute {name!r}; got "
                            f"{type(spectra).__name__}")
    if not (hasattr(spectra, "sigma2") or hasattr(spectra, "M")):
        raise TypeError("spectral data must have attribute 'sigma2' (or 'M')")
    arrays = {}
    for name in ("sigma_eigenvalues", "R_eigenvalues", "r_coefficients"):
        try:
            array = np.asarray(getattr(spectra, name), dtype=float)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name} must be a real 1-d array: {error}") from None
        if array.ndim != 1 or array.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-d array, got shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
        arrays[name] = array
    s, lam, a = arrays["sigma_eigenvalues"], arrays["R_eigenvalues"], arrays["r_coefficients"]
    if np.any(s < 0):
        raise ValueError(f"sigma_eigenvalues must be >= 0 (Σ is PSD), got min {s.min():.6g}")
    if not np.any(s > 0):
        raise ValueError("sigma_eigenvalues are all zero: Sigma is zero, h₂ is undefined")
    if np.any(lam < 0):
        raise ValueError(f"R_eigenvalues must be >= 0 (R is PSD), got min {lam.min():.6g}")
    if a.shape != lam.shape:
        raise ValueError(f"r_coefficients must match R_eigenvalues in shape: {a.shape} vs "
                         f"{lam.shape}")
    if not np.any(a != 0):
        raise ValueError("r_coefficients are all zero (r = 0): h₁ is undefined, no fixed point")
    s_iv = [_iv(float(v)) for v in s]
    if hasattr(spectra, "sigma2"):
        sigma2 = _as_float(spectra.sigma2, "sigma2")
        if sigma2 < 0:
            raise ValueError(f"sigma2 must be >= 0 (a noise variance), got {sigma2!r}")
        M = _iv(sigma2) + iv.fsum(s_iv)
    else:
        M_value = _as_float(spectra.M, "M")
        if not M_value >= float(np.sum(s)) * (1 - 1e-15):
            raise ValueError(f"M must be >= sum of sigma_eigenvalues (M = σ² + tr Σ), got "
                             f"{M_value!r} < {float(np.sum(s))!r}")
        M = _iv(M_value)
    return s_iv, M, lam, a


def _as_float(value, name):
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None
    if not np.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result!r}")
    return result


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
    if not any(v.b > 0 for v in s):
        raise ValueError("Sigma is zero: h₂ is undefined")
    positive = [v for v in s if v.b > 0]   # exact zeros contribute nothing to h₂
    lam, a = zip(*pairs)
    return IntervalSpectra(np.array(positive, dtype=object), M, np.array(lam, dtype=object),
                            np.array(a, dtype=object))
