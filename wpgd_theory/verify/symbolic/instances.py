"""Concrete instances for :meth:`Statement.evaluate`: model → the statement's arguments, and the
lambdified result → named values in the model's own coordinates.

Three kinds of input are accepted wherever spectral data is needed:

* a :class:`~wpgd_theory.core.model.CorrelatedTaskModel` (``n`` eigenvalues of R);
* a :class:`~wpgd_theory.multitask.model.MultitaskModel`, through its
  :attr:`~wpgd_theory.multitask.model.MultitaskModel.spectra` — the ``K`` nonzero eigenvalues of
  ``R = UCUᵀ``, so the explicit form has ``K`` terms whatever ``n`` is, and weights come back as
  *block* weights (length K);
* any *spectra* object with ``sigma_eigenvalues, sigma_eigenvectors, M, R_eigenvalues,
  R_eigenvectors, r_coefficients`` (e.g. a :class:`~wpgd_theory.multitask.model.BlockSpectra`).

Eigen-coordinates are rotated back: ``P = U P̃ Uᵀ`` and ``ω = E ω̃`` (``E`` = the spectra's
``R_eigenvectors``, which for a multitask model maps to block values).
"""
from __future__ import annotations

import numpy as np
import sympy

from ...core.model import CorrelatedTaskModel
from ...core.risk import weight_moments as numeric_weight_moments
from ...core.solver import solve_model
from ...core.validation import as_real, as_real_array
from ...multitask.model import MultitaskModel, solve_multitask
from .base import _as_lists

__all__ = ["spectra_of"]

SPECTRAL_FIELDS = ("sigma_eigenvalues", "sigma_eigenvectors", "M", "R_eigenvalues",
                   "R_eigenvectors", "r_coefficients")


def spectra_of(model):
    """The spectral data of ``model`` and what its R-side coordinates are.

    Returns
    -------
    spectra, kind
        ``kind`` is ``"weights"`` (dense model: n-vectors), ``"block_weights"`` (multitask:
        K-vectors) or ``"coordinates"`` (a bare spectra object: E·ω̃ as its R_eigenvectors map).

    Examples
    --------
    >>> from wpgd_theory.multitask.model import MultitaskModel
    >>> model = MultitaskModel(np.eye(2), [0.9, 0.3], [10**9, 10**9], np.eye(3), 0.1)
    >>> spectra, kind = spectra_of(model)
    >>> spectra.R_eigenvalues.shape, kind
    ((2,), 'block_weights')
    """
    if isinstance(model, MultitaskModel):
        return model.spectra, "block_weights"
    if isinstance(model, CorrelatedTaskModel):
        return model, "weights"
    if all(hasattr(model, name) for name in SPECTRAL_FIELDS):
        return model, "coordinates"
    raise TypeError("model must be a CorrelatedTaskModel, a MultitaskModel or a spectra object "
                    f"with fields {', '.join(SPECTRAL_FIELDS)}; got {type(model).__name__}")


def _check_sizes(what, spectra, d_terms=None, n_terms=None):
    d_model, n_model = len(spectra.sigma_eigenvalues), len(spectra.R_eigenvalues)
    if d_terms is not None and d_terms != d_model:
        raise ValueError(f"{what} has d = {d_terms} terms but the model has d = {d_model}")
    if n_terms is not None and n_terms != n_model:
        raise ValueError(f"{what} has n = {n_terms} eigen-terms but the model has {n_model} "
                         "eigenvalues of R (a MultitaskModel has K, not n)")


def _scalar(value, name):
    if value is None:
        raise TypeError(f"{name}= is required")
    return as_real(value, name)


def _gamma_star(model):
    """The lowest-risk fixed point γ* the numeric solver selects."""
    if isinstance(model, MultitaskModel):
        return float(solve_multitask(model).gamma_star)
    if isinstance(model, CorrelatedTaskModel):
        return float(solve_model(model).gamma_star)
    raise TypeError("gamma= is required for a bare spectra object")


def _as_float(raw):
    return float(np.asarray(raw, dtype=float))


# ----------------------------------------------------------------- spectral statements

def h1_instance(n_terms):
    def instance(model, *, h_bar=None):
        spectra, _ = spectra_of(model)
        _check_sizes("h1_statement", spectra, n_terms=n_terms)
        arguments = (_scalar(h_bar, "h_bar"), spectra.R_eigenvalues, spectra.r_coefficients)
        return arguments, lambda raw: {"h1": _as_float(raw)}
    return instance


def h2_instance(d_terms):
    def instance(model, *, gamma=None):
        spectra, _ = spectra_of(model)
        _check_sizes("h2_statement", spectra, d_terms=d_terms)
        arguments = (_scalar(gamma, "gamma"), spectra.sigma_eigenvalues, float(spectra.M))
        return arguments, lambda raw: {"h2": _as_float(raw)}
    return instance


