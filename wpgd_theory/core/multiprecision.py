"""High-precision symmetric eigendecompositions by refining the float64 one (Ogita–Aishima).

A from-scratch Jacobi eigensolver in mpmath costs minutes at ``n = 200``. Instead,
:func:`refine_eigh` starts from ``numpy.linalg.eigh`` (accurate to ~1e-16) and applies the
iterative refinement of Ogita & Aishima (Japan J. Indust. Appl. Math. 35, 2018) in
multiprecision. With ``R = I − XᵀX``, ``S = XᵀAX`` and ``λ̃_i = S_ii / (1 − R_ii)``::

    E_ij = (S_ij + λ̃_j R_ij) / (λ̃_j − λ̃_i)   if i, j are in different clusters,   else R_ij / 2
    X    ← X + X E

Eigenvectors inside a repeated or nearly repeated eigenvalue are ill-conditioned (and the ones
``eigh`` returns there differ between BLAS builds), but the invariant subspace of a cluster is
well-conditioned, and it is all the solver needs: ``U f(s) Uᵀ`` and ``E g(λ) Eᵀ r`` do not change
under rotations inside a cluster of equal eigenvalues. So the refinement works on subspaces:

1. the clusters are fixed once, from the float eigenvalues: runs with adjacent gaps
   ``≤ CLUSTER_GAP · max|θ|`` (2⁻²⁰). The step above, with this fixed partition, converges to an
   orthonormal basis of each cluster's invariant subspace — quadratically without clusters,
   and by at least 16 bits per step with them (the Rayleigh quotients inside a cluster are
   exact only to float64; across clusters they are ≥ 2⁻²⁰ apart);
2. each cluster's block ``B = X_cᵀAX_c`` (multiprecision) is split as ``μI + C`` with
   ``μ = tr(B)/k``. If ``max|C|`` is below the working precision the cluster is degenerate: its
   eigenvalues are ``μ`` and the basis ``X_c`` is as good as any. Otherwise ``C`` is scaled
   exactly by a power of two to ``max|C| ≈ 1`` and diagonalised by the same two steps (its float
   eigh sees the spread, not round-off): eigenvalues ``μ + λ(C)``, vectors ``X_c V_C``. Each
   level shrinks the spread by at least ``d·CLUSTER_GAP``, so the recursion ends.

So no valid (finite, symmetric) matrix makes the refinement fail: the clusters that defeated the
previous version (eigenvalues within the correction's own size of each other, and float
eigenvectors inside them that differ between BLAS builds) are now resolved by construction.

The O(n³) products run in python-flint's ``arb_mat`` when it is installed (~0.1 s at n = 200,
60 digits) and otherwise in NumPy object arrays of ``mpmath.mpf`` (same algorithm, slower).
Results are object arrays of ``mpmath.mpf`` at the caller's ``mpmath.mp.dps``.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import mpmath
import numpy as np

from .validation import as_symmetric_matrix

_UNLOADED = object()
#: python-flint (optional accelerator, extra ``wpgd-theory[precise]``), imported on first use;
#: None when it is not installed.
flint = _UNLOADED


def _load_flint():
    global flint
    if flint is _UNLOADED:
        try:
            import flint as module
        except ImportError:  # pragma: no cover - exercised where python-flint is absent
            module = None
        flint = module
    return flint


__all__ = ["refine_eigh", "mp_matmul", "mp_congruence", "to_mpf_array"]

#: Float eigenvalues whose adjacent gap is at most this times ``max|θ|`` are refined as one
#: cluster (an invariant subspace). float64's eigenvectors are accurate to ``~d·2⁻⁵²/gap``, so
#: across clusters they start within ``d·2⁻³²`` of the exact ones and every refinement step
#: gains at least 16 bits; inside a cluster the recursion of :func:`_cluster_spectrum` resolves
#: the spread, which is ``≤ d·CLUSTER_GAP`` of the level above.
CLUSTER_GAP = 2.0 ** -20


def to_mpf_array(values):
    """An object array of ``mpmath.mpf`` (exact conversion of floats)."""
    array = np.asarray(values)
    return np.array([mpmath.mpf(v) for v in array.ravel().tolist()],
                    dtype=object).reshape(array.shape)


class _MpmathBackend:
    """Matrices are NumPy object arrays of ``mpmath.mpf`` (no extra dependency)."""

    @staticmethod
    def from_float(array):
        return to_mpf_array(array)

    @staticmethod
    def from_objects(array):
        return array

    @staticmethod
    def objects(matrix):
        return matrix

    @staticmethod
    def to_mpf(matrix):
        return matrix

    @staticmethod
    def from_mpf(array):
        return array

    @staticmethod
    def transpose(matrix):
        return matrix.T

    @staticmethod
    def matmul(A, B):
        return A @ B


class _FlintBackend:
    """Matrices are python-flint ``arb_mat`` midpoints (radii dropped: this is floating-point
    refinement, not interval arithmetic); scalars are ``arb``."""

    @staticmethod
    def from_float(array):
        array = np.asarray(array, dtype=float)
        return flint.arb_mat(*array.shape, array.ravel().tolist())

    @staticmethod
    def from_objects(array):
        return flint.arb_mat(array.tolist())

    @staticmethod
    def objects(matrix):
        return np.array(matrix.tolist(), dtype=object).reshape(matrix.nrows(), matrix.ncols())

    @staticmethod
    def to_mpf(matrix):
        array = np.asarray(matrix.tolist() if isinstance(matrix, flint.arb_mat) else matrix,
                           dtype=object)
        return np.array([_mpf(v) for v in array.ravel().tolist()],
                        dtype=object).reshape(array.shape)

    @staticmethod
    def from_mpf(array):
        array = np.asarray(array)
        return flint.arb_mat(*array.shape, [_arb(v) for v in array.ravel().tolist()])

    @staticmethod
    def transpose(matrix):
        return matrix.transpose()

    @staticmethod
    def matmul(A, B):
        return (A * B).mid()


def _arb(value):
    sign, man, exp, _ = mpmath.mpf(value)._mpf_
    return flint.arb(flint.arf((-man if sign else man, exp)))


def _mpf(value):
    man, exp = (value if value.rad() == 0 else value.mid()).man_exp()
    return mpmath.mpf((int(man), int(exp)))


@contextmanager
def _backend():
    """The fastest available backend, at the current ``mpmath.mp.prec`` + 32 guard bits."""
    if _load_flint() is None:
        with mpmath.workprec(mpmath.mp.prec + 32):
            yield _MpmathBackend
        return
    saved = flint.ctx.prec
    flint.ctx.prec = mpmath.mp.prec + 32
    try:
        with mpmath.workprec(mpmath.mp.prec + 32):
            yield _FlintBackend
    finally:
        flint.ctx.prec = saved


def mp_matmul(A, B):
    """``A @ B`` for 2-d object arrays of ``mpmath.mpf``, through the fastest backend.

    Examples
    --------
    >>> A = to_mpf_array([[1.0, 2.0], [3.0, 4.0]])
    >>> mp_matmul(A, A)[1, 0] == 15
    True
    """
    with _backend() as backend:
        if backend is _MpmathBackend:
            return A @ B
        return backend.to_mpf(backend.matmul(backend.from_mpf(A), backend.from_mpf(B)))


def mp_congruence(U, p):
    """``U diag(p) Uᵀ`` for object arrays of ``mpmath.mpf`` (``U`` converted once).

    Examples
    --------
    >>> U = to_mpf_array([[0.6, -0.8], [0.8, 0.6]])
    >>> P = mp_congruence(U, to_mpf_array([1.0, 2.0]))
    >>> [round(float(v), 12) for v in P.ravel()]
    [1.64, -0.48, -0.48, 1.36]
    """
    with _backend() as backend:
        if backend is _MpmathBackend:
            return (U * p) @ U.T
        V = backend.from_mpf(U)
        scaled = backend.objects(V) * np.array([_arb(v) for v in p], dtype=object)
        return backend.to_mpf(backend.matmul(backend.from_objects(scaled), V.transpose()))


def refine_eigh(matrix):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a float symmetric matrix.

    Accurate to the current ``mpmath.mp.dps`` relative to ``max|A|`` for every spectrum,
    including exactly repeated and nearly repeated eigenvalues (eigenvectors of eigenvalues
    closer than that are determined only up to rotations among them, and any orthonormal basis
    of their invariant subspace is returned); returned as object arrays of ``mpmath.mpf``.
    The matrix is first scaled exactly by a power of two to ``max|A| ≈ 1``.
    ``matrix`` must be a finite, real, square, non-empty and symmetric (to ``SYMMETRY_RTOL``
    relative) array, else ``ValueError``/``TypeError`` naming it
    (:func:`~wpgd_theory.core.validation.as_symmetric_matrix`, which also symmetrises it).

    Examples
    --------
    >>> with mpmath.workdps(40):
    ...     values, vectors = refine_eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    ...     print(mpmath.nstr(values[0], 35), mpmath.nstr(vectors[0, 1] ** 2, 35))
    1.0 0.5

    An exactly repeated eigenvalue ``3/4`` (any orthonormal basis of its eigenspace is right)
    and a near-repeated pair ``1 ± 10⁻²⁰`` hidden below float64's resolution:

    >>> with mpmath.workdps(40):
    ...     values, vectors = refine_eigh(0.75 * np.eye(4) + 0.25 * np.ones((4, 4)))
    ...     print([mpmath.nstr(v, 30) for v in values])
    ['0.75', '0.75', '0.75', '1.75']
    >>> with mpmath.workdps(40):
    ...     values, _ = refine_eigh(np.array([[1.0, 1e-20], [1e-20, 1.0]]))
    ...     print(mpmath.nstr(values[1] - 1, 5))
    1.0e-20
    """
    A = as_symmetric_matrix(matrix, "matrix")
    largest = float(np.max(np.abs(A), initial=0.0))
    if largest == 0.0:
        return to_mpf_array(np.zeros(A.shape[0])), to_mpf_array(np.eye(A.shape[0]))
    exponent = math.frexp(largest)[1]
    unit = np.ldexp(A, -exponent)                        # exact: max|unit| in [1/2, 1)
    target = mpmath.ldexp(1, -mpmath.mp.prec)
    with _backend() as backend:
        values, X = _eigen(backend, backend.from_float(unit), unit, target, target)
    order = sorted(range(values.size), key=values.__getitem__)
    return np.array([mpmath.ldexp(v, exponent) for v in values[order]], dtype=object), X[:, order]


