"""Input validation at the package boundary.

Every public entry point converts its inputs with these helpers, so bad input fails early with a
``TypeError``/``ValueError`` that names the argument and the violated condition, never with a
silent NaN or a ``LinAlgError`` from deep inside.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

__all__ = [
    "as_bool",
    "as_real",
    "as_seed",
    "as_sequence",
    "SYMMETRY_RTOL",
    "UNIT_DIAGONAL_ATOL",
    "MAX_EXACT_INT",
    "input_epsilon",
    "as_real_array",
    "as_integer",
    "as_symmetric_matrix",
    "as_nonnegative_scalar",
    "eigenvalue_tolerance",
    "check_psd_eigenvalues",
    "require_ndim",
    "check_spectra",
    "as_values",
    "namespace_of",
]

#: Relative tolerance on ``max|A - Aᵀ| / max|A|`` for a matrix to count as symmetric.
SYMMETRY_RTOL = 1e-10
#: Absolute tolerance on ``|R_ii - 1|``.
UNIT_DIAGONAL_ATOL = 1e-10
#: ``2**53``: every integer up to it is exactly a float64; sizes beyond it are refused.
MAX_EXACT_INT = 2**53
_EPS = float(np.finfo(float).eps)


def input_epsilon(value):
    """Unit round-off of the input's own floating type, never below float64's.

    A float32 (or float16) input is known only to its own round-off, so every tolerance that
    guards it (symmetry, PSD) must be that loose; integers and Python floats give float64's.

    Examples
    --------
    >>> input_epsilon(np.eye(2, dtype=np.float32)) == float(np.finfo(np.float32).eps)
    True
    >>> input_epsilon([[1, 0], [0, 1]]) == float(np.finfo(float).eps)
    True
    """
    dtype = getattr(value, "dtype", None)
    if dtype is None or not np.issubdtype(dtype, np.floating):
        return _EPS
    return max(_EPS, float(np.finfo(dtype).eps))


def as_bool(value, name):
    """``value`` as a Python ``bool``: only ``bool`` and ``numpy.bool_`` are flags.

    ``1``, ``"no"``, ``None`` and the like are refused rather than read by truthiness (``"no"``
    is truthy).

    Examples
    --------
    >>> as_bool(np.True_, "causal")
    True
    >>> as_bool("no", "causal")
    Traceback (most recent call last):
    ...
    TypeError: causal must be a bool (True or False), got str
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got {type(value).__name__}")
    return bool(value)


def as_integer(value, name, *, minimum=None, maximum=None):
    """An exact Python ``int`` from a Python or NumPy integer (``bool`` rejected, as a count).

    Examples
    --------
    >>> as_integer(np.int64(20), "precision", minimum=15)
    20
    >>> as_integer(True, "grid_size")
    Traceback (most recent call last):
    ...
    TypeError: grid_size must be an int, got bool
    >>> as_integer(3, "grid_size", minimum=9)
    Traceback (most recent call last):
    ...
    ValueError: grid_size must be >= 9, got 3
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {_int_text(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {_int_text(value)}")
    return value


def _int_text(value):
    # A huge int in a message as a power of ten, not hundreds of digits.
    digits = str(abs(value))
    if len(digits) <= 20:
        return str(value)
    return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:3]}e+{len(digits) - 1}"


def as_real(value, name, *, minimum=None, maximum=None, strict_minimum=False):
    """``value`` as a finite Python float within the bounds (``strict_minimum``: ``> minimum``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value <= minimum if strict_minimum else value < minimum):
        raise ValueError(f"{name} must be {'>' if strict_minimum else '>='} {minimum:g}, got "
                         f"{value:g}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}, got {value:g}")
    return value


def as_seed(value, name="seed"):
    """A seed for :func:`numpy.random.default_rng`: ``None``, an int ``>= 0``, a ``SeedSequence``
    or a ``Generator``."""
    if value is None or isinstance(value, (np.random.SeedSequence, np.random.Generator)):
        return value
    return as_integer(value, name, minimum=0)


