"""Memory a Code Llama needs (weights + KV cache, against hand-computed figures), where it runs
on a machine, the recommendation sentences, and the parsers of the hardware tools' output."""

from __future__ import annotations

import pytest

from app.core.catalog import load_catalog
from app.core.fit import HEADROOM, Placement, fit, kv_cache_bytes, memory_need, recommend
from app.core.hardware import (
    GIB,
    Gpu,
    Hardware,
    apple_gpu_usable,
    describe,
    download_gb,
    gb,
    parse_meminfo,
    parse_nvidia_smi,
    parse_vm_stat,
)

CATALOG = load_catalog()
INSTRUCT = CATALOG.instruct()

# Hand-computed: KV cache = 2 (K and V) x layers x n_ctx x kv_dim x 2 bytes (f16).
#   7B:  32 layers, kv_dim 4096 (32 KV heads of 128)
#   13B: 40 layers, kv_dim 5120 (40 KV heads of 128)
#   34B: 48 layers, kv_dim 1024 (GQA: 8 KV heads of 128)
HAND_KV = {
    ("7B", 4096): 2 * 32 * 4096 * 4096 * 2,  # 2,147,483,648 = 2 GiB
    ("7B", 16384): 2 * 32 * 16384 * 4096 * 2,  # 8 GiB
    ("13B", 4096): 2 * 40 * 4096 * 5120 * 2,  # 3,355,443,200 = 3.125 GiB
    ("13B", 16384): 2 * 40 * 16384 * 5120 * 2,  # 12.5 GiB
    ("34B", 4096): 2 * 48 * 4096 * 1024 * 2,  # 805,306,368 = 768 MiB
    ("34B", 16384): 2 * 48 * 16384 * 1024 * 2,  # 3 GiB
}
Q4_K_M_BYTES = {"7B": 4_081_095_360, "13B": 7_866_070_016, "34B": 20_219_900_064}


@pytest.mark.parametrize(("size", "n_ctx"), list(HAND_KV))
def test_memory_need_is_weights_plus_kv_cache(size, n_ctx):
    """The need of each Instruct Q4_K_M at 4k and 16k is the file plus the hand-computed KV
    cache, to the byte."""
    entry = CATALOG.get(f"codellama-{size.lower()}-instruct")
    assert entry is not None
    need = memory_need(entry, n_ctx)
    assert need.kv_cache == HAND_KV[(size, n_ctx)]
    assert need.weights == Q4_K_M_BYTES[size]
    assert need.total == Q4_K_M_BYTES[size] + HAND_KV[(size, n_ctx)]


def test_hand_figures_in_gibibytes():
    """The KV caches in round numbers: 7B 2/8 GiB, 13B 3.125/12.5 GiB, 34B 0.75/3 GiB."""
    assert [HAND_KV[k] / GIB for k in HAND_KV] == [2, 8, 3.125, 12.5, 0.75, 3]
    assert kv_cache_bytes(CATALOG.get("starter").shape, 4096) == 2 * 30 * 4096 * 192 * 2


def test_a_model_that_fits_the_gpu_with_headroom_runs_there():
    """7B at 4k (5.8 GB + 1 GB headroom) fits an 8 GB GPU; at 16k (11.4 GB) it does not."""
    hw = Hardware(True, "CUDA", (Gpu("NVIDIA X", 8 * GIB, 8 * GIB),), "nvidia-smi", 16 * GIB, 0)
    entry = CATALOG.get("codellama-7b-instruct")
    assert fit(entry, hw, 4096).placement is Placement.GPU
    at_16k = fit(entry, hw, 16384)
    assert at_16k.placement is Placement.NONE  # no free RAM for the rest either
    assert at_16k.wanted == Q4_K_M_BYTES["7B"] + HAND_KV[("7B", 16384)] + HEADROOM


