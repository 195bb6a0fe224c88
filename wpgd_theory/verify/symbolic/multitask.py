"""Theorem 2 and the Corollary for multitask models, in forms whose size is set by K, not n.

A multitask model (docs/theory.md §7, :mod:`wpgd_theory.multitask.model`) has ``R = U C Uᵀ`` and
``r = U c`` with ``U`` the ``n × K`` block indicator, ``D = UᵀU = diag(n_1..n_K)``. Trying
``ω = U w`` in ``(h̄R + I)ω = r`` gives ``U(h̄CD + I)w = Uc``, so Theorem 2's weights are constant
on blocks,

    w* = (h₂(γ) C D + I)⁻¹ c,     φ(γ) = 1 + wᵀDCDw / wᵀDw,     P* = (A/C)((γ/M)Σ + I)⁻¹,

with ``A = ωᵀr = wᵀDc`` and ``C = M‖ω‖² = M wᵀDw``. ``h₂`` is written without eigenvectors,
``h₂(γ) = [1 + M tr(Σ²(MI + γΣ)⁻²) / tr(Σ³(MI + γΣ)⁻²)]⁻¹``, so the statement is in the user's
coordinates (Σ, C, c, n_k) throughout: nothing to rotate back, and its expression has the same
size for every K and d (matrix symbols; it lambdifies to NumPy ``inv``/``trace`` calls).
:func:`prove_multitask_reduction` checks the reduction exactly for small block sizes.
"""
from __future__ import annotations

import numpy as np
import sympy
from sympy import Eq, Identity, Inverse, Matrix, MatrixSymbol, Symbol, Trace, diag, ones

from ...multitask.model import MultitaskModel, solve_multitask
from .base import (
    A_,
    M,
    PositiveSemidefinite,
    Statement,
    check_explicit_size,
    d,
    gamma,
    h_2,
    h_bar,
    i,
    phi,
    sigma2,
    symbol_matrix,
    symbol_vector,
)

__all__ = [
    "K", "multitask_hypotheses", "multitask_h2_expression", "multitask_stationary_point_statement",
    "multitask_corollary_statement", "prove_multitask_reduction",
]

K = Symbol("K", integer=True, positive=True)
"""Number of tasks (blocks)."""
C_omega = Symbol(r"C_{\omega}", nonnegative=True)
"""The moment ``C = M‖ω‖²`` (renamed: ``C`` is the task correlation matrix here)."""


def multitask_hypotheses(d_size=d, K_size=K):
    """The multitask model's assumptions: Σ symmetric PSD, ``σ² ≥ 0``, ``M = σ² + tr Σ``; C
    symmetric with unit diagonal, ``[[C, c], [cᵀ, 1]] ⪰ 0``; ``D = diag(n_k)``, ``n_k ≥ 1``
    integers; and how it is a correlated-task model: ``R = UCUᵀ``, ``r = Uc``, ``UᵀU = D``."""
    Sigma = MatrixSymbol("Sigma", d_size, d_size)
    C, c = MatrixSymbol("C", K_size, K_size), MatrixSymbol("c", K_size, 1)
    D, n_k = MatrixSymbol("D", K_size, K_size), Symbol("n_k", integer=True, positive=True)
    n_size = Symbol("n", integer=True, positive=True)
    U = MatrixSymbol("U", n_size, K_size)
    R, r = MatrixSymbol("R", n_size, n_size), MatrixSymbol("r", n_size, 1)
    return (Eq(Sigma, Sigma.T, evaluate=False), PositiveSemidefinite(Sigma),
            sympy.Ge(sigma2, 0, evaluate=False), Eq(M, sigma2 + Trace(Sigma), evaluate=False),
            Eq(C, C.T, evaluate=False), Eq(C[i, i], 1, evaluate=False),
            PositiveSemidefinite(sympy.BlockMatrix([[C, c], [c.T, Identity(1)]])),
            Eq(D, sympy.DiagMatrix(MatrixSymbol("n_vec", K_size, 1)), evaluate=False),
            sympy.Ge(n_k, 1, evaluate=False),
            Eq(R, U * C * U.T, evaluate=False), Eq(r, U * c, evaluate=False),
            Eq(U.T * U, D, evaluate=False))


def multitask_h2_expression(Sigma, argument=gamma):
    """``h₂(γ) = [1 + M tr(Σ²(MI + γΣ)⁻²) / tr(Σ³(MI + γΣ)⁻²)]⁻¹``: docs/theory.md §3's h₂
    without eigenvectors (Σ's eigenvalues enter through the traces)."""
    identity = Identity(Sigma.shape[0])
    squared_inverse = Inverse(M * identity + argument * Sigma) ** 2
    return 1 / (1 + M * Trace(Sigma**2 * squared_inverse) / Trace(Sigma**3 * squared_inverse))


