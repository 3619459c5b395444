"""The shape of the library: data flows one way (declaration -> source -> encoder -> sink), with no import loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parent.parent / "exports"

#: Each module's layer: a module may import only from lower layers (or, within one layer, without a loop).
LAYERS: list[set[str]] = [
    {
        "exports.conf",
        "exports.exceptions",
        "exports.models",
        "exports.job_models",
        "exports.django_internals",
        "exports.choices",
        "exports.signals",
        "exports.filter_values",
    },
    {"exports.storage", "exports.columns", "exports.filters", "exports.sources.readahead", "exports.sources.pipe"},
    {"exports.cells", "exports.postgres.session", "exports.sources.rows"},
    # A format is its cells' rules and its encoder: nothing of runs, sources or surfaces. The workbook writer
    # (exports.formats.xlsx) sits with the others; the registry reads the settings and loads them by name.
    {
        "exports.formats.base",
        "exports.formats.xlsx",
        "exports.formats.xlsx_cells",
        "exports.formats.xlsx_parts",
        "exports.formats.xlsx_zip",
    },
    {"exports.formats.csv", "exports.formats.tsv", "exports.formats.jsonl", "exports.formats.typed"},
    {"exports.formats.registry"},
    {"exports.options"},
    {"exports.declarations", "exports.postgres.cells", "exports.limits", "exports.slots"},
    {
        "exports.registry",
        "exports.catalog",
        "exports.audit",
        "exports.sources.orm",
        "exports.sources.copy",
        "exports.admin.picker",
    },
    {"exports.pipeline"},
    {"exports.runs"},
    {"exports.responses", "exports.files", "exports.jobs", "exports.job_requests"},
    {"exports.worker"},
    {
        "exports",
        "exports.apps",
        "exports.checks",
        "exports.views",
        "exports.job_views",
        "exports.tasks",
        "exports.engines.rq",
        "exports.urls",
        "exports.admin",
        "exports.admin.actions",
        "exports.admin.runs",
        "exports.admin.jobs",
        "exports.admin.background",
        "exports.management.commands.export",
        "exports.management.commands.exports_cleanup",
        "exports.management.progress",
        "exports.management.interrupts",
        "exports.management.arguments",
        "exports.management.background",
    },
]

#: Packages whose ``__init__`` holds only a docstring; their modules are placed one by one.
PACKAGES = {
    "exports.formats",
    "exports.sources",
    "exports.postgres",
    "exports.management",
    "exports.management.commands",
    "exports.engines",
}


def modules() -> dict[str, set[str]]:
    """Every module of the library (packages' ``__init__`` as the package) and the library modules it imports."""
    paths = {
        ".".join(path.relative_to(LIBRARY.parent).with_suffix("").parts).removesuffix(".__init__"): path
        for path in LIBRARY.rglob("*.py")
        if "migrations" not in path.parts
    }
    found: dict[str, set[str]] = {}
    for name, path in paths.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # "from exports import audit" imports the module exports.audit, not the package's __init__.
                submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(paths)
                imported |= submodules or {node.module}
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        found[name] = imported
    return {name: {i for i in imported if i in found and i != name} for name, imported in found.items()} | {
        f"{name}:all": imported for name, imported in found.items()
    }


def layer_of(module: str) -> int:
    for index, layer in enumerate(LAYERS):
        if module in layer:
            return index
    raise AssertionError(f"{module} has no layer in tests/test_architecture.py: place it")


def graph() -> dict[str, set[str]]:
    return {name: deps for name, deps in modules().items() if not name.endswith(":all")}


def test_no_module_imports_from_a_higher_layer():
    upward = [
        f"{module} (layer {layer_of(module)}) imports {dependency} (layer {layer_of(dependency)})"
        for module, dependencies in graph().items()
        if module not in PACKAGES
        for dependency in dependencies
        if dependency not in PACKAGES and layer_of(dependency) > layer_of(module)
    ]
    assert upward == []


def test_the_imports_have_no_loop():
    edges = graph()
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in visiting:
            pytest.fail("import loop: " + " -> ".join([*visiting[visiting.index(module) :], module]))
        if module in done:
            return
        visiting.append(module)
        for dependency in sorted(edges[module]):
            visit(dependency)
        visiting.pop()
        done.add(module)

    for module in sorted(edges):
        visit(module)


def test_the_library_imports_nothing_of_the_demo_or_the_tests():
    demo = {
        f"{name} imports {imported}"
        for name, everything in modules().items()
        if name.endswith(":all")
        for imported in everything
        if imported.split(".")[0] in {"orders", "project", "tests", "bench"}
    }
    assert demo == set()


def test_no_module_of_the_library_passes_250_lines():
    long = {
        str(path.relative_to(LIBRARY)): lines
        for path in LIBRARY.rglob("*.py")
        if "migrations" not in path.parts and (lines := len(path.read_text().splitlines())) > 250
    }
    assert long == {}
