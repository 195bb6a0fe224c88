"""Training subsystem: JAX sampler, array-generic GLA formulas, trained models against the theory.

Small seeded instances (d = 4, n = 8); tolerances are stated at each assertion.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
pytest.importorskip("optax")
import jax.numpy as jnp

from wpgd_theory import (
    GATE_FAMILIES,
    CorrelatedTaskModel,
    MultitaskModel,
    gla_forward,
    gla_recurrence,
    induced_weights,
    multitask_prompt_tokens,
    paper_setting_model,
    scalar_gla_construction,
    theorem1_prompt,
    wpgd_predict,
)
from wpgd_theory.gla.forward import gla_last_output
from wpgd_theory.training import (
    Architecture,
    PromptSampler,
    prompt_tokens,
    run_train_config,
    train,
    train_seeds,
)

# ---------------------------------------------------------------------- the sampler


def _features(prompts):
    """Per-prompt statistics whose means identify the second and fourth moments we rely on."""
    X = np.asarray(prompts.context_inputs, float)
    y = np.asarray(prompts.context_labels, float)
    x = np.asarray(prompts.query_input, float)
    yq = np.asarray(prompts.query_label, float)
    Xa = np.concatenate([X, x[:, None]], axis=1)
    ya = np.concatenate([y, yq[:, None]], axis=1)
    gram = np.einsum("bid,bjd->bij", Xa * ya[..., None], Xa * ya[..., None])   # y_i y_j x_i·x_j
    i, j = np.triu_indices(ya.shape[1])
    return np.concatenate([gram[:, i, j], ya**2, Xa[..., 0] * Xa[..., 1], Xa[..., 0] ** 2],
                          axis=1)


def test_jax_sampler_matches_numpy_sampler_moments():
    model = MultitaskModel([[1, 0.5], [0.5, 1]], [0.3, 0.7], [2, 3], np.diag([1.0, 2.0, 0.5]),
                           0.2)
    N = 40_000
    ours = _features(PromptSampler(model).sample(jax.random.PRNGKey(0), N))
    reference = _features(model.sample(N, seed=1))
    se = np.sqrt(ours.var(0) / N + reference.var(0) / N)
    z = np.abs(ours.mean(0) - reference.mean(0)) / se
    assert z.max() < 5.0            # ~40 two-sample z-scores; 5σ is a false alarm of ~1e-5
    # independent route: E[y_i y_j x_iᵀx_j] = R_ij tr(Σ²) for i ≠ j (R = U C Uᵀ)
    dense = model.to_correlated_task_model()
    R = dense.joint_correlation
    i, j = np.triu_indices(model.n + 1)
    off = i != j
    exact = R[i, j][off] * np.trace(model.Sigma @ model.Sigma)
    z_exact = np.abs(ours.mean(0)[: i.size][off] - exact) / np.sqrt(ours.var(0)[: i.size][off] / N)
    assert z_exact.max() < 5.0


def test_sampler_rejects_other_models():
    with pytest.raises(TypeError, match="model"):
        PromptSampler("not a model")


def test_prompt_tokens_match_the_package_layouts():
    model = MultitaskModel(np.eye(3), [0.2, 0.5, 0.8], [2, 1, 3], np.eye(2), 0.1)
    prompts = model.sample(3, seed=0)
    Z = np.asarray(prompt_tokens(prompts, model.sizes))
    # float32 tokens (the training dtype) against the float64 layout
    np.testing.assert_allclose(Z, multitask_prompt_tokens(prompts, model.sizes), rtol=1e-6,
                               atol=1e-7)
    bare = np.asarray(prompt_tokens(prompts, delimiters=False))
    np.testing.assert_allclose(bare, theorem1_prompt(prompts.query_input,
                                                    prompts.context_inputs,
                                                    prompts.context_labels), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------- array-generic formulas


def test_generic_formulas_agree_between_numpy_and_jax():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2, 5, 3))
    W_q, W_k, W_v = rng.normal(size=(3, 3, 3))
    gates = rng.uniform(size=(2, 5, 1, 3))
    # float32 JAX against float64 NumPy: agreement to float32 round-off
    jZ, jg = jnp.asarray(Z), jnp.asarray(gates)
    out = gla_forward(jZ, jnp.asarray(W_q), jnp.asarray(W_k), jnp.asarray(W_v), jg)
    np.testing.assert_allclose(np.asarray(out), gla_forward(Z, W_q, W_k, W_v, gates),
                               rtol=2e-5, atol=2e-6)
    q, k, v = Z @ W_q, Z @ W_k, Z @ W_v
    last = gla_last_output(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v), jg)
    np.testing.assert_allclose(np.asarray(last), gla_recurrence(q, k, v, gates)[..., -1, :],
                               rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(np.asarray(induced_weights(jg, 2)), induced_weights(gates, 2),
                               rtol=2e-5, atol=2e-6)
    for name in ("mlstm", "mamba2", "gla", "rwkv6", "dfw"):
        family = GATE_FAMILIES[name]
        params = family.random_parameters(np.random.default_rng(1), 3, 3, 3)
        jax_params = {key: jnp.asarray(value) if isinstance(value, np.ndarray) else value
                      for key, value in params.items()}
        np.testing.assert_allclose(np.asarray(family.function(jZ, **jax_params)),
                                   family(Z, **params), rtol=2e-5, atol=2e-6, err_msg=name)
    x, X, y = rng.normal(size=3), rng.normal(size=(4, 3)), rng.normal(size=4)
    P, w = rng.normal(size=(3, 3)), rng.normal(size=4)
    np.testing.assert_allclose(
        float(wpgd_predict(*(jnp.asarray(a) for a in (x, X, y, P, w)))),
        wpgd_predict(x, X, y, P, w), rtol=2e-5, atol=2e-6)
    # NumPy: the O(T) last output equals the recurrence
    np.testing.assert_allclose(gla_last_output(q, k, v, gates),
                               gla_recurrence(q, k, v, gates)[..., -1, :], rtol=1e-12)


def test_constrained_model_is_the_theorem4_construction():
    """With the parameters of scalar_gla_construction, the trained model's prediction is it."""
    model = MultitaskModel(np.eye(2), [0.3, 0.8], [2, 3], np.eye(2), 0.1)
    construction = scalar_gla_construction(model, [0.4, 1.0])
    arch = Architecture.build(model, "scalar")
    gates = np.clip(construction.delimiter_gates, 1e-12, 1 - 1e-12)
    params = {"W_q": jnp.asarray(construction.W_q[:2, :2]), "W_k": jnp.asarray(np.eye(2)),
              "gate": jnp.asarray(np.log(gates / (1 - gates)))}
    prompts = model.sample(5, seed=0)
    ours = np.asarray(arch.predict(params, prompts))
    expected = construction.predict(multitask_prompt_tokens(prompts, model.sizes))
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)     # float32


