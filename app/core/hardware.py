"""What a machine offers a model: the GPU and its free memory, system memory, the memory's speed.

`Hardware` is the plain record that `app.llm.hardware.detect_hardware` fills in (from
llama.cpp, `nvidia-smi`, /proc/meminfo or sysctl) and that `app.core.fit` reads; the parsers
of those tools' output live here so they can be tested on recorded text. What the platform
does not say is None ("unknown"), never a guess.

Memory sizes are in bytes; in words they are binary gigabytes ("8 GB" is 8 x 2**30 bytes), as
task managers and `nvidia-smi` show them. Download sizes are decimal (the hub's "4.08 GB").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GIB = 1 << 30


@dataclass(frozen=True)
class Gpu:
    """One GPU as the platform describes it.

    Attributes:
        name: e.g. "NVIDIA GeForce RTX 3070" or "Apple M2".
        total: its memory in bytes, or None when unknown.
        free: memory free for a model in bytes, or None when unknown. For Apple Silicon, the
            part of the unified memory Metal lets the GPU use.
        unified: True when the GPU shares the system's memory (Apple Silicon).
    """

    name: str
    total: int | None
    free: int | None
    unified: bool = False


@dataclass(frozen=True)
class Hardware:
    """What this llama.cpp build and this machine can give a model.

    Attributes:
        offload: whether this llama.cpp build can offload layers to a GPU.
        backend: the build's GPU backend ("CUDA", "Metal", "Vulkan", ...), or None.
        gpus: the GPUs found; empty when none was found or none could be asked.
        gpu_source: how the GPUs were found ("nvidia-smi", "sysctl"), or "" when nothing on
            this platform could say (then the GPU is unknown, not absent).
        ram_total: system memory in bytes, or None when unknown.
        ram_free: memory the OS could give a model now, or None when unknown.
        cpu_features: what llama.cpp uses of the processor ("AVX2, FMA, ...").
        cpu_name: the processor's name where known.
    """

    offload: bool
    backend: str | None = None
    gpus: tuple[Gpu, ...] = ()
    gpu_source: str = ""
    ram_total: int | None = None
    ram_free: int | None = None
    cpu_features: str = ""
    cpu_name: str = ""

    def gpu(self) -> Gpu | None:
        """The GPU with the most free memory (the one a model would go to), or None."""
        if not self.gpus:
            return None
        return max(self.gpus, key=lambda g: g.free or 0)

    @property
    def gpu_known(self) -> bool:
        """Whether something could tell which GPUs there are (so none found means none)."""
        return bool(self.gpu_source)


def gb(n: int | float) -> str:
    """Binary gigabytes in words: "8 GB", "7.6 GB", "0.8 GB"."""
    value = n / GIB
    text = f"{value:.1f}"
    return f"{text[:-2] if text.endswith('.0') else text} GB"


def download_gb(n: int) -> str:
    """Decimal gigabytes for download and disk sizes, as the hub writes them: "4.1 GB"."""
    if n < 10**9:
        return f"{round(n / 10**6) if n >= 10**6 or n == 0 else 1} MB"
    return f"{n / 10**9:.1f} GB"


def parse_nvidia_smi(text: str) -> tuple[Gpu, ...]:
    """GPUs from `nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,
    nounits` (MiB). Lines that do not parse are skipped; "[N/A]" memory is unknown."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3 or not parts[0]:
            continue
        total, free = (_mib(p) for p in parts[1:3])
        gpus.append(Gpu(parts[0], total, free))
    return tuple(gpus)


def _mib(text: str) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value * (1 << 20)) if value >= 0 else None


