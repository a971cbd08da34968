"""Lessons in the window: browse, load code, Run, Check, hints, reset, autosave, policies."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QMessageBox

from app.core.prompts.builder import build_messages
from app.core.tutor.actions import TutorAction
from app.main import build_app
from app.paths import BUILTIN_LESSONS_DIR
from app.settings import Settings
from app.ui.common.actions import ActionId

FIRST = "python-basics/01-print-and-variables"
SOLUTION = (BUILTIN_LESSONS_DIR / FIRST / "solution" / "main.py").read_text()
STARTER = (BUILTIN_LESSONS_DIR / FIRST / "starter" / "main.py").read_text()


def test_select_run_check_marks_lesson_done(app_parts, qtbot):
    """Select a lesson → text shown → starter loaded → Run → output → Check → marked done."""
    w = app_parts.window
    assert w.lesson_browser.select(FIRST)
    assert w.lesson_panel.title.text() == "Print and variables"
    assert "Goal:" in w.lesson_panel.text.toPlainText()
    assert w.editor.text() == STARTER and w.editor.language == "python"
    w.editor.selectAll()
    w.editor.insert_at_cursor(SOLUTION)
    with qtbot.waitSignal(app_parts.runner.sig_run_finished, timeout=20_000):
        w.actions.trigger(ActionId.RUN)
    qtbot.waitUntil(lambda: "Next year I will be 37." in w.output_panel.output_text())
    with qtbot.waitSignal(app_parts.lessons.sig_lesson_done, timeout=30_000):
        w.actions.trigger(ActionId.CHECK)
    assert "All 3 checks passed" in w.output_panel.results_text()
    assert w.lesson_browser.item_text(FIRST).startswith("✓")
    assert "(1/12)" in w.lesson_browser.course_text(0)
    assert "Done" in w.lesson_panel.status.text()


def test_failed_check_and_error_marker(app_parts, qtbot):
    """A program with an error gets a marker on its line; failed checks say why."""
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    w.editor.selectAll()
    w.editor.insert_at_cursor("name = 'Ada'\nprint(nme)\n")
    with qtbot.waitSignal(app_parts.runner.sig_run_finished, timeout=20_000):
        w.actions.trigger(ActionId.RUN)
    assert w.editor.error_lines() == [2]
    assert "NameError" in w.editor.annotation(2)
    qtbot.waitUntil(lambda: "NameError" in w.output_panel.output_text())
    assert 'File "main.py", line 2' in w.output_panel.output_text()  # no folder path
    with qtbot.waitSignal(app_parts.runner.sig_checks_finished, timeout=30_000):
        w.actions.trigger(ActionId.CHECK)
    results = w.output_panel.results_text()
    assert "exactly these three lines" in results
    assert not w.lesson_browser.item_text(FIRST).startswith("✓")
    assert app_parts.lessons.store.get(FIRST).attempts == 1


def test_hint_ladder_shows_hint_k_of_n(app_parts):
    """Each Hint press shows the next teacher hint as "Hint k of n" and counts it."""
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    w.actions.trigger(ActionId.HINT)
    w.actions.trigger(ActionId.HINT)
    hints = w.lesson_panel.hints_text()
    assert hints[0].startswith("Hint 1 of 3:") and hints[1].startswith("Hint 2 of 3:")
    assert app_parts.lessons.store.get(FIRST).hints_used == 2
    w.actions.trigger(ActionId.HINT)
    assert not w.lesson_panel.hint_button.isEnabled()


def test_code_is_restored_when_the_lesson_is_reopened(app_parts, qtbot):
    """Leaving and reopening a lesson brings back the learner's code, not the starter."""
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    w.editor.insert_at_cursor("# my own work\n")
    with qtbot.waitSignal(app_parts.lessons.sig_autosaved, timeout=3000):
        pass
    w.actions.trigger(ActionId.NEXT_LESSON)
    assert w.lesson_browser.current_key() == "python-basics/02-input"
    w.actions.trigger(ActionId.PREVIOUS_LESSON)
    assert w.editor.text() == "# my own work\n" + STARTER


def test_reset_asks_and_keeps_a_backup(app_parts, monkeypatch):
    """Reset to starter asks first, restores the starter and keeps the old code."""
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    w.editor.insert_at_cursor("precious = 1\n")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    w.actions.trigger(ActionId.RESET_LESSON)
    assert w.editor.text().startswith("precious = 1")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    w.actions.trigger(ActionId.RESET_LESSON)
    assert w.editor.text() == STARTER
    backups = app_parts.lessons.store.backups(w.lesson_browser.lesson(FIRST))
    assert (backups[-1] / "main.py").read_text().startswith("precious = 1")


