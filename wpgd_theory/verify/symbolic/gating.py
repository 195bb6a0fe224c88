"""Theorems 4–5 in SymPy: block weights reached by delimiter gates (docs/findings.md §4–5).

Multitask prompt (Definition 2, :func:`wpgd_theory.multitask.model.multitask_prompt_tokens`)::

    block 1 (n_1 tokens) | delimiter 1 | … | block K | delimiter K | query

Delimiters carry ``x = 0``, ``y = 0``, so they add nothing to the GLA state — only their gates act;
data and query tokens pass with gate 1 (:class:`wpgd_theory.multitask.gating.DelimiterGate`).
The GLA recurrence is run symbolically on this prompt (:func:`~.theorem1.gla_recurrence_expression`)
with Theorem 1's projections.

* **Scalar gates** (Theorem 4): delimiter ``k`` applies ``g_k``; every token of block ``k`` gets
  weight ``ω_k = Π_{l ≥ k} g_l``, so the output is ``xᵀ P Xᵀ(ω ⊙ y)`` with ``ω`` constant on
  blocks (:func:`prove_scalar_delimiter_weights`). Conversely ``g_K = m_K``,
  ``g_k = m_k / m_{k+1}`` (:func:`wpgd_theory.multitask.gating.delimiter_gate_values`) reach any
  ``0 < m_1 ≤ … ≤ m_K ≤ 1`` exactly (:func:`prove_delimiter_gates_reach`).
* **Vector gates** (Theorem 5): keys ``[x_i; x_i]`` (width ``2d``), queries ``[P x; −P x]``,
  key-wise gates ``g⁺_k`` on the first copy and ``g⁻_k`` on the second; the output is
  ``xᵀ P Xᵀ((ω⁺ − ω⁻) ⊙ y)``, ``ω^±_k = Π_{l ≥ k} g^±_l`` (:func:`prove_vector_delimiter_weights`).
  Any block weights ``w = m⁺ − m⁻`` (``m^±`` non-negative non-decreasing, e.g.
  :func:`wpgd_theory.multitask.gating.monotone_split`) are reached as ``w / s`` by
  ``g^± = delimiter_gate_values(m^±, s)``, signs included (:func:`prove_delimiter_gates_reach`
  with ``signed=True``).
"""
from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import Eq, Matrix, Symbol, zeros

from ...core.validation import as_bool
from . import instances
from .base import Statement, check_explicit_size, symbol_matrix, symbol_vector
from .theorem1 import gla_recurrence_expression

__all__ = [
    "delimiter_weights_statement", "prove_scalar_delimiter_weights",
    "prove_vector_delimiter_weights", "prove_delimiter_gates_reach",
]


def _check_sizes(sizes):
    sizes = tuple(int(size) for size in sizes)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"sizes must be a non-empty tuple of positive block sizes, got {sizes}")
    check_explicit_size("delimiter gating", limit=8, n=sum(sizes), K=len(sizes))
    return sizes


def _prompt(d_size, sizes):
    """Symbolic inputs/labels and the token list with delimiter markers (None = data)."""
    n_size = sum(sizes)
    X = symbol_matrix("X", n_size, d_size)
    y = Matrix([Symbol(f"y_{i + 1}", real=True) for i in range(n_size)])
    x = Matrix(symbol_vector("x", d_size))
    tokens, row = [], 0
    for block, size in enumerate(sizes):
        for _ in range(size):
            tokens.append((X[row, :].T, y[row], None))
            row += 1
        tokens.append((zeros(d_size, 1), sympy.Integer(0), block))   # delimiter `block`
    tokens.append((x, sympy.Integer(0), None))                          # query
    return x, X, y, tokens


def _block_of(sizes):
    return [block for block, size in enumerate(sizes) for _ in range(size)]


def _suffix_products(values):
    """``(Π_{l ≥ k} values_l)_k``."""
    products, running = [], sympy.Integer(1)
    for value in reversed(values):
        running = running * value
        products.append(running)
    return products[::-1]


