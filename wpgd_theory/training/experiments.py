"""Experiments on trained models: Figure 1 overlaid on the theory curves, JSON configurations.

:func:`figure1_experiment` trains every class of Figure 1 (LinAtt, GLA-wo, scalar GLA, vector GLA)
on the paper setting for several ``n``, ``(r₁, r₂)`` and seeds (seeds batched with ``vmap``) and
returns one row per run; :func:`overlay_figure` draws the rows (mean ± standard error over seeds)
on :func:`~wpgd_theory.theory_curves`. :func:`run_train_config` runs one configuration given as a
dict (the ``wpgd-theory train`` verb) and returns a JSON-ready dict.
"""
from __future__ import annotations

import csv
import math
import time
from functools import partial

import numpy as np

from ..core.model import CorrelatedTaskModel
from ..core.parallel import map_chunks
from ..core.validation import as_integer, as_real, as_sequence
from ..multitask.curves import (
    CURVE_LABELS,
    draw_bayes_floor,
    paper_setting_model,
    theory_curves,
)
from ..multitask.model import MultitaskModel
from .train import DEFAULT_TEST_SEED, MAX_STARTS, train, train_seeds

__all__ = [
    "BASELINE_CLASSES",
    "FIGURE1_CLASSES",
    "REQUIRED_ROW_COLUMNS",
    "ROW_COLUMNS",
    "figure1_experiment",
    "model_from_config",
    "ordering_violations",
    "overlay_figure",
    "read_rows_csv",
    "run_train_config",
    "seed_gaps",
    "write_rows_csv",
]

FIGURE1_CLASSES = ("linatt", "gla_wo", "gla", "gla_vector")
"""The four classes of Figure 1, named as the columns of :func:`~wpgd_theory.theory_curves`."""

BASELINE_CLASSES = ("softmax",)
"""Trained baselines that :func:`figure1_experiment` can add beside the Figure-1 classes (no
theory curve; their rows' ``optimum_risk`` is ``L*_WPGD``, a reference)."""

ROW_COLUMNS = ("r1", "r2", "n", "d", "sigma2", "curve", "gating", "parameterisation", "seed",
               "steps", "batch_size", "learning_rate", "test_risk", "test_risk_se",
               "optimum_risk", "closed_form_risk", "relative_gap", "block_weight_ratio",
               "theory_block_weight_ratio", "seconds", "optimum_test_risk", "paired_gap",
               "paired_gap_se", "bayes_test_risk", "bayes_paired_gap", "bayes_paired_gap_se")
_OPTIONAL_COLUMNS = {"optimum_test_risk", "paired_gap", "paired_gap_se",     # added in 0.2
                     "bayes_test_risk", "bayes_paired_gap", "bayes_paired_gap_se"}


def _row(result, r1, r2, n, d, sigma2, curve):
    ratio = (None if result.block_weights is None else
             float(result.block_weights[0] / result.block_weights[-1]))
    theory_ratio = (None if result.theory_block_weights is None else
                    float(result.theory_block_weights[0] / result.theory_block_weights[-1]))
    return {"r1": r1, "r2": r2, "n": n, "d": d, "sigma2": sigma2, "curve": curve,
            "gating": result.gating, "parameterisation": result.parameterisation,
            "seed": result.seed, "steps": result.steps, "batch_size": result.batch_size,
            "learning_rate": result.learning_rate, "test_risk": result.test_risk,
            "test_risk_se": result.test_risk_se, "optimum_risk": result.optimum.risk,
            "closed_form_risk": result.closed_form_risk, "relative_gap": result.relative_gap,
            "block_weight_ratio": ratio, "theory_block_weight_ratio": theory_ratio,
            "seconds": result.seconds, "optimum_test_risk": result.optimum_test_risk,
            "paired_gap": result.paired_gap, "paired_gap_se": result.paired_gap_se,
            "bayes_test_risk": result.bayes_test_risk, "bayes_paired_gap": result.bayes_paired_gap,
            "bayes_paired_gap_se": result.bayes_paired_gap_se}


