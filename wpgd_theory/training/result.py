"""The result of one training run: :class:`TrainResult`, a trained model against the theory."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.validation import as_integer
from .theory import TheoryOptimum

__all__ = ["TrainResult"]


@dataclass(frozen=True)
class TrainResult:
    """One trained model against the theory (compact repr; ``to_dict`` is JSON-ready).

    Attributes
    ----------
    test_risk, test_risk_se : float
        Monte Carlo risk ``E(y − ŷ)²`` on ``test_prompts`` fresh prompts and its standard error.
    optimum : TheoryOptimum
        The class optimum (or the WPGD reference for label-reading gates).
    optimum_test_risk, optimum_test_risk_se : float
        The Monte Carlo risk of the optimum's own predictor (WPGD with ``P*``, ``ω*``) on the
        *same* test prompts, and its standard error.
    paired_gap, paired_gap_se : float
        Mean of ``(y − ŷ)² − (y − ŷ*)²`` over the test prompts and its standard error: the
        trained model against the optimum on common prompts, whose sampling error is far
        smaller than ``test_risk_se`` (both predictors err alike on a hard prompt).
    bayes_test_risk, bayes_test_risk_se : float
        The Monte Carlo risk of the Bayes-optimal predictor (:mod:`wpgd_theory.training.bayes`)
        on the same test prompts: the floor under every in-context learner.
    bayes_paired_gap, bayes_paired_gap_se : float
        Mean of ``(y − ŷ)² − (y − ŷ_Bayes)²`` on the test prompts (``≥ 0`` up to sampling error)
        and its standard error: how far the trained model is from the best possible.
    closed_form_risk : float or None
        Exact risk ``L(P, ω)`` of the learned WPGD predictor, where the model is one (constrained
        linear/decay/scalar, free WPGD): an evaluation that involves no sampling.
    preconditioner, weights, block_weights : ndarray
        Learned ``P`` and per-example ``ω`` (rank-one fit of ``P⁽ⁱ⁾``, ``ω_n = 1``), block means.
    theory_block_weights : ndarray
    preconditioner_error, weights_error : float or None
        :func:`shape_error` of the learned ``P``, ``ω`` against ``P*``, ``ω*``; ``None`` (JSON
        ``null``, not ``NaN``) where there is no per-example ``P⁽ⁱ⁾`` to read (several layers,
        softmax attention).
    rank_one_residual : float or None
        How far the learned ``P⁽ⁱ⁾`` are from the WPGD form ``ω_i P``; ``None`` as above.
    loss_history : ndarray
        Training loss (batch mean) at every step.
    params : dict
        The trained parameters, in the units of the normalised model that training runs on
        (``Σ/s``, ``σ²/s`` with ``s =`` :func:`task_scale`; ``s = 1`` when ``tr Σ = d`` and
        ``σ² ≤ √2``): :func:`evaluate` takes them as they are. Every risk above, the loss
        history and ``preconditioner`` are in the model's own units.
    layers : int
        Number of GLA layers (``optimum`` is the one-layer class optimum, a reference, if > 1).
    start_runs : tuple of dict
        With ``starts > 1``: every start's ``start``, ``train_loss`` (mean loss over the last
        10 % of the steps, on the common prompt stream), ``test_risk``, ``test_risk_se``,
        ``paired_gap`` and ``block_weights``; this result is the start with the lowest
        ``train_loss``.
    """

    gating: str
    parameterisation: str
    seed: int
    steps: int
    batch_size: int
    learning_rate: float
    test_risk: float
    test_risk_se: float
    test_prompts: int
    optimum: TheoryOptimum
    optimum_test_risk: float
    optimum_test_risk_se: float
    paired_gap: float
    paired_gap_se: float
    closed_form_risk: Any
    preconditioner: np.ndarray
    weights: np.ndarray
    block_weights: Any
    theory_block_weights: Any
    preconditioner_error: float | None
    weights_error: float | None
    rank_one_residual: float | None
    loss_history: np.ndarray
    seconds: float
    params: dict = field(repr=False)
    bayes_test_risk: Any = None
    bayes_test_risk_se: Any = None
    bayes_paired_gap: Any = None
    bayes_paired_gap_se: Any = None
    layers: int = 1
    start_runs: tuple = ()

    @property
    def relative_gap(self):
        """``(test_risk − optimum) / optimum``."""
        return (self.test_risk - self.optimum.risk) / self.optimum.risk

    def within(self, relative, standard_errors=3.0):
        """Whether ``|test_risk − optimum| ≤ max(relative·optimum, standard_errors·SE)``."""
        tolerance = max(relative * self.optimum.risk, standard_errors * self.test_risk_se)
        return abs(self.test_risk - self.optimum.risk) <= tolerance

    @property
    def relative_paired_gap(self):
        """``paired_gap / optimum``: the gap measured on common prompts."""
        return self.paired_gap / self.optimum.risk

    def within_paired(self, relative, standard_errors=3.0):
        """Whether ``|paired_gap| ≤ max(relative·optimum, standard_errors·paired_gap_se)``."""
        tolerance = max(relative * self.optimum.risk, standard_errors * self.paired_gap_se)
        return abs(self.paired_gap) <= tolerance

    def __repr__(self):
        blocks = ("" if self.block_weights is None else
                  f", block_weights={np.round(self.block_weights, 3).tolist()} "
                  f"(theory {np.round(self.theory_block_weights, 3).tolist()})")
        errors = ("" if self.preconditioner_error is None else
                  f"P error={self.preconditioner_error:.3f}, ω error={self.weights_error:.3f}, ")
        depth = "" if self.layers == 1 else f", layers={self.layers}"
        starts = "" if not self.start_runs else f", starts={len(self.start_runs)}"
        return (f"TrainResult({self.parameterisation} {self.gating}{depth}, seed={self.seed}"
                f"{starts}, "
                f"steps={self.steps}: test_risk={self.test_risk:.4f} ± {self.test_risk_se:.4f}, "
                f"optimum={self.optimum.risk:.4f} [{self.optimum.kind}], "
                f"gap={100 * self.relative_gap:+.2f}% (paired "
                f"{100 * self.relative_paired_gap:+.2f}% ± "
                f"{100 * self.paired_gap_se / self.optimum.risk:.2f}%){blocks}, "
                f"{errors}{self.seconds:.1f} s)")

    def to_dict(self, *, history_stride=None):
        """JSON-ready summary (no parameters); the loss history every ``history_stride``-th step
        (default: thinned to ≤ 200 points)."""
        stride = (max(1, len(self.loss_history) // 200) if history_stride is None
                  else as_integer(history_stride, "history_stride", minimum=1))
        def listed(a):
            return None if a is None else np.asarray(a, float).tolist()
        return {
            "gating": self.gating, "parameterisation": self.parameterisation, "seed": self.seed,
            "steps": self.steps, "batch_size": self.batch_size,
            "learning_rate": self.learning_rate, "test_risk": self.test_risk,
            "test_risk_se": self.test_risk_se, "test_prompts": self.test_prompts,
            "optimum_test_risk": self.optimum_test_risk,
            "optimum_test_risk_se": self.optimum_test_risk_se,
            "paired_gap": self.paired_gap, "paired_gap_se": self.paired_gap_se,
            "bayes_test_risk": self.bayes_test_risk, "bayes_test_risk_se": self.bayes_test_risk_se,
            "bayes_paired_gap": self.bayes_paired_gap,
            "bayes_paired_gap_se": self.bayes_paired_gap_se,
            "optimum_kind": self.optimum.kind, "optimum_risk": self.optimum.risk,
            "optimum_describes_class": self.optimum.describes_class,
            "wpgd_risk": self.optimum.wpgd_risk, "relative_gap": self.relative_gap,
            "closed_form_risk": self.closed_form_risk,
            "preconditioner": listed(self.preconditioner), "weights": listed(self.weights),
            "block_weights": listed(self.block_weights),
            "theory_block_weights": listed(self.theory_block_weights),
            "preconditioner_error": self.preconditioner_error,
            "weights_error": self.weights_error, "rank_one_residual": self.rank_one_residual,
            "loss_history_stride": stride,
            "loss_history": np.asarray(self.loss_history[::stride], float).tolist(),
            "seconds": self.seconds, "layers": self.layers,
            "start_runs": [{k: (listed(v) if k == "block_weights" else v)
                            for k, v in run.items()} for run in self.start_runs],
        }

