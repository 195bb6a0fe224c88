"""Fuzz-style boundary table: every public function at the root, every argument, bad inputs.

For each public callable of ``wpgd_theory.__all__`` :data:`VALID` holds one valid call. Each
argument is then replaced, one at a time, by a bad value of each kind in :data:`BAD_KINDS`
(``None``, a numeric string, NaN, a non-finite or wrong-shape array, …) and the call must raise
``ValueError`` or ``TypeError`` whose message names that argument. :data:`ACCEPTED` lists the
(function, argument, kind) triples where the "bad" value is a documented valid input (e.g.
``seed=None``). Further tests check size guards (the limit is in the message) and that every
result class has a compact ``repr``.
"""
from __future__ import annotations

import inspect
import io
import math

import numpy as np
import pytest

import wpgd_theory as wt

RNG = np.random.default_rng(0)
D, N = 2, 3


def _model():
    return wt.CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5, 0], [.5, 1, 0], [0, 0, 1]],
                                  [.6, .3, .1], 0.1)


def _multitask():
    return wt.MultitaskModel(np.eye(2), [0.3, 0.9], [2, 3], np.eye(2), 0.1)


def _instance():
    return wt.SpectralInstance([1.0, 2.0], 0.1, [0.5, 1.5], [0.5, 0.7])


def _gate_call(name):
    family = wt.GATE_FAMILIES[name]
    Z = RNG.standard_normal((4, 3))
    return (Z,), family.random_parameters(np.random.default_rng(1), 3, 2, 2)


