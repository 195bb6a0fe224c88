"""Closed-form population risk of WPGD under the correlated-task model (docs/theory.md §2).

With ``A = ωᵀr``, ``B = ωᵀ(R + I)ω``, ``C = M‖ω‖²``::

    L(P, ω) = M − 2A · tr(PΣ²) + tr(PᵀΣP(BΣ² + CΣ))
    P(ω)    = A (BΣ + CI)⁻¹                         (best P for fixed ω)
    L(ω)    = M − A² Σ_i s_i² / (B s_i + C)          (risk of the weights alone)

Scale-free evaluation: ``(tΣ, tσ²)`` has risk ``t·L`` and preconditioner ``P/t``, so the kernels
work in ``x = s/M`` and ``q = pM`` and scale back, and ``L(ω)`` is summed as

    L(ω) = M [σ²/M + Σ_i x_i ((B − A²) x_i + C/M) / (B x_i + C/M)]

where every term is ``≥ 0`` (``B − A² = ωᵀ(R − rrᵀ)ω + ‖ω‖² ≥ C/M`` because ``[[R, r], [rᵀ, 1]]
⪰ 0``), so round-off can never make a risk negative.
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from .model import CorrelatedTaskModel, check_sample_size
from .multiprecision import mp_congruence
from .parallel import map_chunks
from .predictor import wpgd_predict
from .validation import as_integer, as_real_array, check_spectra

__all__ = [
    "normalised_weights", "stationarity_residual", "weights_gradient_from_coefficients", "weight_moments", "risk", "risk_gradient", "optimal_preconditioner", "risk_of_weights",
    "risk_of_weights_gradient", "linear_attention_risk", "monte_carlo_risk",
    "MonteCarloEstimate",
]


#: Largest prompt batch one Monte Carlo step draws (refused before allocating beyond it).
MAX_BATCH_SIZE = 1_000_000


def _last(x):
    # Per-instance scalars against the eigen-axis: batch axes of the moments (``...``) broadcast
    # with arrays of shape (..., d) or (..., n) (core.batched); a no-op shape (1,) for scalars.
    return np.asarray(x)[..., None]


def _at_least(value, bound):
    # max(value, bound), elementwise for batches; plain max keeps mpmath scalars exact.
    if np.ndim(value) == 0 and np.ndim(bound) == 0:
        return max(value, bound)
    return np.maximum(value, bound)


def _check_model(model):
    if not isinstance(model, CorrelatedTaskModel):
        raise TypeError(f"model must be a CorrelatedTaskModel, got {type(model).__name__}")


def unit_sigma(spectra):
    """``x = s/M``: the eigenvalues of ``Σ/M``, in which every kernel here is scale-free."""
    return np.asarray(spectra.sigma_eigenvalues) / _last(spectra.M)


def _as_weights(model, weights):
    weights = as_real_array(weights, "weights", ndim=1)
    if weights.shape != (model.n,):
        raise ValueError(f"weights must have shape (n,) = ({model.n},), got {weights.shape}")
    return weights


def _as_preconditioner(model, preconditioner):
    P = as_real_array(preconditioner, "preconditioner", ndim=2)
    if P.shape != (model.d, model.d):
        raise ValueError(
            f"preconditioner must have shape (d, d) = ({model.d}, {model.d}), got {P.shape}")
    return P


def normalised_weights(weights, axis=None):
    """``(ω/c, c)`` with ``c = max|ω|`` (``c = 1`` for ``ω = 0``).

    ``L(ω) = L(ω/c)`` and ``P(ω) = P(ω/c)/c``: working at ``max|ω| = 1`` keeps the quadratic
    moments from underflowing (tiny ω) or overflowing (huge ω). ``axis=-1`` normalises each
    vector of a float stack ``(..., n)`` on its own (``c`` of shape ``(...)``, core.batched).

    Examples
    --------
    >>> normalised_weights([[2.0, -4.0], [0.0, 0.0]], axis=-1)
    (array([[ 0.5, -1. ],
           [ 0. ,  0. ]]), array([4., 1.]))
    """
    weights = np.asarray(weights)
    if axis is not None:
        scale = np.max(np.abs(weights), axis=axis, keepdims=True)
        scale = np.where(scale > 0, scale, 1.0)
        return weights / scale, np.squeeze(scale, axis=axis)
    scale = max(np.abs(weights).ravel().tolist(), default=0.0)  # keeps mpmath numbers exact
    return (weights / scale, scale) if scale > 0 else (weights, 1.0)


def scaled_preconditioner(eigenvalues, eigenvectors, scale, name="weights"):
    """``U diag(p / c) Uᵀ``: the preconditioner of ``ω`` from that of ``ω/c``, or a clear error."""
    with np.errstate(over="ignore"):
        p = eigenvalues / scale
    if p.dtype == object:   # mpmath numbers: the O(d³) product through the fast backend
        return mp_congruence(eigenvectors, p)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} are too small (max |{name}| = {scale:.3g}): the preconditioner "
                         "P(ω) = P(ω/c)/c overflows float64; rescale the weights")
    return (eigenvectors * p) @ eigenvectors.T


def moments_from_coefficients(weight_coefficients, spectra):
    """``(A, B, C)`` from the weights' coordinates ``ω̃ = Eᵀω`` in the eigenbasis of R.

    ``A = ω̃ᵀa``, ``B = Σ (λ_i + 1) ω̃_i²``, ``C = M Σ ω̃_i²`` — O(n), and valid for object
    arrays of mpmath numbers.
    """
    check_spectra(spectra)
    w = np.asarray(weight_coefficients)
    norm2 = np.sum(w * w, axis=-1)
    A = np.sum(w * np.asarray(spectra.r_coefficients), axis=-1)
    B = np.sum(np.asarray(spectra.R_eigenvalues) * w * w, axis=-1) + norm2
    return A, B, spectra.M * norm2


def risk_from_moments(A, B, C, spectra):
    """``L(ω) = M − A² Σ s_i² / (B s_i + C)``; equals ``M`` when ``ω = 0``.

    Summed as ``M [σ²/M + Σ x_i (E x_i + c) / (B x_i + c)]`` with ``x = s/M``, ``c = C/M`` and
    ``E = B − A²`` raised to its lower bound ``c`` (module docstring): no term is negative.
    Broadcasts over leading batch axes of the moments and spectra (core.batched).
    """
    check_spectra(spectra)
    M = spectra.M
    if np.ndim(C) == 0 and C == 0:  # ω = 0: predictor is identically zero
        return M
    x, c = unit_sigma(spectra), C / M
    excess, noise = _at_least(B - A**2, c), _at_least(1 - np.sum(x, axis=-1), 0 * c)
    return M * (noise + np.sum(x * (_last(excess) * x + _last(c)) / (_last(B) * x + _last(c)),
                               axis=-1))


def preconditioner_eigenvalues(A, B, C, spectra):
    """Eigenvalues ``A / (B s_i + C)`` of ``P(ω) = A(BΣ + CI)⁻¹`` in Σ's eigenbasis (0 if ω = 0).

    Evaluated as ``(A / (B x_i + C/M)) / M`` with ``x = s/M``; broadcasts over batch axes.
    """
    check_spectra(spectra)
    x, M = unit_sigma(spectra), spectra.M
    if np.ndim(C) == 0 and C == 0:
        return 0 * x
    return _last(A) / (_last(B) * x + _last(C / M)) / _last(M)


def weights_gradient_from_coefficients(coefficients, p, spectra):
    """``∂L/∂ω`` in R's eigenbasis at ``P = U diag(p) Uᵀ`` and ``ω = E ω̃``.

    ``−2 tr(PΣ²) a + 2 tr(PᵀΣPΣ²)(λ + 1)ω̃ + 2M tr(PᵀΣPΣ) ω̃`` — the ω-part of
    :func:`risk_gradient`, in O(n + d). With ``p`` the eigenvalues of ``P(ω)`` it is the gradient
    of ``L(ω)`` (envelope theorem). Valid for object arrays of mpmath numbers.
    """
    check_spectra(spectra)
    # In x = s/M and q = pM: the three traces are M Σqx², M Σq²x³ and Σq²x², i.e. M × (…).
    M, lam, a = spectra.M, spectra.R_eigenvalues, spectra.r_coefficients
    x, q = unit_sigma(spectra), p * _last(M)
    return 2 * _last(M) * (-_last(np.sum(q * x**2, axis=-1)) * a
                           + _last(np.sum(q**2 * x**3, axis=-1)) * (lam + 1) * coefficients
                           + _last(np.sum(q**2 * x**2, axis=-1)) * coefficients)


class _SpectraOf(NamedTuple):
    sigma_eigenvalues: object
    M: object
    R_eigenvalues: object
    r_coefficients: object


def stationarity_residual(spectra, coefficients, p):
    """``‖∂L/∂ω‖`` relative to its first term ``2|tr(PΣ²)| ‖a‖`` at ``ω = Eω̃``, ``P = U diag(p) Uᵀ``.

    ``∂L/∂P`` vanishes by construction of ``p``. Invariant under ``(ω, P) → (cω, P/c)`` and
    ``(a, P) → (a/α, P/α)``, so evaluated at unit weights and unit ``a``, both divided by ``M``:
    nothing under- or overflows at any scale of ``Σ`` or ``r``. ``coefficients`` must have
    ``max|ω̃| = 1`` with ``p`` the eigenvalues of ``P`` for them. Broadcasts over batch axes
    (core.batched); valid for object arrays of mpmath numbers.
    """
    check_spectra(spectra)
    a, alpha = normalised_weights(spectra.r_coefficients, axis=None if np.ndim(
        spectra.r_coefficients) == 1 else -1)
    unit = _SpectraOf(spectra.sigma_eigenvalues, spectra.M, spectra.R_eigenvalues, a)
    p = p / _last(alpha) if np.ndim(alpha) else p / alpha
    grad = weights_gradient_from_coefficients(coefficients, p, unit) / _last(spectra.M)
    trace = np.sum(p * _last(spectra.M) * unit_sigma(unit) ** 2, axis=-1)     # tr(PΣ²) / M
    numerator = np.sqrt(np.sum(grad * grad, axis=-1))
    denominator = 2 * np.abs(trace) * np.sqrt(np.sum(a * a, axis=-1))
    if np.asarray(numerator).dtype == object:
        return numerator / denominator
    # Σ/M below √(smallest normal) (σ² ≥ 1e154 tr Σ): both terms underflow to 0, the gradient
    # vanishes to every representable digit, and the residual is 0, not a 0/0 warning and NaN.
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((numerator == 0) & (denominator == 0), 0.0, numerator / denominator)[()]


def weight_moments(model, weights):
    """``(A, B, C) = (ωᵀr, ωᵀ(R + I)ω, M‖ω‖²)``.

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.eye(2), [[1, .5], [.5, 1]], [.9, .3], 0.)
    >>> weight_moments(model, [1.0, 1.0])
    (1.2, 5.0, 4.0)
    """
    _check_model(model)
    coefficients = model.R_eigenvectors.T @ _as_weights(model, weights)
    return tuple(float(m) for m in moments_from_coefficients(coefficients, model))


def _unit_problem(model, preconditioner):
    """``X = Σ/M`` and ``Q = PM``, in which the risk and its gradient are ``M ×`` scale-free."""
    P = _as_preconditioner(model, preconditioner)
    with np.errstate(over="ignore"):
        Q = P * model.M
    return model.Sigma / model.M, Q


def risk(model, preconditioner, weights):
    """Closed-form risk ``L(P, ω) = E[(y − xᵀPXᵀ(ω ⊙ y))²]``.

    Parameters
    ----------
    model : CorrelatedTaskModel
    preconditioner : array_like, shape (d, d)
    weights : array_like, shape (n,)

    Returns
    -------
    float

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.eye(2), [[1, .5], [.5, 1]], [.9, .3], 0.5)
    >>> risk(model, np.zeros((2, 2)), [1.0, 1.0])   # predicting 0 costs M = σ² + tr Σ
    2.5

    Notes
    -----
    ``L`` is quadratic in ``P`` with minimiser ``P(ω)``, so ``L(P, ω) = L(ω) + tr(DᵀΣDW)`` with
    ``D = P − P(ω)`` and ``W = BΣ² + CΣ``; both terms are evaluated ``≥ 0`` (in Σ's eigenbasis,
    ``tr(DᵀΣDW) = Σ_ij D̃_ij² s_i w_j``), so round-off cannot produce a negative risk.
    """
    _check_model(model)
    P, weights = _as_preconditioner(model, preconditioner), _as_weights(model, weights)
    unit, scale = normalised_weights(weights)
    A, B, C = weight_moments(model, unit)
    U, M = model.sigma_eigenvectors, model.M
    with np.errstate(over="ignore"):   # D for ω/c is c·P − P(ω/c); in units of 1/M: times M
        D = U.T @ (P * (scale * M)) @ U - np.diag(preconditioner_eigenvalues(A, B, C, model) * M)
    x = unit_sigma(model)
    quadratic = M * np.sum(D**2 * np.outer(x, B * x**2 + C / M * x))
    return _finite_risk(risk_from_moments(A, B, C, model) + quadratic, "preconditioner")


def _finite_risk(value, name):
    if not np.isfinite(value):
        raise ValueError(f"the risk overflows float64 at this {name} (its entries are too large "
                         "for the scale of Sigma)")
    return float(value)


def risk_gradient(model, preconditioner, weights):
    """Gradient of :func:`risk` with respect to ``(P, ω)``.

    ``∂L/∂P = −2AΣ² + 2ΣP(BΣ² + CΣ)`` and
    ``∂L/∂ω = −2 tr(PΣ²) r + 2 tr(PᵀΣPΣ²)(R + I)ω + 2M tr(PᵀΣPΣ) ω``.

    Returns
    -------
    grad_preconditioner : ndarray, shape (d, d)
    grad_weights : ndarray, shape (n,)
    """
    _check_model(model)
    weights = _as_weights(model, weights)
    A, B, C = weight_moments(model, weights)
    X, Q = _unit_problem(model, preconditioner)    # Σ = MX, P = Q/M: ∂L/∂P = M² × …, ∂L/∂ω = M × …
    X2, M = X @ X, model.M
    QtXQ = Q.T @ X @ Q
    grad_P = M * M * (-2 * A * X2 + 2 * X @ Q @ (B * X2 + C / M * X))
    grad_w = M * (-2 * np.trace(Q @ X2) * model.r
                  + 2 * np.trace(QtXQ @ X2) * (model.R @ weights + weights)
                  + 2 * np.trace(QtXQ @ X) * weights)
    return grad_P, grad_w


def optimal_preconditioner(model, weights):
    """The best preconditioner for fixed weights, ``P(ω) = A(BΣ + CI)⁻¹``.

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.eye(2), [[1, .5], [.5, 1]], [.9, .3], 0.)
    >>> optimal_preconditioner(model, [1.0, 1.0])   # 1.2 / (5 + 4) · I
    array([[0.1333..., 0.        ],
           [0.        , 0.1333...]])
    """
    _check_model(model)
    unit, scale = normalised_weights(_as_weights(model, weights))
    p = preconditioner_eigenvalues(*weight_moments(model, unit), model)
    return scaled_preconditioner(p, model.sigma_eigenvectors, scale)


def risk_of_weights(model, weights):
    """Risk with the best preconditioner for the weights: ``L(ω) = M − A² Σ s_i²/(B s_i + C)``.

    Invariant to rescaling ``ω`` (computed at ``max|ω| = 1``, so any finite scale works);
    ``ω = 0`` gives ``M``.

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.eye(2), [[1, .5], [.5, 1]], [.9, .3], 0.)
    >>> risk_of_weights(model, [1.0, 1.0]) == risk_of_weights(model, [3e-200, 3e-200])
    True
    """
    _check_model(model)
    unit, _ = normalised_weights(_as_weights(model, weights))
    return float(risk_from_moments(*weight_moments(model, unit), model))


def risk_of_weights_gradient(model, weights):
    """Gradient of :func:`risk_of_weights`: by the envelope theorem, ``∂L/∂ω`` at ``P = P(ω)``."""
    return risk_gradient(model, optimal_preconditioner(model, weights), weights)[1]


def linear_attention_risk(model):
    """Optimal risk of linear attention (PGD: ``ω = 1``, best ``P``), for any ``Σ``.

    For ``Σ = I`` this is the poster's Corollary
    ``d + σ² − d (1ᵀr)² / (n(d + σ² + 1) + 1ᵀR1)``.

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.eye(2), [[1, .5], [.5, 1]], [.9, .3], 0.)
    >>> round(linear_attention_risk(model), 12)  # 2 − 2·1.2²/(2·3 + 3)
    1.68
    """
    _check_model(model)
    return risk_of_weights(model, np.ones(model.n))


class MonteCarloEstimate(NamedTuple):
    """Sample mean of the squared error, its standard error and the number of prompts."""

    mean: float
    stderr: float
    num_prompts: int


def _squared_errors(model, P, weights, block):
    prompts = model.sample(block.stop - block.start, np.random.default_rng(block.seed))
    prediction = wpgd_predict(prompts.query_input, prompts.context_inputs,
                              prompts.context_labels, P, weights)
    return (prompts.query_label - prediction) ** 2


def monte_carlo_risk(model, preconditioner, weights, *, num_prompts=100_000, seed=0,
                     batch_size=20_000, executor=None):
    """Monte Carlo estimate of ``L(P, ω)`` from prompts sampled exactly from the model.

    Independent of the closed form: it only uses the sampler and the predictor. Prompts are
    drawn in seed blocks of ``batch_size`` (:func:`~wpgd_theory.core.parallel.map_chunks`), so
    ``executor`` (None, a ``concurrent.futures.Executor`` or a Dask ``Client``) does not change
    the estimate.

    Examples
    --------
    >>> model = CorrelatedTaskModel(np.eye(2), [[1, .5], [.5, 1]], [.9, .3], 0.5)
    >>> est = monte_carlo_risk(model, np.eye(2) / 4, [1.0, 1.0], num_prompts=20_000, seed=1)
    >>> abs(est.mean - risk(model, np.eye(2) / 4, [1.0, 1.0])) < 4 * est.stderr
    True
    """
    _check_model(model)
    P, weights = _as_preconditioner(model, preconditioner), _as_weights(model, weights)
    num_prompts = as_integer(num_prompts, "num_prompts", minimum=2)
    batch_size = as_integer(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH_SIZE)
    check_sample_size(min(batch_size, num_prompts), model.n, model.d, "batch_size")
    seed = np.random.SeedSequence() if seed is None else seed   # None: fresh entropy
    errors = np.concatenate(map_chunks(partial(_squared_errors, model, P, weights), num_prompts,
                                       seed=seed, block_size=batch_size, executor=executor))
    return MonteCarloEstimate(float(errors.mean()), float(errors.std(ddof=1) / np.sqrt(errors.size)),
                              int(errors.size))
