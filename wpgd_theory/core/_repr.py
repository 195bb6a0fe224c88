"""Compact ``repr`` for result objects: shapes and key scalars, never whole matrices.

A leaf utility (imports only NumPy) shared by the result classes of every layer: a class sets
``__repr__ = compact_repr`` and its named fields (dataclass fields with ``repr=True`` or
NamedTuple fields) are summarised one by one — arrays by shape (short 1-d arrays in full), floats
by their Python ``repr``, long sequences by length and element type, long strings cut.

Examples
--------
>>> from typing import NamedTuple
>>> import numpy as np
>>> class Result(NamedTuple):
...     risk: float
...     weights: np.ndarray
...     preconditioner: np.ndarray
...     message: str
...     __repr__ = compact_repr
>>> Result(np.float64(0.25), np.array([1.0, 2.0]), np.eye(500), "ok")
Result(risk=0.25, weights=array([1., 2.]), preconditioner=<array (500, 500) float64>, message='ok')
"""
from __future__ import annotations

import dataclasses
import numbers

import numpy as np

__all__ = ["compact_repr", "summarize"]

#: Arrays and sequences up to this many entries are shown in full.
MAX_ITEMS = 6
#: Strings longer than this are cut.
MAX_STRING = 60


def summarize(value):
    """A short string for one field value.

    Examples
    --------
    >>> summarize(np.zeros((3, 4))), summarize(np.float64(1.5)), summarize(list(range(100)))
    ('<array (3, 4) float64>', '1.5', '<list of 100 int>')
    """
    if isinstance(value, np.ndarray):
        if value.ndim <= 1 and value.size <= MAX_ITEMS and value.dtype != object:
            return repr(value)
        return f"<array {value.shape} {value.dtype}>"
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, numbers.Integral):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return repr(value if len(value) <= MAX_STRING else value[:MAX_STRING - 1] + "…")
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        if value and all(isinstance(getattr(v, "kind", None), str) for v in value):
            kinds = ", ".join(v.kind for v in value[:MAX_ITEMS]) + (", …" if len(value) > MAX_ITEMS
                                                                    else "")
            return f"<{len(value)} {type(value[0]).__name__}: {kinds}>"
        if len(value) <= MAX_ITEMS and all(isinstance(v, numbers.Number) for v in value):
            return repr(type(value)(summarize(v) for v in value)).replace("'", "")
        kinds = sorted({type(v).__name__ for v in value})
        return f"<{type(value).__name__} of {len(value)} {'/'.join(kinds) or 'items'}>"
    if isinstance(value, dict):
        return f"<dict with keys {', '.join(map(str, list(value)[:MAX_ITEMS]))}" + (
            ", …>" if len(value) > MAX_ITEMS else ">")
    text = repr(value)
    return text if len(text) <= 2 * MAX_STRING else f"<{type(value).__name__}>"


def _field_names(obj):
    chosen = getattr(type(obj), "_repr_fields", None)
    if chosen is not None:
        return list(chosen)
    if dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj) if f.repr]
    return list(obj._fields)


def compact_repr(obj):
    """``ClassName(field=summary, ...)`` over the object's named fields (see module docstring).

    A class may list the names to show (fields or properties, in order) in ``_repr_fields``,
    e.g. to show a property such as ``holds`` and leave out a long message. A sequence of items
    with a ``kind`` string (fixed points) is summarised by those kinds.

    Examples
    --------
    >>> from typing import NamedTuple
    >>> class Claim(NamedTuple):
    ...     risk: float
    ...     message: str
    ...     holds = property(lambda self: self.risk < 1)
    ...     _repr_fields = ("holds", "risk")
    ...     __repr__ = compact_repr
    >>> Claim(0.5, "a long story")
    Claim(holds=True, risk=0.5)
    """
    fields = ", ".join(f"{name}={summarize(getattr(obj, name))}" for name in _field_names(obj))
    return f"{type(obj).__name__}({fields})"
