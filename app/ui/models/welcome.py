"""The first-run welcome, shown beside the lesson when no model was chosen yet: what the app
does, the hardware check's recommendation, "Download Code Llama 7B Instruct (4.1 GB)" and
"Start now with the tiny starter model". It never blocks the lessons: it is a panel, not a
dialog, and the starter model answers while the download runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.catalog import CatalogEntry
from app.core.fit import Recommendation, recommend
from app.core.gguf import ModelFileError
from app.core.hardware import Hardware, download_gb
from app.settings import Settings
from app.store.download import Progress
from app.store.library import ModelState
from app.ui.common.theme import THEME, failure_style, notice_style
from app.ui.models.jobs import ModelJobs

INTRO = (
    "Code Tutor is a code editor with a tutor beside it: Code Llama, running on this computer, "
    "explains your code, gives hints, finds bugs and answers questions about the lesson. "
    "Nothing you write leaves this computer."
)
FALLBACK_MODEL = "codellama-7b-instruct"
"""Offered when the hardware check recommends nothing (the smallest Instruct model)."""


def first_run(settings: Settings, dismissed: Path | None = None) -> bool:
    """Whether to show the welcome: no model chosen yet (`model.path` empty, no tutor's server
    in `server.url`) and the welcome not closed before (the file `dismissed` does not exist)."""
    if dismissed is not None and dismissed.exists():
        return False
    if str(settings.get("server.url") or "").strip():
        return False  # the lab's server runs the model: nothing to download here
    return not str(settings.get("model.path") or "").strip()


class WelcomePanel(QFrame):
    """The welcome, with two choices; it hides itself once a model is in use.

    Args:
        jobs: the downloads (shared with the model manager).
        hardware: the hardware check's result, for the recommendation.
        parent: the widget it sits in (beside the lesson).
    """

    sig_use_requested = Signal(object)
    """ModelSpec: the download finished and was verified: load it (the caller does)."""
    sig_starter_requested = Signal()
    """The learner chose the tiny starter model."""
    sig_manager_requested = Signal()
    """The learner wants the model manager (Model ▸ Models…)."""
    sig_dismissed = Signal()
    """The welcome was closed; it is not needed any more."""

    def __init__(self, jobs: ModelJobs, hardware: Hardware, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.jobs = jobs
        self.store = jobs.store
        self.recommendation: Recommendation = recommend(
            self.store.catalog.instruct(), hardware, self.store.n_ctx
        )
        self.entry: CatalogEntry | None = self._offered()
        title = QLabel("Welcome to Code Tutor", self)
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        title.setFont(font)
        self.intro_label = self._label(INTRO)
        self.advice_label = self._label(self.recommendation.text)
        self.advice_label.setStyleSheet(f"QLabel {{ color:{THEME.muted}; }}")
        self.download_button = QPushButton(self._download_words(), self)
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self._on_download_clicked)
        self.starter_button = QPushButton("Start now with the tiny starter model", self)
        self.starter_button.clicked.connect(self._on_starter_clicked)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.pause_button.hide()
        self.progress_label = self._label("")
        self.progress_label.hide()
        self.more_button = more = QPushButton("All models…", self)
        more.setFlat(True)
        more.clicked.connect(self.sig_manager_requested)
        self.close_button = close = QPushButton("Close", self)
        close.setFlat(True)
        close.clicked.connect(self.dismiss)
        # Stacked, so the welcome fits a narrow lessons column (a 1024-pixel screen).
        download_row = QHBoxLayout()
        download_row.addWidget(self.download_button, 1)
        download_row.addWidget(self.pause_button)
        buttons = QVBoxLayout()
        buttons.addLayout(download_row)
        buttons.addWidget(self.starter_button)
        buttons.addStretch(1)
        footer = QHBoxLayout()
        footer.addWidget(more)
        footer.addStretch(1)
        footer.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.intro_label)
        layout.addWidget(self.advice_label)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_label)
        layout.addLayout(footer)
        layout.addStretch(1)
        jobs.sig_progressed.connect(self._on_jobs_progressed)
        jobs.sig_finished.connect(self._on_jobs_finished)
        self._refresh()

    def _offered(self) -> CatalogEntry | None:
        return self.recommendation.entry or self.store.find(FALLBACK_MODEL)

    def set_hardware(self, hardware: Hardware) -> None:
        """Show the recommendation for the hardware check's (new) result."""
        if self.entry is not None and self.jobs.running(self.entry.id):
            return  # a download of the entry offered is under way: keep offering it
        self.recommendation = recommend(self.store.catalog.instruct(), hardware, self.store.n_ctx)
        self.entry = self._offered()
        self.advice_label.setText(self.recommendation.text)
        self._refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep room for the wrapped text at this width (a splitter does not ask for it)."""
        super().resizeEvent(event)
        layout = self.layout()
        if layout is not None:
            needed = layout.totalHeightForWidth(self.width())
            if needed > 0 and needed != self.minimumHeight():
                self.setMinimumHeight(needed)

    def _label(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return label

    def _download_words(self) -> str:
        if self.entry is None:
            return "Download Code Llama"
        return f"Download {self.entry.name} ({download_gb(self.entry.size)})"

    def _refresh(self) -> None:
        """Buttons and the progress line from the download's state."""
        if self.entry is None:
            self.download_button.setEnabled(False)
            return
        status = self.store.library.status(self.entry)
        running = self.jobs.downloading(self.entry.id)
        self.pause_button.setVisible(running)
        self.download_button.setVisible(not running)
        if status.state is ModelState.PAUSED and not running:
            self.download_button.setText(f"Resume the download ({status.words()})")
        elif status.state is ModelState.READY:
            self.download_button.setText(f"Use {self.entry.name}")
        else:
            self.download_button.setText(self._download_words())
        self.download_button.setEnabled(
            not self.store.hub.offline or status.state is ModelState.READY
        )
        if self.store.hub.offline and status.state is not ModelState.READY:
            self._show_progress(
                "Offline: the download is not available. The starter model works.", True
            )

    def _show_progress(self, text: str, error: bool = False) -> None:
        self.progress_label.setText(text)
        self.progress_label.setStyleSheet(failure_style() if error else notice_style())
        self.progress_label.setVisible(bool(text))

    def dismiss(self) -> None:
        """Hide the welcome (a download under way goes on)."""
        self.hide()
        self.sig_dismissed.emit()

    @Slot()
    def _on_download_clicked(self) -> None:
        if self.entry is None:
            return
        if self.store.library.status(self.entry).state is ModelState.READY:
            self._use()
            return
        self.jobs.download(self.entry)
        self._show_progress(
            f"Downloading {self.entry.name}… You can start the lessons meanwhile: the tiny "
            "starter model answers until it is ready."
        )
        self._refresh()

    @Slot()
    def _on_pause_clicked(self) -> None:
        if self.entry is not None:
            self.jobs.pause(self.entry.id)

    @Slot()
    def _on_starter_clicked(self) -> None:
        self.sig_starter_requested.emit()

    def _use(self) -> None:
        assert self.entry is not None
        try:
            spec = self.store.spec(self.entry)
        except ModelFileError as exc:
            self._show_progress(str(exc), True)
            return
        self.sig_use_requested.emit(spec)
        self.dismiss()

    @Slot(object)
    def _on_jobs_progressed(self, progress: Progress) -> None:
        if self.entry is not None and progress.entry_id == self.entry.id:
            self._show_progress(
                f"{self.entry.name}: {progress.words()}. The starter model answers meanwhile."
            )

    @Slot(object)
    def _on_jobs_finished(self, progress: Progress) -> None:
        if self.entry is None or progress.entry_id != self.entry.id:
            return
        self._refresh()
        if progress.state is ModelState.READY:
            self._show_progress(f"{self.entry.name} is ready: switching to it.")
            self._use()
        elif progress.state is ModelState.FAILED:
            self._show_progress(f"The download failed: {progress.message}", True)
        elif progress.state is ModelState.PAUSED:
            self._show_progress(f"{self.entry.name}: {progress.words()}.")
        else:
            self._show_progress("")
