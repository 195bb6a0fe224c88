"""The uniqueness phase diagram: how often does ``φ`` have several fixed points?

Over a grid of ``(shape, n, d)`` cells, each cell draws ``instances`` random spectra of a family
and solves them with :func:`~wpgd_theory.core.batched.solve_spectra_batched`:

* ``"two_cluster"`` — :func:`~wpgd_theory.verify.search.two_cluster_instance` with parameters
  uniform in the box searched by :func:`~wpgd_theory.verify.search.adversarial_search` (log
  scales of ``s`` and ``σ²``, trace fractions of the two eigenvalues of ``R`` carrying ``r``);
* ``"log_uniform"`` — :func:`~wpgd_theory.verify.search.random_instance` (log-uniform Σ spectrum
  over 6 decades, Dirichlet R spectrum, ``a`` uniform in the admissible ellipsoid).

Per cell: the share of instances with more than one fixed point with a 95 % Clopper–Pearson
interval, the largest slope ``φ'(γ*)`` at a fixed point (a slope > 1 forces three fixed points)
and its 99th percentile. The work is a :func:`~wpgd_theory.core.parallel.map_chunks` sweep, so the
table is identical whatever the executor (in-process, processes, a Dask cluster).
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ..core.batched import solve_spectra_batched
from ..core.parallel import map_chunks
from ..core.spectral import as_grid_size
from ..core.validation import MAX_EXACT_INT, as_bool, as_integer, as_real, as_sequence
from ..verify.search import (
    _PARAMETER_BOUNDS,
    MAX_SPECTRUM_SIZE,
    _instance_from_parameters,
    random_instance,
)

__all__ = ["SHAPES", "DEFAULT_SHAPES", "TIGHT_BOUNDS", "PLOT_VALUES", "MAX_DRAW_ELEMENTS",
           "MAX_PHASE_INSTANCES", "run_phase_diagram", "PhaseDiagram", "clopper_pearson",
           "wilson_interval", "draw_spectra"]

#: The spectral families of the diagram.
SHAPES = ("two_cluster", "two_cluster_tight", "log_uniform")
#: The default families (``two_cluster_tight`` is the zoom for the uniqueness boundary).
DEFAULT_SHAPES = ("two_cluster", "log_uniform")
#: ``two_cluster_tight``: the sub-box of the two-cluster parameters around the adversarial optima
#: (one large eigenvalue of Σ over a small cluster, small σ², R dominated by one eigenvalue
#: ≈ 0.9–0.99 n carrying part of r; cf. docs/findings.md).
TIGHT_BOUNDS = {
    "log_s_large": (-3.0, 0.0), "log_s_small": (-8.0, -4.0), "k_fraction": (0.0, 0.05),
    "log_sigma2": (-8.0, -3.0), "lam_small_fraction": (0.01, 0.3),
    "lam_large_fraction": (0.9, 0.99), "mass_large": (0.05, 0.5),
}
_COLUMNS = ("shape", "n", "d", "instances", "several", "share", "share_low", "share_high",
            "max_slope", "slope_q99")


def _binomial_counts(successes, trials, confidence):
    """Checked ``(successes, trials, confidence)``: ints ``0 <= successes <= trials``,
    ``trials >= 1`` and ``0 < confidence < 1``."""
    trials = as_integer(trials, "trials", minimum=1, maximum=MAX_EXACT_INT)
    successes = as_integer(successes, "successes", minimum=0, maximum=trials)
    confidence = as_real(confidence, "confidence", minimum=0.0, strict_minimum=True, maximum=1.0)
    if confidence == 1.0:
        raise ValueError("confidence must be < 1, got 1")
    return successes, trials, confidence


def clopper_pearson(successes, trials, confidence=0.95):
    """Exact (Clopper–Pearson) interval for a binomial proportion.

    ``successes`` and ``trials`` are ints with ``0 <= successes <= trials`` and ``trials >= 1``;
    ``0 < confidence < 1``.

    Examples
    --------
    >>> low, high = clopper_pearson(0, 1000)
    >>> low, round(high, 5)              # the "rule of three": ≈ 3/1000
    (0.0, 0.00368)
    """
    from scipy.stats import beta

    successes, trials, confidence = _binomial_counts(successes, trials, confidence)
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(
        beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return low, high


def wilson_interval(successes, trials, confidence=0.95):
    """Wilson score interval for a binomial proportion (arguments as :func:`clopper_pearson`).

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(5, 100)]
    [0.0215, 0.1118]
    """
    from scipy.stats import norm

    successes, trials, confidence = _binomial_counts(successes, trials, confidence)
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (z * math.sqrt(p * (1 - p) / trials + z * z / (4 * float(trials) ** 2))
            / (1 + z * z / trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def draw_spectra(shape, n, d, rng, count):
    """``count ≥ 1`` random instances of a family, stacked: ``(s, σ², λ, a)`` arrays.

    ``shape`` is one of :data:`SHAPES`, ``n ≥ 3``, ``d ≥ 2`` and ``rng`` a
    ``numpy.random.Generator``; at most ``MAX_DRAW_ELEMENTS`` numbers ``count · (d + 2n)``.

    Examples
    --------
    >>> s, sigma2, lam, a = draw_spectra("log_uniform", 5, 3, np.random.default_rng(0), 2)
    >>> s.shape, sigma2.shape, lam.shape, a.shape
    ((2, 3), (2,), (2, 5), (2, 5))
    """
    shape = _shape(shape, "shape")
    n = as_integer(n, "n", minimum=3, maximum=MAX_SPECTRUM_SIZE)
    d = as_integer(d, "d", minimum=2, maximum=MAX_SPECTRUM_SIZE)
    count = as_integer(count, "count", minimum=1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    _check_block_size(count, n, d, "count")
    if shape in ("two_cluster", "two_cluster_tight"):
        bounds = _PARAMETER_BOUNDS if shape == "two_cluster" else TIGHT_BOUNDS
        low, high = np.array([bounds[key] for key in _PARAMETER_BOUNDS]).T
        instances = [_instance_from_parameters(n, d, rng.uniform(low, high))[1]
                     for _ in range(count)]
    else:
        instances = [random_instance(rng, n, d) for _ in range(count)]
    return (np.stack([x.sigma_eigenvalues for x in instances]),
            np.array([x.sigma2 for x in instances]),
            np.stack([x.R_eigenvalues for x in instances]),
            np.stack([x.r_coefficients for x in instances]))


#: Most numbers one block of the sweep draws (``block_size · (d + 2n)``; 256 MB of float64).
MAX_DRAW_ELEMENTS = 2**25
#: Most instances a phase diagram solves in all (``cells × instances``; ~10⁴ per second).
MAX_PHASE_INSTANCES = 10**8


def _check_block_size(count, n, d, name):
    if count * (d + 2 * n) > MAX_DRAW_ELEMENTS:
        raise ValueError(f"{name} = {count} instances of n = {n}, d = {d} would draw "
                         f"{count * (d + 2 * n)} numbers at once > MAX_DRAW_ELEMENTS = "
                         f"{MAX_DRAW_ELEMENTS}; lower {name}")


def _phase_block(cells, instances, grid_size, block):
    shape, n, d = cells[block.start // instances]
    rng = np.random.default_rng(block.seed)
    found = solve_spectra_batched(*draw_spectra(shape, n, d, rng, block.stop - block.start),
                                  grid_size=grid_size)
    return int(np.sum(found.count > 1)), np.nanmax(found.slopes, axis=-1)


@dataclass(frozen=True)
class PhaseDiagram:
    """Result of :func:`run_phase_diagram`: one row per ``(shape, n, d)`` cell.

    ``rows`` are dicts with the keys of :attr:`columns`; ``slopes[(shape, n, d)]`` holds every
    instance's largest slope ``φ'(γ*)``.
    """

    rows: list
    seed: int
    block_size: int
    slopes: dict = field(repr=False)
    columns: tuple = _COLUMNS

    def __repr__(self):
        several = sum(row["several"] for row in self.rows)
        total = sum(row["instances"] for row in self.rows)
        return (f"PhaseDiagram(cells={len(self.rows)}, instances={total}, several={several}, "
                f"max_slope={max(row['max_slope'] for row in self.rows):.4g}, "
                f"seed={self.seed!r}, block_size={self.block_size})")

    def boundary(self, shape, *, threshold=0.0):
        """Per ``d``: the smallest ``n`` whose share of several fixed points exceeds
        ``threshold`` (None if none does) — the uniqueness boundary as a curve ``n(d)``."""
        curve = {}
        for row in sorted(self.rows, key=lambda row: (row["d"], row["n"])):
            if row["shape"] == shape:
                curve.setdefault(row["d"], None)
                if curve[row["d"]] is None and row["share"] > threshold:
                    curve[row["d"]] = row["n"]
        return curve

    def to_csv(self, path):
        """Write the table (one line per cell) and return ``path``.

        ``path`` is a file path (``str`` or ``os.PathLike``) or an open text file, which is
        written to and left open. An int is refused (``open`` would take it for a file
        descriptor and close the caller's file).
        """
        if isinstance(path, (str, os.PathLike)):
            with open(path, "w", newline="", encoding="utf-8") as handle:
                self._write_csv(handle)
        elif hasattr(path, "write") and not isinstance(path, (bytes, bytearray)):
            self._write_csv(path)
        else:
            raise TypeError("path must be a file path (str or os.PathLike) or an open text "
                            f"file, got {type(path).__name__}")
        return path

    def _write_csv(self, handle):
        writer = csv.DictWriter(handle, fieldnames=self.columns)
        writer.writeheader()
        for row in self.rows:
            writer.writerow({key: row[key] for key in self.columns})

    def plot(self, path, *, values=("share", "max_slope")):
        """Heat maps (one column per shape, one row per value; ``n`` across, ``d`` up), as PNG.

        ``path`` is a file path (``str`` or ``os.PathLike``); ``values`` a non-empty sequence of
        numeric columns from :data:`PLOT_VALUES`.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or os.PathLike), got "
                            f"{type(path).__name__}")
        values = as_sequence(values, "values", _plot_value, of=f"str from {PLOT_VALUES}")
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("plotting needs matplotlib: install wpgd-theory[plot]") from None
        shapes = sorted({row["shape"] for row in self.rows}, key=SHAPES.index)
        figure, axes = plt.subplots(len(values), len(shapes), squeeze=False,
                                    figsize=(5.5 * len(shapes), 3.6 * len(values)))
        for row_axes, value in zip(axes, values):
            for ax, shape in zip(row_axes, shapes):
                self._panel(ax, shape, value)
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return path

    def _panel(self, ax, shape, value):
        rows = [row for row in self.rows if row["shape"] == shape]
        ns = sorted({row["n"] for row in rows})
        ds = sorted({row["d"] for row in rows})
        grid = np.full((len(ds), len(ns)), np.nan)
        for row in rows:
            grid[ds.index(row["d"]), ns.index(row["n"])] = row[value]
        top = max(float(np.nanmax(grid)), 1e-3 if value == "share" else 1.0)
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=top)
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7,
                        color="w" if v < 0.6 * top else "k")
        ax.set_xticks(range(len(ns)), [str(v) for v in ns])
        ax.set_yticks(range(len(ds)), [str(v) for v in ds])
        ax.set_xlabel("n (context tasks)")
        ax.set_ylabel("d (features)")
        ax.set_title(f"{shape}: {value}")
        ax.figure.colorbar(image, ax=ax)