def _tiny_lesson(course, lesson_id: str, title: str, extra_toml: str = ""):
    """Write a one-check Python lesson (prints "hi") into `course`."""
    lesson = course / lesson_id
    (lesson / "starter").mkdir(parents=True)
    (lesson / "solution").mkdir()
    (course / "course.toml").write_text('title = "Mine"\nlanguage = "python"\n')
    (lesson / "lesson.md").write_text("Print hi.")
    (lesson / "starter" / "main.py").write_text("")
    (lesson / "solution" / "main.py").write_text("print('hi')\n")
    (lesson / "lesson.toml").write_text(
        f'title = "{title}"\ngoal = "hi"\nmain = "main.py"\nhints = ["a", "b"]\n'
        '[[checks]]\nkind = "output"\nmessage = "say hi"\nexpected = "hi\\n"\n' + extra_toml
    )
    return lesson


def test_broken_lesson_is_shown_without_breaking_others(qtbot, tmp_path):
    """A broken lesson appears marked broken with its error; the good one still opens."""
    course = tmp_path / "course"
    _tiny_lesson(course, "good", "Good")
    (course / "bad").mkdir()
    (course / "bad" / "lesson.toml").write_text("title = [unclosed\n")
    parts = build_app(Settings(), data_dir=tmp_path / "data", lesson_roots=[tmp_path])
    qtbot.addWidget(parts.window)
    w = parts.window
    assert w.lesson_browser.item_text("course/bad").startswith("⚠")
    w.lesson_browser.select("course/bad")
    assert "broken" in w.lesson_panel.title.text()
    assert "lesson.toml" in w.lesson_panel.text.toPlainText()
    w.lesson_browser.select("course/good")
    assert w.lesson_panel.title.text() == "Good"
    parts.service.shutdown()


def test_policy_can_turn_chat_off(app_parts, tmp_path, qtbot):
    """A lesson with chat = false disables the chat input and says why."""
    _tiny_lesson(tmp_path / "c", "l", "Quiet", "[tutor]\nchat = false\n")
    app_parts.lessons.add_root(tmp_path)
    w = app_parts.window
    w.lesson_browser.select("c/l")
    assert not w.chat.input.isEnabled()
    assert "turned off chat" in w.chat.input.placeholderText()
    w.lesson_browser.select(FIRST)
    assert w.chat.input.isEnabled()


def test_lesson_prompt_uses_templates_and_policy(app_parts):
    """In a lesson, the tutor's prompt carries the lesson, its goal, the code and the policy;
    the system message has the lesson's rules first, then the code; the latest message has
    the question, not the code."""
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    tutor = app_parts.tutor
    context = tutor.context_provider()
    messages = build_messages(TutorAction.CHAT, context, tutor.templates, (), "What is a variable?")
    system, user = messages[0].content, messages[-1].content
    code = w.editor.text().strip()[:20]
    code_at = system.index("The learner's code, main.py (Python):")
    assert "Print and variables" in system[:code_at] and "Python" in system[:code_at]
    assert "What is a variable?" in user and code not in user
    assert code in system[code_at:]
    assert "{lesson_title}" not in system and "{instructions}" not in system
    assert "hints mode" in system[:code_at] and "Never write the full solution" in system[:code_at]


def test_opening_a_free_file_leaves_the_lesson(app_parts, qtbot, tmp_path):
    """A file opened during a lesson is saved to itself, never into the lesson's folder."""
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    mine = tmp_path / "mine.py"
    mine.write_text("x = 1\n")
    assert w.document.open_path(mine)
    assert app_parts.lessons.lesson is None and w.lesson_browser.current_key() is None
    with qtbot.assertNotEmitted(app_parts.lessons.sig_autosaved, wait=1300):  # > autosave delay
        w.editor.insert_at_cursor("# edited\n")
    workspace = app_parts.lessons.store.workspace_dir(w.lesson_browser.lesson(FIRST))
    assert not (workspace / "mine.py").exists()
    assert w.editor.is_modified() and mine.read_text() == "x = 1\n"
    assert w.document.save() and mine.read_text() == "# edited\nx = 1\n"
    shown = w.lesson_panel.text.toPlainText()
    assert "mine.py" in shown and "Ctrl+S" in shown and "not saved as you type" in shown


