"""Builds and wires the app: settings, the LLM service, the main window, the tutor."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from app.core.atomic import atomic_write_text
from app.core.conversation import FREE_KEY, ConversationStore
from app.core.filetypes import LANGUAGE_NAMES
from app.core.lessons import BrokenLesson, Lesson
from app.core.lessons.progress import ProgressStore
from app.core.models import (
    ModelSpec,
    StarterModelMissingError,
    server_model_spec,
    spec_for_file,
    starter_model_spec,
)
from app.core.server import ServerConfigError
from app.core.tutor.actions import TutorAction
from app.core.tutor.context import TutorContext
from app.llm.backend import Backend, GenerationParams
from app.llm.service import LlmService
from app.paths import BUILTIN_LESSONS_DIR, resolve_paths
from app.runner import sandbox
from app.settings import Settings, server_config_from_settings
from app.state import SessionState
from app.store.manager import open_model_store
from app.ui.common.actions import SPECS, ActionId
from app.ui.editor.completion import CompletionController
from app.ui.editor.widget import CodeEditor
from app.ui.lessons.controller import LessonController
from app.ui.main_window import MainWindow
from app.ui.models.controller import ModelsController, make_clickable
from app.ui.run.controller import RunController
from app.ui.run.processes import ProgramRunner
from app.ui.tutor.controller import TURNED_OFF, GuardTarget, TutorController
from app.ui.tutor.diff_dialog import (
    DiffDialog,
    Selection,
    apply_proposal,
    editor_selection,
    select_whole_lines,
)


@dataclass
class AppParts:
    """Everything `build_app` made, for the caller (and tests) to use."""

    service: LlmService
    window: MainWindow
    tutor: TutorController
    settings: Settings
    lessons: LessonController
    runner: ProgramRunner
    run: RunController
    models: ModelsController


WINDOW_LAYOUT_KEY = "window.layout"


def backend_from_settings(settings: Settings) -> tuple[Backend, str | None]:
    """The backend the settings ask for: the tutor's server when `server.url` is set, else
    llama.cpp in this process (each new model and setting checked in a child process first).

    Returns:
        (backend, problem): problem is a sentence when the server settings could not be used
        and the model runs here instead; else None.
    """
    problem = None
    try:
        config = server_config_from_settings(settings)
    except ServerConfigError as exc:
        config, problem = None, f"{exc} The tutor runs its model on this computer instead."
    if config is not None:
        from app.llm.server import ServerBackend

        return ServerBackend(config), None
    from app.llm.local import LocalBackend
    from app.llm.preflight import Preflight

    return LocalBackend(preflight=Preflight(resolve_paths().cache_dir)), problem


def model_spec_from_settings(settings: Settings, on_server: bool = False) -> ModelSpec:
    """The configured model, or the embedded starter model when none is configured; with
    `on_server`, the tutor's server's model."""
    if on_server:
        return server_model_spec(
            str(settings.get("server.model") or ""), int(settings.get("model.n_ctx"))
        )
    path = settings.get("model.path")
    if path:
        return spec_for_file(
            path,
            chat_format=settings.get("model.chat_format") or None,
            n_ctx=int(settings.get("model.n_ctx")),
        )
    return starter_model_spec()


def build_app(
    settings: Settings,
    backend: Backend | None = None,
    data_dir: Path | None = None,
    lesson_roots: list[Path] | None = None,
) -> AppParts:
    """Create the service, window, tutor and lessons, and connect them. No model is loaded
    yet; the courses are listed.

    Args:
        settings: the effective settings.
        backend: the inference backend (default: llama.cpp in-process, each new model and
            setting checked in a child process first).
        data_dir: where progress and the learner's files live (default: the user data dir).
        lesson_roots: folders of courses (default: the built-in lessons).
    """
    backend_problem = None
    if backend is None:
        backend, backend_problem = backend_from_settings(settings)
    service = LlmService(backend)
    window = MainWindow(service)
    window.sig_closed.connect(lambda: service.shutdown(timeout_ms=1000))
    params = GenerationParams(
        max_tokens=int(settings.get("tutor.max_tokens")),
        temperature=float(settings.get("tutor.temperature")),
    )
    if data_dir is None:
        data_dir = resolve_paths().data_dir
    conversations = ConversationStore(data_dir, keep=bool(settings.get("tutor.keep_conversations")))
    tutor = TutorController(service, window.chat, params=params, parent=window, store=conversations)

    def load_file(path: str) -> None:
        service.load_model(spec_for_file(path, n_ctx=int(settings.get("model.n_ctx"))))

    def load_starter() -> None:
        try:
            service.load_model(starter_model_spec())
        except StarterModelMissingError as exc:
            window.chat.add_info(str(exc), error=True)

    window.sig_model_file_requested.connect(load_file)
    window.actions.connect(ActionId.STARTER_MODEL, load_starter)
    for problem in [*settings.problems, *([backend_problem] if backend_problem else [])]:
        window.chat.add_info(problem, error=True)
    runner = ProgramRunner(window)
    store = ProgressStore(data_dir)
    if store.load_problem:
        window.chat.add_info(store.load_problem, error=True)
    state = SessionState.in_folder(data_dir, settings)
    if state.load_problem:
        window.chat.add_info(state.load_problem, error=True)
    window.restore_layout(state.get(WINDOW_LAYOUT_KEY))
    window.sig_closing.connect(lambda: state.set(WINDOW_LAYOUT_KEY, window.layout_state()))
    lessons = LessonController(
        window,
        store,
        settings,
        state,
        lesson_roots if lesson_roots is not None else [BUILTIN_LESSONS_DIR],
        parent=window,  # its timers end with the window, on the UI thread
    )
    run = RunController(runner, window.document, window.output_panel, window, lessons, window)
    lessons.run_controller = run
    run.sig_checks_finished.connect(lessons.record_checks)
    window.actions.connect(ActionId.RUN, run.run)
    window.actions.connect(ActionId.STOP_PROGRAM, run.stop)
    window.actions.connect(ActionId.CHECK, run.check)
    window.sig_closing.connect(runner.shutdown)
    window.sig_closing.connect(tutor.shutdown)
    _wire_tutor(window, tutor, lessons, run, store)
    _wire_completion(window, service, lessons, settings)
    models = _wire_models(window, service, settings, data_dir)

    def tutor_context() -> TutorContext:
        editor = window.editor
        return TutorContext(
            code=editor.text(),
            language=editor.language,
            language_name=LANGUAGE_NAMES.get(editor.language, editor.language),
            selection=editor.selected_text(),
            selection_lines=_selection_lines(editor),
            cursor_line=editor.cursor_line(),
            file_name=window.document.path.name if window.document.path else "untitled",
            lesson=lessons.lesson_brief(),
            run=run.run_brief(),
        )

    tutor.context_provider = tutor_context
    paths = resolve_paths()
    sandbox.hide([*lessons.roots, data_dir, paths.data_dir, paths.config_dir, paths.cache_dir])
    lessons.reload_courses()
    return AppParts(service, window, tutor, settings, lessons, runner, run, models)


TUTOR_ACTIONS = {
    ActionId.EXPLAIN: TutorAction.EXPLAIN,
    ActionId.DEBUG: TutorAction.DEBUG,
    ActionId.DOCUMENT: TutorAction.DOCUMENT,
}
DEBUG_WHY_NOT = "Debug is offered after a Run or Check that went wrong (F8)."


def _selection_lines(editor: CodeEditor) -> tuple[int, int] | None:
    """The first and last line (from 1) of the editor's selection, or None."""
    selection = editor_selection(editor)
    if selection is None:
        return None
    first, _col, last, end_col = selection
    if end_col == 0 and last > first:
        last -= 1  # a selection ending at a line's start does not take that line
    return first + 1, last + 1


