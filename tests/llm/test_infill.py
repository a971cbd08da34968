"""Inline completion on real models: the FIM prompt as tokens, its stops, the prefix fallback
of the starter model, and the KV cache kept between keystrokes and across chat replies."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.core.completion import LINE
from app.llm.backend import ChatMessage, GenerationParams
from app.llm.fim import FALLBACK_NOTE, MAX_BUDGET, MIN_BUDGET, PSM, SPM, text_pieces
from app.llm.local import LocalBackend
from app.llm.requests import InfillRequest

PARAMS = GenerationParams(max_tokens=8, temperature=0.0)
PRE, SUF, MID, EOT = 8, 9, 10, 11  # the fixture's renamed tokens (tests/model_helpers.py)


@pytest.fixture(scope="module")
def fim_backend(fim_spec):
    """A LocalBackend with the FIM test model loaded (shared by this module's tests)."""
    backend = LocalBackend(gpu_supported=False)
    backend.load(fim_spec)
    yield backend
    backend.unload()


@pytest.fixture
def fim_service(service, qtbot, fim_spec):
    """A live LlmService with the FIM test model loaded."""
    with qtbot.waitSignal(service.sig_model_loaded, timeout=30_000):
        service.load_model(fim_spec)
    return service


def program(lines: int = 200) -> str:
    """A Python file of about `lines` lines: small functions, each with a loop."""
    parts = []
    for i in range(lines // 5):
        parts.append(
            f"def step_{i}(values):\n    total = {i}\n    for v in values:\n"
            f"        total += v * {i}\n    return total\n"
        )
    return "".join(parts)


def infill(backend, prefix, suffix, params=PARAMS) -> str:
    """The backend's raw infill text (no shaping: that is the worker's)."""
    return "".join(backend.infill(prefix, suffix, params, threading.Event()))


def complete(qtbot, service, request) -> tuple[str, object]:
    """Submit `request`; returns (the handle's chunks joined, its StreamStats)."""
    handle = service.submit(request)
    chunks: list[str] = []
    handle.sig_chunk_received.connect(chunks.append)
    with qtbot.waitSignal(handle.sig_finished, timeout=30_000):
        pass
    return "".join(chunks), handle.stats


def test_the_fixture_model_has_code_llama_fim_tokens(fim_backend):
    """llama.cpp recognises the renamed tokens: FIM prefix, suffix and middle are ids 8, 9,
    10, and <EOT> ends generation; the backend says it can fill in the middle."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(fim_backend.llama._model.model)
    assert llama_cpp.llama_vocab_fim_pre(vocab) == PRE
    assert llama_cpp.llama_vocab_fim_suf(vocab) == SUF
    assert llama_cpp.llama_vocab_fim_mid(vocab) == MID
    assert llama_cpp.llama_vocab_is_eog(vocab, EOT)
    capabilities = fim_backend.capabilities
    assert capabilities.fim and not capabilities.fim_fallback


@pytest.mark.parametrize("order", [SPM, PSM])
def test_the_prompt_is_the_fim_tokens_round_the_code_as_tokens(fim_backend, order):
    """The prompt sent is `<PRE> <SUF> suffix <MID> prefix` (SPM) or `<PRE> prefix <SUF>
    suffix <MID>` (PSM) with the vocabulary's own ids; each FIM token once, no token 0 (this
    vocabulary's end of text) anywhere, and FIM texts typed in the code stay plain text."""
    prefix = "def add(a, b):\n    # <MID> and <SUF> are only words here\n    return "
    suffix = "\n\nprint(add(1, 2))\n"
    fim_backend.fim_order = order
    try:
        infill(fim_backend, prefix, suffix)
    finally:
        fim_backend.fim_order = SPM
    text = fim_backend._completer.text_tokens
    expected = (
        [PRE, SUF, *text(suffix), MID, *text(prefix)]
        if order == SPM
        else [PRE, *text(prefix), SUF, *text(suffix), MID]
    )
    tokens = fim_backend.last_prompt_tokens
    assert tokens == expected
    assert [tokens.count(t) for t in (PRE, SUF, MID)] == [1, 1, 1] and 0 not in tokens


def test_generation_ends_at_an_end_of_generation_token(fim_backend):
    """The completion context stops at the model's end token (finish "stop") and never
    hands it out as text; `<EOT>` is such a token."""
    context = fim_backend._completer.context()
    text = fim_backend._completer.text_tokens
    prompt = [1, *text("user\nWhat is 2 + 2?"), 2, *text("\n"), 1, *text("assistant\n")]
    params = GenerationParams(max_tokens=40, temperature=0.0)
    tokens = list(context.generate(prompt, params, threading.Event()))
    assert context.finish_reason == "stop" and 0 < len(tokens) < 40
    assert not any(context.is_end(t) for t in tokens)
    assert context.is_end(EOT) and context.is_end(0)


def test_the_starter_completes_from_the_prefix_and_says_so_once(qtbot, loaded_service):
    """A model without FIM tokens completes the code before the cursor alone (no FIM tokens,
    no suffix in the prompt), and the first completion's note says so, the next none."""
    service, backend = loaded_service, loaded_service.backend
    assert not backend.capabilities.fim and backend.capabilities.fim_fallback
    prefix, suffix = "def add(a, b):\n    return", "\n\nprint(add(1, 2))\n"
    request = InfillRequest(prefix, suffix, "python", params=PARAMS)
    proposal, stats = complete(qtbot, service, request)
    assert stats.note == FALLBACK_NOTE
    assert backend.last_prompt_tokens == backend._completer.text_tokens(prefix)
    assert proposal.strip() and "\n" not in proposal  # " a + b": one line, then a blank one
    _, again = complete(qtbot, service, InfillRequest(prefix + " a", suffix, "python"))
    assert again.note == "" and again.reused_tokens == stats.prompt_tokens


def test_successive_keystrokes_are_served_from_the_cache(qtbot, fim_service):
    """Typing a line one character at a time in a 200-line file, each completion after the
    first finds over 90 % of its prompt in the KV cache (reported in its StreamStats)."""
    code = program()
    cursor = code.index("def step_20")
    before, after = code[:cursor], code[cursor:]
    shares = []
    for typed in range(1, 12):
        request = InfillRequest(before + "result = step_3("[:typed], after, "python", PARAMS)
        _, stats = complete(qtbot, fim_service, request)
        assert stats.prompt_tokens > 100
        shares.append(stats.reuse_share)
    assert shares[0] < 0.5 and min(shares[1:]) > 0.9


def test_a_chat_reply_between_keystrokes_keeps_the_completion_cache(qtbot, fim_service):
    """A tutor's reply between two keystrokes leaves the completion's cache alone: the next
    completion is still served from it."""
    code = program()
    cursor = code.index("def step_10")
    before, after = code[:cursor], code[cursor:]
    complete(qtbot, fim_service, InfillRequest(before + "x", after, "python", PARAMS))
    chat = fim_service.send_chat(
        [ChatMessage("user", "Explain loops in Python.")], GenerationParams(max_tokens=32)
    )
    with qtbot.waitSignal(chat.sig_finished, timeout=30_000) as done:
        pass
    assert done.args[0].tokens > 10
    _, stats = complete(qtbot, fim_service, InfillRequest(before + "x ", after, "python", PARAMS))
    assert stats.reuse_share > 0.9


def test_huge_texts_keep_the_prompt_within_budget(fim_backend):
    """A 100 kB single line and a 10,000-line file both give a prompt within the window's
    budget (and near it: the window is filled, not emptied), a budget within its bounds."""
    line = "values = [" + ", ".join(str(i) for i in range(20_000)) + "]"
    assert len(line) > 100_000
    big = program(10_000)
    cursor = big.index("def step_1000(")
    for before, after in [(line[:50_000], line[50_000:]), (big[:cursor], big[cursor:])]:
        infill(fim_backend, before, after)
        tokens, budget = fim_backend.last_prompt_tokens, fim_backend._completer.budget
        assert MIN_BUDGET <= budget <= MAX_BUDGET
        assert budget // 2 < len(tokens) <= budget + 3


def test_non_ascii_code_is_sent_and_proposed_whole(fim_backend):
    """Identifiers with accents and emoji reach the model whole (the prompt's text is the
    code's, character for character) and the proposal holds no broken character."""
    prefix = "names = ['Zoë', 'José', '😀']\nfor größe in names:\n    print(gr"
    suffix = ")\n"
    proposal = infill(fim_backend, prefix, suffix, GenerationParams(max_tokens=16))
    tokens = fim_backend.last_prompt_tokens
    detokenize = fim_backend.llama.detokenize
    mid = tokens.index(MID)
    assert detokenize(tokens[mid + 1 :]).decode("utf-8") == prefix
    assert detokenize(tokens[2:mid]).decode("utf-8") == suffix
    assert "\ufffd" not in proposal


def test_characters_split_across_tokens_come_out_whole():
    """A character whose UTF-8 bytes span two tokens comes out whole, in the second piece."""
    pieces = {1: b"gr", 2: "ö".encode()[:1], 3: "ö".encode()[1:] + b"sse", 4: "😀".encode()}
    assert list(text_pieces(iter([1, 2, 3, 4]), pieces.__getitem__)) == ["gr", "össe", "😀"]


def test_line_mode_through_the_service_is_one_line(qtbot, fim_service):
    """An InfillRequest in line mode gets at most the rest of the current line, and its
    stats count the prompt."""
    code = program(40)
    cursor = code.index("    return total\n", 200) + len("    return")
    request = InfillRequest(
        code[:cursor], code[cursor:], "python", GenerationParams(max_tokens=24), mode=LINE
    )
    proposal, stats = complete(qtbot, fim_service, request)
    assert "\n" not in proposal and stats.prompt_tokens > 50 and not stats.stopped


def test_an_unknown_completion_mode_is_refused():
    """InfillRequest accepts only the modes core knows."""
    with pytest.raises(ValueError, match="unknown completion mode"):
        InfillRequest("a", "b", "python", mode="paragraph")


def test_the_worker_sends_the_shaped_proposal_and_stops_the_model(qtbot):
    """Through the service, an InfillRequest's chunks are the shaped proposal (here: the
    block up to its blank line) and the model is stopped there, not run to max_tokens."""
    from fakes.backends import ScriptedBackend

    from app.core.models import ModelSpec
    from app.llm.service import LlmService

    raw = "\n    total = a + b\n    return total\n\ndef more():\n" + " pass" * 40
    backend = ScriptedBackend(raw)
    service = LlmService(backend)
    with qtbot.waitSignal(service.sig_model_loaded, timeout=5000):
        service.load_model(ModelSpec(Path("scripted.gguf"), "Scripted"))
    request = InfillRequest("def add(a, b):", "\n", "python", GenerationParams(max_tokens=60))
    proposal, stats = complete(qtbot, service, request)
    service.shutdown()
    assert proposal == "\n    total = a + b\n    return total"
    assert stats.tokens < 10 and not stats.truncated
