"""What this llama.cpp build and this machine offer (GPU offload, CPU features, AMX), and how
a model is opened with a setting: shared by the backend, its model checks, doctor and the
benchmarks."""

from __future__ import annotations

import collections
import ctypes
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.gguf import GgufSummary
from app.core.models import ModelSpec
from app.core.preflight import RunSettings

if TYPE_CHECKING:
    import llama_cpp

LLAMA_LOG: collections.deque[str] = collections.deque(maxlen=200)
"""The latest lines llama.cpp logged (for `codetutor doctor` and bug reports)."""
# ggml_log_level: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5 (goes on with the last)
_LOG_LEVELS = {1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_log_callback: object = None


def route_llama_log() -> None:
    """Send llama.cpp's log to the app's logger ("codetutor.llama_cpp") and `LLAMA_LOG`
    instead of the terminal, where lines such as "decode: removing memory module entries"
    (printed when Stop aborts a computation) would puzzle a learner. Idempotent."""
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp

    log = logging.getLogger("codetutor.llama_cpp")
    log.addHandler(logging.NullHandler())  # never Python's last-resort print to stderr
    last = [logging.DEBUG]

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", errors="replace")
        LLAMA_LOG.append(message)
        last[0] = last[0] if level == 5 else _LOG_LEVELS.get(level, logging.DEBUG)
        log.log(last[0], "%s", message.rstrip())

    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    _log_callback = callback  # kept alive as long as llama.cpp may call it


def gpu_offload_supported() -> bool:
    """True when this llama.cpp build can offload layers to a GPU."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def llama_cpp_version() -> str:
    """The installed llama-cpp-python version."""
    import llama_cpp

    return str(llama_cpp.__version__)


def cpu_features() -> str:
    """The CPU features llama.cpp detected and uses (AVX2, AVX512, ...)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    flags = [part.strip() for part in info.replace("|", ";").split(";") if "= 1" in part]
    names = [f.split("=")[0].replace("CPU :", "").strip() for f in flags]
    return ", ".join(names) or info.strip()


GPU_BACKENDS = ("CUDA", "ROCm", "HIP", "Metal", "Vulkan", "SYCL", "OpenCL", "MUSA", "CANN")


def gpu_backend_name() -> str | None:
    """Which GPU backend this llama.cpp build has (CUDA, Metal, Vulkan, ...), or None."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    for name in GPU_BACKENDS:
        if f"{name} :" in info or f"{name}:" in info or f"{name} =" in info:
            return name
    return None


def cpu_reports_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the processor says it has AMX (Linux; elsewhere, False)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(
        line.startswith("flags") and "amx_int8" in line.split() for line in text.splitlines()
    )


def build_has_amx() -> bool:
    """True when this llama.cpp build carries the AMX kernels (its system info says AMX_INT8)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    return "AMX_INT8 = 1" in info


def amx_in_play() -> bool:
    """True when llama.cpp's AMX kernels would run here: the CPU reports AMX and the build has
    them. On some CPUs and VMs they fault (a SIGSEGV in ggml_backend_amx_mul_mat)."""
    return cpu_reports_amx() and build_has_amx()


def default_settings(gpu: bool) -> RunSettings:
    """The settings used without a preflight check: all GPU layers when the build can offload,
    and the extra buffer types off where the AMX kernels would run (they may fault)."""
    return RunSettings(gpu_layers=-1 if gpu else 0, extra_bufts=not amx_in_play())


_params_lock = threading.Lock()


def open_llama(spec: ModelSpec, settings: RunSettings, n_threads: int) -> llama_cpp.Llama:
    """A llama_cpp.Llama for `spec` with `settings`, as the app, its checks and benchmarks run it.

    llama-cpp-python has no argument for `use_extra_bufts`, a field of llama.cpp's model
    parameters, so the defaults it starts from are adjusted while the model loads.

    Raises:
        ValueError, RuntimeError, MemoryError: llama.cpp refused the file or the settings.
    """
    import llama_cpp
    import llama_cpp.llama_cpp as low

    with _params_lock:
        original = low.llama_model_default_params

        def params() -> object:
            p = original()
            p.use_extra_bufts = settings.extra_bufts
            return p

        low.llama_model_default_params = params
        try:
            return llama_cpp.Llama(
                model_path=str(spec.path),
                n_ctx=spec.n_ctx,
                n_gpu_layers=settings.gpu_layers,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                chat_format=spec.chat_format,
                verbose=False,
            )
        finally:
            low.llama_model_default_params = original


def open_raw_llama(spec: ModelSpec, n_threads: int) -> llama_cpp.Llama:
    """A bare llama_cpp.Llama with the app's default settings (for side-by-side benchmarks)."""
    return open_llama(spec, default_settings(gpu_offload_supported()), n_threads)


def default_threads() -> int:
    """Threads for generation: every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def model_shape(summary: GgufSummary) -> tuple[int, int, int, int]:
    """(layers, embedding width, attention heads, KV heads) from the header.

    Raises:
        ModelDamagedError: a value no real model has (a string, or 2**40 layers).
    """
    arch = str(summary.metadata.get("general.architecture", "llama"))
    n_layers = summary.number(f"{arch}.block_count", 0, 4096)
    n_embd = summary.number(f"{arch}.embedding_length", 0, 1 << 17)
    heads = summary.number(f"{arch}.attention.head_count", 1, 1 << 12) or 1
    kv_heads = summary.number(f"{arch}.attention.head_count_kv", heads, 1 << 12) or heads
    return n_layers, n_embd, heads, kv_heads


def offloaded_layers(settings: RunSettings, n_layers: int) -> int:
    """How many of the model's `n_layers` layers `settings` puts on the GPU (-1: all)."""
    return n_layers if settings.gpu_layers == -1 else min(settings.gpu_layers, n_layers)


def device_text(gpu: bool, settings: RunSettings, n_layers: int) -> str:
    """Where the model runs, for the status bar: "GPU: 31/31 layers", "CPU only: …"."""
    offloaded = offloaded_layers(settings, n_layers)
    if not gpu:
        device = "CPU only: this build has no GPU support"
    elif offloaded == n_layers:
        device = f"GPU: {offloaded}/{n_layers} layers"
    elif offloaded > 0:
        device = f"GPU: {offloaded}/{n_layers} layers (not enough GPU memory for all)"
    else:
        device = "CPU: the GPU could not hold the model"
    return device if settings.extra_bufts else f"{device} · extra CPU kernels off"