def _whole_lines(editor: CodeEditor) -> Selection | None:
    """Widen the editor's selection to whole lines (Document works on lines); the new one."""
    selection = _selection_lines(editor)
    if selection is None:
        return None
    return select_whole_lines(editor, *selection)


def _wire_tutor(
    window: MainWindow,
    tutor: TutorController,
    lessons: LessonController,
    run: RunController,
    store: ProgressStore,
) -> None:
    """The tutor's actions, their switches per lesson, and what their replies lead to."""
    actions = window.actions
    for action_id, action in TUTOR_ACTIONS.items():
        actions.connect(action_id, lambda _c=False, a=action: tutor.request(a))
    lessons.sig_tutor_hint_wanted.connect(lambda: tutor.request(TutorAction.HINT))
    window.output_panel.sig_ask_why_requested.connect(lambda: actions.trigger(ActionId.DEBUG))

    def refresh() -> None:
        for action_id, action in TUTOR_ACTIONS.items():
            allowed = tutor.allows(action)
            enabled = allowed and (action is not TutorAction.DEBUG or run.failed)
            why = "" if allowed else TURNED_OFF.format(action=action.label)
            actions.set_enabled(action_id, enabled, why or DEBUG_WHY_NOT)
            if enabled:
                actions[action_id].setToolTip(_tip(action_id))

    def on_lesson_opened(lesson: Lesson | BrokenLesson) -> None:
        if isinstance(lesson, Lesson):
            tutor.set_allowed(lesson.policy.allows)
        else:  # a broken lesson: its text does not show; the editor has a new file
            tutor.set_allowed(lambda _action: True)
        tutor.switch_conversation(lesson.key)
        refresh()

    def on_free_file(_name: str) -> None:
        tutor.set_allowed(lambda _action: True)
        tutor.switch_conversation(FREE_KEY)
        refresh()

    lessons.sig_lesson_opened.connect(on_lesson_opened)
    window.document.sig_free_file_opened.connect(on_free_file)
    run.sig_outcome_changed.connect(lambda _failed: refresh())
    tutor.sig_context_used.connect(window.status.show_context)
    tutor.sig_line_pointed.connect(
        lambda line, what: window.editor.show_error(line, f"Tutor: {what}" if what else "Tutor")
    )
    tutor.sig_solution_revealed.connect(store.record_solution_revealed)

    def on_document_proposed(proposal: object, label: str, selection: object) -> None:
        dialog = DiffDialog(proposal, label, window)  # type: ignore[arg-type]
        if dialog.exec() != DiffDialog.DialogCode.Accepted:
            window.chat.add_info("The proposed comments were not applied.")
            return
        if not apply_proposal(window.editor, proposal, selection):  # type: ignore[arg-type]
            window.warn(
                "Not applied",
                "Your code changed while the tutor was writing, so the proposal no longer "
                "fits it. Nothing was changed: ask for Document again.",
            )
            return
        window.chat.add_info("The comments were applied (Ctrl+Z takes them back).")

    tutor.sig_document_proposed.connect(on_document_proposed)
    tutor.selection_provider = lambda: _whole_lines(window.editor)

    def guard_target() -> GuardTarget | None:
        lesson = lessons.lesson
        if lesson is None or lesson.policy.help != "hints" or not lessons.editing_lesson_file():
            return None
        return GuardTarget(
            lesson.key,
            lesson.language,
            lesson.main,
            lessons.workspace_dir(lesson),
            tuple(lesson.checks),
            lesson.time_limit,
        )

    tutor.guard_provider = guard_target

    def export() -> None:
        lesson = lessons.lesson
        title = lesson.title if lesson else "free coding"
        path = window.choose_save_file(
            "Export conversation", f"{title} - tutor.md", "Markdown (*.md);;All files (*)"
        )
        if path is None:
            return
        try:
            atomic_write_text(Path(path), tutor.export_markdown(title))
        except OSError as exc:
            window.warn("Cannot export", f"Could not write {path}: {exc.strerror or exc}")
            return
        window.show_status(f"Conversation saved as {Path(path).name}", 5000)

    actions.connect(ActionId.EXPORT_CONVERSATION, export)
    refresh()


