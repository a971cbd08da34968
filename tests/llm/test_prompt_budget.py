"""Budgeting a tutor prompt by the starter model's own tokens, at the edge of its context."""

from __future__ import annotations

from app.core.models import ModelSpec
from app.core.prompts.budget import fit_prompt
from app.core.prompts.builder import build_prompt
from app.core.prompts.messages import ChatMessage
from app.core.prompts.templates import load_default_templates
from app.core.tutor.actions import TutorAction
from app.core.tutor.context import TutorContext
from app.llm.backend import GenerationParams
from app.llm.local import LocalBackend

MAX_TOKENS = 256
CURSOR = 5000


def _huge_plan():
    """Explain in a 10,000-line file, the cursor on line 5,000, after 200 turns of chat."""
    code = "\n".join(f"result_{n} = compute({n}, factor={n % 13})" for n in range(1, 10_001))
    history = tuple(
        ChatMessage(
            "user" if i % 2 == 0 else "assistant",
            f"Message {i}: why does my loop print the same number again and again?",
        )
        for i in range(200)
    )
    context = TutorContext(code=code, file_name="main.py", cursor_line=CURSOR)
    return build_prompt(TutorAction.CHAT, context, load_default_templates(), history, "Why?")


def _real_prompt_tokens(llm, messages) -> int:
    """The tokens llama-cpp-python evaluates for `messages`: the model's own chat template
    rendered and tokenized the way `create_chat_completion` does it."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return llm._model.token_get_text(token) if token != -1 else ""

    formatter = Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],
        eos_token=text(llm.token_eos()),
        bos_token=text(llm.token_bos()),
    )
    result = formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
    prompt = result.prompt.encode("utf-8")
    return len(llm.tokenize(prompt, add_bos=not result.added_special, special=True))


def test_a_huge_file_and_a_long_chat_fit_the_starter_context_by_real_tokens(starter_spec):
    """A 10,000-line file and 200 turns fit in the starter model's 4,096-token context with
    the reply's room kept: the real prompt (chat template and all) is within the budget and
    fills most of it, the lines around the cursor are there (in the system message), and the
    note says what was left out."""
    backend = LocalBackend(gpu_supported=False)
    backend.load(starter_spec)
    budget = backend.context_size() - MAX_TOKENS
    plan = _huge_plan()
    fitted = fit_prompt(plan, budget, backend.count_tokens)
    real = _real_prompt_tokens(backend.llama, fitted.messages)
    backend.unload()
    print(f"\nreal prompt tokens {real}, counted {fitted.prompt_tokens}, budget {budget}")
    assert real <= fitted.prompt_tokens <= budget == 4096 - MAX_TOKENS
    assert real >= budget * 0.95  # the room is used, not wasted
    system, latest = fitted.messages[0].content, fitted.messages[-1].content
    assert all(f"result_{n} = compute(" in system for n in range(CURSOR - 20, CURSOR + 21))
    assert "result_1 = compute(" not in system and "result_10000 = compute(" not in system
    assert "# … lines 1–" in system and "result_" not in latest
    assert latest.endswith("My question: Why?")
    assert fitted.note.startswith("Left out to fit the model's context: 198 older messages, ")
    assert fitted.note.endswith("–10,000 of main.py.") and "lines 1–" in fitted.note
    assert fitted.messages[1:-1] == plan.history[-2:]


def test_the_worker_fits_a_plan_for_the_real_model_and_keeps_the_reply_room(
    qtbot, service, starter_spec
):
    """Through the worker, the plan is fitted with the model's tokenizer and context
    (sig_prompt_fitted before the first chunk), and the reply gets all its max_tokens:
    llama.cpp shortens a reply that would overflow the context, and this one is not."""
    small = ModelSpec(starter_spec.path, "small context", n_ctx=512, is_starter=True)
    with qtbot.waitSignal(service.sig_model_loaded, timeout=30_000):
        service.load_model(small)
    params = GenerationParams(max_tokens=16, temperature=0.0, ignore_eos=True)
    handle = service.send_prompt(_huge_plan(), params)
    events: list[str] = []
    handle.sig_prompt_fitted.connect(lambda fitted: events.append("fitted"))
    handle.sig_chunk_received.connect(lambda text: events.append("chunk"))
    with (
        qtbot.assertNotEmitted(handle.sig_failed, wait=0),
        qtbot.waitSignal(handle.sig_finished, timeout=60_000) as done,
    ):
        pass
    fitted = handle.fitted
    assert events[0] == "fitted" and "chunk" in events
    assert fitted.budget_tokens == 512 - 16 and fitted.prompt_tokens <= fitted.budget_tokens
    assert f"result_{CURSOR} = compute(" in fitted.messages[0].content
    assert done.args[0].tokens == 16 and done.args[0].truncated
