"""Builds and wires the app: settings, the LLM service, the main window, the tutor."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.models import ModelSpec, StarterModelMissingError, spec_for_file, starter_model_spec
from app.llm.backend import Backend, GenerationParams
from app.llm.service import LlmService
from app.settings import Settings
from app.ui.main_window import MainWindow
from app.ui.tutor import TutorController


@dataclass
class AppParts:
    """Everything `build_app` made, for the caller (and tests) to use."""

    service: LlmService
    window: MainWindow
    tutor: TutorController
    settings: Settings


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


def build_app(settings: Settings, backend: Backend | None = None) -> AppParts:
    """Create the service, window and tutor, and connect them. Nothing is loaded yet."""
    if backend is None:
        from app.llm.local import LocalBackend

        backend = LocalBackend()
    service = LlmService(backend)
    window = MainWindow(service)
    params = GenerationParams(
        max_tokens=int(settings.get("tutor.max_tokens")),
        temperature=float(settings.get("tutor.temperature")),
    )
    tutor = TutorController(
        service,
        window.chat,
        code_provider=lambda: (window.editor.language, window.editor.text()),
        params=params,
    )

    def load_file(path: str) -> None:
        service.load_model(spec_for_file(path, n_ctx=int(settings.get("model.n_ctx"))))

    def load_starter() -> None:
        try:
            service.load_model(starter_model_spec())
        except StarterModelMissingError as exc:
            window.chat.add_info(str(exc), error=True)

    window.sig_model_file_requested.connect(load_file)
    window.sig_starter_model_requested.connect(load_starter)
    for problem in settings.problems:
        window.chat.add_info(problem, error=True)
    return AppParts(service, window, tutor, settings)


def start_default_model(parts: AppParts) -> None:
    """Load the configured model (or the starter model) in the background."""
    try:
        spec = model_spec_from_settings(parts.settings)
    except StarterModelMissingError as exc:
        parts.window.chat.add_info(str(exc), error=True)
        return
    parts.service.load_model(spec)
