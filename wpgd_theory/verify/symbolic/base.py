"""Statement objects, the symbols, and the formulas every statement and proof shares."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import sympy
from sympy import (
    BlockMatrix,
    Eq,
    Function,
    Identity,
    IndexedBase,
    Matrix,
    MatrixSymbol,
    Sum,
    Symbol,
    Trace,
    diag,
    eye,
    sqrt,
    symbols,
)
from sympy.logic.boolalg import BooleanFunction
from sympy.printing.numpy import NumPyPrinter

from ...core.validation import as_bool

__all__ = [
    "Statement", "Evaluation", "PositiveSemidefinite", "model_hypotheses", "MAX_EXPLICIT_TERMS",
    "check_explicit_size",
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
    instance : callable, optional
        ``instance(model, **parameters) -> (arguments, finish)``: the numbers of a concrete model
        for :attr:`symbols`, and ``finish(raw)`` mapping the lambdified result to a dict of named
        values in the model's own coordinates. Set for the explicit forms; used by
        :meth:`evaluate` and :meth:`substitute`.
    """

    name: str
    hypotheses: tuple
    conclusion: sympy.Basic
    symbols: tuple
    definitions: tuple = ()
    instance: Callable | None = field(default=None, repr=False, compare=False)

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

    def side(self, which="lhs"):
        """One side of an ``Eq`` conclusion with every definition substituted.

        The theorems about GLA keep a named left-hand side (e.g. ``(o_{n+1})_{d+1}``) so that
        the conclusion does not print as ``X = X``; its value (the GLA run symbolically) is a
        definition, and ``side("lhs")`` returns it.

        Examples
        --------
        >>> from wpgd_theory.verify.symbolic import theorem1_statement
        >>> statement = theorem1_statement(1, 1, "scalar")
        >>> statement.conclusion.lhs
        (o_{n+1})_{d+1}
        >>> statement.side("lhs")
        Pk_11*Pq_11*X_11*gamma_2*x_1*y_1
        """
        if which not in ("lhs", "rhs"):
            raise ValueError(f"which must be 'lhs' or 'rhs', got {which!r}")
        if not isinstance(self.conclusion, Eq):
            raise TypeError(f"{self.name!r}: the conclusion is not an equation")
        return self._substitute_definitions(getattr(self.conclusion, which))

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
        if as_bool(hypotheses, "hypotheses"):
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
        printer = None
        if modules == "numpy":   # an instance, as lambdify builds its own (module imports)
            printer = _NumPyPrinter({"fully_qualified_modules": False, "inline": True,
                                     "allow_unknown_functions": True, "user_functions": {}})
        return sympy.lambdify(_as_lists(self.symbols), expression, modules=modules,
                              printer=printer)

    @cached_property
    def _numeric(self):
        return self.lambdify()

    @cached_property
    def _numeric_lhs(self):
        return self.lambdify(self.conclusion.lhs)

    @property
    def _defined_lhs(self):
        return (isinstance(self.conclusion, Eq)
                and any(definition.lhs == self.conclusion.lhs for definition in self.definitions))

    def _instance(self, model, parameters):
        if self.instance is None:
            raise TypeError(f"{self.name!r} has no numeric instance: pass integer sizes for the "
                            "explicit form (the general form is for reading)")
        return self.instance(model, **parameters)

    def evaluate(self, model, **parameters):
        """The statement's numbers for a concrete model, in the model's coordinates.

        Parameters
        ----------
        model : CorrelatedTaskModel, MultitaskModel or spectra
            What the statement is about; sizes must match the explicit form's (a
            ``MultitaskModel`` enters through its ``K`` block eigenvalues, never through ``n``).
        **parameters
            Statement-specific inputs (``gamma=``, ``h_bar=``, ``weights=``, ``P=``, …); see the
            statement's constructor.

        Returns
        -------
        Evaluation
            Named values (eigen-coordinates rotated back: ``P*`` and ``ω*`` are the matrices and
            vectors of the original basis) and the arguments fed to the formula.

        Raises
        ------
        TypeError
            For a general-size statement, or an unsupported model type.
        ValueError
            When the model's sizes do not match the statement's.
        """
        arguments, finish = self._instance(model, parameters)
        raw = self._numeric(*arguments)
        if self._defined_lhs:       # GLA statements: the named left side is computed too
            raw = (raw, self._numeric_lhs(*arguments))
        values = finish(raw)
        names = [_symbol_name(symbol) for symbol in self.symbols]
        return Evaluation(self.name, values, dict(zip(names, arguments)))

    def substitute(self, model, **parameters):
        """The conclusion with the model's numbers substituted (SymPy ``Float``\\ s); same
        arguments as :meth:`evaluate`. Values are in the statement's coordinates (e.g. the
        eigenbases), since this is the SymPy object itself. Right-hand sides written with
        matrix symbols (traces, inverses) are evaluated numerically, then wrapped."""
        arguments, _ = self._instance(model, parameters)
        mapping = {}
        for symbol, value in zip(self.symbols, arguments):
            _bind(symbol, value, mapping)

        matrix_form = any(isinstance(symbol, MatrixSymbol) for symbol in self.symbols)

        def numbers(expression):
            if matrix_form:   # traces and inverses of explicit matrices: evaluate numerically
                value = np.asarray(self.lambdify(expression)(*arguments), dtype=float)
                return (sympy.Float(float(value)) if value.size == 1 and value.ndim < 2
                        else sympy.ImmutableMatrix(np.atleast_2d(value).tolist()))
            return self._substitute_definitions(expression).xreplace(mapping).doit()

        if isinstance(self.conclusion, Eq):
            return Eq(self.conclusion.lhs.xreplace(mapping), numbers(self.conclusion.rhs),
                      evaluate=False)
        if isinstance(self.conclusion, sympy.Tuple):
            return sympy.Tuple(*[Eq(part.lhs.xreplace(mapping), numbers(part.rhs),
                                    evaluate=False) for part in self.conclusion])
        return numbers(self.conclusion)

    @property
    def free_symbols(self):
        """``{name: Symbol}`` of every symbol in the conclusion, hypotheses and definitions."""
        found = {}
        for part in (self.conclusion, *self.hypotheses, *self.definitions):
            for symbol in getattr(part, "free_symbols", ()):
                if isinstance(symbol, Symbol):
                    found.setdefault(symbol.name, symbol)
        return found

    def subs(self, mapping):
        """The statement with symbols replaced, given by ``Symbol`` or by name.

        Parameters
        ----------
        mapping : dict
            ``{symbol or name: value}``; a name is looked up in :attr:`free_symbols` (the
            symbol carries assumptions, so ``Symbol("g_1")`` alone would not match).

        Returns
        -------
        Statement
            Conclusion, hypotheses and definitions substituted (no numeric instance).

        Raises
        ------
        ValueError
            For a name or symbol the statement does not contain.

        Examples
        --------
        >>> from wpgd_theory.verify.symbolic import delimiter_weights_statement
        >>> st = delimiter_weights_statement(1, (1, 1))
        >>> st.subs({"g_1": 0}).conclusion == st.subs({st.free_symbols["g_1"]: 0}).conclusion
        True
        """
        known = self.free_symbols
        replacements = {}
        for key, value in dict(mapping).items():
            name = key if isinstance(key, str) else getattr(key, "name", None)
            if name not in known or (not isinstance(key, str) and known[name] != key):
                raise ValueError(f"mapping: {key!r} is not a symbol of {self.name!r} "
                                 f"(its symbols: {', '.join(sorted(known))})")
            replacements[known[name]] = sympy.sympify(value)

        def substituted(part):
            if isinstance(part, sympy.Tuple):
                return sympy.Tuple(*[substituted(item) for item in part])
            if isinstance(part, sympy.core.relational.Relational):   # keep both sides shown
                return type(part)(substituted(part.lhs), substituted(part.rhs), evaluate=False)
            return part.subs(replacements) if isinstance(part, sympy.Basic) else part

        return Statement(self.name, tuple(substituted(h) for h in self.hypotheses),
                         substituted(self.conclusion), self.symbols,
                         tuple(substituted(d) for d in self.definitions))

    def __str__(self):
        lines = [self.name, f"  {self.conclusion}"]
        lines += [f"  where {definition.lhs} = {definition.rhs}" for definition in self.definitions]
        lines += [f"  if {hypothesis}" for hypothesis in self.hypotheses]
        return "\n".join(lines)


