"""The model check's decisions: the fallback order, the cache, the crash marker, the words."""

from __future__ import annotations

import json

from app.core.preflight import (
    InferenceMarker,
    ProbeCache,
    ProbeOutcome,
    RunSettings,
    cache_key,
    crash_message,
    fallback_chain,
    fallback_message,
)

CPU, CPU_SAFE = RunSettings(0, True), RunSettings(0, False)


def test_chain_goes_from_all_gpu_layers_to_half_to_the_cpu():
    """With a GPU build: all layers, half, CPU; the CPU without extra kernels comes last."""
    chain = fallback_chain(gpu=True, total_layers=32, amx=False)
    assert [s.gpu_layers for s in chain] == [-1, 16, 0, 0]
    assert chain[-1] == CPU_SAFE and all(s.extra_bufts for s in chain[:-1])


def test_chain_tries_each_level_without_extra_kernels_where_amx_runs():
    """Where AMX kernels would run, each level is retried with extra buffer types off."""
    chain = fallback_chain(gpu=True, total_layers=30, amx=True)
    assert [s.key for s in chain] == [
        "gpu=-1,bufts=1",
        "gpu=-1,bufts=0",
        "gpu=15,bufts=1",
        "gpu=15,bufts=0",
        "gpu=0,bufts=1",
        "gpu=0,bufts=0",
    ]
    assert fallback_chain(gpu=False, total_layers=30, amx=False) == [CPU, CPU_SAFE]


def test_settings_round_trip_through_their_key():
    """A setting's key names it and reads back to the same setting."""
    for s in fallback_chain(gpu=True, total_layers=8, amx=True):
        assert RunSettings.from_key(s.key) == s
    assert CPU_SAFE.describe() == "the CPU, without the extra CPU kernels"
    assert RunSettings(-1, True).describe(32) == "all layers on the GPU"
    assert RunSettings(16, True).describe(32) == "16 of 32 layers on the GPU"


def test_amx_crash_is_explained_with_its_cost():
    """A crash with extra kernels on, fixed by turning them off, names AMX and the speed."""
    tried = [(CPU, ProbeOutcome("crashed", "SIGSEGV while decoding")), (CPU_SAFE, ok(58.4))]
    text = fallback_message(tried, CPU_SAFE, ok(58.4), amx=True)
    assert text == (
        "Your processor's AMX unit failed: llama.cpp crashed (SIGSEGV while decoding) in its "
        "AMX kernels. Code Tutor uses the processor's other vector units instead, "
        "about 58 tokens/s."
    )


def test_gpu_crash_moving_to_the_cpu_says_so():
    """A GPU crash that ends on the CPU says the GPU failed and what the CPU gives."""
    tried = [
        (RunSettings(-1, True), ProbeOutcome("crashed", "SIGSEGV while loading the model")),
        (RunSettings(16, True), ProbeOutcome("hung", "60 s")),
        (CPU, ok(9.2)),
    ]
    text = fallback_message(tried, CPU, ok(9.2), total_layers=32)
    assert text is not None
    assert text.startswith("The GPU crashed (SIGSEGV while loading the model)")
    assert "all layers on the GPU" in text and "runs on the CPU, about 9 tokens/s" in text
    assert fallback_message([(CPU, ok(9.0))], CPU, ok(9.0)) is None  # nothing failed


def ok(rate: float) -> ProbeOutcome:
    """A successful check at `rate` tokens/s."""
    return ProbeOutcome("ok", tokens_per_s=rate)


def test_cache_keeps_outcomes_and_treats_junk_as_empty(tmp_path):
    """Outcomes survive a new cache object; corrupt or foreign files read as empty, no error."""
    cache = ProbeCache(tmp_path / "c" / "checks.json")
    key = cache_key("build-1", "model-a", 4096, CPU)
    assert cache.get(key) is None
    assert cache.put(key, ProbeOutcome("crashed", "SIGILL"))
    assert ProbeCache(cache.path).get(key) == ProbeOutcome("crashed", "SIGILL")
    assert cache_key("build-2", "model-a", 4096, CPU) != key  # another build: checked again
    for junk in ("{not json", '{"format": 99, "entries": {}}', "[1, 2]", "\x00\xff"):
        cache.path.write_text(junk)
        assert cache.get(key) is None
    cache.path.write_text(json.dumps({"format": 1, "entries": {key: {"status": 5, "x": []}}}))
    assert cache.get(key) is not None  # odd types are coerced, never raised
    cache.path.write_text(json.dumps({"format": 1, "entries": {key: {"detail": "no status"}}}))
    assert cache.get(key) is None


def test_cache_that_cannot_be_written_only_costs_a_recheck(tmp_path):
    """A cache in an unwritable place reports False and raises nothing."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ProbeCache(blocker / "checks.json")  # a folder that is a file
    assert cache.put("k", ProbeOutcome("ok")) is False
    assert cache.get("k") is None


def test_marker_left_by_a_crashed_run_is_read_once(tmp_path):
    """A marker armed and never cleared is found once (then gone); a cleared one is not."""
    marker = InferenceMarker(tmp_path / "running.json")
    marker.arm({"settings": CPU.key, "model_name": "Tiny", "phase": "answer"})
    record = json.loads(marker.path.read_text())
    record["pid"] = -1  # as if another (dead) process had written it
    marker.path.write_text(json.dumps(record))
    found = marker.take()
    assert found is not None and found["settings"] == CPU.key
    assert marker.take() is None
    marker.arm({"settings": CPU.key})
    marker.clear()
    assert marker.take() is None
    marker.path.write_text("garbage")
    assert marker.take() is None and not marker.path.exists()
    assert "closed unexpectedly last time while Tiny was answering" in crash_message(found)