#: The numeric columns :meth:`PhaseDiagram.plot` can draw.
PLOT_VALUES = ("share", "share_low", "share_high", "several", "max_slope", "slope_q99")


def _plot_value(value, name):
    if not isinstance(value, str) or value not in PLOT_VALUES:
        raise ValueError(f"{name} must be one of {PLOT_VALUES}, got {value!r}")
    return value


def _int_sequence(values, name, minimum):
    return as_sequence(values, name, lambda value, item: as_integer(
        value, item, minimum=minimum, maximum=MAX_SPECTRUM_SIZE), of="int")


def _shape(shape, name):
    if not isinstance(shape, str) or shape not in SHAPES:
        raise ValueError(f"{name} must be one of {SHAPES}, got {shape!r}")
    return shape


def _shape_sequence(shapes):
    return as_sequence(shapes, "shapes", _shape, of=f"str from {SHAPES}")


def run_phase_diagram(n_values, d_values, shapes=DEFAULT_SHAPES, *, instances=1000, seed=0,
                      block_size=500, chunk_size=None, executor=None, progress=False,
                      grid_size=129, confidence=0.95):
    """Estimate, per ``(shape, n, d)``, the share of instances with several fixed points.

    Parameters
    ----------
    n_values, d_values : sequence of int
        Grid of context sizes ``n ≥ 3`` and feature dimensions ``d ≥ 2`` (non-empty).
    shapes : sequence of str
        Families from :data:`SHAPES` (non-empty; a single name must still be in a tuple).
    instances : int
        Instances per cell, ``≥ 1`` (a multiple of ``block_size``, or smaller than it).
    seed, block_size : int
        ``seed ≥ 0`` (or a ``SeedSequence``) and ``block_size ≥ 1``: the sweep's seed blocks (:func:`~wpgd_theory.core.parallel.map_chunks`); together they
        fix the result.
    chunk_size, executor, progress
        Scheduling only (see :func:`~wpgd_theory.core.parallel.map_chunks`).
    grid_size : int
        Bracketing grid of the solver.
    confidence : float
        Level of the Clopper–Pearson interval on the share.

    Returns
    -------
    PhaseDiagram

    Examples
    --------
    >>> diagram = run_phase_diagram([10], [3], instances=40, block_size=20)
    >>> [(row["shape"], row["several"], row["max_slope"] < 1) for row in diagram.rows]
    [('two_cluster', 0, True), ('log_uniform', 0, True)]
    """
    n_values = _int_sequence(n_values, "n_values", minimum=3)
    d_values = _int_sequence(d_values, "d_values", minimum=2)
    shapes = _shape_sequence(shapes)
    instances = as_integer(instances, "instances", minimum=1)
    block_size = min(as_integer(block_size, "block_size", minimum=1), instances)
    grid_size = as_grid_size(grid_size)
    progress = as_bool(progress, "progress")
    _binomial_counts(0, 1, confidence)   # checks confidence before the sweep
    cells = [(shape, n, d) for shape in shapes for n in n_values for d in d_values]
    if len(cells) * instances > MAX_PHASE_INSTANCES:
        raise ValueError(f"{len(cells)} cells × instances = {instances} is "
                         f"{len(cells) * instances} instances > MAX_PHASE_INSTANCES = "
                         f"{MAX_PHASE_INSTANCES} (hours of work); lower instances or split the "
                         "grid")
    _check_block_size(block_size, max(n_values), max(d_values), "block_size")
    if instances % block_size:
        raise ValueError(f"instances ({instances}) must be a multiple of block_size "
                         f"({block_size}) so that seed blocks do not straddle cells")
    results = map_chunks(partial(_phase_block, cells, instances, grid_size),
                         len(cells) * instances, seed=seed, block_size=block_size,
                         chunk_size=chunk_size, executor=executor, progress=progress,
                         description="phase diagram")
    per_cell = instances // block_size
    rows, slopes = [], {}
    for k, cell in enumerate(cells):
        part = results[k * per_cell:(k + 1) * per_cell]
        several = sum(count for count, _ in part)
        cell_slopes = np.concatenate([values for _, values in part])
        low, high = clopper_pearson(several, instances, confidence)
        slopes[cell] = cell_slopes
        rows.append(dict(shape=cell[0], n=cell[1], d=cell[2], instances=instances,
                         several=several, share=several / instances, share_low=low,
                         share_high=high, max_slope=float(cell_slopes.max()),
                         slope_q99=float(np.quantile(cell_slopes, 0.99))))
    return PhaseDiagram(rows, seed, block_size, slopes)
