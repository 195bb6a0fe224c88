"""Input and output of the command line: strict problem files in, strict JSON or text out.

A *problem file* is a JSON object or an ``.npz`` archive holding exactly one of

* a **dense** problem: ``Sigma`` (d × d), ``R`` (n × n), ``r`` (n,), ``sigma2`` (scalar), the
  arguments of :class:`~wpgd_theory.core.model.CorrelatedTaskModel`;
* a **multitask** problem: ``C`` (K × K), ``c`` (K,), ``sizes`` (K integers), ``sigma2`` and
  either ``Sigma`` (d × d) or ``d`` (``Σ = I_d``), the arguments of
  :class:`~wpgd_theory.multitask.model.MultitaskModel`.

Everything that is not such a file is refused with :class:`InputError` (a ``ValueError``) naming
the file and the key: unreadable, empty, corrupt or too deeply nested files; FIFOs and
directories; missing, unknown or duplicated keys; strings, booleans, ``null`` or non-finite
numbers where numbers belong; object arrays (``.npz`` archives are opened with
``allow_pickle=False`` and only the named members are read, after a size check on their header).

Examples
--------
>>> import json, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "p.json").write_text(json.dumps({"C": [[1]], "c": [0.5], "sizes": [3],
...                                                "d": 2, "sigma2": 0.1}))
>>> problem = load_problem(folder / "p.json")
>>> problem.kind, sorted(problem.arrays)
('multitask', ['C', 'Sigma', 'c', 'sigma2', 'sizes'])
>>> _ = (folder / "bad.json").write_text('{"Sigma": [[1]], "R": [[1]], "r": [0.5], '
...                                       '"sigma2": "0.1"}')
>>> load_problem(folder / "bad.json")
Traceback (most recent call last):
...
wpgd_theory.cli._io.InputError: .../bad.json: sigma2 must be a number, got a string ('0.1')
"""
from __future__ import annotations

import argparse
import json
import math
import numbers
import os
import stat
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "DENSE_KEYS",
    "MULTITASK_KEYS",
    "InputError",
    "Problem",
    "add_json_flag",
    "build_model",
    "emit",
    "int_in",
    "load_problem",
    "to_jsonable",
]

DENSE_KEYS = ("Sigma", "R", "r", "sigma2")
"""Keys of a dense problem."""
MULTITASK_KEYS = ("C", "c", "sizes", "sigma2")
"""Required keys of a multitask problem (plus exactly one of ``Sigma`` or ``d``)."""

#: Dimensions (``ndim``) of every key.
_NDIM = {"Sigma": 2, "R": 2, "r": 1, "sigma2": 0, "C": 2, "c": 1, "sizes": 1, "d": 0}
#: Largest JSON file read (bytes) and largest ``.npz`` member (uncompressed bytes).
MAX_FILE_BYTES = 1 << 30
#: Largest ``d`` accepted for ``Σ = I_d`` (a d × d matrix is formed).
MAX_IDENTITY_DIM = 4096
#: Largest block size: integers beyond 2**53 are not exact in float64.
MAX_SIZE = 2**53


class InputError(ValueError):
    """A malformed problem file or argument: the command line exits with status 2."""


class Problem(NamedTuple):
    """A validated problem file: ``kind`` (``"dense"`` or ``"multitask"``) and its arrays."""

    kind: str
    arrays: dict
    path: Path


# --------------------------------------------------------------------------- reading files

def _check_regular_file(path, max_bytes=None):
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot access ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a directory, expected a .json or .npz file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: is not a regular file (FIFO, socket or device)")
    if info.st_size == 0:
        raise InputError(f"{path}: is empty")
    if max_bytes is not None and info.st_size > max_bytes:
        raise InputError(f"{path}: is {info.st_size} bytes, more than the limit {max_bytes}")


def _reject_constant(name):
    raise InputError(f"non-finite number {name} is not allowed")


def _unique_keys(pairs):
    """``object_pairs_hook``: a JSON object as a dict, refusing a key given twice."""
    data = {}
    for key, value in pairs:
        if key in data:
            raise InputError(f"duplicate key {key!r} in a JSON object (the value given last "
                             "would silently win)")
        data[key] = value
    return data


def _read_json(path, expected=None):
    """The JSON object in ``path`` (strictly read); ``expected`` describes it in errors."""
    _check_regular_file(path, MAX_FILE_BYTES)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text (corrupt JSON?)") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON: {exc.msg} (line {exc.lineno}, column "
                         f"{exc.colno})") from None
    except RecursionError:
        raise InputError(f"{path}: JSON is nested too deeply") from None
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        expected = expected or (f"a JSON object with keys {', '.join(DENSE_KEYS)} (dense) or "
                                f"{', '.join(MULTITASK_KEYS)} (multitask)")
        raise InputError(f"{path}: expected {expected}, got {_json_type(data)}")
    return data


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"a string ({value[:20]!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _json_number(value, key, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{key} must be {'an integer' if integer else 'a number'}, got "
                         f"{_json_type(value)}")
    if integer and not isinstance(value, int):
        raise InputError(f"{key} must be an integer, got {value!r}")
    if integer:
        return value
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InputError(f"{key} contains a non-finite number ({_short(value)})")
    return number


