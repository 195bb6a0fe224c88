"""Input validation at the package boundary.

Every public entry point converts its inputs with these helpers, so bad input fails early with a
``TypeError``/``ValueError`` that names the argument and the violated condition, never with a
silent NaN or a ``LinAlgError`` from deep inside.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "SYMMETRY_RTOL",
    "UNIT_DIAGONAL_ATOL",
    "as_real_array",
    "as_symmetric_matrix",
    "as_nonnegative_scalar",
    "eigenvalue_tolerance",
    "check_psd_eigenvalues",
    "require_ndim",
    "namespace_of",
]

#: Relative tolerance on ``max|A - Aᵀ| / max|A|`` for a matrix to count as symmetric.
SYMMETRY_RTOL = 1e-10
#: Absolute tolerance on ``|R_ii - 1|``.
UNIT_DIAGONAL_ATOL = 1e-10


def as_real_array(value, name, *, ndim=None):
    """Convert ``value`` to a finite float array, or raise naming ``name``.

    Lists and integer arrays are accepted; complex, object, NaN and inf are rejected.

    Examples
    --------
    >>> as_real_array([1, 2], "r")
    array([1., 2.])
    >>> as_real_array([1, float("nan")], "r")
    Traceback (most recent call last):
    ...
    ValueError: r contains NaN or inf
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real numeric array, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} is not a rectangular array: {exc}") from None
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be a real numeric array, got complex dtype {array.dtype}")
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == np.bool_):
        raise TypeError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    array = array.astype(float)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


def as_symmetric_matrix(value, name):
    """A finite, square, symmetric (within ``SYMMETRY_RTOL``) float matrix, symmetrised exactly.

    Examples
    --------
    >>> as_symmetric_matrix([[1, 0.5], [0.5, 1]], "R")
    array([[1. , 0.5],
           [0.5, 1. ]])
    >>> as_symmetric_matrix([[1, 0.5], [0.4, 1]], "R")
    Traceback (most recent call last):
    ...
    ValueError: R is not symmetric: max |R - Rᵀ| = 0.1 exceeds 1e-10 relative to max |R| = 1
    """
    matrix = as_real_array(value, name, ndim=2)
    rows, cols = matrix.shape
    if rows != cols:
        raise ValueError(f"{name} must be square, got shape {matrix.shape}")
    if rows == 0:
        raise ValueError(f"{name} is empty (shape {matrix.shape})")
    scale = np.max(np.abs(matrix))
    asymmetry = np.max(np.abs(matrix - matrix.T))
    if asymmetry > SYMMETRY_RTOL * max(scale, np.finfo(float).tiny):
        raise ValueError(
            f"{name} is not symmetric: max |{name} - {name}ᵀ| = {asymmetry:.3g} exceeds "
            f"{SYMMETRY_RTOL:g} relative to max |{name}| = {scale:.3g}")
    return (matrix + matrix.T) / 2


def as_nonnegative_scalar(value, name):
    """A finite real scalar ``≥ 0``.

    Examples
    --------
    >>> as_nonnegative_scalar(1, "sigma2")
    1.0
    >>> as_nonnegative_scalar(-0.1, "sigma2")
    Traceback (most recent call last):
    ...
    ValueError: sigma2 must be >= 0, got -0.1
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.ndarray, np.generic)):
        raise TypeError(f"{name} must be a real scalar, got {type(value).__name__}")
    array = as_real_array(value, name)
    if array.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {array.shape}")
    scalar = float(array)
    if scalar < 0:
        raise ValueError(f"{name} must be >= 0, got {scalar:g}")
    return scalar


def eigenvalue_tolerance(eigenvalues):
    """Round-off level of symmetric eigenvalues: ``16 · dim · eps · max(1, max|λ|)``.

    Eigenvalues within this distance of zero are treated as zero (effective spectral gaps,
    dropped directions); negative eigenvalues beyond it make a matrix not PSD.
    """
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    scale = max(1.0, float(np.max(np.abs(eigenvalues), initial=0.0)))
    return 16 * max(eigenvalues.size, 1) * np.finfo(float).eps * scale


def check_psd_eigenvalues(eigenvalues, name):
    """Raise unless ``eigenvalues ≥ -tol``; return them with round-off negatives set to 0."""
    tol = eigenvalue_tolerance(eigenvalues)
    smallest = float(np.min(eigenvalues))
    if smallest < -tol:
        raise ValueError(
            f"{name} is not positive semidefinite: smallest eigenvalue {smallest:.3g} < "
            f"-{tol:.1e}")
    return np.where(np.abs(eigenvalues) <= tol, 0.0, np.maximum(eigenvalues, 0.0))


def require_ndim(array, ndim, name, layout):
    """Raise ``ValueError`` naming ``name`` unless ``array`` has at least ``ndim`` axes."""
    if array.ndim < ndim:
        raise ValueError(f"{name} must have shape {layout}, got shape {array.shape}")


def namespace_of(*arrays):
    """The array module of the inputs: ``jax.numpy`` if any of them is a JAX array, else NumPy.

    Lets one implementation of a formula run on NumPy arrays (validated, float64) and inside
    JAX transformations (``jit``, ``grad``, ``vmap``), where the inputs are tracers. JAX is
    imported only when a JAX array is present.

    Examples
    --------
    >>> namespace_of(np.ones(2), 1.0) is np
    True
    """
    for array in arrays:
        if type(array).__module__.split(".", 1)[0] in ("jax", "jaxlib"):
            import jax.numpy as jnp
            return jnp
    return np
