"""What the installed distribution says about itself (what pip, PyPI and license scanners read), against the matrix
that noxfile.py tests: a release added to one and not the other fails here."""

from __future__ import annotations

import ast
from importlib.metadata import distribution
from pathlib import Path

DISTRIBUTION = "django-streaming-exports"
ROOT = Path(__file__).resolve().parent.parent


def _tested_matrix() -> dict[str, tuple[str, ...]]:
    """Each Django of noxfile.py's MATRIX and its Pythons (read, not imported: nox need not be installed)."""
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(target, ast.Name) and target.id == "MATRIX" for target in targets):
                assert node.value is not None
                matrix = ast.literal_eval(node.value)
                return {django: tuple(pins["pythons"]) for django, pins in matrix.items()}
    raise AssertionError("noxfile.py has no MATRIX")


def test_the_license_is_an_spdx_expression_with_its_text_shipped():
    metadata = distribution(DISTRIBUTION).metadata
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    # A license classifier beside the expression is what setuptools warns about on every build.
    assert [c for c in metadata.get_all("Classifier") or [] if c.startswith("License ::")] == []
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_the_classifiers_and_the_django_range_are_the_tested_matrix():
    matrix = _tested_matrix()
    dist = distribution(DISTRIBUTION)
    classifiers = dist.metadata.get_all("Classifier") or []
    djangos = [c.removeprefix("Framework :: Django :: ") for c in classifiers if c.startswith("Framework :: Django ::")]
    pythons = [c.rsplit(" :: ", 1)[1] for c in classifiers if c.startswith("Programming Language :: Python :: 3.")]
    assert sorted(djangos) == sorted(matrix)
    assert sorted(pythons) == sorted({python for versions in matrix.values() for python in versions})
    oldest, newest = min(matrix, key=_version), max(matrix, key=_version)
    major, minor = _version(newest)
    required = [r for r in dist.requires or [] if r.startswith("Django") and "extra ==" not in r]
    assert len(required) == 1
    assert sorted(required[0].removeprefix("Django").split(",")) == sorted([f">={oldest}", f"<{major}.{minor + 1}"])


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)
