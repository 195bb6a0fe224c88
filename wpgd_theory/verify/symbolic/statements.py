"""The statements of Theorems 2–3, the closed-form risk and the Corollary (docs/theory.md)."""
from __future__ import annotations

import sympy
from sympy import (
    Abs,
    Eq,
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
    eye,
    ones,
    symbols,
)

from . import instances
from .base import (
    A_,
    B_,
    C_,
    M,
    PositiveSemidefinite,
    Statement,
    _eigenbasis_weights,
    _sum,
    _theorem2_preconditioner,
    a,
    check_explicit_size,
    d,
    fixed_point_map_expression,
    gamma,
    h1_expression,
    h2_expression,
    h_1,
    h_2,
    h_bar,
    i,
    instantiate,
    k,
    lam,
    loss,
    model_hypotheses,
    n,
    phi,
    risk_in_moments,
    s,
    sigma2,
    symbol_matrix,
    symbol_vector,
    weight_moments,
)

__all__ = [
    "h1_statement", "h2_statement", "fixed_point_map_statement", "stationary_point_statement",
    "spectral_gap_statement", "risk_statement", "optimal_preconditioner_statement",
    "risk_of_weights_statement", "corollary_statement", "all_statements",
]


# --------------------------------------------------------------------------------- statements

def _eigen_hypotheses(d_size, n_size):
    """Model assumptions (:func:`model_hypotheses`, eigenbasis definitions included) and the
    sign of each eigenvalue symbol the explicit form uses."""
    hypotheses = list(model_hypotheses(d_size, n_size))
    if d_size is not None:
        hypotheses += [sympy.Gt(value, 0, evaluate=False) for value in symbol_vector("s", d_size)]
    if n_size is not None:
        hypotheses += [sympy.Ge(value, 0, evaluate=False)
                       for value in symbol_vector("lambda", n_size)]
    return hypotheses


def h1_statement(n_terms=None):
    """Theorem 2's ``h₁``; symbols ``(h̄, λ, a)`` as in :func:`wpgd_theory.core.spectral.h1`.

    Examples
    --------
    >>> print(h1_statement().latex())
    h_{1}{\\left(\\bar{h} \\right)} = \\frac{\\sum_{i=1}^{n} \\frac{{a}_{i}^{2} {\\lambda}_{i}}{\\left(\\bar{h} {\\lambda}_{i} + 1\\right)^{2}}}{\\sum_{i=1}^{n} \\frac{{a}_{i}^{2}}{\\left(\\bar{h} {\\lambda}_{i} + 1\\right)^{2}}}
    >>> h1_statement(2).lambdify()(0.5, [0.5, 1.5], [1.0, 0.0])   # as wpgd_theory.core.spectral.h1
    0.5
    """
    check_explicit_size("h1_statement", n_terms=n_terms)
    if n_terms is None:
        hypotheses = model_hypotheses(None, n) + (lam[i] >= 0, _sum(a[i] ** 2, n) > 0)
        variables = (h_bar, lam, a)
    else:
        lam_k, a_k = symbol_vector("lambda", n_terms), symbol_vector("a", n_terms)
        hypotheses = tuple(_eigen_hypotheses(None, n_terms)) + (sum(x**2 for x in a_k) > 0,)
        variables = (h_bar, lam_k, a_k)
    return Statement("h1 (Theorem 2, docs/theory.md §3)", hypotheses,
                     Eq(h_1(h_bar), h1_expression(n_terms)), variables,
                     instance=None if n_terms is None else instances.h1_instance(n_terms))


