"""Whether a model fits this machine, how fast it would run, and which Code Llama to recommend.

Memory is computed, not guessed: the weights (the GGUF file's size) plus the KV cache,
2 (keys and values) x layers x n_ctx x kv width x 2 bytes (f16), plus `HEADROOM` for
llama.cpp's compute buffers, the GPU context and the app. Speed is an estimate: decoding a
token reads every weight once, so it is about the memory bandwidth over the file's size,
times an efficiency. Every sentence says so.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.catalog import CatalogEntry, ModelShape
from app.core.hardware import CPU_BANDWIDTH, GIB, Hardware, gb, gpu_bandwidth

HEADROOM = GIB
"""Memory kept free beyond weights and KV cache: compute buffers (~0.3 GB for 7B at 4k), the
CUDA or Metal context and the rest of the app."""

EFFICIENCY = {"gpu": 0.55, "unified": 0.65, "cpu": 0.6}
"""Share of the memory bandwidth llama.cpp reaches when decoding (llama.cpp's own benchmarks
land around these)."""

MAX_SPEED = 200.0
"""No estimate above this many tokens/s: per-token costs (kernel launches, sampling, the
Python side) bound small models, whatever the memory bandwidth."""

MIN_USEFUL_SPEED = 4.0
"""Below this many tokens/s a tutor's answer takes minutes: not recommended."""

SMALLER_CONTEXTS = (2048,)
"""Contexts tried for the smallest model when it does not fit at the one asked for."""


class Placement(enum.StrEnum):
    """Where a model would run."""

    GPU = "gpu"  # every layer on the GPU (or Apple's unified memory)
    PARTIAL = "partial"  # some layers on the GPU, the rest on the processor
    CPU = "cpu"  # on the processor, in system memory
    NONE = "none"  # does not fit anywhere
    UNKNOWN = "unknown"  # the platform does not say how much memory is free


@dataclass(frozen=True)
class MemoryNeed:
    """The memory a model needs at a context length, in bytes."""

    weights: int
    kv_cache: int
    n_ctx: int

    @property
    def total(self) -> int:
        """Weights plus KV cache."""
        return self.weights + self.kv_cache


@dataclass(frozen=True)
class Fit:
    """How a model would run here.

    Attributes:
        placement: where it would run.
        need: the memory it needs.
        available: the memory it was measured against (bytes), or None when unknown.
        gpu_layers: layers on the GPU (all of them for GPU, some for PARTIAL, else 0).
        tokens_per_s: the estimated decoding speed, or None when it would not run.
    """

    placement: Placement
    need: MemoryNeed
    available: int | None
    gpu_layers: int = 0
    tokens_per_s: float | None = None

    @property
    def wanted(self) -> int:
        """The memory that must be free: weights, KV cache and `HEADROOM`."""
        return self.need.total + HEADROOM

    @property
    def fits(self) -> bool:
        """Whether it would run (fully or partly on a GPU, or on the processor)."""
        return self.placement in (Placement.GPU, Placement.PARTIAL, Placement.CPU)

    def words(self, layers: int) -> str:
        """A few words for a table cell: "fits the GPU, ~60 tokens/s", "too big (11.2 GB)"."""
        speed = f", ~{about(self.tokens_per_s)} tokens/s" if self.tokens_per_s else ""
        if self.placement is Placement.GPU:
            return f"fits the GPU{speed}"
        if self.placement is Placement.PARTIAL:
            return f"partly on the GPU ({self.gpu_layers}/{layers} layers){speed}"
        if self.placement is Placement.CPU:
            return f"runs on the processor{speed}"
        if self.placement is Placement.UNKNOWN:
            return f"needs {gb(self.wanted)}; free memory unknown"
        return f"too big: needs {gb(self.wanted)}"


def kv_cache_bytes(shape: ModelShape, n_ctx: int, bytes_per_value: int = 2) -> int:
    """The KV cache: keys and values, per layer, per token of context, at f16 by default."""
    return 2 * shape.layers * n_ctx * shape.kv_dim * bytes_per_value


def memory_need(entry: CatalogEntry, n_ctx: int) -> MemoryNeed:
    """What `entry` needs with `n_ctx` tokens of context: its weights and its KV cache."""
    return MemoryNeed(entry.size, kv_cache_bytes(entry.shape, n_ctx), n_ctx)


