"""Executors from a short text spec, and the entry point of ``wpgd-theory sweep``.

Executor specs (the ``--executor`` option):

* ``"none"`` (default) — in this process;
* ``"processes"`` or ``"processes:N"`` — a ``ProcessPoolExecutor`` with ``N`` workers;
* ``"dask-local"`` or ``"dask-local:N"`` — a Dask ``LocalCluster`` of ``N`` single-threaded worker
  processes, started and closed around the sweep;
* ``"dask:ADDRESS"`` (e.g. ``dask:tcp://10.0.0.5:8786``) — a ``Client`` connected to a running
  Dask scheduler.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from .phase import DEFAULT_SHAPES, _int_sequence, run_phase_diagram

__all__ = ["open_executor", "sweep_main", "SWEEP_DEFAULTS"]


def _dask():
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("Dask executors need dask.distributed: install "
                          "wpgd-theory[distributed]") from None
    return Client, LocalCluster


_SPEC_FORMS = "none, processes[:N], dask-local[:N] or dask:ADDRESS"


def _count(text, default, spec):
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise ValueError(f"spec {spec!r}: the executor worker count N must be an int >= 1, "
                         f"got {text!r}")
    return value


def open_executor(spec):
    """Context manager yielding the executor described by ``spec`` (see the module docstring).

    ``spec`` is a str of the forms ``none``, ``processes[:N]``, ``dask-local[:N]`` or
    ``dask:ADDRESS`` (``N >= 1``); it is checked when called, before anything starts.

    Examples
    --------
    >>> with open_executor("none") as executor:
    ...     print(executor)
    None
    >>> open_executor("threads")
    Traceback (most recent call last):
    ...
    ValueError: unknown executor spec 'threads': spec must be none, processes[:N], ...
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a str ({_SPEC_FORMS}), got {type(spec).__name__}")
    kind, _, argument = spec.strip().partition(":")
    if kind in ("none", "serial", ""):
        return _opened(kind="none")
    if kind in ("processes", "dask-local"):
        return _opened(kind=kind, workers=_count(argument, os.cpu_count() or 1, spec))
    if kind == "dask":
        if not argument:
            raise ValueError("executor spec 'dask:ADDRESS' needs the scheduler address, "
                             "e.g. dask:tcp://127.0.0.1:8786")
        return _opened(kind=kind, address=argument)
    raise ValueError(f"unknown executor spec {spec!r}: spec must be {_SPEC_FORMS}")


@contextmanager
def _opened(kind, workers=None, address=None):
    if kind == "none":
        yield None
    elif kind == "processes":
        # forkserver, not fork: a forked child of a process that has started threads (JAX,
        # OpenBLAS) can deadlock; the workers import wpgd_theory afresh.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) \
                as pool:
            yield pool
    elif kind == "dask-local":
        Client, LocalCluster = _dask()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
    else:
        Client, _ = _dask()
        with Client(address) as client:
            yield client


#: The keys :func:`sweep_main` accepts and their defaults (``None`` or a missing key: default).
SWEEP_DEFAULTS = {"n": (20, 50, 100, 200, 500), "d": (5, 20, 50), "shapes": DEFAULT_SHAPES,
                  "instances": 1000, "seed": 0, "block_size": 500, "chunk_size": None,
                  "grid_size": 129, "executor": "none", "progress": False, "csv": None,
                  "png": None}


def _sweep_options(args):
    if not isinstance(args, Mapping):
        raise TypeError(f"args must be a dict of options (keys {', '.join(SWEEP_DEFAULTS)}), got "
                        f"{type(args).__name__}")
    unknown = [key for key in args if key not in SWEEP_DEFAULTS]
    if unknown:
        raise ValueError(f"unknown sweep option(s) {', '.join(map(repr, unknown))}: the options "
                         f"are {', '.join(SWEEP_DEFAULTS)}")
    options = {key: default if args.get(key) is None else args[key]
               for key, default in SWEEP_DEFAULTS.items()}
    options["n"] = _int_sequence(options["n"], "n", minimum=3)    # named as the keys
    options["d"] = _int_sequence(options["d"], "d", minimum=2)
    if not isinstance(options["executor"], str):
        raise TypeError(f"executor must be a str ({_SPEC_FORMS}), got "
                        f"{type(options['executor']).__name__}")
    for key in ("csv", "png"):
        path = options[key]
        if path is not None and not (isinstance(path, (str, os.PathLike))
                                     or (key == "csv" and hasattr(path, "write"))):
            raise TypeError(f"{key} must be a file path (str or os.PathLike)"
                            + (" or an open text file" if key == "csv" else "")
                            + f", got {type(path).__name__}")
    return options


def sweep_main(args):
    """Run the uniqueness phase diagram from a dict of options; return a summary dict.

    Keys (all optional, ``None`` meaning the default; see :data:`SWEEP_DEFAULTS`): ``n`` (list of
    int), ``d`` (list of int), ``shapes`` (list of str), ``instances``, ``seed``, ``block_size``,
    ``chunk_size``, ``grid_size`` (ints), ``executor`` (spec), ``progress`` (bool), ``csv`` (a
    path or an open text file) and ``png`` (a path). Values are checked as by
    :func:`~wpgd_theory.sweeps.phase.run_phase_diagram`, never coerced (``"345"`` is not a list of
    ints, ``4.7`` not an int), and an unknown key is refused, naming the accepted ones.

    Returns ``{"rows", "boundary", "csv", "png", "seconds", "instances"}``; ``boundary[shape]``
    maps each ``d`` to the smallest ``n`` with a nonzero share of several fixed points.

    Examples
    --------
    >>> out = sweep_main({"n": [10], "d": [3], "instances": 20, "block_size": 20})
    >>> out["instances"], out["boundary"]
    (40, {'two_cluster': {3: None}, 'log_uniform': {3: None}})
    >>> sweep_main({"n": [10], "intances": 20})
    Traceback (most recent call last):
    ...
    ValueError: unknown sweep option(s) 'intances': the options are n, d, shapes, instances, ...
    """
    options = _sweep_options(args)
    start = time.perf_counter()
    with open_executor(options["executor"]) as executor:
        diagram = run_phase_diagram(
            options["n"], options["d"], options["shapes"], instances=options["instances"],
            seed=options["seed"], block_size=options["block_size"],
            chunk_size=options["chunk_size"], executor=executor, progress=options["progress"],
            grid_size=options["grid_size"])
    seconds = time.perf_counter() - start
    csv_path = diagram.to_csv(options["csv"]) if options["csv"] is not None else None
    png_path = diagram.plot(options["png"]) if options["png"] is not None else None
    shapes = dict.fromkeys(row["shape"] for row in diagram.rows)
    return {"rows": diagram.rows, "boundary": {shape: diagram.boundary(shape) for shape in shapes},
            "csv": csv_path, "png": png_path, "seconds": seconds,
            "instances": sum(row["instances"] for row in diagram.rows)}