def _eigen(backend, A, A_float, target, resolution):
    """Eigenvalues and eigenvectors (mpf object arrays) of the symmetric backend matrix ``A``
    (``max|A| ≈ 1``, rounded to ``A_float``): the invariant subspaces of the float clusters
    first (orthonormal and invariant to ``target``), then each cluster's own spectrum by
    recursion, down to spreads of ``resolution`` (below which eigenvalues are equal)."""
    theta, X0 = np.linalg.eigh(A_float)
    groups = _partition(theta)
    X, values, S = _refine_subspaces(backend, A, backend.from_float(X0), groups, target)
    for members in groups:
        if members.size == 1:
            continue
        block = backend.to_mpf(S[np.ix_(members, members)])
        block_values, rotation = _cluster_spectrum(backend, block, target, resolution)
        values[members] = block_values
        if rotation is not None:
            product = backend.matmul(backend.from_mpf(X[:, members]), backend.from_mpf(rotation))
            X[:, members] = backend.to_mpf(product)
    return values, X


def _partition(theta):
    """Runs of the ascending float eigenvalues with adjacent gaps ``≤ CLUSTER_GAP · max|θ|``."""
    norm = float(np.max(np.abs(theta)))
    cuts = np.flatnonzero(np.diff(theta) > CLUSTER_GAP * norm) + 1
    return np.split(np.arange(theta.size), cuts)