def as_sequence(values, name, check, *, of="values"):
    """A non-empty list: ``check(item, f"{name}[k]")`` of every item of the sequence ``values``.

    ``of`` names the items in the ``TypeError`` (``"int"``, ``"str from (...)"``).

    Examples
    --------
    >>> as_sequence((3, np.int64(4)), "n_values", lambda v, n: as_integer(v, n, minimum=2),
    ...             of="int")
    [3, 4]
    >>> as_sequence([], "n_values", as_integer)
    Traceback (most recent call last):
    ...
    ValueError: n_values is empty
    """
    if (isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray))
            or np.ndim(values) == 0):
        raise TypeError(f"{name} must be a sequence of {of}, got {type(values).__name__}"
                        + (" of shape ()" if isinstance(values, np.ndarray) else ""))
    if len(values) == 0:
        raise ValueError(f"{name} is empty")
    return [check(value, f"{name}[{k}]") for k, value in enumerate(values)]


def as_real_array(value, name, *, ndim=None):
    """Convert ``value`` to a finite float array, or raise naming ``name``.

    Lists and integer arrays are accepted; bool, complex, object, timedelta/datetime, NaN and
    inf are rejected.

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
    # bool is not a number here, and timedelta64 (a NumPy "integer") is a duration, not a number.
    if (array.dtype == object or array.dtype.kind in "bmM"
            or not np.issubdtype(array.dtype, np.number)):
        raise TypeError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    array = array.astype(float)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


def as_symmetric_matrix(value, name):
    """A finite, square, symmetric float matrix, symmetrised exactly.

    Symmetric means ``max|A − Aᵀ| ≤ tol · max|A|`` with ``tol = max(SYMMETRY_RTOL, 16 ε)`` and
    ``ε`` the input's own round-off (:func:`input_epsilon`): relative, so any scale works.

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
    tol = max(SYMMETRY_RTOL, 16 * input_epsilon(value))
    matrix = as_real_array(value, name, ndim=2)
    rows, cols = matrix.shape
    if rows != cols:
        raise ValueError(f"{name} must be square, got shape {matrix.shape}")
    if rows == 0:
        raise ValueError(f"{name} is empty (shape {matrix.shape})")
    scale = np.max(np.abs(matrix))
    asymmetry = np.max(np.abs(matrix - matrix.T))
    if asymmetry > tol * scale:
        raise ValueError(
            f"{name} is not symmetric: max |{name} - {name}ᵀ| = {asymmetry:.3g} exceeds "
            f"{tol:g} relative to max |{name}| = {scale:.3g}")
    return matrix / 2 + matrix.T / 2   # (not (A + Aᵀ)/2: that overflows near the float max)


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
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Real, np.ndarray, np.generic)):
        raise TypeError(f"{name} must be a real scalar, got {type(value).__name__}")
    array = as_real_array(value, name)
    if array.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {array.shape}")
    scalar = float(array)
    if scalar < 0:
        raise ValueError(f"{name} must be >= 0, got {scalar:g}")
    return scalar


def eigenvalue_tolerance(eigenvalues, eps=_EPS):
    """Round-off level of symmetric eigenvalues: ``16 · dim · ε · max|λ|``.

    Relative to the spectrum's own scale (``(tA)`` has tolerance ``t`` times that of ``A``), with
    ``ε`` the unit round-off of the matrix's input type (at least float64's). Eigenvalues within
    this distance of zero are treated as zero (effective spectral gaps, dropped directions);
    negative eigenvalues beyond it make a matrix not PSD. A stack of spectra, shape ``(..., k)``,
    gives one tolerance per spectrum, shape ``(...)`` (core.batched).

    Examples
    --------
    >>> round(eigenvalue_tolerance([1e-20, 6e-20]) / eigenvalue_tolerance([1.0, 6.0]) * 1e20, 12)
    1.0
    >>> eigenvalue_tolerance([[1.0, 6.0], [1e-20, 6e-20]]).shape
    (2,)
    """
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    scale = np.max(np.abs(eigenvalues), axis=-1, initial=0.0)
    size = max(eigenvalues.shape[-1] if eigenvalues.ndim else 1, 1)
    tolerance = 16 * size * max(eps, _EPS) * scale
    return tolerance if eigenvalues.ndim > 1 else float(tolerance)


