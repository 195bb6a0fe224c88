"""The tutorials (docs/tutorials/*.md, jupytext Markdown notebooks) run top to bottom.

Each is converted with jupytext and executed with nbclient in a fresh kernel (cwd
docs/tutorials, so relative paths to docs/figures work); a cell that raises fails the test, and
the asserts inside the notebooks check the mathematics. The tutorials that draw a figure must
produce it (an ``image/png`` output). The notebooks contain no ``>>>`` prompts, so pytest's
``--doctest-glob='*.md'`` collects nothing from them.
"""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
#: Tutorials that must show at least one figure.
WITH_FIGURES = {"certify.md", "figure1.md", "dask_sweep.md", "bayes_depth.md"}

jupytext = pytest.importorskip("jupytext", reason="the docs extra is not installed")
nbclient = pytest.importorskip("nbclient", reason="the docs extra is not installed")
pytest.importorskip("ipykernel", reason="the docs extra is not installed")


def execute(path):
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    old = dict(os.environ)
    os.environ["PYTHONPATH"] = str(ROOT)   # the kernel inherits it: import this checkout
    os.environ.pop("MPLBACKEND", None)     # the kernel's inline backend shows the figures
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return notebook


@pytest.mark.parametrize("name", sorted(p.name for p in TUTORIALS.glob("*.md")))
def test_tutorial_runs(name):
    notebook = execute(TUTORIALS / name)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    if name in WITH_FIGURES:
        assert any("image/png" in o.get("data", {}) for o in outputs), f"{name} drew no figure"


def test_tutorials_have_jupytext_front_matter_and_no_doctest_prompts():
    for path in TUTORIALS.glob("*.md"):
        text = path.read_text("utf-8")
        assert text.startswith("---\njupyter:\n  jupytext:"), path.name
        assert ">>>" not in text, f"{path.name}: a >>> prompt would be collected as a doctest"
