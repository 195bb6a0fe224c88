"""The layering of docs/architecture.md, checked by parsing every module's imports (ast).

Every ``import`` statement counts — module level or inside a function ("lazy") — and relative
imports are resolved. A module may import its own layer or lower ones, never a higher one.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "wpgd_theory"

LAYERS = {"core": 0, "gla": 1, "multitask": 2, "verify": 3,
          "training": 4, "sweeps": 4, "cli": 5}
"""Layer of each part of ``wpgd_theory`` (the same table as docs/architecture.md)."""

OUTSIDE = {"proofs_checks": "cli", "tests": None, "benchmarks": None, "docs": None}
"""Our other top-level folders, and the lowest layer allowed to import each (None: no layer)."""


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_names(source, package):
    """Absolute dotted names of everything ``source`` imports (``from a import b`` gives ``a.b``),
    resolving relative imports against ``package`` (a list of names), with line numbers."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            for alias in node.names:
                yield node.lineno, f"{prefix}.{alias.name}" if alias.name != "*" else prefix


def imports_of(path):
    name = module_name(path)
    package = name if path.name == "__init__.py" else name[:-1]
    return imported_names(path.read_text(encoding="utf-8"), package)


def layer_of(dotted):
    """``(part, layer)`` for a name inside wpgd_theory, or ``None`` for the root package."""
    parts = dotted.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return parts[1], LAYERS[parts[1]]


def test_every_part_has_a_layer():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in modules()}
    unknown = parts - set(LAYERS) - {"__init__"}
    assert not unknown, f"add {sorted(unknown)} to LAYERS here and to docs/architecture.md"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_reaches_a_higher_layer(path):
    name = module_name(path)
    if len(name) == 1:
        return                                          # the root re-exports everything lazily
    own_part, own_layer = name[1], LAYERS[name[1]]
    for line, dotted in imports_of(path):
        top = dotted.split(".")[0]
        if top in OUTSIDE:
            allowed = OUTSIDE[top]
            assert allowed is not None and own_layer >= LAYERS[allowed], (
                f"{path.relative_to(ROOT)}:{line} imports {dotted} ({top} sits above the library)")
            continue
        if top != "wpgd_theory":
            continue
        target = layer_of(dotted)
        assert target is not None or dotted.split(".")[1:2] == ["__version__"], (
            f"{path.relative_to(ROOT)}:{line} imports {dotted} through the root package; import "
            f"from the defining submodule instead")
        if target is None:
            continue
        part, layer = target
        assert layer <= own_layer, (
            f"{path.relative_to(ROOT)}:{line} ({own_part}, layer {own_layer}) imports {dotted} "
            f"({part}, layer {layer}): lower layers must not import higher ones")


def test_the_checker_sees_lazy_and_relative_imports():
    source = "import numpy\ndef f():\n    from ..multitask.model import MultitaskModel\n"
    names = list(imported_names(source, ["wpgd_theory", "core"]))
    assert names == [(1, "numpy"), (3, "wpgd_theory.multitask.model.MultitaskModel")]
    assert layer_of(names[1][1]) == ("multitask", 2) and LAYERS["core"] < 2


def test_architecture_doc_states_the_same_layers():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for part, layer in LAYERS.items():
        assert f"| {layer} | `{part}`" in text, f"docs/architecture.md lacks the row for {part}"