def test_a_model_too_big_for_the_gpu_is_split_with_the_processor():
    """13B on an 8 GB GPU with free RAM: 26 of 40 layers on the GPU, slower than all-GPU."""
    hw = Hardware(
        True, "CUDA", (Gpu("NVIDIA X", 8 * GIB, 8 * GIB),), "nvidia-smi", 32 * GIB, 24 * GIB
    )
    f = fit(CATALOG.get("codellama-13b-instruct"), hw, 4096)
    assert (f.placement, f.gpu_layers) == (Placement.PARTIAL, 26)
    assert f.words(40).startswith("partly on the GPU (26/40 layers), ~")


def test_unknown_free_memory_is_said_not_guessed():
    """Without a GPU and with no memory figures, the fit is UNKNOWN and says so."""
    f = fit(CATALOG.get("codellama-7b-instruct"), Hardware(False), 4096)
    assert f.placement is Placement.UNKNOWN
    assert f.words(32) == "needs 6.8 GB; free memory unknown"


NO_GPU_8GB = Hardware(offload=False, ram_total=8 * GIB, ram_free=6 * GIB)
GPU_8GB = Hardware(
    True, "CUDA", (Gpu("NVIDIA GeForce RTX 3070", 8 * GIB, 8 * GIB),), "nvidia-smi", 16 * GIB, 0
)
GPU_24GB = Hardware(
    True,
    "CUDA",
    (Gpu("NVIDIA GeForce RTX 3090", 24 * GIB, 24 * GIB),),
    "nvidia-smi",
    64 * GIB,
    48 * GIB,
)
APPLE_16GB = Hardware(
    True,
    "Metal",
    (Gpu("Apple M2", 16 * GIB, apple_gpu_usable(16 * GIB), unified=True),),
    "sysctl",
    16 * GIB,
    9 * GIB,
)


def test_recommendation_without_gpu_and_8gb_ram():
    """No GPU, 6 of 8 GB free: 7B Instruct fits only with a 2,048-token context, on the
    processor; the sentence gives both needs and an estimated speed."""
    r = recommend(INSTRUCT, NO_GPU_8GB, 4096)
    assert r.entry is not None and r.entry.model_id == "codellama-7b-instruct"
    assert r.n_ctx == 2048 and r.fit.placement is Placement.CPU
    assert r.text == (
        "This copy of llama.cpp runs on the processor only (it was built without GPU support); "
        "6 GB of its 8 GB of memory is free: Code Llama 7B Instruct fits with a 2,048-token "
        "context (it needs 5.8 GB) and runs at about 6 tokens/s (an estimate). With 4,096 "
        "tokens it would need 6.8 GB. 13B would not fit (it needs 11.5 GB)."
    )


def test_recommendation_for_an_8gb_gpu():
    """An 8 GB GPU: 7B Instruct fully on it at about 60 tokens/s; 13B would not fit."""
    r = recommend(INSTRUCT, GPU_8GB, 4096)
    assert r.entry.model_id == "codellama-7b-instruct" and r.fit.placement is Placement.GPU
    assert r.text == (
        "Your GPU has 8 GB free: Code Llama 7B Instruct runs fully on it, about 60 tokens/s "
        "(an estimate). 13B would not fit (it needs 11.5 GB)."
    )


def test_recommendation_for_a_24gb_gpu():
    """A 24 GB GPU holds the largest, 34B Instruct (19.6 GB with its KV cache at 4k)."""
    r = recommend(INSTRUCT, GPU_24GB, 4096)
    assert r.entry.model_id == "codellama-34b-instruct"
    assert r.text == (
        "Your GPU has 24 GB free: Code Llama 34B Instruct runs fully on it, about 25 tokens/s "
        "(an estimate)."
    )


def test_recommendation_for_apple_silicon_with_16gb():
    """A 16 GB Mac: Metal may use about 10.7 GB, so 7B runs on the GPU and 13B does not fit."""
    r = recommend(INSTRUCT, APPLE_16GB, 4096)
    assert r.entry.model_id == "codellama-7b-instruct"
    assert r.text == (
        "Your Mac has 16 GB of unified memory, about 10.7 GB of it usable by the GPU: Code "
        "Llama 7B Instruct runs fully on it, about 15 tokens/s (an estimate). 13B would not "
        "fit (it needs 11.5 GB)."
    )


