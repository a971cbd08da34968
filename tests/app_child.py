"""The start of a script that runs the whole app in a child process, as a learner's session
(for tests that kill it): the app on the built-in lessons, the lesson in argv[1] open."""

APP_CHILD_PREAMBLE = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from app.main import build_app
from app.ui.common.actions import ActionId
from app.paths import BUILTIN_LESSONS_DIR, resolve_paths
from app.settings import load_settings

app = QApplication([])
paths = resolve_paths()
paths.ensure()
settings = load_settings(paths.site_config_file, paths.user_config_file)
parts = build_app(settings, data_dir=paths.data_dir, lesson_roots=[BUILTIN_LESSONS_DIR])
parts.window.show()
parts.window.lesson_browser.select(sys.argv[1])
"""