def multitask_stationary_point_statement(d_size=None, K_size=None):
    """Theorem 2 for a multitask model, in block coordinates (module docstring).

    Symbols ``(γ, Σ, σ², C, c, D)``: matrix symbols of shape ``d×d``, ``K×K``, ``K×1``, ``K×K``
    (symbolic shapes when a size is ``None``). The conclusion is ``(w*, P*)`` with ``ω* = U w*``;
    its expression does not grow with K or d. ``evaluate(model, gamma=…)`` (default: the
    solver's γ*) on a :class:`~wpgd_theory.multitask.model.MultitaskModel` returns
    ``block_weights``, ``preconditioner`` (user basis) and ``phi`` (φ(γ), so the fixed-point
    hypothesis can be read off).

    Examples
    --------
    >>> import numpy as np
    >>> from wpgd_theory.multitask.model import MultitaskModel, solve_multitask
    >>> model = MultitaskModel([[1, .5], [.5, 1]], [.9, .3], [10**9, 3 * 10**9],
    ...                        np.diag([1.0, 2.0]), 0.1)
    >>> statement = multitask_stationary_point_statement(2, 2)
    >>> result = statement.evaluate(model)
    >>> solution = solve_multitask(model)
    >>> bool(np.allclose(result["block_weights"], solution.block_weights, rtol=1e-9, atol=0))
    True
    >>> bool(abs(result["phi"] - result["gamma"]) < 1e-9 * result["gamma"])
    True
    >>> print(multitask_stationary_point_statement().latex())
    \\left( w^{*} = \\left(h_{2}{\\left(\\gamma \\right)} C D + \\mathbb{I}\\right)^{-1} c, \\  P^{*} = \\frac{A}{C_{\\omega}} \\left(\\frac{\\gamma}{M} \\Sigma + \\mathbb{I}\\right)^{-1}\\right)
    """
    check_explicit_size("multitask_stationary_point_statement", d_size=d_size, K_size=K_size)
    d_shape = d if d_size is None else d_size
    K_shape = K if K_size is None else K_size
    Sigma = MatrixSymbol("Sigma", d_shape, d_shape)
    C, c = MatrixSymbol("C", K_shape, K_shape), MatrixSymbol("c", K_shape, 1)
    D = MatrixSymbol("D", K_shape, K_shape)
    w = MatrixSymbol("w^*", K_shape, 1)
    explicit = d_size is not None and K_size is not None
    h = multitask_h2_expression(Sigma) if explicit else h_2(gamma)
    w_star = Inverse(h * C * D + Identity(K_shape)) * c
    P_star = (A_ / C_omega) * Inverse((gamma / M) * Sigma + Identity(d_shape))
    definitions = (Eq(A_, Trace(w.T * D * c), evaluate=False),
                   Eq(C_omega, M * Trace(w.T * D * w), evaluate=False),
                   Eq(w, w_star, evaluate=False))
    if explicit:
        definitions += (Eq(M, sigma2 + Trace(Sigma), evaluate=False),)
    phi_value = 1 + Trace(w.T * D * C * D * w) / Trace(w.T * D * w)
    hypotheses = multitask_hypotheses(d_shape, K_shape) + (
        Eq(gamma, phi(gamma)), Eq(phi(gamma), phi_value, evaluate=False))
    conclusion = sympy.Tuple(Eq(w, w_star, evaluate=False),
                             Eq(MatrixSymbol("P^*", d_shape, d_shape), P_star, evaluate=False))
    statement = Statement("Theorem 2 for multitask models (block weights, docs/theory.md §7)",
                          hypotheses, conclusion, (gamma, Sigma, sigma2, C, c, D), definitions,
                          instance=_stationary_instance(d_size, K_size) if explicit else None)
    return _with_phi(statement, phi_value) if explicit else statement


def _with_phi(statement, phi_value):
    # evaluate() also reports φ(γ): extend the lambdified tuple by φ.
    expression = sympy.Tuple(*statement.expression, statement._substitute_definitions(phi_value))
    object.__setattr__(statement, "_numeric", statement.lambdify(expression))
    return statement


def _stationary_instance(d_size, K_size):
    def instance(model, *, gamma=None):
        if not isinstance(model, MultitaskModel):
            raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")
        if (model.d, model.K) != (d_size, K_size):
            raise ValueError(f"statement is for d = {d_size}, K = {K_size}; the model has "
                             f"d = {model.d}, K = {model.K}")
        value = float(solve_multitask(model).gamma_star if gamma is None else gamma)
        arguments = (value, model.Sigma, model.sigma2, model.task_correlation,
                     model.query_correlation[:, None], np.diag(model.sizes.astype(float)))

        def finish(raw):
            w, P, phi_value = raw
            return {"preconditioner": np.asarray(P, dtype=float),
                    "block_weights": np.ravel(np.asarray(w, dtype=float)),
                    "gamma": value, "phi": float(np.squeeze(phi_value))}
        return arguments, finish
    return instance


