"""wpgd-theory: executable mathematics for *Gating is Weighting* (Li et al., COLM 2025).

Gated linear attention (GLA) implements weighted preconditioned gradient descent (WPGD). The
package is layered (docs/architecture.md):

* :mod:`wpgd_theory.core` — data model, validation, the WPGD predictor, closed-form risk, the
  spectral maps h₁/h₂ and the optimal-WPGD solver;
* :mod:`wpgd_theory.gla` — GLA forward passes, Theorem 1, gate families, fla adapter, multi-layer;
* :mod:`wpgd_theory.multitask` — multitask prompts, gating optima (Theorems 4–5), Figure-1 curves;
* :mod:`wpgd_theory.verify` — certificates, counterexample search, brute force, symbolic proofs;
* :mod:`wpgd_theory.training` — trained GLA models against the theory (extra ``[train]``: JAX).

The stable public API is re-exported here. Names are loaded on first use (PEP 562), so
``import wpgd_theory`` itself imports no SciPy, SymPy or optional extra.

Examples
--------
>>> import numpy as np
>>> from wpgd_theory import solve_optimal_wpgd
>>> solution = solve_optimal_wpgd(np.eye(3), np.eye(4), [0.8, 0.5, 0.0, 0.0], sigma2=0.5)
>>> round(solution.risk, 6)  # Σ = I: M − d·rᵀ((1 + M)I + R)⁻¹r = 3.5 − 3·0.89/5.5
3.014545
"""
from __future__ import annotations

import importlib

__version__ = "0.2.0"

