"""Switching models frees the old model's memory before the new one loads (RSS measured), and a
model file deleted while in use keeps answering until the next switch."""

from __future__ import annotations

import shutil
import threading

import pytest

from app.core.models import spec_for_file
from app.core.prompts.messages import ChatMessage
from app.llm.backend import GenerationParams
from app.llm.local import LocalBackend

pytestmark = pytest.mark.real_model


def rss_mb() -> float:
    """This process's resident memory in MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status here")


def test_switching_models_frees_the_old_one_first(tmp_path, starter_spec):
    """Loading model B after model A leaves RSS near A's, not A's plus B's."""
    copy = tmp_path / "copy-of-starter.gguf"
    shutil.copyfile(starter_spec.path, copy)
    backend = LocalBackend()
    base = rss_mb()
    backend.load(starter_spec)
    with_a = rss_mb()
    backend.load(spec_for_file(copy))
    with_b = rss_mb()
    backend.unload()
    model = with_a - base
    print(
        f"RSS: {base:.0f} MB before, {with_a:.0f} MB with A, {with_b:.0f} MB after switching to B"
    )
    assert model > 50  # the model really was in memory
    assert with_b - with_a < model / 2


def test_a_model_file_deleted_while_in_use_keeps_answering(tmp_path, starter_spec):
    """The loaded model still answers after its file is deleted (it is mapped in memory)."""
    copy = tmp_path / "in-use.gguf"
    shutil.copyfile(starter_spec.path, copy)
    backend = LocalBackend()
    backend.load(spec_for_file(copy))
    copy.unlink()
    text = "".join(
        backend.stream_chat(
            [ChatMessage("user", "Say hi.")],
            GenerationParams(max_tokens=8, temperature=0.0),
            threading.Event(),
        )
    )
    backend.unload()
    assert text.strip()
