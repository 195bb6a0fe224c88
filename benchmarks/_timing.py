"""Timing helpers shared by the benchmark scripts (``python benchmarks/bench_*.py`` puts this
folder first on ``sys.path``, so they import it as ``from _timing import ...``)."""
import os
import time

import numpy as np


def timed(func):
    """``(seconds, result)`` of one call of ``func()``."""
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def alternate(first, second, repeats):
    """Run ``first`` and ``second`` alternately; return both lists of times and last results."""
    times_first, times_second = [], []
    for _ in range(repeats):
        t, result_first = timed(first)
        times_first.append(t)
        t, result_second = timed(second)
        times_second.append(t)
    return np.array(times_first), np.array(times_second), result_first, result_second


def load():
    """The 1-minute load average, for the printout (2 cores shared)."""
    return f"load average {os.getloadavg()[0]:.2f} (2 cores shared)"