def about(tokens_per_s: float | None) -> int:
    """A speed rounded as an estimate deserves: whole numbers below 10, fives below 100,
    tens above."""
    if not tokens_per_s:
        return 0
    if tokens_per_s < 10:
        return max(1, round(tokens_per_s))
    if tokens_per_s < 100:
        return int(round(tokens_per_s / 5) * 5)
    return int(round(tokens_per_s / 10) * 10)


def _speed(weights: int, bandwidth: int, kind: str) -> float:
    return min(MAX_SPEED, EFFICIENCY[kind] * bandwidth / max(weights, 1))


def fit(entry: CatalogEntry, hw: Hardware, n_ctx: int) -> Fit:
    """Where `entry` would run on `hw` with `n_ctx` tokens of context, and how fast."""
    need = memory_need(entry, n_ctx)
    wanted = need.total + HEADROOM
    gpu = hw.gpu() if hw.offload else None
    cpu_speed = _speed(need.weights, CPU_BANDWIDTH, "cpu")
    if gpu is not None and gpu.free is not None:
        kind = "unified" if gpu.unified else "gpu"
        gpu_speed = _speed(need.weights, gpu_bandwidth(gpu), kind)
        if wanted <= gpu.free:
            return Fit(Placement.GPU, need, gpu.free, entry.shape.layers, gpu_speed)
        if not gpu.unified and hw.ram_free is not None:
            per_layer = need.total / max(entry.shape.layers, 1)
            on_gpu = int((gpu.free - HEADROOM) // per_layer) if gpu.free > HEADROOM else 0
            on_gpu = min(on_gpu, entry.shape.layers - 1)
            rest = need.total - on_gpu * per_layer
            if on_gpu > 0 and rest + HEADROOM <= hw.ram_free:
                share = on_gpu / entry.shape.layers
                speed = 1 / (share / gpu_speed + (1 - share) / cpu_speed)
                return Fit(Placement.PARTIAL, need, gpu.free, on_gpu, speed)
    if hw.ram_free is None:
        return Fit(Placement.UNKNOWN, need, None)
    if wanted <= hw.ram_free:
        return Fit(Placement.CPU, need, hw.ram_free, 0, cpu_speed)
    return Fit(Placement.NONE, need, hw.ram_free)


@dataclass(frozen=True)
class Recommendation:
    """The Code Llama - Instruct model to use here, in plain words.

    Attributes:
        entry: the recommended entry, or None when none fits (keep the starter model).
        fit: how it runs, or None.
        n_ctx: the context it was sized for (smaller than asked when only that fits).
        text: the sentences for the learner.
    """

    entry: CatalogEntry | None
    fit: Fit | None
    n_ctx: int
    text: str


def _size_word(entry: CatalogEntry) -> str:
    return entry.parameters or entry.name


def recommend(instruct: Sequence[CatalogEntry], hw: Hardware, n_ctx: int = 4096) -> Recommendation:
    """Recommend the largest Instruct model that fits with headroom, and say why in words.

    A model that runs fully on the GPU wins; otherwise the largest that runs partly on it or
    on the processor at a useful speed; failing that the smallest at a smaller context.

    Args:
        instruct: the Instruct entries (any order), e.g. `Catalog.instruct()`.
        hw: the machine.
        n_ctx: the context length the app will use.
    """
    ordered = sorted(instruct, key=lambda e: e.size, reverse=True)
    opening = _memory_sentence(hw)
    if not ordered:
        return Recommendation(None, None, n_ctx, f"{opening} The catalog lists no Instruct model.")
    fits = [(e, fit(e, hw, n_ctx)) for e in ordered]
    chosen = next(((e, f) for e, f in fits if f.placement is Placement.GPU), None)
    if chosen is None:
        useful = [(e, f) for e, f in fits if f.fits and (f.tokens_per_s or 0) >= MIN_USEFUL_SPEED]
        running = [(e, f) for e, f in fits if f.fits]
        chosen = useful[0] if useful else (running[-1] if running else None)
    smaller_ctx = n_ctx
    if chosen is None and fits[-1][1].placement is not Placement.UNKNOWN:
        smallest = ordered[-1]
        for ctx in (c for c in SMALLER_CONTEXTS if c < n_ctx):
            trial = fit(smallest, hw, ctx)
            if trial.fits:
                chosen, smaller_ctx = (smallest, trial), ctx
                break
    if chosen is None:
        return Recommendation(None, None, n_ctx, f"{opening} {_nothing_fits(fits[-1], hw)}")
    entry, how = chosen
    text = f"{opening} {entry.name} {_placement_words(how, entry)}"
    if smaller_ctx != n_ctx:
        text = (
            f"{opening} {entry.name} fits with a {smaller_ctx:,}-token context (it needs "
            f"{gb(how.wanted)}) and {_placement_words(how, entry, short=True)} With "
            f"{n_ctx:,} tokens it would need {gb(fits[-1][1].wanted)}."
        )
    larger = [(e, f) for e, f in fits if e.size > entry.size]
    if larger:
        e, f = larger[-1]  # the next size up
        text += f" {_size_word(e)} {_larger_words(f, e)}"
    return Recommendation(entry, how, smaller_ctx, text)


def _estimate(f: Fit) -> str:
    return f"about {about(f.tokens_per_s)} tokens/s (an estimate)"


def _placement_words(f: Fit, entry: CatalogEntry, short: bool = False) -> str:
    if f.placement is Placement.GPU:
        return f"runs fully on it, {_estimate(f)}."
    if f.placement is Placement.PARTIAL:
        return (
            f"runs partly on the GPU ({f.gpu_layers} of {entry.shape.layers} layers) and the "
            f"rest on the processor, {_estimate(f)}."
        )
    if short:
        return f"runs at {_estimate(f)}."
    return f"runs on the processor, {_estimate(f)}."


def _larger_words(f: Fit, entry: CatalogEntry) -> str:
    if f.placement is Placement.PARTIAL:
        return (
            f"would not fit on it (it needs {gb(f.wanted)}): split with the processor "
            f"({f.gpu_layers} of {entry.shape.layers} layers on the GPU) it would run at "
            f"{_estimate(f)}."
        )
    if f.placement is Placement.CPU:
        return f"would fit, but at only {_estimate(f)}."
    return f"would not fit (it needs {gb(f.wanted)})."


def _nothing_fits(smallest: tuple[CatalogEntry, Fit], hw: Hardware) -> str:
    entry, f = smallest
    if f.placement is Placement.UNKNOWN:
        return (
            f"{entry.name} needs about {gb(f.wanted)}; this computer does not "
            "say how much memory is free, so whether it fits is unknown. Try it, or start "
            "with the tiny starter model."
        )
    return (
        f"Even {entry.name} does not fit: it needs {gb(f.wanted)} and "
        f"{gb(f.available or 0)} is free. Keep the tiny starter model, or close other "
        "programs and check again."
    )


def _memory_sentence(hw: Hardware) -> str:
    """What the machine offers, in words: the GPU's free memory, or the system's."""
    gpu = hw.gpu()
    ram = (
        f"{gb(hw.ram_free)} of its {gb(hw.ram_total)} of memory is free"
        if hw.ram_free is not None and hw.ram_total is not None
        else "how much memory is free is unknown"
    )
    if gpu is not None and gpu.unified and hw.offload:
        return (
            f"Your Mac has {gb(gpu.total or 0)} of unified memory, about {gb(gpu.free or 0)} "
            "of it usable by the GPU:"
        )
    if gpu is not None and hw.offload and gpu.free is not None:
        return f"Your GPU has {gb(gpu.free)} free:"
    if gpu is not None and not hw.offload:
        return (
            f"Your GPU ({gpu.name}) cannot be used: this copy of llama.cpp was built without "
            f"GPU support, so the model runs on the processor, and {ram}:"
        )
    if hw.offload and not hw.gpu_known:
        backend = hw.backend or "a GPU backend"
        return (
            f"This llama.cpp can use a GPU ({backend}), but how much memory the GPU has free "
            f"is unknown, so this counts the processor's memory only: {ram}:"
        )
    if not hw.offload:
        return (
            "This copy of llama.cpp runs on the processor only (it was built without GPU "
            f"support); {ram}:"
        )
    return (
        f"No GPU was found ({hw.gpu_source} lists none), so the model runs on the processor; {ram}:"
    )
