"""Lessons as plain data files: the model, loader, validator, progress store and prompts."""

from app.core.lessons.loader import load_course, load_courses, load_lesson
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
    "load_course",
    "load_courses",
    "load_lesson",
]