def h2_statement(d_terms=None):
    """Theorem 2's ``h₂``; symbols ``(γ, s, M)`` as in :func:`wpgd_theory.core.spectral.h2`.

    Examples
    --------
    >>> print(h2_statement(1))
    h2 (Theorem 2, docs/theory.md §3)
      Eq(h_2(gamma), 1/(M/s_1 + 1))
      if Eq(Sigma, Sigma.T)
      if PSD(Sigma)
      if Eq(Sigma, U*Matrix([[s_1]])*U.T)
      if Eq(U.T*U, I)
      if sigma^2 >= 0
      if Eq(M, sigma^2 + Trace(Sigma))
      if s_1 > 0
      if gamma >= 1
      if Eq(M, s_1 + sigma^2)
    >>> import numpy as np
    >>> from wpgd_theory.core.model import CorrelatedTaskModel
    >>> model = CorrelatedTaskModel(np.diag([1.0, 3.0]), np.eye(1), [0.5], 0.0)
    >>> h2_statement(2).evaluate(model, gamma=2.0)["h2"]
    0.387283236994...
    >>> from wpgd_theory.core.spectral import h2
    >>> h2(2.0, np.array([1.0, 3.0]), 4.0)
    0.387283236994...
    """
    check_explicit_size("h2_statement", d_terms=d_terms)
    if d_terms is None:
        hypotheses = model_hypotheses(d, None) + (s[k] > 0, gamma >= 1,
                                                  Eq(M, sigma2 + _sum(s[k], d, k)))
        variables = (gamma, s, M)
    else:
        s_k = symbol_vector("s", d_terms)
        hypotheses = tuple(_eigen_hypotheses(d_terms, None)) + (gamma >= 1,
                                                                Eq(M, sigma2 + sum(s_k)))
        variables = (gamma, s_k, M)
    return Statement("h2 (Theorem 2, docs/theory.md §3)", hypotheses,
                     Eq(h_2(gamma), h2_expression(d_terms)), variables,
                     instance=None if d_terms is None else instances.h2_instance(d_terms))


def fixed_point_map_statement(d_terms=None, n_terms=None):
    """``φ(γ) = 1 + h₁(h₂(γ))``; symbols ``(γ, s, M, λ, a)``. ``evaluate(model, gamma=…)``."""
    check_explicit_size("fixed_point_map_statement", product=256, d_terms=d_terms,
                        n_terms=n_terms)
    explicit = d_terms is not None and n_terms is not None
    if not explicit:
        variables = (gamma, s, M, lam, a)
    else:
        variables = (gamma, symbol_vector("s", d_terms), M, symbol_vector("lambda", n_terms),
                     symbol_vector("a", n_terms))
    hypotheses = (tuple(_eigen_hypotheses(d_terms, n_terms)) if explicit
                  else model_hypotheses(d, n))
    return Statement("fixed-point map phi = 1 + h1(h2(gamma)) (Theorem 2, docs/theory.md §3)",
                     hypotheses,
                     Eq(phi(gamma), fixed_point_map_expression(d_terms, n_terms)), variables,
                     instance=(instances.fixed_point_map_instance(d_terms, n_terms) if explicit
                               else None))


def stationary_point_statement(d_terms=None, n_terms=None):
    """Theorem 2 with the corrected ``P*`` (docs/theory.md §5): if ``γ = φ(γ)`` then a stationary
    point of ``L`` is

        ω* = (h₂(γ) R + I)⁻¹ r,     P* = A (BΣ + CI)⁻¹ = (A/C) ((γ/M) Σ + I)⁻¹,

    ``A, B, C`` being the moments of ``ω*`` (the last equality is where ``γ = φ(γ)`` enters:
    ``B/‖ω*‖² = 1 + h₁(h₂(γ))``). The general form uses matrix symbols. The explicit form is
    written in the eigenbases (``Σ = diag(s)``, ``R = diag(λ)``, ``r = a``); its symbols are
    ``(γ, s, M, λ, a)`` and :meth:`Statement.lambdify` returns ``(P̃*, ω̃*)``, to be rotated back
    by the eigenvectors of Σ and R — which :meth:`Statement.evaluate` does: it returns
    ``preconditioner = U P̃* Uᵀ`` and ``weights = E ω̃*`` (``block_weights`` for a
    :class:`~wpgd_theory.multitask.model.MultitaskModel`, whose explicit form has ``n_terms = K``)
    at ``gamma`` (default: the solver's γ*). Proved by :func:`prove_stationarity`.

    Diagonal inverses are formed entry by entry, so ``(8, 30)`` builds in about a second; sizes
    above :data:`MAX_EXPLICIT_TERMS` raise ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from wpgd_theory.core.model import CorrelatedTaskModel
    >>> from wpgd_theory.core.solver import solve_model
    >>> model = CorrelatedTaskModel(np.diag([1.0, 2.0]), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    >>> result = stationary_point_statement(2, 2).evaluate(model)
    >>> result
    Evaluation('Theorem 2: stationary point (P*, w*) in the eigenbases', preconditioner=<array (2, 2)>, weights=<array (2,)>, gamma=2.20377)
    >>> bool(np.allclose(result["weights"], solve_model(model).weights, rtol=1e-12, atol=0))
    True
    """
    check_explicit_size("stationary_point_statement", product=256, d_terms=d_terms,
                        n_terms=n_terms)
    if d_terms is None or n_terms is None:
        Sigma, R = MatrixSymbol("Sigma", d, d), MatrixSymbol("R", n, n)
        r, omega = MatrixSymbol("r", n, 1), MatrixSymbol(r"\omega^*", n, 1)
        P = MatrixSymbol("P^*", d, d)
        h = h_2(gamma)
        omega_star = (h * R + Identity(n)).inverse() * r
        P_star = (A_ / C_) * ((gamma / M) * Sigma + Identity(d)).inverse()
        definitions = (Eq(A_, omega.T * r, evaluate=False),
                       Eq(C_, M * omega.T * omega, evaluate=False))
        hypotheses = model_hypotheses(d, n, eigenbasis=False) + (Eq(gamma, phi(gamma)),)
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
                     conclusion, (gamma, s_k, M, lam_k, a_k),
                     instance=instances.stationary_point_instance(d_terms, n_terms))




