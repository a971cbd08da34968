"""Where the app's own read-only files are: prompt templates and the built-in lessons."""

from __future__ import annotations

import sys
from pathlib import Path


def _root() -> Path:
    """The folder holding resources/ and lessons/."""
    bundle = getattr(sys, "_MEIPASS", None)  # a PyInstaller bundle
    if bundle:
        return Path(bundle)
    source = Path(__file__).resolve().parent.parent.parent
    if (source / "resources").is_dir():  # a source checkout or an editable install
        return source
    return Path(sys.prefix) / "share" / "codetutor"  # installed from a wheel


PROJECT_ROOT = _root()
RESOURCES_DIR = PROJECT_ROOT / "resources"
BUILTIN_LESSONS_DIR = PROJECT_ROOT / "lessons"
