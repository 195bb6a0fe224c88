"""Theorem 6 (derived): an L-layer causal GLA with a residual stream runs coupled multi-step WPGD.

Statement checked (``docs/multilayer.md``): with the layer weights of
:func:`wpgd_theory.gla.multilayer.multilayer_construction`, after ℓ layers the label slot of every
token ``i`` (context and query, ``y_{n+1} := 0``) equals ``y_i − x_iᵀ β_i^{(ℓ)}``, where the
per-position iterates follow the coupled recursion of
:func:`wpgd_theory.gla.multilayer.multilayer_wpgd`; the model's prediction is ``xᵀ β_{n+1}^{(L)}``.
With ``G ≡ 1`` and prefix (non-causal) attention this is multi-step PGD
``β_{ℓ+1} = β_ℓ + P_q^ℓ P_k^{ℓᵀ} Xᵀ (y − X β_ℓ)``.

Two routes are compared: the network (:func:`~wpgd_theory.gla.multilayer.multilayer_gla`, built on
:func:`wpgd_theory.gla.gla_recurrence`) and the algorithm (computed from ``X, y, x``, the
preconditioners and the gates, with no state matrices).

Tolerance: both routes are ``O(L n d)`` floating-point sums of terms no larger than the trajectory
scale, so their difference relative to ``max |label slot|`` over all layers is ~1e-15; ``1e-10``
leaves ample room while any wrong sign, gate offset or missing term gives O(1e-2) or more.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from proofs_checks._report import CheckReport, Measurement, StatementReport
from wpgd_theory.gla.gates import GATE_FAMILIES as REGISTRY
from wpgd_theory.gla.multilayer import (
    multilayer_construction,
    multilayer_gla,
    multilayer_wpgd,
    multistep_wpgd,
)
from wpgd_theory.gla.theorem1 import theorem1_prompt

STATEMENT = "Theorem 6 (derived): L-layer causal GLA = coupled multi-step WPGD"
TOLERANCE = 1e-10


@dataclass(frozen=True)
class Theorem6Instance:
    """One in-context regression prompt with per-layer WPGD parameters and gates."""

    X: np.ndarray
    y: np.ndarray
    x: np.ndarray
    P_k: np.ndarray  # (L, d, d)
    P_q: np.ndarray  # (L, d, d)
    gates: list      # L gate specifications (arrays or callables of the layer's tokens)
    family: str

    @property
    def layers(self):
        return len(self.P_k)


def _constant_gates(shape_of):
    """Family of fixed (input-independent) gates with per-layer array shape ``shape_of(T, D)``."""
    def make(rng, T, D, layers):
        return [rng.uniform(0.2, 1.0, size=shape_of(T, D)) for _ in range(layers)]
    return make


def _registry_gates(family):
    """A :mod:`wpgd_theory.gla.gates` family with fresh random parameters in every layer, evaluated
    on the layer's tokens (so the gates see the evolving label slot)."""
    def make(rng, T, D, layers):
        def gate(parameters):
            return lambda Z: family(Z, **parameters)
        return [gate(family.random_parameters(rng, D, D, D)) for _ in range(layers)]
    return make


#: name -> ``make(rng, T, D, layers) -> list of L gate specifications``: fixed gates of each
#: shape, then every data-dependent family of the :mod:`wpgd_theory.gla.gates` registry.
GATE_FAMILIES: dict[str, Callable] = {
    "linear attention (G = 1)": lambda rng, T, D, layers: [1.0] * layers,
    "scalar": _constant_gates(lambda T, D: (T, 1, 1)),
    "vector (key-wise)": _constant_gates(lambda T, D: (T, 1, D)),
    "matrix": _constant_gates(lambda T, D: (T, D, D)),
    **{name: _registry_gates(family) for name, family in REGISTRY.items()},
}


def random_instance(rng, *, n, d, layers, family):
    """A random :class:`Theorem6Instance` (step sizes ~1/(n d) keep the trajectory bounded)."""
    T, D = n + 1, d + 1
    return Theorem6Instance(
        X=rng.normal(size=(n, d)), y=rng.normal(size=n), x=rng.normal(size=d),
        P_k=rng.normal(size=(layers, d, d)) / (d * T), P_q=rng.normal(size=(layers, d, d)),
        gates=GATE_FAMILIES[family](rng, T, D, layers), family=family)


def instances(families=tuple(GATE_FAMILIES), max_n=6, max_d=4, max_layers=4):
    """Hypothesis strategy for :class:`Theorem6Instance` (L = 1..``max_layers``)."""
    return st.builds(
        lambda seed, n, d, layers, family: random_instance(
            np.random.default_rng(seed), n=n, d=d, layers=layers, family=family),
        st.integers(0, 2**32 - 1), st.integers(1, max_n), st.integers(1, max_d),
        st.integers(1, max_layers), st.sampled_from(list(families)))


