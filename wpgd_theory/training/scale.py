"""The scale training runs a task model at: :func:`task_scale` and the normalised architecture.

Training and its Monte Carlo evaluation run on ``(Σ/s, σ²/s)``, whose prompts are O(1) in
float32 whatever the user's units; every risk, loss and learned ``P`` is reported back in the
model's own units.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..core.model import CorrelatedTaskModel
from ..multitask.model import MultitaskModel
from .models import Architecture

__all__ = ["task_scale"]


def task_scale(model):
    """The scale ``s = max(tr Σ / d, σ² / 2⁴⁰)`` at which training runs the model.

    The risk is homogeneous: the model ``(tΣ, tσ²)`` has ``t`` times the risk of ``(Σ, σ²)`` at
    ``P/t``. Training and its Monte Carlo evaluation run on ``(Σ/s, σ²/s)``, whose prompts are
    O(1) in float32 whatever the user's units (the noise term keeps the squared errors of a
    noise-dominated model below float32's range), and every risk, loss and learned ``P`` is
    reported back in the model's own units. ``s = 1`` when ``tr Σ = d`` and ``σ² ≤ 2⁴⁰`` (then
    nothing is rescaled), and ``s`` is proportional to ``t``, so a rescaled model trains on the
    same normalised model: training is scale-free.

    Examples
    --------
    >>> from wpgd_theory import MultitaskModel
    >>> task_scale(MultitaskModel(np.eye(1), [0.5], [2], 1e-150 * np.eye(3), 0.0))
    1e-150
    >>> task_scale(MultitaskModel(np.eye(1), [0.5], [2], np.eye(3), 0.1))
    1.0
    """
    if not isinstance(model, (MultitaskModel, CorrelatedTaskModel)):
        raise TypeError(f"model must be a MultitaskModel or CorrelatedTaskModel, got "
                        f"{type(model).__name__}")
    return max(float(np.sum(model.sigma_eigenvalues)) / model.d, model.sigma2 / 2.0**40)


def _rescaled_model(model, scale):
    """The model with ``Σ/scale`` and ``σ²/scale`` (same tasks, same sizes)."""
    if isinstance(model, MultitaskModel):
        return MultitaskModel(model.task_correlation, model.query_correlation, model.sizes,
                              model.Sigma / scale, model.sigma2 / scale)
    return CorrelatedTaskModel(model.Sigma / scale, model.R, model.r, model.sigma2 / scale)


@functools.lru_cache(maxsize=32)
def _normalised(arch):
    """``(architecture on the normalised model, s)`` (cached: compiled code is reused)."""
    scale = task_scale(arch.model)
    if scale == 1.0:
        return arch, 1.0
    return _with_model(arch, _rescaled_model(arch.model, scale)), scale


def _with_model(arch, model):
    """``arch`` on another model: one-layer architectures hold it, the multi-layer and softmax
    wrappers hold their one-layer ``layer``."""
    if isinstance(arch, Architecture):
        return dataclasses.replace(arch, model=model)
    return dataclasses.replace(arch, layer=_with_model(arch.layer, model))

