"""Why a gating class does or does not reach ``L*_WPGD`` on a multitask model (issue #20).

:func:`explain_gating` runs the four optima of :mod:`wpgd_theory.multitask.gating` — linear
attention, delimiter-driven scalar gating, vector (key-wise) gating and a constant decay gate
without delimiters — and says, for each, whether it reaches the WPGD optimum and *why*, in the
terms of Theorems 4–5: the optimal block weights ``ω*`` are constant (linear attention suffices),
lie in the monotone cone ``𝒦 = {0 ≤ w_1 ≤ … ≤ w_K}`` (scalar gating reaches them) or leave it —
then the best scalar gating sits on a face of ``𝒦``: leading blocks gated to zero and adjacent
blocks pooled to one value. Vector gating reaches every weighting (two key copies give the signs),
and for anisotropic ``Σ`` goes below ``L*_WPGD``: each eigen-direction of ``Σ`` gets its own
block weights (:mod:`wpgd_theory.multitask.vector_gating`, docs/findings.md §9).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..core._repr import compact_repr
from .gating import (
    decay_gating_optimum,
    in_monotone_cone,
    linear_attention_optimum,
    scalar_gating_optimum,
)
from .model import MultitaskModel, solve_multitask
from .vector_gating import vector_gating_optimum

__all__ = ["explain_gating", "GatingExplanation", "GatingVerdict"]

#: The classes, in the order of the chain ``L*_vector ≤ L*_WPGD ≤ L*_scalar ≤ L*_wo ≤ L*_ATT``.
CLASSES = ("vector", "scalar", "decay", "linear")
_NAMES = {"linear": "linear attention (ω = 1)", "scalar": "scalar gating (delimiters)",
          "vector": "vector gating (key-wise)", "decay": "decay gate without delimiters (GLA-wo)"}
#: ``risk ≤ L*_WPGD (1 + REACH_RTOL)`` counts as reaching it (the tolerance of
#: ``GatingOptimum.reaches_wpgd``).
REACH_RTOL = 1e-12


class GatingVerdict(NamedTuple):
    """One class: its optimal ``risk``, the relative ``excess`` over ``L*_WPGD`` (negative
    when the class beats it: key-wise gating for anisotropic ``Σ``), whether it ``reaches`` it
    (``risk ≤ L*_WPGD``), and the ``reason`` in words."""

    __repr__ = compact_repr

    kind: str
    risk: float
    excess: float
    reaches: bool
    reason: str


@dataclass(frozen=True)
class GatingExplanation:
    """Result of :func:`explain_gating`: ``verdicts`` (one :class:`GatingVerdict` per class of
    :data:`CLASSES`), ``wpgd_risk`` and the optimal block weights ``block_weights`` (``ω*``,
    scaled so that the largest magnitude is 1); ``str()`` is the text the ``why`` verb prints."""

    wpgd_risk: float
    block_weights: np.ndarray
    verdicts: tuple
    model: MultitaskModel = field(repr=False)

    def __repr__(self):
        reach = ", ".join(v.kind for v in self.verdicts if v.reaches) or "none"
        return (f"GatingExplanation(wpgd_risk={self.wpgd_risk!r}, "
                f"block_weights={np.array2string(self.block_weights, precision=4)}, "
                f"reach L*_WPGD: {reach})")

    def __getitem__(self, kind):
        return next(v for v in self.verdicts if v.kind == kind)

    def __str__(self):
        weights = np.array2string(self.block_weights, precision=4, separator=", ")
        lines = [f"K = {self.model.K} blocks, sizes {self.model.sizes.tolist()}: "
                 f"L*_WPGD = {self.wpgd_risk:.10g} at block weights ω* ∝ {weights}"]
        for v in self.verdicts:
            status = (f"{-100 * v.excess:.4g} % below L*_WPGD" if v.excess < -REACH_RTOL else
                      "reaches L*_WPGD" if v.reaches else f"{100 * v.excess:.4g} % above L*_WPGD")
            lines.append(f"{_NAMES[v.kind]}: risk {v.risk:.10g}, {status}")
            lines.append(f"  why: {v.reason}")
        return "\n".join(lines)


def _blocks(indices):
    """``[0, 1, 2]`` → ``"blocks 1–3"`` (1-based, for people)."""
    first, last = indices[0] + 1, indices[-1] + 1
    return f"block {first}" if first == last else f"blocks {first}–{last}"


def _face_text(face, K):
    parts = []
    if face.zero_prefix:
        parts.append(f"{_blocks(list(range(face.zero_prefix)))} gated to zero")
    pooled = [_blocks(list(range(start, stop))) for start, stop in face.groups if stop - start > 1]
    if pooled:
        parts.append(", ".join(pooled) + (" pooled to one weight" if len(pooled) == 1 else
                                          " each pooled to one weight"))
    return "; ".join(parts) or "every block keeps its own weight"


def _cone_violation(w):
    """Where ``±w`` leaves the monotone cone, in words."""
    w = w * np.sign(w[np.argmax(np.abs(w))])
    if np.any(w < 0) and np.any(w > 0):
        return "its weights have both signs (a delimiter gate in [0, 1] cannot flip a sign)"
    drops = [k for k in range(w.size - 1) if w[k] > w[k + 1]]
    k = drops[0]
    return (f"it decreases from block {k + 1} to block {k + 2} ({w[k]:.4g} > {w[k + 1]:.4g}): an "
            f"earlier block would need more weight than a later one, but a token's weight is the "
            f"product of every later gate, so weights can only grow towards the query")


def _verdict(kind, risk, wpgd_risk, reason):
    excess = (risk - wpgd_risk) / abs(wpgd_risk) if wpgd_risk else risk - wpgd_risk
    reaches = bool(risk - wpgd_risk <= REACH_RTOL * max(1.0, abs(wpgd_risk)))
    return GatingVerdict(kind, float(risk), float(excess if abs(excess) > REACH_RTOL else 0.0),
                         reaches, reason)


def explain_gating(model):
    """Which gating class reaches ``L*_WPGD`` on ``model`` and why.

    Parameters
    ----------
    model : MultitaskModel

    Returns
    -------
    GatingExplanation

    Examples
    --------
    Relevant task last (``c = (0.3, 0.9)``): ``ω*`` grows towards the query, inside the monotone
    cone, so scalar gating reaches the optimum; linear attention does not.

    >>> from .model import MultitaskModel
    >>> explanation = explain_gating(MultitaskModel(np.eye(2), [0.3, 0.9], [8, 8], np.eye(4), 0.1))
    >>> [(v.kind, v.reaches) for v in explanation.verdicts]
    [('vector', True), ('scalar', True), ('decay', False), ('linear', False)]
    >>> print(explanation["scalar"].reason)
    ω* is non-negative and non-decreasing (inside the monotone cone): the delimiter gates
    g_k = ω_k/ω_(k+1) reach it exactly

    Relevant task first: ``ω*`` decreases, leaves the cone, and the best scalar gating pools the
    two blocks (linear attention) — the face of the cone that holds it.

    >>> explanation = explain_gating(MultitaskModel(np.eye(2), [0.9, 0.3], [8, 8], np.eye(4), 0.1))
    >>> explanation["scalar"].reaches, explanation["scalar"].reason.split(": ")[0]
    (False, 'ω* leaves the monotone cone')

    Anisotropic ``Σ`` (docs/findings.md §9): key-wise gating goes *below* ``L*_WPGD``.

    >>> explanation = explain_gating(MultitaskModel(np.eye(2), [0.3, 0.9], [20, 4],
    ...                                             np.diag([0.1, 1.0, 10.0]), 0.1))
    >>> print(str(explanation).splitlines()[1])
    vector gating (key-wise): risk 4.832115899, 0.2226 % below L*_WPGD
    """
    if not isinstance(model, MultitaskModel):
        raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")
    vector = vector_gating_optimum(model)
    wpgd = vector.wpgd_risk
    w = np.asarray(solve_multitask(model).block_weights, dtype=float)
    w = w / np.max(np.abs(w))
    scalar = scalar_gating_optimum(model)
    linear = linear_attention_optimum(model)
    decay = decay_gating_optimum(model)
    constant = bool(np.ptp(w) <= REACH_RTOL ** 0.5)
    verdicts = []
    reach = ("key-wise gates reach every block weighting (Theorem 5: two copies of the keys "
             "with opposite-signed queries give both signs)")
    verdicts.append(_verdict("vector", vector.risk, wpgd,
                             reach + "; beyond that, each eigen-direction of Σ gets its own block "
                             "weights, which one ω cannot (Σ is not isotropic here)"
                             if vector.beats_wpgd else reach))
    scalar_weights = np.array2string(scalar.block_weights + 0.0, precision=4, separator=", ")
    if in_monotone_cone(w):
        scalar_reason = ("ω* is non-negative and non-decreasing (inside the monotone cone): the "
                         "delimiter gates g_k = ω_k/ω_(k+1) reach it exactly")
    else:
        scalar_reason = (f"ω* leaves the monotone cone: {_cone_violation(w)}; the best scalar "
                         f"gating lies on a face of the cone: "
                         f"{_face_text(scalar.face, model.K)}, block weights {scalar_weights}")
    verdicts.append(_verdict("scalar", scalar.risk, wpgd, scalar_reason))
    verdicts.append(_verdict(
        "decay", decay.risk, wpgd,
        f"one constant gate ρ on every token (no delimiters) gives recency weights ρ^(n−i); the "
        f"best is ρ = {decay.decay:.6g}" + (" (= linear attention)" if decay.decay == 1.0 else "")
        + ("; ω* is constant, which ρ = 1 reaches" if constant else
           "; it matches ω* on this model" if decay.risk - wpgd <= REACH_RTOL * max(1, abs(wpgd))
           else "; geometric weights are constant only at ρ = 1 (linear attention), so they "
                "cannot be flat within each block and jump between blocks as ω* does")))
    verdicts.append(_verdict(
        "linear", linear.risk, wpgd,
        "ω* is the same on every block, so ω = 1 is optimal" if constant else
        "ω = 1 weights every block alike, but ω* does not"))
    return GatingExplanation(float(wpgd), w, tuple(verdicts), model)