def _valid_calls():
    """Name → (args, kwargs) of one valid call, for every public callable we validate."""
    model, multitask, instance = _model(), _multitask(), _instance()
    x, X, y = RNG.standard_normal(D), RNG.standard_normal((N, D)), RNG.standard_normal(N)
    P, w = np.eye(D), np.ones(N)
    q, k, v = RNG.standard_normal((3, 1, 4, 2))
    q4, k4, v4 = RNG.standard_normal((3, 1, 1, 4, 2))
    Z = wt.theorem1_prompt(x, X, y)
    full_gates = RNG.uniform(size=(N + 1, D + 1, D + 1))
    curves = wt.theory_curves([2, 4], 0.3, 0.9, d=2, sigma2=0.1)
    prompts = multitask.sample(2, seed=0)
    W_q, W_k, W_v = wt.theorem1_projections(np.eye(D), np.eye(D))
    keywise = RNG.uniform(0.5, 1.0, size=(N + 1, D + 1))
    state_dict = {"q_proj.weight": np.eye(D + 1), "k_proj.weight": np.eye(D + 1),
                  "v_proj.weight": np.eye(D + 1), "o_proj.weight": np.eye(D + 1),
                  "gk_proj.0.weight": np.ones((1, D + 1)), "gk_proj.1.weight": np.ones((D + 1, 1)),
                  "gk_proj.1.bias": np.zeros(D + 1)}
    calls = {
        "example_preconditioners": ((W_q, W_k, W_v, wt.keywise_induced_weights(keywise)), {}),
        "keywise_induced_weights": ((keywise,), {}),
        "rank_one_fit": ((RNG.standard_normal((N, D, D)),), {}),
        "read_gla": ((W_q, W_k, W_v, keywise, model), {}),
        "fla_gla_arrays": ((state_dict,), {}),
        "CorrelatedTaskModel": ((np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1), {}),
        "effective_spectral_gap": (([1.0, 2.0],), {}),
        "wpgd_predict": ((x, X, y, P, w), {}),
        "dwpgd_predict": ((x, X, y, P, P, np.ones((N, D))), {}),
        "risk": ((model, P, w), {}),
        "risk_gradient": ((model, P, w), {}),
        "optimal_preconditioner": ((model, w), {}),
        "risk_of_weights": ((model, w), {}),
        "risk_of_weights_gradient": ((model, w), {}),
        "linear_attention_risk": ((model,), {}),
        "monte_carlo_risk": ((model, P, w), {"num_prompts": 10, "seed": 0, "batch_size": 5}),
        "weight_moments": ((model, w), {}),
        "solve_optimal_wpgd": ((np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1),
                               {"grid_size": 129}),
        "solve_model": ((model,), {"grid_size": 129}),
        "fixed_point_kinds": (([0.2, 0.3, 0.25], [0.5, 1.2, 0.7]), {}),
        "cell_seed": ((0, "two_cluster", 10, 3), {}),
        "spectral_problem": ((instance,), {}),
        "curves_metadata": ((curves,), {}),
        "explain_gating": ((multitask,), {}),
        "stationary_point": ((2.0, model), {}),
        "h1": ((0.5, [0.5, 1.5], [0.5, 0.7]), {}),
        "h1_derivative": ((0.5, [0.5, 1.5], [0.5, 0.7]), {}),
        "h2": ((2.0, [1.0, 2.0], 3.1), {}),
        "h2_derivative": ((2.0, [1.0, 2.0], 3.1), {}),
        "fixed_point_map": ((2.0, model), {}),
        "fixed_point_map_derivative": ((2.0, model), {}),
        "fixed_point_bracket": ((model,), {}),
        "find_fixed_points": ((model,), {"grid_size": 129}),
        "spectral_gap_condition": ((model,), {}),
        "gla_recurrence": ((q, k, v, 0.5), {}),
        "gla_parallel": ((q, k, v, 0.5), {}),
        "gla_forward": ((Z, np.eye(D + 1), np.eye(D + 1), np.eye(D + 1), 0.5), {}),
        "cumulative_gates": ((RNG.uniform(size=(4, 2, 2)),), {}),
        "gated_attention_matrix": ((q, k, 0.5), {}),
        "theorem1_projections": ((P, P), {}),
        "theorem1_prompt": ((x, X, y), {}),
        "induced_weights": ((full_gates, D), {}),
        "theorem1_gla_predict": ((x, X, y, P, P, full_gates), {}),
        "theorem1_residual": ((x, X, y, P, P, full_gates), {}),
        "mamba_gate": _gate_call("mamba"),
        "mamba2_gate": _gate_call("mamba2"),
        "mlstm_gate": _gate_call("mlstm"),
        "gated_retention_gate": _gate_call("gated_retention"),
        "gla_gate": _gate_call("gla"),
        "rwkv6_gate": _gate_call("rwkv6"),
        "hgrn2_gate": _gate_call("hgrn2"),
        "gateloop_gate": _gate_call("gateloop_magnitude")[:1] + (
            wt.GATE_FAMILIES["gateloop_magnitude"].random_parameters(np.random.default_rng(1),
                                                                     3, 2, 2),),
        "dfw_gate": _gate_call("dfw"),
        "to_fla": ((q4, k4, v4, 0.5), {}),
        "from_fla": ((np.zeros((1, 4, 1, 2)), np.zeros((1, 1, 2, 2))), {}),
        "fla_scale": ((4,), {}),
        "multilayer_construction": (([[[2.0]]], [[[3.0]]]), {}),
        "multilayer_gla": ((wt.theorem1_prompt([1.0], [[1.0], [2.0]], [1.0, 2.0]),
                            wt.multilayer_construction([[[0.2]]], [[[1.0]]])), {}),
        "multilayer_wpgd": (([1.0], [[1.0], [2.0]], [1.0, 2.0], [[[1.0]]], [[[0.2]]]), {}),
        "multistep_wpgd": (([[1.0], [2.0]], [1.0, 2.0], [[[0.1]], [[0.1]]]), {}),
        "MultitaskModel": ((np.eye(2), [0.3, 0.9], [2, 3], np.eye(2), 0.1), {}),
        "solve_multitask": ((multitask,), {"grid_size": 129}),
        "corollary_linear_attention_risk": ((2, 0.1, 4, 1.2, 3.0), {}),
        "multitask_linear_attention_risk": ((multitask,), {}),
        "multitask_prompt_tokens": ((prompts, [2, 3]), {}),
        "as_delimiter_features": ((np.eye(2), 2), {}),
        "delimiter_positions": (([2, 3],), {}),
        "scalar_gating_optimum": ((multitask,), {}),
        "vector_gating_optimum": ((multitask,), {"width": "d-aligned"}),
        "block_matrix_risk": ((multitask, np.stack([np.eye(2), np.eye(2)])), {}),
        "direction_risk": ((multitask, np.ones((2, 2))), {}),
        "keywise_gla_construction": ((multitask, np.ones((2, 2))), {"width": "2d"}),
        "linear_attention_optimum": ((multitask,), {}),
        "decay_gating_optimum": ((multitask,), {"grid_size": 50}),
        "isotropic_projection_optimum": ((multitask,), {}),
        "monotone_cone_faces": ((3,), {}),
        "in_monotone_cone": (([1.0, 2.0, 3.0],), {}),
        "delimiter_gate_values": (([0.5, 1.0],), {}),
        "monotone_split": (([1.0, -2.0, 3.0],), {}),
        "scalar_gla_construction": ((multitask, [0.5, 1.0]), {}),
        "vector_gla_construction": ((multitask, [0.5, 1.0]), {}),
        "decay_gla_construction": ((multitask, 0.9), {}),
        "theory_curves": (([2, 4], 0.3, 0.9), {"d": 2, "sigma2": 0.1}),
        "paper_setting_model": ((4, 0.3, 0.9, 2, 0.1), {}),
        "write_curves_csv": ((curves, io.StringIO()), {}),
        "certify_fixed_point": ((model,), {"digits": 15}),
        "SpectralInstance": (([1.0, 2.0], 0.1, [0.5, 1.5], [0.5, 0.7]), {}),
        "two_cluster_instance": ((10, 3), {"s_large": 2.0, "s_small": 0.5, "k_large": 1,
                                          "sigma2": 0.1, "lam_small": 0.5, "lam_large": 5.0,
                                          "mass_large": 0.5}),
        "contraction_bound": ((instance,), {}),
        "weights_risk": ((instance, [0.3, 0.2]), {}),
        "weights_risk_gradient": ((instance, [0.3, 0.2]), {}),
        "stationary_points": ((instance,), {"grid_size": 65}),
        "optimisation_outcomes": ((instance,), {"starts": 2, "seed": 0}),
        "adversarial_search": ((4, 2), {"seed": 0, "maxiter": 1, "popsize": 2}),
        "random_instance": ((np.random.default_rng(0), 4, 2), {}),
        "random_search": ((4, 2), {"trials": 2, "seed": 0}),
        "MultitaskFamily": ((np.eye(2), [0.3, 0.9], [1, 1], np.eye(2), 0.1), {}),
        "paper_setting_family": ((0.3, 0.9, 2, 0.1), {}),
        "spectral_uniqueness": ((model,), {}),
        "certify_uniqueness": ((model,), {"digits": 15}),
        "certify_solution": ((wt.solve_model(model),), {"digits": 15}),
        "solve_certified": ((np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1),
                            {"digits": 15}),
        "enclose_spectra": ((np.diag([1.0, 2.0]), 0.1, [[1, .5], [.5, 1]], [.9, .3]), {}),
        "preconditioner_shapes": ((model, 2.0), {}),
        "best_preconditioner_multiple": ((model, np.eye(2), w), {}),
        "stationarity_residual": ((model, np.eye(2), w), {}),
        "best_risk_with_shape": ((model, np.eye(2)), {}),
        "shape_error": ((np.eye(2), np.diag([1.0, 2.0])), {}),
        "preconditioner_erratum": ((model,), {}),
        "scalar_gating_counterexample": ((next(iter(wt.SCALAR_GATING_COUNTEREXAMPLES)),), {}),
        "scalar_gating_claim": ((multitask,), {}),
        "three_fixed_point_instance": ((), {}),
        "three_fixed_point_multitask_instance": ((), {}),
        "solve_batched": ((np.stack([np.diag([1.0, 2.0])] * 2), [[1, .5], [.5, 1]], [.9, .3],
                           [0.1, 0.2]), {"grid_size": 129}),
        "solve_batched_models": (([model, model],), {"grid_size": 129}),
        "solve_spectra_batched": (([[1.0, 2.0]], [0.1], [[0.5, 1.5]], [[0.5, 0.7]]),
                                  {"grid_size": 129}),
        "map_chunks": ((_block_length, 5), {"seed": 0, "block_size": 2}),
        "seed_blocks": ((5,), {"seed": 0, "block_size": 2}),
        "refine_eigh": ((np.diag([1.0, 2.0]),), {}),
        "run_phase_diagram": (([10], [3]), {"shapes": ("log_uniform",), "instances": 4,
                                            "block_size": 2}),
        "open_executor": (("none",), {}),
        "clopper_pearson": ((1, 10), {}),
        "wilson_interval": ((1, 10), {}),
        "train": ((multitask, "scalar"), {"steps": 2, "batch_size": 4, "test_prompts": 16}),
        "task_scale": ((multitask,), {}),
        "train_seeds": ((multitask, "scalar"), {"seeds": (0, 1), "steps": 2, "batch_size": 4,
                                                "test_prompts": 16}),
        "gla_last_output": ((q, k, v, 0.5), {}),
        "trap_experiment": ((model,), {"inits": 2, "steps": 2, "batch_size": 4,
                                       "test_prompts": 16}),
        "population_descent": ((model, [0]), {"steps": 2}),
        "match_stationary_points": (([[1.0, 0.5]], [[1.0, 0.0], [0.6, 0.8]]), {}),
        "figure1_experiment": (([4],), {"settings": ((0.2, 0.8),), "seeds": (0,), "d": 2,
                                        "classes": ("gla",), "steps": 2, "batch_size": 4,
                                        "test_prompts": 16}),
        "bayes_risk": ((multitask,), {"draws": 8, "seed": 0}),
        "multitask_bayes_risk": ((multitask,), {"draws": 8, "seed": 0}),
        "dense_bayes_risk": ((model,), {"draws": 8, "seed": 0}),
        "bayes_risk_limit": ((multitask,), {}),
        "conditional_bayes_risks": ((model, RNG.standard_normal((2, N, D))), {}),
        "dense_bayes_predict": ((model, X, y, x), {}),
        "bayes_predict": ((multitask, prompts.context_inputs, prompts.context_labels,
                           prompts.query_input), {}),
    }
    return calls