# ---------------------------------------------------------------------- validation


MODEL = paper_setting_model(8, 0.2, 0.8, 4, 0.1)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"gating": "sigmoid"}, ValueError, "gating"),
    ({"gating": 3}, TypeError, "gating"),
    ({"steps": 0}, ValueError, "steps"),
    ({"steps": 2.5}, TypeError, "steps"),
    ({"batch_size": -1}, ValueError, "batch_size"),
    ({"learning_rate": 0.0}, ValueError, "learning_rate"),
    ({"learning_rate": float("nan")}, ValueError, "learning_rate"),
    ({"parameterisation": "free"}, ValueError, "parameterisation"),
    ({"seed": -1}, ValueError, "seed"),
    ({"test_prompts": 1}, ValueError, "test_prompts"),
])
def test_bad_arguments_name_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        train(MODEL, **{"gating": "scalar", **kwargs})


def test_wrong_model_type():
    with pytest.raises(TypeError, match="model"):
        train(np.eye(2), "scalar")
    dense = CorrelatedTaskModel(np.eye(2), np.eye(3), [0.5, 0.5, 0.5], 0.1)
    with pytest.raises(TypeError, match="MultitaskModel"):
        train(dense, "scalar")


def test_divergence_raises_instead_of_reporting_nan():
    with pytest.raises(FloatingPointError, match="diverged|not finite"):
        train(MODEL, "linear", steps=60, batch_size=32, learning_rate=1e12, test_prompts=64)


