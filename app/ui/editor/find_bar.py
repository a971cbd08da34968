"""The find bar under the editor: a search field, next / previous, match case, and (Ctrl+H)
replace and replace all."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

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
        self.replace_field = QLineEdit(self)
        self.replace_field.setPlaceholderText("Replace with")
        self.replace_button = QPushButton("Replace", self)
        self.replace_all_button = QPushButton("Replace all", self)
        self.status = QLabel("", self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        previous = QPushButton("Previous", self)
        nxt = QPushButton("Next", self)
        close = QPushButton("✕", self)
        close.setFlat(True)
        close.setToolTip("Close (Esc)")
        rows = QVBoxLayout(self)
        rows.setContentsMargins(4, 2, 4, 2)
        rows.setSpacing(2)
        layout = QHBoxLayout()
        layout.addWidget(QLabel("Find:", self))
        layout.addWidget(self.field, 1)
        layout.addWidget(previous)
        layout.addWidget(nxt)
        layout.addWidget(self.case)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self.replace_row = QWidget(self)
        replace_layout = QHBoxLayout(self.replace_row)
        replace_layout.setContentsMargins(0, 0, 0, 0)
        replace_layout.addWidget(QLabel("Replace:", self))
        replace_layout.addWidget(self.replace_field, 1)
        replace_layout.addWidget(self.replace_button)
        replace_layout.addWidget(self.replace_all_button)
        rows.addLayout(layout)
        rows.addWidget(self.replace_row)
        self.replace_field.returnPressed.connect(self.replace_next)
        self.replace_button.clicked.connect(self.replace_next)
        self.replace_all_button.clicked.connect(self.replace_all)
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

    @Slot()
    def open_bar(self, replace: bool = False) -> None:
        """Show the bar with the editor's selection as the search text (and the replace row
        with `replace`, Edit ▸ Replace)."""
        selected = self._editor.selected_text()
        if selected and "\n" not in selected:
            self.field.setText(selected)
        self.replace_row.setVisible(replace)
        self.show()
        self.field.setFocus()
        self.field.selectAll()

    @Slot()
    def open_replace(self) -> None:
        """Show the bar with its replace row (Ctrl+H)."""
        self.open_bar(replace=True)

    @Slot()
    def replace_next(self) -> bool:
        """Replace the selected match, then select the next one."""
        replaced = self._editor.replace_selection_if_match(
            self.field.text(), self.replace_field.text(), match_case=self.case.isChecked()
        )
        found = self.find_next()
        if replaced and not found:
            self.status.setText("Replaced the last one")
        return replaced

    @Slot()
    def replace_all(self) -> int:
        """Replace every match at once (one undo step) and say how many."""
        count = self._editor.replace_all(
            self.field.text(), self.replace_field.text(), match_case=self.case.isChecked()
        )
        self.status.setText(f"Replaced {count}" if count else "Not found")
        return count

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
