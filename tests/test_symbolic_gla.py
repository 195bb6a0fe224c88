"""Symbolic Theorem 1, Theorems 4–5 and Theorem 6: exact proofs for small sizes, mutants that
the proofs reject, and lambdify bridges to the numeric GLA code.

The proofs run the GLA recurrence in SymPy (symbolic inputs, projections and gates) and expand
the difference with the WPGD side: exact, tolerance 0. The bridges evaluate each side of a
statement at seeded random numbers and compare with :mod:`wpgd_theory.gla` /
:mod:`wpgd_theory.multitask.gating` (independent NumPy implementations) to ``1e-12`` relative
(tens of flops on O(1) numbers).
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from wpgd_theory.core.predictor import dwpgd_predict
from wpgd_theory.gla.multilayer import multilayer_construction, multilayer_gla, multilayer_wpgd
from wpgd_theory.gla.theorem1 import theorem1_gla_predict, theorem1_prompt
from wpgd_theory.multitask.gating import scalar_gla_construction, vector_gla_construction
from wpgd_theory.multitask.model import MultitaskModel, multitask_prompt_tokens
from wpgd_theory.verify import symbolic as sym

SEED = 1202
RTOL = 1e-12


def relative_error(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)), 1e-300))


SMALL = [(1, 1), (1, 2), (2, 1), (2, 2)]


# ------------------------------------------------------------------- Theorem 1

@pytest.mark.parametrize("gating", sym.GATINGS)
@pytest.mark.parametrize("d, n", SMALL)
def test_theorem1_holds_exactly(d, n, gating):
    assert sym.prove_theorem1(d, n, gating) == 0


def test_theorem1_rejects_weights_that_include_the_token_own_gate():
    statement = sym.theorem1_statement(2, 2, "vector")
    gla = statement.side("lhs")
    x, X, y, P_q, P_k, gates = (sympy.Matrix(statement.symbols[0]), statement.symbols[1],
                                sympy.Matrix(statement.symbols[2]), statement.symbols[3],
                                statement.symbols[4], statement.symbols[5])
    g = [sympy.Matrix([row[:2]]) for row in gates]
    wrong = sympy.Matrix.vstack(g[0].multiply_elementwise(g[1]).multiply_elementwise(g[2]),
                                g[1].multiply_elementwise(g[2]))       # Π_{j ≥ i}, not j > i
    assert sympy.expand(gla - sym.dwpgd_expression(x, X, y, P_q, P_k, wrong)) != 0


@pytest.mark.parametrize("gating", sym.GATINGS)
def test_theorem1_statement_is_the_numeric_gla(gating):
    d, n = 2, 2
    rng = np.random.default_rng(SEED)
    statement = sym.theorem1_statement(d, n, gating)
    dwpgd_side, gla_side = statement.lambdify(), statement.lambdify(statement.conclusion.lhs)
    for _ in range(5):
        x, X, y = rng.standard_normal(d), rng.standard_normal((n, d)), rng.standard_normal(n)
        P_q, P_k = rng.standard_normal((2, d, d))
        if gating == "scalar":
            symbolic_gates = rng.uniform(size=n + 1)
            numeric_gates = symbolic_gates.reshape(n + 1, 1, 1)
        elif gating == "vector":
            symbolic_gates = rng.uniform(size=(n + 1, d + 1))
            numeric_gates = symbolic_gates[:, None, :]
        else:
            symbolic_gates = numeric_gates = rng.uniform(size=(n + 1, d + 1, d + 1))
        numeric = float(theorem1_gla_predict(x, X, y, P_q, P_k, numeric_gates))
        args = (x[:, None], X, y, P_q, P_k, symbolic_gates)
        assert relative_error(gla_side(*args), numeric) < RTOL
        assert relative_error(dwpgd_side(*args), numeric) < RTOL
        # and the DWPGD side is the numeric DWPGD predictor with the numeric Ω
        from wpgd_theory.gla.theorem1 import induced_weights
        Omega = induced_weights(np.broadcast_to(numeric_gates, (n + 1, d + 1, d + 1)), d)
        assert relative_error(dwpgd_side(*args), dwpgd_predict(x, X, y, P_q, P_k, Omega)) < RTOL


def test_theorem1_statement_renders():
    statement = sym.theorem1_statement(1, 2, "scalar")
    assert "gamma_{3}" in statement.latex() and statement.latex(hypotheses=True)
    with pytest.raises(ValueError, match="gating must be one of"):
        sym.theorem1_statement(1, 1, "diagonal")


# ------------------------------------------------------------------- Theorems 4–5

BLOCKS = [(1, 1), (1, 2), (2, 1), (1, 1, 1)]


@pytest.mark.parametrize("sizes", BLOCKS)
@pytest.mark.parametrize("d", [1, 2])
def test_delimiter_gates_give_block_weights(d, sizes):
    assert sym.prove_scalar_delimiter_weights(d, sizes) == 0
    assert sym.prove_vector_delimiter_weights(d, sizes) == 0


@pytest.mark.parametrize("K", [1, 2, 3, 4])
def test_delimiter_gate_values_reach_every_target(K):
    assert sym.prove_delimiter_gates_reach(K) == (0,) * K
    assert sym.prove_delimiter_gates_reach(K, signed=True) == (0,) * K


def test_block_weights_exclude_earlier_delimiters():
    # Mutant: ω_k = Π_{l > k} g_l (forgetting the block's own closing delimiter) is wrong.
    statement = sym.delimiter_weights_statement(1, (1, 2), "scalar")
    g_1, g_2 = statement.symbols[4]
    wrong = statement.conclusion.rhs.xreplace({g_1: 1})
    assert sympy.expand(statement.conclusion.lhs - wrong) != 0


def _prompt(model, seed):
    prompts = model.sample(1, seed=seed)
    Z = multitask_prompt_tokens(prompts, model.sizes)
    return prompts, Z


@pytest.mark.parametrize("weights", [[0.25, 0.5, 1.0], [0.0, 0.3, 0.3]])
def test_scalar_statement_is_the_scalar_gla_construction(weights):
    model = MultitaskModel(np.eye(3), [0.2, 0.5, 0.6], [1, 2, 1], np.diag([1.0, 2.0]), 0.1)
    construction = scalar_gla_construction(model, weights)
    statement = sym.delimiter_weights_statement(2, (1, 2, 1), "scalar")
    gla_side, wpgd_side = statement.lambdify(statement.conclusion.lhs), statement.lambdify()
    d = model.d
    for seed in range(3):
        prompts, Z = _prompt(model, seed)
        args = (prompts.query_input[0][:, None], prompts.context_inputs[0],
                prompts.context_labels[0], construction.W_q[:d, :d],
                construction.delimiter_gates)
        numeric = float(construction.predict(Z)[0])
        assert relative_error(gla_side(*args), numeric) < RTOL
        assert relative_error(wpgd_side(*args), numeric) < RTOL


@pytest.mark.parametrize("weights", [[-1.0, 0.5, 0.25], [0.5, -0.5, 1.0]])
def test_vector_statement_is_the_vector_gla_construction(weights):
    model = MultitaskModel(np.eye(3), [0.2, -0.5, 0.4], [2, 1, 1], np.diag([1.0, 3.0]), 0.2)
    construction = vector_gla_construction(model, weights)
    statement = sym.delimiter_weights_statement(2, (2, 1, 1), "vector")
    gla_side, wpgd_side = statement.lambdify(statement.conclusion.lhs), statement.lambdify()
    d = model.d
    plus, minus = construction.delimiter_gates
    for seed in range(3):
        prompts, Z = _prompt(model, seed)
        args = (prompts.query_input[0][:, None], prompts.context_inputs[0],
                prompts.context_labels[0], construction.W_q[:d, :d], plus, minus)
        numeric = float(construction.predict(Z)[0])
        assert relative_error(gla_side(*args), numeric) < RTOL
        assert relative_error(wpgd_side(*args), numeric) < RTOL


# ------------------------------------------------------------------- Theorem 6

@pytest.mark.parametrize("gating", ["scalar", "vector", "matrix"])
@pytest.mark.parametrize("d, n", SMALL)
def test_theorem6_two_layers_holds_exactly(d, n, gating):
    assert sym.prove_theorem6(d, n, 2, gating) == (0, 0)


def test_theorem6_rejects_the_uncoupled_recursion():
    token, output = sym.prove_theorem6(1, 2, 2, "scalar", coupled=False)
    assert token != 0 and output != 0


def test_theorem6_statement_is_the_numeric_multilayer_gla():
    d, n, layers = 2, 2, 2
    rng = np.random.default_rng(SEED + 6)
    statement = sym.multilayer_statement(d, n, layers, "vector")
    gla_side, wpgd_side = statement.lambdify(statement.conclusion.lhs), statement.lambdify()
    for _ in range(3):
        x, X, y = rng.standard_normal(d), rng.standard_normal((n, d)), rng.standard_normal(n)
        P_q, P_k = 0.3 * rng.standard_normal((2, layers, d, d))
        g = rng.uniform(0.2, 1.0, size=(layers, n + 1, d + 1))
        Z = theorem1_prompt(x, X, y)
        numeric_gla = -multilayer_gla(Z, multilayer_construction(P_k, P_q),
                                      [g[l][:, None, :] for l in range(layers)])[-1, -1]
        numeric_wpgd = multilayer_wpgd(x, X, y, P_q, P_k,
                                       [g[l][:, None, :] for l in range(layers)])
        args = (x[:, None], X, y, P_q, P_k, g)
        assert relative_error(gla_side(*args), numeric_gla) < RTOL
        assert relative_error(wpgd_side(*args), numeric_wpgd.query_prediction) < RTOL


def test_statement_constructors_validate_sizes():
    with pytest.raises(ValueError, match="layers must be an int"):
        sym.multilayer_statement(1, 1, 5)
    with pytest.raises(ValueError, match="sizes must be a non-empty tuple"):
        sym.delimiter_weights_statement(1, ())
    with pytest.raises(ValueError, match="the limit 4 for theorem1_statement"):
        sym.theorem1_statement(1, 5)
