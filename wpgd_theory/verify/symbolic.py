"""The theorems as SymPy objects, and symbolic proofs for small sizes (issue #6, part 1).

Each statement of docs/theory.md is a :class:`Statement`: hypotheses (SymPy relations), a conclusion
(usually ``Eq(lhs, rhs)``), the symbols it is a function of, and abbreviations (``A, B, C, M``)
as ``definitions``. ``.latex()`` renders it; ``.lambdify()`` turns it into a NumPy function with
the same argument layout as the numeric code, so a test can check on random points that
:mod:`wpgd_theory.spectral` and :mod:`wpgd_theory.risk` compute *the same formulas*.

Statements (docs/theory.md section in brackets)::

    h1_statement(n)                  h₁(h̄) = Σλa²/(1+λh̄)² ÷ Σa²/(1+λh̄)²            [§3]
    h2_statement(d)                  h₂(γ) = [1 + M Σs²/(M+sγ)² ÷ Σs³/(M+sγ)²]⁻¹       [§3]
    fixed_point_map_statement(d, n)  φ(γ) = 1 + h₁(h₂(γ))                              [§3]
    stationary_point_statement(d, n) γ = φ(γ) ⇒ ω* = (h₂(γ)R + I)⁻¹r, P* = (A/C)((γ/M)Σ + I)⁻¹
    spectral_gap_statement(d, n)     Δ_Σ Δ_R < M + s_min ⇒ |φ'(γ)| < 1                 [§4]
    risk_statement(d, n)             L = M − 2A tr(PΣ²) + tr(PᵀΣP(BΣ² + CΣ))           [§2]
    optimal_preconditioner_statement P(ω) = A(BΣ + CI)⁻¹                                [§2]
    risk_of_weights_statement(d)     L(ω) = M − A² Σ s²/(Bs + C)                        [§2]
    corollary_statement(n)           L*_ATT = d + σ² − d(1ᵀr)²/(n(d+σ²+1) + 1ᵀR1)       [§7]

With a size left as ``None`` the statement is the general form (``Sum`` over an ``IndexedBase``,
or ``MatrixSymbol`` algebra), for reading; with integer sizes every sum is expanded and every
matrix is explicit, and only then can it be lambdified. The explicit form *is* the general
form with the sizes substituted (``Sum.doit()``), so there is one formula per statement.

Proofs (``prove_*``) return the simplified residual, a SymPy expression or matrix that is
identically zero when the statement holds; :func:`poster_preconditioner_residual` returns the
nonzero residual of the poster's ``P*``. Conventions of the proofs:

* **Eigenbases.** ``L`` depends on ``(Σ, R, r, P, ω)`` only through traces and the scalars
  ``A = ωᵀr``, ``B = ωᵀ(R + I)ω``, ``C = M‖ω‖²``, so for orthogonal ``U, E`` it is unchanged by
  ``Σ → UᵀΣU, P → UᵀPU`` and ``R → EᵀRE, r → Eᵀr, ω → Eᵀω``. The stationarity proofs therefore
  take ``Σ = diag(s)``, ``R = diag(λ)``, ``r = a`` (a *general* P and ω are still
  differentiated). :func:`prove_orthogonal_invariance` checks this reduction for d, n ≤ 2.
  In R's eigenbasis the unit diagonal ``R_ii = 1`` is not imposed: it is not used by the
  closed form (only by its derivation from Gaussian moments,
  :func:`prove_risk_from_gaussian_moments`, which uses general symmetric Σ and unit-diagonal R).
* **M** is an independent positive symbol in the stationarity proofs (the identity
  ``M = σ² + tr Σ`` is never needed there), so those proofs are slightly more general.
* **The fixed-point equation** ``γ = 1 + h₁(h₂(γ))`` is used as a rewriting rule by solving it
  for γ: the stationary weights ``w = ω̃*`` are taken as free symbols, ``γ := 1 + Σλw²/Σw²``,
  ``h̄ := h₂(γ)`` and ``a := (I + h̄Λ)w`` (:func:`fixed_point_parametrisation`). This parametrises
  every (model, fixed point) pair; the gradient then reduces to 0 as a rational function (its
  numerator, after clearing positive denominators, expands to the zero polynomial).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy import (
    Abs,
    Eq,
    Function,
    Identity,
    IndexedBase,
    Interval,
    Matrix,
    MatrixSymbol,
    Max,
    Min,
    Sum,
    Symbol,
    Trace,
    cancel,
    diag,
    eye,
    factor,
    kronecker_product,
    ones,
    sqrt,
    symbols,
    zeros,
)

__all__ = [
    "Statement",
    # symbols
    "i", "k", "d", "n", "M", "sigma2", "gamma", "h_bar", "s", "lam", "a", "A_", "B_", "C_",
    "symbol_vector", "symbol_matrix", "instantiate", "fixed_point_parametrisation",
    # formulas
    "h1_expression", "h2_expression", "fixed_point_map_expression", "risk_in_moments",
    "closed_form_risk", "weight_moments",
    # statements
    "h1_statement", "h2_statement", "fixed_point_map_statement", "stationary_point_statement",
    "spectral_gap_statement", "risk_statement", "optimal_preconditioner_statement",
    "risk_of_weights_statement", "corollary_statement", "all_statements",
    # proofs
    "gaussian_expectation", "isserlis_moment",
    "prove_h1_is_rayleigh_quotient", "prove_stationarity", "prove_optimal_preconditioner",
    "preconditioner_hessian", "prove_risk_of_weights", "prove_corollary",
    "prove_risk_from_gaussian_moments", "prove_orthogonal_invariance",
    "prove_fixed_point_map_constant", "poster_preconditioner_residual",
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


# --------------------------------------------------------------------------------- statements

def _eigen_hypotheses(d_size, n_size):
    hypotheses = []
    if d_size is not None:
        hypotheses += [sympy.Gt(value, 0, evaluate=False) for value in symbol_vector("s", d_size)]
    if n_size is not None:
        hypotheses += [sympy.Ge(value, 0, evaluate=False)
                       for value in symbol_vector("lambda", n_size)]
    return hypotheses


def h1_statement(n_terms=None):
    """Theorem 2's ``h₁``; symbols ``(h̄, λ, a)`` as in :func:`wpgd_theory.spectral.h1`.

    Examples
    --------
    >>> print(h1_statement().latex())
    h_{1}{\\left(\\bar{h} \\right)} = \\frac{\\sum_{i=1}^{n} \\frac{{a}_{i}^{2} {\\lambda}_{i}}{\\left(\\bar{h} {\\lambda}_{i} + 1\\right)^{2}}}{\\sum_{i=1}^{n} \\frac{{a}_{i}^{2}}{\\left(\\bar{h} {\\lambda}_{i} + 1\\right)^{2}}}
    >>> h1_statement(2).lambdify()(0.5, [0.5, 1.5], [1.0, 0.0])   # as wpgd_theory.spectral.h1
    0.5
    """
    if n_terms is None:
        hypotheses = (lam[i] >= 0, _sum(a[i] ** 2, n) > 0)
        variables = (h_bar, lam, a)
    else:
        lam_k, a_k = symbol_vector("lambda", n_terms), symbol_vector("a", n_terms)
        hypotheses = tuple(_eigen_hypotheses(None, n_terms)) + (sum(x**2 for x in a_k) > 0,)
        variables = (h_bar, lam_k, a_k)
    return Statement("h1 (Theorem 2, docs/theory.md §3)", hypotheses,
                     Eq(h_1(h_bar), h1_expression(n_terms)), variables)


def h2_statement(d_terms=None):
    """Theorem 2's ``h₂``; symbols ``(γ, s, M)`` as in :func:`wpgd_theory.spectral.h2`.

    Examples
    --------
    >>> print(h2_statement(1))
    h2 (Theorem 2, docs/theory.md §3)
      Eq(h_2(gamma), 1/(M/s_1 + 1))
      if s_1 > 0
      if gamma >= 1
      if Eq(M, s_1 + sigma^2)
    """
    if d_terms is None:
        hypotheses = (s[k] > 0, gamma >= 1, Eq(M, sigma2 + _sum(s[k], d, k)))
        variables = (gamma, s, M)
    else:
        s_k = symbol_vector("s", d_terms)
        hypotheses = tuple(_eigen_hypotheses(d_terms, None)) + (gamma >= 1,
                                                                Eq(M, sigma2 + sum(s_k)))
        variables = (gamma, s_k, M)
    return Statement("h2 (Theorem 2, docs/theory.md §3)", hypotheses,
                     Eq(h_2(gamma), h2_expression(d_terms)), variables)


def fixed_point_map_statement(d_terms=None, n_terms=None):
    """``φ(γ) = 1 + h₁(h₂(γ))``; symbols ``(γ, s, M, λ, a)``."""
    if d_terms is None or n_terms is None:
        variables = (gamma, s, M, lam, a)
    else:
        variables = (gamma, symbol_vector("s", d_terms), M, symbol_vector("lambda", n_terms),
                     symbol_vector("a", n_terms))
    return Statement("fixed-point map phi = 1 + h1(h2(gamma)) (Theorem 2, docs/theory.md §3)",
                     tuple(_eigen_hypotheses(d_terms, n_terms)),
                     Eq(phi(gamma), fixed_point_map_expression(d_terms, n_terms)), variables)


def stationary_point_statement(d_terms=None, n_terms=None):
    """Theorem 2 with the corrected ``P*`` (docs/theory.md §5): if ``γ = φ(γ)`` then a stationary
    point of ``L`` is

        ω* = (h₂(γ) R + I)⁻¹ r,     P* = A (BΣ + CI)⁻¹ = (A/C) ((γ/M) Σ + I)⁻¹,

    ``A, B, C`` being the moments of ``ω*`` (the last equality is where ``γ = φ(γ)`` enters:
    ``B/‖ω*‖² = 1 + h₁(h₂(γ))``). The general form uses matrix symbols. The explicit form is
    written in the eigenbases (``Σ = diag(s)``, ``R = diag(λ)``, ``r = a``); its symbols are
    ``(γ, s, M, λ, a)`` and :meth:`Statement.lambdify` returns ``(P̃*, ω̃*)``, to be rotated back
    by the eigenvectors of Σ and R. Proved by :func:`prove_stationarity`.
    """
    if d_terms is None or n_terms is None:
        Sigma, R = MatrixSymbol("Sigma", d, d), MatrixSymbol("R", n, n)
        r, omega = MatrixSymbol("r", n, 1), MatrixSymbol(r"\omega^*", n, 1)
        P = MatrixSymbol("P^*", d, d)
        h = h_2(gamma)
        omega_star = (h * R + Identity(n)).inverse() * r
        P_star = (A_ / C_) * ((gamma / M) * Sigma + Identity(d)).inverse()
        definitions = (Eq(A_, omega.T * r, evaluate=False),
                       Eq(C_, M * omega.T * omega, evaluate=False))
        hypotheses = (Eq(gamma, phi(gamma)),)
        conclusion = sympy.Tuple(Eq(omega, omega_star, evaluate=False),
                                 Eq(P, P_star, evaluate=False))
        return Statement("Theorem 2: stationary point (P*, w*) (docs/theory.md §3, §5)", hypotheses,
                         conclusion, (gamma, Sigma, R, r, M), definitions)
    s_k, lam_k, a_k = (symbol_vector("s", d_terms), symbol_vector("lambda", n_terms),
                       symbol_vector("a", n_terms))
    omega_star = _eigenbasis_weights(h_bar, lam_k, a_k).xreplace({h_bar: h2_expression(d_terms)})
    P_star = _theorem2_preconditioner(omega_star, a_k, s_k, gamma)
    hypotheses = tuple(_eigen_hypotheses(d_terms, n_terms)) + (
        Eq(gamma, fixed_point_map_expression(d_terms, n_terms)),)
    conclusion = sympy.Tuple(Eq(Symbol(r"\tilde{P}^*"), P_star, evaluate=False),
                             Eq(Symbol(r"\tilde{\omega}^*"), omega_star, evaluate=False))
    return Statement("Theorem 2: stationary point (P*, w*) in the eigenbases", hypotheses,
                     conclusion, (gamma, s_k, M, lam_k, a_k))


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


def spectral_gap_statement(d_terms=2, n_terms=2):
    """Theorem 3 (T1): ``Δ_Σ Δ_R < M + s_min`` ⇒ ``|φ'(γ)| < 1`` on ``[1 + λ_min, 1 + λ_max]``.

    Eigenvalues are taken positive, so the effective gaps (nonzero eigenvalues, docs/theory.md §4)
    are ``max − min``; for singular Σ or R pass only the nonzero eigenvalues for the gaps.
    The first hypothesis lambdifies to :func:`wpgd_theory.spectral.spectral_gap_condition`'s
    ``holds``; the conclusion involves ``φ'`` as the derivative of the explicit φ. Symbols
    ``(γ, s, M, λ, a)``. Not proved symbolically here (only the degenerate sizes, see
    :func:`prove_fixed_point_map_constant`).
    """
    if d_terms is None or n_terms is None:
        delta_sigma, delta_R, s_min = symbols(r"Delta_Sigma Delta_R s_min", nonnegative=True)
        lam_min, lam_max = symbols(r"lambda_min lambda_max", nonnegative=True)
        hypotheses = (delta_sigma * delta_R < M + s_min,
                      sympy.Contains(gamma, Interval(1 + lam_min, 1 + lam_max)))
        conclusion = Abs(sympy.Derivative(phi(gamma), gamma)) < 1
        return Statement("Theorem 3 (T1): spectral gap => contraction", hypotheses, conclusion,
                         (gamma, s, M, lam, a))
    s_k, lam_k = symbol_vector("s", d_terms), symbol_vector("lambda", n_terms)
    a_k = symbol_vector("a", n_terms)
    gap = sympy.Lt((Max(*s_k) - Min(*s_k)) * (Max(*lam_k) - Min(*lam_k)), M + Min(*s_k),
                   evaluate=False)
    hypotheses = (gap, sympy.Contains(gamma, Interval(1 + Min(*lam_k), 1 + Max(*lam_k))))
    hypotheses += tuple(_eigen_hypotheses(d_terms, n_terms))
    slope = sympy.diff(fixed_point_map_expression(d_terms, n_terms), gamma)
    conclusion = sympy.Lt(Abs(slope, evaluate=False), 1, evaluate=False)
    return Statement("Theorem 3 (T1): spectral gap => contraction", hypotheses, conclusion,
                     (gamma, s_k, M, lam_k, a_k))


def risk_statement(d_size=None, n_size=None):
    """The closed-form risk (docs/theory.md §2).

    Explicit form: symbols ``(Σ, R, r, σ², P, ω)`` with *all* entries of Σ, R, P independent (so a
    numeric matrix can be passed as is); it lambdifies to a function matching
    :func:`wpgd_theory.risk.risk`.

    Examples
    --------
    >>> print(risk_statement().latex())
    L{\\left(P,\\omega \\right)} = - 2 A \\operatorname{tr}\\left(P \\Sigma^{2} \\right) + M + \\operatorname{tr}\\left(P^{T} \\Sigma P \\left(B \\Sigma^{2} + C \\Sigma\\right) \\right)
    """
    general = d_size is None or n_size is None
    if general:
        Sigma, P, R = MatrixSymbol("Sigma", d, d), MatrixSymbol("P", d, d), MatrixSymbol("R", n, n)
        r, omega = MatrixSymbol("r", n, 1), MatrixSymbol("omega", n, 1)
        definitions = (Eq(A_, omega.T * r, evaluate=False),
                       Eq(B_, omega.T * (R + Identity(n)) * omega, evaluate=False),
                       Eq(C_, M * omega.T * omega, evaluate=False),
                       Eq(M, sigma2 + Trace(Sigma), evaluate=False))
        conclusion = Eq(loss(P, omega), risk_in_moments(Sigma, P, A_, B_, C_))
        return Statement("closed-form risk (docs/theory.md §2)",
                         (Eq(Sigma, Sigma.T, evaluate=False), Eq(R, R.T, evaluate=False)),
                         conclusion, (Sigma, R, r, sigma2, P, omega), definitions)
    Sigma, P = symbol_matrix("Sigma", d_size), symbol_matrix("P", d_size)
    R = symbol_matrix("R", n_size)
    r, omega = Matrix(symbol_vector("r", n_size)), Matrix(symbol_vector("omega", n_size))
    A, B, C = weight_moments(R, r, omega, M)
    definitions = (Eq(A_, A), Eq(B_, B), Eq(C_, C), Eq(M, sigma2 + Sigma.trace()))
    conclusion = Eq(loss(Symbol("P"), Symbol("omega")),
                    sympy.expand(risk_in_moments(Sigma, P, A_, B_, C_).doit()))
    return Statement("closed-form risk (docs/theory.md §2)", (), conclusion,
                     (Sigma, R, tuple(r), sigma2, P, tuple(omega)), definitions)


def optimal_preconditioner_statement(d_size=None):
    """``P(ω) = A (BΣ + CI)⁻¹``, the best preconditioner for fixed ω (docs/theory.md §2).

    Explicit form: symbols ``(Σ, A, B, C)``, lambdifying to the matrix
    :func:`wpgd_theory.risk.optimal_preconditioner` returns for weights with moments ``(A, B, C)``.
    Proved by :func:`prove_optimal_preconditioner` and :func:`preconditioner_hessian`.
    """
    if d_size is None:
        Sigma = MatrixSymbol("Sigma", d, d)
        conclusion = Eq(MatrixSymbol(r"P(\omega)", d, d),
                        A_ * (B_ * Sigma + C_ * Identity(d)).inverse(), evaluate=False)
    else:
        Sigma = symbol_matrix("Sigma", d_size)
        conclusion = Eq(Symbol(r"P(\omega)"), A_ * (B_ * Sigma + C_ * eye(d_size)).inv(),
                        evaluate=False)
    return Statement("best preconditioner for fixed weights (docs/theory.md §2)",
                     (B_ >= 0, C_ > 0), conclusion, (Sigma, A_, B_, C_))


def risk_of_weights_statement(d_terms=None):
    """``L(ω) = M − A² Σ_i s_i² / (B s_i + C)`` (docs/theory.md §2); symbols ``(s, M, A, B, C)``."""
    general = M - A_**2 * _sum(s[i] ** 2 / (B_ * s[i] + C_), d)
    expression = general if d_terms is None else instantiate(general, d=d_terms)
    variables = (s, M, A_, B_, C_) if d_terms is None else (symbol_vector("s", d_terms), M, A_,
                                                            B_, C_)
    return Statement("risk of the weights with the best P (docs/theory.md §2)", (B_ >= 0, C_ > 0),
                     Eq(loss(Symbol("omega")), expression), variables)


def corollary_statement(n_size=None):
    """The Corollary (docs/theory.md §7): for ``Σ = I_d``, ``ω = 1``,

        L*_ATT = min_P L(P, 1) = d + σ² − d (1ᵀr)² / (n (d + σ² + 1) + 1ᵀR1).

    ``d`` stays a symbol. Explicit form: symbols ``(d, σ², R, r)`` with all entries of R
    independent, lambdifying to :func:`wpgd_theory.risk.linear_attention_risk` at ``Σ = I_d``.

    Examples
    --------
    >>> corollary_statement().conclusion.rhs
    d - d*Sum(r[i], (i, 1, n))**2/(n*(d + sigma^2 + 1) + Sum(R[i, j], (i, 1, n), (j, 1, n))) + sigma^2
    >>> corollary_statement(1).conclusion.rhs
    -d*r_1**2/(R_11 + d + sigma^2 + 1) + d + sigma^2
    """
    j = Symbol("j", integer=True)
    if n_size is None:
        r_base, R_base = IndexedBase("r"), IndexedBase("R")
        ones_r = _sum(r_base[i], n)
        ones_R_ones = Sum(R_base[i, j], (i, 1, n), (j, 1, n))
        size, variables = n, (d, sigma2, R_base, r_base)
    else:
        R, r = symbol_matrix("R", n_size), Matrix(symbol_vector("r", n_size))
        one = ones(n_size, 1)
        ones_r, ones_R_ones = (one.T * r)[0, 0], (one.T * R * one)[0, 0]
        size, variables = n_size, (d, sigma2, R, tuple(r))
    value = d + sigma2 - d * ones_r**2 / (size * (d + sigma2 + 1) + ones_R_ones)
    return Statement("Corollary: optimal linear-attention risk at Sigma = I (docs/theory.md §7)",
                     (Eq(Symbol("Sigma"), Symbol("I_d")), Eq(Symbol("omega"), Symbol("1"))),
                     Eq(Symbol(r"L^*_{ATT}"), value), variables)


def all_statements():
    """The general form of every statement, by name."""
    return {
        "h1": h1_statement(), "h2": h2_statement(), "phi": fixed_point_map_statement(),
        "theorem2": stationary_point_statement(), "theorem3": spectral_gap_statement(None, None),
        "risk": risk_statement(), "optimal_preconditioner": optimal_preconditioner_statement(),
        "risk_of_weights": risk_of_weights_statement(), "corollary": corollary_statement(),
    }


# --------------------------------------------------------------------------------- proofs

def _simplify(expression):
    """Rational simplification (``cancel``), element-wise for matrices."""
    if isinstance(expression, sympy.MatrixBase):
        return sympy.ImmutableMatrix(expression.applyfunc(cancel))
    return cancel(expression)


def fixed_point_parametrisation(d_size, n_size):
    """Every (model, fixed point) pair, parametrised by the stationary weights.

    Choose ``w = ω̃* ≠ 0``, ``λ``, ``s``, ``M`` freely and put

        γ := 1 + Σ λ_k w_k² / Σ w_k²,    h̄ := h₂(γ),    a := (I + h̄Λ) w.

    Then ``ω̃* = (h̄Λ + I)⁻¹a = w`` and ``φ(γ) = 1 + h₁(h̄) = 1 + Σλw²/Σw² = γ``
    (:func:`prove_h1_is_rayleigh_quotient`): γ is a fixed point. Conversely, for any model and
    fixed point γ, ``w := (h₂(γ)Λ + I)⁻¹a`` gives them back. So the fixed-point equation is used
    as a rewriting rule by *solving it for γ* in terms of ``w``.

    Returns
    -------
    dict
        ``{"w", "a", "lambda", "s", "gamma", "h_bar"}``: ``w``, ``λ``, ``s`` symbol tuples, ``a``
        in terms of the free symbol ``h̄``; ``gamma`` the value ``1 + Σλw²/Σw²`` and ``h_bar``
        the value ``h₂(γ)`` as a function of the free symbol γ (substitute ``h̄`` first, then γ).
    """
    w_k, lam_k = symbol_vector("w", n_size), symbol_vector("lambda", n_size)
    norm2 = sum(w**2 for w in w_k)
    return {
        "w": w_k, "lambda": lam_k, "s": symbol_vector("s", d_size),
        "a": tuple((1 + lk * h_bar) * wk for lk, wk in zip(lam_k, w_k)),
        "gamma": 1 + sum(lk * wk**2 for lk, wk in zip(lam_k, w_k)) / norm2,
        "h_bar": h2_expression(d_size),
    }


def _substitute_into_numerator(polynomial, variable, value):
    """``v^k N(u/v)`` for ``value = u/v`` and ``k = deg_variable N``: the numerator of ``N`` after
    the substitution, in sparse polynomial arithmetic (``sympy.Poly``) without any gcd."""
    u, v = sympy.fraction(sympy.together(value))
    gens = tuple(sorted(set(polynomial.gens) | u.free_symbols | v.free_symbols | {variable},
                        key=str))
    polynomial = polynomial.reorder(*gens) if set(polynomial.gens) == set(gens) else \
        sympy.Poly(polynomial.as_expr(), *gens)
    if polynomial.is_zero:
        return polynomial
    index = gens.index(variable)
    by_power = {}
    for monomial, coefficient in polynomial.terms():
        rest = monomial[:index] + (0,) + monomial[index + 1:]
        by_power.setdefault(monomial[index], {})[rest] = coefficient
    u, v = sympy.Poly(u, *gens), sympy.Poly(v, *gens)
    k = max(by_power)
    total = sympy.Poly(0, *gens)
    for power, terms in by_power.items():
        total += sympy.Poly.from_dict(terms, *gens) * u**power * v ** (k - power)
    return total


def _numerator_at_fixed_point(expression, parametrisation, assume_fixed_point=True):
    """Numerator of ``expression`` (in ``w, λ, s, M`` and the free ``h̄, γ``) after
    ``h̄ := h₂(γ)`` and then, if ``assume_fixed_point``, ``γ := 1 + Σλw²/Σw²``; expanded
    (0 iff the expression vanishes, denominators being nonzero)."""
    numerator = sympy.numer(sympy.together(expression))
    numerator = sympy.Poly(numerator, *sorted(numerator.free_symbols | {h_bar, gamma}, key=str))
    numerator = _substitute_into_numerator(numerator, h_bar, parametrisation["h_bar"])
    if assume_fixed_point:
        numerator = _substitute_into_numerator(numerator, gamma, parametrisation["gamma"])
    return numerator.as_expr()


def _eigenbasis_problem(d_size, n_size):
    """Closed-form risk in the eigenbases with general symbolic ``P`` and ``ω``."""
    s_k, lam_k, a_k = (symbol_vector("s", d_size), symbol_vector("lambda", n_size),
                       symbol_vector("a", n_size))
    P, omega = symbol_matrix("P", d_size), Matrix(symbol_vector("omega", n_size))
    L = closed_form_risk(diag(*s_k), diag(*lam_k), Matrix(a_k), P, omega)
    return L, P, omega, s_k, lam_k, a_k


@lru_cache(maxsize=None)
def prove_h1_is_rayleigh_quotient(n_size):
    """``ωᵀRω / ωᵀω = h₁(h̄)`` at ``ω = (h̄R + I)⁻¹r`` (R's eigenbasis): the lemma behind
    ``B/‖ω*‖² = 1 + h₁(h₂(γ))``. Returns the residual (0).

    Examples
    --------
    >>> prove_h1_is_rayleigh_quotient(2)
    0
    """
    lam_k, a_k = symbol_vector("lambda", n_size), symbol_vector("a", n_size)
    omega = _eigenbasis_weights(h_bar, lam_k, a_k)
    quotient = (omega.T * diag(*lam_k) * omega)[0, 0] / (omega.T * omega)[0, 0]
    return _simplify(quotient - h1_expression(n_size))


@lru_cache(maxsize=None)
def prove_stationarity(d_size, n_size, *, assume_fixed_point=True, form="theorem"):
    """(a) Theorem 2: ``∇L(P*, ω*) = 0`` when ``γ = φ(γ)``, for ``d, n ∈ {1, 2}`` (any sizes
    work; larger ones are slower).

    ``L`` is the closed form (:func:`closed_form_risk`) in the eigenbases with general symbolic
    ``P`` (d×d) and ``ω``; its gradient (by ``sympy.diff``) is evaluated at Theorem 2's
    ``ω* = (h̄Λ + I)⁻¹a`` and ``P* = (A/C)((γ/M)diag(s) + I)⁻¹`` with ``h̄ = h₂(γ)``, on the
    :func:`fixed_point_parametrisation` (which imposes ``γ = φ(γ)``). ``M`` is a free positive
    symbol. ``∂L/∂ω_k`` is divided by its factor ``w_k`` (``r_k = a_k = (1 + λ_k h̄)w_k``). Each
    component is reduced to the numerator left after clearing denominators (products of
    ``M + s_k γ``, ``1 + λ_k h̄``, ``Σw²``, ``s_k``: positive) and expanded; the statement holds iff
    these polynomials are 0.

    With ``assume_fixed_point=False``, γ stays free (only ``h̄ = h₂(γ)``): the residual is
    nonzero, so the hypothesis is needed; it is returned factored (slow for d = n = 2).
    ``form="poster"`` uses the poster's
    ``Σ^{-1/2}((γ/M)Σ + I)⁻¹Σ^{-1/2}`` (scaled by ``A/C``) instead.

    Returns
    -------
    sympy.ImmutableMatrix
        ``(vec ∂L/∂P, ∂L/∂ω ⊘ w)`` reduced: the zero column when the statement holds.

    Examples
    --------
    >>> prove_stationarity(1, 1).T
    Matrix([[0, 0]])
    >>> prove_stationarity(1, 1, assume_fixed_point=False)[1]   # ∝ fixed-point residual
    -2*s_1**3*(M + lambda_1*s_1 + s_1)**2*(gamma - lambda_1 - 1)
    """
    L, P, omega, s_k, lam_k, _ = _eigenbasis_problem(d_size, n_size)
    parametrisation = fixed_point_parametrisation(d_size, n_size)
    a_k, w_k = parametrisation["a"], parametrisation["w"]
    L = L.xreplace(dict(zip(symbol_vector("a", n_size), a_k)))
    omega_star = _eigenbasis_weights(h_bar, lam_k, a_k)          # = w
    P_star = _theorem2_preconditioner(omega_star, a_k, s_k, gamma, form=form)
    point = dict(zip(list(P) + list(omega), list(P_star) + list(omega_star)))
    gradient = ([sympy.diff(L, p) for p in P]
                + [sympy.diff(L, w) / wk for w, wk in zip(omega, w_k)])
    reduced = [_numerator_at_fixed_point(g.xreplace(point), parametrisation, assume_fixed_point)
               for g in gradient]
    return sympy.ImmutableMatrix(reduced if assume_fixed_point else [factor(g) for g in reduced])


@lru_cache(maxsize=None)
def prove_optimal_preconditioner(d_size, *, symmetric_sigma=True):
    """(c) ``∂L/∂P = 0`` at ``P = A(BΣ + CI)⁻¹`` for a *general symmetric* symbolic Σ.

    ``A, B, C`` are free symbols (any fixed ω). Returns the simplified gradient (zero matrix).

    Examples
    --------
    >>> prove_optimal_preconditioner(2)
    Matrix([
    [0, 0],
    [0, 0]])
    """
    Sigma = symbol_matrix("Sigma", d_size, symmetric=symmetric_sigma)
    P = symbol_matrix("P", d_size)
    L = sympy.expand(risk_in_moments(Sigma, P, A_, B_, C_).doit())
    candidate = optimal_preconditioner_statement(d_size).expression.xreplace(
        dict(zip(symbol_matrix("Sigma", d_size), Sigma)))
    gradient = P.applyfunc(lambda p: sympy.diff(L, p)).xreplace(dict(zip(P, candidate)))
    return _simplify(gradient)


@lru_cache(maxsize=None)
def preconditioner_hessian(d_size):
    """(c) The Hessian of ``L`` in ``vec(P)`` (row-major) is ``2 Σ ⊗ K``, ``K = Σ(BΣ + CI)``.

    Returns ``(identity_residual, eigenvalues)``: the simplified ``H − 2 Σ⊗K`` for a general
    symmetric Σ (zero matrix), and the eigenvalues of ``H`` for ``Σ = diag(s)``,
    ``2 s_j s_i (B s_i + C)``, which are ≥ 0 for ``s > 0``, ``B, C ≥ 0``. Since ``Σ⊗K`` is
    similar to ``diag(s) ⊗ diag(s(Bs + C))`` for every symmetric Σ (same U diagonalises Σ and
    K), H is PSD in general, and ``L`` is convex in P: ``A(BΣ + CI)⁻¹`` is a global minimiser.
    """
    def hessian(Sigma):
        P = symbol_matrix("P", d_size)
        L = sympy.expand(risk_in_moments(Sigma, P, A_, B_, C_).doit())
        return sympy.hessian(L, list(P))  # list(P) is row-major

    Sigma = symbol_matrix("Sigma", d_size, symmetric=True)
    K = Sigma * (B_ * Sigma + C_ * eye(d_size))
    residual = _simplify(hessian(Sigma) - 2 * kronecker_product(Sigma, K))
    H = hessian(diag(*symbol_vector("s", d_size)))
    if not H.is_diagonal():
        raise AssertionError("Hessian in Σ's eigenbasis is not diagonal")
    return residual, tuple(factor(H[k, k]) for k in range(H.rows))


@lru_cache(maxsize=None)
def prove_risk_of_weights(d_size):
    """(c) ``L(P(ω), ω) = M − A² Σ s_i²/(B s_i + C)``, in Σ's eigenbasis. Returns 0.

    Examples
    --------
    >>> prove_risk_of_weights(2)
    0
    """
    Sigma = diag(*symbol_vector("s", d_size))
    P = optimal_preconditioner_statement(d_size).expression.xreplace(
        dict(zip(symbol_matrix("Sigma", d_size), Sigma)))
    value = risk_in_moments(Sigma, P, A_, B_, C_).doit()
    return _simplify(value - risk_of_weights_statement(d_size).expression)


@lru_cache(maxsize=None)
def prove_corollary(d_size, n_size):
    """(b) The Corollary: ``min_P L(P, 1)`` at ``Σ = I_d`` equals the printed formula.

    General symmetric unit-diagonal R, symbolic r and σ², general d×d P. The minimiser is the
    unique solution of the linear system ``∂L/∂P = 0`` (the Hessian ``2(B + C)I`` is positive
    definite, checked here). Returns the simplified ``L(P_opt, 1) − L*_ATT`` (0).

    Examples
    --------
    >>> prove_corollary(2, 2)
    0
    """
    R = symbol_matrix("R", n_size, symmetric=True, unit_diagonal=True)
    r = Matrix(symbol_vector("r", n_size))
    P = symbol_matrix("P", d_size)
    Sigma = eye(d_size)
    L = closed_form_risk(Sigma, R, r, P, ones(n_size, 1), M=sigma2 + Sigma.trace())
    variables = list(P)
    hessian = sympy.hessian(L, variables)
    _, B, C = weight_moments(R, r, ones(n_size, 1), M=sigma2 + d_size)
    if _simplify(hessian - 2 * (B + C) * eye(d_size**2)) != zeros(d_size**2, d_size**2):
        raise AssertionError("Hessian of the Corollary's quadratic is not 2(B + C) I")
    (solution,) = [sympy.solve([sympy.diff(L, v) for v in variables], variables, dict=True)[0]]
    optimum = L.xreplace(solution)
    statement = corollary_statement(n_size)
    target = statement.expression.xreplace(
        dict(zip(symbol_matrix("R", n_size), R))).subs(d, d_size)
    return _simplify(optimum - target)


# ---------------------------------------------------------------- Gaussian moments (Isserlis)

def isserlis_moment(indices, covariance):
    """``E[z_{i₁} ⋯ z_{i_k}]`` for ``z ~ N(0, covariance)`` by Isserlis' (Wick's) theorem: the
    sum over perfect pairings of products of covariances (0 for odd k).

    Examples
    --------
    >>> s11 = Symbol("s_11")
    >>> isserlis_moment((0, 0, 0, 0), Matrix([[s11]]))
    3*s_11**2
    """
    return _isserlis(tuple(sorted(indices)), sympy.ImmutableMatrix(covariance))


@lru_cache(maxsize=None)
def _isserlis(indices, covariance):
    if not indices:
        return sympy.Integer(1)
    if len(indices) % 2:
        return sympy.Integer(0)
    first, rest = indices[0], indices[1:]
    return sympy.expand(sum(
        covariance[first, rest[k]] * _isserlis(rest[:k] + rest[k + 1:], covariance)
        for k in range(len(rest))))


def gaussian_expectation(polynomial, blocks):
    """``E[polynomial]`` where ``blocks`` is a list of ``(variables, covariance)``: each block a
    zero-mean Gaussian vector, blocks mutually independent. Exact (Isserlis per block)."""
    variables = [v for block, _ in blocks for v in block]
    poly = sympy.Poly(sympy.expand(polynomial), *variables)
    total = sympy.Integer(0)
    for monomial, coefficient in poly.terms():
        value, offset = sympy.Integer(1), 0
        for block, covariance in blocks:
            powers = monomial[offset:offset + len(block)]
            offset += len(block)
            indices = tuple(k for k, p in enumerate(powers) for _ in range(p))
            value *= isserlis_moment(indices, covariance)
            if value == 0:
                break
        total += coefficient * value
    return sympy.expand(total)


@lru_cache(maxsize=None)
def prove_risk_from_gaussian_moments(d_size, n_size, *, plus_identity=True):
    """(d) The closed form equals ``E[(y − xᵀPXᵀ(ω ⊙ y))²]`` computed from Gaussian moments.

    General symmetric Σ, unit-diagonal symmetric R, symbolic r, σ², general P, ω. Data model
    (docs/theory.md §1): input rows ``x_1..x_n, x`` i.i.d. ``N(0, Σ)``; for each coordinate c the task
    vector ``(β_{1c}, …, β_{nc}, β_c) ~ N(0, [[R, r], [rᵀ, 1]])``, coordinates independent;
    noises i.i.d. ``N(0, σ²)``. The expectation is exact (Isserlis). ``plus_identity=False``
    compares with the wrong ``B = ωᵀRω`` instead (nonzero residual). Returns the expanded
    difference (0).

    Examples
    --------
    >>> prove_risk_from_gaussian_moments(1, 1)
    0
    """
    Sigma = symbol_matrix("Sigma", d_size, symmetric=True)
    R = symbol_matrix("R", n_size, symmetric=True, unit_diagonal=True)
    r = Matrix(symbol_vector("r", n_size))
    P, omega = symbol_matrix("P", d_size), Matrix(symbol_vector("omega", n_size))
    rows = [symbol_vector(f"x{t}", d_size) for t in range(1, n_size + 2)]  # row n+1 = query
    tasks = [symbol_vector(f"beta{c}", n_size + 1) for c in range(1, d_size + 1)]  # last = query
    noise = symbol_vector("epsilon", n_size + 1)
    joint = R.row_join(r).col_join(r.T.row_join(Matrix([[1]])))
    blocks = ([(row, Sigma) for row in rows] + [(task, joint) for task in tasks]
              + [((e,), Matrix([[sigma2]])) for e in noise])
    labels = [sum(rows[t][c] * tasks[c][t] for c in range(d_size)) + noise[t]
              for t in range(n_size + 1)]
    X = Matrix([rows[t] for t in range(n_size)])
    x = Matrix(rows[n_size])
    weighted = Matrix([omega[t] * labels[t] for t in range(n_size)])
    prediction = (x.T * P * X.T * weighted)[0, 0]
    expectation = gaussian_expectation((labels[n_size] - prediction) ** 2, blocks)
    M_value = sigma2 + Sigma.trace()
    A, B, C = weight_moments(R, r, omega, M_value)
    if not plus_identity:
        B = (omega.T * R * omega)[0, 0]
    closed = risk_in_moments(Sigma, P, A, B, C, M=M_value).doit()
    return sympy.expand(expectation - closed)


def _reduce_on_circle(polynomial, cosine, sine):
    """Reduce a polynomial modulo ``cos² + sin² − 1``:
    ``sin^j → sin^(j mod 2) (1 − cos²)^(j // 2)``."""
    gens = polynomial.gens
    index = gens.index(sine)
    total = sympy.Poly(0, *gens)
    one_minus = sympy.Poly(1 - cosine**2, *gens)
    for monomial, coefficient in polynomial.terms():
        power = monomial[index]
        reduced = monomial[:index] + (power % 2,) + monomial[index + 1:]
        total += sympy.Poly.from_dict({reduced: coefficient}, *gens) * one_minus ** (power // 2)
    return total


@lru_cache(maxsize=None)
def prove_orthogonal_invariance(d_size, n_size):
    """The eigenbasis reduction used by the stationarity proofs, for rotations
    ``U = [[c, −s], [s, c]]`` (and E likewise) with ``c² + s² = 1``:

    * ``(A, B, C)`` are unchanged by ``R → ERE ᵀ, r → Er, ω → Eω`` (general symmetric R), and
    * ``M − 2A tr(PΣ²) + tr(PᵀΣP(BΣ² + CΣ))`` is unchanged by ``Σ → UΣUᵀ, P → UPUᵀ`` for any
      ``A, B, C`` (general symmetric Σ, general P),

    so ``L`` is invariant under both at once. Differences are expanded and reduced modulo
    ``c² + s² − 1``. Reflections are covered by flipping the sign of an eigenvector, which the
    coefficients ``a = Eᵀr`` absorb. Returns the residuals ``(ΔA, ΔB, ΔC, ΔL)`` (all 0).

    Examples
    --------
    >>> prove_orthogonal_invariance(2, 2)
    (0, 0, 0, 0)
    """
    def rotation(size, name):
        if size == 1:
            return eye(1), ()
        c, sn = symbols(f"c_{name} s_{name}", real=True)
        return Matrix([[c, -sn], [sn, c]]), ((c, sn),)

    def reduce(difference, circle):
        difference = sympy.expand(difference)
        if difference == 0 or not circle:
            return difference
        polynomial = sympy.Poly(difference, *sorted(difference.free_symbols, key=str))
        for cosine, sine in circle:
            polynomial = _reduce_on_circle(polynomial, cosine, sine)
        return polynomial.as_expr()

    (U, circle_U), (E, circle_E) = rotation(d_size, "U"), rotation(n_size, "E")
    R = symbol_matrix("R", n_size, symmetric=True)
    r, omega = Matrix(symbol_vector("r", n_size)), Matrix(symbol_vector("omega", n_size))
    moments = zip(weight_moments(E * R * E.T, E * r, E * omega), weight_moments(R, r, omega))
    residuals = [reduce(rotated - original, circle_E) for rotated, original in moments]
    Sigma, P = symbol_matrix("Sigma", d_size, symmetric=True), symbol_matrix("P", d_size)
    rotated = risk_in_moments(U * Sigma * U.T, U * P * U.T, A_, B_, C_).doit()
    residuals.append(reduce(rotated - risk_in_moments(Sigma, P, A_, B_, C_).doit(), circle_U))
    return tuple(residuals)


@lru_cache(maxsize=None)
def prove_fixed_point_map_constant(d_size, n_size):
    """``φ'(γ)`` simplified: identically 0 when ``d = 1`` (h₂ ≡ s₁/(s₁ + M)) or ``n = 1``
    (h₁ ≡ λ₁), so Theorem 3's conclusion holds trivially there; nonzero for ``d = n = 2``."""
    return _simplify(sympy.diff(fixed_point_map_expression(d_size, n_size), gamma))


@lru_cache(maxsize=None)
def poster_preconditioner_residual(form="poster", n_size=2):
    """(e) Shape residual of a candidate ``P*`` at the stationary ω*, for ``Σ = diag(s₁, s₂)``.

    ``∂L/∂P = 0`` at ``(cP, ω*)`` for some scalar c iff ``p_k (B s_k + C)`` is the same for every
    k (``p_k`` the eigenvalues of P; ``∂L/∂P = 2Σ²(−AI + cP(BΣ + CI))`` in Σ's eigenbasis). The
    residual ``p₁(Bs₁ + C) / (p₂(Bs₂ + C)) − 1`` at ``γ = φ(γ)`` is returned: 0 for Theorem 2's
    corrected ``((γ/M)Σ + I)⁻¹`` (``form="theorem"``), and ``(s₂ − s₁)/s₁`` for the poster's
    ``Σ^{-1/2}((γ/M)Σ + I)⁻¹Σ^{-1/2}``: nonzero unless ``s₁ = s₂``, so the poster's form is not
    stationary for any rescaling (rescaling ω leaves ``B/C`` unchanged).

    Examples
    --------
    >>> poster_preconditioner_residual("theorem")
    0
    >>> poster_preconditioner_residual("poster")
    (-s_1 + s_2)/s_1
    """
    parametrisation = fixed_point_parametrisation(2, n_size)
    s_k, lam_k, a_k = parametrisation["s"], parametrisation["lambda"], parametrisation["a"]
    omega_star = _eigenbasis_weights(h_bar, lam_k, a_k)
    P = _theorem2_preconditioner(omega_star, a_k, s_k, gamma, form=form)
    _, B, C = weight_moments(diag(*lam_k), Matrix(a_k), omega_star)
    ratio = P[0, 0] * (B * s_k[0] + C) / (P[1, 1] * (B * s_k[1] + C))
    return cancel((ratio - 1).subs(gamma, parametrisation["gamma"]))