def figure1_experiment(n_values=(10, 20, 40, 80), settings=((0.2, 0.8), (0.8, 0.2)),
                       seeds=(0, 1, 2), *, d=10, sigma2=0.0, classes=FIGURE1_CLASSES,
                       parameterisation="constrained", steps=3000, batch_size=256,
                       learning_rate=1e-2, test_prompts=65_536, callback=None, executor=None):
    """Train every Figure-1 class on the paper setting; one row (dict) per run and seed.

    Parameters
    ----------
    n_values : sequence of even int
    settings : sequence of (r1, r2)
    seeds : sequence of int
        Trained together with ``vmap``.
    d, sigma2 : int, float
        ``Σ = I_d`` and the noise variance.
    classes : sequence of str
        Subset of :data:`FIGURE1_CLASSES` and :data:`BASELINE_CLASSES` (``"softmax"``: one
        layer of softmax attention on the same prompts and test set).
    parameterisation : {"constrained", "full"}
    steps, batch_size, learning_rate, test_prompts :
        As for :func:`~wpgd_theory.training.train`.
    callback : callable, optional
        Called with each list of rows as it is produced (progress, incremental CSV); with an
        ``executor``, once per configuration when all are done.
    executor : None, concurrent.futures.Executor or dask.distributed.Client, optional
        Trains the ``(setting, n, class)`` configurations in parallel
        (:func:`~wpgd_theory.core.parallel.map_chunks`, one configuration per item). The rows do
        not depend on it: every run is seeded by ``seeds`` alone.

    Returns
    -------
    list of dict
        Keys :data:`ROW_COLUMNS`.
    """
    n_values = as_sequence(n_values, "n_values", lambda v, name: as_integer(v, name, minimum=2),
                           of="int")
    settings = as_sequence(settings, "settings", _correlation_pair, of="(r1, r2) pairs")
    seeds = as_sequence(seeds, "seeds", lambda v, name: as_integer(v, name, minimum=0), of="int")
    classes = as_sequence(classes, "classes", _class_name, of="str")
    jobs = [(r1, r2, n, curve) for r1, r2 in settings for n in n_values for curve in classes]
    train_options = dict(seeds=seeds, d=d, sigma2=sigma2, parameterisation=parameterisation,
                         steps=steps, batch_size=batch_size, learning_rate=learning_rate,
                         test_prompts=test_prompts)
    if executor is None:
        batches = []
        for k in range(len(jobs)):
            batches.append(_figure1_job(jobs, train_options, k))
            if callback is not None:
                callback(batches[-1])
    else:
        batches = map_chunks(partial(_figure1_job_block, jobs, train_options), len(jobs),
                             block_size=1, executor=executor)
        for batch in batches if callback is not None else ():
            callback(batch)
    rows = [row for batch in batches for row in batch]
    return rows


def _figure1_job(jobs, options, k):
    """The rows of configuration ``jobs[k] = (r1, r2, n, class)``, one per seed."""
    r1, r2, n, curve = jobs[k]
    d, sigma2 = options["d"], options["sigma2"]
    model = paper_setting_model(n, r1, r2, d, sigma2)
    results = train_seeds(model, curve, seeds=list(options["seeds"]),
                          parameterisation=options["parameterisation"], steps=options["steps"],
                          batch_size=options["batch_size"],
                          learning_rate=options["learning_rate"],
                          test_prompts=options["test_prompts"])
    return [_row(r, float(r1), float(r2), int(n), d, float(sigma2), curve) for r in results]


def _figure1_job_block(jobs, options, block):
    # map_chunks item: a seed block of one configuration (its seed is unused: runs are seeded
    # by ``seeds``).
    return _figure1_job(jobs, options, block.index)


def _correlation_pair(value, name):
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1 or len(value) != 2:
        raise TypeError(f"{name} must be a pair (r1, r2), got {value!r}")
    return tuple(as_real(v, f"{name}[{k}]", minimum=-1.0, maximum=1.0)
                 for k, v in enumerate(value))


def _class_name(value, name):
    if value not in FIGURE1_CLASSES + BASELINE_CLASSES:
        raise ValueError(f"{name} must be one of {FIGURE1_CLASSES + BASELINE_CLASSES}, got "
                         f"{value!r}")
    return value


def write_rows_csv(rows, path):
    """Write experiment rows (:data:`ROW_COLUMNS`) to a CSV file."""
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"rows must be a sequence of dicts (rows of figure1_experiment), got "
                        f"{type(rows).__name__}")
    rows = [_row_dict(row, f"rows[{k}]") for k, row in enumerate(rows)]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ROW_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in ROW_COLUMNS})