def _block_length(block):
    """A picklable map_chunks function: the number of items in a seed block."""
    return block.stop - block.start


#: Public names that are result/record types, constants or plotting (not validated inputs).
NOT_VALIDATED = {
    "Prompts", "MonteCarloEstimate", "WPGDSolution", "FixedPoint", "FixedPointSearch",
    "SpectralGapTest", "Theorem1Residual", "GATE_FAMILIES", "GateFamily", "MultiLayerWPGD",
    "MultitaskSolution", "BlockSpectra", "GatingOptimum", "DecayOptimum", "MonotoneFace",
    "VectorGatingOptimum",
    "DelimiterGate", "GLAConstruction", "TheoryCurves", "FixedPointCertificate",
    "StationaryPoint", "OptimisationOutcomes", "SearchResult",
    "plot_curves",   # tested in tests/test_cli.py and tests/test_curves.py (needs matplotlib)
    "curves_figure",  # tested in tests/test_figures.py (needs matplotlib)
    "Uniqueness", "SpectralEnclosure", "PreconditionerErratum", "ScalarGatingClaim",
    "SCALAR_GATING_COUNTEREXAMPLES",
    "BatchedFixedPoints", "BatchedWPGDSolution", "ChunkPlan", "PhaseDiagram", "SeedBlock",
    "sweep_main",    # the CLI's dict-of-options entry point: tests/test_cli.py (sweep verb)
    "all_statements",  # takes no arguments: tests/test_symbolic_statements.py
    "TrainResult", "TheoryOptimum", "TrapOutcome",
    "BayesRisk",
    # JSON-config and plotting entry points of training: tests/test_training.py, tests/test_cli.py
    "run_train_config", "overlay_figure",
    "read_curves_csv",  # a file reader: tests/test_cli_outputs.py, tests/test_curves.py
    "GatingExplanation", "GatingVerdict",
    "evaluate",      # takes a trained Architecture and its parameters: tests/test_training.py
    "PairedEvaluation",   # evaluate()'s result record
    "GLAReading", "FLAGLAArrays",
    "load_fla_state_dict",   # needs PyTorch: tests/test_checkpoint.py (skipped without it)
    "SAAOptimum", "MultiLayerArchitecture",
    "saa_optimum",   # an L-BFGS fit on sampled prompts (seconds): tests/test_training_depth.py
}

