"""Lessons as plain data files: the model, loader, validator, progress store and prompts."""

from app.core.lessons.loader import lessons_by_key, load_course, load_courses, load_lesson
from app.core.lessons.model import (
    LANGUAGES,
    BrokenLesson,
    CheckSpec,
    Course,
    Lesson,
    LessonError,
    TutorPolicy,
)

__all__ = [
    "LANGUAGES",
    "BrokenLesson",
    "CheckSpec",
    "Course",
    "Lesson",
    "LessonError",
    "TutorPolicy",
    "lessons_by_key",
    "load_course",
    "load_courses",
    "load_lesson",
]