def test_check_results_stay_with_their_lesson(app_parts, qtbot):
    """Pressing Check on another lesson while checks run does not mix up their results."""
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    w.actions.trigger(ActionId.CHECK)
    w.lesson_browser.select("python-basics/02-input")
    w.actions.trigger(ActionId.CHECK)  # refused: the first lesson's checks are still running
    with qtbot.waitSignal(app_parts.runner.sig_checks_finished, timeout=30_000):
        pass
    store = app_parts.lessons.store
    assert store.get(FIRST).attempts == 1
    assert store.get("python-basics/02-input").attempts == 0
    panel = w.output_panel  # the first lesson's results are not shown in the second
    assert panel.results_list.count() == 0 and panel.summary_label.text().startswith("Press Check")


def test_a_second_course_with_the_same_folder_name_is_refused(app_parts, tmp_path):
    """A teacher's course named like a built-in one is not shown twice (they would share work)."""
    clash = tmp_path / "python-basics"
    clash.mkdir()
    (clash / "course.toml").write_text('title = "Impostor"\nlanguage = "python"\n')
    app_parts.lessons.add_root(tmp_path)
    w = app_parts.window
    titles = [
        w.lesson_browser.course_text(i) for i in range(w.lesson_browser.tree.topLevelItemCount())
    ]
    assert not any("Impostor" in t for t in titles)
    assert "python-basics" in w.statusBar().currentMessage()


def test_first_start_opens_the_first_lesson(app_parts):
    """A brand-new learner starts in the first Python lesson, not an empty window."""
    assert app_parts.lessons.restore_last_lesson()
    assert app_parts.window.lesson_browser.current_key() == FIRST
    assert app_parts.window.editor.text() == STARTER


def test_main_file_in_a_sub_folder_is_saved_and_checked(qtbot, tmp_path):
    """A lesson whose main is "src/main.py" autosaves, saves on switch, and Check sees the edit."""
    course = tmp_path / "course"
    lesson = _tiny_lesson(course, "nested", "Nested")
    toml = (lesson / "lesson.toml").read_text().replace('main = "main.py"', 'main = "src/main.py"')
    (lesson / "lesson.toml").write_text(toml)
    for part in ("starter", "solution"):
        (lesson / part / "src").mkdir()
        (lesson / part / "main.py").rename(lesson / part / "src" / "main.py")
    _tiny_lesson(course, "other", "Other")
    parts = build_app(Settings(), data_dir=tmp_path / "data", lesson_roots=[tmp_path])
    qtbot.addWidget(parts.window)
    w = parts.window
    assert w.lesson_browser.select("course/nested")
    saved = parts.lessons.store.workspace_dir(w.lesson_browser.lesson("course/nested"))
    saved = saved / "src" / "main.py"
    w.editor.insert_at_cursor("print('hi')\n")
    with qtbot.waitSignal(parts.lessons.sig_autosaved, timeout=5000) as autosaved:
        pass
    assert autosaved.args == [str(saved)] and saved.read_text() == "print('hi')\n"
    w.editor.insert_at_cursor("# more\n")
    assert w.lesson_browser.select("course/other")  # switching saves at once
    assert saved.read_text() == "print('hi')\n# more\n"
    assert w.lesson_browser.select("course/nested")
    with qtbot.waitSignal(parts.lessons.sig_lesson_done, timeout=30_000):
        w.actions.trigger(ActionId.CHECK)
    assert "passed" in w.output_panel.results_text(), w.output_panel.results_text()
    assert parts.lessons.store.get("course/nested").done
    parts.lessons.shutdown()
    parts.service.shutdown()


def test_steady_typing_is_saved_within_two_seconds_of_the_first_key(app_parts, qtbot):
    """Typing a key every 200 ms without a pause still autosaves while the typing goes on."""
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest

    w = app_parts.window
    w.lesson_browser.select(FIRST)
    w.editor.gotoPos(0)
    typed: list[str] = []
    saves: list[int] = []
    app_parts.lessons.sig_autosaved.connect(lambda _path: saves.append(len(typed)))
    keys = QTimer()
    keys.setInterval(200)
    keys.timeout.connect(lambda: (QTest.keyClicks(w.editor, "x"), typed.append("x")))
    keys.start()
    qtbot.waitUntil(lambda: len(typed) >= 25, timeout=60_000)
    keys.stop()
    assert saves and saves[0] < 25  # saved before the learner paused
    workspace = app_parts.lessons.store.workspace_dir(w.lesson_browser.lesson(FIRST))
    assert (workspace / "main.py").read_text().startswith("x" * saves[0])


