"""Theory curves of the paper's experiment (poster "Experiments", Figure 1): risk against n.

Setting: ``K = 2`` tasks, ``n_1 = n_2 = n/2``, ``corr(β_1, β_2) = 0``, ``(r_1, r_2)`` the
correlations with the query task, ``Σ = I_d``, noise ``σ²``. Four optimal risks per ``n``:

* ``linatt`` — linear attention, the Corollary ``d + σ² − d(1ᵀr)²/(n(d + σ² + 1) + 1ᵀR1)``;
* ``gla`` — scalar gating driven by the delimiters, exact optimum over the monotone cone
  (:func:`~wpgd_theory.multitask_gating.scalar_gating_optimum`);
* ``gla_wo`` — no delimiters: best constant gate (recency weights,
  :func:`~wpgd_theory.multitask_gating.decay_gating_optimum`);
* ``gla_vector`` — vector gating, which reaches ``L*_WPGD``
  (:func:`~wpgd_theory.multitask.solve_multitask`).

matplotlib is optional (``pip install wpgd-theory[plot]``) and imported only by :func:`plot_curves`.
"""
from __future__ import annotations

import csv
import numbers
from functools import partial
from typing import NamedTuple

import numpy as np

from ..core.parallel import map_chunks
from ..core.validation import as_nonnegative_scalar
from .gating import decay_gating_optimum, scalar_gating_optimum
from .model import MultitaskModel, corollary_linear_attention_risk, solve_multitask

__all__ = ["TheoryCurves", "CURVE_COLUMNS", "CURVE_LABELS", "paper_setting_model",
           "theory_curves", "write_curves_csv", "plot_curves"]

CURVE_COLUMNS = ("n", "linatt", "gla", "gla_wo", "gla_vector")
"""CSV header, in order."""

CURVE_LABELS = {"linatt": "LinAtt", "gla": "GLA (scalar gating, delimiters)",
                "gla_wo": "GLA-wo (no delimiters)", "gla_vector": "GLA (vector gating) = WPGD*"}


class TheoryCurves(NamedTuple):
    """Optimal risks on a grid of ``n`` (divided by ``d`` if ``normalized``)."""

    n: np.ndarray
    linatt: np.ndarray
    gla: np.ndarray
    gla_wo: np.ndarray
    gla_vector: np.ndarray
    r1: float
    r2: float
    d: int
    sigma2: float
    normalized: bool

    def rows(self):
        """One tuple per ``n`` in :data:`CURVE_COLUMNS` order."""
        return list(zip(self.n.tolist(), *(getattr(self, c).tolist() for c in CURVE_COLUMNS[1:])))


def _check_setting(r1, r2, d):
    for name, value in (("r1", r1), ("r2", r2)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise TypeError(f"{name} must be a finite real number, got {value!r}")
    if r1**2 + r2**2 > 1 + 1e-12:
        raise ValueError(f"r1² + r2² must be <= 1 when corr(β_1, β_2) = 0, got "
                         f"{r1**2 + r2**2:.6g} (r1 = {r1}, r2 = {r2})")
    if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")


def _as_even_sizes(n_values):
    n = np.atleast_1d(np.asarray(n_values))
    if n.ndim != 1 or n.size == 0 or not np.issubdtype(n.dtype, np.number) or n.dtype == bool:
        raise TypeError(f"n_values must be a non-empty 1-d sequence of integers, got {n_values!r}")
    if not np.all(n == np.round(n)) or np.any(n < 2) or np.any(n % 2):
        raise ValueError(f"n_values must be even integers >= 2 (n_1 = n_2 = n/2), got "
                         f"{n.tolist()}")
    return n.astype(np.int64)


def paper_setting_model(n, r1, r2, d, sigma2):
    """The multitask model of the experiments: ``C = I_2``, ``c = (r1, r2)``, sizes ``(n/2, n/2)``,
    ``Σ = I_d``.

    Examples
    --------
    >>> paper_setting_model(10, 0.9, 0.3, 4, 0.1)
    MultitaskModel(K=2, sizes=[5, 5], d=4, sigma2=0.1)
    """
    _check_setting(r1, r2, d)
    half = int(_as_even_sizes([n])[0]) // 2
    return MultitaskModel(np.eye(2), [r1, r2], [half, half], np.eye(d), sigma2)


def _curve_row(n_values, r1, r2, d, sigma2, block):
    """The four optimal risks at ``n = n_values[block.index]`` (one map_chunks item)."""
    total = n_values[block.index]
    model = paper_setting_model(total, r1, r2, d, sigma2)
    half = total // 2
    return (corollary_linear_attention_risk(d, sigma2, total, half * (r1 + r2),
                                            2.0 * half**2),          # 1ᵀR1 = nᵀCn, C = I
            scalar_gating_optimum(model).risk, decay_gating_optimum(model).risk,
            float(solve_multitask(model).risk))


def theory_curves(n_values, r1, r2, *, d, sigma2, normalize=False, executor=None):
    """Optimal risks of LinAtt, GLA (scalar), GLA-wo and GLA (vector) for each ``n``.

    Parameters
    ----------
    n_values : sequence of even int
        Context lengths ``n = n_1 + n_2``.
    r1, r2 : float
        ``corr(β_1, β)``, ``corr(β_2, β)``; ``r1² + r2² ≤ 1``.
    d : int
        Feature dimension (``Σ = I_d``).
    sigma2 : float
        Noise variance.
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
    """
    _check_setting(r1, r2, d)
    sigma2 = as_nonnegative_scalar(sigma2, "sigma2")
    n = _as_even_sizes(n_values)
    rows = map_chunks(partial(_curve_row, n.tolist(), r1, r2, d, sigma2), len(n), block_size=1,
                      executor=executor)
    columns = {name: [row[k] for row in rows] for k, name in enumerate(CURVE_COLUMNS[1:])}
    scale = 1.0 / d if normalize else 1.0
    arrays = {name: scale * np.array(values) for name, values in columns.items()}
    return TheoryCurves(n, **arrays, r1=float(r1), r2=float(r2), d=int(d), sigma2=sigma2,
                        normalized=bool(normalize))


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


def plot_curves(curves, path):
    """Plot the four curves (log-scaled n) to an image file; needs matplotlib (optional extra).

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install wpgd-theory[plot]``).
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plot_curves needs matplotlib: pip install 'wpgd-theory[plot]'") from exc
    figure, axes = plt.subplots(figsize=(5.5, 4.0))
    for name, style in zip(CURVE_COLUMNS[1:], ("-", "--", "-.", ":")):
        axes.plot(curves.n, getattr(curves, name), style, marker="o", markersize=3,
                  label=CURVE_LABELS[name])
    axes.set_xscale("log", base=2)
    axes.set_xlabel("context length n (n₁ = n₂ = n/2)")
    axes.set_ylabel("optimal risk / d" if curves.normalized else "optimal risk")
    axes.set_title(f"(r₁, r₂) = ({curves.r1:g}, {curves.r2:g}), d = {curves.d}, "
                   f"σ² = {curves.sigma2:g}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)
