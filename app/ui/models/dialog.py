"""Model ▸ Models…: every catalog entry with its size, whether it fits this machine and its
state, and Download, Pause, Resume, Cancel, Delete and Use for the one selected."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.catalog import FAMILY_WORDS, CatalogEntry
from app.core.fit import fit, recommend
from app.core.gguf import ModelFileError
from app.core.hardware import Hardware, describe, download_gb
from app.store.download import Progress
from app.store.library import ModelState, ModelStatus
from app.ui.common.theme import THEME, failure_style, notice_style
from app.ui.models.jobs import ModelJobs

COLUMNS = ("Model", "Kind", "Size", "This machine", "State")
KIND_WORDS = {
    "instruct": "Instruct",
    "base": "Base",
    "python": "Python",
    "starter": "Starter",
    "local": "Your own file",
}


def _kind_tip(entry: CatalogEntry) -> str:
    """What the Kind column means for `entry`, in a sentence."""
    words = FAMILY_WORDS.get(entry.family, entry.family)
    tip = {
        "instruct": "follows instructions: the tutor's model",
        "base": "the base code model: code completion",
        "python": "specialised on Python",
    }.get(entry.family, "")
    fim = " It can fill in the middle (complete code between what is before and after the cursor)."
    return f"{words}{': ' + tip if tip else ''}.{fim if entry.fim else ''}"


class ModelManagerDialog(QDialog):
    """The model manager. Downloads and checks run in `jobs`; closing the dialog leaves them
    running (they show again when it reopens).

    Args:
        jobs: the downloads and checks (shared with the first-run welcome).
        hardware: the hardware check's result, for the fit column and the recommendation.
        current_path: the model file in use, marked "in use".
        parent: the window it belongs to.
    """

    sig_use_requested = Signal(object)
    """ModelSpec: the learner chose Use on a ready model (the caller loads it)."""

    def __init__(
        self,
        jobs: ModelJobs,
        hardware: Hardware,
        current_path: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(980, 600)
        self.jobs = jobs
        self.store = jobs.store
        self.hardware = hardware
        self.current_path = Path(current_path).absolute() if current_path else None
        self.server = ""  # "Server: host — model" while the tutor runs on a server
        self.entries: list[CatalogEntry] = []
        self.machine_label = QLabel(self)
        self.machine_label.setWordWrap(True)
        self.machine_label.setTextFormat(Qt.TextFormat.PlainText)
        self.machine_label.setStyleSheet(f"QLabel {{ color:{THEME.muted}; }}")
        self.advice_label = QLabel(self)
        self.advice_label.setWordWrap(True)
        self.advice_label.setTextFormat(Qt.TextFormat.PlainText)
        self.advice_label.setStyleSheet(notice_style())
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.message_label = QLabel(self)
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.hide()
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for name in ("Download", "Pause", "Resume", "Cancel", "Delete", "Use"):
            button = QPushButton(name, self)
            button.clicked.connect(lambda _checked=False, n=name: self._on_button_clicked(n))
            self.buttons[name] = button
            row.addWidget(button)
        row.addStretch(1)
        self.add_button = QPushButton("Add a GGUF file…", self)
        self.add_button.clicked.connect(self._on_add_clicked)
        row.addWidget(self.add_button)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.machine_label)
        layout.addWidget(self.advice_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message_label)
        layout.addLayout(row)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        jobs.sig_progressed.connect(self._on_jobs_progressed)
        jobs.sig_finished.connect(self._on_jobs_finished)
        self.reload()
        self.check_unchecked()

    # --- what the dialog shows ---------------------------------------------------------

    def reload(self) -> None:
        """Fill the table from the catalog and the library."""
        self.machine_label.setText("  ·  ".join(describe(self.hardware)))
        advice = recommend(self.store.catalog.instruct(), self.hardware, self.store.n_ctx)
        offline = " Offline mode: nothing will be downloaded." if self.store.hub.offline else ""
        self.advice_label.setText(self._server_words() or advice.text + offline)
        selected = self.selected_entry()
        self.entries = list(self.store.catalog.entries)
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            f = fit(entry, self.hardware, min(self.store.n_ctx, entry.context_length))
            cells = (
                entry.display_name,
                KIND_WORDS.get(entry.family, entry.family) + (" · FIM" if entry.fim else ""),
                download_gb(entry.size),
                f.words(entry.shape.layers),
                "",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, entry.id)
                if column == 1:
                    item.setToolTip(_kind_tip(entry))
                if column == 3 and not f.fits:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, column, item)
            self._show_state(row)
        problems = self.store.catalog.problems
        if problems:
            self._say("Catalog entries left out: " + "; ".join(str(p) for p in problems), True)
        if selected is not None:
            self.select(selected.id)
        elif self.entries:
            self.table.selectRow(0)
        self._update_buttons()

    def set_hardware(self, hardware: Hardware) -> None:
        """Show the hardware check's (new) result: fit column and recommendation."""
        self.hardware = hardware
        self.reload()

    def row_of(self, entry_id: str) -> int:
        """The table row of `entry_id` (-1 when absent)."""
        return next((i for i, e in enumerate(self.entries) if e.id == entry_id), -1)

    def select(self, entry_id: str) -> None:
        """Select `entry_id`'s row."""
        row = self.row_of(entry_id)
        if row >= 0:
            self.table.selectRow(row)

    def selected_entry(self) -> CatalogEntry | None:
        """The entry of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.entries[rows[0].row()] if rows and rows[0].row() < len(self.entries) else None

    def state_text(self, entry_id: str) -> str:
        """What the State column says for `entry_id`."""
        row = self.row_of(entry_id)
        item = self.table.item(row, 4) if row >= 0 else None
        return item.text() if item is not None else ""

    def _status(self, entry: CatalogEntry) -> ModelStatus:
        return self.store.library.status(entry)

    def _show_state(self, row: int, progress: Progress | None = None) -> None:
        entry = self.entries[row]
        progress = progress or self.jobs.last(entry.id)
        if progress is not None:
            text = progress.words()
        else:
            status = self._status(entry)
            text = status.words()
            if status.state is ModelState.READY and self._in_use(status):
                text += " · in use"
        item = self.table.item(row, 4)
        if item is not None:
            item.setText(text)
            failed = text.startswith("failed")
            item.setForeground(Qt.GlobalColor.darkRed if failed else self.palette().text())
            item.setToolTip(text)

    def _in_use(self, status: ModelStatus) -> bool:
        return bool(
            status.path and self.current_path and status.path.absolute() == self.current_path
        )

    def set_current(self, path: str | Path | None) -> None:
        """Mark the model file now in use."""
        self.current_path = Path(path).absolute() if path else None
        for row in range(len(self.entries)):
            self._show_state(row)

    def _say(self, text: str, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(failure_style() if error else notice_style())
        self.message_label.setVisible(bool(text))

    def check_unchecked(self) -> None:
        """Start checking every model on disk that is not checked yet (a shared store's, or a
        file copied in): it is offered once it passes."""
        for entry in self.entries:
            if self._status(entry).state is ModelState.UNCHECKED:
                self.jobs.verify(entry)

    def show_server(self, name: str) -> None:
        """The tutor runs on a server (`name`: "Server: host — model"): say so at the top;
        models here can be downloaded but not used until server.url is cleared."""
        self.server = name
        self.advice_label.setText(self._server_words())
        self._update_buttons()

    def _server_words(self) -> str:
        if not self.server:
            return ""
        return (
            f"The tutor runs on your lab's server ({self.server}). The models below run on "
            "this computer only when server.url is cleared in the settings."
        )

    # --- buttons -------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        entry = self.selected_entry()
        allowed: set[str] = set()
        if entry is not None:
            status = self._status(entry)
            if self.jobs.running(entry.id):
                allowed = {"Pause", "Cancel"} if self.jobs.downloading(entry.id) else {"Cancel"}
            elif status.state is ModelState.PAUSED:
                allowed = {"Resume", "Cancel"}
            elif status.state in (ModelState.NOT_DOWNLOADED, ModelState.FAILED):
                allowed = {"Download"} if entry.downloadable else set()
            elif status.state is ModelState.READY:
                allowed = {"Use"}
                removable = entry.downloadable and (
                    not status.shared or self.store.library.shared_writable
                )
                if removable and not self._in_use(status):
                    allowed.add("Delete")
            if self.store.hub.offline:
                allowed -= {"Download", "Resume"}
            if self.server:
                allowed.discard("Use")  # the server's model is the tutor's
        for name, button in self.buttons.items():
            button.setEnabled(name in allowed)

    def _on_button_clicked(self, name: str) -> None:
        entry = self.selected_entry()
        if entry is None:
            return
        self._say("")
        if name in ("Download", "Resume"):
            self.jobs.download(entry)
        elif name == "Pause":
            self.jobs.pause(entry.id)
        elif name == "Cancel":
            if self.jobs.running(entry.id):
                self.jobs.cancel(entry.id)
            else:  # a paused download: drop what was fetched
                part = self.store.library.part_path(entry)
                part.unlink(missing_ok=True)
                Path(f"{part}.json").unlink(missing_ok=True)
        elif name == "Delete":
            try:
                self._say(self.store.library.remove(entry))
            except OSError as exc:
                self._say(f"Could not delete {entry.display_name}: {exc.strerror or exc}.", True)
        elif name == "Use":
            self.use(entry)
        self._show_state(self.row_of(entry.id))
        self._update_buttons()

    def use(self, entry: CatalogEntry) -> None:
        """Ask for `entry` to be loaded, if its file is (still) ready."""
        try:
            spec = self.store.spec(entry)
        except ModelFileError as exc:
            self._say(str(exc), True)
            return
        if not spec.path.is_file():  # deleted since the table was drawn
            self._say(f"The file of {entry.display_name} is gone: “{spec.path}”.", True)
            return
        self.set_current(spec.path)
        self.sig_use_requested.emit(spec)

    def _on_add_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Add a GGUF model file", str(Path.home()), "GGUF models (*.gguf)"
        )
        if path:
            self.add_file(path)

    def add_file(self, path: str | Path) -> CatalogEntry | None:
        """Add a GGUF file on this computer as the learner's own entry ("not verified")."""
        taken = tuple(e.model_id for e in self.store.catalog.entries)
        try:
            entry = self.store.library.add_local(Path(path), taken=taken)
        except (ModelFileError, OSError) as exc:
            self._say(str(exc), True)
            return None
        self.store.reload()
        self.reload()
        added = next((e for e in self.entries if e.model_id == entry.model_id), None)
        if added is not None:
            self.select(added.id)
        self._say(f"Added {entry.name}: your own file, not verified.")
        return added

    # --- jobs ----------------------------------------------------------------------------

    @Slot(object)
    def _on_jobs_progressed(self, progress: Progress) -> None:
        row = self.row_of(progress.entry_id)
        if row >= 0:
            self._show_state(row, progress)

    @Slot(object)
    def _on_jobs_finished(self, progress: Progress) -> None:
        row = self.row_of(progress.entry_id)
        if row < 0:
            return
        self._show_state(row)
        if progress.state is ModelState.FAILED:
            name = self.entries[row].display_name
            self._say(f"{name}: {progress.message}", True)
        self._update_buttons()
