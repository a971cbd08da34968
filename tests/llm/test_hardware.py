"""Hardware detection: nvidia-smi, Apple Silicon's unified memory, /proc/meminfo, and a tool
that is missing or hangs leaves the answer unknown."""

from __future__ import annotations

import subprocess
import sys
import time

from app.core.hardware import GIB
from app.llm.hardware import detect_hardware, run_tool


def no_build() -> tuple[bool, str | None, str]:
    """A CUDA build of llama.cpp, as the fake detection reports it."""
    return True, "CUDA", "AVX2, FMA"


def test_nvidia_gpu_and_linux_memory_are_read(tmp_path):
    """nvidia-smi's answer gives the GPU and its free memory; /proc/meminfo the RAM."""
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\n")
    calls = []

    def run(argv):
        calls.append(argv)
        return "NVIDIA GeForce RTX 3070, 8192, 7800\n" if argv[0] == "nvidia-smi" else None

    hw = detect_hardware(run, meminfo, "linux", "x86_64", no_build)
    assert (hw.offload, hw.backend, hw.gpu_source) == (True, "CUDA", "nvidia-smi")
    assert hw.gpu().name == "NVIDIA GeForce RTX 3070" and hw.gpu().free == 7800 << 20
    assert (hw.ram_total, hw.ram_free) == (16 * GIB, 8 * GIB)
    assert calls[0][0] == "nvidia-smi"


def test_without_nvidia_smi_the_gpu_is_unknown(tmp_path):
    """No nvidia-smi on Linux: no GPU listed and no source, so it reads as unknown (and RAM
    comes from sysconf when /proc/meminfo cannot be read)."""
    hw = detect_hardware(lambda argv: None, tmp_path / "none", "linux", "x86_64", no_build)
    assert hw.gpus == () and not hw.gpu_known


def test_apple_silicon_reports_unified_memory():
    """On an arm64 Mac the GPU is the chip, with two thirds of the memory usable."""
    answers = {
        "hw.memsize": f"{16 * GIB}\n",
        "machdep.cpu.brand_string": "Apple M2\n",
    }

    def run(argv):
        if argv[0] == "vm_stat":
            return "Mach (page size of 16384 bytes)\nPages free: 100.\nPages inactive: 0.\n"
        return answers.get(argv[-1])

    hw = detect_hardware(
        run, platform_name="darwin", machine="arm64", build=lambda: (True, "Metal", "")
    )
    gpu = hw.gpu()
    assert gpu is not None and gpu.unified and gpu.name == "Apple M2"
    assert (gpu.total, gpu.free) == (16 * GIB, 16 * GIB * 2 // 3)
    assert hw.ram_free == 100 * 16384


def test_a_hanging_tool_is_given_up_on(monkeypatch, tmp_path):
    """A tool that does not answer within the time limit yields None, quickly."""
    import app.llm.hardware as hardware

    monkeypatch.setattr(hardware, "TOOL_TIMEOUT_S", 0.5)
    script = tmp_path / "hang"
    script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    script.chmod(0o755)
    started = time.monotonic()
    assert run_tool([str(script)]) is None
    assert time.monotonic() - started < 5
    assert run_tool(["no-such-tool-here"]) is None
    assert subprocess.run  # the real runner was used