def spectral_gap_statement(d_terms=2, n_terms=2):
    """Theorem 3 (T1): ``Δ_Σ Δ_R < M + s_min`` ⇒ ``|φ'(γ)| < 1`` on ``[1 + λ_min, 1 + λ_max]``.

    Eigenvalues are taken positive, so the effective gaps (nonzero eigenvalues, docs/theory.md §4)
    are ``max − min``; for singular Σ or R pass only the nonzero eigenvalues for the gaps.
    The first hypothesis lambdifies to :func:`wpgd_theory.core.spectral.spectral_gap_condition`'s
    ``holds``; the conclusion involves ``φ'`` as the derivative of the explicit φ. Symbols
    ``(γ, s, M, λ, a)``. Not proved symbolically here (only the degenerate sizes, see
    :func:`prove_fixed_point_map_constant`).

    ``evaluate(model, gamma=…)`` (default γ*) returns ``gap_condition`` (the hypothesis),
    ``slope`` (φ'(γ)) and ``contraction`` (the conclusion).
    """
    check_explicit_size("spectral_gap_statement", product=128, d_terms=d_terms,
                        n_terms=n_terms)
    if d_terms is None or n_terms is None:
        delta_sigma, delta_R, s_min = symbols(r"Delta_Sigma Delta_R s_min", nonnegative=True)
        lam_min, lam_max = symbols(r"lambda_min lambda_max", nonnegative=True)
        hypotheses = (delta_sigma * delta_R < M + s_min,
                      sympy.Contains(gamma, Interval(1 + lam_min, 1 + lam_max)))
        hypotheses += model_hypotheses(d, n)
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
    variables = (gamma, s_k, M, lam_k, a_k)
    return Statement("Theorem 3 (T1): spectral gap => contraction", hypotheses, conclusion,
                     variables, instance=instances.spectral_gap_instance(
                         d_terms, n_terms, variables, gap, slope))