def test_recommendation_when_nothing_fits_keeps_the_starter_model():
    """2 GB free and no GPU: no Code Llama fits, and the words say to keep the starter model."""
    r = recommend(INSTRUCT, Hardware(False, ram_total=4 * GIB, ram_free=2 * GIB), 4096)
    assert r.entry is None
    assert "Even Code Llama 7B Instruct does not fit" in r.text
    assert "Keep the tiny starter model" in r.text


def test_recommendation_with_an_unknown_gpu_counts_system_memory_and_says_unknown():
    """A Vulkan build with no way to ask the GPU says its free memory is unknown."""
    hw = Hardware(True, "Vulkan", (), "", 16 * GIB, 10 * GIB)
    r = recommend(INSTRUCT, hw, 4096)
    assert "how much memory the GPU has free is unknown" in r.text
    assert r.fit.placement is Placement.CPU


def test_a_gpu_in_a_cpu_only_build_is_named_and_not_used():
    """nvidia-smi sees a GPU but this llama.cpp cannot offload: the sentence says why."""
    hw = Hardware(False, None, GPU_8GB.gpus, "nvidia-smi", 16 * GIB, 12 * GIB)
    r = recommend(INSTRUCT, hw, 4096)
    assert r.text.startswith(
        "Your GPU (NVIDIA GeForce RTX 3070) cannot be used: this copy of llama.cpp was built "
        "without GPU support"
    )
    assert r.fit.placement is Placement.CPU


def test_nvidia_smi_output_is_parsed_and_na_is_unknown():
    """Two GPUs in nvidia-smi's CSV; "[N/A]" memory stays unknown."""
    gpus = parse_nvidia_smi("NVIDIA H200, 143771, 142500\nNVIDIA T4, [N/A], [N/A]\n\n")
    assert gpus[0] == Gpu("NVIDIA H200", 143771 << 20, 142500 << 20)
    assert (gpus[1].total, gpus[1].free) == (None, None)


def test_meminfo_and_vm_stat_are_parsed():
    """/proc/meminfo's MemTotal/MemAvailable and vm_stat's free+inactive+speculative pages."""
    assert parse_meminfo("MemTotal:  8000 kB\nMemFree: 1 kB\nMemAvailable:  6000 kB\n") == (
        8000 * 1024,
        6000 * 1024,
    )
    vm = (
        "Mach Virtual Memory Statistics: (page size of 16384 bytes)\n"
        "Pages free:                               10.\nPages active: 5.\n"
        "Pages inactive:                           20.\nPages speculative: 3.\n"
    )
    assert parse_vm_stat(vm) == 33 * 16384
    assert parse_vm_stat("nothing") is None


def test_sizes_in_words():
    """Memory in binary GB without a trailing .0; downloads in the hub's decimal GB."""
    assert (gb(8 * GIB), gb(7.6 * GIB)) == ("8 GB", "7.6 GB")
    assert download_gb(4_081_095_360) == "4.1 GB"
    assert download_gb(98_362_432) == "98 MB"


def test_describe_says_unknown_rather_than_none_when_nothing_could_ask():
    """The hardware check's lines: a GPU nobody could ask about is "unknown"."""
    lines = describe(Hardware(True, "Vulkan", (), "", None, None, "AVX2"))
    assert lines == [
        "GPU offload: yes, Vulkan (this build can offload layers)",
        "GPU: unknown (no nvidia-smi here, and not Apple Silicon)",
        "Memory: unknown",
        "CPU: AVX2",
    ]
    assert describe(GPU_8GB)[1] == "GPU: NVIDIA GeForce RTX 3070, 8 GB, 8 GB free (nvidia-smi)"
