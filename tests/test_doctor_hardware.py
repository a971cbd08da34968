"""`codetutor doctor` prints the hardware check and the recommendation the model manager shows."""

from __future__ import annotations

import io

from app.core.hardware import GIB, Gpu, Hardware
from app.doctor import hardware_report


def test_doctor_prints_the_gpu_memory_and_the_recommendation():
    """With an 8 GB GPU the report names it and recommends 7B Instruct in plain words."""
    hw = Hardware(True, "CUDA", (Gpu("NVIDIA GeForce RTX 3070", 8 * GIB, 8 * GIB),), "nvidia-smi")
    hw = Hardware(**{**hw.__dict__, "ram_total": 16 * GIB, "ram_free": 12 * GIB})
    out = io.StringIO()
    hardware_report(out, hw, 4096)
    text = out.getvalue()
    assert "Hardware:      GPU: NVIDIA GeForce RTX 3070, 8 GB, 8 GB free (nvidia-smi)" in text
    assert "               Memory: 16 GB, 12 GB free" in text
    flat = " ".join(text.split())
    assert "Recommended: Your GPU has 8 GB free: Code Llama 7B Instruct runs fully on it" in flat
    assert "(an estimate)" in flat


def test_doctor_report_on_this_machine_says_what_it_knows():
    """On the machine running the tests the report has a GPU line, memory and a recommendation,
    sized for the configured context."""
    out = io.StringIO()
    hardware_report(out)
    text = out.getvalue()
    assert text.startswith("Hardware:      GPU: ")
    assert "Memory: " in text and "Recommended:   " in text
