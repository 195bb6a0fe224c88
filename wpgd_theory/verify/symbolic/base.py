"""Statement objects, the symbols, and the formulas every statement and proof shares."""
from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import (
    Eq,
    Function,
    IndexedBase,
    Matrix,
    Sum,
    Symbol,
    Trace,
    diag,
    eye,
    sqrt,
    symbols,
)

__all__ = [
    "Statement",
    "i", "k", "d", "n", "M", "sigma2", "gamma", "h_bar", "s", "lam", "a", "A_", "B_", "C_",
    "symbol_vector", "symbol_matrix", "instantiate",
    "h1_expression", "h2_expression", "fixed_point_map_expression", "risk_in_moments",
    "closed_form_risk", "weight_moments",
]


# --------------------------------------------------------------------------------- statements

@dataclass(frozen=True)
class Statement:
    """A theorem (or definition) as SymPy objects.

    Attributes
    ----------
    name : str
        What it is, with its place in docs/theory.md.
    hypotheses : tuple
        SymPy relations/booleans assumed (positivity, the fixed-point equation, ...).
    conclusion : sympy.Basic
        Usually ``Eq(lhs, rhs)``; a relation for Theorem 3; a ``Tuple`` of equations for
        Theorem 2.
    symbols : tuple
        The arguments of :meth:`lambdify`, possibly nested (a tuple is one array argument).
    definitions : tuple of Eq
        Abbreviations ``Eq(symbol, value)`` used in the conclusion (``A``, ``B``, ``C``, ``M``);
        :meth:`expression` substitutes them.
    """

    name: str
    hypotheses: tuple
    conclusion: sympy.Basic
    symbols: tuple
    definitions: tuple = ()

    @property
    def expression(self):
        """Right-hand side of the conclusion (a tuple of them for a ``Tuple`` of equations; the
        conclusion itself if it is a relation), with every definition substituted."""
        if isinstance(self.conclusion, Eq):
            target = self.conclusion.rhs
        elif isinstance(self.conclusion, sympy.Tuple):
            target = sympy.Tuple(*[part.rhs for part in self.conclusion])
        else:
            target = self.conclusion
        return self._substitute_definitions(target)

    def _substitute_definitions(self, target):
        for _ in range(len(self.definitions) + 1):  # definitions may refer to one another
            previous = target
            for definition in self.definitions:
                target = target.subs(definition.lhs, definition.rhs)
            if target == previous:
                return target
        raise ValueError(f"definitions of {self.name!r} are circular")

    def latex(self, hypotheses=False):
        r"""LaTeX of the conclusion; with ``hypotheses=True``, followed by ``\quad\text{if}``
        and the hypotheses and definitions."""
        text = sympy.latex(self.conclusion)
        if hypotheses:
            conditions = [sympy.latex(h) for h in self.hypotheses + self.definitions]
            text += r" \quad\text{if}\quad " + r",\; ".join(conditions)
        return text

    def lambdify(self, expression=None, modules="numpy"):
        """NumPy function of :attr:`symbols` evaluating ``expression`` (default
        :attr:`expression`) — the bridge to the numeric code.

        Only explicit-size statements can be lambdified (general ``Sum``/``MatrixSymbol`` forms
        are for reading).
        """
        expression = self._substitute_definitions(
            self.expression if expression is None else sympy.sympify(expression))
        return sympy.lambdify(_as_lists(self.symbols), expression, modules=modules)

    def __str__(self):
        lines = [self.name, f"  {self.conclusion}"]
        lines += [f"  where {definition.lhs} = {definition.rhs}" for definition in self.definitions]
        lines += [f"  if {hypothesis}" for hypothesis in self.hypotheses]
        return "\n".join(lines)


def _as_lists(structure):
    if isinstance(structure, (tuple, list)):
        return [_as_lists(item) for item in structure]
    if isinstance(structure, sympy.MatrixBase):
        return [_as_lists(list(row)) for row in structure.tolist()]
    return structure


# --------------------------------------------------------------------------------- symbols

i = Symbol("i", integer=True)
"""Summation index (1-based, as in the paper)."""
d, n = symbols("d n", integer=True, positive=True)
M = Symbol("M", positive=True)
sigma2 = Symbol("sigma^2", nonnegative=True)
gamma = Symbol("gamma", positive=True)
h_bar = Symbol(r"\bar{h}", positive=True)
s = IndexedBase("s")
"""Eigenvalues ``s_i > 0`` of Σ."""
lam = IndexedBase("lambda")
"""Eigenvalues ``λ_i ≥ 0`` of R."""
a = IndexedBase("a")
"""Coefficients ``a = Eᵀr`` of r in R's eigenbasis."""

_ASSUMPTIONS = {"s": {"positive": True}, "lambda": {"nonnegative": True}, "a": {"real": True},
                }

h_1, h_2, phi, loss = Function("h_1"), Function("h_2"), Function("phi"), Function("L")
A_ = Symbol("A", real=True)
B_, C_ = symbols("B C", nonnegative=True)   # B = ωᵀ(R + I)ω ≥ 0, C = M‖ω‖² ≥ 0


def symbol_vector(name, size):
    """``(name_1, …, name_size)`` with the assumptions of ``name`` (``s`` positive, ``lambda``
    nonnegative, others real).

    Examples
    --------
    >>> symbol_vector("s", 2)
    (s_1, s_2)
    """
    assumptions = _ASSUMPTIONS.get(name, {"real": True})
    return tuple(Symbol(f"{name}_{k}", **assumptions) for k in range(1, size + 1))