def test_deterministic_and_vmap_matches_single_seeds():
    kwargs = dict(steps=40, batch_size=32, learning_rate=0.02, test_prompts=512)
    first, again = train(MODEL, "scalar", seed=3, **kwargs), train(MODEL, "scalar", seed=3,
                                                                    **kwargs)
    np.testing.assert_array_equal(first.loss_history, again.loss_history)
    assert first.test_risk == again.test_risk
    batched = train_seeds(MODEL, "scalar", seeds=[5, 3], **kwargs)
    assert [r.seed for r in batched] == [5, 3]
    np.testing.assert_allclose(batched[1].loss_history, first.loss_history, rtol=1e-4)
    np.testing.assert_allclose(batched[1].test_risk, first.test_risk, rtol=1e-4)
    # shared prompts: every seed trains on seeds[0]'s stream, so seeds[0]'s run is train(seed)
    shared = train_seeds(MODEL, "scalar", seeds=[3, 5], share_prompts=True, **kwargs)
    np.testing.assert_allclose(shared[0].loss_history, first.loss_history, rtol=1e-4)
    assert not np.allclose(shared[1].loss_history, batched[0].loss_history, rtol=1e-3)


# ---------------------------------------------------------------------- against the theory


@pytest.fixture(scope="module")
def trained():
    """Constrained models on d = 4 paper settings (n = 8 and 16): the acceptance runs."""
    runs = {}
    for n, gatings in ((8, ("linear", "scalar", "vector", "decay")), (16, ("scalar",))):
        model = paper_setting_model(n, 0.2, 0.8, 4, 0.1)
        for gating in gatings:
            runs[n, gating] = train(model, gating, steps=800, batch_size=256,
                                    learning_rate=0.02, seed=0, test_prompts=65_536)
    # (r1, r2) = (0.8, 0.2): ω* puts 4× more weight on the first block — not monotone, only
    # vector gating reaches it (with copies that start alike it trained to the scalar optimum)
    runs[8, "vector", "non-monotone"] = train(
        paper_setting_model(8, 0.8, 0.2, 4, 0.1), "vector", steps=800, batch_size=256,
        learning_rate=0.02, seed=0, test_prompts=65_536)
    return runs


def test_trained_risk_reaches_the_class_optimum(trained):
    for key, result in trained.items():
        # acceptance: within max(3 %, 3 SE) of the optimum of the model's class
        assert result.within(0.03, 3.0), (key, result)
        # no trained model beats its class optimum by more than its error bar (3 SE) ...
        assert result.test_risk >= result.optimum.risk - 3 * result.test_risk_se, (key, result)
        # on common prompts (the optimum's own predictor on the same test set) the error bar is
        # ~10× smaller: the trained model is within 3 % and does not beat the optimum by 3 SE
        assert result.within_paired(0.03, 3.0), (key, result)
        assert result.paired_gap >= -3 * result.paired_gap_se, (key, result)
        # ... and, where the learned predictor is WPGD, its exact risk cannot beat it at all
        if result.closed_form_risk is not None:
            assert result.closed_form_risk >= result.optimum.risk * (1 - 1e-9), (key, result)
            assert result.closed_form_risk <= result.optimum.risk * 1.03, (key, result)


