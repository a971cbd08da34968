"""The status bar's words for the tutor's speed and for how much context a question used."""

import pytest
from fakes.backends import ScriptedBackend

from app.ui.status_bar import context_words, speed_words


@pytest.mark.parametrize(
    ("rate", "words"),
    [(42.4, "42 tokens/s"), (1.0, "1 token/s"), (0.96, "1 token/s"), (2.54, "2.5 tokens/s")],
)
def test_speed_is_said_in_plain_words(rate, words):
    """Whole tokens per second from 10 up, one decimal below, and "token" for exactly one."""
    assert speed_words(rate) == words


@pytest.mark.parametrize(
    ("used", "n_ctx", "short"),
    [
        (1234, 4096, "1.2k / 4k tokens"),
        (850, 4096, "850 / 4k tokens"),
        (3900, 16384, "3.8k / 16k tokens"),
        (12_000, 100_000, "12k / 98k tokens"),
    ],
)
def test_context_use_is_said_short_in_k_tokens(used, n_ctx, short):
    """The label counts in k of 1,024 tokens, one decimal below 10k, none from 10k up."""
    assert context_words(used, n_ctx)[0] == short


def test_show_context_sets_the_label_and_its_tooltip(qtbot):
    """show_context puts "1.2k / 4k tokens" in the bar and the exact numbers in its tooltip."""
    from app.llm.service import LlmService
    from app.ui.editor.widget import CodeEditor
    from app.ui.status_bar import StatusBar

    service = LlmService(ScriptedBackend())
    editor = CodeEditor()
    qtbot.addWidget(editor)
    bar = StatusBar(service, editor)
    qtbot.addWidget(bar)
    bar.show_context(1234, 4096)
    assert bar.context_label.text() == "1.2k / 4k tokens"
    assert bar.context_label.toolTip() == (
        "The tutor's last question used 1,234 of the model's 4,096-token context"
    )
    assert bar.context_label.isVisibleTo(bar)
    service.shutdown()
