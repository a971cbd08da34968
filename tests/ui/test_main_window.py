"""The main window: files, bad input, the status bar, the tutor wiring."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox

from app.main import build_app
from app.settings import Settings
from app.ui.common.actions import ActionId
from app.ui.common.theme import THEME


@pytest.fixture
def warnings(monkeypatch):
    """Capture message boxes instead of blocking on them."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, title, text, *a, **k: shown.append((title, text))
    )
    return shown


@pytest.fixture
def parts(qtbot):
    """The whole app, built as `codetutor` builds it (no model loaded)."""
    p = build_app(Settings())
    qtbot.addWidget(p.window)
    # qtbot closes the window before this fixture ends: never wait on "Save changes?".
    p.window.ask_save_discard_cancel = lambda _title, _text: "discard"
    p.window.show()
    yield p
    p.window.editor.set_text("")
    p.service.shutdown()


def test_open_edit_save_round_trip(parts, tmp_path, qtbot):
    """A file opens with its language, is edited, saved and reads back as edited."""
    f = tmp_path / "hello.js"
    f.write_text("console.log('hi');\n")
    w = parts.window
    assert w.document.open_path(f)
    assert w.editor.language == "javascript" and "hello.js" in w.windowTitle()
    w.editor.gotoPos(0)
    qtbot.keyClicks(w.editor, "// greet")
    qtbot.keyClick(w.editor, Qt.Key.Key_Return)
    assert w.windowTitle().startswith("*")
    assert w.document.save()
    assert f.read_text() == "// greet\nconsole.log('hi');\n"
    assert not w.windowTitle().startswith("*")


def test_save_failure_mid_write_keeps_old_file_and_editor_text(
    parts, tmp_path, monkeypatch, warnings
):
    """A write that fails part-way leaves the old file, keeps the text, and says so."""
    f = tmp_path / "a.py"
    f.write_text("old = 1\n")
    w = parts.window
    w.document.open_path(f)
    w.editor.set_text("new = 2\n", keep_undo=True)

    def broken_fsync(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    assert not w.document.save()
    assert f.read_text() == "old = 1\n"
    assert w.editor.text() == "new = 2\n"
    assert "a.py" in warnings[0][1] and "still in the editor" in warnings[0][1]


def test_saving_to_unwritable_place_explains(parts, tmp_path, warnings):
    """Saving where no file can be written names the place and keeps the code."""
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    parts.window.editor.set_text("x = 1\n")
    assert not parts.window.document.save_to(blocker / "x.py")
    assert "not_a_folder" in warnings[0][1] and "Save As" in warnings[0][1]
    assert parts.window.editor.text() == "x = 1\n"


def test_big_and_binary_files_are_refused_with_message(parts, tmp_path, warnings):
    """A 10 MB file and a binary file are not opened; the message names them."""
    big = tmp_path / "big.py"
    big.write_bytes(b"# filler line\n" * (10 * 1024 * 1024 // 14))
    binary = tmp_path / "image.py"
    binary.write_bytes(bytes(range(256)) * 10)
    parts.window.editor.set_text("mine = True\n")
    assert not parts.window.document.open_path(big)
    assert not parts.window.document.open_path(binary)
    assert "big.py" in warnings[0][1] and "image.py" in warnings[1][1]
    assert parts.window.editor.text() == "mine = True\n"


@pytest.mark.real_model
def test_bad_model_then_starter_through_the_window(parts, tmp_path, qtbot, warnings):
    """A text file named .gguf is refused with a message; the starter model then loads."""
    fake = tmp_path / "model.gguf"
    fake.write_text("not a model")
    w = parts.window
    with qtbot.waitSignal(parts.service.sig_model_failed, timeout=30_000):
        w.sig_model_file_requested.emit(str(fake))
    assert "model.gguf" in warnings[0][1] and "not a GGUF" in warnings[0][1]
    assert w.status.state_label.text() == "Error" and not w.chat.send_button.isEnabled()
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=30_000):
        w.actions.trigger(ActionId.STARTER_MODEL)
    assert "tiny starter model" in w.status.model_label.text()
    assert w.status.device_label.text().startswith(("CPU", "GPU"))
    assert w.chat.notice.isVisible() and "tiny starter model" in w.chat.notice.text()
    assert w.chat.send_button.isEnabled()


def test_status_bar_shows_speed_after_a_reply(parts, qtbot, starter_spec):
    """After a reply the status bar shows its tokens per second."""
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=30_000):
        parts.service.load_model(starter_spec)
    parts.tutor.params = type(parts.tutor.params)(max_tokens=16)
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=30_000):
        parts.tutor.ask("Hello?")
    assert parts.window.status.speed_label.text().endswith("tokens/s")
    assert parts.window.status.state_label.text() == "Ready"