def test_the_paired_reference_is_the_optimum_on_the_test_prompts(trained):
    # independent routes to L*: the optimum's predictor on Monte Carlo prompts vs closed form
    for key, result in trained.items():
        assert abs(result.optimum_test_risk - result.optimum.risk) <= (
            4 * result.optimum_test_risk_se), (key, result)
        assert result.paired_gap_se < result.test_risk_se / 3, (key, result)
        difference = result.test_risk - result.optimum_test_risk     # same prompts, same mean
        assert abs(difference - result.paired_gap) <= 1e-4 * result.test_risk, (key, result)


def test_learned_block_weights_match_the_theory(trained):
    for key in ((8, "scalar"), (16, "scalar"), (8, "vector"), (8, "vector", "non-monotone")):
        result = trained[key]
        ratio = result.block_weights[0] / result.block_weights[1]
        theory = result.theory_block_weights[0] / result.theory_block_weights[1]
        assert abs(ratio - theory) <= 0.10 * theory, (key, ratio, theory)      # within 10 %
    assert trained[8, "scalar"].weights_error < 0.05
    assert trained[8, "decay"].weights_error < 0.1


def test_free_wpgd_on_a_correlated_task_model():
    model = CorrelatedTaskModel(np.eye(3), [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]],
                                [0.6, 0.2, 0.5], 0.1)
    result = train(model, parameterisation="wpgd", steps=600, batch_size=256,
                   learning_rate=0.02, test_prompts=32_768)
    assert result.within(0.03, 3.0), result
    assert result.closed_form_risk >= result.optimum.risk * (1 - 1e-9)
    assert result.weights_error < 0.1, result


# ---------------------------------------------------------------------- config, optional extra


def test_run_train_config_is_json_ready():
    out = run_train_config({"model": {"kind": "paper", "n": 4, "r1": 0.2, "r2": 0.8, "d": 2,
                                      "sigma2": 0.1},
                            "gating": "vector", "steps": 20, "batch_size": 16,
                            "test_prompts": 256, "seeds": [0, 1]})
    text = json.dumps(out)
    assert len(out["runs"]) == 2 and "test_risk" in text
    with pytest.raises(ValueError, match="unknown config keys"):
        run_train_config({"model": {}, "lr": 1})


def test_training_without_jax_names_the_extra():
    code = ("import sys; sys.modules['jax'] = None; import wpgd_theory; "
            "wpgd_theory.solve_optimal_wpgd\n"
            "try:\n    import wpgd_theory.training\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).parents[1]), timeout=120)
    assert "wpgd-theory[train]" in out.stdout, out.stderr


def test_overlay_figure_and_csv_round_trip(tmp_path):
    pytest.importorskip("matplotlib")
    from wpgd_theory.training import overlay_figure, read_rows_csv, write_rows_csv
    rows = [{"r1": 0.2, "r2": 0.8, "n": n, "d": 2, "sigma2": 0.1, "curve": curve,
             "gating": curve, "parameterisation": "constrained", "seed": seed, "steps": 1,
             "batch_size": 1, "learning_rate": 0.01, "test_risk": 1.5 + 0.01 * seed,
             "test_risk_se": 0.01, "optimum_risk": 1.5, "closed_form_risk": None,
             "relative_gap": 0.0, "block_weight_ratio": None, "theory_block_weight_ratio": None,
             "seconds": 1.0}
            for n in (4, 8) for curve in ("linatt", "gla") for seed in (0, 1)]
    write_rows_csv(rows, tmp_path / "rows.csv")
    back = read_rows_csv(tmp_path / "rows.csv")
    assert len(back) == len(rows) and back[0]["closed_form_risk"] is None
    assert back[-1]["test_risk"] == pytest.approx(1.51)
    overlay_figure(back, tmp_path / "overlay.png", n_grid=np.array([4, 6, 8]))
    assert (tmp_path / "overlay.png").stat().st_size > 1000


def test_figure1_experiment_is_the_same_on_a_process_pool():
    # Every run is seeded by `seeds` alone, so the executor only changes where it runs.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from wpgd_theory.training import figure1_experiment
    options = dict(n_values=[4, 8], settings=[(0.2, 0.8)], seeds=[0, 1], d=2, sigma2=0.1,
                   classes=("linatt", "gla"), steps=20, batch_size=8, test_prompts=256)
    here = figure1_experiment(**options)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        there = figure1_experiment(**options, executor=pool)
    def drop_timing(rows):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]
    assert len(here) == 2 * 2 * 2 and drop_timing(there) == drop_timing(here)


