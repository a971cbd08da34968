"""Settings files that are broken, hostile or out of range never stop the app, and what was
in a broken file is kept before it is replaced."""

from __future__ import annotations

import os
import threading

import pytest

from app.paths import resolve_paths
from app.settings import SCHEMA, SettingsError, load_settings


def _load_in_time(site, user):
    """load_settings in a thread; fails the test instead of hanging it."""
    result = []
    thread = threading.Thread(target=lambda: result.append(load_settings(site, user)), daemon=True)
    thread.start()
    thread.join(10)
    assert result, "load_settings blocked"
    return result[0]


def test_folder_names_with_newline_and_del_round_trip(tmp_path):
    """Course folders whose names hold a newline, a DEL or quotes are written as valid TOML."""
    user = tmp_path / "cfg" / "settings.toml"
    names = [str(tmp_path / "a\nb"), str(tmp_path / "c\x7fd"), str(tmp_path / 'say "hi" \\ ok')]
    settings = load_settings(tmp_path / "none.toml", user)
    settings.set_user("lessons.extra_dirs", names)
    again = load_settings(tmp_path / "none.toml", user)
    assert again.problems == [] and again.get("lessons.extra_dirs") == names


def test_broken_user_file_is_kept_before_the_next_write(tmp_path):
    """A broken settings file is copied to settings.toml.broken-<time> first, and said so."""
    user = tmp_path / "settings.toml"
    original = '[lessons]\nextra_dirs = ["/courses/teacher"]\n[model\n'
    user.write_text(original)
    settings = load_settings(tmp_path / "none.toml", user)
    assert "settings.toml" in settings.problems[0]
    notice = settings.set_user("model.path", "/models/a.gguf")
    backups = list(tmp_path.glob("settings.toml.broken-*"))
    assert len(backups) == 1 and backups[0].read_text() == original
    assert notice and backups[0].name in notice
    assert load_settings(tmp_path / "none.toml", user).get("model.path") == "/models/a.gguf"
    assert settings.set_user("model.path", "/models/b.gguf") is None  # kept once only


def test_deeply_nested_site_or_user_file_is_reported_and_skipped(tmp_path):
    """Tables nested 10,000 deep, in the admin's file or the learner's, do not stop the start."""
    deep = "x = " + "[" * 10_000 + "]" * 10_000 + "\n"
    dotted = "[" + ".".join(["a"] * 10_000) + "]\nb = 1\n"
    for text in (deep, dotted):
        site, user = tmp_path / "site.toml", tmp_path / "user.toml"
        site.write_text(text)
        user.write_text(text)
        settings = _load_in_time(site, user)
        assert len(settings.problems) == 2
        assert "site.toml" in settings.problems[0] and "user.toml" in settings.problems[1]
        assert settings.get("model.n_ctx") == 4096


def test_wrong_types_and_ranges_skip_only_that_key_naming_it(tmp_path):
    """A list item of the wrong type or a value out of range is named; the other keys stay."""
    user = tmp_path / "user.toml"
    user.write_text(
        '[lessons]\nextra_dirs = ["/ok", 5]\n'
        "[model]\nn_ctx = -1\n[tutor]\nmax_tokens = -5\ntemperature = 0.5\n"
    )
    settings = load_settings(tmp_path / "none.toml", user)
    text = "\n".join(settings.problems)
    assert "lessons.extra_dirs" in text and "list of text" in text
    assert "model.n_ctx" in text and "below the smallest allowed value, 256" in text
    assert "tutor.max_tokens" in text
    assert settings.get("model.n_ctx") == 4096 and settings.get("tutor.max_tokens") == 512
    assert settings.get("lessons.extra_dirs") == []
    assert settings.get("tutor.temperature") == 0.5
    user.write_text("[model]\nn_ctx = 1000000\n")
    settings = load_settings(tmp_path / "none.toml", user)
    assert "above the largest allowed value" in settings.problems[0]


def test_fifo_named_settings_toml_does_not_block_the_start(tmp_path):
    """A FIFO where the settings file should be is reported, not waited on."""
    site, user = tmp_path / "site.toml", tmp_path / "user.toml"
    os.mkfifo(site)
    os.mkfifo(user)
    settings = _load_in_time(site, user)
    assert all("not a regular file" in p for p in settings.problems)
    assert len(settings.problems) == 2