def _refine_subspaces(backend, A, X, groups, target):
    """Ogita–Aishima steps with the fixed partition ``groups`` until ``X`` is an orthonormal
    basis of each group's invariant subspace to ``target``; returns ``X`` and the Rayleigh
    quotients (mpf object arrays) and ``S = XᵀAX`` (backend objects; its diagonal blocks are the
    clusters' blocks).

    Cross-cluster entries of the correction follow Ogita–Aishima; inside a group it only
    orthonormalises (``R/2``). Without clusters the error after a step is ~size² (quadratic
    convergence: the Rayleigh quotients are exact to second order). Inside a cluster they are
    exact only to float64, so the error is ~size·d·2⁻³² (linear) and steps repeat until the
    correction itself is below ``target``; ``S`` of that last step is then accurate to it.
    """
    label = np.empty(sum(g.size for g in groups), dtype=int)
    for k, members in enumerate(groups):
        label[members] = k
    same = label[:, None] == label[None, :]
    clustered = any(g.size > 1 for g in groups)
    for _ in range(_max_steps(target)):
        S, R, lam = _rayleigh(backend, A, X)
        gap = np.where(same, 1, lam[None, :] - lam[:, None])
        E = np.where(same, R / 2, (S + lam[None, :] * R) / gap)
        size = _largest(backend, E)
        if clustered and size <= target:
            return backend.to_mpf(X), backend.to_mpf(lam), S
        X = X + backend.matmul(X, backend.from_objects(E))
        if not clustered and size * size <= 256 * target:
            return backend.to_mpf(X), backend.to_mpf(lam), S
    # Unreachable: _max_steps is twice the worst case the step's gain guarantees (see there).
    # Not an ArithmeticError a caller should catch for a valid input: a bug to report.
    raise AssertionError("refine_eigh exceeded its proven step bound (a bug; please report "
                         "the matrix)")  # pragma: no cover