def check_psd_eigenvalues(eigenvalues, name, eps=_EPS, *, inherited=0.0):
    """Raise unless ``eigenvalues ≥ -tol``; return them with round-off negatives set to 0.

    The one PSD rule of the package: ``tol`` is :func:`eigenvalue_tolerance` at the input's
    round-off ``eps``, plus ``inherited`` for a matrix derived from an accepted one by a
    congruence ``B = TᵀAT``: ``λ_min(B) ≥ λ_min(A) ‖T‖²``, so ``inherited = tol_A ‖T‖²`` (with
    ``tol_A`` the tolerance ``A`` was accepted with) accepts ``B`` whenever ``A`` was — a model is
    valid everywhere or nowhere (the multitask block spectra, ``D^{1/2} C D^{1/2}``).

    ``inherited`` only widens what is *accepted*; what is *set to zero* is the matrix's own
    round-off (``|λ| ≤ eigenvalue_tolerance``) and negatives. A small positive eigenvalue above
    that round-off is a real direction of the matrix as given, however large ``inherited`` is:
    ``‖T‖²`` grows with the block sizes, and zeroing up to ``tol_A ‖T‖²`` dropped a direction
    with eigenvalue 0.2 of a float32 model with blocks (1, 12200) (issue #18).

    Examples
    --------
    >>> check_psd_eigenvalues(np.array([-1e-12, 1.0]), "B", inherited=1e-11)
    array([0., 1.])
    >>> check_psd_eigenvalues(np.array([-1e-12, 0.2, 1.0]), "B", inherited=0.5)
    array([0. , 0.2, 1. ])
    """
    own = eigenvalue_tolerance(eigenvalues, eps)
    accepted = own + inherited
    smallest = float(np.min(eigenvalues))
    if smallest < -accepted:
        raise ValueError(
            f"{name} is not positive semidefinite: smallest eigenvalue {smallest:.3g} < "
            f"-{accepted:.1e}")
    return np.where(np.abs(eigenvalues) <= own, 0.0, np.maximum(eigenvalues, 0.0))


def require_ndim(array, ndim, name, layout):
    """Raise ``ValueError`` naming ``name`` unless ``array`` has at least ``ndim`` axes."""
    if array.ndim < ndim:
        raise ValueError(f"{name} must have shape {layout}, got shape {array.shape}")


def check_spectra(spectra, name="spectra"):
    """Raise ``TypeError`` naming ``name`` unless it has the four spectral attributes."""
    for attribute in ("sigma_eigenvalues", "M", "R_eigenvalues", "r_coefficients"):
        if not hasattr(spectra, attribute):
            raise TypeError(f"{name} must be a model or spectra object with attribute "
                            f"{attribute!r}, got {type(spectra).__name__}")


def as_values(value, name):
    """Real values for the spectral kernels: a float array, or an object array of real numbers
    (``mpmath.mpf``, ``mpmath.iv.mpf``) passed through unchanged.

    Examples
    --------
    >>> as_values([1, 2], "gamma")
    array([1., 2.])
    >>> as_values(None, "gamma")
    Traceback (most recent call last):
    ...
    TypeError: gamma must be real numbers, got NoneType
    """
    array = np.asarray(value) if not isinstance(value, (str, bytes)) else None
    if array is not None and array.dtype == object:
        for item in array.ravel().tolist():
            if isinstance(item, (bool, complex)) or not isinstance(item, numbers.Number):
                raise TypeError(f"{name} must be real numbers, got {type(item).__name__}")
        return array
    if array is None or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be real numbers, got {type(value).__name__}")
    return as_real_array(array, name)
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