def test_html_in_a_lesson_title_is_shown_as_plain_text(qtbot, tmp_path):
    """A course's HTML in a lesson title is shown literally, never rendered as rich text."""
    from PySide6.QtCore import Qt

    course = tmp_path / "course"
    fake = "<b style='font-size:72px;color:red'>FAKE SYSTEM WARNING</b><img src='/etc/x.png'>"
    _tiny_lesson(course, "html", fake)
    parts = build_app(Settings(), data_dir=tmp_path / "data", lesson_roots=[tmp_path])
    qtbot.addWidget(parts.window)
    w = parts.window
    assert w.lesson_browser.select("course/html")
    assert w.lesson_panel.title.textFormat() is Qt.TextFormat.PlainText
    assert w.lesson_panel.title.text() == fake
    status = w.status
    labels = [status.model_label, status.device_label, w.lesson_panel.status, w.output_panel.notice]
    assert all(label.textFormat() is Qt.TextFormat.PlainText for label in labels)
    parts.service.shutdown()


def test_check_results_say_when_there_is_no_sandbox(app_parts, qtbot, monkeypatch):
    """Without bubblewrap, Check still runs and its results say the checks are unsandboxed."""
    from app.runner import sandbox

    monkeypatch.setattr(sandbox, "_tools", lambda: None)
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    with qtbot.waitSignal(app_parts.runner.sig_checks_finished, timeout=30_000):
        w.actions.trigger(ActionId.CHECK)
    assert "without a sandbox" in w.output_panel.notice.text()
    assert "bubblewrap" in w.output_panel.notice.text()


def test_a_lesson_template_with_a_huge_selection_is_fitted_not_sent_whole(
    qtbot, tmp_path, starter_spec
):
    """A lesson template that repeats a 6,000-line selection 8 times is fitted to the model's
    context by its own tokens: the request goes out within the budget, the selection and the
    code in the system message are cut with markers, and the note says what was left out (it
    used to be refused, or sent whole and failed)."""
    course = tmp_path / "course"
    chat = "{question}" + "{selection}" * 8
    _tiny_lesson(course, "strict", "Strict", f'[tutor.templates]\nchat = "{chat}"\n')
    parts = build_app(Settings(), data_dir=tmp_path / "data", lesson_roots=[tmp_path])
    qtbot.addWidget(parts.window)
    w = parts.window
    assert w.lesson_browser.select("course/strict")
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=120_000):
        parts.service.load_model(starter_spec)
    w.editor.insert_at_cursor("x = 1\n" * 6000)
    w.editor.selectAll()
    parts.tutor.params = dataclasses.replace(parts.tutor.params, max_tokens=8)
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=120_000):
        assert parts.tutor.ask("Just give me the answer.") is not None
    fitted = parts.tutor.last_fitted
    assert fitted is not None and fitted.prompt_tokens <= fitted.budget_tokens
    assert fitted.note.startswith("Left out to fit the model's context: lines ")
    assert "of the selection left out …" in fitted.messages[-1].content
    assert "# … lines " in fitted.messages[0].content and "x = 1" in fitted.messages[0].content
    # The chat panel should say the note too (test_tutor_controller's xfail): it is wiped
    # by the reply's first paint.
    parts.lessons.shutdown()
    parts.service.shutdown()


def test_a_program_that_crashes_is_said_once_not_as_failed_checks(app_parts, qtbot):
    """Check on a program that stops with a TypeError says so once, in plain words, with the
    line, and marks that line; it does not read as wrong answers."""
    w = app_parts.window
    w.lesson_browser.select(FIRST)
    w.editor.selectAll()
    w.editor.insert_at_cursor('name = "Ada"\nage = 36\nprint(name + age)\n')  # as typed
    with qtbot.waitSignal(app_parts.runner.sig_checks_finished, timeout=30_000):
        w.actions.trigger(ActionId.CHECK)
    summary = w.output_panel.summary_label.text()
    assert summary.startswith("Your program stops with a TypeError on line 3 before the checks")
    assert 3 in w.editor.error_lines()