def _gla_output(d_size, sizes, *, vector):
    """Run the recurrence on the multitask prompt; return (output, parts)."""
    x, X, y, tokens = _prompt(d_size, sizes)
    K_size = len(sizes)
    P = symbol_matrix("P", d_size)
    # Gates admit 0 (a delimiter gate may close the past completely): nonnegative, not positive.
    plus = [Symbol(f"g_{k + 1}", nonnegative=True) for k in range(K_size)]
    minus = [Symbol(f"h_{k + 1}", nonnegative=True) for k in range(K_size)] if vector else []
    width = 2 * d_size if vector else d_size
    queries, keys, values, gates = [], [], [], []
    for feature, label, delimiter in tokens:
        if vector:
            keys.append(Matrix.vstack(feature, feature))
            queries.append(Matrix.vstack(P.T * feature, -P.T * feature))
            row = ([1] * width if delimiter is None
                   else [plus[delimiter]] * d_size + [minus[delimiter]] * d_size)
        else:
            keys.append(feature)
            queries.append(P.T * feature)
            row = [1 if delimiter is None else plus[delimiter]] * width
        values.append(Matrix([label]))
        gates.append(Matrix([row]))
    output = gla_recurrence_expression(queries, keys, values, gates)[-1][0, 0]
    return output, dict(x=x, X=X, y=y, P=P, plus=plus, minus=minus)


def _wpgd(parts, weights):
    omega = Matrix([weights[k] for k in _block_of(parts["sizes"])])
    X, y, x, P = parts["X"], parts["y"], parts["x"], parts["P"]
    return sympy.expand((x.T * P * X.T * omega.multiply_elementwise(y))[0, 0])


def delimiter_weights_statement(d_size=1, sizes=(1, 2), gating="scalar"):
    """Theorem 4 (``gating="scalar"``) or 5 (``"vector"``): the GLA output on a multitask prompt
    with delimiter gates equals WPGD with block weights ``ω_k = Π_{l≥k} g_l`` (scalar) or
    ``Π_{l≥k} g_l − Π_{l≥k} h_l`` (vector: ``g`` gates the first key copy, ``h`` the second).

    The left-hand side is the named GLA output ``(o_{n+1})_{d+1}`` (its value, the GLA run
    symbolically, is a definition: ``statement.side("lhs")``). Symbols ``(x, X, y, P, g[, h])``;
    :meth:`Statement.lambdify` evaluates the WPGD side and ``lambdify(conclusion.lhs)`` the GLA
    side (compare with
    :func:`wpgd_theory.multitask.gating.scalar_gla_construction`).

    Examples
    --------
    >>> statement = delimiter_weights_statement(1, (1, 1))
    >>> statement.conclusion.rhs
    P_11*X_11*g_1*g_2*x_1*y_1 + P_11*X_21*g_2*x_1*y_2
    """
    sizes = _check_sizes(sizes)
    if gating not in ("scalar", "vector"):
        raise ValueError(f"gating must be 'scalar' or 'vector', got {gating!r}")
    vector = gating == "vector"
    output, parts = _gla_output(d_size, sizes, vector=vector)
    parts["sizes"] = sizes
    weights = _suffix_products(parts["plus"])
    if vector:
        weights = [p - m for p, m in zip(weights, _suffix_products(parts["minus"]))]
    omega = Symbol(r"\omega_k")
    hypotheses = (Eq(omega, weights[0] if len(weights) == 1 else sympy.Tuple(*weights),
                     evaluate=False),
                  Eq(Symbol("gate(data, query)"), 1, evaluate=False),
                  Eq(Symbol("x_delimiter"), 0, evaluate=False),
                  Eq(Symbol("y_delimiter"), 0, evaluate=False))
    hypotheses += tuple(sympy.Ge(g, 0, evaluate=False) for g in parts["plus"] + parts["minus"])
    variables = (parts["x"], parts["X"], tuple(parts["y"]), parts["P"], tuple(parts["plus"]))
    if vector:
        variables += (tuple(parts["minus"]),)
    theorem = "Theorem 5: vector" if vector else "Theorem 4: scalar"
    name = Symbol("(o_{n+1})_{d+1}")
    return Statement(f"{theorem} delimiter gates give block weights (d={d_size}, "
                     f"sizes={list(sizes)})", hypotheses,
                     Eq(name, _wpgd(parts, weights), evaluate=False), variables,
                     definitions=(Eq(name, output, evaluate=False),),
                     instance=instances.delimiter_weights_instance(d_size, tuple(sizes), vector))


