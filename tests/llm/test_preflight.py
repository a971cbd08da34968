"""The model check in real child processes: a crash or a hang there never reaches the app,
the next safer setting is used and explained, and the outcome is cached."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
from model_helpers import with_chat_template

from app.core.gguf import ModelMissingError
from app.core.models import spec_for_file
from app.core.preflight import RunSettings
from app.llm.backend import ChatMessage, GenerationParams, ModelLoadError
from app.llm.local import LocalBackend
from app.llm.preflight import CACHE_FILE, Preflight
from app.llm.probe_child import FAULT_ENV
from app.llm.service import LlmService, LlmState

SEGV_WITH_EXTRA_KERNELS = {FAULT_ENV: "segv:bufts=1"}
SAFE = RunSettings(0, False)


def _answer(backend: LocalBackend) -> str:
    params = GenerationParams(max_tokens=8, temperature=0.0)
    return "".join(backend.stream_chat([ChatMessage("user", "Hi")], params, threading.Event()))


def test_probe_that_dies_by_sigsegv_falls_back_and_the_app_answers(qtbot, tmp_path, starter_spec):
    """A check child killed by SIGSEGV: the app checks, falls back, says so, and answers."""
    from app.main import build_app
    from app.settings import Settings

    backend = LocalBackend(preflight=Preflight(tmp_path, env=SEGV_WITH_EXTRA_KERNELS))
    parts = build_app(Settings(), backend=backend, data_dir=tmp_path / "data")
    qtbot.addWidget(parts.window)
    states: list[LlmState] = []
    parts.service.sig_state_changed.connect(states.append)
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=120_000) as loaded:
        parts.service.load_model(starter_spec)
    info = loaded.args[0]
    assert LlmState.CHECKING in states
    assert parts.window.status.state_label.text() == "Ready"
    assert info.settings == SAFE and "extra CPU kernels off" in info.device
    shown = parts.window.chat.plain_text()
    assert "crashed (SIGSEGV while decoding)" in shown and "tokens/s" in shown
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=60_000) as done:
        parts.tutor.ask("Say hi.")
    assert done.args[1].tokens >= 1 and parts.window.chat.reply_text().strip()
    parts.service.shutdown()


def test_probe_that_hangs_is_ended_and_the_next_setting_used(tmp_path, starter_spec):
    """A check child that never answers is killed at its time limit; the next setting runs."""
    import time

    assert Preflight(tmp_path).choose(starter_spec, [SAFE]).settings == SAFE  # checked before
    checker = Preflight(tmp_path, timeout_s=3, env={FAULT_ENV: "hang:bufts=1"})
    backend = LocalBackend(preflight=checker)
    started = time.perf_counter()
    info = backend.load(starter_spec)
    assert time.perf_counter() - started >= 3
    assert info.settings == SAFE
    assert info.notice and "did not answer within 3 s" in info.notice
    assert _answer(backend)
    backend.unload()


def test_cached_outcome_stops_a_second_check(tmp_path, starter_spec):
    """The second start uses the cached outcome: no child runs (a crashing one would fail)."""
    first = Preflight(tmp_path, env=SEGV_WITH_EXTRA_KERNELS)
    chain = [RunSettings(0, True), SAFE]
    assert first.choose(starter_spec, chain).settings == SAFE
    again = Preflight(tmp_path, env={FAULT_ENV: "segv"})  # any check would now crash
    result = again.choose(starter_spec, chain)
    assert result.settings == SAFE and result.probed == 0 and result.message is None
    backend = LocalBackend(preflight=again)
    assert backend.load(starter_spec).settings == SAFE and backend.load(starter_spec).notice is None
    backend.unload()


def test_corrupt_or_foreign_cache_is_checked_again_silently(tmp_path, starter_spec):
    """A garbage cache file, or one written by another llama.cpp build, leads to a new check."""
    chain = [RunSettings(0, True), SAFE]
    (tmp_path / CACHE_FILE).write_bytes(b"\x00garbage{")
    result = Preflight(tmp_path).choose(starter_spec, chain)
    assert result.settings in chain and result.probed >= 1
    entries = len(json.loads((tmp_path / CACHE_FILE).read_text())["entries"])
    assert entries == result.probed
    other = Preflight(tmp_path)
    other._build = "llama-cpp-python 0.0.1|libllama.so:1:1"  # as if another build had run
    assert other.choose(starter_spec, chain).probed == result.probed
    assert len(json.loads((tmp_path / CACHE_FILE).read_text())["entries"]) == 2 * entries


def test_check_that_cannot_start_uses_the_safest_setting_and_says_so(tmp_path, starter_spec):
    """No interpreter, or one not allowed to run: a clear notice, the safest setting, answers."""
    not_executable = tmp_path / "python-without-x-bit"
    not_executable.write_text("#!/bin/sh\n")
    for python, words in ((tmp_path / "no-python", "No such file"), (not_executable, "denied")):
        backend = LocalBackend(preflight=Preflight(tmp_path / "cache", python=str(python)))
        info = backend.load(starter_spec)
        assert info.settings == SAFE
        assert info.notice and "could not start" in info.notice and words in info.notice
        assert python.name in info.notice
        assert _answer(backend)
        backend.unload()


def test_model_file_gone_between_check_and_load_gets_the_usual_message(tmp_path, starter_spec):
    """The file disappears after its check: the load fails with "does not exist", no crash."""
    copy = tmp_path / "copy.gguf"
    shutil.copy(starter_spec.path, copy)
    checker = Preflight(tmp_path / "cache")
    real_choose = checker.choose

    def choose_then_delete(*args, **kwargs):
        result = real_choose(*args, **kwargs)
        copy.unlink()
        return result

    checker.choose = choose_then_delete  # type: ignore[method-assign]
    with pytest.raises(ModelMissingError) as excinfo:
        LocalBackend(preflight=checker).load(spec_for_file(copy))
    assert "does not exist" in str(excinfo.value)


def test_quitting_during_a_check_ends_it_at_once(qtbot, tmp_path, starter_spec):
    """Shutting the service down while a check child hangs ends the child and the thread."""
    import time

    checker = Preflight(tmp_path, timeout_s=300, env={FAULT_ENV: "hang"})
    service = LlmService(LocalBackend(preflight=checker))
    failed = []
    service.sig_model_failed.connect(lambda kind, message: failed.append(message))
    service.load_model(starter_spec)
    qtbot.waitUntil(lambda: service.state is LlmState.CHECKING, timeout=10_000)
    started = time.perf_counter()
    assert service.shutdown(timeout_ms=5000)
    assert time.perf_counter() - started < 5.0
    assert service.model_info is None  # nothing was loaded after the check was ended


def test_chat_template_that_never_finishes_is_refused_with_words(tmp_path, starter_spec):
    """A GGUF whose chat template loops for ever: the check ends it and names the template."""
    bomb = tmp_path / "looping-template.gguf"
    loop = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"
    with_chat_template(starter_spec.path, bomb, loop)
    checker = Preflight(tmp_path / "cache", timeout_s=15)
    with pytest.raises(ModelLoadError) as excinfo:
        LocalBackend(preflight=checker).load(spec_for_file(bomb))
    message = str(excinfo.value)
    assert "chat template" in message and "looping-template.gguf" in message
    assert "did not answer within 15 s" in message and "--chat-format" in message
    result = Preflight(tmp_path / "cache").choose(spec_for_file(bomb), [RunSettings(0, True)])
    assert result.probed == 0 and result.settings is None  # remembered, not waited for again
    fine = LocalBackend(preflight=checker).load(spec_for_file(bomb, chat_format="chatml"))
    assert fine.chat_format == "chatml"  # another chat format avoids the file's template
