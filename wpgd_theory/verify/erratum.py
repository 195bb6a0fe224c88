"""Where the paper is wrong as printed, as functions a reader can call (docs/findings.md).

* **The form of P*** (Theorem 2, docs/theory.md §5). The poster prints
  ``P* = Σ^{-1/2}((γ*/M)Σ + I)⁻¹Σ^{-1/2}``; the best ``P`` for the stationary weights is
  ``A(BΣ + CI)⁻¹ ∝ ((γ*/M)Σ + I)⁻¹``. :func:`preconditioner_erratum` measures both shapes on a
  model: the stationarity residual at the best scalar multiple, the shape error, and the best
  risk reachable with each shape (weights re-optimised).
* **"ω* unreachable ⇒ the best scalar gating is linear attention"** (docs/theory.md §7).
  :data:`SCALAR_GATING_COUNTEREXAMPLES` are instances where it fails; :func:`scalar_gating_claim`
  tests the claim on any multitask model.
* **Uniqueness beyond Theorem 3's condition** (docs/theory.md §4).
  :func:`three_fixed_point_instance` is the certified instance with three fixed points, a saddle
  and a non-global local minimum; :func:`three_fixed_point_multitask_instance` a two-block
  multitask model with the same landscape (for trained gated GLA).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core._repr import compact_repr
from ..core.model import CorrelatedTaskModel
from ..core.risk import risk, risk_gradient, weight_moments
from ..core.solver import solve_model
from ..core.validation import as_real, as_real_array
from ..multitask.gating import (
    in_monotone_cone,
    linear_attention_optimum,
    scalar_gating_optimum,
)
from ..multitask.model import MultitaskModel, solve_multitask
from .search import two_cluster_instance

__all__ = ["preconditioner_shapes", "best_preconditioner_multiple", "stationarity_residual",
           "best_risk_with_shape", "shape_error", "PreconditionerErratum",
           "preconditioner_erratum", "SCALAR_GATING_COUNTEREXAMPLES",
           "scalar_gating_counterexample", "ScalarGatingClaim", "scalar_gating_claim",
           "three_fixed_point_instance", "three_fixed_point_multitask_instance"]

STATIONARY_TOL = 1e-9
"""Residual below which a shape counts as stationary (round-off is ~1e-15)."""


def _check_dense(model):
    if not isinstance(model, CorrelatedTaskModel):
        raise TypeError(f"model must be a CorrelatedTaskModel (use "
                        f"MultitaskModel.to_correlated_task_model() for small multitask models), "
                        f"got {type(model).__name__}")


def _check_preconditioner(value, name, model):
    """``value`` as a finite float ``d × d`` matrix (``d`` of ``model``), or raise naming ``name``."""
    matrix = as_real_array(value, name, ndim=2)
    if matrix.shape != (model.d, model.d):
        raise ValueError(f"{name} must have shape (d, d) = ({model.d}, {model.d}) like the "
                         f"model's Sigma, got shape {matrix.shape}")
    return matrix


def preconditioner_shapes(model, gamma):
    """``(corrected, printed)`` preconditioner shapes at ``γ``, both unnormalised.

    ``corrected = ((γ/M)Σ + I)⁻¹``; ``printed = Σ^{-1/2}((γ/M)Σ + I)⁻¹Σ^{-1/2}`` with the
    pseudo-inverse root (0 on ``ker Σ``).

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.diag([1.0, 4.0]), [[1.0]], [0.5], 0.0)
    >>> corrected, printed = preconditioner_shapes(model, gamma=5.0)    # γ/M = 1
    >>> np.diag(corrected), np.diag(printed)
    (array([0.5, 0.2]), array([0.5 , 0.05]))
    """
    _check_dense(model)
    gamma = as_real(gamma, "gamma", minimum=0.0)
    s, U = model.sigma_eigenvalues, model.sigma_eigenvectors
    core = 1.0 / (gamma / model.M * s + 1.0)
    inverse = np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), 0.0)
    return (U * core) @ U.T, (U * (core * inverse)) @ U.T


def best_preconditioner_multiple(model, shape, weights):
    """``c·shape`` minimising ``L(c·shape, ω)`` over ``c``: the risk is a quadratic in ``c`` with
    minimiser ``c = A tr(PΣ²) / tr(PᵀΣP(BΣ² + CΣ))`` (docs/theory.md §2)."""
    _check_dense(model)
    shape = _check_preconditioner(shape, "shape", model)
    A, B, C = weight_moments(model, weights)
    S = model.Sigma
    quadratic = np.trace(shape.T @ S @ shape @ (B * S @ S + C * S))
    c = A * np.trace(shape @ S @ S) / quadratic if quadratic > 0 else 0.0
    return c * shape


def stationarity_residual(model, P, weights):
    """Relative gradient norm ``‖∇L(P, ω)‖ / ‖∇_P L(0, ω)‖`` (scale-free)."""
    _check_dense(model)
    P = _check_preconditioner(P, "P", model)
    grad = np.concatenate([g.ravel() for g in risk_gradient(model, P, weights)])
    reference = np.linalg.norm(risk_gradient(model, 0 * P, weights)[0])
    return float(np.linalg.norm(grad) / max(reference, 1e-300))


def best_risk_with_shape(model, shape):
    """``min_{c, ω} L(c·shape, ω)``: for fixed ``P`` the risk is quadratic in ``ω``, minimised by
    ``ω ∝ (T₂(R + I) + M T₁ I)⁻¹ r`` with ``T_k = tr(PᵀΣPΣ^k)``.

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.diag([1.0, 4.0]), [[1, .5], [.5, 1]], [.6, .3], 0.1)
    >>> solution = solve_model(model)
    >>> corrected, printed = preconditioner_shapes(model, solution.gamma_star)
    >>> bool(abs(best_risk_with_shape(model, corrected) - solution.risk) < 1e-12)
    True
    >>> bool(best_risk_with_shape(model, printed) > solution.risk + 1e-3)
    True
    """
    _check_dense(model)
    shape = _check_preconditioner(shape, "shape", model)
    S = model.Sigma
    PtSP = shape.T @ S @ shape
    T1, T2 = np.trace(PtSP @ S), np.trace(PtSP @ S @ S)
    identity = np.eye(model.n)
    weights = np.linalg.solve(T2 * (model.R + identity) + model.M * T1 * identity,
                              np.trace(shape @ S @ S) * model.r)
    return float(risk(model, best_preconditioner_multiple(model, shape, weights), weights))


def shape_error(A, B):
    """Relative error of the best scalar fit, ``min_c ‖cA − B‖ / ‖B‖``.

    Examples
    --------
    >>> shape_error(np.eye(2), 3 * np.eye(2)), round(shape_error(np.eye(2), np.diag([1., 0.])), 4)
    (0.0, 0.7071)
    """
    A, B = as_real_array(A, "A"), as_real_array(B, "B")
    if A.shape != B.shape or A.size == 0:
        raise ValueError(f"A and B must be non-empty arrays of one shape, got A.shape = {A.shape} "
                         f"and B.shape = {B.shape}")
    if not np.any(B):
        raise ValueError("B must be nonzero (the error is relative to its norm)")
    if not np.any(A):
        return 1.0                                  # c·0 = 0: the error is ‖B‖ / ‖B‖
    cosine = np.sum(A * B) / (np.linalg.norm(A) * np.linalg.norm(B))
    return float(np.sqrt(max(0.0, 1.0 - cosine**2)))


class PreconditionerErratum(NamedTuple):
    """Both forms of ``P*`` measured on one model (:func:`preconditioner_erratum`).

    Attributes
    ----------
    corrected_residual, printed_residual : float
        :func:`stationarity_residual` at the best multiple of each shape, with ``ω*``.
    shape_error : float
        :func:`shape_error` of the printed shape against the solver's ``P*``.
    risk, printed_risk : float
        ``L*`` and the best risk reachable with the printed shape (weights re-optimised).
    isotropic : bool
        Whether ``Σ ∝ I`` (where the two forms coincide).
    """

    corrected_residual: float
    printed_residual: float
    shape_error: float
    risk: float
    printed_risk: float
    isotropic: bool

    @property
    def printed_is_stationary(self):
        """Whether the printed form is stationary (to :data:`STATIONARY_TOL`)."""
        return self.printed_residual < STATIONARY_TOL

    def __repr__(self):
        return (f"PreconditionerErratum(corrected_residual={self.corrected_residual:.2g}, "
                f"printed_residual={self.printed_residual:.3g}, "
                f"shape_error={self.shape_error:.3g}, risk={self.risk:.6g}, "
                f"printed_risk={self.printed_risk:.6g}, isotropic={self.isotropic})")


def preconditioner_erratum(model):
    """Measure the corrected and the printed ``P*`` on one model (``Σ`` nonsingular).

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.diag([0.5, 1.0, 2.0, 4.0]),
    ...                             [[1, .5, .2], [.5, 1, .5], [.2, .5, 1]], [.7, .5, .3], 0.25)
    >>> erratum = preconditioner_erratum(model)
    >>> erratum.corrected_residual < 1e-14, erratum.printed_is_stationary
    (True, False)
    >>> round(erratum.printed_residual, 3), round(erratum.shape_error, 3)
    (0.598, 0.479)
    >>> round(erratum.risk, 6), round(erratum.printed_risk, 6)
    (6.675339, 7.081787)
    """
    _check_dense(model)
    if np.min(model.sigma_eigenvalues) <= 0:
        raise ValueError("model: the printed form Σ^{-1/2}(…)Σ^{-1/2} needs a nonsingular Sigma")
    solution = solve_model(model)
    corrected, printed = preconditioner_shapes(model, solution.gamma_star)
    w = solution.weights
    s = model.sigma_eigenvalues
    return PreconditionerErratum(
        corrected_residual=stationarity_residual(
            model, best_preconditioner_multiple(model, corrected, w), w),
        printed_residual=stationarity_residual(
            model, best_preconditioner_multiple(model, printed, w), w),
        shape_error=shape_error(printed, solution.preconditioner),
        risk=float(solution.risk), printed_risk=best_risk_with_shape(model, printed),
        isotropic=bool(np.ptp(s) <= 1e-12 * np.max(s)))


# ---------------------------------------------------------------------- scalar gating claim

SCALAR_GATING_COUNTEREXAMPLES = {
    "K=3 orthogonal tasks, positive correlations c = (0.6, 0.1, 0.5)":
        dict(task_correlation=np.eye(3), query_correlation=[0.6, 0.1, 0.5], sizes=[4, 4, 4],
             Sigma=np.eye(2), sigma2=0.1),
    "K=2 orthogonal tasks, mixed-sign c = (0.3, -0.9)":
        dict(task_correlation=np.eye(2), query_correlation=[0.3, -0.9], sizes=[10, 10],
             Sigma=np.eye(3), sigma2=0.1),
    "K=2 correlated tasks corr = 0.9, positive c = (0.75, 0.9)":
        dict(task_correlation=[[1, 0.9], [0.9, 1]], query_correlation=[0.75, 0.9],
             sizes=[100, 100], Sigma=np.eye(3), sigma2=0.1),
}
"""Instances where ``ω*`` is not reachable by scalar gating and yet scalar gating beats linear
attention (keyword arguments of :class:`~wpgd_theory.multitask.MultitaskModel`)."""


def scalar_gating_counterexample(name):
    """One of :data:`SCALAR_GATING_COUNTEREXAMPLES` as a ``MultitaskModel``.

    Examples
    --------
    >>> scalar_gating_counterexample("K=2 orthogonal tasks, mixed-sign c = (0.3, -0.9)")
    MultitaskModel(K=2, sizes=[10, 10], d=3, sigma2=0.1)
    """
    if name not in SCALAR_GATING_COUNTEREXAMPLES:
        raise ValueError(f"name must be one of {sorted(SCALAR_GATING_COUNTEREXAMPLES)}, "
                         f"got {name!r}")
    return MultitaskModel(**SCALAR_GATING_COUNTEREXAMPLES[name])


class ScalarGatingClaim(NamedTuple):
    """The claim "ω* unreachable ⇒ best scalar gating = linear attention" on one model."""

    reachable: bool
    wpgd_risk: float
    scalar_risk: float
    linatt_risk: float

    __repr__ = compact_repr
    _repr_fields = ("holds", "reachable", "wpgd_risk", "scalar_risk", "linatt_risk")

    @property
    def holds(self):
        """Reachable, or scalar gating no better than linear attention (to ``1e-10`` relative)."""
        return bool(self.reachable or self.linatt_risk - self.scalar_risk
                    <= 1e-10 * max(1.0, self.linatt_risk))


def scalar_gating_claim(model):
    """Evaluate the scalar-gating claim on a multitask model.

    Examples
    --------
    >>> claim = scalar_gating_claim(scalar_gating_counterexample(
    ...     "K=3 orthogonal tasks, positive correlations c = (0.6, 0.1, 0.5)"))
    >>> claim.reachable, claim.holds
    (False, False)
    >>> round(claim.wpgd_risk, 6), round(claim.scalar_risk, 6), round(claim.linatt_risk, 6)
    (1.401408, 1.542254, 1.559155)
    """
    if not isinstance(model, MultitaskModel):
        raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")
    solution = solve_multitask(model)
    reachable = in_monotone_cone(solution.block_weights) if np.any(solution.block_weights) else True
    return ScalarGatingClaim(bool(reachable), float(solution.risk),
                             float(scalar_gating_optimum(model).risk),
                             float(linear_attention_optimum(model).risk))


def three_fixed_point_instance():
    """The certified instance beyond Theorem 3's condition with three fixed points
    (docs/findings.md §6): a global minimum, a saddle and a non-global local minimum.

    Examples
    --------
    >>> instance = three_fixed_point_instance()
    >>> instance.gap_condition_holds
    False
    >>> from wpgd_theory.core.spectral import find_fixed_points
    >>> [round(float(g), 4) for g in find_fixed_points(instance).fixed_points]
    [10.3639, 39.2034, 91.2184]
    """
    return two_cluster_instance(200, 50, lam_large=190.0, **_THREE_FIXED_POINTS)


#: The two-cluster parameters both three-fixed-point instances share (all but ``n, λ_large``).
_THREE_FIXED_POINTS = {"s_large": 0.14, "s_small": 0.0025, "k_large": 1, "sigma2": 0.005,
                       "lam_small": 0.5, "mass_large": 0.2}


def three_fixed_point_multitask_instance():
    """A two-block multitask model with the same three fixed points (up to the change of
    ``λ_large`` from 190 to 190.5): the trap, for gated GLA.

    Blocks of ``n₁ = 186`` and ``n₂ = 5`` examples (each block one task, so on block-constant
    weights ``R`` is ``[[n₁, ρ√(n₁n₂)], [ρ√(n₁n₂), n₂]]`` and 0 on the within-block contrasts),
    with ``ρ`` chosen so that its eigenvalues are ``λ = (0.5, n − 0.5)``; ``c`` puts
    ``a² = 0.999 (0.8·0.5, 0.2·190.5)`` on them; ``Σ``, ``σ²`` as in
    :func:`three_fixed_point_instance`. The stationary block-weight ratios ``w₁/w₂`` are
    ``0.0104`` (global minimum), ``0.0519`` (saddle) and ``0.1134`` (local minimum): all in
    ``(0, 1)``, so delimiter-driven scalar gating reaches each of them exactly (gate
    ``σ(θ₁) = w₁/w₂``).

    Examples
    --------
    >>> model = three_fixed_point_multitask_instance()
    >>> model
    MultitaskModel(K=2, sizes=[186, 5], d=50, sigma2=0.005)
    >>> [round(float(f.gamma), 3) for f in solve_multitask(model).fixed_points]
    [10.368, 39.093, 91.64]
    """
    n1, n2 = 186, 5
    spectra = two_cluster_instance(n1 + n2, 50, lam_large=n1 + n2 - 0.5, **_THREE_FIXED_POINTS)
    carrying = np.flatnonzero(spectra.r_coefficients)          # λ_small, λ_large (ascending)
    lam, a = spectra.R_eigenvalues[carrying], spectra.r_coefficients[carrying]
    rho = np.sqrt(1 - lam[0] * lam[1] / (n1 * n2))              # λ_small λ_large = det
    block_R = np.array([[n1, rho * np.sqrt(n1 * n2)], [rho * np.sqrt(n1 * n2), n2]])
    _, vectors = np.linalg.eigh(block_R)                       # ascending: λ_small, λ_large
    c = (vectors @ a) / np.sqrt([n1, n2])                      # r = U c, U: unit block vectors
    c = c * np.sign(c[1])                                      # the sign of r is immaterial
    return MultitaskModel(np.array([[1.0, rho], [rho, 1.0]]), c, [n1, n2],
                          np.diag(spectra.sigma_eigenvalues[::-1]), spectra.sigma2)  # s_large first
