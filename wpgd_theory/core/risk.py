"""Closed-form population risk of WPGD under the correlated-task model (docs/theory.md §2).

With ``A = ωᵀr``, ``B = ωᵀ(R + I)ω``, ``C = M‖ω‖²``::

    L(P, ω) = M − 2A · tr(PΣ²) + tr(PᵀΣP(BΣ² + CΣ))
    P(ω)    = A (BΣ + CI)⁻¹                         (best P for fixed ω)
    L(ω)    = M − A² Σ_i s_i² / (B s_i + C)          (risk of the weights alone)
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from .model import CorrelatedTaskModel
from .parallel import map_chunks
from .predictor import wpgd_predict
from .validation import as_real_array

__all__ = [
    "normalised_weights", "weights_gradient_from_coefficients", "weight_moments", "risk", "risk_gradient", "optimal_preconditioner", "risk_of_weights",
    "risk_of_weights_gradient", "linear_attention_risk", "monte_carlo_risk",
    "MonteCarloEstimate",
]


def _last(x):
    # Per-instance scalars against the eigen-axis: batch axes of the moments (``...``) broadcast
    # with arrays of shape (..., d) or (..., n) (core.batched); a no-op shape (1,) for scalars.
    return np.asarray(x)[..., None]


def _check_model(model):
    if not isinstance(model, CorrelatedTaskModel):
        raise TypeError(f"model must be a CorrelatedTaskModel, got {type(model).__name__}")


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


def normalised_weights(weights):
    """``(ω/c, c)`` with ``c = max|ω|`` (``c = 1`` for ``ω = 0``).

    ``L(ω) = L(ω/c)`` and ``P(ω) = P(ω/c)/c``: working at ``max|ω| = 1`` keeps the quadratic
    moments from underflowing (tiny ω) or overflowing (huge ω).
    """
    scale = float(np.max(np.abs(weights), initial=0.0))
    return (weights / scale, scale) if scale > 0 else (weights, 1.0)


def scaled_preconditioner(eigenvalues, eigenvectors, scale, name="weights"):
    """``U diag(p / c) Uᵀ``: the preconditioner of ``ω`` from that of ``ω/c``, or a clear error."""
    with np.errstate(over="ignore"):
        p = eigenvalues / scale
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} are too small (max |{name}| = {scale:.3g}): the preconditioner "
                         "P(ω) = P(ω/c)/c overflows float64; rescale the weights")
    return (eigenvectors * p) @ eigenvectors.T


def moments_from_coefficients(weight_coefficients, spectra):
    """``(A, B, C)`` from the weights' coordinates ``ω̃ = Eᵀω`` in the eigenbasis of R.

    ``A = ω̃ᵀa``, ``B = Σ (λ_i + 1) ω̃_i²``, ``C = M Σ ω̃_i²`` — O(n), and valid for object
    arrays of mpmath numbers.
    """
    w = np.asarray(weight_coefficients)
    norm2 = np.sum(w * w, axis=-1)
    A = np.sum(w * np.asarray(spectra.r_coefficients), axis=-1)
    B = np.sum(np.asarray(spectra.R_eigenvalues) * w * w, axis=-1) + norm2
    return A, B, spectra.M * norm2


def risk_from_moments(A, B, C, spectra):
    """``L(ω) = M − A² Σ s_i² / (B s_i + C)``; equals ``M`` when ``ω = 0``."""
    if np.ndim(C) == 0 and C == 0:  # ω = 0: predictor is identically zero
        return spectra.M
    s = np.asarray(spectra.sigma_eigenvalues)
    return spectra.M - A**2 * np.sum(s**2 / (_last(B) * s + _last(C)), axis=-1)


def preconditioner_eigenvalues(A, B, C, spectra):
    """Eigenvalues ``A / (B s_i + C)`` of ``P(ω) = A(BΣ + CI)⁻¹`` in Σ's eigenbasis (0 if ω = 0)."""
    s = np.asarray(spectra.sigma_eigenvalues)
    if np.ndim(C) == 0 and C == 0:
        return 0 * s
    return _last(A) / (_last(B) * s + _last(C))


def weights_gradient_from_coefficients(coefficients, p, spectra):
    """``∂L/∂ω`` in R's eigenbasis at ``P = U diag(p) Uᵀ`` and ``ω = E ω̃``.

    ``−2 tr(PΣ²) a + 2 tr(PᵀΣPΣ²)(λ + 1)ω̃ + 2M tr(PᵀΣPΣ) ω̃`` — the ω-part of
    :func:`risk_gradient`, in O(n + d). With ``p`` the eigenvalues of ``P(ω)`` it is the gradient
    of ``L(ω)`` (envelope theorem). Valid for object arrays of mpmath numbers.
    """
    s, lam, a = spectra.sigma_eigenvalues, spectra.R_eigenvalues, spectra.r_coefficients
    return (-2 * _last(np.sum(p * s**2, axis=-1)) * a
            + 2 * _last(np.sum(p**2 * s**3, axis=-1)) * (lam + 1) * coefficients
            + 2 * _last(spectra.M * np.sum(p**2 * s**2, axis=-1)) * coefficients)


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
    """
    P, (A, B, C) = _as_preconditioner(model, preconditioner), weight_moments(model, weights)
    S = model.Sigma
    S2 = S @ S
    return float(model.M - 2 * A * np.trace(P @ S2) + np.trace(P.T @ S @ P @ (B * S2 + C * S)))


def risk_gradient(model, preconditioner, weights):
    """Gradient of :func:`risk` with respect to ``(P, ω)``.

    ``∂L/∂P = −2AΣ² + 2ΣP(BΣ² + CΣ)`` and
    ``∂L/∂ω = −2 tr(PΣ²) r + 2 tr(PᵀΣPΣ²)(R + I)ω + 2M tr(PᵀΣPΣ) ω``.

    Returns
    -------
    grad_preconditioner : ndarray, shape (d, d)
    grad_weights : ndarray, shape (n,)
    """
    P, weights = _as_preconditioner(model, preconditioner), _as_weights(model, weights)
    A, B, C = weight_moments(model, weights)
    S = model.Sigma
    S2 = S @ S
    PtSP = P.T @ S @ P
    grad_P = -2 * A * S2 + 2 * S @ P @ (B * S2 + C * S)
    grad_w = (-2 * np.trace(P @ S2) * model.r
              + 2 * np.trace(PtSP @ S2) * (model.R @ weights + weights)
              + 2 * model.M * np.trace(PtSP @ S) * weights)
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
    P, weights = _as_preconditioner(model, preconditioner), _as_weights(model, weights)
    errors = np.concatenate(map_chunks(partial(_squared_errors, model, P, weights), num_prompts,
                                       seed=seed, block_size=batch_size, executor=executor))
    return MonteCarloEstimate(float(errors.mean()), float(errors.std(ddof=1) / np.sqrt(errors.size)),
                              int(errors.size))
