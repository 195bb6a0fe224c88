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
    reference = ROOT / "docs" / "reference"
    expected = make_api.render_reference()
    assert sorted(path.name for path in reference.glob("*.md")) == sorted(expected)
    for file_name, page in expected.items():
        assert (reference / file_name).read_text(encoding="utf-8") == page, (
            f"docs/reference/{file_name} is stale: run python docs/make_api.py")


def test_readme_has_exactly_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("##", 1)[0]
    commands = [line for line in setup.splitlines() if line and not line.startswith("```")]
    assert commands == ["pip install -e '.[test]'", "pytest"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert all(command in ci.splitlines() for command in commands)


# Names of material that lives outside the repository; spelled in pieces so this file does not
# match itself.
OUTSIDE_REFERENCES = ("THEORY" + ".md", "../" + "shared", "/work/" + "shared", "poster" + ".md",
                      "paper/" + "summary.md")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".json", ".yml", ".yaml", ".rst"}


def repository_text_files():
    skip = {".git", "__pycache__", ".pytest_cache", ".hypothesis", "build", "dist"}
    for path in sorted(ROOT.rglob("*")):
        if skip & set(path.relative_to(ROOT).parts) or not path.is_file():
            continue
        if path.suffix in TEXT_SUFFIXES or path.parent.name == ".ci":
            yield path


def test_no_reference_to_files_outside_the_repository():
    found = []
    for path in repository_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{number}: {name}"
                      for name in OUTSIDE_REFERENCES if name in line]
    assert not found, "references to files outside the repository:\n" + "\n".join(found)


def test_local_markdown_links_resolve():
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken, broken


def test_paper_map_has_an_example_for_every_row():
    text = (ROOT / "docs" / "paper.md").read_text(encoding="utf-8")
    table = text.split("| paper |", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    assert len(rows) >= 11
    examples = "\n".join(line for line in text.splitlines()
                         if line.startswith((">>> ", "... ")))
    for row in rows:
        statement, computes = row.split("|")[1:3]
        names = re.findall(r"`(\w+)`", computes)
        assert names and any(re.search(rf"\b{name}\b", examples) for name in names), (
            f"docs/paper.md: no example calls any of {names} ({statement.strip()})")
        assert row.split("|")[4].strip(), f"docs/paper.md: no verdict for {statement.strip()}"


def test_readme_links_the_architecture_and_the_paper_map():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in readme and "docs/paper.md" in readme


def test_figure1_png_is_committed_and_shown():
    png = ROOT / "docs" / "figures" / "figure1_theory.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "figures/figure1_theory.png" in (ROOT / "docs" / "multitask.md").read_text("utf-8")
