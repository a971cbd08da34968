"""The chat panel: throttled painting, code-block actions, buttons."""

from PySide6.QtGui import QGuiApplication

from app.ui.tutor.chat_panel import FLUSH_INTERVAL_MS, ChatPanel


def test_painting_is_throttled_not_per_chunk(qtbot):
    """Hundreds of chunks arriving at once are painted in a few timer flushes."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.begin_reply(1)
    for i in range(300):
        panel.append_chunk(1, f"word{i} ")
    assert panel.flush_count == 0
    qtbot.waitUntil(lambda: "word299" in panel.plain_text(), timeout=FLUSH_INTERVAL_MS * 50)
    assert panel.flush_count == 1  # all 300 in one paint, on the timer
    panel.end_reply(1)
    assert "word299" in panel.plain_text()
    assert 30 <= FLUSH_INTERVAL_MS <= 50


def test_code_block_copy_and_insert(qtbot):
    """A code block in a reply can be copied and sent to the editor."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.begin_reply(3)
    panel.append_chunk(3, "Try this:\n\n```python\nprint('hi')\n```\n\nand\n\n```python\nx = 2\n")
    panel.end_reply(3)
    from PySide6.QtCore import QUrl

    message = panel._message_index
    with qtbot.waitSignal(panel.sig_insert_code_requested) as inserted:
        panel.view.anchorClicked.emit(QUrl(f"insert:{message}:1"))
    assert inserted.args == ["x = 2"]
    panel.view.anchorClicked.emit(QUrl(f"copy:{message}:0"))
    assert QGuiApplication.clipboard().text() == "print('hi')"


def test_long_reply_renders_only_its_growing_tail(qtbot):
    """Finished paragraphs are rendered once; the whole reply still shows correctly."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.begin_reply(5)
    for i in range(20):
        panel.append_chunk(5, f"Paragraph {i} text.\n\n")
        panel._flush()
    panel.append_chunk(5, "```python\nfor i in range(3):\n    print(i)\n```\n")
    panel.end_reply(5)
    text = panel.plain_text()
    assert all(f"Paragraph {i} text." in text for i in range(20))
    assert "for i in range(3):" in text
    assert panel.code_block(panel._message_index, 0).code.startswith("for i in range(3):")


def test_send_enter_and_buttons_follow_state(qtbot):
    """Enter sends the question; Send is off without a model and while a reply streams."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    assert not panel.send_button.isEnabled()
    panel.set_ready(True)
    assert panel.send_button.isEnabled() and not panel.stop_button.isEnabled()
    panel.input.setPlainText("why?")
    with qtbot.waitSignal(panel.sig_send_requested) as sent:
        from PySide6.QtCore import Qt

        qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert sent.args == ["why?"] and panel.input.toPlainText() == ""
    panel.begin_reply(9)
    assert panel.stop_button.isEnabled() and not panel.send_button.isEnabled()
    panel.end_reply(9, "Stopped.")
    assert "Stopped." in panel.plain_text()


def test_huge_growing_code_block_costs_only_its_new_text_per_paint(qtbot):
    """A 1 MB code block streaming in: each paint adds just the new characters (nothing is
    re-rendered) until the block closes; then it shows whole, as one code block."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.begin_reply(11)
    panel.append_chunk(11, "Here it is:\n\n```python\n")
    changes: list[tuple[int, int]] = []
    panel.view.document().contentsChange.connect(
        lambda _pos, removed, added: changes.append((removed, added))
    )
    line = "total = total + 1  # keep counting\n"
    sent = 0
    for _ in range(30):
        piece = line * 1000  # about 35 kB per paint, 1 MB in all
        for start in range(0, len(piece), 700):
            panel.append_chunk(11, piece[start : start + 700])
        sent += len(piece)
        changes.clear()
        panel._flush()  # what the paint timer does
        if sent > len(piece):  # from the second paint on
            assert sum(removed for removed, _ in changes) == 0  # nothing painted twice
            assert sum(added for _, added in changes) <= len(piece) + 10
    panel.append_chunk(11, "```\n\nThat is all.\n")
    panel.end_reply(11)
    block = panel.code_block(panel._message_index, 0)
    assert block.code.count("total = total + 1") == 30 * 1000
    assert "That is all." in panel.plain_text()


def test_thinking_shows_until_the_first_words_and_goes_if_none_come(qtbot):
    """While the prompt is evaluated, "Thinking…" stands where the reply will be; the first
    words replace it; a reply stopped before any word leaves no "Thinking…" behind."""
    from app.ui.tutor.chat_panel import THINKING

    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.begin_reply(1)
    assert THINKING in panel.plain_text()
    panel.append_chunk(1, "Hello there")
    qtbot.waitUntil(lambda: "Hello there" in panel.plain_text(), timeout=2000)
    assert THINKING not in panel.plain_text()
    panel.end_reply(1)
    panel.begin_reply(2)
    panel.end_reply(2, "Stopped.")
    assert THINKING not in panel.plain_text() and panel.plain_text().endswith("Stopped.")
