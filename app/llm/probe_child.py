"""The model check's child process: load one model with one setting, decode a few tokens,
print what happened as one JSON line. A native crash here kills only this process.

Run as `python -m app.llm.probe_child --model FILE --gpu-layers N --extra-bufts 0|1 ...`.
Before each phase it prints `PHASE <name>`, so a parent that sees it die knows where.

Test-only switch: `CODETUTOR_TEST_PROBE_FAULT=segv|hang[:bufts=0|1][:gpu=N]` makes the child
kill itself with SIGSEGV (or sleep forever) after loading, when the setting matches.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import faulthandler
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

FAULT_ENV = "CODETUTOR_TEST_PROBE_FAULT"
PROMPT_TEXT = (
    "def fizzbuzz(n):\n    for i in range(1, n + 1):\n        if i % 15 == 0:\n"
    "            print('FizzBuzz')\n        elif i % 3 == 0:\n            print('Fizz')\n"
)


def _phase(name: str) -> None:
    print(f"PHASE {name}", flush=True)


def _die_with_parent() -> None:
    """Linux: be killed when the app dies, so a hung check never outlives it."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _fault_for(gpu_layers: int, extra_bufts: bool) -> str | None:
    """The fault the test switch asks for with this setting, or None."""
    spec = os.environ.get(FAULT_ENV, "")
    if not spec:
        return None
    kind, *conditions = spec.split(":")
    for condition in conditions:
        name, _, value = condition.partition("=")
        if name == "bufts" and int(value) != int(extra_bufts):
            return None
        if name == "gpu" and int(value) != gpu_layers:
            return None
    return kind


def measure(llm: object, prompt_tokens: int, tokens: int) -> dict[str, float]:
    """Evaluate a prompt of `prompt_tokens` tokens, then decode `tokens` greedily.

    Returns prompt and decode speeds (tokens/s) and the time to the first token.
    """
    text = PROMPT_TEXT
    ids = llm.tokenize(text.encode(), add_bos=True)  # type: ignore[attr-defined]
    while len(ids) < prompt_tokens:
        text += PROMPT_TEXT
        ids = llm.tokenize(text.encode(), add_bos=True)  # type: ignore[attr-defined]
    ids = ids[:prompt_tokens]
    llm.reset()  # type: ignore[attr-defined]
    times: list[float] = []
    started = time.perf_counter()
    for _ in llm.create_completion(  # type: ignore[attr-defined]
        ids,
        max_tokens=tokens,
        temperature=0.0,
        stream=True,
        logit_bias={llm.token_eos(): -1e9},  # type: ignore[attr-defined]
    ):
        times.append(time.perf_counter())
    if not times:
        return {"tokens": 0, "tokens_per_s": 0.0, "prompt_tokens_per_s": 0.0}
    first = times[0] - started
    span = times[-1] - times[0]
    return {
        "tokens": len(times),
        "prompt_tokens": len(ids),
        "first_token_ms": first * 1000,
        "prompt_tokens_per_s": len(ids) / first if first > 0 else 0.0,
        "tokens_per_s": (len(times) - 1) / span if span > 0 else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point; prints one JSON line and exits 0, or 3 when llama.cpp refused."""
    parser = argparse.ArgumentParser(prog="probe_child")
    parser.add_argument("--model", required=True)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--chat-format", default="")
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--extra-bufts", type=int, choices=(0, 1), default=1)
    parser.add_argument("--tokens", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    faulthandler.enable()  # a native crash prints the Python stack to stderr, then dies
    _die_with_parent()
    with contextlib.suppress(ValueError, OSError):  # no core dump of a multi-GB process
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    from app.core.models import ModelSpec
    from app.core.preflight import RunSettings
    from app.llm.build import default_threads, open_llama

    settings = RunSettings(args.gpu_layers, bool(args.extra_bufts))
    spec = ModelSpec(Path(args.model), Path(args.model).name, args.chat_format or None, args.n_ctx)
    _phase("load")
    started = time.perf_counter()
    try:
        llm = open_llama(spec, settings, args.threads or default_threads())
    except (ValueError, RuntimeError, MemoryError, OSError) as exc:
        print(json.dumps({"ok": False, "error": str(exc) or type(exc).__name__}), flush=True)
        return 3
    except Exception as exc:  # the file's chat template is compiled while it loads
        if not type(exc).__module__.startswith("jinja2"):
            raise
        words = f"the model's chat template fails: {exc}"
        print(json.dumps({"ok": False, "error": words, "phase": "template"}), flush=True)
        return 3
    load_s = time.perf_counter() - started
    fault = _fault_for(settings.gpu_layers, settings.extra_bufts)
    _phase("decode")
    if fault == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif fault == "hang":
        while True:
            time.sleep(3600)
    try:
        figures = measure(llm, args.prompt_tokens, args.tokens)
    except (ValueError, RuntimeError) as exc:
        print(json.dumps({"ok": False, "error": str(exc) or type(exc).__name__}), flush=True)
        return 3
    _phase("template")  # the file's own chat template may loop or fail: find out here
    try:
        llm.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=1)
    except Exception as exc:  # noqa: BLE001 - a Jinja error of any kind is the file's fault
        words = f"the model's chat template fails: {exc}"
        print(json.dumps({"ok": False, "error": words, "phase": "template"}), flush=True)
        return 3
    import llama_cpp

    facts = {
        "load_s": load_s,
        "n_ctx": llm.n_ctx(),
        "chat_format": llm.chat_format or "model template",
        "system_info": llama_cpp.llama_print_system_info().decode("utf-8", errors="replace"),
    }
    print(json.dumps({"ok": True, **figures, "facts": facts}), flush=True)
    llm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