def risk_statement(d_size=None, n_size=None):
    """The closed-form risk (docs/theory.md §2).

    Explicit form: symbols ``(Σ, R, r, σ², P, ω)`` with *all* entries of Σ, R, P independent (so a
    numeric matrix can be passed as is); it lambdifies to a function matching
    :func:`wpgd_theory.core.risk.risk`; ``evaluate(model, P=…, weights=…)``.

    Examples
    --------
    >>> print(risk_statement().latex())
    L{\\left(P,\\omega \\right)} = - 2 A \\operatorname{tr}\\left(P \\Sigma^{2} \\right) + M + \\operatorname{tr}\\left(P^{T} \\Sigma P \\left(B \\Sigma^{2} + C \\Sigma\\right) \\right)
    """
    check_explicit_size("risk_statement", limit=6, product=18, d_size=d_size, n_size=n_size)
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
                         model_hypotheses(d, n, eigenbasis=False),
                         conclusion, (Sigma, R, r, sigma2, P, omega), definitions)
    Sigma, P = symbol_matrix("Sigma", d_size), symbol_matrix("P", d_size)
    R = symbol_matrix("R", n_size)
    r, omega = Matrix(symbol_vector("r", n_size)), Matrix(symbol_vector("omega", n_size))
    A, B, C = weight_moments(R, r, omega, M)
    definitions = (Eq(A_, A), Eq(B_, B), Eq(C_, C), Eq(M, sigma2 + Sigma.trace()))
    conclusion = Eq(loss(Symbol("P"), Symbol("omega")),
                    sympy.expand(risk_in_moments(Sigma, P, A_, B_, C_).doit()))
    return Statement("closed-form risk (docs/theory.md §2)",
                     _explicit_model_hypotheses(Sigma, R, r), conclusion,
                     (Sigma, R, tuple(r), sigma2, P, tuple(omega)), definitions,
                     instance=instances.risk_instance(d_size, n_size))


def _explicit_model_hypotheses(Sigma=None, R=None, r=None):
    """:func:`model_hypotheses` for explicit matrices of independent entries: symmetry, PSD,
    ``σ² ≥ 0``, R's unit diagonal and the joint correlation ``[[R, r], [rᵀ, 1]] ⪰ 0``."""
    hypotheses = []
    if Sigma is not None:
        hypotheses += [Eq(Sigma, Sigma.T, evaluate=False), PositiveSemidefinite(Sigma),
                       sympy.Ge(sigma2, 0, evaluate=False)]
    if R is not None:
        joint = R.row_join(r).col_join(r.T.row_join(Matrix([[1]])))
        hypotheses += [Eq(R, R.T, evaluate=False)]
        hypotheses += [Eq(R[j, j], 1, evaluate=False) for j in range(R.rows)
                       if R[j, j] != 1]
        hypotheses += [PositiveSemidefinite(joint)]
    return tuple(hypotheses)


def optimal_preconditioner_statement(d_size=None):
    """``P(ω) = A (BΣ + CI)⁻¹``, the best preconditioner for fixed ω (docs/theory.md §2).

    Explicit form: symbols ``(Σ, A, B, C)``, lambdifying to the matrix
    :func:`wpgd_theory.core.risk.optimal_preconditioner` returns for weights with moments ``(A, B, C)``.
    Proved by :func:`prove_optimal_preconditioner` and :func:`preconditioner_hessian`.
    ``evaluate(model, weights=…)`` (block weights for a multitask model) computes the moments.
    """
    check_explicit_size("optimal_preconditioner_statement", limit=4, d_size=d_size)
    if d_size is None:
        Sigma = MatrixSymbol("Sigma", d, d)
        conclusion = Eq(MatrixSymbol(r"P(\omega)", d, d),
                        A_ * (B_ * Sigma + C_ * Identity(d)).inverse(), evaluate=False)
    else:
        Sigma = symbol_matrix("Sigma", d_size)
        conclusion = Eq(Symbol(r"P(\omega)"), A_ * (B_ * Sigma + C_ * eye(d_size)).inv(),
                        evaluate=False)
    hypotheses = (model_hypotheses(d, n, eigenbasis=False) if d_size is None
                  else _explicit_model_hypotheses(Sigma))
    return Statement("best preconditioner for fixed weights (docs/theory.md §2)",
                     hypotheses + _moment_hypotheses(), conclusion, (Sigma, A_, B_, C_),
                     instance=(None if d_size is None
                               else instances.optimal_preconditioner_instance(d_size)))


def _moment_hypotheses():
    omega = MatrixSymbol("omega", n, 1)
    return (Eq(A_, omega.T * MatrixSymbol("r", n, 1), evaluate=False),
            Eq(B_, omega.T * (MatrixSymbol("R", n, n) + Identity(n)) * omega, evaluate=False),
            Eq(C_, M * omega.T * omega, evaluate=False), sympy.Ge(B_, 0, evaluate=False),
            C_ > 0)