def parse_meminfo(text: str) -> tuple[int | None, int | None]:
    """(MemTotal, MemAvailable) in bytes from /proc/meminfo, None where absent."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        m = re.match(r"^(MemTotal|MemAvailable):\s+(\d+)\s*kB", line)
        if m:
            found[m.group(1)] = int(m.group(2)) * 1024
    return found.get("MemTotal"), found.get("MemAvailable")


def apple_gpu_usable(total: int) -> int:
    """How much of Apple Silicon's unified memory Metal lets the GPU use by default: about
    two thirds up to 36 GB, three quarters above (its recommendedMaxWorkingSetSize)."""
    return total * 2 // 3 if total <= 36 * GIB else total * 3 // 4


# Memory bandwidth (bytes/s) by the GPU's name: decoding one token reads every weight once,
# so bandwidth over model size bounds the speed. Longest names first.
_GPU_BANDWIDTH = (
    ("H200", 4800),
    ("H100", 3350),
    ("A100", 2000),
    ("L40", 864),
    ("A6000", 768),
    ("A10", 600),
    ("V100", 900),
    ("T4", 320),
    ("5090", 1792),
    ("5080", 960),
    ("4090", 1008),
    ("4080", 717),
    ("4070", 504),
    ("4060", 272),
    ("3090", 936),
    ("3080", 760),
    ("3070", 448),
    ("3060", 360),
    ("2080", 448),
    ("2070", 448),
    ("2060", 336),
    ("7900", 960),
    ("6900", 512),
    ("6800", 512),
)
_APPLE_BANDWIDTH = (
    ("M4 Max", 546),
    ("M4 Pro", 273),
    ("M3 Max", 400),
    ("M3 Pro", 150),
    ("M2 Ultra", 800),
    ("M1 Ultra", 800),
    ("M2 Max", 400),
    ("M1 Max", 400),
    ("M2 Pro", 200),
    ("M1 Pro", 200),
    ("M4", 120),
    ("M3", 100),
    ("M2", 100),
    ("M1", 68),
)
CPU_BANDWIDTH = 40 * 10**9
"""Typical dual-channel DDR4/DDR5 desktop or laptop memory (the processor's class is not
measured)."""


def gpu_bandwidth(gpu: Gpu) -> int:
    """The memory bandwidth class of `gpu` in bytes/s: from its name where known, else from its
    memory size (cards of a size share a class), for Apple Silicon from the chip."""
    if gpu.unified:
        for name, gbs in _APPLE_BANDWIDTH:
            if name in gpu.name:
                return gbs * 10**9
        return 100 * 10**9
    for name, gbs in _GPU_BANDWIDTH:
        if re.search(rf"(?<![0-9A-Za-z]){re.escape(name)}(?![0-9])", gpu.name):
            return gbs * 10**9
    total = gpu.total or 0
    for limit_gib, gbs in ((6, 250), (8, 448), (12, 450), (16, 500), (24, 900), (48, 800)):
        if total <= limit_gib * GIB + GIB // 2:
            return gbs * 10**9
    return 1500 * 10**9


def parse_vm_stat(text: str) -> int | None:
    """Memory macOS could give a model now (free + inactive + speculative pages), in bytes,
    from `vm_stat`; None when the text does not say."""
    page = re.search(r"page size of (\d+) bytes", text)
    if page is None:
        return None
    pages = 0
    found = False
    for name in ("Pages free", "Pages inactive", "Pages speculative"):
        m = re.search(rf"^{name}:\s+(\d+)\.?$", text, re.MULTILINE)
        if m:
            pages += int(m.group(1))
            found = True
    return pages * int(page.group(1)) if found else None


def describe(hw: Hardware) -> list[str]:
    """The hardware check in lines of "what: words", for `codetutor doctor` and the dialog."""
    if hw.offload:
        build = f"yes, {hw.backend or 'unknown backend'} (this build can offload layers)"
    else:
        build = "no: this build of llama.cpp is CPU only"
    lines = [("GPU offload", build)]
    if hw.gpus:
        for gpu in hw.gpus:
            if gpu.unified:
                words = (
                    f"{gpu.name}, {gb(gpu.total or 0)} of unified memory, about "
                    f"{gb(gpu.free or 0)} usable by the GPU ({hw.gpu_source})"
                )
            else:
                total = gb(gpu.total) if gpu.total is not None else "unknown size"
                free = f"{gb(gpu.free)} free" if gpu.free is not None else "free memory unknown"
                words = f"{gpu.name}, {total}, {free} ({hw.gpu_source})"
            lines.append(("GPU", words))
    elif hw.gpu_known:
        lines.append(("GPU", f"none found ({hw.gpu_source})"))
    else:
        lines.append(("GPU", "unknown (no nvidia-smi here, and not Apple Silicon)"))
    if hw.ram_total is not None:
        free = f", {gb(hw.ram_free)} free" if hw.ram_free is not None else ", free unknown"
        lines.append(("Memory", f"{gb(hw.ram_total)}{free}"))
    else:
        lines.append(("Memory", "unknown"))
    if hw.cpu_name or hw.cpu_features:
        name = f"{hw.cpu_name}: " if hw.cpu_name else ""
        lines.append(("CPU", f"{name}{hw.cpu_features or 'features unknown'}"))
    return [f"{what}: {words}" for what, words in lines]
