"""The version is written once, in pyproject.toml, and `codetutor --version` prints it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import app
from app.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
    "version"
]


def test_app_version_is_the_one_in_pyproject():
    """app.__version__ is pyproject.toml's [project] version (read from installed metadata)."""
    assert app.__version__ == PYPROJECT_VERSION


def test_no_other_file_writes_the_version_down():
    """Neither app/ nor setup.py holds a second copy of the version to forget on release."""
    needle = f'"{PYPROJECT_VERSION}"'
    holders = [
        p.relative_to(ROOT)
        for p in [*(ROOT / "app").rglob("*.py"), ROOT / "setup.py"]
        if needle in p.read_text(encoding="utf-8")
    ]
    assert holders == []


def test_source_tree_without_metadata_reads_pyproject(monkeypatch):
    """Not installed (no metadata), the version still comes from the tree's pyproject.toml."""

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    app.package_version.cache_clear()
    try:
        assert app.package_version() == PYPROJECT_VERSION
    finally:
        app.package_version.cache_clear()


def test_version_option_prints_name_and_version(capsys):
    """`codetutor --version` prints "codetutor <version>" and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"codetutor {PYPROJECT_VERSION}"


def test_version_option_works_from_the_command_line():
    """`python -m app --version` answers without opening the GUI."""
    out = subprocess.run(
        [sys.executable, "-m", "app", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 0 and out.stdout.strip() == f"codetutor {PYPROJECT_VERSION}"


def test_neither_metadata_nor_pyproject_gives_an_unknown_version(monkeypatch, tmp_path):
    """A bundle with no metadata and no pyproject.toml says "0+unknown" instead of failing."""

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    monkeypatch.setattr(app, "__file__", str(tmp_path / "app" / "__init__.py"))
    app.package_version.cache_clear()
    try:
        assert app.package_version() == app.UNKNOWN_VERSION == "0+unknown"
    finally:
        app.package_version.cache_clear()
