"""The all-roots search of find_fixed_points: close root pairs inside one grid cell are found."""
import numpy as np
import pytest

from wpgd_theory.core.spectral import _grid_roots


def cubic(a, b, c):
    return (lambda x: -(x - a) * (x - b) * (x - c),
            lambda x: -((x - b) * (x - c) + (x - a) * (x - c) + (x - a) * (x - b)))


@pytest.mark.parametrize("a, b", [(0.31, 0.3104), (0.33, 0.33000001), (0.05, 0.0999)])
def test_close_pair_inside_one_cell_is_found(a, b):
    # Grid spacing 0.1: both roots lie in one cell, where F has the same sign at both ends, so
    # a sign-change scan alone sees only the root at 0.7.
    F, dF = cubic(a, b, 0.7)
    grid = np.linspace(0.0, 1.0, 11)
    assert np.sum(F(grid[:-1]) * F(grid[1:]) < 0) == 1
    np.testing.assert_allclose(_grid_roots(F, dF, grid), [a, b, 0.7], rtol=1e-13)


def test_roots_on_grid_points_and_simple_roots():
    F, dF = cubic(0.2, 0.55, 0.9)
    np.testing.assert_allclose(_grid_roots(F, dF, np.linspace(0.0, 1.0, 11)), [0.2, 0.55, 0.9],
                               rtol=1e-13)
