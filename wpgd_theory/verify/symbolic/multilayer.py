"""Theorem 6 (derived, docs/multilayer.md) in SymPy: causal L-layer GLA runs n + 1 coupled
WPGD iterates.

An L-layer residual GLA ``Z_{ℓ+1} = Z_ℓ + GLA_ℓ(Z_ℓ)`` with
``W_k = [[P_k^ℓ, 0], [0, 0]]``, ``W_q = [[P_q^ℓ, 0], [0, 0]]``, ``W_v = [[0, 0], [0, −1]]``
(:func:`wpgd_theory.gla.multilayer.multilayer_construction`) and causal masking keeps
``z^{(ℓ)}_i = [x_i; y_i − x_iᵀβ^{(ℓ)}_i]``, where ``β^{(0)}_i = 0`` and

    β^{(ℓ+1)}_i = β^{(ℓ)}_i + Σ_{j ≤ i} P_q^ℓ diag(ω^ℓ_{j→i}) P_k^{ℓᵀ} x_j (y_j − x_jᵀβ^{(ℓ)}_j),

``ω^ℓ_{j→i} = g^ℓ_{j+1} ⊙ … ⊙ g^ℓ_i`` (``g_t`` the last row of ``G_t``, first d columns),
``x_{n+1} = x`` and ``y_{n+1} = 0``; the output ``−(z^{(L)}_{n+1})_{d+1}`` is ``xᵀβ^{(L)}_{n+1}``.
Both sides are computed symbolically — the GLA by running the recurrence layer by layer on
symbolic tokens with symbolic gate matrices, the recursion directly — and compared.
"""
from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import Eq, Matrix, Symbol, zeros

from ...core.validation import as_bool
from . import instances
from .base import Statement, check_explicit_size, symbol_matrix, symbol_vector
from .theorem1 import _gate_symbols, gla_recurrence_expression, symbolic_gates

__all__ = ["multilayer_statement", "coupled_iterates_expression", "prove_theorem6"]

MAX_LAYERS = 2
"""Largest L for the symbolic check (degrees grow like 2^L; L = 3 takes ~30 s at d = n = 2)."""


def _inputs(d_size, n_size, layers, gating):
    x = Matrix(symbol_vector("x", d_size))
    X = symbol_matrix("X", n_size, d_size)
    y = Matrix([Symbol(f"y_{i + 1}", real=True) for i in range(n_size)])
    P_q = [symbol_matrix(f"Pq{l + 1}", d_size) for l in range(layers)]
    P_k = [symbol_matrix(f"Pk{l + 1}", d_size) for l in range(layers)]
    gates = [[G.xreplace({s: Symbol(f"L{l + 1}{s.name}", real=True) for s in G.free_symbols})
              for G in symbolic_gates(n_size + 1, d_size + 1, gating)] for l in range(layers)]
    return x, X, y, P_q, P_k, gates


def _multilayer_gla(x, X, y, P_q, P_k, gates):
    """Residual stream ``Z_0..Z_L`` (lists of token columns), run with the symbolic recurrence."""
    d_size, n_size = X.cols, X.rows
    Z = [Matrix.vstack(X[i, :].T, Matrix([y[i]])) for i in range(n_size)]
    Z.append(Matrix.vstack(x, Matrix([0])))
    states = [Z]
    for P_q_l, P_k_l, G_l in zip(P_q, P_k, gates):
        W_q, W_k = sympy.diag(P_q_l, 0), sympy.diag(P_k_l, 0)
        W_v = sympy.diag(zeros(d_size), -1)
        tokens = states[-1]
        outputs = gla_recurrence_expression([W_q.T * z for z in tokens],
                                            [W_k.T * z for z in tokens],
                                            [W_v.T * z for z in tokens], G_l)
        states.append([(z + o).applyfunc(sympy.expand) for z, o in zip(tokens, outputs)])
    return states


def coupled_iterates_expression(x, X, y, P_q, P_k, gates, *, coupled=True):
    """The iterates ``β^{(ℓ)}_i`` (ℓ = 0..L, i = 1..n+1) of Theorem 6's coupled recursion.

    ``coupled=False`` takes token j's residual at position i's iterate ``β_i`` instead of its
    own ``β_j`` (one trajectory per position, the natural *wrong* reading): a mutant."""
    coupled = as_bool(coupled, "coupled")
    d_size, n_size = X.cols, X.rows
    inputs = [X[i, :].T for i in range(n_size)] + [x]
    labels = list(y) + [sympy.Integer(0)]
    iterates = [[zeros(d_size, 1) for _ in range(n_size + 1)]]
    for P_q_l, P_k_l, G_l in zip(P_q, P_k, gates):
        g = [G[G.rows - 1, :d_size] for G in G_l]
        beta = iterates[-1]
        updated = []
        for i in range(n_size + 1):
            step = zeros(d_size, 1)
            for j in range(i + 1):
                omega = Matrix.ones(1, d_size)
                for t in range(j + 1, i + 1):
                    omega = omega.multiply_elementwise(g[t])
                residual = labels[j] - (inputs[j].T * beta[j if coupled else i])[0, 0]
                step += P_q_l * sympy.diag(*omega) * P_k_l.T * inputs[j] * residual
            updated.append((beta[i] + step).applyfunc(sympy.expand))
        iterates.append(updated)
    return iterates


