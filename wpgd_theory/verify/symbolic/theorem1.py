"""Theorem 1 in SymPy: the GLA output *is* the DWPGD predictor, exactly (docs/theory.md §6).

The GLA recurrence ``S_t = G_t ⊙ S_{t−1} + v_t k_tᵀ``, ``o_t = S_t q_t`` (``S_0 = 0``) is run
symbolically (:func:`gla_recurrence_expression`, a transliteration of
:func:`wpgd_theory.gla.forward.gla_recurrence` on SymPy matrices) on Theorem 1's prompt
``z_i = [x_i; y_i]``, ``z_{n+1} = [x; 0]`` with ``W_k = [[P_k, 0], [0, 0]]``,
``W_q = [[P_q, 0], [0, 0]]``, ``W_v = [[0, 0], [0, 1]]``. Theorem 1 says the label coordinate of
``o_{n+1}`` equals

    xᵀ P_q (X P_k ⊙ Ω)ᵀ y,     Ω_i = g_{i+1} ⊙ … ⊙ g_{n+1},   g_j = G_j[d, :d]

(row ``i`` of Ω; :func:`wpgd_theory.gla.theorem1.induced_weights`' formula). With symbolic
inputs *and* symbolic gates (scalar, key-wise or full matrices), both sides are polynomials;
:func:`prove_theorem1` expands their difference.
"""
from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import Eq, Matrix, Symbol, zeros

from . import instances
from .base import Statement, check_explicit_size, symbol_matrix, symbol_vector

__all__ = [
    "GATINGS", "gla_recurrence_expression", "symbolic_gates", "theorem1_weights_expression",
    "dwpgd_expression", "theorem1_statement", "prove_theorem1",
]

GATINGS = ("scalar", "vector", "matrix")
"""Gate shapes: ``G_t = γ_t 11ᵀ``, key-wise ``G_t = 1 g_tᵀ``, or a full ``(d+1)×(d+1)`` matrix."""


def gla_recurrence_expression(queries, keys, values, gates):
    """The GLA outputs ``o_1..o_T`` for SymPy column vectors and gate matrices.

    ``S_t = G_t ⊙ S_{t−1} + v_t k_tᵀ`` (``⊙`` the entrywise product, ``S_0 = 0``), ``o_t = S_t q_t``
    — the recurrence of :func:`wpgd_theory.gla.forward.gla_recurrence`, on lists of
    ``sympy.Matrix``. Each gate is a ``(d_v, d_k)`` matrix.

    Examples
    --------
    >>> g = Symbol("g")
    >>> q = k = [Matrix([1]), Matrix([1])]
    >>> v = [Matrix([Symbol("v_1")]), Matrix([Symbol("v_2")])]
    >>> gla_recurrence_expression(q, k, v, [Matrix([[1]]), Matrix([[g]])])[-1]
    Matrix([[g*v_1 + v_2]])
    """
    if not (len(queries) == len(keys) == len(values) == len(gates)) or not queries:
        raise ValueError("queries, keys, values and gates must be non-empty lists of one length")
    state = zeros(values[0].rows, keys[0].rows)
    outputs = []
    for q, k, v, G in zip(queries, keys, values, gates):
        if G.shape != state.shape:
            raise ValueError(f"gate of shape {G.shape} does not match the state {state.shape}")
        state = G.multiply_elementwise(state) + v * k.T
        outputs.append((state * q).applyfunc(sympy.expand))
    return outputs


def symbolic_gates(count, width, gating):
    """``count`` symbolic ``width × width`` gate matrices: ``γ_t 11ᵀ`` (``"scalar"``),
    ``1 g_tᵀ`` (``"vector"``) or fully general (``"matrix"``). Token ``t`` (1-based) uses
    symbols ``gamma_t``, ``g_t_b`` or ``G_t_ab``."""
    if gating not in GATINGS:
        raise ValueError(f"gating must be one of {GATINGS}, got {gating!r}")
    gates = []
    for t in range(1, count + 1):
        if gating == "scalar":
            value = Symbol(f"gamma_{t}", real=True)
            gates.append(Matrix(width, width, lambda a, b, value=value: value))
        elif gating == "vector":
            row = [Symbol(f"g_{t}_{b + 1}", real=True) for b in range(width)]
            gates.append(Matrix(width, width, lambda a, b, row=row: row[b]))
        else:
            gates.append(Matrix(width, width,
                                lambda a, b, t=t: Symbol(f"G_{t}_{a + 1}{b + 1}", real=True)))
    return gates


def theorem1_weights_expression(gates, d_size):
    """``Ω`` (``n × d``): row ``i`` is ``Π_{j > i} g_j`` entrywise, ``g_j`` the last row of gate
    ``j`` restricted to its first ``d`` columns (as :func:`wpgd_theory.gla.theorem1.induced_weights`)."""
    g = [G[G.rows - 1, :d_size] for G in gates]
    rows = []
    for i in range(len(gates) - 1):
        product = Matrix.ones(1, d_size)
        for later in g[i + 1:]:
            product = product.multiply_elementwise(later)
        rows.append(product)
    return Matrix.vstack(*rows)


