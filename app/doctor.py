"""`codetutor doctor`: versions, GPU support, CPU features, the hardware check with the
recommended Code Llama, and a short real generation."""

from __future__ import annotations

import platform
import sys
import textwrap
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from app.core.hardware import Hardware
    from app.core.models import ModelSpec
    from app.settings import Settings


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

    The model is loaded and run only in child processes (the model check), so a native crash
    in llama.cpp is reported with its signal instead of ending the doctor.

    Args:
        out: where to write.
        model: a GGUF file to check instead of the configured model.
    """
    print(f"Python:        {sys.version.split()[0]} ({platform.platform()})", file=out)
    from app.core.gguf import ModelFileError, inspect_gguf
    from app.core.models import StarterModelMissingError
    from app.core.preflight import fallback_chain
    from app.llm.build import (
        build_has_amx,
        cpu_features,
        cpu_reports_amx,
        device_text,
        gpu_backend_name,
        gpu_offload_supported,
        llama_cpp_version,
        model_shape,
    )
    from app.llm.preflight import Preflight
    from app.paths import resolve_paths

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
    amx_cpu, amx_build = cpu_reports_amx(), build_has_amx()
    print(f"AMX:           {_amx_words(amx_cpu, amx_build)}", file=out)
    hardware_report(out)
    from app.runner import sandbox

    print(f"Sandbox:       {sandbox.status()}", file=out)
    from app.runner import proctree

    print(
        f"Program caps:  {proctree.MEMORY_LIMIT_BYTES // 2**30} GB of data and "
        f"{proctree.ADDRESS_SPACE_LIMIT_BYTES // 2**30} GB of address space (shared memory "
        f"included), files up to {proctree.FILE_SIZE_LIMIT_BYTES // 2**20} MB, "
        f"{proctree.PROCESS_LIMIT} processes (resource limits; no cgroup)",
        file=out,
    )
    if model is None:
        from app.settings import load_settings

        paths = resolve_paths()
        settings = load_settings(paths.site_config_file, paths.user_config_file)
        if str(settings.get("server.url") or "").strip():
            return server_report(out, settings)
    try:
        spec = model_in_use(model)
    except StarterModelMissingError as exc:
        print(f"Model:         MISSING ({exc})", file=out)
        return 1
    try:
        summary = inspect_gguf(spec.path)
        n_layers = model_shape(summary)[0]
    except ModelFileError as exc:
        print(f"Model:         {spec.display_name}: FAILED ({exc})", file=out)
        return 1
    print(f"Model:         {spec.display_name}", file=out)
    print(f"File:          {spec.path}", file=out)
    checker = Preflight(resolve_paths().cache_dir)
    problems: list[str] = []
    for settings in fallback_chain(gpu, n_layers, amx_cpu and amx_build):
        outcome = checker.run_probe(spec, settings, tokens=64, prompt_tokens=256)
        where = settings.describe(n_layers)
        if not outcome.ok:
            words = outcome.reason()
            if outcome.status == "crashed":
                words = f"llama.cpp {words}"
            print(f"Check:         with {where}: {words}", file=out)
            problems.append(f"with {where}, {words}")
            if outcome.status == "unavailable" or outcome.phase == "template":
                break  # no other setting would get further
            continue
        facts = outcome.facts
        print(f"Check:         with {where}: ok", file=out)
        print(f"Device:        {device_text(gpu, settings, n_layers)}", file=out)
        print(
            f"Context:       {facts.get('n_ctx')} tokens, chat format {facts.get('chat_format')}",
            file=out,
        )
        print(f"Load time:     {float(facts.get('load_s', 0.0)) * 1000:.0f} ms", file=out)
        print(
            f"Generation:    {outcome.tokens_per_s:.1f} tokens/s, prompt "
            f"{outcome.prompt_tokens_per_s:.1f} tokens/s",
            file=out,
        )
        if problems:
            print(f"The app falls back to this setting ({where}).", file=out)
        break
    else:
        problems.append("the model ran with no setting")
    if problems:
        print("Unhealthy: " + "; ".join(problems), file=out)
        return 1
    print("Healthy.", file=out)
    return 0


def server_report(out: TextIO, settings: Settings) -> int:
    """The tutor's server (`server.url` is set): reached, its model, and a short reply
    timed. Returns 0 when it answered, 1 with the reason otherwise."""
    import time

    from app.core.gguf import ModelFileError
    from app.core.models import server_model_spec
    from app.core.server import ServerConfigError
    from app.llm.backend import CancelFlag, ChatMessage, GenerationError, GenerationParams
    from app.llm.server import ServerBackend
    from app.settings import server_config_from_settings

    try:
        config = server_config_from_settings(settings)
    except ServerConfigError as exc:
        print(f"Server:        FAILED ({exc})", file=out)
        print("Unhealthy: the server settings cannot be used.", file=out)
        return 1
    assert config is not None
    print(f"Server:        {config.url}", file=out)
    backend = ServerBackend(config)
    try:
        info = backend.load(server_model_spec(config.model, config.n_ctx))
        print(f"Model:         {info.name} ({info.device})", file=out)
        counted = "counted by the server" if backend.capabilities.exact_tokens else "estimated"
        print(f"Context:       {info.n_ctx:,} tokens; tokens {counted}", file=out)
        started = time.perf_counter()
        first = None
        pieces = 0
        question = [ChatMessage("user", "Say hello in five words.")]
        for _piece in backend.stream_chat(question, GenerationParams(max_tokens=32), CancelFlag()):
            pieces += 1
            first = first or time.perf_counter()
        ended = time.perf_counter()
    except (ModelFileError, GenerationError) as exc:
        print(f"Check:         FAILED ({exc})", file=out)
        print("Unhealthy: the tutor's server did not answer.", file=out)
        return 1
    finally:
        backend.close()
    if first is None:
        print("Unhealthy: the server's reply was empty.", file=out)
        return 1
    rate = (pieces - 1) / (ended - first) if pieces > 1 and ended > first else 0.0
    print(
        f"Reply:         first words in {(first - started) * 1000:.0f} ms, {rate:.1f} tokens/s",
        file=out,
    )
    print("Healthy.", file=out)
    return 0


def hardware_report(out: TextIO, hw: Hardware | None = None, n_ctx: int | None = None) -> None:
    """Write the hardware check and the recommended Code Llama - Instruct model to `out`, as
    the model manager shows them.

    Args:
        out: where to write.
        hw: the machine (default: detected now).
        n_ctx: the context to size models for (default: the configured `model.n_ctx`).
    """
    from app.core.catalog import load_catalog
    from app.core.fit import recommend
    from app.core.hardware import describe

    if hw is None:
        from app.llm.hardware import detect_hardware

        hw = detect_hardware()
    if n_ctx is None:
        from app.paths import resolve_paths
        from app.settings import load_settings

        paths = resolve_paths()
        settings = load_settings(paths.site_config_file, paths.user_config_file)
        n_ctx = int(settings.get("model.n_ctx"))
    lines = [line for line in describe(hw) if not line.startswith(("GPU offload:", "CPU:"))]
    for i, line in enumerate(lines):
        print(f"{'Hardware:' if i == 0 else '':15}{line}", file=out)
    advice = recommend(load_catalog().instruct(), hw, n_ctx).text
    wrapped = textwrap.wrap(
        advice, 85, initial_indent=f"{'Recommended:':15}", subsequent_indent=" " * 15
    )
    print("\n".join(wrapped), file=out)


def _amx_words(cpu: bool, build: bool) -> str:
    """Plain words for the AMX situation (its kernels fault on some CPUs and VMs)."""
    if not cpu:
        return "the processor has none"
    if build:
        return (
            "the processor reports it and this build has AMX kernels (checked in the model check)"
        )
    return "the processor reports it; this build leaves the AMX kernels out (safe)"