def _spectral_arguments(what, model, d_terms, n_terms, gamma):
    spectra, kind = spectra_of(model)
    _check_sizes(what, spectra, d_terms, n_terms)
    gamma = _gamma_star(model) if gamma is None else _scalar(gamma, "gamma")
    return spectra, kind, (gamma, spectra.sigma_eigenvalues, float(spectra.M),
                           spectra.R_eigenvalues, spectra.r_coefficients)


def fixed_point_map_instance(d_terms, n_terms):
    def instance(model, *, gamma=None):
        _, _, arguments = _spectral_arguments("fixed_point_map_statement", model, d_terms,
                                              n_terms, _scalar(gamma, "gamma"))
        return arguments, lambda raw: {"phi": _as_float(raw)}
    return instance


def stationary_point_instance(d_terms, n_terms):
    """``gamma`` defaults to the solver's γ*; results rotated back to the model's basis."""
    def instance(model, *, gamma=None):
        spectra, kind, arguments = _spectral_arguments("stationary_point_statement", model,
                                                       d_terms, n_terms, gamma)

        def finish(raw):
            P_tilde, w_tilde = (np.asarray(part, dtype=float) for part in raw)
            U = np.asarray(spectra.sigma_eigenvectors, dtype=float)
            E = np.asarray(spectra.R_eigenvectors, dtype=float)
            return {"preconditioner": U @ P_tilde @ U.T, kind: E @ np.ravel(w_tilde),
                    "gamma": arguments[0]}
        return arguments, finish
    return instance


def spectral_gap_instance(d_terms, n_terms, symbols, gap, slope):
    """Hypothesis (the gap condition, SymPy ``gap``) and conclusion (``|φ'(γ)| < 1``, with
    ``slope`` = φ') at ``gamma`` (default γ*); both lambdified on first use."""
    functions = {}

    def instance(model, *, gamma=None):
        _, _, arguments = _spectral_arguments("spectral_gap_statement", model, d_terms, n_terms,
                                              gamma)
        if not functions:
            layout = _as_lists(symbols)
            functions.update(gap=sympy.lambdify(layout, gap), slope=sympy.lambdify(layout, slope))

        def finish(raw):
            return {"gap_condition": bool(functions["gap"](*arguments)),
                    "slope": float(functions["slope"](*arguments)),
                    "contraction": bool(raw), "gamma": arguments[0]}
        return arguments, finish
    return instance


# ----------------------------------------------------------------- dense statements

def _dense(model, what):
    if isinstance(model, MultitaskModel):
        return model.to_correlated_task_model()      # raises beyond DENSE_LIMIT
    if isinstance(model, CorrelatedTaskModel):
        return model
    raise TypeError(f"{what} needs a CorrelatedTaskModel or MultitaskModel, got "
                    f"{type(model).__name__}")


def _check_dense_sizes(what, model, d_size, n_size=None):
    if model.d != d_size or (n_size is not None and model.n != n_size):
        raise ValueError(f"{what} is for d = {d_size}, n = {n_size}; the model has d = "
                         f"{model.d}, n = {model.n}")


def risk_instance(d_size, n_size):
    def instance(model, *, P=None, weights=None):
        dense = _dense(model, "risk_statement")
        _check_dense_sizes("risk_statement", dense, d_size, n_size)
        if P is None or weights is None:
            raise TypeError("P= and weights= are required")
        P = _exact_shape(as_real_array(P, "P"), (d_size, d_size), "P")
        w = _exact_shape(as_real_array(weights, "weights"), (n_size,), "weights")
        arguments = (dense.Sigma, dense.R, dense.r, dense.sigma2, P, w)
        return arguments, lambda raw: {"risk": _as_float(raw)}
    return instance


def _exact_shape(array, shape, name):
    if array.shape != shape:    # never reshaped: a (1, 4) P is not a 2 × 2 one
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array


def _moments(model, weights, what):
    dense = _dense(model, what) if not isinstance(model, MultitaskModel) else model
    if weights is None:
        raise TypeError("weights= is required (block weights for a MultitaskModel)")
    if not np.any(as_real_array(weights, "weights")):
        raise ValueError(f"{what}: weights must not be all zero (at ω = 0 the moments A, B, C "
                         "vanish and the formula is 0/0; the predictor is 0 and the risk M)")
    if isinstance(dense, MultitaskModel):
        return dense, dense.block_moments(weights)
    return dense, tuple(float(m) for m in numeric_weight_moments(dense, weights))


def optimal_preconditioner_instance(d_size):
    def instance(model, *, weights=None):
        base, moments = _moments(model, weights, "optimal_preconditioner_statement")
        _check_dense_sizes("optimal_preconditioner_statement", base, d_size)
        return (base.Sigma, *moments), lambda raw: {"preconditioner": np.asarray(raw, float)}
    return instance