VALID = _valid_calls()


def _nan_like(value):
    if isinstance(value, (bool, np.bool_)) or hasattr(value, "_fields") or not isinstance(
            value, (int, float, list, tuple, np.ndarray, np.number)):
        return None
    try:
        array = np.asarray(value)
    except ValueError:
        return None
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        return None
    return np.full(array.shape, np.nan) if array.ndim else math.nan


def _inf_like(value):
    nan = _nan_like(value)
    return None if nan is None else (np.full(np.shape(nan), np.inf) if np.ndim(nan) else math.inf)


def _wrong_shape(value):
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.dtype != object:
        return np.ones(value.shape + (7,))
    if isinstance(value, list) and value and not isinstance(value[0], (str, bytes)):
        return np.ones(np.shape(value) + (7,)) if _nan_like(value) is not None else None
    return None


#: Bad-value makers: valid value → bad value, or None when the kind does not apply.
BAD_KINDS = {
    "none": lambda value: _Sentinel.NONE,
    "string": lambda value: "0.1",
    "nan": _nan_like,
    "inf": _inf_like,
    "wrong shape": _wrong_shape,
}


class _Sentinel:
    NONE = object()


#: (function, argument, kind) where the value is a documented valid input.
ACCEPTED = {
    ("monte_carlo_risk", "seed", "none"), ("optimisation_outcomes", "seed", "none"),
    ("adversarial_search", "seed", "none"), ("random_search", "seed", "none"),
    ("from_fla", "state", "none"), ("gla_forward", "gates", "none"),
    ("multilayer_gla", "gates", "none"), ("multilayer_wpgd", "gates", "none"),
    ("multistep_wpgd", "sample_weights", "none"), ("as_delimiter_features", "delimiter_features",
                                                   "none"),
    ("multitask_prompt_tokens", "delimiter_features", "none"),
    ("scalar_gla_construction", "delimiter_features", "none"),
    ("vector_gla_construction", "delimiter_features", "none"),
    ("keywise_gla_construction", "delimiter_features", "none"),
    ("delimiter_gate_values", "scale", "none"), ("to_fla", "scale", "none"),
    ("solve_optimal_wpgd", "precision", "none"), ("solve_model", "precision", "none"),
    ("optimisation_outcomes", "stationary", "none"),
    ("write_curves_csv", "file", "string"),          # "0.1" is a valid file name
    # Gates of broadcastable shape: an extra axis of 7 may still broadcast or be a batch axis.
    ("gla_recurrence", "gates", "wrong shape"), ("gla_parallel", "gates", "wrong shape"),
    ("gated_attention_matrix", "gates", "wrong shape"), ("cumulative_gates", "gates", "wrong shape"),
    # Valid batch axes: leading axes broadcast in the predictors.
    ("keywise_induced_weights", "gates", "wrong shape"),   # (..., n + 1, d_k): a batch of prompts
}

