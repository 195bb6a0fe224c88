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
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from .phase import DEFAULT_SHAPES, run_phase_diagram

__all__ = ["open_executor", "sweep_main"]


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


def sweep_main(args):
    """Run the uniqueness phase diagram from a dict of options; return a summary dict.

    Keys (all optional): ``n`` (list of int), ``d`` (list of int), ``shapes`` (list of str),
    ``instances``, ``seed``, ``block_size``, ``chunk_size``, ``grid_size``, ``executor`` (spec),
    ``progress`` (bool), ``csv`` and ``png`` (output paths), ``export_several`` (a folder for
    the instances with several fixed points, :meth:`~.phase.PhaseDiagram.export_several`).

    Returns ``{"rows", "boundary", "csv", "png", "export_several", "exported", "seconds",
    "instances", "seed", "block_size"}``; ``boundary[shape]`` maps each ``d`` to the smallest
    ``n`` with a nonzero share of several fixed points; ``exported`` lists the files written
    (``None`` without ``export_several``).

    Examples
    --------
    >>> out = sweep_main({"n": [10], "d": [3], "instances": 20, "block_size": 20})
    >>> out["instances"], out["boundary"]
    (40, {'two_cluster': {3: None}, 'log_uniform': {3: None}})
    """
    options = dict(args)
    shapes = tuple(options.get("shapes") or DEFAULT_SHAPES)
    start = time.perf_counter()
    with open_executor(options.get("executor") or "none") as executor:
        diagram = run_phase_diagram(
            [int(v) for v in options.get("n", (20, 50, 100, 200, 500))],
            [int(v) for v in options.get("d", (5, 20, 50))], shapes,
            instances=int(options.get("instances", 1000)), seed=int(options.get("seed", 0)),
            block_size=int(options.get("block_size", 500)),
            chunk_size=options.get("chunk_size"), executor=executor,
            progress=bool(options.get("progress", False)),
            grid_size=int(options.get("grid_size", 129)))
    seconds = time.perf_counter() - start
    csv_path = diagram.to_csv(options["csv"]) if options.get("csv") else None
    png_path = diagram.plot(options["png"]) if options.get("png") else None
    folder = options.get("export_several")
    exported = [str(path) for path in diagram.export_several(folder)] if folder else None
    return {"rows": diagram.rows, "boundary": {shape: diagram.boundary(shape) for shape in shapes},
            "csv": csv_path, "png": png_path, "export_several": folder, "exported": exported,
            "seconds": seconds, "instances": sum(row["instances"] for row in diagram.rows),
            "seed": diagram.seed, "block_size": diagram.block_size}