def risk_of_weights_instance(d_terms):
    def instance(model, *, weights=None):
        base, moments = _moments(model, weights, "risk_of_weights_statement")
        _check_dense_sizes("risk_of_weights_statement", base, d_terms)
        arguments = (base.sigma_eigenvalues, float(base.M), *moments)
        return arguments, lambda raw: {"risk": _as_float(raw)}
    return instance


def corollary_instance(n_size):
    def instance(model):
        dense = _dense(model, "corollary_statement")
        if dense.n != n_size:
            raise ValueError(f"corollary_statement is for n = {n_size}; the model has n = "
                             f"{dense.n} (for a MultitaskModel use "
                             "multitask_corollary_statement, K terms)")
        if not np.array_equal(dense.Sigma, np.eye(dense.d)):
            raise ValueError("the Corollary assumes Sigma = I_d; the model's Sigma is not the "
                             "identity")
        return (dense.d, dense.sigma2, dense.R, dense.r), lambda raw: {"risk": _as_float(raw)}
    return instance


# ----------------------------------------------------------------- GLA statements (Thms 1, 4-6)

def _prompt(what, model, d_size, n_size):
    """``model`` as one prompt ``(x, X, y)`` with ``x`` (d,), ``X`` (n, d), ``y`` (n,)."""
    if not isinstance(model, (tuple, list)) or len(model) != 3:
        raise TypeError(f"{what} is about the GLA forward pass on one prompt: model must be a "
                        f"tuple (x, X, y), got {type(model).__name__}")
    x, X, y = (as_real_array(value, name) for value, name in zip(model, ("x", "X", "y")))
    for array, name, shape in ((x, "x", (d_size,)), (X, "X", (n_size, d_size)),
                               (y, "y", (n_size,))):
        if array.shape != shape:
            raise ValueError(f"{what}: {name} must have shape {shape} (the statement's d = "
                             f"{d_size}, n = {n_size}), got {array.shape}")
    return x[:, None], X, y


def _shaped(what, value, name, shape):
    if value is None:
        raise TypeError(f"{what}: {name}= is required")
    return _exact_shape(as_real_array(value, name), tuple(shape), name)


def _gate_shape(gating, d_size, n_size):
    return {"scalar": (n_size + 1,), "vector": (n_size + 1, d_size + 1),
            "matrix": (n_size + 1, d_size + 1, d_size + 1)}[gating]


def _both_sides(lhs_name, rhs_name):
    def finish(raw):
        rhs, lhs = raw
        return {lhs_name: _as_float(lhs), rhs_name: _as_float(rhs)}
    return finish


def theorem1_instance(d_size, n_size, gating):
    """``model = (x, X, y)``; ``P_q, P_k`` (d, d); ``gates`` of shape (n+1,) scalar,
    (n+1, d+1) vector or (n+1, d+1, d+1) matrix. Values ``gla`` and ``dwpgd``."""
    what = "theorem1_statement"

    def instance(model, *, P_q=None, P_k=None, gates=None):
        arguments = (*_prompt(what, model, d_size, n_size),
                     _shaped(what, P_q, "P_q", (d_size, d_size)),
                     _shaped(what, P_k, "P_k", (d_size, d_size)),
                     _shaped(what, gates, "gates", _gate_shape(gating, d_size, n_size)))
        return arguments, _both_sides("gla", "dwpgd")
    return instance


def delimiter_weights_instance(d_size, sizes, vector):
    """``model = (x, X, y)`` with n = Σ sizes; ``P`` (d, d); ``gates`` (K,) (and ``minus_gates``
    (K,) for key-wise gating). Values ``gla`` and ``wpgd``."""
    what = "delimiter_weights_statement"
    K, n_size = len(sizes), int(sum(sizes))

    def instance(model, *, P=None, gates=None, minus_gates=None):
        arguments = (*_prompt(what, model, d_size, n_size), _shaped(what, P, "P", (d_size, d_size)),
                     _shaped(what, gates, "gates", (K,)))
        if vector:
            arguments += (_shaped(what, minus_gates, "minus_gates", (K,)),)
        elif minus_gates is not None:
            raise TypeError(f"{what}: minus_gates= is only for gating='vector'")
        return arguments, _both_sides("gla", "wpgd")
    return instance


def multilayer_instance(d_size, n_size, layers, gating):
    """``model = (x, X, y)``; ``P_q, P_k`` (L, d, d); ``gates`` (L, …) with each layer's gates
    shaped as for Theorem 1. Values ``gla`` (``−(z^{(L)}_{n+1})_{d+1}``) and ``wpgd``."""
    what = "multilayer_statement"

    def instance(model, *, P_q=None, P_k=None, gates=None):
        arguments = (*_prompt(what, model, d_size, n_size),
                     _shaped(what, P_q, "P_q", (layers, d_size, d_size)),
                     _shaped(what, P_k, "P_k", (layers, d_size, d_size)),
                     _shaped(what, gates, "gates",
                             (layers, *_gate_shape(gating, d_size, n_size))))
        return arguments, _both_sides("gla", "wpgd")
    return instance
