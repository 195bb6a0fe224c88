"""Gates that read x but not y (constrained ``scalar_x``), the WPGD form of a constrained GLA and
exact descent on the GLA's own parameters.

Independent routes: ``scalar_x`` against the constrained ``scalar`` model it extends (limits of
its parameters) and against Theorem 1's gate products; exact descent on ``(W_q, W_k, θ)``
against the closed-form optimum of scalar gating (``scalar_gating_optimum``).
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

from wpgd_theory import MultitaskModel, paper_setting_model, risk, scalar_gating_optimum
from wpgd_theory.training import Architecture, evaluate, theory_optimum
from wpgd_theory.training._jax import jax, jnp
from wpgd_theory.training.trap import population_descent


@pytest.fixture(scope="module")
def probe():
    return MultitaskModel(np.eye(2), [0.2, 0.9], [3, 3], np.eye(2), 0.1)


def test_scalar_x_extends_the_delimiter_gates(probe):
    x_gate, delimiter = Architecture.build(probe, "scalar_x"), Architecture.build(probe, "scalar")
    params = delimiter.init(jax.random.PRNGKey(0))
    K, d = probe.K, probe.d
    prompts = probe.sample(4, seed=1)
    # v = 0 and σ(b) = 1 in float32 (b = 40): exactly the delimiter-gated model
    closed = dict(params, gate=jnp.concatenate([params["gate"], jnp.zeros(d), jnp.array([40.])]))
    assert np.array_equal(np.asarray(x_gate.predict(closed, prompts)),
                          np.asarray(delimiter.predict(params, prompts)))
    # v = 0, b = 0: every data token halves the weight of the examples before it (Theorem 1's
    # suffix products); a nonzero v makes the weights depend on x (different per prompt)
    halves = dict(closed, gate=closed["gate"].at[-1].set(0.0))
    weights = x_gate.token_preconditioners(halves, prompts)[:, :, 0, 0]
    within_block = weights[:, 1:3] / weights[:, :2]
    np.testing.assert_allclose(within_block, 2.0, rtol=1e-6)       # float32 products
    reading = dict(halves, gate=halves["gate"].at[K].set(1.0))
    weights = x_gate.token_preconditioners(reading, prompts)[:, :, 0, 0]
    assert np.ptp(weights[:, 0] / weights[:, -1]) > 1e-3
    assert theory_optimum(x_gate).describes_class is False


def test_wpgd_form_is_refused_where_the_predictor_is_not_wpgd(probe):
    for gating in ("scalar_x", "vector"):
        arch = Architecture.build(probe, gating)
        with pytest.raises(ValueError, match="wpgd_form needs a constrained GLA"):
            arch.wpgd_form(arch.init(jax.random.PRNGKey(0)))


def test_exact_descent_on_the_gla_parameters_reaches_the_scalar_optimum():
    model = paper_setting_model(8, 0.2, 0.8, 2, 0.1)
    (P, omega), = population_descent(model, [0], gating="scalar", steps=1500,
                                     learning_rate=0.05)
    best = scalar_gating_optimum(model)
    # float32 Adam on a smooth problem: the exact risk within 1e-5 relative of the optimum
    value = risk(model.to_correlated_task_model(), P, omega)
    assert best.risk <= value <= best.risk * (1 + 1e-5)
    # block weights (gate products) match the optimum's, after the scale
    ratio = omega[0] / omega[-1]
    np.testing.assert_allclose(ratio, best.block_weights[0] / best.block_weights[-1], rtol=1e-3)


def test_evaluate_reports_the_paired_gap(probe):
    arch = Architecture.build(probe, "scalar")
    result = evaluate(arch, arch.init(jax.random.PRNGKey(0)), test_prompts=4096, test_seed=3)
    assert result.prompts == 4096
    # the paired gap is the difference of the two Monte Carlo risks on the same prompts
    assert result.paired_gap == pytest.approx(result.risk - result.optimum_risk, rel=1e-5)
    assert 0 < result.paired_gap_se < result.risk_se
