"""The status bar's words for the tutor's speed."""

import pytest

from app.ui.status_bar import speed_words


@pytest.mark.parametrize(
    ("rate", "words"),
    [(42.4, "42 tokens/s"), (1.0, "1 token/s"), (0.96, "1 token/s"), (2.54, "2.5 tokens/s")],
)
def test_speed_is_said_in_plain_words(rate, words):
    """Whole tokens per second from 10 up, one decimal below, and "token" for exactly one."""
    assert speed_words(rate) == words
