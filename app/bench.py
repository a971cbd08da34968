"""`codetutor bench`: the app's speed measured side by side with raw llama-cpp-python.

All figures come from one run on one model: (a) raw streaming tokens/s with no app code in
the loop, (b) the same generation through the worker thread into a live chat panel,
(c) time to first token, (d) raw prompt evaluation tokens/s on 512 tokens of code, (e) the UI
thread's longest stall while the reply streams (a 1 ms QTimer probe), (f) cold start from
process launch to a shown, idle main window.
A benchmark, not a test: the machine is shared and noisy, so runs alternate and medians count.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.core.models import ModelSpec, spec_for_file, starter_model_spec
from app.llm.backend import ChatMessage, GenerationParams

PROMPT = (
    "Explain, step by step and with several Python examples, how lists, loops and functions "
    "work together. Be thorough."
)


PROMPT_TOKENS = 512  # prompt evaluation is measured on this many tokens of code


def _params(tokens: int) -> GenerationParams:
    return GenerationParams(max_tokens=tokens, temperature=0.0, ignore_eos=True)


def raw_run(tokens: int, llm: object, prompt: str = PROMPT) -> dict[str, float]:
    """Stream with llama-cpp-python directly (no app code in the loop)."""
    times: list[float] = []
    started = time.perf_counter()
    stream = llm.create_chat_completion(  # type: ignore[attr-defined]
        [{"role": "user", "content": prompt}],
        stream=True,
        max_tokens=tokens,
        temperature=0.0,
        logit_bias={llm.token_eos(): -1e9},  # type: ignore[attr-defined]
    )
    for chunk in stream:
        if chunk["choices"][0]["delta"].get("content"):
            times.append(time.perf_counter())
    return _rates(started, times)


def _rates(started: float, times: list[float], tokens: int | None = None) -> dict[str, float]:
    """Decode speed from arrival times: (tokens - 1) over first-to-last arrival."""
    tokens = len(times) if tokens is None else tokens
    if len(times) < 2:
        return {"tokens": tokens, "tokens_per_s": 0.0, "ttft_ms": 0.0}
    return {
        "tokens": tokens,
        "tokens_per_s": (tokens - 1) / (times[-1] - times[0]),
        "ttft_ms": (times[0] - started) * 1000,
    }


def app_run(
    parts: object, tokens: int, *, probe_stalls: bool = False, prompt: str = PROMPT
) -> dict[str, float]:
    """Stream through the app: service → worker thread → queued signals → live chat panel.

    With `probe_stalls`, a 1 ms QTimer measures the UI thread's longest gap between ticks
    (a separate run, so the probe's own wake-ups do not slow the tokens/s figure).
    """
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    service, panel = parts.service, parts.window.chat  # type: ignore[attr-defined]
    times: list[float] = []
    ticks = QElapsedTimer()
    gaps: list[float] = []
    probe = QTimer()
    probe.setInterval(1)

    def on_tick() -> None:
        gaps.append(ticks.nsecsElapsed() / 1e6)
        ticks.restart()

    probe.timeout.connect(on_tick)
    loop = QEventLoop()
    state: dict[str, int] = {}

    def on_chunk(_text: str) -> None:
        times.append(time.perf_counter())

    def on_done(stats: object = None) -> None:
        state["tokens"] = getattr(stats, "tokens", len(times))
        loop.quit()

    panel.add_user_message(prompt)
    started = time.perf_counter()
    handle = service.send_chat([ChatMessage("user", prompt)], _params(tokens))
    request_id = handle.request_id
    handle.sig_chunk_received.connect(on_chunk)
    handle.sig_chunk_received.connect(lambda text: panel.append_chunk(request_id, text))
    handle.sig_finished.connect(on_done)
    handle.sig_failed.connect(lambda _message: on_done())
    panel.begin_reply(request_id)
    ticks.start()
    if probe_stalls:
        probe.start()
    loop.exec()
    probe.stop()
    panel.end_reply(request_id)
    result = _rates(started, times, state.get("tokens", len(times)))
    result["ui_max_stall_ms"] = max(gaps[1:] or [0.0])
    return result


def cold_start_ms(runs: int = 3) -> float:
    """Median time from launching `python -m app` to its window shown and idle."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--startup-probe"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                samples.append((time.perf_counter() - started) * 1000)
                break
        proc.wait(timeout=60)
    return statistics.median(samples) if samples else float("nan")


def run_bench(spec: ModelSpec, tokens: int = 512, rounds: int = 5) -> dict[str, object]:
    """Measure everything on `spec`; returns the figures keyed as the README reports them."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.llm.build import default_threads, open_raw_llama
    from app.llm.probe_child import measure
    from app.main import build_app
    from app.settings import Settings

    app = QApplication.instance() or QApplication([])
    cold = cold_start_ms()
    threads = default_threads()
    raw_llm = open_raw_llama(spec, threads)
    parts = build_app(Settings())
    parts.window.resize(1200, 760)
    parts.window.show()
    loop = QEventLoop()
    parts.service.sig_model_loaded.connect(lambda *_: loop.quit())
    parts.service.sig_model_failed.connect(lambda *_: loop.quit())
    parts.service.load_model(spec)
    loop.exec()
    info = parts.service.model_info
    if info is None:
        raise SystemExit("The model could not be loaded; run `codetutor doctor`.")
    raw_runs, app_runs = [], []
    raw_run(16, raw_llm, "Hi")  # warm-up, with another prompt so no reply is cached
    app_run(parts, 16, prompt="Hi")
    app.processEvents()
    QTimer.singleShot(1000, loop.quit)  # let the chat panel finish its idle warm-up
    loop.exec()
    prompt_rates = []
    for _ in range(rounds):
        raw_runs.append(raw_run(tokens, raw_llm))
        app_runs.append(app_run(parts, tokens))
        prompt_rates.append(measure(raw_llm, PROMPT_TOKENS, 1)["prompt_tokens_per_s"])
    stall = app_run(parts, tokens, probe_stalls=True)["ui_max_stall_ms"]
    parts.service.shutdown()
    parts.window.close()
    raw_llm.close()
    app.processEvents()
    raw_tps = statistics.median(r["tokens_per_s"] for r in raw_runs)
    app_tps = statistics.median(r["tokens_per_s"] for r in app_runs)
    # Each round runs raw then app back to back, so a burst of load from elsewhere on a shared
    # machine hits both; the median of the per-round ratios is the robust comparison.
    ratios = [
        a["tokens_per_s"] / r["tokens_per_s"]
        for r, a in zip(raw_runs, app_runs, strict=True)
        if r["tokens_per_s"]
    ]
    return {
        "model": info.name,
        "device": info.device,
        "tokens": tokens,
        "threads": threads,
        "prompt_tokens_per_s": round(statistics.median(prompt_rates), 1),
        "raw_tokens_per_s": round(raw_tps, 1),
        "app_tokens_per_s": round(app_tps, 1),
        "app_vs_raw": round(statistics.median(ratios), 3) if ratios else 0.0,
        "app_vs_raw_rounds": [round(x, 3) for x in ratios],
        "ttft_ms": round(app_runs[0]["ttft_ms"], 1),
        "ui_max_stall_ms": round(stall, 1),
        "cold_start_ms": round(cold, 1),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
    }


TARGETS = {"app_vs_raw": (">=", 0.95), "ui_max_stall_ms": ("<=", 16.0), "ttft_ms": ("<=", 300.0)}
TARGETS["cold_start_ms"] = ("<=", 1000.0)


def meets_targets(result: dict[str, object]) -> dict[str, bool]:
    """Which targets the figures meet (the starter model on 2 CPU cores)."""
    verdict = {}
    for key, (op, bound) in TARGETS.items():
        value = float(result[key])  # type: ignore[arg-type]
        verdict[key] = value >= bound if op == ">=" else value <= bound
    return verdict


def main(args: argparse.Namespace) -> int:
    """CLI glue for `codetutor bench`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    spec = spec_for_file(Path(args.model)) if args.model else starter_model_spec()
    result = run_bench(spec, tokens=args.tokens)
    result["meets_targets"] = meets_targets(result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    threading.Event().wait(0)
    return 0
