"""The docs cannot drift: docs/api.md lists every public name, and the README's commands hold."""
import importlib
import pathlib
import re

import wpgd_theory

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_api_reference_lists_every_public_name():
    import sys
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        make_api = importlib.import_module("make_api")
    finally:
        sys.path.pop(0)
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert text == make_api.render(), "docs/api.md is stale: run python docs/make_api.py"
    listed = set(re.findall(r"^- `(\w+)", text, flags=re.MULTILINE))
    assert set(wpgd_theory.__all__) - {"__version__"} <= listed


def test_readme_has_exactly_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("##", 1)[0]
    commands = [line for line in setup.splitlines() if line and not line.startswith("```")]
    assert commands == ["pip install -e '.[test]'", "pytest"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert all(command in ci.splitlines() for command in commands)