#: Public name → the submodule (relative to this package) that defines it.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "core.model": (
        "CorrelatedTaskModel", "Prompts", "effective_spectral_gap",
    ),
    "core.predictor": (
        "wpgd_predict", "dwpgd_predict",
    ),
    "core.risk": (
        "risk", "risk_gradient", "optimal_preconditioner", "risk_of_weights",
        "risk_of_weights_gradient", "linear_attention_risk", "monte_carlo_risk",
        "MonteCarloEstimate", "weight_moments",
    ),
    "core.solver": (
        "solve_optimal_wpgd", "solve_model", "WPGDSolution", "FixedPoint", "stationary_point",
        "fixed_point_kinds",
    ),
    "core.batched": (
        "solve_batched", "solve_batched_models", "solve_spectra_batched", "BatchedWPGDSolution",
        "BatchedFixedPoints",
    ),
    "core.parallel": (
        "map_chunks", "seed_blocks", "SeedBlock", "ChunkPlan",
    ),
    "core.multiprecision": (
        "refine_eigh",
    ),
    "core.spectral": (
        "h1", "h1_derivative", "h2", "h2_derivative", "fixed_point_map",
        "fixed_point_map_derivative", "fixed_point_bracket", "find_fixed_points",
        "FixedPointSearch", "spectral_gap_condition", "SpectralGapTest",
    ),
    "core.uniqueness": (
        "Uniqueness", "spectral_uniqueness",
    ),
    "gla.forward": (
        "gla_recurrence", "gla_parallel", "gla_forward", "cumulative_gates",
        "gated_attention_matrix", "gla_last_output",
    ),
    "gla.theorem1": (
        "theorem1_projections", "theorem1_prompt", "induced_weights", "theorem1_gla_predict",
        "theorem1_residual", "Theorem1Residual",
    ),
    "gla.gates": (
        "GATE_FAMILIES", "GateFamily", "mamba_gate", "mamba2_gate", "mlstm_gate",
        "gated_retention_gate", "gla_gate", "rwkv6_gate", "hgrn2_gate", "gateloop_gate",
        "dfw_gate",
    ),
    "gla.fla_adapter": (
        "to_fla", "from_fla", "fla_scale",
    ),
    "gla.checkpoint": (
        "example_preconditioners", "keywise_induced_weights", "rank_one_fit", "GLAReading",
        "read_gla", "FLAGLAArrays", "fla_gla_arrays", "load_fla_state_dict",
    ),
    "gla.multilayer": (
        "MultiLayerWPGD", "multilayer_construction", "multilayer_gla", "multilayer_wpgd",
        "multistep_wpgd",
    ),
    "multitask.model": (
        "MultitaskModel", "MultitaskSolution", "BlockSpectra", "solve_multitask",
        "corollary_linear_attention_risk", "multitask_linear_attention_risk",
        "multitask_prompt_tokens", "as_delimiter_features", "delimiter_positions",
    ),
    "multitask.gating": (
        "scalar_gating_optimum", "linear_attention_optimum",
        "decay_gating_optimum", "isotropic_projection_optimum", "GatingOptimum", "DecayOptimum",
        "MonotoneFace", "monotone_cone_faces", "in_monotone_cone", "delimiter_gate_values",
        "monotone_split", "DelimiterGate", "GLAConstruction", "scalar_gla_construction",
        "vector_gla_construction", "keywise_gla_construction", "decay_gla_construction",
    ),
    "multitask.vector_gating": (
        "vector_gating_optimum", "VectorGatingOptimum", "block_matrix_risk", "direction_risk",
    ),
    "core.bayes": (
        "BayesRisk", "dense_bayes_risk", "dense_bayes_predict", "conditional_bayes_risks",
    ),
    "multitask.bayes": (
        "bayes_risk", "bayes_predict", "bayes_risk_limit", "multitask_bayes_risk",
    ),
    "multitask.explain": (
        "explain_gating", "GatingExplanation", "GatingVerdict",
    ),
    "multitask.curves": (
        "theory_curves", "TheoryCurves", "paper_setting_model", "write_curves_csv", "plot_curves",
        "read_curves_csv", "curves_metadata",
        "MultitaskFamily", "paper_setting_family", "curves_figure",
    ),
    "verify.certify": (
        "certify_fixed_point", "FixedPointCertificate", "certify_uniqueness", "solve_certified",
        "certify_solution",
    ),
    "verify.enclosures": (
        "enclose_spectra", "SpectralEnclosure",
    ),
    "verify.erratum": (
        "preconditioner_shapes", "best_preconditioner_multiple", "stationarity_residual",
        "best_risk_with_shape", "shape_error", "PreconditionerErratum", "preconditioner_erratum",
        "SCALAR_GATING_COUNTEREXAMPLES", "scalar_gating_counterexample", "ScalarGatingClaim",
        "scalar_gating_claim", "three_fixed_point_instance",
        "three_fixed_point_multitask_instance",
    ),
    "verify.search": (
        "SpectralInstance", "two_cluster_instance", "contraction_bound", "weights_risk",
        "weights_risk_gradient", "StationaryPoint", "stationary_points", "OptimisationOutcomes",
        "optimisation_outcomes", "SearchResult", "adversarial_search", "random_instance",
        "random_search",
    ),
    # SymPy statements: importing the name loads SymPy (only then).
    "verify.symbolic": (
        "all_statements",
    ),
    "sweeps.phase": (
        "run_phase_diagram", "PhaseDiagram", "clopper_pearson", "wilson_interval", "cell_seed",
        "spectral_problem",
    ),
    "sweeps.run": (
        "sweep_main", "open_executor",
    ),
    # Optional extra wpgd-theory[train] (JAX + optax): imported only when these are used.
    "training.train": (
        "train", "train_seeds", "TrainResult", "TheoryOptimum", "evaluate", "task_scale",
        "PairedEvaluation",
    ),
    "training.multilayer": (
        "saa_optimum", "SAAOptimum", "MultiLayerArchitecture",
    ),
    "training.experiments": (
        "run_train_config", "overlay_figure", "figure1_experiment",
    ),
    "training.trap": (
        "trap_experiment", "TrapOutcome", "population_descent", "match_stationary_points",
    ),
}
_SOURCE = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBPACKAGES = ("core", "gla", "multitask", "verify", "training", "sweeps")

__all__ = [name for names in _EXPORTS.values() for name in names]


def __getattr__(name):
    if name in _SOURCE:
        value = getattr(importlib.import_module(f".{_SOURCE[name]}", __name__), name)
        globals()[name] = value          # later look-ups skip this hook
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))