def _cases():
    for name, (args, kwargs) in VALID.items():
        function = getattr(wt, name)
        parameters = list(inspect.signature(function).parameters.values())
        bound = inspect.signature(function).bind(*args, **kwargs).arguments
        for parameter in parameters:
            if parameter.name not in bound:
                continue
            for kind, make in BAD_KINDS.items():
                if (name, parameter.name, kind) in ACCEPTED:
                    continue
                if make(bound[parameter.name]) is None:
                    continue
                yield pytest.param(name, parameter.name, kind,
                                   id=f"{name}-{parameter.name}-{kind}")


def test_every_public_callable_is_in_the_table():
    assert set(wt.__all__) - NOT_VALIDATED == set(VALID)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_call_runs(name):
    args, kwargs = VALID[name]
    getattr(wt, name)(*args, **kwargs)


@pytest.mark.parametrize("name, argument, kind", list(_cases()))
def test_bad_argument_raises_naming_it(name, argument, kind):
    function = getattr(wt, name)
    args, kwargs = VALID[name]
    bound = inspect.signature(function).bind(*args, **kwargs)
    bad = BAD_KINDS[kind](bound.arguments[argument])
    bound.arguments[argument] = None if bad is _Sentinel.NONE else bad
    with np.errstate(all="ignore"), pytest.raises((ValueError, TypeError)) as info:
        function(*bound.args, **bound.kwargs)
    assert argument in str(info.value), f"{type(info.value).__name__}: {info.value}"


# --------------------------------------------------------------------------- size guards