def _short(value):
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} digits)"


def _json_array(value, key):
    """A JSON value of the dimension of ``key`` as an ndarray, checked element by element."""
    ndim, integer = _NDIM[key], key in ("sizes", "d")
    if ndim == 0:
        return np.array(_json_number(value, key, integer))
    if not isinstance(value, list):
        raise InputError(f"{key} must be a {ndim}-d array (nested lists), got {_json_type(value)}")
    if ndim == 1:
        items = [_json_number(item, key, integer) for item in value]
        return np.array(items, dtype=object if integer else float)
    rows = []
    for row in value:
        if not isinstance(row, list):
            raise InputError(f"{key} must be a 2-d array (a list of rows), got a row that is "
                             f"{_json_type(row)}")
        rows.append([_json_number(item, key) for item in row])
    if len({len(row) for row in rows}) > 1:
        raise InputError(f"{key} is not rectangular: rows of lengths "
                         f"{sorted({len(row) for row in rows})}")
    return np.array(rows, dtype=float).reshape(len(rows), len(rows[0]) if rows else 0)


def _read_npz(path):
    _check_regular_file(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 (BadZipFile, EOFError, ValueError, OSError, ...)
        if "pickle" in str(exc):    # neither a zip nor a .npy: numpy would try to unpickle it
            raise InputError(f"{path}: not an .npz archive (neither a zip archive nor a .npy "
                             f"array; pickled data is never loaded)") from None
        raise InputError(f"{path}: not a readable .npz archive ({type(exc).__name__}: "
                         f"{_one_line(exc)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise InputError(f"{path}: is a single .npy array, expected an .npz archive of named "
                         f"arrays (numpy.savez)")
    with archive:
        kind, keys = _select_keys(set(archive.files), path)
        _check_npz_shapes({key: _npz_shape(archive, key, path) for key in keys})
        return kind, {key: _npz_member(archive, key, path) for key in keys}


def _npz_shape(archive, key, path):
    """The shape in a member's .npy header, read without loading its data (``None`` for a
    format version without a public header reader: that member is checked after loading)."""
    member = key + ".npy" if key + ".npy" in archive.zip.namelist() else key
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    try:
        with archive.zip.open(member) as handle:
            reader = readers.get(np.lib.format.read_magic(handle))
            return None if reader is None else tuple(reader(handle)[0])
    except Exception as exc:  # noqa: BLE001 (a corrupt header: format, zlib, EOF errors)
        raise InputError(f"{path}: {key} is not a readable array ({type(exc).__name__}: "
                         f"{_one_line(exc)})") from None


def _check_npz_shapes(shapes):
    """Refuse mismatched shapes from the headers, before any array is read into memory."""
    shapes = {key: shape for key, shape in shapes.items() if shape is not None}
    for key, shape in shapes.items():
        if len(shape) != _NDIM[key]:
            raise InputError(f"{key} must be {_NDIM[key]}-dimensional, got shape {shape}")
    square = [key for key in ("Sigma", "R", "C") if key in shapes]
    for key in square:
        if shapes[key][0] != shapes[key][1]:
            raise InputError(f"{key} must be square, got shape {shapes[key]}")
    n_key = "R" if "R" in shapes else "C"
    if n_key not in shapes:
        return
    n = shapes[n_key][0]
    for key in ("r", "c", "sizes"):
        if key in shapes and shapes[key] != (n,):
            raise InputError(f"{key} must have shape ({n},) to match {n_key} {shapes[n_key]}, "
                             f"got shape {shapes[key]}")


def _npz_member(archive, key, path):
    member = key + ".npy" if key + ".npy" in archive.zip.namelist() else key
    size = archive.zip.getinfo(member).file_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: array {key} is {size} bytes uncompressed, more than the limit "
                         f"{MAX_FILE_BYTES}")
    try:
        array = archive[key]        # NpzFile is lazy: only the named members are read
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise InputError(f"{path}: {key} is an object array (pickled data is never loaded)"
                             ) from None
        raise InputError(f"{path}: {key} is not a readable array ({_one_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 (a corrupt member: zlib, EOF, format errors)
        raise InputError(f"{path}: {key} is not a readable array ({type(exc).__name__}: "
                         f"{_one_line(exc)})") from None
    return _npz_array(array, key)


def _npz_array(array, key):
    integer = key in ("sizes", "d")
    kinds = "iu" if integer else "iuf"
    if array.dtype.kind not in kinds:
        raise InputError(f"{key} must hold {'integers' if integer else 'real numbers'}, got "
                         f"dtype {array.dtype}")
    if array.ndim != _NDIM[key]:
        raise InputError(f"{key} must be {_NDIM[key]}-dimensional, got shape {array.shape}")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise InputError(f"{key} contains NaN or inf")
    if integer:
        return np.array([int(v) for v in array.ravel()], dtype=object).reshape(array.shape)
    return array.astype(float)


# --------------------------------------------------------------------------- keys and models

def _select_keys(keys, path):
    multitask = bool(keys & {"C", "c", "sizes"})
    if multitask:
        allowed = set(MULTITASK_KEYS) | {"Sigma", "d"}
        described = f"{', '.join(MULTITASK_KEYS)} and Sigma or d (multitask)"
    else:
        allowed = set(DENSE_KEYS)
        described = (f"{', '.join(DENSE_KEYS)} (dense) or {', '.join(MULTITASK_KEYS)} and "
                     f"Sigma or d (multitask)")
    missing = [key for key in (MULTITASK_KEYS if multitask else DENSE_KEYS) if key not in keys]
    if missing:
        raise InputError(f"{path}: missing key(s) {', '.join(missing)}; expected {described}")
    extra = sorted(keys - allowed)
    if extra:
        raise InputError(f"{path}: unknown key(s) {', '.join(map(repr, extra))}; expected "
                         f"{described}")
    if multitask:
        chosen = keys & {"Sigma", "d"}
        if len(chosen) != 1:
            raise InputError(f"{path}: a multitask problem needs exactly one of Sigma (d × d) "
                             f"or d (Σ = I_d), got {'both' if chosen else 'neither'}")
        return "multitask", MULTITASK_KEYS + tuple(chosen)
    return "dense", DENSE_KEYS


def load_problem(path):
    """Read and validate a dense or multitask problem file (``.json`` or ``.npz``).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Problem
        ``kind`` and ``arrays`` (float arrays; ``sizes`` as Python ints; ``d`` replaced by
        ``Sigma = I_d``).

    Raises
    ------
    InputError
        Naming the file and the offending key; see the module docstring for the cases.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = _read_json(path)
        kind, keys = _select_keys(set(data), path)
        try:
            arrays = {key: _json_array(data[key], key) for key in keys}
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
    elif suffix == ".npz":
        try:
            kind, arrays = _read_npz(path)
        except InputError as exc:
            message = str(exc)
            raise InputError(message if message.startswith(str(path)) else f"{path}: {message}"
                             ) from None
    else:
        raise InputError(f"{path}: expected a .json or .npz file, got suffix {path.suffix!r}")
    if kind == "multitask":
        try:
            arrays = _multitask_arrays(arrays)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
    return Problem(kind, arrays, path)


def _multitask_arrays(arrays):
    sizes = arrays["sizes"]
    if sizes.size == 0:
        raise InputError("sizes must be a non-empty list of positive integers")
    if any(v < 1 or v > MAX_SIZE for v in sizes):
        raise InputError(f"sizes must be integers in [1, 2**53], got {sizes.tolist()}")
    arrays = dict(arrays, sizes=np.array(sizes.tolist(), dtype=np.int64))
    if "d" in arrays:
        d = int(arrays.pop("d"))
        if not 1 <= d <= MAX_IDENTITY_DIM:
            raise InputError(f"d must be an integer in [1, {MAX_IDENTITY_DIM}], got {d}")
        arrays["Sigma"] = np.eye(d)
    return arrays


def build_model(problem):
    """The validated model of a :class:`Problem`: ``CorrelatedTaskModel`` or ``MultitaskModel``.

    Raises
    ------
    InputError
        The model's own ``ValueError``/``TypeError`` (which names the argument), prefixed by the
        file name.
    """
    a = problem.arrays
    try:
        if problem.kind == "dense":
            from ..core.model import CorrelatedTaskModel
            return CorrelatedTaskModel(a["Sigma"], a["R"], a["r"], float(a["sigma2"]))
        from ..multitask.model import MultitaskModel
        return MultitaskModel(a["C"], a["c"], a["sizes"], a["Sigma"], float(a["sigma2"]))
    except (ValueError, TypeError) as exc:
        raise InputError(f"{problem.path}: {_one_line(exc)}") from None


# --------------------------------------------------------------------------- output

def to_jsonable(value):
    """Arrays to lists, NumPy scalars to Python numbers, NaN and ±inf to ``None`` (strict JSON).

    Examples
    --------
    >>> to_jsonable({"a": np.array([1.0, np.nan]), "b": np.float64(np.inf), "c": (1, True)})
    {'a': [1.0, None], 'b': None, 'c': [1, True]}
    """
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def int_in(low, high):
    """An argparse ``type``: an integer in ``[low, high]`` (the limit is stated when refused)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer in [{low}, {high}], got {value}")
        return value
    parse.__name__ = "integer"
    return parse


def add_json_flag(parser):
    """The ``--json`` flag every verb shares."""
    parser.add_argument("--json", action="store_true",
                        help="print the result as strict JSON (null for NaN or inf)")


def emit(args, payload, text):
    """Print ``payload`` as indented strict JSON if ``args.json``, else the ``text`` lines."""
    if args.json:
        print(json.dumps(to_jsonable(payload), indent=2, allow_nan=False))
    else:
        print(text)
    sys.stdout.flush()


def _one_line(exc):
    return " ".join(str(exc).split())
