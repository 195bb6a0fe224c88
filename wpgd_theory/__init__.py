"""wpgd-theory: executable mathematics for *Gating is Weighting* (Li et al., COLM 2025).

Gated linear attention (GLA) implements weighted preconditioned gradient descent (WPGD). This
package encodes the theory in ``THEORY.md``: the closed-form population risk of WPGD under the
correlated-task data model, the spectral maps h₁/h₂ and their fixed point, the optimal WPGD
solver, GLA forward passes and gate families, multitask prompts and symbolic statements.

Examples
--------
>>> import numpy as np
>>> from wpgd_theory import solve_optimal_wpgd
>>> solution = solve_optimal_wpgd(np.eye(3), np.eye(4), [0.8, 0.5, 0.0, 0.0], sigma2=0.5)
>>> round(solution.risk, 6)  # Σ = I: M − d·rᵀ((1 + M)I + R)⁻¹r = 3.5 − 3·0.89/5.5
3.014545
"""
from .gla import gla_recurrence
from .model import CorrelatedTaskModel, Prompts, effective_spectral_gap
from .risk import (
    MonteCarloEstimate, linear_attention_risk, monte_carlo_risk, optimal_preconditioner, risk,
    risk_gradient, risk_of_weights, risk_of_weights_gradient, weight_moments, wpgd_prediction,
)
from .solver import FixedPoint, WPGDSolution, solve_model, solve_optimal_wpgd
from .spectral import (
    FixedPointSearch, SpectralGapTest, find_fixed_points, fixed_point_bracket, fixed_point_map,
    fixed_point_map_derivative, h1, h1_derivative, h2, h2_derivative, spectral_gap_condition,
)

__version__ = "0.1.0"

__all__ = [
    "CorrelatedTaskModel", "Prompts", "effective_spectral_gap",
    "risk", "risk_gradient", "optimal_preconditioner", "risk_of_weights",
    "risk_of_weights_gradient", "linear_attention_risk", "monte_carlo_risk",
    "MonteCarloEstimate", "weight_moments", "wpgd_prediction",
    "solve_optimal_wpgd", "solve_model", "WPGDSolution", "FixedPoint",
    "h1", "h1_derivative", "h2", "h2_derivative", "fixed_point_map",
    "fixed_point_map_derivative", "fixed_point_bracket", "find_fixed_points", "FixedPointSearch",
    "spectral_gap_condition", "SpectralGapTest", "gla_recurrence",
]
