"""Theory curves: optimal risk against the context length ``n`` for any multitask family.

A :class:`MultitaskFamily` fixes everything but ``n``: ``K`` tasks with correlation ``C``, query
correlations ``c``, block proportions ``p`` (block ``k`` has ``n_k = n p_k / Σp`` pairs), any
feature covariance ``Σ`` and noise ``σ²``. Four optimal risks per ``n`` (docs/theory.md §7):

* ``linatt`` — linear attention, ``ω = 1`` (:func:`~wpgd_theory.multitask.gating.linear_attention_optimum`;
  for ``Σ = I`` this is the Corollary);
* ``gla`` — scalar gating driven by the delimiters, exact optimum over the monotone cone
  (:func:`~wpgd_theory.multitask.gating.scalar_gating_optimum`);
* ``gla_wo`` — no delimiters: best constant gate (recency weights,
  :func:`~wpgd_theory.multitask.gating.decay_gating_optimum`);
* ``gla_vector`` — key-wise (vector) gating, every eigen-direction of ``Σ`` with its own block
  weights (:func:`~wpgd_theory.multitask.vector_gating.vector_gating_optimum`, key width ``2d``):
  ``L*_WPGD`` for ``Σ ∝ I``, below it for anisotropic ``Σ`` (docs/findings.md §9).

The paper's experiment (poster "Experiments", Figure 1) is the preset
:func:`paper_setting_family`: ``K = 2``, ``n_1 = n_2 = n/2``, ``corr(β_1, β_2) = 0``,
``c = (r_1, r_2)``, ``Σ = I_d``. matplotlib is optional (``pip install wpgd-theory[plot]``) and
imported only by :func:`curves_figure` / :func:`plot_curves`.
"""
from __future__ import annotations

import csv
import numbers
import os
from functools import partial
from typing import NamedTuple

import numpy as np

from ..core.parallel import map_chunks
from ..core.validation import as_bool, as_nonnegative_scalar
from .gating import (
    decay_gating_optimum,
    linear_attention_optimum,
    scalar_gating_optimum,
)
from .model import MultitaskModel
from .vector_gating import vector_gating_optimum

__all__ = ["TheoryCurves", "MultitaskFamily", "CURVE_COLUMNS", "CURVE_LABELS",
           "paper_setting_family", "paper_setting_model", "theory_curves", "write_curves_csv",
           "curves_figure", "plot_curves"]

CURVE_COLUMNS = ("n", "linatt", "gla", "gla_wo", "gla_vector")
"""CSV header, in order."""

CURVE_LABELS = {"linatt": "LinAtt", "gla": "GLA (scalar gating, delimiters)",
                "gla_wo": "GLA-wo (no delimiters)", "gla_vector": "GLA (vector gating)"}

# Drawn in this order. The vector-gating curve often coincides with the scalar one (relevant task
# last), so it is a wide translucent band with hollow markers underneath a thin dashed scalar line.
CURVE_STYLES = {
    "gla_vector": dict(linestyle="-", linewidth=5.0, alpha=0.35, marker="o", markersize=9,
                       markerfacecolor="none", zorder=1, color="tab:green"),
    "linatt": dict(linestyle="-", linewidth=1.5, marker="s", markersize=4, zorder=2,
                   color="tab:blue"),
    "gla_wo": dict(linestyle="-.", linewidth=1.5, marker="^", markersize=4, zorder=3,
                   color="tab:orange"),
    "gla": dict(linestyle="--", linewidth=1.5, marker="x", markersize=5, zorder=4,
                color="tab:red"),
}


def _as_proportions(proportions, K):
    p = np.asarray(proportions)
    if p.shape != (K,) or not np.issubdtype(p.dtype, np.number) or p.dtype == bool:
        raise TypeError(f"proportions must be a length-{K} sequence of positive integers, "
                        f"got {proportions!r}")
    if not np.all(np.isfinite(p)) or np.any(p != np.round(p)) or np.any(p < 1):
        raise ValueError(f"proportions must be positive integers (block k gets n·p_k/Σp pairs), "
                         f"got {p.tolist()}")
    return p.astype(np.int64)


