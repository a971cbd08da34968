"""Conversation budgeting and layered settings."""

from app.core.conversation import Conversation
from app.core.prompts.budget import estimate_tokens, fit_messages
from app.core.prompts.messages import ChatMessage
from app.settings import load_settings


def test_prompt_keeps_recent_turns_within_budget():
    """Old turns drop out when the budget is small; the latest question always stays."""
    conv = Conversation()
    for i in range(50):
        conv.add("user", f"question {i} " + "x" * 200)
        conv.add("assistant", f"answer {i} " + "y" * 200)
    conv.add("user", "latest question")
    sent = [ChatMessage("system", "system text"), *conv.history()]
    messages = fit_messages(sent, budget_tokens=300, count_tokens=estimate_tokens)
    assert messages[0] == ChatMessage("system", "system text")
    assert messages[-1] == ChatMessage("user", "latest question")
    assert 1 < len(messages) < 10
    assert messages[1:] == sent[-(len(messages) - 1) :]  # an unbroken, recent stretch


def test_settings_layers_and_admin_locks(tmp_path):
    """User settings override site ones, except keys the admin locked; CLI beats both."""
    site = tmp_path / "site.toml"
    user = tmp_path / "user.toml"
    site.write_text(
        '[model]\npath = "/lab/models/cl.gguf"\nn_ctx = 8192\n[locked]\nkeys = ["model.path"]\n'
    )
    user.write_text('[model]\npath = "/home/me/x.gguf"\nn_ctx = 2048\n')
    s = load_settings(site, user)
    assert s.get("model.path") == "/lab/models/cl.gguf"
    assert s.get("model.n_ctx") == 2048
    assert s.get("tutor.max_tokens") == 512
    assert load_settings(site, user, {"model.n_ctx": 1024}).get("model.n_ctx") == 1024


def test_broken_settings_file_is_reported_not_fatal(tmp_path):
    """A broken user file is skipped with a message naming it."""
    user = tmp_path / "user.toml"
    user.write_text("[model\npath = ")
    s = load_settings(tmp_path / "none.toml", user)
    assert s.get("model.path") == ""
    assert "user.toml" in s.problems[0]


def test_user_setting_written_only_when_changed(tmp_path):
    """Setting a value writes the user file; setting the same value again does not."""
    user = tmp_path / "cfg" / "user.toml"
    s = load_settings(tmp_path / "none.toml", user)
    s.set_user("model.n_ctx", 8192)
    assert "n_ctx = 8192" in user.read_text()
    mtime = user.stat().st_mtime_ns
    s.set_user("model.n_ctx", 8192)
    assert user.stat().st_mtime_ns == mtime
    assert load_settings(tmp_path / "none.toml", user).get("model.n_ctx") == 8192
