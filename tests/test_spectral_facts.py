"""Property checks of the derived facts of docs/theory.md §3 on random spectra (n up to 500, Σ over
six decades), complementing ``proofs_checks/check_theorem2.py`` (small dense models).

Tolerances: all quantities are O(1)–O(n) sums of positive terms evaluated in floats; 1e-12
relative to their scale covers round-off, while a wrong sign or bound misses by O(1).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wpgd_theory.core.spectral import (
    fixed_point_bracket,
    fixed_point_map,
    fixed_point_map_derivative,
    h1,
    h1_derivative,
    h2,
    h2_derivative,
)
from wpgd_theory.verify.search import SpectralInstance, random_instance

seeds = st.integers(0, 2**32 - 1)
sizes = st.tuples(st.integers(1, 500), st.integers(1, 60))


def _instance(seed, sizes):
    return random_instance(np.random.default_rng(seed), *sizes)


def _relevant(instance):
    return instance.R_eigenvalues[instance.r_coefficients != 0]


@given(seeds, sizes, st.floats(0, 1e3))
def test_h1_lies_between_relevant_eigenvalues(seed, sizes, h_bar):
    inst = _instance(seed, sizes)
    value = h1(h_bar, inst.R_eigenvalues, inst.r_coefficients)
    lam = _relevant(inst)
    scale = 1e-12 * max(1.0, lam.max())
    assert lam.min() - scale <= value <= lam.max() + scale


@given(seeds, sizes)
def test_h1_non_increasing_and_h2_decreasing(seed, sizes):
    inst = _instance(seed, sizes)
    h_bars = np.linspace(0, 2, 257)
    values = h1(h_bars, inst.R_eigenvalues, inst.r_coefficients)
    lam_scale = max(1.0, inst.R_eigenvalues.max())
    assert np.all(np.diff(values) <= 1e-12 * lam_scale)
    assert np.all(h1_derivative(h_bars, inst.R_eigenvalues, inst.r_coefficients)
                  <= 1e-12 * lam_scale**2)
    gammas = np.linspace(1, 1 + inst.n, 257)
    assert np.all(h2_derivative(gammas, inst.sigma_eigenvalues, inst.M) <= 1e-15)
    assert np.all(np.diff(h2(gammas, inst.sigma_eigenvalues, inst.M)) <= 1e-15)


@given(seeds, sizes, st.floats(1, 1e4))
def test_h2_range(seed, sizes, gamma):
    """``h₂ = m/(m + M)`` with ``m`` a weighted mean of the nonzero ``s``: so
    ``0 < h₂ ≤ s_max/(s_max + M)``, with equality iff all nonzero ``s`` are equal (e.g. d = 1):
    The interval of docs/theory.md §3 is closed on top when ``Δ_Σ = 0``."""
    inst = _instance(seed, sizes)
    s_max = inst.sigma_eigenvalues.max()
    value = h2(gamma, inst.sigma_eigenvalues, inst.M)
    bound = s_max / (s_max + inst.M)
    assert 0 < value <= bound * (1 + 1e-15)
    if inst.spectral_gap_sigma > 1e-6 * s_max:
        assert value < bound


def test_h2_attains_its_upper_bound_when_sigma_is_isotropic():
    inst = SpectralInstance([2.0, 2.0, 0.0], 0.5, [1.0], [0.7])
    # Equal up to the rounding of x = s/M, in which h₂ is evaluated (scale-free form).
    assert h2(3.0, inst.sigma_eigenvalues, inst.M) == pytest.approx(2.0 / (2.0 + inst.M),
                                                                    rel=1e-15)


@given(seeds, sizes)
def test_phi_non_decreasing_and_maps_bracket_into_itself(seed, sizes):
    inst = _instance(seed, sizes)
    lo, hi = fixed_point_bracket(inst)
    gammas = np.linspace(lo, hi, 513) if hi > lo else np.array([lo])
    values = np.atleast_1d(fixed_point_map(gammas, inst))
    scale = 1e-12 * hi
    assert np.all(np.diff(values) >= -scale)
    assert np.all(fixed_point_map_derivative(gammas, inst) >= -scale)
    assert np.all((values >= lo - scale) & (values <= hi + scale))


@given(seeds, sizes, st.lists(st.floats(0, 50), min_size=1, max_size=5))
def test_directions_without_r_drop_out(seed, sizes, extra):
    inst = _instance(seed, sizes)
    lam = np.concatenate([inst.R_eigenvalues, extra])
    a = np.concatenate([inst.r_coefficients, np.zeros(len(extra))])
    h_bars = np.linspace(0, 1, 33)
    np.testing.assert_allclose(h1(h_bars, lam, a),   # only the summation order differs
                               h1(h_bars, inst.R_eigenvalues, inst.r_coefficients), rtol=1e-13)


def test_single_relevant_direction_makes_phi_constant():
    inst = SpectralInstance([1.0, 4.0], 0.2, [0.5, 1.5], [0.0, 1.1])
    gammas = np.linspace(1, 3, 9)
    np.testing.assert_allclose(fixed_point_map(gammas, inst), 2.5, rtol=1e-15)