class MultitaskFamily:
    """A multitask model with everything fixed but the context length ``n``.

    Parameters
    ----------
    task_correlation : array_like, shape (K, K)
        ``C``, as in :class:`~wpgd_theory.multitask.MultitaskModel`.
    query_correlation : array_like, shape (K,)
        ``c``.
    proportions : sequence of K positive int
        Block ``k`` has ``n_k = n p_k / Σp`` pairs; ``n`` must be a multiple of ``Σp``.
    Sigma : array_like, shape (d, d)
        Feature covariance.
    sigma2 : float
        Noise variance.

    Raises
    ------
    TypeError, ValueError
        As :class:`~wpgd_theory.multitask.MultitaskModel` (validated once, at ``n = Σp``), or for
        proportions that are not positive integers.

    Examples
    --------
    >>> family = MultitaskFamily([[1, .5, 0], [.5, 1, 0], [0, 0, 1]], [.2, .4, .8], [1, 2, 1],
    ...                          np.diag([1.0, 0.5]), 0.1)
    >>> family
    MultitaskFamily(K=3, proportions=[1, 2, 1], d=2, sigma2=0.1)
    >>> family.model(8).sizes
    array([2, 4, 2])
    >>> family.model(6)
    Traceback (most recent call last):
    ...
    ValueError: n_values must be positive integer multiples of sum(proportions) = 4 (block k gets n·p_k/4 pairs), got [6]
    """

    def __init__(self, task_correlation, query_correlation, proportions, Sigma, sigma2):
        probe = MultitaskModel(task_correlation, query_correlation,
                               np.ones(np.shape(query_correlation), dtype=int), Sigma, sigma2)
        self.task_correlation = probe.task_correlation
        self.query_correlation = probe.query_correlation
        self.Sigma = probe.Sigma
        self.sigma2 = probe.sigma2
        self.proportions = _as_proportions(proportions, probe.K)

    K = property(lambda self: self.query_correlation.size, doc="Number of tasks.")
    d = property(lambda self: self.Sigma.shape[0], doc="Feature dimension.")

    def check_lengths(self, n_values):
        """Validate ``n_values`` (each a positive multiple of ``Σp``); return them as int64."""
        total = int(self.proportions.sum())
        n = np.atleast_1d(np.asarray(n_values))
        if n.ndim != 1 or n.size == 0 or not np.issubdtype(n.dtype, np.number) or n.dtype == bool:
            raise TypeError(f"n_values must be a non-empty 1-d sequence of integers, "
                            f"got {n_values!r}")
        if n.size > MAX_CURVES_POINTS:
            raise ValueError(f"n_values must have at most {MAX_CURVES_POINTS} entries "
                             f"(size limit), got {n.size}")
        if not np.all(np.isfinite(n)) or np.any(n != np.round(n)) or np.any(n < total) \
                or np.any(np.round(n) % total):
            if self.K == 2 and total == 2:
                raise ValueError(f"n_values must be even integers >= 2 (n_1 = n_2 = n/2), got "
                                 f"{n.tolist()}")
            raise ValueError(f"n_values must be positive integer multiples of sum(proportions) = "
                             f"{total} (block k gets n·p_k/{total} pairs), got {n.tolist()}")
        return n.astype(np.int64)

    def model(self, n):
        """The :class:`~wpgd_theory.multitask.MultitaskModel` at context length ``n``."""
        total = int(self.check_lengths([n])[0])
        sizes = total // int(self.proportions.sum()) * self.proportions
        return MultitaskModel(self.task_correlation, self.query_correlation, sizes, self.Sigma,
                              self.sigma2)

    def describe(self):
        """One line for plot titles: ``K``, ``c``, ``d``, ``σ²`` (and ``C``, ``Σ`` if not ``I``)."""
        c = ", ".join(f"{v:g}" for v in self.query_correlation)
        text = f"c = ({c}), d = {self.d}, σ² = {self.sigma2:g}"
        if not np.array_equal(self.task_correlation, np.eye(self.K)):
            text += ", correlated tasks"
        if not np.array_equal(self.Sigma, np.eye(self.d)):
            text += ", Σ ≠ I"
        return f"K = {self.K}: {text}"

    def __repr__(self):
        return (f"MultitaskFamily(K={self.K}, proportions={self.proportions.tolist()}, d={self.d}, "
                f"sigma2={self.sigma2:g})")


class TheoryCurves(NamedTuple):
    """Optimal risks on a grid of ``n`` (divided by ``d`` if ``normalized``).

    ``r1``, ``r2`` are the query correlations when ``K = 2`` (else ``None``); ``family`` is the
    :class:`MultitaskFamily` the curves were computed for.
    """

    n: np.ndarray
    linatt: np.ndarray
    gla: np.ndarray
    gla_wo: np.ndarray
    gla_vector: np.ndarray
    r1: float | None
    r2: float | None
    d: int
    sigma2: float
    normalized: bool
    family: MultitaskFamily | None = None

    def rows(self):
        """One tuple per ``n`` in :data:`CURVE_COLUMNS` order."""
        return list(zip(self.n.tolist(), *(getattr(self, c).tolist() for c in CURVE_COLUMNS[1:])))

    def __repr__(self):
        return (f"TheoryCurves({self.family!r}, n={self.n.tolist()}, "
                f"normalized={self.normalized})")