def _parts(d_size, n_size, layers, gating, coupled=True):
    check_explicit_size("Theorem 6", limit=3, d_size=d_size, n_size=n_size)
    if not isinstance(layers, int) or not 1 <= layers <= MAX_LAYERS:
        raise ValueError(f"layers must be an int in [1, {MAX_LAYERS}], got {layers!r}")
    x, X, y, P_q, P_k, gates = _inputs(d_size, n_size, layers, gating)
    states = _multilayer_gla(x, X, y, P_q, P_k, gates)
    iterates = coupled_iterates_expression(x, X, y, P_q, P_k, gates, coupled=coupled)
    return dict(x=x, X=X, y=y, P_q=P_q, P_k=P_k, gates=gates, states=states, iterates=iterates)


def multilayer_statement(d_size=1, n_size=2, layers=2, gating="vector"):
    """Theorem 6 for explicit sizes: ``−(z^{(L)}_{n+1})_{d+1} = xᵀβ^{(L)}_{n+1}``.

    The left side runs the L-layer causal GLA symbolically, the right side the coupled
    recursion (module docstring); :func:`prove_theorem6` also checks every intermediate token.
    Symbols ``(x, X, y, P_q, P_k, gates)``: ``P_q``, ``P_k`` one d×d matrix per layer, gates per
    layer and token as :func:`~.theorem1.symbolic_gates`. The left side is named; its value (the
    GLA run symbolically) is a definition, ``statement.side("lhs")``. ``lambdify()`` evaluates the
    recursion; ``lambdify(conclusion.lhs)`` the GLA (compare with
    :func:`wpgd_theory.gla.multilayer.multilayer_gla` and ``multilayer_wpgd``).

    Examples
    --------
    >>> statement = multilayer_statement(1, 1, 2, "scalar")
    >>> statement.conclusion.lhs
    -(z^{(L)}_{n+1})_{d+1}
    >>> sympy.expand(statement.side("lhs") - statement.side("rhs"))
    0
    """
    parts = _parts(d_size, n_size, layers, gating)
    d_index = d_size
    output = -parts["states"][-1][-1][d_index, 0]
    prediction = sympy.expand((parts["x"].T * parts["iterates"][-1][-1])[0, 0])
    hypotheses = (Eq(Symbol("W_v"), sympy.diag(zeros(d_size), -1), evaluate=False),
                  Eq(Symbol(r"z^{(0)}_i"), Symbol("[x_i; y_i]"), evaluate=False),
                  Eq(Symbol(r"z^{(0)}_{n+1}"), Symbol("[x; 0]"), evaluate=False),
                  Eq(Symbol(r"\beta^{(0)}"), 0, evaluate=False),
                  Eq(Symbol("mask"), Symbol("causal"), evaluate=False))
    gate_symbols = tuple(_gate_symbols(layer, gating) for layer in parts["gates"])
    variables = (parts["x"], parts["X"], tuple(parts["y"]), tuple(parts["P_q"]),
                 tuple(parts["P_k"]), gate_symbols)
    return Statement(f"Theorem 6 (derived): {layers}-layer causal GLA = coupled WPGD "
                     f"(d={d_size}, n={n_size}, {gating} gates)", hypotheses,
                     Eq(-Symbol("(z^{(L)}_{n+1})_{d+1}"), prediction, evaluate=False), variables,
                     definitions=(Eq(-Symbol("(z^{(L)}_{n+1})_{d+1}"), output, evaluate=False),),
                     instance=instances.multilayer_instance(d_size, n_size, layers, gating))


@lru_cache(maxsize=None)
def prove_theorem6(d_size=1, n_size=2, layers=2, gating="vector", *, coupled=True):
    """Residuals of Theorem 6: for every layer ℓ ≤ L and token i ≤ n+1, the expanded
    ``z^{(ℓ)}_i − [x_i; y_i − x_iᵀβ^{(ℓ)}_i]`` (with ``y_{n+1} = 0``), then the output identity.

    Returns
    -------
    tuple
        ``(token_residual, output_residual)``: the first nonzero token mismatch (0 iff every
        token of every layer matches), the second is ``−(z^{(L)}_{n+1})_{d+1} − xᵀβ^{(L)}_{n+1}`` expanded.

    Examples
    --------
    >>> prove_theorem6(2, 2, 2, "vector")
    (0, 0)
    >>> prove_theorem6(1, 2, 2, "scalar", coupled=False)[1] != 0   # uncoupled reading fails
    True
    """
    coupled = as_bool(coupled, "coupled")
    parts = _parts(d_size, n_size, layers, gating, coupled)
    inputs = [parts["X"][i, :].T for i in range(n_size)] + [parts["x"]]
    labels = list(parts["y"]) + [sympy.Integer(0)]
    mismatches = []
    for state, betas in zip(parts["states"], parts["iterates"]):
        for z, x_i, y_i, beta in zip(state, inputs, labels, betas):
            expected = Matrix.vstack(x_i, Matrix([y_i - (x_i.T * beta)[0, 0]]))
            mismatches += [entry for entry in (z - expected).applyfunc(sympy.expand) if entry != 0]
    output = -parts["states"][-1][-1][d_size, 0]
    prediction = (parts["x"].T * parts["iterates"][-1][-1])[0, 0]
    return (mismatches[0] if mismatches else sympy.Integer(0),
            sympy.expand(output - prediction))