@pytest.mark.parametrize("call, pattern", [
    (lambda: wt.theory_curves([2], 0.3, 0.9, d=10**5, sigma2=0.1), r"d must be <= 2048"),
    (lambda: wt.theory_curves(np.full(10**5, 2), 0.3, 0.9, d=2, sigma2=0.1),
     r"n_values must have at most 10000"),
    (lambda: wt.solve_multitask(_multitask(), grid_size=10**9), r"grid_size must be <= 1000000"),
    (lambda: wt.decay_gating_optimum(_multitask(), grid_size=10**9),
     r"grid_size must be <= 1000000"),
    (lambda: wt.stationary_points(_instance(), grid_size=10**9), r"grid_size must be <= 1000000"),
    (lambda: wt.random_search(10**9, 2), r"n must be <= 10000000"),
    (lambda: wt.random_search(4, 2, trials=10**9), r"trials must be <= 1000000"),
    (lambda: wt.adversarial_search(4, 10**9), r"d must be <= 10000000"),
    (lambda: wt.optimisation_outcomes(_instance(), starts=10**9), r"starts must be <= 1000000"),
    (lambda: wt.two_cluster_instance(10**9, 3, s_large=2.0, s_small=0.5, k_large=1, sigma2=0.1,
                                     lam_small=0.5, lam_large=5.0, mass_large=0.5),
     r"n must be <= 10000000"),
])
def test_size_guards_refuse_before_allocating_with_the_limit(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_brute_force_boundary():
    from wpgd_theory.verify.brute_force import minimize_risk_jointly
    with pytest.raises(TypeError, match="model must be a CorrelatedTaskModel"):
        minimize_risk_jointly(_multitask())
    with pytest.raises(ValueError, match="starts must be >= 1"):
        minimize_risk_jointly(_model(), starts=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        minimize_risk_jointly(_model(), seed="0")
    big = wt.CorrelatedTaskModel(np.eye(400), np.eye(2), [0.5, 0.5], 0.1)
    with pytest.raises(ValueError, match="more than the limit 100000"):
        minimize_risk_jointly(big)


def test_fla_scale_zero_names_d_k():
    with pytest.raises(ValueError, match="d_k must be >= 1, got 0"):
        wt.fla_scale(0)
    assert wt.fla_scale(np.int64(16)) == 0.25


def test_valid_multitask_model_is_not_rejected_by_scalar_gating_when_isotropic():
    # K = 20 > MAX_FACE_ENUMERATION_K: Σ = sI uses the exact isotropic projection instead.
    K = 20
    c = np.linspace(0.05, 0.2, K)
    model = wt.MultitaskModel(np.eye(K), c, np.full(K, 3), 2.0 * np.eye(2), 0.1)
    best = wt.scalar_gating_optimum(model)
    assert best.risk == pytest.approx(wt.isotropic_projection_optimum(model).risk, rel=1e-12)
    # wpgd_risk ≤ risk up to round-off (1e-12 relative): here ω* is monotone, so they are equal
    # in exact arithmetic and computed by different routes.
    assert best.wpgd_risk <= best.risk * (1 + 1e-12)
    assert best.risk <= wt.linear_attention_optimum(model).risk
    anisotropic = wt.MultitaskModel(np.eye(K), c, np.full(K, 3), np.diag([1.0, 2.0]), 0.1)
    with pytest.raises(ValueError, match="model has K = 20 blocks.*limit K <= "
                                         "MAX_FACE_ENUMERATION_K = 16"):
        wt.scalar_gating_optimum(anisotropic)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: wt.enclose_spectra(np.diag([1.0, -1.0]), 0.1, np.eye(2), [.5, .5]), ValueError,
     r"Sigma is not positive semidefinite"),
    (lambda: wt.enclose_spectra(np.eye(2), 0.1, [[1, .5], [.4, 1]], [.5, .5]), ValueError,
     r"R is not symmetric"),
    (lambda: wt.enclose_spectra(np.eye(2), 0.1, np.eye(2), [.5, .5, .5]), ValueError,
     r"r must have shape \(2,\)"),
    (lambda: wt.enclose_spectra(np.eye(2), -0.1, np.eye(2), [.5, .5]), ValueError,
     r"sigma2 must be >= 0"),
    (lambda: wt.enclose_spectra(np.eye(2), 0.1, np.eye(2), [.5, .5], sizes=[3]), ValueError,
     r"sizes must have shape \(2,\)"),
    (lambda: wt.enclose_spectra(np.eye(2), 0.1, np.eye(2), [.5, .5], sizes=[3, 0]), ValueError,
     r"sizes must be positive"),
    (lambda: wt.enclose_spectra(np.eye(2), 0.1, np.eye(2), [.5, .5], rigorous="yes"), TypeError,
     r"rigorous must be None, True or False"),
    (lambda: wt.preconditioner_shapes(_model(), -1.0), ValueError, r"gamma must be >= 0"),
    (lambda: wt.shape_error(np.eye(2), np.zeros((2, 2))), ValueError, r"B must be nonzero"),
    (lambda: wt.shape_error(np.eye(2), np.eye(3)), ValueError, r"A and B must be .* one shape"),
    (lambda: wt.spectral_uniqueness(_model(), fixed_points=-1), ValueError,
     r"fixed_points must be >= 0"),
    (lambda: wt.certify_uniqueness(_model(), rigorous=1), TypeError, r"rigorous must be"),
])
def test_verify_entry_conditions_name_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_shape_error_of_zero_fit_is_one():
    assert wt.shape_error(np.zeros((2, 2)), np.eye(2)) == 1.0


