"""Reproducible chunked sweeps through any executor (pure standard library + NumPy).

A sweep over ``num_items`` items is cut into fixed **seed blocks** of ``block_size`` items; block
``b`` draws its random numbers from ``SeedSequence(seed, spawn_key=(b,))`` — exactly the ``b``-th
child of ``SeedSequence(seed).spawn(...)`` — so what a block computes depends only on ``seed``,
``block_size`` and ``b``. Blocks are grouped into **chunks** (the unit of scheduling). Results are
therefore bit-identical whatever the executor, the number of workers or the chunk size.

``executor`` may be

* ``None`` — run in this process;
* any :class:`concurrent.futures.Executor` (e.g. ``ProcessPoolExecutor(2)``); the function must be
  picklable (a module-level function or a :func:`functools.partial` of one);
* a ``dask.distributed.Client`` (local or connected to a cluster's scheduler address); it is used
  through its ``concurrent.futures`` interface, ``client.get_executor(pure=False)``.

Examples
--------
>>> import numpy as np

>>> def mean_normal(block):
...     rng = np.random.default_rng(block.seed)
...     return rng.standard_normal(block.stop - block.start).mean()
>>> a = map_chunks(mean_normal, 10, seed=1, block_size=4)
>>> b = map_chunks(mean_normal, 10, seed=1, block_size=4, chunk_size=8)
>>> len(a), a == b
(3, True)
"""
from __future__ import annotations

import math
import pickle
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import NamedTuple

import numpy as np

from .validation import as_bool, as_integer

__all__ = ["map_chunks", "SeedBlock", "ChunkPlan", "seed_blocks", "as_executor",
           "MAX_SEED_BLOCKS"]

#: Most seed blocks a sweep is cut into (each holds a ``SeedSequence``, a few hundred bytes):
#: beyond it the block list alone would take gigabytes; raise ``block_size`` instead.
MAX_SEED_BLOCKS = 10**6


class SeedBlock(NamedTuple):
    """Items ``start:stop`` of a sweep, block number ``index``, and their ``SeedSequence``."""

    index: int
    start: int
    stop: int
    seed: np.random.SeedSequence

    def __repr__(self):   # one line (SeedSequence's own repr spans several)
        return (f"SeedBlock(index={self.index}, start={self.start}, stop={self.stop}, "
                f"seed=SeedSequence(entropy={self.seed.entropy}, "
                f"spawn_key={self.seed.spawn_key}))")


class ChunkPlan(NamedTuple):
    """How a sweep is cut: ``num_blocks`` seed blocks, ``blocks_per_chunk`` per scheduled chunk."""

    num_items: int
    block_size: int
    num_blocks: int
    blocks_per_chunk: int

    @property
    def num_chunks(self):
        return math.ceil(self.num_blocks / self.blocks_per_chunk) if self.num_blocks else 0


def _positive_int(value, name, *, allow_zero=False):
    return as_integer(value, name, minimum=0 if allow_zero else 1)