class _NumPyPrinter(NumPyPrinter):
    """NumPy printer that also prints ``Trace`` (the matrix-form statements use it)."""

    def _print_Trace(self, expr):
        return f"{self._module_format(self._module + '.trace')}({self._print(expr.arg)})"


def _symbol_name(symbol):
    if isinstance(symbol, (tuple, list)):
        name = str(symbol[0]) if symbol else "()"
        return name.rsplit("_", 1)[0] if "_" in name else name
    if isinstance(symbol, sympy.MatrixBase):
        return str(symbol[0]).rsplit("_", 1)[0]
    return str(symbol)


def _bind(symbol, value, mapping):
    if isinstance(symbol, (tuple, list, sympy.MatrixBase)):
        for part, number in zip(symbol, np.ravel(value)):
            mapping[part] = sympy.Float(float(number))
    elif isinstance(symbol, sympy.MatrixSymbol):
        mapping[symbol] = sympy.ImmutableMatrix(np.atleast_2d(np.asarray(value, dtype=float))
                                                .reshape(symbol.shape).tolist())
    else:
        mapping[symbol] = sympy.Float(float(value))


@dataclass(frozen=True)
class Evaluation:
    """A statement evaluated on a concrete model.

    Attributes
    ----------
    statement : str
        The statement's name.
    values : dict
        Named results (floats, booleans or arrays), in the model's coordinates.
    arguments : dict
        The numbers fed to the statement's symbols, by symbol name.
    """

    statement: str
    values: dict
    arguments: dict = field(repr=False)

    def __getitem__(self, name):
        return self.values[name]

    def __repr__(self):
        def summary(value):
            array = np.asarray(value)
            if array.ndim == 0:
                return f"{value:.6g}" if isinstance(value, float) else repr(value)
            return f"<array {array.shape}>"
        parts = ", ".join(f"{key}={summary(value)}" for key, value in self.values.items())
        return f"Evaluation({self.statement!r}, {parts})"


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


