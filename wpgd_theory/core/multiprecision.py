"""High-precision symmetric eigendecompositions by refining the float64 one (Ogita–Aishima).

A from-scratch Jacobi eigensolver in mpmath costs minutes at ``n = 200``. Instead,
:func:`refine_eigh` starts from ``numpy.linalg.eigh`` (accurate to ~1e-16) and applies the
iterative refinement of Ogita & Aishima (Japan J. Indust. Appl. Math. 35, 2018) in
multiprecision. With ``R = I − XᵀX``, ``S = XᵀAX`` and ``λ̃_i = S_ii / (1 − R_ii)``::

    E_ij = (S_ij + λ̃_j R_ij) / (λ̃_j − λ̃_i)   if |λ̃_i − λ̃_j| > δ,   else R_ij / 2
    X    ← X + X E,      δ = 2 (‖S − diag(λ̃)‖ + ‖A‖ ‖R‖)

which roughly squares the error of ``X`` per step. Eigenvalues closer than ``δ`` form a cluster
that the step only orthonormalises; a cluster is resolved as in Ogita–Aishima's part II, by
rotating its columns with the float eigenvectors of its shifted block ``X_cᵀ(A − μI)X_c``
(computed in multiprecision, so the float step sees the spread inside the cluster, not
round-off), which gains ~15 digits inside the cluster per rotation.

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

#: Most refinement steps (each squares the error; rotations resolve clusters ~15 digits each).
MAX_STEPS = 40


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

    Accurate to the current ``mpmath.mp.dps`` relative to ``max|A|`` (eigenvectors of eigenvalues
    closer than that are determined only up to rotations among them); returned as object arrays
    of ``mpmath.mpf``. The matrix is first scaled exactly by a power of two to ``max|A| ≈ 1``.
    ``matrix`` must be a finite, real, square, non-empty and symmetric (to ``SYMMETRY_RTOL``
    relative) array, else ``ValueError``/``TypeError`` naming it
    (:func:`~wpgd_theory.core.validation.as_symmetric_matrix`, which also symmetrises it).

    Examples
    --------
    >>> with mpmath.workdps(40):
    ...     values, vectors = refine_eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    ...     print(mpmath.nstr(values[0], 35), mpmath.nstr(vectors[0, 1] ** 2, 35))
    1.0 0.5
    """
    A = as_symmetric_matrix(matrix, "matrix")
    largest = float(np.max(np.abs(A), initial=0.0))
    if largest == 0.0:
        return to_mpf_array(np.zeros(A.shape[0])), to_mpf_array(np.eye(A.shape[0]))
    exponent = math.frexp(largest)[1]
    unit = np.ldexp(A, -exponent)                        # exact: max|unit| in [1/2, 1)
    _, X = np.linalg.eigh(unit)
    target = 2.0 ** (-mpmath.mp.prec)
    with _backend() as backend:
        values, X = _refine(backend, unit, X, target)
        values, X = backend.to_mpf(values), backend.to_mpf(X)
    order = np.argsort([float(v) for v in values], kind="stable")
    return np.array([mpmath.ldexp(v, exponent) for v in values[order]], dtype=object), X[:, order]


def _refine(backend, unit, X0, target):
    A, X = backend.from_float(unit), backend.from_float(X0)
    norm_A = float(np.max(np.abs(np.linalg.eigvalsh(unit))))
    settled = False  # X converged apart from rotations inside clusters
    for _ in range(MAX_STEPS):
        S, R, lam = _rayleigh(backend, A, X)
        clusters = _clusters(S, R, lam, norm_A)
        groups = _cluster_members(clusters)
        if settled:
            rotated = _rotate_clusters(backend, X, S, R, lam, groups, target)
            if rotated is None:
                return lam, X
            X, settled = rotated, False
            continue
        E, size = _correction(S, R, lam, clusters)
        X = X + backend.matmul(X, backend.from_objects(E))
        if size * size <= 256 * target:  # λ̃ and the updated X are now accurate to ~size²
            if not groups:
                return lam, X
            settled = True   # re-check the clusters at the converged X
    raise ArithmeticError("eigenvector refinement did not converge")  # pragma: no cover


def _rayleigh(backend, A, X):
    """``S = XᵀAX``, ``R = I − XᵀX`` (object arrays) and ``λ̃_i = S_ii / (1 − R_ii)``."""
    Xt = backend.transpose(X)
    S = backend.objects(backend.matmul(Xt, backend.matmul(A, X)))
    R = np.eye(S.shape[0], dtype=object) - backend.objects(backend.matmul(Xt, X))
    lam = np.diagonal(S) / (1 - np.diagonal(R))
    return S, R, lam


def _clusters(S, R, lam, norm_A):
    """Boolean matrix ``|λ̃_i − λ̃_j| ≤ δ`` with Ogita–Aishima's ``δ`` (Frobenius upper bounds).

    The differences are taken in multiprecision: float64 cannot resolve gaps below ulp(λ).
    """
    gaps = np.asarray(lam[None, :] - lam[:, None], dtype=float)
    off = np.asarray(S, dtype=float) - np.diag(np.asarray(lam, dtype=float))
    delta = 2 * (np.linalg.norm(off) + norm_A * np.linalg.norm(np.asarray(R, dtype=float)))
    return np.abs(gaps) <= delta


def _correction(S, R, lam, clusters):
    gap = np.where(clusters, 1, lam[None, :] - lam[:, None])
    E = np.where(clusters, R / 2, (S + lam[None, :] * R) / gap)
    return E, float(np.max(np.abs(np.asarray(E, dtype=float))))


def _rotate_clusters(backend, X, S, R, lam, groups, target):
    """Rotate each unresolved cluster by the float eigenvectors of ``X_cᵀ(A − μI)X_c``.

    That block is ``S_cc − μ(I − R_cc)`` (``XᵀX = I − R``); returns None if no cluster needs it.
    """
    rotation, rotated = np.eye(S.shape[0]), False
    for members in groups:
        mu, index = np.mean(lam[members]), np.ix_(members, members)
        block = np.asarray(S[index] + mu * R[index] - mu * np.eye(members.size), dtype=float)
        if np.max(np.abs(block - np.diag(np.diag(block)))) > target:
            rotation[index] = np.linalg.eigh((block + block.T) / 2)[1]
            rotated = True
    return backend.matmul(X, backend.from_float(rotation)) if rotated else None


def _cluster_members(clusters):
    """Index sets of the connected components (size > 1) of the cluster relation."""
    n, seen, groups = clusters.shape[0], np.zeros(clusters.shape[0], dtype=bool), []
    for start in range(n):
        if seen[start]:
            continue
        component, frontier = {start}, [start]
        while frontier:
            new = set(np.flatnonzero(clusters[frontier].any(axis=0)).tolist()) - component
            component |= new
            frontier = list(new)
        seen[list(component)] = True
        if len(component) > 1:
            groups.append(np.array(sorted(component)))
    return groups
