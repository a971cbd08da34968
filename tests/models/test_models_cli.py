"""`codetutor models list | download | verify | remove | add`: what the terminal shows and the
exit status, against the fake hub."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys

from models.helpers import REPO, entry_for

from app.core.catalog import Catalog
from app.core.hardware import GIB, Gpu, Hardware
from app.models_cli import run_models
from app.store.hub import HubConfig
from app.store.library import ModelLibrary
from app.store.manager import ModelStore

GPU_8GB = Hardware(
    True, "CUDA", (Gpu("NVIDIA GeForce RTX 3070", 8 * GIB, 8 * GIB),), "nvidia-smi", 16 * GIB, 0
)


def store_for(tmp_path, hub, *entries, offline=False) -> ModelStore:
    """A model store in `tmp_path` whose catalog is `entries`, downloading from the fake hub."""
    return ModelStore(
        ModelLibrary(tmp_path / "store"), HubConfig(hub.url, offline), 4096, None, Catalog(entries)
    )


def run(store, *argv, hardware=GPU_8GB) -> tuple[int, str]:
    """Run `codetutor models ARGV` on `store`; (exit status, output)."""
    command, *rest = argv
    args = argparse.Namespace(models_command=command, name=rest[0] if rest else None)
    out = io.StringIO()
    return run_models(args, out, store, hardware), out.getvalue()


def test_models_list_shows_the_check_the_recommendation_and_every_entry(tmp_path, hub):
    """`models list`: hardware lines, the recommendation, then name, size, fit and state."""
    from app.core.catalog import load_catalog

    store = ModelStore(ModelLibrary(tmp_path / "store"), HubConfig(hub.url), 4096)
    store.catalog = load_catalog()
    code, text = run(store, "list")
    assert code == 0
    assert "GPU: NVIDIA GeForce RTX 3070, 8 GB, 8 GB free (nvidia-smi)" in text
    assert "Recommended: Your GPU has 8 GB free: Code Llama 7B Instruct runs fully on it" in text
    row = next(
        line for line in text.splitlines() if line.startswith("codellama-7b-instruct.Q4_K_M")
    )
    assert (
        "4.1 GB" in row and "fits the GPU, ~60 tokens/s" in row and row.endswith("not downloaded")
    )
    row = next(line for line in text.splitlines() if line.startswith("codellama-34b-instruct.Q8_0"))
    assert "too big: needs 35.1 GB" in row
    assert hub.requests == []


def test_models_download_shows_progress_and_ends_ready(tmp_path, hub, starter_bytes):
    """`models download NAME` fetches and verifies the file, printing progress as it goes."""
    hub.add(REPO, "starter.gguf", starter_bytes)
    store = store_for(tmp_path, hub, entry_for("starter", starter_bytes))
    code, text = run(store, "download", "starter")
    assert code == 0, text
    lines = text.splitlines()
    assert any("downloading 0 %" in line for line in lines)
    assert any("verifying" in line for line in lines)
    assert lines[-1] == f"Test starter (Q4_1) is ready: {tmp_path / 'store' / 'starter.gguf'}"
    code, text = run(store, "download", "starter")
    assert (code, text.startswith("Test starter (Q4_1) is ready: ")) == (0, True)


def test_models_download_failure_is_said_with_exit_status_1(tmp_path, hub, starter_bytes):
    """A file the hub lacks: one line saying so, exit status 1."""
    hub.add(REPO, "other.gguf", starter_bytes)
    store = store_for(tmp_path, hub, entry_for("starter", starter_bytes))
    code, text = run(store, "download", "starter")
    assert code == 1
    assert text.strip().endswith(
        f"failed: The mirror {hub.url} has no file starter.gguf in {REPO} (404)."
    )


def test_models_download_offline_touches_nothing(tmp_path, hub, starter_bytes):
    """Offline: the download says "Offline" and the hub sees no request."""
    hub.add(REPO, "starter.gguf", starter_bytes)
    store = store_for(tmp_path, hub, entry_for("starter", starter_bytes), offline=True)
    code, text = run(store, "download", "starter")
    assert code == 1 and "Offline: " in text and hub.requests == []


def test_models_verify_and_remove(tmp_path, hub, starter_bytes):
    """`verify` checks a copied-in file; `remove` deletes it; unknown names exit 2."""
    entry = entry_for("starter", starter_bytes)
    store = store_for(tmp_path, hub, entry)
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "starter.gguf").write_bytes(starter_bytes)
    code, text = run(store, "verify", "starter")
    assert code == 0 and text.strip().endswith(f"ready — {tmp_path / 'store' / 'starter.gguf'}")
    code, text = run(store, "remove", "starter")
    assert (code, text.strip()) == (0, "Deleted Test starter (Q4_1), freeing 98 MB.")
    code, text = run(store, "verify", "starter")
    assert (code, text.strip()) == (1, "Test starter (Q4_1): not downloaded")
    code, text = run(store, "remove", "no-such-model")
    assert code == 2 and text.startswith("No model called “no-such-model”. Models: starter")


def test_codetutor_models_list_runs_from_the_command_line(tmp_path):
    """`python -m app models list` prints the built-in catalog and exits 0, offline."""
    env = dict(os.environ, CODETUTOR_HOME=str(tmp_path), CODETUTOR_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-m", "app", "models", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert (
        "Recommended: " in out.stdout and "Offline mode: nothing will be downloaded." in out.stdout
    )
    assert "codellama-34b-python.Q8_0" in out.stdout
