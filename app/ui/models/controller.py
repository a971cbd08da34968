"""Wires the model manager and the first-run welcome to the app: the hardware check (once, off
the UI thread), Model ▸ Models…, a click on the status bar's model name, Use (load the model
through the LLM service and remember it in the settings) and Quit (pause downloads).

The composition root makes one `ModelsController` and connects the menu action and the status
bar's label to `open_manager`, and puts `welcome_panel()` beside the lesson on a first run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QWidget

from app.core.hardware import Hardware
from app.core.models import ModelSpec
from app.llm.hardware import detect_hardware
from app.llm.service import LlmService
from app.settings import Settings, SettingsError
from app.store.manager import ModelStore
from app.ui.models.dialog import ModelManagerDialog
from app.ui.models.jobs import ModelJobs
from app.ui.models.welcome import WelcomePanel, first_run

WELCOME_DONE = ".codetutor/welcome-done"
UNKNOWN_HARDWARE = Hardware(offload=False)
"""What is shown until the hardware check has answered (every figure unknown)."""


class _Clicks(QObject):
    """Calls `callback` when the watched widget is clicked with the left button."""

    def __init__(self, callback: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self.callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Run the callback on a left-button release."""
        if (
            event.type() == QEvent.Type.MouseButtonRelease
            and getattr(event, "button", lambda: None)() == Qt.MouseButton.LeftButton
        ):
            self.callback()
            return True
        return False


def make_clickable(widget: QWidget, callback: Callable[[], None], tip: str = "") -> None:
    """Make a label (the status bar's model name) call `callback` when clicked."""
    widget.installEventFilter(_Clicks(callback, widget))
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    if tip:
        widget.setToolTip(tip)


class ModelsController(QObject):
    """The model manager, the welcome and the jobs they share, for one window.

    Args:
        store: the model store (`app.store.manager.open_model_store`).
        service: the LLM service that loads models (its worker unloads the old model first).
        settings: where the chosen model is remembered (`model.path`, `model.chat_format`).
        window: the window dialogs belong to.
        detect: the hardware check (replaceable in tests); run once, off the UI thread.
    """

    sig_hardware_detected = Signal(object)
    """Hardware: the hardware check answered (on the UI thread)."""
    sig_notice = Signal(str, bool)
    """(text, is an error): something to tell the learner (the chat panel's info line)."""

    _sig_detected = Signal(object)  # posted from the detection thread

    def __init__(
        self,
        store: ModelStore,
        service: LlmService,
        settings: Settings,
        window: QWidget,
        detect: Callable[[], Hardware] = detect_hardware,
    ) -> None:
        super().__init__(window)
        self.store = store
        self.service = service
        self.settings = settings
        self.window = window
        self.jobs = ModelJobs(store, parent=self)
        self.hardware = UNKNOWN_HARDWARE
        self.detected = False
        self.dialog: ModelManagerDialog | None = None
        self.welcome: WelcomePanel | None = None
        self._sig_detected.connect(self._on_hardware_detected, Qt.ConnectionType.QueuedConnection)
        threading.Thread(
            target=lambda: self._sig_detected.emit(detect()), name="hardware-check", daemon=True
        ).start()

    @Slot(object)
    def _on_hardware_detected(self, hardware: Hardware) -> None:
        self.hardware = hardware
        self.detected = True
        for view in (self.dialog, self.welcome):
            if view is not None:
                view.set_hardware(hardware)
        self.sig_hardware_detected.emit(hardware)

    @property
    def welcome_marker(self) -> Path:
        """Written when the learner closes the welcome or picks a model: it is not shown again."""
        return self.store.library.user_dir / WELCOME_DONE

    def welcome_panel(self, parent: QWidget | None = None) -> WelcomePanel | None:
        """The first-run welcome (made once), or None when a model was chosen already or the
        welcome was closed before."""
        if self.welcome is None and first_run(self.settings, self.welcome_marker):
            self.welcome = WelcomePanel(self.jobs, self.hardware, parent)
            self.welcome.sig_use_requested.connect(self.use)
            self.welcome.sig_starter_requested.connect(self._on_welcome_starter_requested)
            self.welcome.sig_manager_requested.connect(self.open_manager)
            self.welcome.sig_dismissed.connect(self._on_welcome_dismissed)
        return self.welcome

    def _on_welcome_dismissed(self) -> None:
        with contextlib.suppress(OSError):  # a read-only home: it shows again next time
            self.welcome_marker.parent.mkdir(parents=True, exist_ok=True)
            self.welcome_marker.touch()

    @Slot()
    def open_manager(self) -> ModelManagerDialog:
        """Show Model ▸ Models… (one dialog, raised again when already open)."""
        if self.dialog is None:
            info = self.service.model_info
            self.dialog = ModelManagerDialog(
                self.jobs, self.hardware, info.path if info else None, self.window
            )
            self.dialog.sig_use_requested.connect(self.use)
            self.dialog.finished.connect(self._on_dialog_finished)
            if self.service.backend.capabilities.where == "server":
                self.dialog.show_server(info.device if info else "not reached yet")
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog

    def _on_dialog_finished(self, _result: int) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None

    @Slot(object)
    def use(self, spec: ModelSpec) -> None:
        """Load `spec` (the service's worker frees the old model first) and remember it."""
        self.service.load_model(spec)
        try:  # the starter is remembered as no file: it moves with the installed package
            self.settings.set_user("model.path", "" if spec.is_starter else str(spec.path))
            self.settings.set_user("model.chat_format", spec.chat_format or "")
        except (SettingsError, OSError) as exc:
            self.sig_notice.emit(f"The model is loading but could not be remembered: {exc}", True)
        if self.welcome is not None and self.welcome.isVisible():
            self.welcome.dismiss()

    def _on_welcome_starter_requested(self) -> None:
        from app.core.models import StarterModelMissingError, starter_model_spec

        info = self.service.model_info
        if info is None or not info.is_starter:  # at a first start it is loaded already
            try:
                self.service.load_model(starter_model_spec())
            except StarterModelMissingError as exc:
                self.sig_notice.emit(str(exc), True)
                return
        if self.welcome is not None:
            self.welcome.dismiss()
        self.sig_notice.emit(
            "The tiny starter model is answering. Code Llama gives far better help: download it "
            "any time from Model ▸ Models….",
            False,
        )

    def shutdown(self) -> None:
        """Pause the downloads (they resume at the next start) and stop the checks."""
        self.jobs.shutdown()