def _largest(backend, objects):
    """``max|x|`` of an object array as an mpf (through floats unless they could underflow)."""
    largest = float(np.max(np.abs(np.asarray(objects, dtype=float))))
    if largest > 2.0 ** -900:
        return mpmath.mpf(largest)
    return max(abs(v) for v in backend.to_mpf(objects).ravel())


def _max_steps(target):
    """Twice the worst case: a step gains ``log2(gap/(d·2⁻⁵²)) ≥ 32 − log2 d`` bits (measured:
    31 bits at d = 40 with gaps of 1.05·2⁻²⁰), i.e. ≥ 16 bits for d ≤ 65536."""
    return 8 + -int(mpmath.mag(target)) // 8


def _cluster_spectrum(backend, block, target, resolution):
    """Eigenvalues and the rotation (None: any basis) of a cluster's block ``B = X_cᵀAX_c``.

    With ``μ = tr(B)/k`` and ``C = B − μI``: if ``max|C| ≤ resolution`` the cluster is degenerate
    at this precision (all eigenvalues ``μ``); otherwise ``C`` is scaled exactly by a power of two
    to ``max|C| ≈ 1`` and diagonalised by the same refinement, whose float eigh now sees the
    spread. The rotation is orthonormal to ``target`` at every depth; the resolution, an
    absolute accuracy, scales with ``C``.
    """
    k = block.shape[0]
    block = (block + block.T) / 2
    mu = mpmath.fsum(np.diagonal(block)) / k
    C = block - mu * np.eye(k, dtype=object)
    largest = max(abs(v) for v in C.ravel())
    if largest <= resolution:
        return np.full(k, mu, dtype=object), None
    exponent = int(mpmath.frexp(largest)[1])
    unit = np.vectorize(lambda v: mpmath.ldexp(v, -exponent), otypes=[object])(C)
    values, rotation = _eigen(backend, backend.from_mpf(unit), unit.astype(float), target,
                              mpmath.ldexp(resolution, -exponent))
    return np.array([mu + mpmath.ldexp(v, exponent) for v in values], dtype=object), rotation


def _rayleigh(backend, A, X):
    """``S = XᵀAX``, ``R = I − XᵀX`` (object arrays) and ``λ̃_i = S_ii / (1 − R_ii)``."""
    Xt = backend.transpose(X)
    S = backend.objects(backend.matmul(Xt, backend.matmul(A, X)))
    R = np.eye(S.shape[0], dtype=object) - backend.objects(backend.matmul(Xt, X))
    lam = np.diagonal(S) / (1 - np.diagonal(R))
    return S, R, lam