def test_trained_models_against_the_bayes_floor(trained):
    from wpgd_theory import bayes_risk
    for key, result in trained.items():
        model = paper_setting_model(key[0], *((0.8, 0.2) if "non-monotone" in key
                                              else (0.2, 0.8)), 4, 0.1)
        exact = bayes_risk(model, draws=4000, seed=0)
        # Independent routes to the Bayes risk: the JAX posterior mean on the test prompts
        # (float32) against the Wishart route (float64): within 4 combined SEs.
        assert abs(result.bayes_test_risk - exact.risk) <= 4 * np.hypot(
            result.bayes_test_risk_se, exact.standard_error), (key, result.bayes_test_risk)
        # Nothing beats Bayes on common prompts (beyond 3 SE); the gap is the risk difference.
        assert result.bayes_paired_gap >= -3 * result.bayes_paired_gap_se, key
        difference = result.test_risk - result.bayes_test_risk
        assert abs(difference - result.bayes_paired_gap) <= 1e-4 * result.test_risk, key
        # WPGD (every class here) stays well above the floor at d = 4, n ≤ 16.
        assert result.bayes_paired_gap > 10 * result.bayes_paired_gap_se, key


def test_bayes_predictions_are_shared_by_equal_models_only():
    # Evaluation keeps the Bayes predictions on the test prompts per model *value*: separately
    # built equal models share them (every run in a process is scored on the same prompts), a
    # model differing in sigma2 alone does not, and the kept values are the Bayes predictor's
    # on prompts sampled afresh from the same key.
    from wpgd_theory.training import evaluation
    from wpgd_theory.training.bayes import bayes_predictor
    first, same = (paper_setting_model(8, 0.2, 0.8, 3, 0.1) for _ in range(2))
    other = paper_setting_model(8, 0.2, 0.8, 3, 0.2)
    evaluation._bayes_tables.clear()
    table = evaluation._bayes_table(first, 256, 7)
    assert evaluation._bayes_table(same, 256, 7) is table
    assert evaluation._bayes_table(other, 256, 7) is not table
    assert evaluation._bayes_table(first, 128, 7) is not table      # other prompts
    prompts = PromptSampler(first).sample(evaluation._test_key(7, 1), 256)
    # jit against eager float32 evaluation of the same formula: agreement to float32 round-off
    np.testing.assert_allclose(table(1), bayes_predictor(first)(prompts), rtol=1e-5, atol=1e-5)
    assert table(1) is table(1)
    beyond = evaluation._BAYES_CACHE_PROMPTS // 256                   # the first chunk not kept
    assert table(beyond - 1) is table(beyond - 1) and table(beyond) is not table(beyond)


@pytest.mark.parametrize("C, c, sigma2", [([[1, .5], [.5, 1]], [0.3, 0.8], 0.0),   # SVD route
                                          (np.ones((2, 2)), [1.0, 1.0], 0.0),       # singular C
                                          (np.eye(2), [0.3, 0.8], 0.2)])            # solve route
def test_jax_bayes_predictor_matches_numpy(C, c, sigma2):
    from wpgd_theory import MultitaskModel, bayes_predict
    from wpgd_theory.training.bayes import bayes_predictor
    model = MultitaskModel(C, c, [3, 12], np.diag([1.0, 2.0, 0.5, 1.0]), sigma2)
    prompts = model.sample(300, seed=0)
    # float32 (JAX) against float64 (NumPy); predictions are O(1): 1e-4 absolute.
    np.testing.assert_allclose(bayes_predictor(model)(prompts),
                               bayes_predict(model, *prompts[:3]), rtol=0, atol=1e-4)
