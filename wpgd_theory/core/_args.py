"""Argument checks for the public functions above core (gla, multitask, verify).

A leaf utility (imports only NumPy): each check raises ``TypeError`` (wrong type) or ``ValueError``
(wrong value) naming the argument and the violated condition, and returns the value converted
(Python ``int``/``float``). NumPy integer and floating scalars are accepted like Python's; ``bool``
is rejected where a number is expected.

Examples
--------
>>> as_int(np.int64(3), "K", minimum=1)
3
>>> as_int(2.0, "K")
Traceback (most recent call last):
...
TypeError: K must be an integer, got float
>>> as_int(10**9, "grid_size", minimum=2, maximum=10**6)
Traceback (most recent call last):
...
ValueError: grid_size must be <= 1000000 (size limit), got 1000000000
>>> as_real("0.1", "sigma2")
Traceback (most recent call last):
...
TypeError: sigma2 must be a real number, got str
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["MAX_GRID_SIZE", "as_int", "as_real", "as_seed", "require_spectra"]

#: Largest bracketing/search grid accepted by the functions above core.
MAX_GRID_SIZE = 10**6


def as_int(value, name, *, minimum=None, maximum=None):
    """``value`` as a Python int within ``[minimum, maximum]`` (``maximum`` is a size limit)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum} (size limit), got {value}")
    return value


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
    return as_int(value, name, minimum=0)


def require_spectra(spectra, name="spectra"):
    """Raise ``TypeError`` unless ``spectra`` carries spectral data (a model or an instance)."""
    missing = [attribute for attribute in ("sigma_eigenvalues", "R_eigenvalues",
                                           "r_coefficients", "M")
               if not hasattr(spectra, attribute)]
    if missing:
        raise TypeError(f"{name} must be a SpectralInstance, a model or spectral data with "
                        f"sigma_eigenvalues, R_eigenvalues, r_coefficients and M; got "
                        f"{type(spectra).__name__} (missing {', '.join(missing)})")
    return spectra
