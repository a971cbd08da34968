"""The status bar: cursor line and language on the left; model, where it runs, what it is
doing, how much of the context the tutor's last question used, and the last reply's speed on
the right."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.core.filetypes import LANGUAGE_NAMES
from app.llm.backend import ModelInfo
from app.llm.requests import Lane
from app.llm.service import ANSWERING, LlmService, LlmState, RequestHandle
from app.ui.editor.widget import CodeEditor


def _label(parent: QWidget, text: str = "") -> QLabel:
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class StatusBar(QStatusBar):
    """Shows the service's state and the editor's position, as they change."""

    def __init__(self, service: LlmService, editor: CodeEditor, parent: QWidget | None = None):
        super().__init__(parent)
        self._service = service
        self._editor = editor
        self.position_label = _label(self)
        self.model_label = _label(self, "No model")
        self.device_label = _label(self)
        self.state_label = _label(self)
        self.context_label = _label(self)
        self.speed_label = _label(self)
        self.speed_label.setMinimumWidth(90)
        self.addWidget(self.position_label)
        for label in (
            self.model_label,
            self.device_label,
            self.state_label,
            self.context_label,
            self.speed_label,
        ):
            self.addPermanentWidget(label)
        editor.updateUi.connect(self._on_editor_update_ui)
        service.sig_state_changed.connect(self._show_state)
        service.sig_chat_busy_changed.connect(self._show_state)
        service.sig_model_loaded.connect(self._on_service_model_loaded)
        service.sig_model_failed.connect(self._on_service_model_failed)
        service.sig_request_ended.connect(self._on_service_request_ended)
        self._show_state()

    def show_context(self, used_tokens: int, n_ctx: int) -> None:
        """Show how much of the model's context the tutor's last question used.

        Args:
            used_tokens: the prompt's tokens (`FittedPrompt.prompt_tokens`).
            n_ctx: the model's context length in tokens.
        """
        text, tooltip = context_words(used_tokens, n_ctx)
        self.context_label.setText(text)
        self.context_label.setToolTip(tooltip)

    @Slot()
    def _show_state(self, *_: object) -> None:
        state = self._service.state
        busy = self._service.chat_busy and state is LlmState.READY
        self.state_label.setText(ANSWERING if busy else state.value)

    @Slot(int)
    def _on_editor_update_ui(self, _updated: int) -> None:
        lang = LANGUAGE_NAMES.get(self._editor.language, self._editor.language)
        self.position_label.setText(f"Line {self._editor.cursor_line()} · {lang}")

    @Slot(object)
    def _on_service_model_loaded(self, info: ModelInfo) -> None:
        self._show_model(info)
        done = "Connected to the server" if info.on_server else f"Loaded {info.name}"
        self.showMessage(f"{done} in {info.load_seconds:.1f} s", 4000)

    @Slot(str, str)
    def _on_service_model_failed(self, _kind: str, _message: str) -> None:
        info = self._service.model_info  # the model in use before, when it is still loaded
        self._show_model(info)

    def _show_model(self, info: ModelInfo | None) -> None:
        """The model and where it runs; on a server, "Server: host — model" alone."""
        if info is None:
            self.model_label.setText("No model")
            self.device_label.setText("")
        else:
            self.model_label.setText(info.device if info.on_server else info.name)
            self.device_label.setText("" if info.on_server else info.device)
            self.device_label.setVisible(not info.on_server)

    @Slot(object)
    def _on_service_request_ended(self, handle: RequestHandle) -> None:
        stats = handle.stats
        if handle.lane is Lane.CHAT and stats is not None and stats.tokens:
            self.speed_label.setText(speed_words(stats.tokens_per_s))


def speed_words(tokens_per_s: float) -> str:
    """The speed in words: "42 tokens/s", "2.5 tokens/s", "1 token/s"."""
    number = f"{tokens_per_s:.1f}" if tokens_per_s < 10 else f"{tokens_per_s:.0f}"
    number = number.removesuffix(".0")
    return f"{number} {'token' if number == '1' else 'tokens'}/s"


def context_words(used_tokens: int, n_ctx: int) -> tuple[str, str]:
    """The context's use in words, short and long.

    Returns:
        ("1.2k / 4k tokens", "The tutor's last question used 1,234 of the model's
        4,096-token context") for 1,234 of 4,096 (k is 1,024, as contexts are counted).
    """
    short = f"{_kilo(used_tokens)} / {_kilo(n_ctx)} tokens"
    long = f"The tutor's last question used {used_tokens:,} of the model's {n_ctx:,}-token context"
    return short, long


def _kilo(tokens: int) -> str:
    """850 → "850", 1,234 → "1.2k", 4,096 → "4k", 16,384 → "16k"."""
    if tokens < 1024:
        return str(tokens)
    kilo = tokens / 1024
    number = f"{kilo:.1f}" if kilo < 10 else f"{kilo:.0f}"
    return f"{number.removesuffix('.0')}k"