def _root_seed(seed):
    """``seed`` (an int ``>= 0`` or a ``SeedSequence``) as the sweep's root ``SeedSequence``."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        raise TypeError("seed must be an int >= 0 or a numpy.random.SeedSequence, got None: a "
                        "sweep is reproduced only from its seed (pass "
                        "numpy.random.SeedSequence() for fresh entropy)")
    return np.random.SeedSequence(as_integer(seed, "seed", minimum=0))


def seed_blocks(num_items, *, seed=0, block_size=1024):
    """The seed blocks of a sweep of ``num_items`` items (see the module docstring).

    ``seed`` is an int ``>= 0`` or a ``numpy.random.SeedSequence`` (not ``None``: the blocks,
    and so the sweep's result, are fixed by it).

    Examples
    --------
    >>> [(b.index, b.start, b.stop) for b in seed_blocks(5, block_size=2)]
    [(0, 0, 2), (1, 2, 4), (2, 4, 5)]
    >>> seed_blocks(5, block_size=2)[1].seed.spawn_key
    (1,)
    """
    num_items = _positive_int(num_items, "num_items", allow_zero=True)
    block_size = _positive_int(block_size, "block_size")
    root = _root_seed(seed)
    num_blocks = -(-num_items // block_size)
    if num_blocks > MAX_SEED_BLOCKS:
        raise ValueError(f"num_items = {num_items} in blocks of block_size = {block_size} makes "
                         f"{num_blocks} seed blocks > MAX_SEED_BLOCKS = {MAX_SEED_BLOCKS}; raise "
                         "block_size or split the sweep")
    return [SeedBlock(b, start, min(start + block_size, num_items),
                      np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + (b,)))
            for b, start in enumerate(range(0, num_items, block_size))]


def as_executor(executor):
    """``None``, a ``concurrent.futures.Executor``, or the executor of a Dask ``Client``."""
    if executor is None or isinstance(executor, Executor):
        return executor
    if type(executor).__module__.startswith("distributed") and hasattr(executor, "get_executor"):
        return executor.get_executor(pure=False)
    raise TypeError("executor must be None, a concurrent.futures.Executor or a "
                    f"dask.distributed.Client, got {type(executor).__name__}")


def _run_chunk(fn, blocks):
    return [fn(block) for block in blocks]


def _progress_bar(total, enabled, description):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress=True needs tqdm: install wpgd-theory[distributed]") from None
    return tqdm(total=total, desc=description, unit="item")


def map_chunks(fn, num_items, *, seed=0, block_size=1024, chunk_size=None, executor=None,
               progress=False, description=None):
    """Apply ``fn`` to every seed block of a sweep, scheduling chunks on ``executor``.

    Parameters
    ----------
    fn : callable
        ``fn(block: SeedBlock)`` — processes items ``block.start:block.stop`` with randomness
        from ``numpy.random.default_rng(block.seed)`` only. Picklable for process/Dask executors.
    num_items : int
        Total number of items.
    seed : int or numpy.random.SeedSequence
        Root entropy (an int ``>= 0``) or the root ``SeedSequence`` itself. ``None`` is refused:
        the result is bit-identical only for a fixed seed (for fresh entropy, pass
        ``numpy.random.SeedSequence()`` and keep its ``entropy`` to reproduce the sweep).
    block_size : int
        Items per seed block. Part of the *result*: keep it fixed to reproduce a sweep.
    chunk_size : int, optional
        Items per scheduled chunk, rounded up to a multiple of ``block_size``; does not change
        the result. Default: about 4 chunks per CPU of this machine (at least one block each).
    executor : None, concurrent.futures.Executor or dask.distributed.Client
    progress : bool
        Show a tqdm progress bar (items done).

    Returns
    -------
    list
        ``fn``'s results, one per block, in block order.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    progress = as_bool(progress, "progress")
    blocks = seed_blocks(num_items, seed=seed, block_size=block_size)
    plan = _plan(len(blocks), num_items, block_size, chunk_size)
    chunks = [blocks[k:k + plan.blocks_per_chunk]
              for k in range(0, len(blocks), plan.blocks_per_chunk)]
    pool = as_executor(executor)
    _check_picklable(fn, pool)
    bar = _progress_bar(num_items, progress, description)
    results = [None] * len(chunks)
    try:
        if pool is None:
            for k, chunk in enumerate(chunks):
                results[k] = _run_chunk(fn, chunk)
                if bar is not None:
                    bar.update(chunk[-1].stop - chunk[0].start)
        else:
            futures = _submit_all(pool, fn, chunks)
            for future in as_completed(futures):
                k = futures[future]
                results[k] = future.result()
                if bar is not None:
                    bar.update(chunks[k][-1].stop - chunks[k][0].start)
    finally:
        if bar is not None:
            bar.close()
    return [value for chunk in results for value in chunk]


def _check_picklable(fn, pool):
    """A process pool pickles ``fn`` (Dask uses cloudpickle, threads share it): refuse early."""
    if not isinstance(pool, ProcessPoolExecutor):
        return
    try:
        pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise TypeError(f"fn must be picklable to run on a ProcessPoolExecutor (a module-level "
                        f"function or a functools.partial of one, not a lambda or a local "
                        f"function); pickling {fn!r} failed: {exc}") from None


def _submit_all(pool, fn, chunks):
    futures = {}
    for k, chunk in enumerate(chunks):
        try:
            futures[pool.submit(_run_chunk, fn, chunk)] = k
        except RuntimeError as exc:    # "cannot schedule new futures after shutdown"
            for future in futures:
                future.cancel()
            raise ValueError(f"executor {type(pool).__name__} cannot take work ({exc}): pass an "
                             "open executor (not one that has been shut down)") from None
    return futures


def _plan(num_blocks, num_items, block_size, chunk_size):
    if chunk_size is None:
        import os
        target = 4 * (os.cpu_count() or 1)
        per_chunk = max(1, math.ceil(num_blocks / target))
    else:
        per_chunk = math.ceil(_positive_int(chunk_size, "chunk_size") / block_size)
    return ChunkPlan(num_items, block_size, num_blocks, per_chunk)
