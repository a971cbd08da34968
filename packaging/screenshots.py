"""Regenerate README's screenshots of the main window: 1440×900 and 1024×640.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshots.py

The app runs on the built-in lessons with a throw-away data folder and the starter model: a
lesson is open, its program has run with typed input, and the tutor has answered a question.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "screenshots"
SIZES = {"main-window.png": (1440, 900), "main-window-small.png": (1024, 640)}


def wait(ms: int) -> None:
    """Let the event loop run for `ms` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(signal: object, timeout_ms: int = 120_000) -> None:
    """Run the event loop until `signal` fires (or the time is up)."""
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def main() -> int:
    """Take the screenshots."""
    os.environ.setdefault("CODETUTOR_HOME", tempfile.mkdtemp(prefix="codetutor-shots-"))
    sys.path.insert(0, str(ROOT))
    from app.main import build_app, start_default_model
    from app.paths import BUILTIN_LESSONS_DIR, resolve_paths
    from app.settings import Settings
    from app.ui.common.actions import ActionId

    app = QApplication(sys.argv[:1])
    paths = resolve_paths()
    paths.ensure()
    parts = build_app(Settings(), data_dir=paths.data_dir, lesson_roots=[BUILTIN_LESSONS_DIR])
    window = parts.window
    window.resize(*SIZES["main-window.png"])
    window.show()
    window.lesson_browser.select("python-basics/02-input")
    start_default_model(parts)
    wait_for(parts.service.sig_model_loaded)
    window.actions.trigger(ActionId.RUN)
    wait(1500)
    window.output_panel.input_line.setText("Ada")
    window.output_panel.input_line.returnPressed.emit()
    wait_for(parts.runner.sig_run_finished, 20_000)
    parts.tutor.ask("What does input() give back?")
    wait_for(parts.tutor.sig_reply_finished)
    wait(300)
    for name, (width, height) in SIZES.items():
        window.resize(width, height)
        wait(400)
        window.grab().save(str(OUT / name))
        print(f"wrote {OUT / name} ({width}×{height})")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