def read_rows_csv(path):
    """Read rows written by :func:`write_rows_csv` (numbers parsed, empty cells → None).

    Every row is checked as :func:`overlay_figure` needs it (a ``ValueError`` names the line and
    the column): the columns :data:`REQUIRED_ROW_COLUMNS` filled, numbers finite, ``n`` and
    ``d`` integers, ``curve`` one of :data:`FIGURE1_CLASSES`; a file without rows is refused.
    """
    rows = []
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(ROW_COLUMNS) - set(reader.fieldnames or ()) - _OPTIONAL_COLUMNS
        if missing:
            raise ValueError(f"{path} is not a file of experiment rows: missing columns "
                             f"{sorted(missing)}")
        for raw in reader:
            where = f"{path}, line {reader.line_num}"
            if None in raw or None in raw.values():
                raise ValueError(f"{where}: expected {len(reader.fieldnames)} cells, got "
                                 f"{'more' if None in raw else 'fewer'}")
            rows.append(_checked_row({k: _cell(k, v, where) for k, v in raw.items()}, where))
    if not rows:
        raise ValueError(f"{path} has a header but no rows")
    return rows


_TEXT_COLUMNS = ("curve", "gating", "parameterisation")
REQUIRED_ROW_COLUMNS = ("r1", "r2", "n", "d", "sigma2", "curve", "test_risk", "test_risk_se",
                        "optimum_risk")
"""Columns every row needs (to draw it and its theory curve)."""


def _cell(key, text, where):
    if key in _TEXT_COLUMNS or text == "":
        return text if key in _TEXT_COLUMNS else None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: column {key} must be a number, got {text!r}") from None


def _row_dict(row, name):
    if not isinstance(row, dict):
        raise TypeError(f"{name} must be a dict (a row of figure1_experiment), got "
                        f"{type(row).__name__}")
    return row


def _checked_row(row, where):
    """``row`` if it can be drawn: the required columns filled, numbers finite, n and d
    integers, a known curve."""
    _row_dict(row, where)
    for key in REQUIRED_ROW_COLUMNS:
        if row.get(key) is None or row.get(key) == "":
            raise ValueError(f"{where}: column {key} is missing or empty")
    if row["curve"] not in FIGURE1_CLASSES + BASELINE_CLASSES:
        raise ValueError(f"{where}: curve must be one of {FIGURE1_CLASSES + BASELINE_CLASSES}, "
                         f"got {row['curve']!r}")
    for key in set(ROW_COLUMNS) - set(_TEXT_COLUMNS):
        value = row.get(key)
        if value is not None:
            number = as_real(value, f"{where}: column {key}")
            if key in ("n", "d", "seed", "steps", "batch_size") and number != int(number):
                raise ValueError(f"{where}: column {key} must be an integer, got {value!r}")
    return row


def _one_setting(rows):
    """``(d, σ²)`` shared by every row (the theory curves are drawn for one setting)."""
    settings = sorted({(int(row["d"]), float(row["sigma2"])) for row in rows})
    if len(settings) > 1:
        raise ValueError(f"rows mix {len(settings)} settings (d, sigma2) = "
                         f"{', '.join(map(str, settings[:5]))}: draw one setting per figure")
    return settings[0]


def seed_mean(values, errors):
    """Mean over seeds and its error bar: the larger of the seed spread (standard error of the
    mean) and one run's Monte Carlo SE — the seeds share the test prompts, so their Monte Carlo
    error does not average out."""
    values, errors = np.asarray(values, float), np.asarray(errors, float)
    spread = values.std(ddof=1) / math.sqrt(values.size) if values.size > 1 else 0.0
    return float(values.mean()), float(max(spread, errors.mean()))


def summarise(rows, column="test_risk"):
    """Mean of ``column`` (``"test_risk"`` or ``"paired_gap"``), its error bar
    (:func:`seed_mean`) and the optimum per ``(r1, r2, n, curve)``; rows without the column
    (CSV files from before the paired gap) are skipped."""
    groups = {}
    for row in rows:
        if row.get(column) is not None:
            groups.setdefault((row["r1"], row["r2"], int(row["n"]), row["curve"]), []).append(row)
    return {key: (*seed_mean([m[column] for m in members], [m[column + "_se"] for m in members]),
                  float(members[0]["optimum_risk"]))
            for key, members in groups.items()}


