"""The closed form from Gaussian moments (Isserlis), and the eigenbasis reduction."""
from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import (
    Matrix,
    Symbol,  # noqa: F401 (the isserlis_moment doctest uses it)
    eye,
    symbols,
)

from ...core.validation import as_bool, as_integer, as_sequence
from .base import (
    A_,
    B_,
    C_,
    check_explicit_size,
    risk_in_moments,
    sigma2,
    symbol_matrix,
    symbol_vector,
    weight_moments,
)

__all__ = [
    "MAX_ISSERLIS_ORDER", "gaussian_expectation", "isserlis_moment", "prove_risk_from_gaussian_moments",
    "prove_orthogonal_invariance",
]


# ---------------------------------------------------------------- Gaussian moments (Isserlis)

#: Largest order :func:`isserlis_moment` accepts: 10 distinct indices are 945 pairings, 12 already
#: 10 395 (seconds of SymPy work), 16 about 2·10⁶; the risk's expectation needs order 4.
MAX_ISSERLIS_ORDER = 10


def isserlis_moment(indices, covariance):
    """``E[z_{i₁} ⋯ z_{i_k}]`` for ``z ~ N(0, covariance)`` by Isserlis' (Wick's) theorem: the
    sum over perfect pairings of products of covariances (0 for odd k).

    Examples
    --------
    ``indices`` is a sequence of at most :data:`MAX_ISSERLIS_ORDER` ints in ``[0, k)`` for a
    ``k × k`` covariance (a moment of order 2m has (2m − 1)!! pairings).

    Examples
    --------
    >>> s11 = Symbol("s_11")
    >>> isserlis_moment((0, 0, 0, 0), Matrix([[s11]]))
    3*s_11**2
    """
    covariance = sympy.ImmutableMatrix(covariance)
    if not covariance.is_square:
        raise ValueError(f"covariance must be a square matrix, got shape {covariance.shape}")
    if not (isinstance(indices, (tuple, list)) and not indices):     # () is the empty moment
        indices = as_sequence(indices, "indices", lambda value, name: as_integer(
            value, name, minimum=0, maximum=covariance.rows - 1), of="int")
    if len(indices) > MAX_ISSERLIS_ORDER:
        raise ValueError(f"indices has {len(indices)} entries > MAX_ISSERLIS_ORDER = "
                         f"{MAX_ISSERLIS_ORDER} (a moment of order 2m is a sum over (2m − 1)!! "
                         "pairings)")
    return _isserlis(tuple(sorted(indices)), covariance)


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

    Sizes up to 2 are accepted (the expectation of a degree-8 polynomial in ``(n + 1)(2d + 1)``
    Gaussian variables grows very fast).
    """
    check_explicit_size("prove_risk_from_gaussian_moments", limit=2, d_size=d_size,
                        n_size=n_size)
    plus_identity = as_bool(plus_identity, "plus_identity")
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

    Sizes are 1 or 2 (the rotations are 2 × 2).
    """
    check_explicit_size("prove_orthogonal_invariance", limit=2, d_size=d_size, n_size=n_size)

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
