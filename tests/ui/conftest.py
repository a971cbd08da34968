"""Fixtures of the UI tests."""

from __future__ import annotations

import pytest

from app.main import build_app
from app.paths import BUILTIN_LESSONS_DIR
from app.settings import Settings


@pytest.fixture
def app_parts(qtbot, tmp_path):
    """The whole app on the built-in lessons, with its data in a temporary folder."""
    parts = build_app(Settings(), data_dir=tmp_path / "data", lesson_roots=[BUILTIN_LESSONS_DIR])
    qtbot.addWidget(parts.window)
    parts.window.show()
    yield parts
    parts.lessons.shutdown()
    parts.service.shutdown()