# --------------------------------------------------------------------------- compact reprs

def _large_results():
    """One instance of every public result class outside core (and of core's batched and
    sweep records), built on large inputs."""
    from wpgd_theory.verify.brute_force import minimize_risk_jointly
    d, K = 300, 12
    rng = np.random.default_rng(0)
    multitask = wt.MultitaskModel(np.eye(K), np.full(K, 0.2), np.full(K, 10**6), np.eye(d), 0.1)
    x, X, y = rng.standard_normal(40), rng.standard_normal((60, 40)), rng.standard_normal(60)
    instance = wt.SpectralInstance(np.linspace(1, 2, d), 0.1, np.ones(40), np.full(40, 0.1))
    weights = np.linspace(0.1, 1.0, K)
    small = wt.CorrelatedTaskModel(np.eye(3), np.eye(40), np.full(40, 0.1), 0.1)
    wishart = rng.standard_normal((60, 60))
    spectra = (rng.uniform(0.1, 2.0, (200, d)), rng.uniform(0.01, 1.0, 200),
               np.full((200, 40), 1.0), np.full((200, 40), 0.1))
    sigma_stack = np.broadcast_to(np.diag(np.linspace(1, 2, 40)), (30, 40, 40))
    explanation = wt.explain_gating(wt.MultitaskModel(np.eye(3), [0.6, 0.1, 0.5], [10**6] * 3,
                                                      np.eye(d), 0.1))
    return {
        "BatchedFixedPoints": wt.solve_spectra_batched(*spectra),
        "BatchedWPGDSolution": wt.solve_batched(sigma_stack, np.eye(50), np.full(50, 0.1),
                                                np.linspace(0.1, 1.0, 30)),
        "PhaseDiagram": wt.run_phase_diagram(list(range(3, 40)), [2, 3], ("log_uniform",),
                                             instances=2, block_size=2),
        "SeedBlock": wt.seed_blocks(10**6, seed=2**100, block_size=10)[-1],
        "ChunkPlan": wt.ChunkPlan(10**9, 10**3, 10**6, 10**4),
        "MultitaskSolution": wt.solve_multitask(multitask),
        "GatingExplanation": explanation,
        "GatingVerdict": explanation.verdicts[1],
        "BlockSpectra": multitask.spectra,
        "GatingOptimum": wt.scalar_gating_optimum(wt.MultitaskModel(
            np.eye(3), [.6, .1, .5], np.full(3, 10**6), np.eye(d), 0.1)),
        "VectorGatingOptimum": wt.vector_gating_optimum(multitask),
        "DecayOptimum": wt.decay_gating_optimum(multitask, grid_size=20),
        "GLAReading": _large_gla_reading(),
        "FLAGLAArrays": wt.fla_gla_arrays({
            "q_proj.weight": np.ones((64, 41)), "k_proj.weight": np.ones((64, 41)),
            "v_proj.weight": np.ones((64, 41)), "o_proj.weight": np.ones((41, 64)),
            "gk_proj.0.weight": np.ones((16, 41)), "gk_proj.1.weight": np.ones((64, 16)),
            "gk_proj.1.bias": np.zeros(64)}),
        "GLAConstruction": wt.scalar_gla_construction(multitask, weights),
        "DelimiterGate": wt.scalar_gla_construction(multitask, weights).gates,
        "TheoryCurves": wt.theory_curves(np.arange(2, 30, 2), 0.3, 0.9, d=2, sigma2=0.1),
        "Theorem1Residual": wt.theorem1_residual(x, X, y, np.eye(40), np.eye(40),
                                                 rng.uniform(size=(61, 41, 41))),
        "MultiLayerWPGD": wt.multilayer_wpgd(x[:5], X[:30, :5], y[:30],
                                             np.stack([np.eye(5)] * 3), np.stack([np.eye(5)] * 3)),
        "SpectralInstance": instance,
        "StationaryPoint": wt.stationary_points(instance, grid_size=65)[0],
        "OptimisationOutcomes": wt.optimisation_outcomes(
            wt.SpectralInstance([1.0, 2.0], 0.1, np.ones(10), np.full(10, 0.2)), starts=2),
        "SearchResult": wt.adversarial_search(200, 50, maxiter=1, popsize=1),
        "BruteForceResult": minimize_risk_jointly(small, starts=1, maxiter=5),
        "SpectralEnclosure": wt.enclose_spectra(wishart @ wishart.T / 60, 0.1,
                                                0.5 * np.eye(50) + 0.5, np.full(50, 0.1)),
        "PreconditionerErratum": wt.preconditioner_erratum(small),
        "ScalarGatingClaim": wt.scalar_gating_claim(wt.MultitaskModel(
            np.eye(3), [.6, .1, .5], np.full(3, 10**6), np.eye(2), 0.1)),
        **_large_training_results(),
    }


