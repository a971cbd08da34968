"""Finds out what this machine offers a model: the llama.cpp build's GPU support, the GPU and
its free memory (NVIDIA through `nvidia-smi`, Apple Silicon's unified memory), system memory
and CPU features. What the platform does not say stays unknown (None), never guessed."""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from app.core.hardware import (
    Gpu,
    Hardware,
    apple_gpu_usable,
    parse_meminfo,
    parse_nvidia_smi,
    parse_vm_stat,
)

TOOL_TIMEOUT_S = 5.0
"""A tool that does not answer in this time is taken as unknown (a hung driver must not
hang the app)."""

Runner = Callable[[list[str]], str | None]


def run_tool(argv: list[str]) -> str | None:
    """The standard output of `argv`, or None when it is missing, fails or hangs."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _build_facts() -> tuple[bool, str | None, str]:
    """(offload supported, backend, CPU features) from llama.cpp; nothing when it is missing."""
    try:
        from app.llm.build import cpu_features, gpu_backend_name, gpu_offload_supported

        return gpu_offload_supported(), gpu_backend_name(), cpu_features()
    except (ImportError, OSError, AttributeError):
        return False, None, ""


def _ram(meminfo: Path, platform_name: str, run: Runner) -> tuple[int | None, int | None]:
    if platform_name.startswith("linux"):
        with contextlib.suppress(OSError):
            return parse_meminfo(meminfo.read_text(encoding="ascii", errors="replace"))
    if platform_name == "darwin":
        total_text = run(["sysctl", "-n", "hw.memsize"])
        total = int(total_text.strip()) if total_text and total_text.strip().isdigit() else None
        vm = run(["vm_stat"])
        return total, parse_vm_stat(vm) if vm else None
    if platform_name == "win32":  # pragma: no cover - Windows only
        return _windows_ram()
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        return os.sysconf("SC_PHYS_PAGES") * page, os.sysconf("SC_AVPHYS_PAGES") * page
    except (ValueError, OSError, AttributeError):
        return None, None


def _windows_ram() -> tuple[int | None, int | None]:  # pragma: no cover - Windows only
    class MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None, None
    return int(status.ullTotalPhys), int(status.ullAvailPhys)


def _cpu_name(platform_name: str, run: Runner) -> str:
    if platform_name == "darwin":
        return (run(["sysctl", "-n", "machdep.cpu.brand_string"]) or "").strip()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def detect_hardware(
    run: Runner = run_tool,
    meminfo: Path = Path("/proc/meminfo"),
    platform_name: str = sys.platform,
    machine: str | None = None,
    build: Callable[[], tuple[bool, str | None, str]] = _build_facts,
) -> Hardware:
    """Look at this machine. Takes under a second, or `TOOL_TIMEOUT_S` when a tool hangs.

    Args:
        run: runs a tool and returns its output or None (replaceable in tests).
        meminfo: Linux's memory file.
        platform_name: `sys.platform`.
        machine: `platform.machine()` (arm64 on Apple Silicon).
        build: returns the llama.cpp build's (offload, backend, CPU features).
    """
    machine = platform.machine() if machine is None else machine
    offload, backend, features = build()
    ram_total, ram_free = _ram(meminfo, platform_name, run)
    cpu = _cpu_name(platform_name, run)
    gpus: tuple[Gpu, ...] = ()
    source = ""
    if platform_name == "darwin" and machine == "arm64" and ram_total:
        gpus = (Gpu(cpu or "Apple Silicon", ram_total, apple_gpu_usable(ram_total), True),)
        source = "sysctl"
    else:
        query = ["nvidia-smi", "--query-gpu=name,memory.total,memory.free"]
        text = run([*query, "--format=csv,noheader,nounits"])
        if text is not None:
            gpus, source = parse_nvidia_smi(text), "nvidia-smi"
    return Hardware(offload, backend, gpus, source, ram_total, ram_free, features, cpu)