def test_close_with_unsaved_changes_can_be_cancelled(parts, monkeypatch):
    """Closing with unsaved changes asks first; Cancel keeps the window and the text."""
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    del parts.window.ask_save_discard_cancel  # the real question box, answered Cancel
    parts.window.editor.set_text("draft")
    parts.window.editor.insert_at_cursor("!")
    assert not parts.window.close()
    assert parts.window.isVisible() and parts.window.editor.text() == "!draft"


def test_escape_stops_the_answer(parts, qtbot, starter_spec):
    """Esc (Tutor ▸ Stop Answer) stops a streaming reply from the keyboard."""
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=30_000):
        parts.service.load_model(starter_spec)
    parts.tutor.params = type(parts.tutor.params)(max_tokens=400, ignore_eos=True)
    parts.window.activateWindow()
    qtbot.waitUntil(parts.window.isActiveWindow, timeout=3000)
    parts.tutor.ask("Tell me a long story.")
    with qtbot.waitSignal(parts.tutor.current.sig_chunk_received, timeout=30_000):
        pass  # the reply is streaming
    parts.window.chat.input.setFocus()
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=10_000) as done:
        qtbot.keyClick(parts.window.chat.input, Qt.Key.Key_Escape)
    assert done.args[1].stopped and "Stopped." in parts.window.chat.plain_text()


@pytest.mark.real_model
def test_a_bad_model_file_keeps_the_model_that_works(parts, tmp_path, qtbot, warnings):
    """Opening a file that is not a model leaves the starter loaded and usable, and says so."""
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=30_000):
        parts.window.actions.trigger(ActionId.STARTER_MODEL)
    w, name = parts.window, parts.service.model_info.name
    fake = tmp_path / "model.gguf"
    fake.write_text("not a model")
    with qtbot.waitSignal(parts.service.sig_model_failed, timeout=30_000):
        w.sig_model_file_requested.emit(str(fake))
    assert (
        f"Still using {name}." in warnings[0][1] and f"Still using {name}." in w.chat.plain_text()
    )
    assert w.status.state_label.text() == "Ready" and w.status.model_label.text() == name
    assert w.chat.send_button.isEnabled() or not w.chat.input.toPlainText()
    assert parts.service.model_info.name == name
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=30_000):
        parts.tutor.params = type(parts.tutor.params)(max_tokens=4)
        parts.tutor.ask("Hi")


def test_zoom_makes_every_panel_bigger_and_reset_brings_it_back(parts):
    """Ctrl+= grows the lesson text, output, check results and chat with the editor."""
    w = parts.window
    widgets = [w.lesson_panel.text, w.output_panel.view, w.output_panel.results_list, w.chat.view]
    before = [x.font().pointSizeF() for x in widgets]
    w.actions.trigger(ActionId.ZOOM_IN)
    w.actions.trigger(ActionId.ZOOM_IN)
    assert [x.font().pointSizeF() for x in widgets] == [b + w.editor.zoom_level() for b in before]
    assert w.editor.zoom_level() > 0
    w.actions.trigger(ActionId.ZOOM_RESET)
    assert [x.font().pointSizeF() for x in widgets] == before