MAX_CURVES_D = 2048
"""Largest ``d`` of :func:`theory_curves` (a ``d × d`` identity is formed and diagonalised)."""
MAX_CURVES_POINTS = 10_000
"""Largest number of ``n`` values of :func:`theory_curves`."""


def _check_curves(curves):
    if not isinstance(curves, TheoryCurves):
        raise TypeError(f"curves must be a TheoryCurves (from theory_curves), got "
                        f"{type(curves).__name__}")


def _check_setting(r1, r2, d):
    for name, value in (("r1", r1), ("r2", r2)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise TypeError(f"{name} must be a finite real number, got {value!r}")
    if r1**2 + r2**2 > 1 + 1e-12:
        raise ValueError(f"r1² + r2² must be <= 1 when corr(β_1, β_2) = 0, got "
                         f"{r1**2 + r2**2:.6g} (r1 = {r1}, r2 = {r2})")
    if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    if d > MAX_CURVES_D:
        raise ValueError(f"d must be <= {MAX_CURVES_D} (size limit: Σ = I_d is formed), got {d}")


def paper_setting_family(r1, r2, d, sigma2):
    """The paper's experimental setting (Figure 1) as a family: ``C = I_2``, ``c = (r1, r2)``,
    equal blocks, ``Σ = I_d``.

    Examples
    --------
    >>> paper_setting_family(0.3, 0.9, 10, 0.1)
    MultitaskFamily(K=2, proportions=[1, 1], d=10, sigma2=0.1)
    """
    _check_setting(r1, r2, d)
    return MultitaskFamily(np.eye(2), [r1, r2], [1, 1], np.eye(d),
                           as_nonnegative_scalar(sigma2, "sigma2"))


def paper_setting_model(n, r1, r2, d, sigma2):
    """The multitask model of the experiments at context length ``n`` (even):
    ``paper_setting_family(r1, r2, d, sigma2).model(n)``.

    Examples
    --------
    >>> paper_setting_model(10, 0.9, 0.3, 4, 0.1)
    MultitaskModel(K=2, sizes=[5, 5], d=4, sigma2=0.1)
    """
    return paper_setting_family(r1, r2, d, sigma2).model(n)


def _curve_row(family, n_values, block):
    """The four optimal risks at ``n = n_values[block.index]`` (one map_chunks item)."""
    model = family.model(n_values[block.index])
    return (linear_attention_optimum(model).risk, scalar_gating_optimum(model).risk,
            decay_gating_optimum(model).risk, vector_gating_optimum(model).risk)


def theory_curves(n_values, r1=None, r2=None, *, d=None, sigma2=None, family=None,
                  normalize=False, executor=None):
    """Optimal risks of LinAtt, GLA (scalar), GLA-wo and GLA (vector) for each ``n``.

    Either the paper's setting through ``r1, r2, d, sigma2`` (:func:`paper_setting_family`), or
    any :class:`MultitaskFamily` through ``family``.

    Parameters
    ----------
    n_values : sequence of int
        Context lengths ``n``; multiples of ``Σp`` (even for the paper's setting).
    r1, r2 : float, optional
        ``corr(β_1, β)``, ``corr(β_2, β)`` of the paper's setting; ``r1² + r2² ≤ 1``.
    d : int, optional
        Feature dimension of the paper's setting (``Σ = I_d``).
    sigma2 : float, optional
        Noise variance of the paper's setting.
    family : MultitaskFamily, optional
        Any family instead of the paper's setting (then ``r1, r2, d, sigma2`` must be omitted).
    normalize : bool, optional
        Divide every risk by ``d``.
    executor : None, concurrent.futures.Executor or dask.distributed.Client, optional
        Computes the ``n`` values in parallel (:func:`~wpgd_theory.core.parallel.map_chunks`);
        the curves do not depend on it.

    Returns
    -------
    TheoryCurves

    Examples
    --------
    Relevant task last: scalar gating down-weights the first block.

    >>> curves = theory_curves([2, 8, 32], 0.3, 0.9, d=4, sigma2=0.1)
    >>> for row in curves.rows():
    ...     print("{:>3} {:.4f} {:.4f} {:.4f} {:.4f}".format(*row))
      2 3.6279 3.5098 3.5098 3.5098
      8 2.8341 2.5176 2.5755 2.5176
     32 1.9161 1.3701 1.4239 1.3701

    Three correlated tasks, the middle block twice as long, anisotropic ``Σ``:

    >>> family = MultitaskFamily([[1, .5, 0], [.5, 1, 0], [0, 0, 1]], [.2, .4, .8], [1, 2, 1],
    ...                          np.diag([1.0, 0.5]), 0.1)
    >>> for row in theory_curves([4, 40], family=family).rows():
    ...     print("{:>3} {:.4f} {:.4f} {:.4f} {:.4f}".format(*row))
      4 1.3586 1.2600 1.2654 1.2600
     40 1.0742 0.6581 0.6768 0.6581
    """
    normalize = as_bool(normalize, "normalize")
    paper = (r1, r2, d, sigma2)
    if family is None:
        if any(value is None for value in paper):
            raise TypeError("theory_curves needs r1, r2, d and sigma2 (the paper's setting) "
                            "or family=MultitaskFamily(...)")
        family = paper_setting_family(r1, r2, d, sigma2)
    elif any(value is not None for value in paper):
        raise TypeError("pass either family= or r1, r2, d, sigma2, not both")
    elif not isinstance(family, MultitaskFamily):
        raise TypeError(f"family must be a MultitaskFamily, got {type(family).__name__}")
    n = family.check_lengths(n_values)
    rows = map_chunks(partial(_curve_row, family, n.tolist()), len(n), block_size=1,
                      executor=executor)
    columns = {name: [row[k] for row in rows] for k, name in enumerate(CURVE_COLUMNS[1:])}
    scale = 1.0 / family.d if normalize else 1.0
    arrays = {name: scale * np.array(values, dtype=float) for name, values in columns.items()}
    c = family.query_correlation
    r1, r2 = (float(c[0]), float(c[1])) if family.K == 2 else (None, None)
    return TheoryCurves(n, **arrays, r1=r1, r2=r2, d=family.d, sigma2=family.sigma2,
                        normalized=normalize, family=family)


def write_curves_csv(curves, file):
    """Write :data:`CURVE_COLUMNS` and one row per ``n`` (17 significant digits) to a path or file.

    Examples
    --------
    >>> import io
    >>> buffer = io.StringIO()
    >>> write_curves_csv(theory_curves([2], 0.3, 0.9, d=4, sigma2=0.1), buffer)
    >>> print(buffer.getvalue().splitlines()[0])
    n,linatt,gla,gla_wo,gla_vector
    """
    _check_curves(curves)
    if not (hasattr(file, "write") or isinstance(file, (str, os.PathLike))):
        raise TypeError(f"file must be a path or a writable text file, got {type(file).__name__}")
    if hasattr(file, "write"):
        _write_rows(curves, file)
    else:
        with open(file, "w", newline="") as handle:
            _write_rows(curves, handle)


def _write_rows(curves, handle):
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(CURVE_COLUMNS)
    for n, *risks in curves.rows():
        writer.writerow([n] + [f"{risk:.17g}" for risk in risks])


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'wpgd-theory[plot]'") from exc
    return Figure


def curves_figure(curves):
    """The four curves against ``n`` (log₂ axis) as a matplotlib ``Figure`` (no pyplot state).

    Each curve is one ``Line2D`` labelled with :data:`CURVE_LABELS`, its data exactly the
    :class:`TheoryCurves` columns (what :func:`write_curves_csv` writes). Coinciding curves stay
    visible: vector gating is a wide translucent band with hollow markers, drawn underneath.

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install wpgd-theory[plot]``).
    """
    _check_curves(curves)
    figure = _figure_class()(figsize=(6.0, 4.2))
    axes = figure.add_subplot()
    for name, style in CURVE_STYLES.items():
        axes.plot(curves.n, getattr(curves, name), label=CURVE_LABELS[name], **style)
    axes.set_xscale("log", base=2)
    family = curves.family
    paper = family is None or (family.K == 2 and family.proportions.tolist() == [1, 1])
    axes.set_xlabel("context length n (n₁ = n₂ = n/2)" if paper else
                    "context length n (n_k ∝ p_k)")
    axes.set_ylabel("optimal risk / d" if curves.normalized else "optimal risk")
    if family is not None:
        axes.set_title(family.describe(), fontsize=10)
    else:
        axes.set_title(f"(r₁, r₂) = ({curves.r1:g}, {curves.r2:g}), d = {curves.d}, "
                       f"σ² = {curves.sigma2:g}", fontsize=10)
    handles, labels = axes.get_legend_handles_labels()
    order = [labels.index(CURVE_LABELS[name]) for name in CURVE_COLUMNS[1:]]
    axes.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=8)
    axes.grid(True, which="major", alpha=0.3)
    figure.tight_layout()
    return figure


def plot_curves(curves, path):
    """Save :func:`curves_figure` to an image file (format from the suffix, 150 dpi).

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install wpgd-theory[plot]``).
    """
    if not isinstance(path, (str, os.PathLike)) and not hasattr(path, "write"):
        raise TypeError(f"path must be a file path or a binary file, got {type(path).__name__}")
    figure = curves_figure(curves)
    figure.savefig(path, dpi=150)