def seed_gaps(rows):
    """Per-run gaps to the class optimum, in % of it: one dict per row with ``key``
    ``(r1, r2, n, curve)``, ``seed``, ``paired`` and ``paired_se`` (the paired gap on common test
    prompts) and ``exact`` (the closed-form risk of the learned predictor, ``None`` where it has
    none, e.g. vector gating).

    Examples
    --------
    >>> row = dict(r1=0.2, r2=0.8, n=10.0, curve="gla", seed=1.0, optimum_risk=2.0,
    ...            paired_gap=0.004, paired_gap_se=0.001, closed_form_risk=2.006)
    >>> [round(v, 6) for v in (lambda g: (g["paired"], g["paired_se"], g["exact"]))(
    ...     seed_gaps([row])[0])]
    [0.2, 0.05, 0.3]
    """
    gaps = []
    for row in rows:
        optimum = float(row["optimum_risk"])
        exact = row.get("closed_form_risk")
        gaps.append(dict(key=(row["r1"], row["r2"], int(row["n"]), row["curve"]),
                         seed=int(row["seed"]), paired=100 * row["paired_gap"] / optimum,
                         paired_se=100 * row["paired_gap_se"] / optimum,
                         exact=None if exact is None else 100 * (exact / optimum - 1)))
    return gaps


def ordering_violations(rows, column="test_risk", order=FIGURE1_CLASSES, tolerance=0.0):
    """Points ``(r1, r2, n)`` where the seed means of ``column`` are not ordered as ``order``
    (largest first: ``LinAtt ≥ GLA-wo ≥ scalar ≥ vector``); ``column="optimum_risk"`` checks the
    theory's optima; rows without ``column`` are left out. A pair counts as out of order when the later class exceeds the earlier by
    more than ``tolerance``.

    Examples
    --------
    >>> rows = [dict(r1=0.8, r2=0.2, n=10.0, curve=c, optimum_risk=v, test_risk=t)
    ...         for c, v, t in (("linatt", 3.0, 3.01), ("gla_wo", 3.0, 3.02), ("gla", 3.0, 3.0),
    ...                         ("gla_vector", 2.0, 2.1))]
    >>> ordering_violations(rows, "optimum_risk"), ordering_violations(rows)
    ([], [(0.8, 0.2, 10)])
    """
    means = {}
    for row in rows:
        if row.get(column) is None:                   # e.g. no closed-form risk (vector gating)
            continue
        key = (row["r1"], row["r2"], int(row["n"]))
        means.setdefault(key, {}).setdefault(row["curve"], []).append(float(row[column]))
    bad = []
    for key, classes in sorted(means.items()):
        values = [np.mean(classes[c]) for c in order if c in classes]
        if any(later > earlier + tolerance for earlier, later in zip(values, values[1:])):
            bad.append(key)
    return bad


