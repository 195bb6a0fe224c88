"""Symbolic proofs of Theorem 2, P(ω), the Corollary and Theorem 3's degenerate sizes."""
from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import (
    Matrix,
    cancel,
    diag,
    eye,
    factor,
    kronecker_product,
    ones,
    zeros,
)

from ...core.validation import as_bool
from .base import (
    A_,
    B_,
    C_,
    _eigenbasis_weights,
    _theorem2_preconditioner,
    check_explicit_size,
    closed_form_risk,
    d,
    fixed_point_map_expression,
    gamma,
    h1_expression,
    h2_expression,
    h_bar,
    risk_in_moments,
    sigma2,
    symbol_matrix,
    symbol_vector,
    weight_moments,
)
from .statements import (
    corollary_statement,
    optimal_preconditioner_statement,
    risk_of_weights_statement,
)

__all__ = [
    "fixed_point_parametrisation",
    "prove_h1_is_rayleigh_quotient", "prove_stationarity", "prove_optimal_preconditioner",
    "preconditioner_hessian", "prove_risk_of_weights", "prove_corollary",
    "prove_fixed_point_map_constant", "poster_preconditioner_residual",
]


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
    check_explicit_size("fixed_point_parametrisation", limit=8, d_size=d_size, n_size=n_size)
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
    check_explicit_size("prove_h1_is_rayleigh_quotient", limit=8, n_size=n_size)
    lam_k, a_k = symbol_vector("lambda", n_size), symbol_vector("a", n_size)
    omega = _eigenbasis_weights(h_bar, lam_k, a_k)
    quotient = (omega.T * diag(*lam_k) * omega)[0, 0] / (omega.T * omega)[0, 0]
    return _simplify(quotient - h1_expression(n_size))


@lru_cache(maxsize=None)
def prove_stationarity(d_size, n_size, *, assume_fixed_point=True, form="theorem"):
    """(a) Theorem 2: ``∇L(P*, ω*) = 0`` when ``γ = φ(γ)``, for ``d, n ∈ {1, 2}`` (sizes up
    to 4 are accepted; larger ones would take minutes of SymPy work).

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
    check_explicit_size("prove_stationarity", limit=4, d_size=d_size, n_size=n_size)
    assume_fixed_point = as_bool(assume_fixed_point, "assume_fixed_point")
    if form not in ("theorem", "poster"):
        raise ValueError(f"form must be 'theorem' or 'poster', got {form!r}")
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
    check_explicit_size("prove_optimal_preconditioner", limit=4, d_size=d_size)
    symmetric_sigma = as_bool(symmetric_sigma, "symmetric_sigma")
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
    check_explicit_size("preconditioner_hessian", limit=4, d_size=d_size)

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
    check_explicit_size("prove_risk_of_weights", limit=8, d_size=d_size)
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
    check_explicit_size("prove_corollary", limit=8, d_size=d_size, n_size=n_size)
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



@lru_cache(maxsize=None)
def prove_fixed_point_map_constant(d_size, n_size):
    """``φ'(γ)`` simplified: identically 0 when ``d = 1`` (h₂ ≡ s₁/(s₁ + M)) or ``n = 1``
    (h₁ ≡ λ₁), so Theorem 3's conclusion holds trivially there; nonzero for ``d = n = 2``."""
    check_explicit_size("prove_fixed_point_map_constant", limit=8, d_size=d_size, n_size=n_size)
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
