"""Validation of stacked inputs for :mod:`wpgd_theory.core.batched`: exact, with batch indices.

Cheap vectorised checks with half the model's tolerances pick out *suspect* instances; each suspect
is re-validated by :class:`~wpgd_theory.core.model.CorrelatedTaskModel`, so a batch is accepted
or refused exactly as its instances would be one by one, and an error names the argument and the
batch index of the first bad instance (``R[3, 1] is not positive semidefinite ...``).
"""
from __future__ import annotations

import re

import numpy as np

from .model import CorrelatedTaskModel

# The unvalidated spectral kernels: the batch is validated once, at the boundary, and the public
# h1/h2/φ check for a single 1-d spectrum.
from .validation import (
    SYMMETRY_RTOL,
    UNIT_DIAGONAL_ATOL,
    as_real_array,
    eigenvalue_tolerance,
)

__all__ = []   # internals of core.batched (validate, suspects, check_suspects, clip_psd, ...)


def index_text(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def with_index(message, index, names=("Sigma", "R", "r", "sigma2")):
    """Insert the batch index after the argument named at the start of a model error."""
    where = index_text(index)
    for name in names:
        if re.match(rf"{name}\b(?![_\[])", message):
            return name + where + message[len(name):]
    return f"instance {where}: {message}"


#: Most numbers a batched solve holds per array (``prod(batch) × (d² + n²)`` for matrices,
#: ``prod(batch) × (d + n)`` for spectra; 2²⁶ float64 = 512 MB): beyond it, refused before
#: anything is allocated — solve in smaller batches.
MAX_BATCH_ELEMENTS = 2**26


def check_batch_size(batch, per_instance, what):
    """Refuse a broadcast batch whose arrays would exceed :data:`MAX_BATCH_ELEMENTS`."""
    total = int(np.prod(batch, dtype=object)) * per_instance
    if total > MAX_BATCH_ELEMENTS:
        raise ValueError(f"the broadcast batch shape {tuple(batch)} with {what} needs {total} "
                         f"numbers per array > MAX_BATCH_ELEMENTS = {MAX_BATCH_ELEMENTS}; solve "
                         "it in smaller batches")


def as_stack(value, name, core_ndim, layout):
    if isinstance(value, np.ndarray) and value.size > MAX_BATCH_ELEMENTS:   # before any copy
        raise ValueError(f"{name} has {value.size} elements > MAX_BATCH_ELEMENTS = "
                         f"{MAX_BATCH_ELEMENTS}; solve it in smaller batches")
    try:
        array = as_real_array(value, name)
    except ValueError as exc:
        if "NaN or inf" not in str(exc):
            raise
        array = np.asarray(value, dtype=float)
        core = tuple(range(array.ndim - core_ndim, array.ndim))
        bad = ~np.all(np.isfinite(array), axis=core) if core_ndim else ~np.isfinite(array)
        index = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
        raise ValueError(f"{name}{index_text(index)} contains NaN or inf") from None
    if array.ndim < core_ndim:
        raise ValueError(f"{name} must have shape {layout}, got shape {array.shape}")
    return array


def validate(Sigma, R, r, sigma2):
    """Vectorised checks; returns symmetrised stacks and the broadcast batch shape."""
    Sigma = as_stack(Sigma, "Sigma", 2, "(..., d, d)")
    R = as_stack(R, "R", 2, "(..., n, n)")
    r = as_stack(r, "r", 1, "(..., n)")
    sigma2 = as_stack(sigma2, "sigma2", 0, "(...)")
    for name, matrix in (("Sigma", Sigma), ("R", R)):
        if matrix.shape[-1] != matrix.shape[-2] or matrix.shape[-1] == 0:
            raise ValueError(f"{name} must be a stack of non-empty square matrices, shape "
                             f"(..., k, k), got {matrix.shape}")
    n = R.shape[-1]
    if r.shape[-1] != n:
        raise ValueError(f"r must have shape (..., n) = (..., {n}) to match R, got {r.shape}")
    try:
        batch = np.broadcast_shapes(Sigma.shape[:-2], R.shape[:-2], r.shape[:-1], sigma2.shape)
    except ValueError:
        raise ValueError(
            f"batch shapes do not broadcast: Sigma {Sigma.shape[:-2]}, R {R.shape[:-2]}, "
            f"r {r.shape[:-1]}, sigma2 {sigma2.shape}") from None
    d = Sigma.shape[-1]
    check_batch_size(batch, d * d + n * n, f"d = {d}, n = {n} (d² + n² numbers per instance)")
    flags = []
    for matrix in (Sigma, R):  # asymmetric beyond half of as_symmetric_matrix's tolerance
        scale = np.max(np.abs(matrix), axis=(-1, -2))
        asymmetry = np.max(np.abs(matrix - np.swapaxes(matrix, -1, -2)), axis=(-1, -2))
        flags.append(asymmetry > 0.5 * SYMMETRY_RTOL * np.maximum(scale, np.finfo(float).tiny))
    Sigma = (Sigma + np.swapaxes(Sigma, -1, -2)) / 2
    R = (R + np.swapaxes(R, -1, -2)) / 2
    return Sigma, R, r, sigma2, batch, flags


def suspects(flags, R, r, sigma2, s, lam, a, batch):
    """Instances (broadcast batch positions) that may violate a condition of the model.

    Each test is a superset of the exact test of :class:`CorrelatedTaskModel` (half its
    tolerances); the suspects are then checked exactly, one by one, on the inputs as given.
    """
    flags = list(flags)
    flags.append(np.max(np.abs(np.diagonal(R, axis1=-2, axis2=-1) - 1), axis=-1)
                 > 0.5 * UNIT_DIAGONAL_ATOL)
    flags.append(np.max(np.abs(r), axis=-1) > 1 + 0.5 * UNIT_DIAGONAL_ATOL)
    flags.append(sigma2 < 0)
    for values in (s, lam):
        flags.append(np.min(values, axis=-1) < -0.5 * eigenvalue_tolerance(values))
    flags.append(np.max(s, axis=-1) <= 2 * eigenvalue_tolerance(s))
    # Rank-deficient joint correlations sit on the boundary rᵀR⁺r = 1 up to round-off: this is
    # computed exactly as CorrelatedTaskModel does (clipped λ + tol), not with a margin.
    clipped = clip_psd(lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        quadratic = np.sum(a**2 / (clipped + np.asarray(eigenvalue_tolerance(clipped))[..., None]), axis=-1)
    flags.append(~(quadratic <= 1))
    suspect = np.zeros(batch, dtype=bool)
    for flag in flags:
        suspect = suspect | flag
    return suspect


def check_suspects(suspect, Sigma, R, r, sigma2, batch):
    for flat in np.flatnonzero(suspect):
        index = np.unravel_index(flat, batch)

        def pick(array, core, index=index):
            stack = np.broadcast_to(array, batch + array.shape[array.ndim - core:])
            return stack[index]
        try:
            CorrelatedTaskModel(pick(Sigma, 2), pick(R, 2), pick(r, 1), pick(sigma2, 0))
        except ValueError as exc:
            raise ValueError(with_index(str(exc), index)) from None


def clip_psd(values):
    # As check_psd_eigenvalues, per spectrum: round-off (|λ| ≤ tol) to 0, negatives to 0.
    tol = np.asarray(eigenvalue_tolerance(values))[..., None]
    return np.where(np.abs(values) <= tol, 0.0, np.maximum(values, 0.0))


