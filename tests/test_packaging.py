"""Packaging promises: one version, the licence pyproject names, and the typing marker in the package data."""

import ast
from pathlib import Path

import pytest

import bayesdl

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11; the suite runs on 3.11

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_version_is_written_once_and_read_by_pyproject():
    source = (ROOT / "bayesdl" / "_version.py").read_text()
    assigned = [
        node.value.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and node.targets[0].id == "__version__"
    ]
    assert assigned == [bayesdl.__version__]
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bayesdl._version.__version__"}
    assert all(part.isdigit() for part in bayesdl.__version__.split("."))


def test_the_licence_file_exists_and_is_the_one_pyproject_names():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "bayesdl developers" in text


def test_py_typed_marker_ships_with_the_package():
    assert (ROOT / "bayesdl" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["bayesdl"]


def test_the_changelog_names_the_current_version():
    assert f"## {bayesdl.__version__}" in (ROOT / "CHANGELOG.md").read_text()
