"""Where the app's own read-only files are: prompt templates and the built-in lessons."""

from __future__ import annotations

import sys
from pathlib import Path

# In a PyInstaller bundle the data files sit beside the program (sys._MEIPASS).
PROJECT_ROOT = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent.parent))
RESOURCES_DIR = PROJECT_ROOT / "resources"
BUILTIN_LESSONS_DIR = PROJECT_ROOT / "lessons"