class PositiveSemidefinite(BooleanFunction):
    """The hypothesis ``X ⪰ 0`` (symmetric positive semidefinite); kept unevaluated.

    Examples
    --------
    >>> print(sympy.latex(PositiveSemidefinite(MatrixSymbol("Sigma", 2, 2))))
    \\Sigma \\succeq 0
    """

    nargs = 1

    @classmethod
    def eval(cls, matrix):
        return None

    def _latex(self, printer):
        return printer._print(self.args[0]) + r" \succeq 0"

    def _sympystr(self, printer):
        return f"PSD({printer._print(self.args[0])})"


def model_hypotheses(d_size=d, n_size=n, *, eigenbasis=True):
    """The data model's assumptions (docs/theory.md §1) as a tuple of hypotheses.

    Σ symmetric PSD, ``σ² ≥ 0``, ``M = σ² + tr Σ``; R symmetric with unit diagonal and the joint
    task correlation ``[[R, r], [rᵀ, 1]] ⪰ 0``; with ``eigenbasis=True`` also the definitions of
    the eigen-coordinates the explicit forms use: ``Σ = U diag(s) Uᵀ``, ``UᵀU = I``,
    ``R = E diag(λ) Eᵀ``, ``EᵀE = I``, ``a = Eᵀr``. ``d_size``/``n_size`` are integers or the
    symbols ``d``/``n``; ``None`` leaves that part out.

    Examples
    --------
    >>> [str(h) for h in model_hypotheses(None, 2, eigenbasis=False)]
    ['Eq(R, R.T)', 'Eq(R[i, i], 1)', 'PSD(Matrix([\\n[  R, r],\\n[r.T, I]]))']
    """
    eigenbasis = as_bool(eigenbasis, "eigenbasis")
    hypotheses = []
    if d_size is not None:
        Sigma = MatrixSymbol("Sigma", d_size, d_size)
        hypotheses += [Eq(Sigma, Sigma.T, evaluate=False), PositiveSemidefinite(Sigma)]
        if eigenbasis:
            U = MatrixSymbol("U", d_size, d_size)
            hypotheses += [Eq(Sigma, U * _diagonal("s", d_size) * U.T, evaluate=False),
                           Eq(U.T * U, Identity(d_size), evaluate=False)]
        hypotheses += [sympy.Ge(sigma2, 0, evaluate=False),
                       Eq(M, sigma2 + Trace(Sigma), evaluate=False)]
    if n_size is not None:
        R, r = MatrixSymbol("R", n_size, n_size), MatrixSymbol("r", n_size, 1)
        hypotheses += [Eq(R, R.T, evaluate=False), Eq(R[i, i], 1, evaluate=False),
                       PositiveSemidefinite(BlockMatrix([[R, r], [r.T, Identity(1)]]))]
        if eigenbasis:
            E = MatrixSymbol("E", n_size, n_size)
            coefficients = (MatrixSymbol("a", n_size, 1) if isinstance(n_size, sympy.Basic)
                            else Matrix(symbol_vector("a", n_size)))
            hypotheses += [Eq(R, E * _diagonal("lambda", n_size) * E.T, evaluate=False),
                           Eq(E.T * E, Identity(n_size), evaluate=False),
                           Eq(coefficients, E.T * r, evaluate=False)]
    return tuple(hypotheses)