def _relative_error(actual, reference):
    return float(np.max(np.abs(actual - reference)) / max(np.max(np.abs(reference)), 1e-300))


def _network_states(instance, *, causal, gates):
    Z = theorem1_prompt(instance.x, instance.X, instance.y)
    weights = multilayer_construction(instance.P_k, instance.P_q)
    return multilayer_gla(Z, weights, gates, causal=causal, return_all=True)


def check_theorem6(instance, *, causal=True):
    """Forward pass vs. the coupled WPGD recursion: every label slot at every layer.

    The residual is ``max_{ℓ,i} |(Z_ℓ)_{i,d+1} − (y_i − ŷ_i^{(ℓ)})|`` relative to the largest
    label slot, together with the (exactly zero) change of the feature slots.
    """
    d = instance.X.shape[1]
    states = _network_states(instance, causal=causal, gates=instance.gates)
    algorithm = multilayer_wpgd(instance.x, instance.X, instance.y, instance.P_q, instance.P_k,
                                instance.gates, causal=causal)
    inputs = np.vstack([instance.X, instance.x])
    residual = max(_relative_error(states[:, :, d], algorithm.residuals),
                   float(np.max(np.abs(states[:, :, :d] - inputs))))
    return CheckReport(
        passed=residual <= TOLERANCE, residual=residual, tolerance=TOLERANCE, witness=instance,
        details={"family": instance.family, "layers": instance.layers, "causal": causal,
                 "network_prediction": float(-states[-1, -1, d]),
                 "wpgd_prediction": algorithm.query_prediction})


def check_pgd_reduction(instance):
    """``G ≡ 1``, prefix attention: the network equals multi-step PGD with ``P_ℓ = P_q^ℓ P_k^ℓᵀ``.

    Compares the context label slots with ``y − X β_ℓ`` and the query slot with ``−xᵀ β_ℓ`` at
    every layer ℓ (the instance's gates are ignored).
    """
    d = instance.X.shape[1]
    states = _network_states(instance, causal=False, gates=None)
    betas = multistep_wpgd(instance.X, instance.y, instance.P_q @ instance.P_k.transpose(0, 2, 1))
    expected = np.column_stack([instance.y - betas @ instance.X.T, -betas @ instance.x])
    residual = _relative_error(states[:, :, d], expected)
    return CheckReport(
        passed=residual <= TOLERANCE, residual=residual, tolerance=TOLERANCE, witness=instance,
        details={"layers": instance.layers, "pgd_prediction": float(instance.x @ betas[-1])})


def report(examples=20, seed=0):
    """Run the checks on ``examples`` seeded instances, cycling through :data:`GATE_FAMILIES`
    (the built-in ones and every family of the :mod:`wpgd_theory.gla.gates` registry)."""
    families = list(GATE_FAMILIES)
    causal, prefix, pgd = [], [], []
    for k in range(examples):
        rng = np.random.default_rng([seed, k])
        instance = random_instance(rng, n=int(rng.integers(1, 7)), d=int(rng.integers(1, 5)),
                                   layers=k % 4 + 1, family=families[k % len(families)])
        causal.append(check_theorem6(instance))
        prefix.append(check_theorem6(instance, causal=False))
        pgd.append(check_pgd_reduction(instance))
    failed = next((c for c in causal + prefix + pgd if not c), None)
    return StatementReport.judge(
        STATEMENT,
        [Measurement.of("|L-layer causal GLA − coupled WPGD iterates| / scale", "relative", causal),
         Measurement.of("|L-layer prefix GLA − multi-step WPGD| / scale", "relative", prefix),
         Measurement.of("|G ≡ 1, prefix − multi-step PGD| / scale", "relative", pgd)],
        witness=None if failed is None else failed.witness,
        notes="derived statement (docs/multilayer.md), not the paper's text. causal: per-position "
              "iterates, residuals at each token's own iterate, query label 0 (self-shrinkage "
              "from layer 2); L = 1..4, every gate family")

@given(instances())
def test_forward_pass_equals_coupled_wpgd(instance):
    outcome = check_theorem6(instance)
    assert outcome, outcome


@given(instances())
def test_prefix_forward_pass_equals_shared_wpgd(instance):
    outcome = check_theorem6(instance, causal=False)
    assert outcome, outcome


@given(instances(families=["linear attention (G = 1)"]))
def test_prefix_linear_attention_is_multistep_pgd(instance):
    outcome = check_pgd_reduction(instance)
    assert outcome, outcome


def test_report_passes():
    row = report(examples=8, seed=1)
    assert row.verdict == "holds" and row.worst_residual < TOLERANCE, row
