"""When the learner's code cannot be saved (disk full, read-only folder) nothing is lost: a
lasting banner says so, Run says what it runs, switching and quitting ask first; a lesson file
that became unreadable is offered a reset instead of mixing lessons up."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from app.paths import BUILTIN_LESSONS_DIR
from app.ui.common.actions import ActionId

FIRST = "python-basics/01-print-and-variables"
SECOND = "python-basics/02-input"
STARTER_2 = (BUILTIN_LESSONS_DIR / SECOND / "starter" / "main.py").read_text()


def _disk_full(monkeypatch, store) -> None:
    def no_space(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "save_file", no_space)


def _answer(monkeypatch, button) -> list[str]:
    """Answer every question with `button`; returns the questions' texts."""
    asked: list[str] = []

    def question(_parent, _title, text, *_args, **_kwargs):
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_disk_full_shows_a_lasting_banner_and_keeps_the_edits(app_parts, qtbot, monkeypatch):
    """Disk full: a banner stays, Run says it runs the saved version, the edits are kept."""
    w, lessons = app_parts.window, app_parts.lessons
    w.lesson_browser.select(FIRST)
    real_save = lessons.store.save_file
    _disk_full(monkeypatch, lessons.store)
    w.editor.insert_at_cursor("precious = 42\n")
    qtbot.waitUntil(w.save_banner.isVisible, timeout=5000)
    assert "not being saved: the disk is full" in w.save_banner.text()
    assert "Save As" in w.save_banner.text()
    with qtbot.waitSignal(app_parts.runner.sig_run_finished, timeout=20_000):
        w.actions.trigger(ActionId.RUN)
    assert "last saved version of main.py" in w.output_panel.notice.text()
    with qtbot.assertNotEmitted(lessons.sig_autosaved, wait=3000):  # autosave keeps failing
        pass
    assert w.save_banner.isVisible() and w.editor.text().startswith("precious = 42")
    monkeypatch.setattr(lessons.store, "save_file", real_save)  # space was freed
    w.editor.insert_at_cursor("# more\n")
    with qtbot.waitSignal(lessons.sig_autosaved, timeout=5000) as saved:
        pass
    assert not w.save_banner.isVisible()
    assert Path(saved.args[0]).read_text().startswith("precious = 42\n# more\n")


def test_switching_lessons_with_unsaved_edits_asks_first(app_parts, monkeypatch):
    """With the disk full, switching lessons asks; No keeps the lesson and its edits."""
    w, lessons = app_parts.window, app_parts.lessons
    w.lesson_browser.select(FIRST)
    _disk_full(monkeypatch, lessons.store)
    w.editor.insert_at_cursor("precious = 42\n")
    asked = _answer(monkeypatch, QMessageBox.StandardButton.No)
    w.lesson_browser.select(SECOND)
    assert len(asked) == 1 and "the disk is full" in asked[0]
    assert w.lesson_browser.current_key() == FIRST and lessons.lesson.key == FIRST
    assert w.editor.text().startswith("precious = 42")
    _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    w.lesson_browser.select(SECOND)
    assert lessons.lesson.key == SECOND and w.editor.text() == STARTER_2


def test_quitting_with_unsaved_edits_asks_and_cancel_keeps_the_window(app_parts, monkeypatch):
    """With the disk full, closing the window asks; Cancel keeps it open with the edits."""
    w, lessons = app_parts.window, app_parts.lessons
    w.lesson_browser.select(FIRST)
    _disk_full(monkeypatch, lessons.store)
    w.editor.insert_at_cursor("precious = 42\n")
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    assert not w.close()
    assert asked and "Close anyway?" in asked[0]
    assert w.isVisible() and w.editor.text().startswith("precious = 42")


def test_progress_that_cannot_be_written_is_said(app_parts, monkeypatch):
    """A failed write of progress.json shows in the banner instead of only in a log."""
    w, store = app_parts.window, app_parts.lessons.store
    monkeypatch.setattr("app.core.lessons.progress.atomic_write_text", _raise_read_only)
    w.lesson_browser.select(FIRST)
    w.actions.trigger(ActionId.HINT)
    assert w.save_banner.isVisible() and "progress is not being saved" in w.save_banner.text()
    assert store.last_error


def _raise_read_only(*_args, **_kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No])
def test_binary_lesson_file_offers_reset_and_keeps_editor_and_lesson_together(
    app_parts, monkeypatch, answer
):
    """main.py overwritten with binary: a reset is offered; the editor never shows another
    lesson's code under this lesson's text."""
    w, lessons = app_parts.window, app_parts.lessons
    workspace = lessons.store.workspace_for(w.lesson_browser.lesson(SECOND))
    (workspace / "main.py").write_bytes(b"\x00\x01\xff" * 1000)
    w.lesson_browser.select(FIRST)
    w.editor.insert_at_cursor("first lesson's code\n")
    asked = _answer(monkeypatch, answer)
    w.lesson_browser.select(SECOND)
    assert len(asked) == 1 and "starter code" in asked[0]
    if answer == QMessageBox.StandardButton.Yes:
        assert lessons.lesson.key == SECOND and w.editor.text() == STARTER_2
        assert w.lesson_panel.title.text() == w.lesson_browser.lesson(SECOND).title
        backup = lessons.store.backups(w.lesson_browser.lesson(SECOND))[-1]
        assert (backup / "main.py").read_bytes().startswith(b"\x00\x01\xff")
    else:
        assert lessons.lesson is None and not w.document.lesson_mode
        assert "first lesson's code" not in w.editor.text()
        assert w.lesson_panel.title.text() != w.lesson_browser.lesson(SECOND).title
