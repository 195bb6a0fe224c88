"""Theorem 1 (GLA ⇔ data-dependent WPGD), checked on random instances of every gate family.

Statement (poster, docs/theory.md §6). With tokens ``z_i = [x_i; y_i]``, query token ``[x; 0]``,
``W_k = [[P_k,0],[0,0]]``, ``W_q = [[P_q,0],[0,0]]``, ``W_v = [[0,0],[0,1]]`` and ``k_i = W_kᵀ z_i``
(etc.), the GLA prediction is ``(o_{n+1})_{d+1} = xᵀ P_q (X P_k ⊙ Ω)ᵀ y``, row ``i`` of ``Ω`` being
``g_{i+1} ⊙ … ⊙ g_{n+1}`` with ``g_j = G_j[d, :d]``. When the rows of ``Ω`` are constant
(scalar gating, or ``G ≡ 1``) it is also WPGD ``xᵀ P Xᵀ(ω ⊙ y)`` with ``P = P_q P_kᵀ``.

The identity is algebraic: it holds for any real gates, so instances include gates that are
exactly 0, exactly 1, tiny, negative (GateLoop's real part) and full matrices, besides every family
of :data:`wpgd_theory.gla.gates.GATE_FAMILIES` with parameters scaled to saturate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from wpgd_theory.core.predictor import wpgd_predict
from wpgd_theory.gla.gates import GATE_FAMILIES
from wpgd_theory.gla.theorem1 import relative_error, theorem1_residual

from ._report import CheckReport, Measurement, StatementReport

STATEMENT = "Theorem 1: GLA (o_{n+1})_{d+1} = x^T P_q (X P_k ⊙ Ω)^T y"

TOLERANCE = 1e-10
"""Relative to the l1 mass of the summed terms; both sides are O(n d) flops apart, so round-off
is ~1e-15 · n d ≪ 1e-10."""

GENERIC_GATES = ("ones", "scalar", "key-wise", "matrix", "signed-matrix")
"""Gate kinds not tied to an architecture (``"ones"`` is linear attention)."""

GATE_KINDS = GENERIC_GATES + tuple(GATE_FAMILIES)

GATE_SCALES = (0.1, 1.0, 30.0)
"""Parameter scales for families: 30 saturates sigmoids/exponentials to exactly 0 or 1."""


@dataclass
class Theorem1Instance:
    """One regression prompt, a (P_q, P_k) construction and gates (array, or function of ``Z``)."""

    x: np.ndarray
    X: np.ndarray
    y: np.ndarray
    P_q: np.ndarray
    P_k: np.ndarray
    gates: Any
    kind: str
    parameters: dict = field(default_factory=dict)

    def __repr__(self):
        n, d = self.X.shape[-2:]
        return f"Theorem1Instance(kind={self.kind!r}, batch={self.X.shape[:-2]}, n={n}, d={d})"


def _generic_gates(rng, kind, shape_prefix, D):
    """Gates of the ``n + 1`` tokens, mixing exact zeros, exact ones, tiny and uniform values."""
    tail = {"scalar": (1, 1), "key-wise": (1, D), "matrix": (D, D), "signed-matrix": (D, D)}[kind]
    shape = shape_prefix + tail
    if kind == "signed-matrix":
        return rng.uniform(-1.5, 1.5, size=shape)
    pool = np.array([0.0, 1.0, 1e-12, 1.0 - 1e-12])
    special = rng.uniform(size=shape) < 0.3
    return np.where(special, rng.choice(pool, size=shape), rng.uniform(size=shape))


def random_instance(rng, *, d, n, kind, batch=(), scale=1.0):
    """Draw a :class:`Theorem1Instance` with feature dimension ``d`` and ``n`` context pairs.

    ``kind`` is one of :data:`GATE_KINDS`; for a gate family, ``scale`` is the standard deviation
    of its parameters and the gates are computed from the prompt (data-dependent).
    """
    X = rng.standard_normal(batch + (n, d))
    y = rng.standard_normal(batch + (n,))
    x = rng.standard_normal(batch + (d,))
    P_q, P_k = rng.standard_normal((2, d, d))
    D = d + 1
    if kind == "ones":
        gates, parameters = np.ones((n + 1, 1, 1)), {}
    elif kind in GENERIC_GATES:
        gates, parameters = _generic_gates(rng, kind, batch + (n + 1,), D), {}
    else:
        family = GATE_FAMILIES[kind]
        parameters = family.random_parameters(rng, D, D, D, scale=scale)
        gates = partial(family, **parameters)
    return Theorem1Instance(x, X, y, P_q, P_k, gates, kind, parameters)


@st.composite
def theorem1_instances(draw, kinds=GATE_KINDS):
    """Hypothesis strategy for :class:`Theorem1Instance` (d ≤ 5, n ≤ 12, optional batch axis)."""
    return random_instance(
        np.random.default_rng(draw(st.integers(0, 2**32 - 1))),
        d=draw(st.integers(1, 5)), n=draw(st.integers(1, 12)), kind=draw(st.sampled_from(kinds)),
        batch=draw(st.sampled_from([(), (3,)])), scale=draw(st.sampled_from(GATE_SCALES)))


def check_theorem1(instance, *, tolerance=TOLERANCE):
    """Check Theorem 1 on one instance: GLA forward pass vs ``xᵀ P_q (X P_k ⊙ Ω)ᵀ y``.

    If every row of ``Ω`` is constant (scalar gating) the GLA prediction is also compared with
    WPGD ``xᵀ (P_q P_kᵀ) Xᵀ (ω ⊙ y)``, ``ω_i = Ω_{i1}``.

    Returns
    -------
    CheckReport
        ``residual`` is the worst relative residual (see
        :class:`wpgd_theory.gla.Theorem1Residual`); ``details`` holds both predictions.
    """
    i = instance
    result = theorem1_residual(i.x, i.X, i.y, i.P_q, i.P_k, i.gates)
    residual = result.residual
    details = {"gla": result.gla, "dwpgd": result.dwpgd, "kind": i.kind}
    Omega = result.weights
    if np.array_equal(Omega, np.broadcast_to(Omega[..., :1], Omega.shape)):
        wpgd = wpgd_predict(i.x, i.X, i.y, i.P_q @ i.P_k.T, Omega[..., 0])
        details["wpgd"] = wpgd
        residual = max(residual, relative_error(result.gla, wpgd, result.scale))
    return CheckReport(passed=residual <= tolerance, residual=residual, tolerance=tolerance,
                       witness=instance, details=details)


def report(examples=20, seed=0):
    """Check ``examples`` seeded instances, cycling through every gate kind and scale."""
    rng = np.random.default_rng(seed)
    checks = []
    for example in range(examples):
        instance = random_instance(
            rng, d=int(rng.integers(1, 6)), n=int(rng.integers(1, 13)),
            kind=GATE_KINDS[example % len(GATE_KINDS)],
            batch=((), (3,))[example % 2], scale=GATE_SCALES[example % len(GATE_SCALES)])
        checks.append(check_theorem1(instance))
    worst = max(checks, key=lambda check: check.residual)
    return StatementReport.judge(
        STATEMENT,
        [Measurement.of("|GLA (o_{n+1})_{d+1} − xᵀP_q(XP_k ⊙ Ω)ᵀy| / scale", "relative", checks)],
        witness=None if worst else worst.witness,
        notes=f"gate kinds {', '.join(GATE_KINDS)}; d ≤ 5, n ≤ 12, batched and unbatched; scale "
              "= the l1 mass of the summed terms")

# --------------------------------------------------------------------------- tests

@given(theorem1_instances())
def test_theorem1_identity_on_random_instances(instance):
    check = check_theorem1(instance)
    assert check, (check.residual, instance)


def test_every_gate_kind_is_exercised_by_report():
    # Twice the number of kinds guarantees every family appears at least once.
    assert report(examples=2 * len(GATE_KINDS), seed=1).verdict == "holds"


def test_preconditioner_is_P_q_P_k_transpose_not_P_q_P_k():
    # Linear attention (G ≡ 1) is PGD with P = P_q P_kᵀ; the untransposed product P_q P_k is a
    # different predictor for generic (non-symmetric) P_k, so this check can fail.
    i = random_instance(np.random.default_rng(3), d=3, n=6, kind="ones")
    result = theorem1_residual(i.x, i.X, i.y, i.P_q, i.P_k, i.gates)
    right = wpgd_predict(i.x, i.X, i.y, i.P_q @ i.P_k.T, np.ones(6))
    wrong = wpgd_predict(i.x, i.X, i.y, i.P_q @ i.P_k, np.ones(6))
    assert relative_error(result.gla, right, result.scale) < TOLERANCE
    assert relative_error(result.gla, wrong, result.scale) > 1e-2
