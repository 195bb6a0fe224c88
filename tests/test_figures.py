"""Every figure the toolkit draws, rendered to a temporary PNG and read back.

Asserts on the data (each plotted series equals the CSV column, read back from the ``Line2D``
objects) and on the layout (axis labels, legend entries, log scale, coinciding curves visible).
"""
import csv
import io

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from wpgd_theory.multitask.curves import (
    CURVE_COLUMNS,
    CURVE_LABELS,
    MultitaskFamily,
    curves_figure,
    plot_curves,
    theory_curves,
    write_curves_csv,
)

PNG = b"\x89PNG\r\n\x1a\n"


def figure1_curves():
    """The committed Figure 1 (docs/figures/figure1_theory.png): relevant task last."""
    return theory_curves([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], 0.3, 0.9, d=10,
                         sigma2=0.1, normalize=True)


def general_curves():
    family = MultitaskFamily([[1, .5, 0], [.5, 1, 0], [0, 0, 1]], [.2, .4, .8], [1, 2, 1],
                             np.diag([1.0, 0.5]), 0.1)
    return theory_curves([4, 16, 64, 256], family=family)


FIGURES = {"figure1": figure1_curves, "general": general_curves}


def csv_columns(curves):
    buffer = io.StringIO()
    write_curves_csv(curves, buffer, metadata=False)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    return {name: np.array([float(row[i]) for row in rows[1:]]) for i, name in enumerate(rows[0])}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_curves_figure_plots_the_csv(name, tmp_path):
    curves = FIGURES[name]()
    figure = curves_figure(curves)
    path = tmp_path / f"{name}.png"
    figure.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == PNG
    (axes,) = figure.axes
    columns = csv_columns(curves)
    lines = {line.get_label(): line for line in axes.get_lines()}
    assert set(lines) == {CURVE_LABELS[c] for c in CURVE_COLUMNS[1:]}
    for column in CURVE_COLUMNS[1:]:
        x, y = lines[CURVE_LABELS[column]].get_data()
        assert np.array_equal(np.asarray(x, dtype=float), columns["n"])
        assert np.array_equal(np.asarray(y, dtype=float), columns[column])   # 17 digits: exact
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == [CURVE_LABELS[c] for c in CURVE_COLUMNS[1:]]
    assert axes.get_xscale() == "log" and axes.get_yscale() == "linear"
    assert axes.get_xlabel().startswith("context length n")
    assert axes.get_ylabel() == ("optimal risk / d" if curves.normalized else "optimal risk")
    assert axes.get_title()


def test_coinciding_curves_stay_visible():
    """Relevant task last: scalar gating reaches WPGD*, so the two curves coincide. The one
    underneath must be wider and carry bigger markers, and the one on top must not hide it."""
    curves = figure1_curves()
    assert np.allclose(curves.gla, curves.gla_vector, rtol=1e-12)
    lines = {line.get_label(): line for line in curves_figure(curves).axes[0].get_lines()}
    under, over = lines[CURVE_LABELS["gla_vector"]], lines[CURVE_LABELS["gla"]]
    assert under.get_zorder() < over.get_zorder()
    assert under.get_linewidth() >= 2 * over.get_linewidth()
    assert under.get_markersize() > over.get_markersize()
    assert over.get_linestyle() != "-" and under.get_marker() != over.get_marker()
    assert under.get_color() != over.get_color()


def test_plot_curves_writes_a_png(tmp_path):
    path = tmp_path / "curves.png"
    plot_curves(figure1_curves(), path)
    assert path.read_bytes()[:8] == PNG


def test_no_pyplot_state_is_left_behind():
    import sys

    curves_figure(general_curves())
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
