"""The dependency direction: the import-linter contracts in pyproject.toml hold, and importing
app.core loads neither Qt nor llama_cpp."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

LINT_IMPORTS = (
    "import sys\n"
    "from importlinter.cli import lint_imports_command\n"
    "sys.exit(lint_imports_command())\n"
)


def test_import_linter_contracts_are_kept():
    """`lint-imports` passes: layers, no Qt below the UI, llama_cpp only in app.llm."""
    try:
        import importlinter  # noqa: F401
    except ImportError:
        raise AssertionError("import-linter is missing: pip install -e '.[test]'") from None
    out = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_importing_core_loads_no_qt_at_runtime():
    """Importing every app.core module in a fresh interpreter pulls in no Qt and no llama_cpp."""
    modules = [
        "app.core." + ".".join(p.relative_to(APP / "core").with_suffix("").parts)
        for p in (APP / "core").rglob("*.py")
        if p.name != "__init__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'llama_cpp')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_widgets_contract_sees_every_way_of_importing_qtwidgets():
    """The QtWidgets contract flags each import form that names it, and passes QtCore ones."""
    from import_contracts import _names_submodule

    flagged = [
        "from PySide6.QtWidgets import QApplication",
        "import PySide6.QtWidgets as widgets",
        "from PySide6 import QtCore, QtWidgets",
        "from PySide6 import (",  # the names follow on other lines: cannot be told apart
    ]
    passed = [
        "from PySide6.QtCore import QObject, Signal",
        "import PySide6.QtCore",
        "from PySide6 import QtCore",
        "from PySide6.QtWidgetsExtra import X",
    ]
    assert all(_names_submodule(line, "PySide6", "QtWidgets") for line in flagged)
    assert not any(_names_submodule(line, "PySide6", "QtWidgets") for line in passed)
