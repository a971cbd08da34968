"""`python -m app.llm.gpu_bench`: the GPU path measured without Qt, for GPU machines.

Loads a model with every layer offloaded through the app's LocalBackend, and reports, side
by side in one run: raw llama-cpp-python tokens/s, tokens/s through LocalBackend, and the
same model on the CPU of the same machine. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time

from app.core.models import spec_for_file, starter_model_spec
from app.llm.backend import ChatMessage, GenerationParams
from app.llm.build import (
    default_threads,
    gpu_offload_supported,
    llama_cpp_version,
    open_raw_llama,
)
from app.llm.local import LocalBackend

PROMPT = "Explain, with several Python examples, how lists, loops and functions work together."


def _decode_rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def backend_rate(backend: LocalBackend, tokens: int) -> tuple[float, float]:
    """(tokens/s, time to first token in ms) streaming through the app's backend."""
    times: list[float] = []
    started = time.perf_counter()
    params = GenerationParams(max_tokens=tokens, temperature=0.0, ignore_eos=True)
    for _ in backend.stream_chat([ChatMessage("user", PROMPT)], params, threading.Event()):
        times.append(time.perf_counter())
    return _decode_rate(times), (times[0] - started) * 1000 if times else 0.0


def raw_rate(llm: object, tokens: int) -> float:
    """Tokens/s streaming from llama_cpp.Llama directly."""
    times: list[float] = []
    for chunk in llm.create_chat_completion(  # type: ignore[attr-defined]
        [{"role": "user", "content": PROMPT}],
        stream=True,
        max_tokens=tokens,
        temperature=0.0,
        logit_bias={llm.token_eos(): -1e9},  # type: ignore[attr-defined]
    ):
        if chunk["choices"][0]["delta"].get("content"):
            times.append(time.perf_counter())
    return _decode_rate(times)


def main(argv: list[str] | None = None) -> int:
    """Run the GPU check and print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="GGUF file (default: the starter model)")
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    spec = spec_for_file(args.model) if args.model else starter_model_spec()
    report: dict[str, object] = {
        "llama_cpp_python": llama_cpp_version(),
        "gpu_offload_supported": gpu_offload_supported(),
        "model": spec.display_name,
    }
    gpu = LocalBackend()
    info = gpu.load(spec)
    report["device"] = info.device
    report["load_ms"] = round(info.load_seconds * 1000, 1)
    sample = "".join(
        gpu.stream_chat(
            [ChatMessage("user", "Write a Python function that adds two numbers.")],
            GenerationParams(max_tokens=48, temperature=0.0),
            threading.Event(),
        )
    )
    report["sample_reply"] = sample
    raw = open_raw_llama(spec, default_threads())
    raw_rate(raw, 16)
    backend_rate(gpu, 16)
    raws, apps, ttfts = [], [], []
    for _ in range(args.rounds):
        raws.append(raw_rate(raw, args.tokens))
        rate, ttft = backend_rate(gpu, args.tokens)
        apps.append(rate)
        ttfts.append(ttft)
    raw.close()
    gpu.unload()
    cpu = LocalBackend(gpu_supported=False)
    cpu.load(spec)
    cpu_rate, _ = backend_rate(cpu, min(args.tokens, 256))
    cpu.unload()
    raw_med, app_med = statistics.median(raws), statistics.median(apps)
    report.update(
        raw_gpu_tokens_per_s=round(raw_med, 1),
        app_gpu_tokens_per_s=round(app_med, 1),
        app_vs_raw=round(app_med / raw_med, 3) if raw_med else 0.0,
        ttft_ms=round(statistics.median(ttfts), 1),
        cpu_tokens_per_s_same_machine=round(cpu_rate, 1),
        gpu_vs_cpu=round(app_med / cpu_rate, 2) if cpu_rate else 0.0,
        threads=default_threads(),
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
