"""Why the optimal WPGD solution is unique (or not): a small result object and the spectral tests.

The optimum is unique (up to the rescaling ``(cP, ω/c)``, and for singular ``Σ`` up to the
entries of ``P`` touching ``ker Σ``) exactly when ``φ(γ) = 1 + h₁(h₂(γ))`` has one fixed point
(docs/findings.md §6: every stationary point with ``ωᵀr ≠ 0`` comes from a fixed point, the others
have risk ``M``). Three sufficient conditions are known, strongest evidence last:

``"paper condition"``
    Theorem 3's hypothesis ``Δ_Σ Δ_R < M + s_min`` (:func:`~.spectral.spectral_gap_condition`).
``"relaxed condition"``
    ``Δ_Σ Δ_R < 2 (M + s⁺_min)`` (``s⁺_min``: smallest nonzero eigenvalue of ``Σ``). Proved in
    docs/findings.md §6: ``sup φ' ≤ κ = (Δ_Σ Δ_R)² / (4 (M + s⁺_min)²)``, so ``φ`` is a contraction.
``"certificate"``
    An interval certificate proving exactly one fixed point — computed in the verification layer
    (:func:`wpgd_theory.verify.certify.certify_uniqueness`, :func:`wpgd_theory.verify.certify.
    solve_certified`); the core cannot import it.

Otherwise the reason is ``"not established"`` (with the number of fixed points the solver found)
or, from a certificate, ``"certified non-unique"``. The two spectral conditions are evaluated on
the float spectra of the model (like the solver), not in interval arithmetic.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .spectral import spectral_gap_condition
from .validation import eigenvalue_tolerance

__all__ = ["Uniqueness", "spectral_uniqueness", "UNIQUENESS_REASONS"]

PAPER, RELAXED, CERTIFICATE = "paper condition", "relaxed condition", "certificate"
NOT_ESTABLISHED, NON_UNIQUE = "not established", "certified non-unique"
UNIQUENESS_REASONS = (PAPER, RELAXED, CERTIFICATE, NOT_ESTABLISHED, NON_UNIQUE)
"""Every value :attr:`Uniqueness.reason` can take."""


@dataclass(frozen=True)
class Uniqueness:
    """Whether the optimum is unique, and why.

    Attributes
    ----------
    established : bool
        ``True`` iff uniqueness of the fixed point ``γ*`` (hence of the optimum up to rescaling)
        is proved by ``reason``. Also the truth value of the object.
    reason : str
        One of :data:`UNIQUENESS_REASONS`: ``"paper condition"``, ``"relaxed condition"``,
        ``"certificate"``, ``"not established"`` or ``"certified non-unique"``.
    fixed_points : int or None
        Number of fixed points of ``φ``: found by the solver for the spectral reasons, proved by
        a certificate for the last two; ``None`` if not known.
    product : float
        ``Δ_Σ Δ_R`` (effective gaps: nonzero eigenvalues).
    paper_bound : float
        ``M + s_min`` (the paper's right-hand side).
    relaxed_bound : float
        ``2 (M + s⁺_min)`` (the proven relaxed right-hand side).
    rigorous : bool
        ``True`` only for a certificate in validated interval arithmetic (see
        :mod:`wpgd_theory.verify.certify`); the spectral tests use float spectra.
    detail : str
        One sentence for people.
    certificate : object
        The :class:`~wpgd_theory.verify.certify.FixedPointCertificate` behind a certificate
        reason (``None`` otherwise; not shown in the repr).

    Examples
    --------
    >>> from .model import CorrelatedTaskModel
    >>> model = CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    >>> spectral_uniqueness(model, fixed_points=1)
    Uniqueness(established=True, reason='paper condition', fixed_points=1, product=1, paper_bound=4.1, relaxed_bound=8.2)
    >>> bool(spectral_uniqueness(model))
    True
    """

    established: bool
    reason: str
    fixed_points: Any = None
    product: float = float("nan")
    paper_bound: float = float("nan")
    relaxed_bound: float = float("nan")
    rigorous: bool = False
    detail: str = ""
    certificate: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.reason not in UNIQUENESS_REASONS:
            raise ValueError(f"reason must be one of {UNIQUENESS_REASONS}, got {self.reason!r}")

    def __bool__(self):
        return bool(self.established)

    def to_dict(self):
        """Plain JSON-ready dict (NaN → ``None``; the certificate via its own ``to_dict``).

        Examples
        --------
        >>> Uniqueness(False, "not established", fixed_points=0).to_dict()["product"] is None
        True
        """
        def number(x):
            return None if x is None or x != x else float(x)

        out = {"established": bool(self.established), "reason": self.reason,
               "fixed_points": self.fixed_points, "product": number(self.product),
               "paper_bound": number(self.paper_bound),
               "relaxed_bound": number(self.relaxed_bound), "rigorous": bool(self.rigorous),
               "detail": self.detail}
        if self.certificate is not None and hasattr(self.certificate, "to_dict"):
            out["certificate"] = self.certificate.to_dict()
        return out

    def __repr__(self):
        return (f"Uniqueness(established={self.established}, reason={self.reason!r}, "
                f"fixed_points={self.fixed_points}, product={self.product:.6g}, "
                f"paper_bound={self.paper_bound:.6g}, relaxed_bound={self.relaxed_bound:.6g})")


def relaxed_uniqueness_bound(M, sigma_eigenvalues):
    """``2(M + s⁺_min)``, the toolkit's relaxed bound on ``Δ_Σ Δ_R`` (docs/findings.md §6).

    ``s⁺_min`` is the smallest eigenvalue of ``Σ`` above round-off (0 if there is none).
    Vectorised: ``sigma_eigenvalues`` may be a stack ``(..., d)`` with ``M`` of shape ``(...)``.
    """
    s = np.asarray(sigma_eigenvalues, dtype=float)
    tolerance = np.asarray(eigenvalue_tolerance(s))[..., None] if s.ndim > 1 else \
        eigenvalue_tolerance(s)
    positive = np.where(s > tolerance, s, np.inf).min(axis=-1)
    return 2.0 * (np.asarray(M, dtype=float) + np.where(np.isfinite(positive), positive, 0.0))


def _check_arguments(model, fixed_points, gap):
    """TypeError/ValueError naming the argument of :func:`spectral_uniqueness` that is wrong."""
    needed = ("sigma_eigenvalues", "M") + (("spectral_gap_sigma", "spectral_gap_R")
                                           if gap is None else ())
    missing = [attribute for attribute in needed if not hasattr(model, attribute)]
    if missing:
        raise TypeError(f"model must be a CorrelatedTaskModel, MultitaskModel or spectral data "
                        f"with {', '.join(needed)}; got {type(model).__name__} (missing "
                        f"{', '.join(missing)})")
    if fixed_points is not None and (isinstance(fixed_points, (bool, np.bool_))
                                     or not isinstance(fixed_points, numbers.Integral)):
        raise TypeError(f"fixed_points must be None or an integer, got "
                        f"{type(fixed_points).__name__}")
    if fixed_points is not None and fixed_points < 0:
        raise ValueError(f"fixed_points must be >= 0, got {fixed_points}")
    if gap is not None and not all(hasattr(gap, attribute) for attribute in
                                   ("delta_sigma", "delta_R", "bound", "holds")):
        raise TypeError(f"gap must be None or a SpectralGapTest, got {type(gap).__name__}")


def spectral_uniqueness(model, *, fixed_points=None, gap=None):
    """The paper's and the relaxed sufficient condition for a unique optimum, as a :class:`Uniqueness`.

    Parameters
    ----------
    model : CorrelatedTaskModel, MultitaskModel or spectral data
        Anything with ``sigma_eigenvalues``, ``M``, ``spectral_gap_sigma`` and ``spectral_gap_R``
        (the inputs of :func:`~.spectral.spectral_gap_condition`).
    fixed_points : int, optional
        Number of fixed points the solver found (reported; ``0`` means ``r = 0``, where the
        minimiser is not unique: every ``(P, 0)`` and every ``(0, ω)`` has the optimal risk ``M``).
    gap : SpectralGapTest, optional
        Reuse an already computed :func:`~.spectral.spectral_gap_condition`.

    Returns
    -------
    Uniqueness
        Reason ``"paper condition"`` if ``Δ_Σ Δ_R < M + s_min``, else ``"relaxed condition"`` if
        ``Δ_Σ Δ_R < 2(M + s⁺_min)``, else ``"not established"``.

    Examples
    --------
    Fails the paper's condition, meets the relaxed one:

    >>> from .model import CorrelatedTaskModel
    >>> model = CorrelatedTaskModel(np.diag([0.1, 3.0]), [[1, .9], [.9, 1]], [.9, .8], 0.0)
    >>> spectral_uniqueness(model, fixed_points=1)
    Uniqueness(established=True, reason='relaxed condition', fixed_points=1, product=5.22, paper_bound=3.2, relaxed_bound=6.4)
    """
    _check_arguments(model, fixed_points, gap)
    gap = spectral_gap_condition(model) if gap is None else gap
    product = float(gap.delta_sigma * gap.delta_R)
    relaxed_bound = float(relaxed_uniqueness_bound(model.M, model.sigma_eigenvalues))
    numbers = dict(fixed_points=fixed_points, product=product, paper_bound=float(gap.bound),
                   relaxed_bound=relaxed_bound)
    if fixed_points == 0:
        return Uniqueness(False, NOT_ESTABLISHED, detail=(
            "r = 0: no fixed point; every (P, 0) and (0, ω) attains the optimal risk M, so the "
            "minimiser is not unique (the predictor 0 is)"), **numbers)
    if gap.holds:
        return Uniqueness(True, PAPER, detail=(
            f"Δ_Σ Δ_R = {product:.6g} < M + s_min = {gap.bound:.6g} (Theorem 3)"), **numbers)
    if product < relaxed_bound:
        return Uniqueness(True, RELAXED, detail=(
            f"Δ_Σ Δ_R = {product:.6g} < 2(M + s⁺_min) = {relaxed_bound:.6g}: sup φ' < 1 "
            "(docs/findings.md §6)"), **numbers)
    found = "" if fixed_points is None else f"; the solver found {fixed_points} fixed point(s)"
    return Uniqueness(False, NOT_ESTABLISHED, detail=(
        f"Δ_Σ Δ_R = {product:.6g} ≥ 2(M + s⁺_min) = {relaxed_bound:.6g}{found}; "
        "certify with wpgd_theory.verify.certify_uniqueness"), **numbers)
