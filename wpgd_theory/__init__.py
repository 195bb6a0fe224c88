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
from .fla_adapter import fla_scale, from_fla, to_fla
from .gates import (
    GATE_FAMILIES, GateFamily, dfw_gate, gated_retention_gate, gateloop_gate, gla_gate,
    hgrn2_gate, mamba2_gate, mamba_gate, mlstm_gate, rwkv6_gate,
)
from .gla import (
    Theorem1Residual, cumulative_gates, dwpgd_predict, gated_attention_matrix, gla_forward,
    gla_parallel, gla_recurrence, induced_weights, theorem1_gla_predict, theorem1_projections,
    theorem1_prompt, theorem1_residual, wpgd_predict,
)
from .model import CorrelatedTaskModel, Prompts, effective_spectral_gap
from .certify import FixedPointCertificate, certify_fixed_point
from .curves import TheoryCurves, paper_setting_model, plot_curves, theory_curves, write_curves_csv
from .multitask import (
    BlockSpectra, MultitaskModel, MultitaskSolution, as_delimiter_features,
    corollary_linear_attention_risk, delimiter_positions, multitask_linear_attention_risk,
    multitask_prompt_tokens, solve_multitask,
)
from .multitask_gating import (
    DecayOptimum, DelimiterGate, GatingOptimum, GLAConstruction, MonotoneFace,
    decay_gating_optimum, decay_gla_construction, delimiter_gate_values, in_monotone_cone,
    isotropic_projection_optimum, linear_attention_optimum, monotone_cone_faces, monotone_split,
    scalar_gating_optimum, scalar_gla_construction, vector_gating_optimum, vector_gla_construction,
)
from .multilayer import (
    MultiLayerWPGD, multilayer_construction, multilayer_gla, multilayer_wpgd, multistep_wpgd,
)
from .risk import (
    MonteCarloEstimate, linear_attention_risk, monte_carlo_risk, optimal_preconditioner, risk,
    risk_gradient, risk_of_weights, risk_of_weights_gradient, weight_moments,
)
from .search import (
    OptimisationOutcomes, SearchResult, SpectralInstance, StationaryPoint, adversarial_search,
    contraction_bound, optimisation_outcomes, random_instance, random_search, stationary_points,
    two_cluster_instance, weights_risk, weights_risk_gradient,
)
from .solver import FixedPoint, WPGDSolution, solve_model, solve_optimal_wpgd, stationary_point
from .spectral import (
    FixedPointSearch, SpectralGapTest, find_fixed_points, fixed_point_bracket, fixed_point_map,
    fixed_point_map_derivative, h1, h1_derivative, h2, h2_derivative, spectral_gap_condition,
)

__version__ = "0.1.0"

__all__ = [
    "CorrelatedTaskModel", "Prompts", "effective_spectral_gap",
    "risk", "risk_gradient", "optimal_preconditioner", "risk_of_weights",
    "risk_of_weights_gradient", "linear_attention_risk", "monte_carlo_risk",
    "MonteCarloEstimate", "weight_moments",
    "solve_optimal_wpgd", "solve_model", "WPGDSolution", "FixedPoint", "stationary_point",
    "h1", "h1_derivative", "h2", "h2_derivative", "fixed_point_map",
    "fixed_point_map_derivative", "fixed_point_bracket", "find_fixed_points", "FixedPointSearch",
    "spectral_gap_condition", "SpectralGapTest",
    # GLA forward passes and Theorem 1
    "gla_recurrence", "gla_parallel", "gla_forward", "cumulative_gates", "gated_attention_matrix",
    "wpgd_predict", "dwpgd_predict", "theorem1_projections", "theorem1_prompt",
    "induced_weights", "theorem1_gla_predict", "theorem1_residual", "Theorem1Residual",
    # gate families of real architectures
    "GATE_FAMILIES", "GateFamily", "mamba_gate", "mamba2_gate", "mlstm_gate",
    "gated_retention_gate", "gla_gate", "rwkv6_gate", "hgrn2_gate", "gateloop_gate", "dfw_gate",
    "to_fla", "from_fla", "fla_scale",
    # multi-layer GLA (Theorem 6)
    "MultiLayerWPGD", "multilayer_construction", "multilayer_gla", "multilayer_wpgd",
    "multistep_wpgd",
    # multitask prompts, gating optima (Theorems 4-5), Figure-1 curves
    "MultitaskModel", "MultitaskSolution", "BlockSpectra", "solve_multitask",
    "corollary_linear_attention_risk", "multitask_linear_attention_risk",
    "multitask_prompt_tokens", "as_delimiter_features", "delimiter_positions",
    "scalar_gating_optimum", "vector_gating_optimum", "linear_attention_optimum",
    "decay_gating_optimum", "isotropic_projection_optimum", "GatingOptimum", "DecayOptimum",
    "MonotoneFace", "monotone_cone_faces", "in_monotone_cone", "delimiter_gate_values",
    "monotone_split", "DelimiterGate", "GLAConstruction", "scalar_gla_construction",
    "vector_gla_construction", "decay_gla_construction",
    "theory_curves", "TheoryCurves", "paper_setting_model", "write_curves_csv", "plot_curves",
    # certified uniqueness and the counterexample search (Theorem 3)
    "certify_fixed_point", "FixedPointCertificate", "SpectralInstance", "two_cluster_instance",
    "contraction_bound", "weights_risk", "weights_risk_gradient", "StationaryPoint",
    "stationary_points", "OptimisationOutcomes", "optimisation_outcomes", "SearchResult",
    "adversarial_search", "random_instance", "random_search",
]