@lru_cache(maxsize=None)
def prove_scalar_delimiter_weights(d_size=1, sizes=(1, 2)):
    """Expanded GLA output minus ``xᵀ P Xᵀ(ω ⊙ y)`` with ``ω_k = Π_{l≥k} g_l`` on block k
    (0 when Theorem 4's weight formula holds).

    Examples
    --------
    >>> prove_scalar_delimiter_weights(2, (1, 2))
    0
    """
    statement = delimiter_weights_statement(d_size, tuple(sizes), "scalar")
    return sympy.expand(statement.side("lhs") - statement.side("rhs"))


@lru_cache(maxsize=None)
def prove_vector_delimiter_weights(d_size=1, sizes=(1, 2)):
    """As :func:`prove_scalar_delimiter_weights` for key width ``2d`` with key-wise gates:
    weights ``Π_{l≥k} g_l − Π_{l≥k} h_l`` (0 when Theorem 5's construction holds).

    Examples
    --------
    >>> prove_vector_delimiter_weights(1, (2, 1))
    0
    """
    statement = delimiter_weights_statement(d_size, tuple(sizes), "vector")
    return sympy.expand(statement.side("lhs") - statement.side("rhs"))


@lru_cache(maxsize=None)
def prove_delimiter_gates_reach(K_size=3, *, signed=False):
    """The gates of :func:`wpgd_theory.multitask.gating.delimiter_gate_values` reach the target.

    Unsigned: for ``0 < m_1 ≤ … ≤ m_K`` and a scale ``s ≥ m_K`` (written ``m_k = s t_k``),
    ``g_K = m_K / s``, ``g_k = m_k / m_{k+1}`` give ``Π_{l≥k} g_l = m_k / s``. Signed: with
    ``m^±_k = Σ_{j≤k} δ^±_j`` (``δ^± ≥ 0``: any non-negative non-decreasing pair, and every
    ``w ∈ ℝ^K`` is ``m⁺ − m⁻`` for one) the two copies' weights differ by ``(m⁺ − m⁻)/s``.
    Returns the residuals ``Π g − target`` per block (all 0).

    Examples
    --------
    >>> prove_delimiter_gates_reach(3)
    (0, 0, 0)
    >>> prove_delimiter_gates_reach(2, signed=True)
    (0, 0)
    """
    check_explicit_size("prove_delimiter_gates_reach", limit=8, K=K_size)
    signed = as_bool(signed, "signed")
    scale = Symbol("s", positive=True)

    def gates(monotone):
        return [m / following for m, following in zip(monotone[:-1], monotone[1:])] + [
            monotone[-1] / scale]

    def cumulative(name):
        increments = [Symbol(f"{name}_{k + 1}", positive=True) for k in range(K_size)]
        return [sum(increments[:k + 1]) for k in range(K_size)]

    if not signed:
        m = cumulative("delta")
        return tuple(sympy.cancel(p - target / scale)
                     for p, target in zip(_suffix_products(gates(m)), m))
    plus, minus = cumulative("delta_plus"), cumulative("delta_minus")
    reached = [p - q for p, q in zip(_suffix_products(gates(plus)), _suffix_products(gates(minus)))]
    return tuple(sympy.cancel(value - (p - q) / scale)
                 for value, p, q in zip(reached, plus, minus))
