"""Fuzzes the lesson loader: no lesson.toml content, however mangled, makes it raise."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.lessons import BrokenLesson, Lesson, load_lesson

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

TOML_ALPHABET = st.sampled_from(list("[]{}=\"'#.,\n\\ abckmt01-_\t") + ["[[checks]]", '"""'])


def load_with(lesson_dir: Path, content: bytes) -> Lesson | BrokenLesson:
    """Write `content` as lesson.toml and load the lesson, checking the result's type."""
    (lesson_dir / "lesson.toml").write_bytes(content)
    lesson = load_lesson(lesson_dir)
    assert isinstance(lesson, Lesson | BrokenLesson)
    if isinstance(lesson, BrokenLesson):
        assert lesson.errors
        for error in lesson.errors:
            assert "unexpected error" not in error.message, error
            assert error.line is None or error.line >= 1
            assert str(error).startswith(str(error.file))
    return lesson


@FUZZ
@given(text=st.text(max_size=400))
def test_random_text_never_raises(make_lesson, text):
    """Any text as lesson.toml gives a Lesson or a BrokenLesson, never an exception."""
    load_with(make_lesson(), text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(text=st.lists(TOML_ALPHABET, max_size=80).map("".join))
def test_toml_like_text_never_raises(make_lesson, text):
    """Text made of TOML punctuation and keys never makes the loader raise."""
    load_with(make_lesson(), text.encode())


@FUZZ
@given(data=st.data())
def test_truncated_lesson_toml_never_raises(make_lesson, good_lesson_toml, data):
    """Every truncation of a valid lesson.toml loads as a Lesson or a BrokenLesson."""
    cut = data.draw(st.integers(0, len(good_lesson_toml)))
    lesson = load_with(make_lesson(), good_lesson_toml[:cut].encode())
    if cut == len(good_lesson_toml):
        assert isinstance(lesson, Lesson)


@FUZZ
@given(data=st.data())
def test_mutated_lesson_toml_never_raises(make_lesson, good_lesson_toml, data):
    """A valid lesson.toml with random characters inserted or bytes spliced in never raises."""
    at = data.draw(st.integers(0, len(good_lesson_toml)))
    insert = data.draw(st.one_of(st.text(max_size=8), TOML_ALPHABET))
    content = (good_lesson_toml[:at] + insert + good_lesson_toml[at:]).encode(
        "utf-8", "surrogatepass"
    )
    junk = data.draw(st.binary(max_size=8))
    splice = data.draw(st.integers(0, len(content)))
    load_with(make_lesson(), content[:splice] + junk + content[splice:])
