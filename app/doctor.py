"""`codetutor doctor`: versions, GPU support, CPU features, and a short real generation."""

from __future__ import annotations

import platform
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from app.core.models import ModelSpec


def model_in_use(model: str | None) -> ModelSpec:
    """The model the app would run: `model` if given, else the configured one, else the
    starter model."""
    from app.core.models import spec_for_file, starter_model_spec
    from app.paths import resolve_paths
    from app.settings import load_settings

    if model:
        return spec_for_file(model)
    paths = resolve_paths()
    settings = load_settings(paths.site_config_file, paths.user_config_file)
    path = settings.get("model.path")
    if path:
        return spec_for_file(
            path,
            chat_format=settings.get("model.chat_format") or None,
            n_ctx=int(settings.get("model.n_ctx")),
        )
    return starter_model_spec()


def doctor(out: TextIO, model: str | None = None) -> int:
    """Write the report to `out`. Returns 0 when healthy, 1 with the reason otherwise.

    Args:
        out: where to write.
        model: a GGUF file to check instead of the configured model.
    """
    problems: list[str] = []
    print(f"Python:        {sys.version.split()[0]} ({platform.platform()})", file=out)
    from app.core.gguf import ModelFileError
    from app.core.models import StarterModelMissingError
    from app.llm.backend import ChatMessage, GenerationError, GenerationParams
    from app.llm.local import (
        LocalBackend,
        cpu_features,
        gpu_backend_name,
        gpu_offload_supported,
        llama_cpp_version,
    )

    try:
        version = llama_cpp_version()
    except ImportError as exc:
        print(f"llama.cpp:     NOT IMPORTABLE ({exc})", file=out)
        print("Unhealthy: llama-cpp-python is not installed; run `make run`.", file=out)
        return 1
    print(f"llama.cpp:     llama-cpp-python {version}", file=out)
    gpu = gpu_offload_supported()
    backend_name = gpu_backend_name() or "unknown backend"
    print(
        "GPU offload:   "
        + (
            f"yes, {backend_name} (this build can offload layers)"
            if gpu
            else "no: this build is CPU only"
        ),
        file=out,
    )
    print(f"CPU features:  {cpu_features()}", file=out)
    try:
        spec = model_in_use(model)
    except StarterModelMissingError as exc:
        print(f"Model:         MISSING ({exc})", file=out)
        return 1
    backend = LocalBackend()
    try:
        info = backend.load(spec)
    except ModelFileError as exc:
        print(f"Model:         {spec.display_name}: FAILED ({exc})", file=out)
        return 1
    print(f"Model:         {info.name}", file=out)
    print(f"File:          {info.path}", file=out)
    print(f"Device:        {info.device}", file=out)
    print(f"Context:       {info.n_ctx} tokens, chat format {info.chat_format}", file=out)
    print(f"Load time:     {info.load_seconds * 1000:.0f} ms", file=out)
    started = time.perf_counter()
    first = None
    tokens = 0
    try:
        for _ in backend.stream_chat(
            [ChatMessage("user", "Say hello to a new programmer in one sentence.")],
            GenerationParams(max_tokens=64, temperature=0.0, ignore_eos=True),
            threading.Event(),
        ):
            tokens += 1
            if first is None:
                first = time.perf_counter()
    except GenerationError as exc:
        problems.append(f"generation failed: {exc}")
    end = time.perf_counter()
    backend.unload()
    if tokens < 2 or first is None:
        problems.append("the model produced no text")
    else:
        rate = (tokens - 1) / max(end - first, 1e-9)
        print(
            f"Generation:    {tokens} tokens, {rate:.1f} tokens/s, first token after "
            f"{(first - started) * 1000:.0f} ms",
            file=out,
        )
    if problems:
        print("Unhealthy: " + "; ".join(problems), file=out)
        return 1
    print("Healthy.", file=out)
    return 0
