"""Statements behave like SymPy objects: named left-hand sides (no "X = X"), substitution by
name, gates that admit 0, no literal True hypotheses, and ``evaluate`` for the GLA theorems
(1, 4, 5, 6) against the numeric forward passes and predictors (an independent route: NumPy
recurrences, not the SymPy expressions)."""
import numpy as np
import pytest
import sympy

import wpgd_theory
from wpgd_theory.core.predictor import dwpgd_predict, wpgd_predict
from wpgd_theory.gla.multilayer import multilayer_construction, multilayer_gla, multilayer_wpgd
from wpgd_theory.gla.theorem1 import induced_weights, theorem1_gla_predict, theorem1_prompt
from wpgd_theory.verify import symbolic as sym

SEED = 20260
RTOL = 1e-12   # float64 evaluation of short polynomials: roundoff ~1e-15, margin 1000×


def _close(a, b):
    return abs(a - b) <= RTOL * max(1.0, abs(a), abs(b))


def test_all_statements_is_exported_and_lists_every_theorem():
    statements = wpgd_theory.all_statements()
    assert {"theorem1", "theorem2", "theorem3", "theorem4", "theorem5", "theorem6",
            "corollary"} <= set(statements)
    for name, statement in statements.items():
        assert isinstance(statement, sym.Statement), name
        # no literal True (an assumption that evaluated away says nothing)
        assert not any(h is sympy.true for h in statement.hypotheses), name
        latex = statement.latex()
        if isinstance(statement.conclusion, sympy.Eq):     # no "X = X"
            lhs, rhs = latex.split(" = ", 1) if " = " in latex else (latex, "")
            assert lhs.strip() != rhs.strip(), name


def test_subs_by_name_equals_subs_by_symbol_and_gates_admit_zero():
    statement = sym.delimiter_weights_statement(1, (1, 2), "scalar")
    g1 = statement.free_symbols["g_1"]
    assert g1.is_nonnegative and g1.is_positive is None        # 0 is allowed
    by_name, by_symbol = statement.subs({"g_1": 0}), statement.subs({g1: 0})
    assert by_name.conclusion == by_symbol.conclusion
    assert isinstance(by_name.conclusion, sympy.Eq)             # kept unevaluated, not True
    # g_1 = 0 closes the first block: the WPGD side loses its X_1· terms, and the GLA side
    # (definition) agrees with it after substitution.
    assert "X_11" not in str(by_name.conclusion.rhs)
    assert sympy.expand(by_name.side("lhs") - by_name.side("rhs")) == 0
    with pytest.raises(ValueError, match="not a symbol"):
        statement.subs({"g_9": 1})


@pytest.mark.parametrize("gating", ["scalar", "vector", "matrix"])
def test_theorem1_evaluate_is_the_numeric_gla_and_dwpgd(gating):
    d, n = 2, 2
    statement = sym.theorem1_statement(d, n, gating)
    rng = np.random.default_rng(SEED)
    x, X, y = rng.standard_normal(d), rng.standard_normal((n, d)), rng.standard_normal(n)
    P_q, P_k = rng.standard_normal((2, d, d))
    shape = {"scalar": (n + 1,), "vector": (n + 1, d + 1), "matrix": (n + 1, d + 1, d + 1)}
    gates = rng.uniform(size=shape[gating])
    numeric = (gates.reshape(n + 1, 1, 1) if gating == "scalar"
               else gates[:, None, :] if gating == "vector" else gates)
    full = np.broadcast_to(numeric, (n + 1, d + 1, d + 1))
    values = statement.evaluate((x, X, y), P_q=P_q, P_k=P_k, gates=gates)
    assert _close(values["gla"], float(theorem1_gla_predict(x, X, y, P_q, P_k, full)))
    Omega = induced_weights(full, d)
    assert _close(values["dwpgd"], float(dwpgd_predict(x, X, y, P_q, P_k, Omega)))


@pytest.mark.parametrize("gating", ["scalar", "vector"])
def test_theorems_4_5_evaluate_is_wpgd_with_block_weights(gating):
    d, sizes = 2, (1, 2)
    statement = sym.delimiter_weights_statement(d, sizes, gating)
    rng = np.random.default_rng(SEED + 1)
    n = sum(sizes)
    x, X, y = rng.standard_normal(d), rng.standard_normal((n, d)), rng.standard_normal(n)
    P = rng.standard_normal((d, d))
    g, h = rng.uniform(size=2), rng.uniform(size=2)
    extra = {"minus_gates": h} if gating == "vector" else {}
    values = statement.evaluate((x, X, y), P=P, gates=g, **extra)
    block = np.array([g[0] * g[1], g[1]]) - (np.array([h[0] * h[1], h[1]])
                                             if gating == "vector" else 0)
    omega = np.repeat(block, sizes)                        # ω_k = Π_{l≥k} g_l (− Π h_l)
    expected = float(wpgd_predict(x, X, y, P, omega))
    assert _close(values["wpgd"], expected) and _close(values["gla"], expected)


def test_theorem6_evaluate_is_the_numeric_multilayer_gla():
    d, n, layers = 2, 2, 2
    statement = sym.multilayer_statement(d, n, layers, "vector")
    rng = np.random.default_rng(SEED + 2)
    x, X, y = rng.standard_normal(d), rng.standard_normal((n, d)), rng.standard_normal(n)
    P_q, P_k = 0.3 * rng.standard_normal((2, layers, d, d))
    g = rng.uniform(0.2, 1.0, size=(layers, n + 1, d + 1))
    values = statement.evaluate((x, X, y), P_q=P_q, P_k=P_k, gates=g)
    layer_gates = [g[l][:, None, :] for l in range(layers)]
    gla = -multilayer_gla(theorem1_prompt(x, X, y), multilayer_construction(P_k, P_q),
                          layer_gates)[-1, -1]
    assert _close(values["gla"], float(gla))
    assert _close(values["wpgd"],
                  float(multilayer_wpgd(x, X, y, P_q, P_k, layer_gates).query_prediction))


def test_gla_evaluate_errors_say_what_is_wrong():
    statement = sym.theorem1_statement(1, 2, "scalar")
    prompt = (np.ones(1), np.ones((2, 1)), np.ones(2))
    good = dict(P_q=np.eye(1), P_k=np.eye(1), gates=np.ones(3))
    from wpgd_theory.core.model import CorrelatedTaskModel
    model = CorrelatedTaskModel(np.eye(1), np.eye(2), [0.5, 0.5], 0.1)
    with pytest.raises(TypeError, match="model must be a tuple"):
        statement.evaluate(model, **good)
    with pytest.raises(ValueError, match=r"X must have shape \(2, 1\)"):
        statement.evaluate((np.ones(1), np.ones((3, 1)), np.ones(2)), **good)
    with pytest.raises(ValueError, match="gates must have shape"):
        statement.evaluate(prompt, **{**good, "gates": np.ones(2)})
    with pytest.raises(ValueError, match="P_q contains NaN"):
        statement.evaluate(prompt, **{**good, "P_q": [[np.nan]]})
    with pytest.raises(TypeError, match="P_k= is required"):
        statement.evaluate(prompt, P_q=np.eye(1), gates=np.ones(3))