def symbol_matrix(name, rows, cols=None, *, symmetric=False, unit_diagonal=False):
    """Matrix of real symbols ``name_{jk}``; optionally symmetric (``name_{kj} := name_{jk}``,
    j < k) and with unit diagonal.

    Examples
    --------
    >>> symbol_matrix("R", 2, symmetric=True, unit_diagonal=True)
    Matrix([
    [   1, R_12],
    [R_12,    1]])
    """
    cols = rows if cols is None else cols

    def entry(j, k):
        if unit_diagonal and j == k:
            return sympy.Integer(1)
        if symmetric and j > k:
            j, k = k, j
        return Symbol(f"{name}_{j + 1}{k + 1}", real=True)

    return Matrix(rows, cols, entry)


def instantiate(expression, **sizes):
    """Expand the ``Sum``\\ s of a general-size expression at integer sizes and replace each
    ``s[k]``, ``lambda[k]``, ``a[k]`` by the symbol ``s_k``, ``lambda_k``, ``a_k``.

    Examples
    --------
    >>> instantiate(Sum(s[i] ** 2, (i, 1, d)), d=2)
    s_1**2 + s_2**2
    """
    size_symbols = {"d": d, "n": n}
    expanded = expression.subs({size_symbols[k]: v for k, v in sizes.items()}).doit()
    replacements = {}
    for indexed in expanded.atoms(sympy.Indexed):
        (index,) = indexed.indices
        name = str(indexed.base)
        replacements[indexed] = symbol_vector(name, int(index))[-1]
    return expanded.xreplace(replacements)


k = Symbol("k", integer=True)
"""Summation index of h₂ (kept apart from ``i`` so that φ = 1 + h₁(h₂(γ)) reads clearly)."""


def _sum(term, upper, index=i):
    return Sum(term, (index, 1, upper))


# --------------------------------------------------------------------------------- formulas

def h1_expression(size=None, argument=h_bar):
    """``h₁(h̄) = Σ_i λ_i a_i² / (1 + λ_i h̄)²  ÷  Σ_i a_i² / (1 + λ_i h̄)²`` (docs/theory.md §3).

    ``size=None`` gives the general form over ``i = 1..n``.

    Examples
    --------
    >>> h1_expression(1)
    lambda_1
    """
    weight = a[i] ** 2 / (1 + lam[i] * h_bar) ** 2
    general = _sum(lam[i] * weight, n) / _sum(weight, n)
    expression = general if size is None else instantiate(general, n=size)
    return expression.xreplace({h_bar: argument})   # after expanding the sums: no partial fractions


def h2_expression(size=None, argument=gamma):
    """``h₂(γ) = [1 + M Σ_i s_i²/(M + s_i γ)²  ÷  Σ_i s_i³/(M + s_i γ)²]⁻¹`` (docs/theory.md §3).

    Examples
    --------
    >>> sympy.simplify(h2_expression(1))   # d = 1: constant in γ
    s_1/(M + s_1)
    """
    S_2 = _sum(s[k] ** 2 / (M + s[k] * gamma) ** 2, d, k)
    S_3 = _sum(s[k] ** 3 / (M + s[k] * gamma) ** 2, d, k)
    general = 1 / (1 + M * S_2 / S_3)
    expression = general if size is None else instantiate(general, d=size)
    return expression.xreplace({gamma: argument})


def fixed_point_map_expression(d_size=None, n_size=None, argument=gamma):
    """``φ(γ) = 1 + h₁(h₂(γ))``, whose fixed points are the stationary ``γ*``."""
    return 1 + h1_expression(n_size, argument=h2_expression(d_size, argument=argument))


def risk_in_moments(Sigma, P, A, B, C, M=M):
    """``L = M − 2A tr(PΣ²) + tr(PᵀΣP(BΣ² + CΣ))`` (docs/theory.md §2), for explicit or symbolic
    (``MatrixSymbol``) matrices."""
    Sigma2 = Sigma * Sigma
    return M - 2 * A * Trace(P * Sigma2) + Trace(P.T * Sigma * P * (B * Sigma2 + C * Sigma))


def weight_moments(R, r, omega, M=M):
    """``(A, B, C) = (ωᵀr, ωᵀ(R + I)ω, M ωᵀω)`` for explicit column matrices."""
    identity = eye(R.shape[0])
    return ((omega.T * r)[0, 0], (omega.T * (R + identity) * omega)[0, 0],
            M * (omega.T * omega)[0, 0])


def closed_form_risk(Sigma, R, r, P, omega, M=M):
    """The closed-form risk for explicit matrices: :func:`risk_in_moments` at
    :func:`weight_moments`, with traces evaluated."""
    return sympy.expand(risk_in_moments(Sigma, P, *weight_moments(R, r, omega, M), M=M).doit())


def _eigenbasis_weights(h, lam_k, a_k):
    """``ω̃ = (h Λ + I)⁻¹ a``."""
    return (h * diag(*lam_k) + eye(len(lam_k))).inv() * Matrix(a_k)


def _theorem2_preconditioner(omega, a_k, s_k, gamma_value, form="theorem"):
    """``(A/C)((γ/M) diag(s) + I)⁻¹`` (``form="theorem"``) or the poster's
    ``(A/C) Σ^{-1/2}((γ/M)Σ + I)⁻¹Σ^{-1/2}`` (``form="poster"``)."""
    Sigma = diag(*s_k)
    A = (omega.T * Matrix(a_k))[0, 0]
    C = M * (omega.T * omega)[0, 0]
    core = ((gamma_value / M) * Sigma + eye(len(s_k))).inv()
    if form == "poster":
        root_inverse = diag(*[1 / sqrt(value) for value in s_k])
        core = root_inverse * core * root_inverse
    elif form != "theorem":
        raise ValueError(f"form must be 'theorem' or 'poster', got {form!r}")
    return (A / C) * core