def _diagonal(name, size):
    if isinstance(size, sympy.Basic):
        return sympy.DiagMatrix(MatrixSymbol(name, size, 1))
    return diag(*symbol_vector(name, size))


MAX_EXPLICIT_TERMS = 64
"""Default largest size (``d``, ``n`` or ``K``) of an explicit form: beyond it the term-by-term
expansion (and its lambdification) takes minutes of SymPy work, so the constructors refuse.
Statements whose expansion grows faster carry tighter limits (``limit=``, ``product=`` of
:func:`check_explicit_size`, each stated in its docstring)."""


def check_explicit_size(what, *, limit=MAX_EXPLICIT_TERMS, product=None, **sizes):
    """Raise ``ValueError`` unless every size is ``None`` or an int in ``[1, limit]`` and, if
    ``product`` is given, the product of the sizes is at most ``product``. The message names the
    limit and the alternatives (general form, numeric functions, K-term multitask forms)."""
    given = {name: size for name, size in sizes.items() if size is not None}
    for name, size in given.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{what}: {name} must be a positive integer or None, got {size!r}")
    label = (f"MAX_EXPLICIT_TERMS = {limit}" if limit == MAX_EXPLICIT_TERMS
             else f"the limit {limit} for {what}")
    problem = next((f"{name} = {size} > {label}" for name, size in given.items()
                    if size > limit), None)
    total = int(np.prod(list(given.values()))) if given else 0
    if problem is None and product is not None and total > product:
        problem = (f"{' * '.join(given)} = {total} > the limit {product} for {what} "
                   "(the explicit form grows with the product)")
    if problem is not None:
        raise ValueError(
            f"{what}: {problem}; the explicit form is expanded term by term and would take "
            "minutes. Use the general form (sizes None) for reading, the numeric functions "
            "(solve_model, risk, h1, h2) for numbers, or for a multitask model the K-term forms "
            "(stationary_point_statement(d, K).evaluate(model), "
            "multitask_stationary_point_statement)")


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
    symmetric = as_bool(symmetric, "symmetric")
    unit_diagonal = as_bool(unit_diagonal, "unit_diagonal")
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
    """``ω̃ = (h Λ + I)⁻¹ a``, inverting the diagonal entry by entry (``Matrix.inv`` of a
    symbolic 30×30 diagonal matrix takes minutes)."""
    return Matrix([value / (h * eigenvalue + 1) for eigenvalue, value in zip(lam_k, a_k)])


def _theorem2_preconditioner(omega, a_k, s_k, gamma_value, form="theorem"):
    """``(A/C)((γ/M) diag(s) + I)⁻¹`` (``form="theorem"``) or the poster's
    ``(A/C) Σ^{-1/2}((γ/M)Σ + I)⁻¹Σ^{-1/2}`` (``form="poster"``)."""
    A = (omega.T * Matrix(a_k))[0, 0]
    C = M * (omega.T * omega)[0, 0]
    core = diag(*[1 / ((gamma_value / M) * value + 1) for value in s_k])
    if form == "poster":
        root_inverse = diag(*[1 / sqrt(value) for value in s_k])
        core = root_inverse * core * root_inverse
    elif form != "theorem":
        raise ValueError(f"form must be 'theorem' or 'poster', got {form!r}")
    return (A / C) * core
