"""The local llama.cpp backend: loading the real starter model and refusing bad files."""

from __future__ import annotations

import pytest

from app.core.gguf import (
    ModelMissingError,
    NotEnoughMemoryError,
    NotGgufError,
    TruncatedModelError,
)
from app.core.models import spec_for_file
from app.llm.local import LocalBackend
from app.llm.service import LlmState


def test_starter_model_loads_with_deliberate_context(starter_spec):
    """The starter model loads on the CPU with n_ctx 4096 and says where it runs."""
    backend = LocalBackend(gpu_supported=False)
    info = backend.load(starter_spec)
    assert info.n_ctx == 4096
    assert info.device == "CPU only: this build has no GPU support"
    assert info.total_layers == 30 and info.is_starter
    assert backend.count_tokens("def add(a, b):\n    return a + b") > 5
    backend.unload()
    assert backend.info is None


def _bad_files(tmp_path, starter_spec):
    text = tmp_path / "notes.gguf"
    text.write_text("these are my notes, not a model\n" * 20)
    half = tmp_path / "half.gguf"
    data = starter_spec.path.read_bytes()
    half.write_bytes(data[: len(data) // 2])
    return [
        (tmp_path / "missing.gguf", ModelMissingError, "does not exist"),
        (text, NotGgufError, "not a GGUF model file"),
        (half, TruncatedModelError, "incomplete"),
    ]


def test_bad_model_files_get_clear_messages(tmp_path, starter_spec):
    """Missing, non-GGUF and half-truncated files each raise a typed error naming the file."""
    backend = LocalBackend()
    for path, error, words in _bad_files(tmp_path, starter_spec):
        with pytest.raises(error) as excinfo:
            backend.load(spec_for_file(path))
        assert words in str(excinfo.value)
        assert path.name in str(excinfo.value)
    assert backend.load(starter_spec).name == starter_spec.display_name


def test_service_survives_bad_files_and_loads_starter_after(qtbot, service, tmp_path, starter_spec):
    """Through the worker thread, each bad file fails with its message, then the starter loads."""
    for path, error, words in _bad_files(tmp_path, starter_spec):
        with qtbot.waitSignal(service.sig_model_failed, timeout=30_000) as failed:
            service.load_model(spec_for_file(path))
        kind, message = failed.args
        assert kind == error.kind and words in message
        assert service.state is LlmState.ERROR
    with qtbot.waitSignal(service.sig_model_loaded, timeout=30_000) as loaded:
        service.load_model(starter_spec)
    assert loaded.args[0].is_starter and service.state is LlmState.READY


def test_not_enough_memory_is_refused_before_loading(starter_spec):
    """A model bigger than the free memory is refused with advice, not an out-of-memory crash."""
    backend = LocalBackend(memory_probe=lambda: 10 * 1024 * 1024, gpu_supported=False)
    with pytest.raises(NotEnoughMemoryError) as excinfo:
        backend.load(starter_spec)
    assert "needs about" in str(excinfo.value) and "smaller model" in str(excinfo.value)


def test_code_llama_files_get_the_llama2_chat_format(tmp_path):
    """Code Llama - Instruct files carry no template, so their spec asks for llama-2."""
    spec = spec_for_file(tmp_path / "codellama-7b-instruct.Q4_K_M.gguf")
    assert spec.chat_format == "llama-2"
    assert spec_for_file(tmp_path / "other.gguf").chat_format is None


def test_long_conversations_are_trimmed_to_the_context(starter_spec):
    """Old turns are dropped, by real token counts, so a long chat never overflows n_ctx."""
    import threading

    from app.core.models import ModelSpec
    from app.llm.backend import ChatMessage, GenerationParams

    backend = LocalBackend()
    small = ModelSpec(starter_spec.path, "small context", n_ctx=512, is_starter=True)
    backend.load(small)
    history = [ChatMessage("system", "You are a tutor.")]
    for i in range(12):
        history.append(ChatMessage("user", f"Question {i}: " + "why is the sky blue? " * 10))
        history.append(ChatMessage("assistant", "Because of scattering. " * 10))
    history.append(ChatMessage("user", "And the sea?"))
    kept = backend.fit_to_context(history, max_tokens=64)
    assert kept[0].role == "system" and kept[-1].content == "And the sea?"
    assert len(kept) < len(history)
    assert sum(backend.count_tokens(m.content) for m in kept) <= 512 - 64
    reply = "".join(
        backend.stream_chat(history, GenerationParams(max_tokens=16), threading.Event())
    )
    assert reply  # no "exceeds context window" error
    backend.unload()


def test_llama_cpp_logs_to_the_app_not_the_terminal(starter_spec, capfd):
    """llama.cpp's log lines (model loading, a decode aborted by Stop) go to the app's log
    and its ring buffer; nothing of them reaches the learner's terminal."""
    import threading

    from app.llm.backend import CancelFlag, ChatMessage, GenerationParams
    from app.llm.build import LLAMA_LOG

    backend = LocalBackend(gpu_supported=False)
    backend.load(starter_spec)
    cancel = CancelFlag()
    prompt = "Explain this code.\n" + "x = x + 1\n" * 400
    timer = threading.Timer(0.05, cancel.set)  # Stop while the prompt is evaluated
    timer.start()
    list(backend.stream_chat([ChatMessage("user", prompt)], GenerationParams(max_tokens=4), cancel))
    timer.join()
    backend.unload()
    err = capfd.readouterr().err
    assert "llama_" not in err and "decode" not in err and "ggml" not in err
    assert any("llama" in line or "load" in line for line in LLAMA_LOG)


def test_the_repeat_penalty_reaches_llama_cpp(starter_spec):
    """GenerationParams.repeat_penalty changes what the model says (greedy, same prompt):
    without it the tiny model repeats itself, with a strong one it cannot; the backend also
    reports its context size for the budget."""
    import threading

    from app.llm.backend import ChatMessage, GenerationParams

    backend = LocalBackend(gpu_supported=False)
    backend.load(starter_spec)
    prompt = [ChatMessage("user", "Write the word 'yes' twenty times, separated by spaces.")]

    def reply(penalty: float) -> str:
        params = GenerationParams(max_tokens=40, temperature=0.0, repeat_penalty=penalty)
        return "".join(backend.stream_chat(prompt, params, threading.Event()))

    plain, penalised = reply(1.0), reply(1.8)
    assert backend.context_size() == 4096
    backend.unload()
    assert plain != penalised
    words = plain.lower().split()
    assert len(words) > len(set(words))  # the unpenalised reply repeats words
