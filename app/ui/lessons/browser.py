"""The lesson browser: a tree of courses and lessons with done / in-progress / broken marks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.core.lessons import BrokenLesson, Course, Lesson
from app.core.lessons.progress import LessonProgress
from app.ui.common.theme import THEME

KEY_ROLE = Qt.ItemDataRole.UserRole
MARK_DONE, MARK_STARTED, MARK_BROKEN, MARK_NEW = "✓", "◐", "⚠", "○"


class LessonBrowser(QWidget):
    """Shows every course; selecting a lesson emits it."""

    sig_lesson_selected = Signal(object)
    """(Lesson | BrokenLesson): the learner picked a lesson."""
    sig_open_folder_requested = Signal()
    """The learner (or teacher) wants to add a folder of courses."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.itemSelectionChanged.connect(self._on_tree_selection_changed)
        self.open_button = QPushButton("Open lessons folder…", self)
        self.open_button.setToolTip("Add a folder of courses written by your teacher")
        self.open_button.clicked.connect(self.sig_open_folder_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.open_button)
        self._lessons: dict[str, Lesson | BrokenLesson] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._courses: list[Course] = []
        self._progress: Mapping[str, LessonProgress] = {}
        self._quiet = False

    def set_courses(
        self, courses: Sequence[Course], progress: Mapping[str, LessonProgress]
    ) -> None:
        """Show `courses` with marks from `progress` (keeps the selection when it still exists)."""
        current = self.current_key()
        self._quiet = True
        self.tree.clear()
        self._lessons.clear()
        self._items.clear()
        self._courses = list(courses)
        for course in courses:
            course_item = QTreeWidgetItem(self.tree)
            course_item.setData(0, KEY_ROLE, None)
            course_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if course.errors:
                course_item.setToolTip(0, "\n".join(str(e) for e in course.errors))
            for lesson in course.lessons:
                item = QTreeWidgetItem(course_item)
                item.setData(0, KEY_ROLE, lesson.key)
                self._lessons[lesson.key] = lesson
                self._items[lesson.key] = item
            course_item.setExpanded(True)
        self._quiet = False
        self.update_progress(progress)
        if current:
            self.select(current, emit=False)

    def update_progress(self, progress: Mapping[str, LessonProgress]) -> None:
        """Refresh every mark and each course's "done/total" count."""
        self._progress = progress
        for index, course in enumerate(self._courses):
            course_item = self.tree.topLevelItem(index)
            done = 0
            for lesson in course.lessons:
                item = self._items[lesson.key]
                mark, tip = self._mark(lesson)
                done += mark == MARK_DONE
                item.setText(0, f"{mark}  {lesson.title}")
                item.setToolTip(0, tip)
                if mark == MARK_BROKEN:
                    item.setForeground(0, QBrush(QColor(THEME.broken_lesson)))
            total = len(course.lessons)
            warn = "  ⚠" if course.errors else ""
            course_item.setText(0, f"{course.title}  ({done}/{total}){warn}")

    def _mark(self, lesson: Lesson | BrokenLesson) -> tuple[str, str]:
        if isinstance(lesson, BrokenLesson):
            return MARK_BROKEN, "This lesson is broken:\n" + "\n".join(
                str(e) for e in lesson.errors
            )
        p = self._progress.get(lesson.key)
        if p and p.done:
            return MARK_DONE, f"Done: {lesson.goal}"
        if p and (p.attempts or p.last_opened):
            return MARK_STARTED, f"In progress: {lesson.goal}"
        return MARK_NEW, lesson.goal

    def item_text(self, key: str) -> str:
        """The text shown for a lesson (mark and title)."""
        return self._items[key].text(0)

    def course_text(self, index: int) -> str:
        """The text shown for a course (title and progress)."""
        item = self.tree.topLevelItem(index)
        return item.text(0) if item else ""

    def lesson_keys(self) -> list[str]:
        """Every lesson's key, in course order."""
        return list(self._items)

    def lesson(self, key: str) -> Lesson | BrokenLesson | None:
        """The lesson with `key`, if shown."""
        return self._lessons.get(key)

    def current_key(self) -> str | None:
        """The selected lesson's key."""
        items = self.tree.selectedItems()
        return items[0].data(0, KEY_ROLE) if items else None

    def select(self, key: str, emit: bool = True) -> bool:
        """Select the lesson `key` (emitting sig_lesson_selected unless `emit` is False)."""
        item = self._items.get(key)
        if item is None:
            return False
        self._quiet = not emit
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)
        self._quiet = False
        return True

    def clear_selection(self) -> None:
        """Select nothing (the editor holds a file that is not a lesson's)."""
        self._quiet = True
        self.tree.clearSelection()
        self.tree.setCurrentItem(None)
        self._quiet = False

    def neighbour(self, key: str | None, step: int) -> str | None:
        """The key `step` lessons after (or before) `key` across all courses."""
        keys = self.lesson_keys()
        if not keys:
            return None
        if key not in keys:
            return keys[0]
        index = keys.index(key) + step
        return keys[index] if 0 <= index < len(keys) else None

    @Slot()
    def _on_tree_selection_changed(self) -> None:
        if self._quiet:
            return
        key = self.current_key()
        if key and key in self._lessons:
            self.sig_lesson_selected.emit(self._lessons[key])