def _large_gla_reading():
    """A GLAReading with d = 40, n = 60 (its P, ω and per-example stack far too big to print)."""
    model = wt.CorrelatedTaskModel(np.eye(40), np.eye(60), np.full(60, 0.1), 0.1)
    W_q, W_k, W_v = wt.theorem1_projections(np.eye(40), np.eye(40))
    return wt.read_gla(W_q, W_k, W_v, np.ones((61, 41)), model)


def _large_training_results():
    """TrainResult and TheoryOptimum with d = 64 and n = 200 (P and ω far too big to print), and
    a TrapOutcome on the n = 200, d = 50 instance (its runs' results and stationary points)."""
    pytest.importorskip("jax")
    model = wt.MultitaskModel(np.eye(2), [0.3, 0.9], [100, 100], np.eye(64), 0.1)
    result = wt.train(model, "scalar", steps=2, batch_size=2, test_prompts=16)
    trap = wt.trap_experiment(wt.three_fixed_point_instance().to_model(seed=0), inits=2, steps=2,
                              batch_size=2, test_prompts=16, quench_steps=2)
    return {"TrainResult": result, "TheoryOptimum": result.optimum, "TrapOutcome": trap}


#: Result classes outside core with their own short repr (small records) or owned elsewhere.
REPR_EXEMPT = {"GateFamily", "MonotoneFace", "FixedPointCertificate",
               "PairedEvaluation",   # six scalars whatever the input size
               # scalars and shapes only, whatever the size (their own __repr__, doctested)
               "SAAOptimum", "MultiLayerArchitecture"}


def test_result_reprs_are_compact_for_large_inputs():
    results = _large_results()
    outside_core = {name for name in NOT_VALIDATED if inspect.isclass(getattr(wt, name, None))
                    and not wt._SOURCE[name].startswith("core.")}
    assert outside_core - REPR_EXEMPT <= set(results)
    for name, result in results.items():
        text = repr(result)
        assert len(text) < 700 and "\n" not in text, (name, len(text), text[:200])
        assert text.startswith(type(result).__name__ + "("), name
    # Key scalars stay readable: the risk is printed in full.
    solution = results["MultitaskSolution"]
    assert f"risk={solution.risk!r}" in repr(solution)
    assert "preconditioner=<array (300, 300) float64>" in repr(solution)
