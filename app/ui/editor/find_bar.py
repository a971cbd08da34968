"""The find bar under the editor: a search field, next / previous, match case."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.ui.editor.widget import CodeEditor


class FindBar(QWidget):
    """Searches a CodeEditor. Enter finds the next match, Shift+Enter the previous, Esc closes."""

    def __init__(self, editor: CodeEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._editor = editor
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Find in file")
        self.field.setClearButtonEnabled(True)
        self.case = QCheckBox("Match case", self)
        self.status = QLabel("", self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        previous = QPushButton("Previous", self)
        nxt = QPushButton("Next", self)
        close = QPushButton("✕", self)
        close.setFlat(True)
        close.setToolTip("Close (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(QLabel("Find:", self))
        layout.addWidget(self.field, 1)
        layout.addWidget(previous)
        layout.addWidget(nxt)
        layout.addWidget(self.case)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self.field.returnPressed.connect(self.find_next)
        nxt.clicked.connect(self.find_next)
        previous.clicked.connect(self.find_previous)
        close.clicked.connect(self.close_bar)
        for keys, owner, slot in (
            (QKeySequence(Qt.Key.Key_Escape), self, self.close_bar),
            (QKeySequence("Shift+Return"), self.field, self.find_previous),
        ):
            shortcut = QShortcut(keys, owner, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.hide()

    def open_bar(self) -> None:
        """Show the bar with the editor's selection as the search text."""
        selected = self._editor.selected_text()
        if selected and "\n" not in selected:
            self.field.setText(selected)
        self.show()
        self.field.setFocus()
        self.field.selectAll()

    @Slot()
    def close_bar(self) -> None:
        """Hide the bar and return to the editor."""
        self.hide()
        self._editor.focus()

    @Slot()
    def find_next(self) -> bool:
        """Select the next match."""
        return self._find(True)

    @Slot()
    def find_previous(self) -> bool:
        """Select the previous match."""
        return self._find(False)

    def _find(self, forward: bool) -> bool:
        found = self._editor.find(
            self.field.text(), forward=forward, match_case=self.case.isChecked()
        )
        self.status.setText("" if found or not self.field.text() else "Not found")
        return found
