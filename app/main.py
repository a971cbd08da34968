"""Builds and wires the app: settings, the LLM service, the main window, the tutor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.filetypes import LANGUAGE_NAMES
from app.core.lessons.progress import ProgressStore
from app.core.models import ModelSpec, StarterModelMissingError, spec_for_file, starter_model_spec
from app.core.tutor.context import TutorContext
from app.llm.backend import Backend, GenerationParams
from app.llm.service import LlmService
from app.paths import BUILTIN_LESSONS_DIR, resolve_paths
from app.runner import sandbox
from app.settings import Settings
from app.state import SessionState
from app.ui.common.actions import ActionId
from app.ui.lessons.controller import LessonController
from app.ui.main_window import MainWindow
from app.ui.run.controller import RunController
from app.ui.run.processes import ProgramRunner
from app.ui.tutor.controller import TutorController


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


WINDOW_LAYOUT_KEY = "window.layout"


def model_spec_from_settings(settings: Settings) -> ModelSpec:
    """The configured model, or the embedded starter model when none is configured."""
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
    if backend is None:
        from app.llm.local import LocalBackend
        from app.llm.preflight import Preflight

        backend = LocalBackend(preflight=Preflight(resolve_paths().cache_dir))
    service = LlmService(backend)
    window = MainWindow(service)
    window.sig_closed.connect(lambda: service.shutdown(timeout_ms=1000))
    params = GenerationParams(
        max_tokens=int(settings.get("tutor.max_tokens")),
        temperature=float(settings.get("tutor.temperature")),
    )
    tutor = TutorController(service, window.chat, params=params, parent=window)

    def load_file(path: str) -> None:
        service.load_model(spec_for_file(path, n_ctx=int(settings.get("model.n_ctx"))))

    def load_starter() -> None:
        try:
            service.load_model(starter_model_spec())
        except StarterModelMissingError as exc:
            window.chat.add_info(str(exc), error=True)

    window.sig_model_file_requested.connect(load_file)
    window.actions.connect(ActionId.STARTER_MODEL, load_starter)
    for problem in settings.problems:
        window.chat.add_info(problem, error=True)
    if data_dir is None:
        data_dir = resolve_paths().data_dir
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

    def tutor_context() -> TutorContext:
        editor = window.editor
        return TutorContext(
            code=editor.text(),
            language=editor.language,
            language_name=LANGUAGE_NAMES.get(editor.language, editor.language),
            selection=editor.selected_text(),
            cursor_line=editor.cursor_line(),
            lesson=lessons.lesson_brief(),
            run=run.run_brief(),
        )

    tutor.context_provider = tutor_context
    paths = resolve_paths()
    sandbox.hide([*lessons.roots, data_dir, paths.data_dir, paths.config_dir, paths.cache_dir])
    lessons.reload_courses()
    return AppParts(service, window, tutor, settings, lessons, runner, run)


def start_default_model(parts: AppParts) -> None:
    """Load the configured model (or the starter model) in the background."""
    try:
        spec = model_spec_from_settings(parts.settings)
    except StarterModelMissingError as exc:
        parts.window.chat.add_info(str(exc), error=True)
        return
    parts.service.load_model(spec)