def multitask_corollary_statement(K_size=None):
    """The Corollary for a multitask model: at ``Σ = I_d``, ``ω = 1``,

        L*_ATT = d + σ² − d (Σ_k n_k c_k)² / (n(d + σ² + 1) + Σ_kl n_k C_kl n_l),  n = Σ n_k,

    since ``1ᵀr = nᵀc`` and ``1ᵀR1 = nᵀCn``: ``K² + 2K`` terms whatever n is. Symbols
    ``(d, σ², C, c, n_vec)``; ``evaluate(model)`` on a MultitaskModel with ``Σ = I``.

    Examples
    --------
    >>> import numpy as np
    >>> from wpgd_theory.multitask.model import MultitaskModel, multitask_linear_attention_risk
    >>> model = MultitaskModel(np.eye(2), [0.9, 0.3], [10**9, 10**9], np.eye(5), 0.5)
    >>> value = multitask_corollary_statement(2).evaluate(model)["risk"]
    >>> bool(abs(value - multitask_linear_attention_risk(model)) < 1e-12)
    True
    """
    check_explicit_size("multitask_corollary_statement", K_size=K_size)
    if K_size is None:
        C, c = MatrixSymbol("C", K, K), MatrixSymbol("c", K, 1)
        n_vec = MatrixSymbol("n_vec", K, 1)
        sum_r, sum_R = Trace(n_vec.T * c), Trace(n_vec.T * C * n_vec)
        total = Symbol("n", integer=True, positive=True)   # n = Σ n_k
        variables, shape = (d, sigma2, C, c, n_vec), K
    else:
        C = symbol_matrix("C", K_size)   # independent entries: a numeric matrix passes as is
        c = Matrix(symbol_vector("c", K_size))
        n_vec = Matrix([Symbol(f"n_{k + 1}", integer=True, positive=True)
                        for k in range(K_size)])
        sum_r, sum_R = (n_vec.T * c)[0, 0], (n_vec.T * C * n_vec)[0, 0]
        total = (ones(1, K_size) * n_vec)[0, 0]
        variables, shape = (d, sigma2, C, tuple(c), tuple(n_vec)), K_size
    value = d + sigma2 - d * sum_r**2 / (total * (d + sigma2 + 1) + sum_R)
    hypotheses = (Eq(Symbol("Sigma"), Symbol("I_d")), Eq(Symbol("omega"), Symbol("1"))) + \
        multitask_hypotheses(d, shape)
    return Statement("Corollary for multitask models (K terms, docs/theory.md §7)", hypotheses,
                     Eq(Symbol(r"L^*_{ATT}"), value), variables,
                     instance=None if K_size is None else _corollary_instance(K_size))


def _corollary_instance(K_size):
    def instance(model):
        if not isinstance(model, MultitaskModel):
            raise TypeError(f"model must be a MultitaskModel, got {type(model).__name__}")
        if model.K != K_size:
            raise ValueError(f"statement is for K = {K_size}; the model has K = {model.K}")
        if not np.array_equal(model.Sigma, np.eye(model.d)):
            raise ValueError("the Corollary assumes Sigma = I_d; the model's Sigma is not the "
                             "identity")
        sizes = model.sizes.astype(float)
        arguments = (model.d, model.sigma2, model.task_correlation, model.query_correlation,
                     sizes)
        return arguments, lambda raw: {"risk": float(raw)}
    return instance


def prove_multitask_reduction(sizes=(1, 2)):
    """The block reduction, exactly, for block sizes ``sizes`` (general symmetric unit-diagonal
    C, symbolic c and h̄): with ``R = UCUᵀ``, ``r = Uc``, ``w = (h̄CD + I)⁻¹c`` and ``ω = Uw``,

    * ``(h̄R + I)ω − r = 0`` (so ``ω = (h̄R + I)⁻¹r``, Theorem 2's weights, is constant on blocks),
    * ``ωᵀRω − wᵀDCDw = 0``, ``ωᵀω − wᵀDw = 0``, ``ωᵀr − wᵀDc = 0`` (φ, A and C in K terms).

    Returns the four simplified residuals (a zero vector and three zeros).

    Examples
    --------
    >>> prove_multitask_reduction((1, 2))
    (Matrix([
    [0],
    [0],
    [0]]), 0, 0, 0)
    """
    sizes = tuple(int(size) for size in sizes)
    if not sizes or min(sizes) < 1 or sum(sizes) > 6:
        raise ValueError(f"sizes must be positive with n = sum(sizes) <= 6, got {sizes}")
    K_size = len(sizes)
    C = symbol_matrix("C", K_size, symmetric=True, unit_diagonal=True)
    c = Matrix(symbol_vector("c", K_size))
    U = Matrix([[1 if k == block else 0 for k in range(K_size)]
                for block, size in enumerate(sizes) for _ in range(size)])
    D = diag(*sizes)
    R, r = U * C * U.T, U * c
    w = (h_bar * C * D + sympy.eye(K_size)).inv() * c
    omega = U * w
    scalar = lambda expression: sympy.cancel(expression[0, 0])  # noqa: E731
    residual = ((h_bar * R + sympy.eye(sum(sizes))) * omega - r).applyfunc(sympy.cancel)
    return (sympy.ImmutableMatrix(residual),
            scalar(omega.T * R * omega - w.T * D * C * D * w),
            scalar(omega.T * omega - w.T * D * w), scalar(omega.T * r - w.T * D * c))

