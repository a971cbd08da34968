"""The dependency direction: core is plain Python, and only app.llm imports llama_cpp."""

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_neither_qt_nor_llama_cpp():
    """No module under app/core imports PySide6, pyside6_scintilla or llama_cpp."""
    for path in (APP / "core").rglob("*.py"):
        bad = _imports(path) & {"PySide6", "pyside6_scintilla", "lexilla", "llama_cpp"}
        assert not bad, f"{path.relative_to(APP)} imports {bad}"


def test_core_imports_nothing_else_of_ours():
    """app.core depends on nothing of the app outside app.core (core -> nothing of ours)."""
    for path in (APP / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                bad = name.startswith("app.") and not name.startswith("app.core")
                assert not bad, f"{path.relative_to(APP)} imports {name}"


def test_only_app_llm_imports_llama_cpp():
    """llama_cpp is imported only inside app/llm."""
    for path in APP.rglob("*.py"):
        if "llm" in path.relative_to(APP).parts[:1]:
            continue
        assert "llama_cpp" not in _imports(path), f"{path.relative_to(APP)} imports llama_cpp"


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