def _wire_completion(
    window: MainWindow, service: LlmService, lessons: LessonController, settings: Settings
) -> CompletionController:
    """Inline completion: the lesson's mode, the toolbar switch and the status bar."""
    completion = CompletionController(window.editor, service)
    toggle = window.actions[ActionId.INLINE_COMPLETION]
    enabled = bool(settings.get("editor.inline_completion"))
    toggle.setChecked(enabled)
    completion.set_enabled(enabled)
    toggle.toggled.connect(completion.set_enabled)

    def on_lesson_opened(lesson: Lesson | BrokenLesson) -> None:
        completion.set_mode(lesson.policy.completion if isinstance(lesson, Lesson) else "off")

    lessons.sig_lesson_opened.connect(on_lesson_opened)
    window.document.sig_free_file_opened.connect(lambda _name: completion.set_mode("full"))
    completion.sig_status.connect(lambda text: window.show_status(text, 6000))
    completion.sig_latency.connect(
        lambda ms: window.status.showMessage(f"Completion in {ms:.0f} ms", 3000)
    )
    return completion


def _wire_models(
    window: MainWindow, service: LlmService, settings: Settings, data_dir: Path
) -> ModelsController:
    """Model ▸ Models…, the status bar's model name, and the first-run welcome."""
    paths = resolve_paths()
    store = open_model_store(settings, dataclasses.replace(paths, data_dir=data_dir))
    models = ModelsController(store, service, settings, window)
    window.actions.connect(ActionId.MODELS, models.open_manager)
    make_clickable(window.status.model_label, models.open_manager, "Open the model manager")
    models.sig_notice.connect(lambda text, error: window.chat.add_info(text, error=error))
    window.sig_closing.connect(models.shutdown)
    welcome = models.welcome_panel(window)
    if welcome is not None:
        window.show_welcome(welcome)
    return models


def _tip(action_id: ActionId) -> str:
    spec = SPECS[action_id]
    return f"{spec.tip} ({spec.shortcut})" if spec.shortcut else spec.tip


def start_default_model(parts: AppParts) -> None:
    """Load the configured model (or the starter model) in the background."""
    on_server = parts.service.backend.capabilities.where == "server"
    try:
        spec = model_spec_from_settings(parts.settings, on_server=on_server)
    except StarterModelMissingError as exc:
        parts.window.chat.add_info(str(exc), error=True)
        return
    parts.service.load_model(spec)