def dwpgd_expression(x, X, y, P_q, P_k, Omega):
    """``xᵀ P_q (X P_k ⊙ Ω)ᵀ y`` for SymPy matrices (the right-hand side of Theorem 1)."""
    return sympy.expand((x.T * P_q * (X * P_k).multiply_elementwise(Omega).T * y)[0, 0])


def _theorem1_parts(d_size, n_size, gating):
    x = Matrix(symbol_vector("x", d_size))
    X = symbol_matrix("X", n_size, d_size)
    y = Matrix([Symbol(f"y_{i + 1}", real=True) for i in range(n_size)])
    P_q, P_k = symbol_matrix("Pq", d_size), symbol_matrix("Pk", d_size)
    gates = symbolic_gates(n_size + 1, d_size + 1, gating)
    tokens = [Matrix.vstack(X[i, :].T, Matrix([y[i]])) for i in range(n_size)]
    tokens.append(Matrix.vstack(x, Matrix([0])))
    W_k = sympy.diag(P_k, 0)
    W_q = sympy.diag(P_q, 0)
    W_v = sympy.diag(zeros(d_size), 1)
    outputs = gla_recurrence_expression([W_q.T * z for z in tokens], [W_k.T * z for z in tokens],
                                        [W_v.T * z for z in tokens], gates)
    gla = outputs[-1][d_size, 0]
    Omega = theorem1_weights_expression(gates, d_size)
    return dict(x=x, X=X, y=y, P_q=P_q, P_k=P_k, gates=gates, W=(W_q, W_k, W_v), gla=gla,
                Omega=Omega, dwpgd=dwpgd_expression(x, X, y, P_q, P_k, Omega))


def theorem1_statement(d_size=1, n_size=2, gating="matrix"):
    """Theorem 1 for explicit sizes: ``(o_{n+1})_{d+1} = xᵀ P_q (X P_k ⊙ Ω)ᵀ y``.

    The left-hand side is the named GLA output ``(o_{n+1})_{d+1}``, defined (in
    ``definitions``) as the GLA recurrence run symbolically (an expanded polynomial in the
    inputs, projections and gates); the right-hand side is the DWPGD form with Ω from
    :func:`theorem1_weights_expression`. Symbols ``(x, X, y, P_q, P_k, gates)``, gates as in
    :func:`symbolic_gates` (one ``(d+1)×(d+1)`` matrix per token). :meth:`Statement.lambdify`
    gives the DWPGD side; ``statement.lambdify(statement.conclusion.lhs)`` (or
    ``statement.side("lhs")``) the GLA side. Proved by :func:`prove_theorem1`.

    Examples
    --------
    >>> statement = theorem1_statement(1, 1, "scalar")
    >>> statement.conclusion
    Eq((o_{n+1})_{d+1}, Pk_11*Pq_11*X_11*gamma_2*x_1*y_1)
    >>> statement.lambdify()([[2.0]], [[3.0]], [5.0], [[1.0]], [[1.0]], [0.9, 0.5])
    15.0
    """
    check_explicit_size("theorem1_statement", limit=4, d_size=d_size, n_size=n_size)
    parts = _theorem1_parts(d_size, n_size, gating)
    W_q, W_k, W_v = parts["W"]
    hypotheses = (Eq(Symbol("W_q"), W_q, evaluate=False), Eq(Symbol("W_k"), W_k, evaluate=False),
                  Eq(Symbol("W_v"), W_v, evaluate=False),
                  Eq(Symbol("z_i"), Symbol("[x_i; y_i]"), evaluate=False),
                  Eq(Symbol("z_{n+1}"), Symbol("[x; 0]"), evaluate=False),
                  Eq(Symbol("S_0"), Symbol("0"), evaluate=False),
                  Eq(Symbol(r"\Omega"), parts["Omega"], evaluate=False))
    variables = (parts["x"], parts["X"], tuple(parts["y"]), parts["P_q"], parts["P_k"],
                 _gate_symbols(parts["gates"], gating))
    output = Symbol("(o_{n+1})_{d+1}")
    return Statement(f"Theorem 1: GLA = DWPGD (d={d_size}, n={n_size}, {gating} gates)",
                     hypotheses, Eq(output, parts["dwpgd"], evaluate=False), variables,
                     definitions=(Eq(output, parts["gla"], evaluate=False),),
                     instance=instances.theorem1_instance(d_size, n_size, gating))


def _gate_symbols(gates, gating):
    if gating == "scalar":
        return tuple(G[0, 0] for G in gates)
    if gating == "vector":
        return tuple(tuple(G[0, :]) for G in gates)
    return tuple(G for G in gates)


@lru_cache(maxsize=None)
def prove_theorem1(d_size, n_size, gating="matrix"):
    """Expanded ``(o_{n+1})_{d+1} − xᵀ P_q (X P_k ⊙ Ω)ᵀ y`` for symbolic inputs, projections
    and gates: 0 when Theorem 1 holds (any d, n; d, n ≤ 2 run in well under a second).

    Examples
    --------
    >>> prove_theorem1(2, 2, "matrix")
    0
    """
    check_explicit_size("prove_theorem1", limit=4, d_size=d_size, n_size=n_size)
    parts = _theorem1_parts(d_size, n_size, gating)
    return sympy.expand(parts["gla"] - parts["dwpgd"])