def test_read_only_home_without_its_folders_is_reported_not_fatal(tmp_path):
    """Folders that cannot be created give a sentence each; nothing raises."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    paths = resolve_paths({"CODETUTOR_HOME": str(blocker / "home")})
    problems = paths.ensure()
    assert len(problems) == 3 and "cannot create its folder" in problems[0]
    assert "CODETUTOR_HOME" in problems[0]


def test_old_settings_file_with_the_last_lesson_loads_without_a_problem(tmp_path):
    """lessons.last, a setting before it moved to app.state, still loads silently."""
    user = tmp_path / "user.toml"
    user.write_text('[lessons]\nlast = "python-basics/02"\nextra_dirs = ["/courses"]\n')
    settings = load_settings(tmp_path / "none.toml", user)
    assert "lessons.last" not in SCHEMA
    assert settings.problems == []
    assert settings.get("lessons.extra_dirs") == ["/courses"]
    assert settings.user["lessons.last"] == "python-basics/02"  # what app.state migrates


def test_every_setting_has_a_help_sentence_and_says_if_it_is_lockable():
    """The schema gives each setting a type, a label, a help sentence and a lockable flag."""
    for key, setting in SCHEMA.items():
        assert setting.key == key and setting.label
        assert setting.help.endswith(".") and setting.help[0].isupper(), key
        assert isinstance(setting.lockable, bool)
        assert setting.value_type is type(setting.default)
    assert SCHEMA["model.n_ctx"].type_words == "whole number"
    assert SCHEMA["model.path"].lockable and not SCHEMA["locked.keys"].lockable


def test_admin_locks_a_lockable_setting_against_the_user_file(tmp_path):
    """A key under [locked] in the site file wins over the user's file and cannot be set."""
    site, user = tmp_path / "site.toml", tmp_path / "user.toml"
    site.write_text('[model]\npath = "/srv/m.gguf"\n[locked]\nkeys = ["model.path"]\n')
    user.write_text('[model]\npath = "/home/me/m.gguf"\n')
    settings = load_settings(site, user)
    assert settings.problems == []
    assert settings.locked == {"model.path"} and settings.get("model.path") == "/srv/m.gguf"
    with pytest.raises(SettingsError, match="locked by your administrator"):
        settings.set_user("model.path", "/elsewhere.gguf")


def test_locking_an_unknown_or_unlockable_key_is_reported_and_locks_nothing(tmp_path):
    """[locked] naming a typo or locked.keys itself gives a sentence each; the rest is locked."""
    site = tmp_path / "site.toml"
    site.write_text('[locked]\nkeys = ["model.pth", "locked.keys", "tutor.max_tokens"]\n')
    settings = load_settings(site, tmp_path / "none.toml")
    assert len(settings.problems) == 2
    typo, unlockable = settings.problems
    assert "site.toml" in typo and "'model.pth'" in typo and "not a setting" in typo
    assert "did you mean model.path?" in typo
    assert "locked.keys" in unlockable and "cannot be locked" in unlockable
    assert settings.locked == {"tutor.max_tokens"}


def test_keep_conversations_defaults_on_and_takes_only_true_or_false(tmp_path):
    """tutor.keep_conversations is on by default, off from a file, and refuses non-booleans."""
    user = tmp_path / "user.toml"
    settings = load_settings(tmp_path / "none.toml", user)
    assert settings.get("tutor.keep_conversations") is True
    assert SCHEMA["tutor.keep_conversations"].lockable
    with pytest.raises(SettingsError, match="should be a true or false"):
        settings.set_user("tutor.keep_conversations", "no")
    with pytest.raises(SettingsError, match="should be a true or false"):
        settings.set_user("tutor.keep_conversations", 0)
    settings.set_user("tutor.keep_conversations", False)
    assert load_settings(tmp_path / "none.toml", user).get("tutor.keep_conversations") is False
    user.write_text('[tutor]\nkeep_conversations = "off"\n')
    settings = load_settings(tmp_path / "none.toml", user)
    assert settings.get("tutor.keep_conversations") is True
    assert "tutor.keep_conversations" in settings.problems[0]