def overlay_figure(rows, path, *, n_grid=None, bayes_draws=1000):
    """Trained risks (mean ± SE over seeds) overlaid on :func:`~wpgd_theory.theory_curves`.

    One panel per ``(r₁, r₂)``; needs matplotlib (extra ``wpgd-theory[plot]``). ``rows`` must be
    a non-empty list of rows (dicts with :data:`REQUIRED_ROW_COLUMNS`) of one setting
    ``(d, σ²)``: the theory curves are drawn for it, so mixed settings are refused. The
    Bayes-optimal floor is drawn from ``bayes_draws`` Monte Carlo draws per grid point (0: not
    drawn).
    """
    rows = as_sequence(rows, "rows", _checked_row, of="dicts (rows of figure1_experiment)")
    d, sigma2 = _one_setting(rows)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("overlay_figure needs matplotlib: pip install 'wpgd-theory[plot]'") \
            from exc
    summary = summarise(rows)
    settings = sorted({(k[0], k[1]) for k in summary})
    n_trained = sorted({k[2] for k in summary})
    if n_grid is None:
        n_grid = np.unique(2 * np.round(np.geomspace(min(n_trained), max(n_trained), 40) / 2))
    figure, axes = plt.subplots(1, len(settings), figsize=(5.5 * len(settings), 5.2),
                                squeeze=False)
    colors = dict(zip(FIGURE1_CLASSES, ("C0", "C1", "C2", "C3")))
    for ax, (r1, r2) in zip(axes[0], settings):
        curves = theory_curves(n_grid.astype(int), r1, r2, d=d, sigma2=sigma2,
                               bayes_draws=bayes_draws)
        if curves.bayes is not None:
            draw_bayes_floor(ax, curves.n, curves.bayes, curves.bayes_se)
        for curve, style in zip(FIGURE1_CLASSES, ("-", "--", "-.", ":")):
            ax.plot(curves.n, getattr(curves, curve), style, color=colors[curve],
                    label=f"theory: {CURVE_LABELS[curve]}")
            points = sorted((k[2], v) for k, v in summary.items()
                            if k[:2] == (r1, r2) and k[3] == curve)
            if points:
                ns = np.array([p[0] for p in points], float)
                offset = 1 + 0.02 * (FIGURE1_CLASSES.index(curve) - 1.5)  # separate markers
                ax.errorbar(ns * offset, [p[1][0] for p in points],
                            yerr=[p[1][1] for p in points], fmt="o", color=colors[curve],
                            markersize=4, capsize=2)
        points = sorted((k[2], v) for k, v in summary.items()
                        if k[:2] == (r1, r2) and k[3] in BASELINE_CLASSES)
        if points:
            ax.errorbar([p[0] for p in points], [p[1][0] for p in points],
                        yerr=[p[1][1] for p in points], fmt="s", color="C4", markersize=5,
                        capsize=2, label="trained softmax attention (one layer)")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("context length n (n₁ = n₂ = n/2)")
        ax.set_ylabel("risk")
        ax.set_title(f"(r₁, r₂) = ({r1:g}, {r2:g}), d = {d}, σ² = {sigma2:g}; "
                     "markers: trained (mean ± SE)", fontsize=9)
        # below the axes: inside, it hid the markers near the top (softmax attention)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


# ---------------------------------------------------------------------- JSON configurations

def model_from_config(spec):
    """Build a task model from a dict.

    ``{"kind": "paper", "n", "r1", "r2", "d", "sigma2"}``,
    ``{"kind": "multitask", "task_correlation", "query_correlation", "sizes", "d" or "Sigma",
    "sigma2"}`` or ``{"kind": "correlated", "R", "r", "d" or "Sigma", "sigma2"}``.

    Examples
    --------
    >>> model_from_config({"kind": "paper", "n": 8, "r1": 0.2, "r2": 0.8, "d": 4, "sigma2": 0.1})
    MultitaskModel(K=2, sizes=[4, 4], d=4, sigma2=0.1)
    """
    if not isinstance(spec, dict):
        raise TypeError(f"model must be a dict, got {type(spec).__name__}")
    kind = spec.get("kind", "paper")
    if not isinstance(kind, str) or kind not in _MODEL_KEYS:
        raise ValueError(f"model kind must be 'paper', 'multitask' or 'correlated', got {kind!r}")
    check_keys(spec, _MODEL_KEYS[kind] | {"kind"}, f"model (kind {kind!r})")
    if kind != "paper" and "Sigma" in spec and "d" in spec:
        raise ValueError("model has both 'd' and 'Sigma': give one ('d' means Sigma = I_d)")
    def sigma():
        if "Sigma" in spec:
            return spec["Sigma"]                 # validated by the model, like every entry
        if "d" not in spec:
            raise ValueError("model needs 'Sigma' or 'd'")
        return np.eye(as_integer(spec["d"], "model d", minimum=1, maximum=MAX_IDENTITY_D))
    try:
        if kind == "paper":
            return paper_setting_model(spec["n"], spec["r1"], spec["r2"], spec["d"],
                                       spec.get("sigma2", 0.0))
        if kind == "multitask":
            return MultitaskModel(spec["task_correlation"], spec["query_correlation"],
                                  spec["sizes"], sigma(), spec.get("sigma2", 0.0))
        if kind == "correlated":
            return CorrelatedTaskModel(sigma(), spec["R"], spec["r"], spec.get("sigma2", 0.0))
    except KeyError as exc:
        raise ValueError(f"model of kind {kind!r} is missing the key {exc.args[0]!r}") from None