def test_ctrl_tab_moves_the_focus_out_of_the_editor_and_around_the_panels(parts, qtbot):
    """Ctrl+Tab goes from the editor to the next panel that takes input; Ctrl+Shift+Tab back."""
    w = parts.window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.editor.focus()
    qtbot.waitUntil(w.editor.hasFocus, timeout=3000)
    qtbot.keyClick(w.editor, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert w.chat.input.hasFocus()  # the program's input line is off while nothing runs
    assert "\t" not in w.editor.text()
    w.actions.trigger(ActionId.NEXT_PANEL)
    assert w.lesson_browser.tree.hasFocus()
    w.actions.trigger(ActionId.PREVIOUS_PANEL)
    assert w.chat.input.hasFocus()


def test_escape_then_tab_leaves_the_editor_and_tab_alone_types_a_tab(parts, qtbot):
    """In the editor Tab indents; Esc then Tab moves on to the next panel, as in VS Code."""
    w = parts.window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.editor.set_text("x = 1\n")
    w.editor.focus()
    qtbot.waitUntil(w.editor.hasFocus, timeout=3000)
    qtbot.keyClick(w.editor, Qt.Key.Key_Tab)
    assert w.editor.text() != "x = 1\n"  # indented: Tab alone stays in the editor
    assert w.editor.hasFocus()
    typed = w.editor.text()
    qtbot.keyClick(w.editor, Qt.Key.Key_Escape)
    qtbot.keyClick(w.editor, Qt.Key.Key_Tab)
    assert w.chat.input.hasFocus()
    assert w.editor.text() == typed  # nothing inserted on the way out
    qtbot.keyClick(w.chat.input, Qt.Key.Key_Escape)
    qtbot.keyClick(w.chat.input, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    assert w.editor.hasFocus() or w.output_panel.input_line.hasFocus()


def test_the_editor_shows_a_focus_frame_only_while_it_has_the_focus(parts, qtbot):
    """The editor's box draws the focus colour while the editor has the keyboard focus."""
    w = parts.window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.editor.focus()
    qtbot.waitUntil(lambda: w.editor_frame.focused, timeout=3000)
    frame = w.editor_frame.grab().toImage()
    assert frame.pixelColor(1, frame.height() // 2) == QColor(THEME.focus)
    w.chat.input.setFocus()
    qtbot.waitUntil(lambda: not w.editor_frame.focused, timeout=3000)
    frame = w.editor_frame.grab().toImage()
    assert frame.pixelColor(1, frame.height() // 2) != QColor(THEME.focus)


def test_the_lessons_column_can_be_hidden_and_shown_again(parts, qtbot):
    """View ▸ Lessons Column (Ctrl+B) gives its room to the editor, and brings it back."""
    w = parts.window
    w.resize(1024, 640)
    qtbot.waitUntil(lambda: w.width() <= 1100, timeout=3000)
    editor_before = w.editor.width()
    w.actions.trigger(ActionId.LESSONS_COLUMN)
    assert not w.actions[ActionId.LESSONS_COLUMN].isChecked()
    qtbot.waitUntil(lambda: w.splitter.sizes()[0] == 0, timeout=3000)
    qtbot.waitUntil(lambda: w.editor.width() > editor_before + 150, timeout=3000)
    w.actions.trigger(ActionId.LESSONS_COLUMN)
    assert w.actions[ActionId.LESSONS_COLUMN].isChecked()
    qtbot.waitUntil(lambda: w.splitter.sizes()[0] >= 240, timeout=3000)


def test_check_results_get_room_list_and_details_side_by_side(parts, qtbot):
    """Showing the check results grows a small output panel and puts the details beside the
    list, so each is more than a few lines tall."""
    w = parts.window
    w.resize(1024, 640)
    centre = w.output_panel.parentWidget()
    centre.setSizes([500, 120])
    w.output_panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: centre.sizes()[1] >= 200, timeout=3000)
    panel = w.output_panel
    assert panel.results_splitter.orientation() is Qt.Orientation.Horizontal
    line = panel.results_list.fontMetrics().lineSpacing()
    qtbot.waitUntil(lambda: panel.results_list.height() >= 6 * line, timeout=3000)
    assert panel.details_view.height() >= 6 * line


def test_edit_menu_copies_from_the_focused_panel(parts, qtbot):
    """Edit ▸ Select All and Copy act on the chat input when it has the focus, not the editor."""
    from PySide6.QtWidgets import QApplication

    w = parts.window
    w.editor.set_text("editor text")
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.chat.input.setFocus()
    qtbot.waitUntil(w.chat.input.hasFocus, timeout=3000)
    w.chat.input.setPlainText("a question")
    w.actions.trigger(ActionId.SELECT_ALL)
    w.actions.trigger(ActionId.COPY)
    assert QApplication.clipboard().text() == "a question"
    w.editor.focus()
    qtbot.waitUntil(w.editor.hasFocus, timeout=3000)
    w.actions.trigger(ActionId.SELECT_ALL)
    w.actions.trigger(ActionId.CUT)
    assert QApplication.clipboard().text() == "editor text" and w.editor.text() == ""
    w.actions.trigger(ActionId.PASTE)
    assert w.editor.text() == "editor text"
    w.editor.mark_saved()


def test_f1_shows_every_shortcut_and_about_shows_the_version(parts, qtbot):
    """Help ▸ Keyboard Shortcuts lists the actions' own shortcuts; About names the version."""
    import app

    w = parts.window
    w.actions.trigger(ActionId.SHORTCUTS)
    sheet = w.shortcuts_box.text()
    for keys, what in (("F5", "Run"), ("Ctrl+H", "Replace"), ("F1", "Keyboard Shortcuts")):
        assert keys in sheet and what in sheet
    w.shortcuts_box.close()
    assert app.__version__ != "0+unknown"


def test_window_size_and_splitters_are_remembered(qtbot, tmp_path):
    """The window's size and the splitter positions of one session are back in the next."""
    first = build_app(Settings(), data_dir=tmp_path)
    qtbot.addWidget(first.window)
    first.window.resize(first.window.minimumSizeHint().width(), 520)
    first.window.show()
    qtbot.waitExposed(first.window)
    lessons_column = first.window.lesson_browser.parentWidget()  # browser above lesson text
    lessons_column.setSizes([120, 400])
    sizes = lessons_column.sizes()
    assert first.window.close()
    first.service.shutdown()
    second = build_app(Settings(), data_dir=tmp_path)
    qtbot.addWidget(second.window)
    second.window.show()
    qtbot.waitExposed(second.window)
    column = second.window.lesson_browser.parentWidget()
    qtbot.waitUntil(lambda: column.sizes() == sizes, timeout=3000)
    assert second.window.size().height() == 520
    second.window.close()
    second.service.shutdown()
