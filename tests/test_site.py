"""The documentation site builds with ``mkdocs build --strict`` (every warning is an error).

Strict mode fails on a broken link between pages, a page missing from the navigation, a
mkdocstrings directive naming a module that does not exist, and a docstring griffe cannot parse,
so this test keeps the rendered site (README "Documentation") in step with the code.
"""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs", reason="the docs extra (pip install -e '.[docs]') is not installed")
pytest.importorskip("mkdocstrings_handlers.python", reason="mkdocstrings[python] is not installed")
pytest.importorskip("material", reason="mkdocs-material is not installed")


def test_site_builds_strictly(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    reference = (tmp_path / "site" / "reference" / "core" / "index.html").read_text("utf-8")
    # The reference is rendered from the docstrings, Examples sections included.
    assert "solve_optimal_wpgd" in reference and "Examples" in reference
    assert not (tmp_path / "site" / "make_api.py").exists()


def test_every_page_is_in_the_navigation():
    """mkdocs only reports pages left out of ``nav`` at INFO level: check it here."""
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    pages = sorted(path.relative_to(ROOT / "docs").as_posix()
                   for path in (ROOT / "docs").rglob("*.md"))
    missing = [page for page in pages if f": {page}" not in config]
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"