def check_keys(mapping, allowed, where):
    """Raise ``ValueError`` naming the unknown keys of ``mapping`` and the accepted ones.

    Examples
    --------
    >>> check_keys({"sigma_2": 0.5}, {"sigma2"}, "model")
    Traceback (most recent call last):
    ...
    ValueError: unknown model keys 'sigma_2'; accepted: 'sigma2'
    """
    unknown = sorted(set(mapping) - set(allowed), key=str)
    if unknown:
        raise ValueError(f"unknown {where} keys {', '.join(map(repr, unknown))}; accepted: "
                         f"{', '.join(map(repr, sorted(allowed)))}")


_MODEL_KEYS = {"paper": {"n", "r1", "r2", "d", "sigma2"},
               "multitask": {"task_correlation", "query_correlation", "sizes", "d", "Sigma",
                             "sigma2"},
               "correlated": {"R", "r", "d", "Sigma", "sigma2"}}


#: Largest ``d`` of a ``{"d": ...}`` model spec (``Σ = I_d`` is formed).
MAX_IDENTITY_D = 4096

_CONFIG_KEYS = {"model", "gating", "parameterisation", "steps", "batch_size", "learning_rate",
                "seed", "seeds", "test_prompts", "test_seed", "init_scale", "share_prompts",
                "layers", "starts"}


def run_train_config(config, *, progress=False, history_stride=None):
    """Run one training configuration (dict) and return a JSON-ready dict.

    Keys: ``model`` (see :func:`model_from_config`), and optionally ``gating``,
    ``parameterisation``, ``steps``, ``batch_size``, ``learning_rate``, ``seed`` or ``seeds``
    (a list: vmapped), ``share_prompts``, ``test_prompts``, ``test_seed``, ``init_scale``,
    ``layers`` (GLA layers, default 1) and ``starts`` (gate initialisations per seed, default 1;
    with ``starts > 1`` the seeds run one after another, each with its starts vmapped, and
    ``share_prompts`` must be absent). ``gating`` may be ``"softmax"``. ``progress=True`` shows a
    tqdm bar over the training steps; ``history_stride`` is passed to
    :meth:`TrainResult.to_dict` (the loss history every that many steps).

    Returns
    -------
    dict
        ``{"config": ..., "runs": [TrainResult.to_dict(), ...], "seconds": ...}``.
    """
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    check_keys(config, _CONFIG_KEYS, "config")
    if "model" not in config:
        raise ValueError("config needs a 'model' entry")
    if "seed" in config and "seeds" in config:
        raise ValueError("config has both 'seed' and 'seeds': give one (a list 'seeds' trains "
                         "one model per seed)")
    model = model_from_config(config["model"])
    if "seeds" in config:
        seeds = config["seeds"]
    else:
        seeds = [as_integer(config.get("seed", 0), "seed", minimum=0, maximum=2**32 - 1)]
    start = time.perf_counter()
    options = dict(
        parameterisation=config.get("parameterisation", "constrained"),
        steps=config.get("steps", 2000), batch_size=config.get("batch_size", 256),
        learning_rate=config.get("learning_rate", 1e-2),
        test_prompts=config.get("test_prompts", 100_000),
        test_seed=config.get("test_seed", DEFAULT_TEST_SEED),
        init_scale=config.get("init_scale", 0.1), layers=config.get("layers", 1),
        progress=progress)
    gating = config.get("gating", "scalar")
    starts = as_integer(config.get("starts", 1), "config['starts']", minimum=1,
                        maximum=MAX_STARTS)
    if starts == 1:
        results = train_seeds(model, gating, seeds=seeds,
                              share_prompts=config.get("share_prompts", False), **options)
    else:
        if "share_prompts" in config:
            raise ValueError("config['share_prompts'] cannot be combined with starts > 1 (the "
                             "starts of a seed already share its prompt stream)")
        seeds = as_sequence(seeds, "config['seeds']", lambda s, name: s, of="int")
        results = [train(model, gating, seed=s, starts=starts, **options) for s in seeds]
    return {"config": config, "runs": [r.to_dict(history_stride=history_stride) for r in results],
            "seconds": time.perf_counter() - start}