def risk_of_weights_statement(d_terms=None):
    """``L(ω) = M − A² Σ_i s_i² / (B s_i + C)`` (docs/theory.md §2); symbols ``(s, M, A, B, C)``;
    ``evaluate(model, weights=…)``."""
    check_explicit_size("risk_of_weights_statement", d_terms=d_terms)
    general = M - A_**2 * _sum(s[i] ** 2 / (B_ * s[i] + C_), d)
    expression = general if d_terms is None else instantiate(general, d=d_terms)
    variables = (s, M, A_, B_, C_) if d_terms is None else (symbol_vector("s", d_terms), M, A_,
                                                            B_, C_)
    hypotheses = (model_hypotheses(d, n) if d_terms is None else tuple(_eigen_hypotheses(d_terms, None))
                  + model_hypotheses(None, n, eigenbasis=False))
    return Statement("risk of the weights with the best P (docs/theory.md §2)",
                     tuple(hypotheses) + _moment_hypotheses(),
                     Eq(loss(Symbol("omega")), expression), variables,
                     instance=(None if d_terms is None
                               else instances.risk_of_weights_instance(d_terms)))


def corollary_statement(n_size=None):
    """The Corollary (docs/theory.md §7): for ``Σ = I_d``, ``ω = 1``,

        L*_ATT = min_P L(P, 1) = d + σ² − d (1ᵀr)² / (n (d + σ² + 1) + 1ᵀR1).

    ``d`` stays a symbol. Explicit form: symbols ``(d, σ², R, r)`` with all entries of R
    independent, lambdifying to :func:`wpgd_theory.core.risk.linear_attention_risk` at ``Σ = I_d``.

    Examples
    --------
    >>> corollary_statement().conclusion.rhs
    d - d*Sum(r[i], (i, 1, n))**2/(n*(d + sigma^2 + 1) + Sum(R[i, j], (i, 1, n), (j, 1, n))) + sigma^2
    >>> corollary_statement(1).conclusion.rhs
    -d*r_1**2/(R_11 + d + sigma^2 + 1) + d + sigma^2
    """
    check_explicit_size("corollary_statement", n_size=n_size)
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
    assumptions = (model_hypotheses(None, n, eigenbasis=False) if n_size is None
                   else _explicit_model_hypotheses(None, R, r))
    hypotheses = (Eq(Symbol("Sigma"), Symbol("I_d")), Eq(Symbol("omega"), Symbol("1")),
                  sympy.Ge(sigma2, 0, evaluate=False)) + assumptions
    return Statement("Corollary: optimal linear-attention risk at Sigma = I (docs/theory.md §7)",
                     hypotheses, Eq(Symbol(r"L^*_{ATT}"), value), variables,
                     instance=None if n_size is None else instances.corollary_instance(n_size))


def all_statements():
    """Every statement, by name: the general form where there is one, else (Theorems 1, 4, 5,
    6) the smallest explicit form that shows it (d = 1, n = 2 or two blocks of one token;
    ``statement.evaluate`` needs the explicit form of the model's sizes).

    Examples
    --------
    >>> sorted(all_statements())[:4]
    ['corollary', 'h1', 'h2', 'multitask_corollary']
    >>> all_statements()["theorem4"].name
    'Theorem 4: scalar delimiter gates give block weights (d=1, sizes=[1, 1])'
    """
    from .gating import delimiter_weights_statement
    from .multilayer import multilayer_statement
    from .multitask import multitask_corollary_statement, multitask_stationary_point_statement
    from .theorem1 import theorem1_statement

    return {
        "h1": h1_statement(), "h2": h2_statement(), "phi": fixed_point_map_statement(),
        "theorem1": theorem1_statement(1, 2, "matrix"),
        "theorem2": stationary_point_statement(), "theorem3": spectral_gap_statement(None, None),
        "theorem4": delimiter_weights_statement(1, (1, 1), "scalar"),
        "theorem5": delimiter_weights_statement(1, (1, 1), "vector"),
        "theorem6": multilayer_statement(1, 2, 2, "vector"),
        "risk": risk_statement(), "optimal_preconditioner": optimal_preconditioner_statement(),
        "risk_of_weights": risk_of_weights_statement(), "corollary": corollary_statement(),
        "multitask_stationary_point": multitask_stationary_point_statement(),
        "multitask_corollary": multitask_corollary_statement(),
    }
