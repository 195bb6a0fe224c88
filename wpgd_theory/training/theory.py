"""The theory side of training: the optimum of a model's class, and the learned weights read
against it.

:func:`theory_optimum` gives the risk, ``P*`` and per-example ``ω*`` a trained model is compared
with (the closed forms of :mod:`wpgd_theory.core` and :mod:`wpgd_theory.multitask`); ``_analyse``
reads the learned ``P``, ``ω`` of a trained one-layer model through its per-token preconditioners
and measures them against that optimum.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.model import CorrelatedTaskModel
from ..core.risk import risk as closed_form_risk
from ..core.solver import solve_model
from ..gla.checkpoint import rank_one_fit, shape_error
from ..multitask.gating import (
    decay_gating_optimum,
    linear_attention_optimum,
    scalar_gating_optimum,
)
from ..multitask.model import MultitaskModel, solve_multitask
from ..multitask.vector_gating import vector_gating_optimum
from .models import DATA_READING_GATINGS, LABEL_READING_GATINGS, Architecture
from .multilayer import MultiLayerArchitecture, reference_optimum
from .softmax import SoftmaxArchitecture

__all__ = ["TheoryOptimum", "theory_optimum"]


@dataclass(frozen=True)
class TheoryOptimum:
    """The theory's optimum for a model class: risk, ``P*`` and per-example weights ``ω*``.

    ``describes_class`` is false for label-reading gates, where the WPGD optimum is only a
    reference (the predictor is not linear in the labels).
    """

    kind: str
    risk: float
    preconditioner: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    wpgd_risk: float
    describes_class: bool = True


def dense_model(model):
    """The :class:`~wpgd_theory.CorrelatedTaskModel` of a task model (a multitask model's
    ``to_correlated_task_model()``), for the closed forms of :mod:`wpgd_theory.core`."""
    if isinstance(model, MultitaskModel):
        return model.to_correlated_task_model()
    if isinstance(model, CorrelatedTaskModel):
        return model
    raise TypeError(f"model must be a CorrelatedTaskModel or MultitaskModel, got "
                    f"{type(model).__name__}")


def _per_example(model, block_weights):
    return model.expand(np.asarray(block_weights, float))


def theory_optimum(arch):
    """:class:`TheoryOptimum` of an :class:`~wpgd_theory.training.Architecture`'s class.

    For ``L > 1`` layers it is the one-layer class optimum, marked as a reference; for softmax
    attention ``L*_WPGD``, a reference too.
    """
    if isinstance(arch, MultiLayerArchitecture):
        return reference_optimum(theory_optimum(arch.layer), arch.layers)
    model = arch.model
    if isinstance(arch, SoftmaxArchitecture):
        wpgd = solve_multitask(model)
        return TheoryOptimum("wpgd (reference only)", float(wpgd.risk), wpgd.preconditioner,
                             _per_example(model, wpgd.block_weights), float(wpgd.risk), False)
    if isinstance(model, CorrelatedTaskModel):
        solution = solve_model(model)
        return TheoryOptimum("wpgd", float(solution.risk), solution.preconditioner,
                             np.asarray(solution.weights, float), float(solution.risk))
    wpgd = solve_multitask(model)
    if arch.gating in ("wpgd", *DATA_READING_GATINGS, *LABEL_READING_GATINGS):
        return TheoryOptimum("wpgd" if arch.gating == "wpgd" else "wpgd (reference only)",
                             float(wpgd.risk), wpgd.preconditioner,
                             _per_example(model, wpgd.block_weights), float(wpgd.risk),
                             arch.gating == "wpgd")
    if arch.gating == "decay":
        best = decay_gating_optimum(model)
        weights = best.decay ** np.arange(model.n - 1, -1, -1, dtype=float)
        return TheoryOptimum("decay", float(best.risk), best.preconditioner, weights,
                             float(wpgd.risk))
    if arch.gating == "vector":
        # Key-wise gates give each eigen-direction of Σ its own block weights, so L*_vector can
        # be below L*_WPGD (anisotropic Σ; equal for Σ ∝ I). The reference predictor (P, ω) of
        # the paired gap stays WPGD*: for anisotropic Σ it is not the class optimum's predictor.
        best = vector_gating_optimum(model)
        return TheoryOptimum("vector", float(best.risk), wpgd.preconditioner,
                             _per_example(model, wpgd.block_weights), float(wpgd.risk))
    best = {"linear": linear_attention_optimum, "scalar": scalar_gating_optimum}[arch.gating](
        model)
    return TheoryOptimum(arch.gating, float(best.risk), best.preconditioner,
                         _per_example(model, best.block_weights), float(wpgd.risk))


def _analyse(arch, params, optimum, scale=1.0):
    """Learned ``P``, ``ω``, block weights, errors against the optimum, closed-form risk.

    ``arch`` is the architecture on the normalised model (``Σ/scale``); ``P`` and the risk are
    returned in the units of the model ``scale`` times larger, those of ``optimum``."""
    model = arch.model
    if not isinstance(arch, Architecture):
        # several layers or softmax attention: no per-example P⁽ⁱ⁾ to read
        return dict(preconditioner=None, weights=None, block_weights=None,
                    theory_block_weights=None, preconditioner_error=None,
                    weights_error=None, rank_one_residual=None,
                    closed_form_risk=None)
    prompts = model.sample(64, seed=0)
    per_token = arch.token_preconditioners(params, prompts, average=True)
    P, omega, residual = rank_one_fit(per_token)
    P = P / scale
    blocks = theory_blocks = None
    if isinstance(model, MultitaskModel):
        edges = np.concatenate([[0], np.cumsum(model.sizes)])
        def block_means(w):
            means = np.array([w[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
            return means / means[-1] if means[-1] != 0 else means
        blocks, theory_blocks = block_means(omega), block_means(optimum.weights)
    exact = None
    if arch.parameterisation == "wpgd" or (arch.parameterisation == "constrained"
                                           and arch.gating not in ("vector", "scalar_x")):
        exact = float(closed_form_risk(dense_model(model), P * scale, omega)) * scale
    return dict(preconditioner=P, weights=omega, block_weights=blocks,
                theory_block_weights=theory_blocks,
                preconditioner_error=shape_error(P, optimum.preconditioner),
                weights_error=shape_error(omega, optimum.weights), rank_one_residual=residual,
                closed_form_risk=exact)
