"""The model manager dialog: each entry's size, fit and state, and what Download, Pause,
Resume, Cancel, Delete and Use do, through real downloads from the fake hub."""

from __future__ import annotations

import shutil

from models.helpers import REPO, entry_for
from ui.models.conftest import GPU_8GB

from app.core.catalog import Catalog, CatalogProblem, load_catalog
from app.core.models import starter_model_path
from app.store.hub import HubConfig
from app.store.library import ModelLibrary
from app.store.manager import ModelStore
from app.ui.models.dialog import ModelManagerDialog
from app.ui.models.jobs import ModelJobs


def enabled(dialog) -> set[str]:
    """The names of the enabled action buttons."""
    return {name for name, button in dialog.buttons.items() if button.isEnabled()}


def make_dialog(qtbot, jobs, current=None) -> ModelManagerDialog:
    """The dialog on `jobs`, for an 8 GB GPU, shown."""
    dialog = ModelManagerDialog(jobs, GPU_8GB, current)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_builtin_catalog_is_listed_with_size_fit_and_state(qtbot, tmp_path):
    """Every entry is a row: name, kind, size, whether it fits this machine, and its state."""
    store = ModelStore(ModelLibrary(tmp_path / "s"), HubConfig("http://127.0.0.1:9"), 4096)
    store.catalog = load_catalog()
    jobs = ModelJobs(store)
    dialog = make_dialog(qtbot, jobs)
    assert dialog.table.rowCount() == len(store.catalog.entries) == 28
    row = dialog.row_of("codellama-7b-instruct.Q4_K_M")
    cells = [dialog.table.item(row, c).text() for c in range(5)]
    assert cells == [
        "Code Llama 7B Instruct (Q4_K_M)",
        "Instruct · FIM",
        "4.1 GB",
        "fits the GPU, ~60 tokens/s",
        "not downloaded",
    ]
    row34 = dialog.row_of("codellama-34b-instruct.Q8_0")
    assert dialog.table.item(row34, 3).text() == "too big: needs 35.1 GB"
    assert dialog.state_text("starter.Q4_1") == "ready"
    assert dialog.advice_label.text().startswith("Your GPU has 8 GB free: Code Llama 7B Instruct")
    dialog.select("codellama-7b-instruct.Q4_K_M")
    assert enabled(dialog) == {"Download"}
    dialog.select("starter.Q4_1")
    assert enabled(dialog) == {"Use"}


def test_download_shows_progress_then_ready_and_use_loads_it(qtbot, jobs, tiny):
    """Download: "downloading n %", "verifying", then "ready"; Use emits the spec to load."""
    dialog = make_dialog(qtbot, jobs)
    dialog.select(tiny.id)
    seen = []
    jobs.sig_progressed.connect(lambda p: seen.append(dialog.state_text(tiny.id)))
    with qtbot.waitSignal(jobs.sig_finished, timeout=30_000):
        dialog.buttons["Download"].click()
        assert enabled(dialog) == {"Pause", "Cancel"}
    assert any(text.startswith("downloading ") for text in seen)
    assert any(text.startswith("verifying") for text in seen)
    assert dialog.state_text(tiny.id) == "ready"
    assert enabled(dialog) == {"Use", "Delete"}
    with qtbot.waitSignal(dialog.sig_use_requested) as used:
        dialog.buttons["Use"].click()
    spec = used.args[0]
    assert spec.path == jobs.store.library.user_dir / "tiny.gguf"
    assert (spec.chat_format, spec.display_name) == ("llama-2", "Tiny Instruct (Q4_1)")
    assert dialog.state_text(tiny.id) == "ready · in use"
    assert "Delete" not in enabled(dialog)


def test_pause_then_resume(qtbot, hub, jobs, tiny, starter_bytes):
    """Pause mid-download shows "paused at n %" with Resume and Cancel; Resume completes it."""
    hub.files[(REPO, "tiny.gguf")].bytes_per_s = 20e6
    dialog = make_dialog(qtbot, jobs)
    dialog.select(tiny.id)
    dialog.buttons["Download"].click()
    qtbot.waitUntil(lambda: "MB/s" in dialog.state_text(tiny.id), timeout=10_000)
    assert " left" in dialog.state_text(tiny.id)
    with qtbot.waitSignal(jobs.sig_finished, timeout=10_000):
        dialog.buttons["Pause"].click()
    assert dialog.state_text(tiny.id).startswith("paused at ")
    assert enabled(dialog) == {"Resume", "Cancel"}
    hub.files[(REPO, "tiny.gguf")].bytes_per_s = None
    with qtbot.waitSignal(jobs.sig_finished, timeout=30_000):
        dialog.buttons["Resume"].click()
    assert dialog.state_text(tiny.id) == "ready"
    assert hub.gets("tiny.gguf")[-1].range is not None


def test_cancel_during_a_download_and_of_a_paused_one(qtbot, hub, jobs, tiny):
    """Cancel ends a running download as not downloaded; on a paused one it drops the part."""
    hub.files[(REPO, "tiny.gguf")].bytes_per_s = 20e6
    dialog = make_dialog(qtbot, jobs)
    dialog.select(tiny.id)
    dialog.buttons["Download"].click()
    qtbot.waitUntil(lambda: "MB/s" in dialog.state_text(tiny.id), timeout=10_000)
    with qtbot.waitSignal(jobs.sig_finished, timeout=10_000):
        dialog.buttons["Cancel"].click()
    assert dialog.state_text(tiny.id) == "not downloaded"
    dialog.buttons["Download"].click()
    qtbot.waitUntil(lambda: "MB/s" in dialog.state_text(tiny.id), timeout=10_000)
    with qtbot.waitSignal(jobs.sig_finished, timeout=10_000):
        dialog.buttons["Pause"].click()
    dialog.buttons["Cancel"].click()
    assert dialog.state_text(tiny.id) == "not downloaded"
    assert not jobs.store.library.part_path(tiny).exists()


def test_a_failed_download_says_why_and_offers_download_again(qtbot, hub, jobs, tiny):
    """A 404: the state reads "failed: …(404)", the message says it, Download is offered."""
    del hub.files[(REPO, "tiny.gguf")]
    hub.add(REPO, "other.gguf", b"x")
    dialog = make_dialog(qtbot, jobs)
    dialog.select(tiny.id)
    with qtbot.waitSignal(jobs.sig_finished, timeout=10_000):
        dialog.buttons["Download"].click()
    assert dialog.state_text(tiny.id).startswith("failed: ")
    assert dialog.state_text(tiny.id).endswith("(404).")
    assert dialog.message_label.isVisible() and "(404)" in dialog.message_label.text()
    assert enabled(dialog) == {"Download"}


def test_delete_removes_a_ready_model(qtbot, jobs, tiny, starter_bytes):
    """Delete a downloaded model: "not downloaded", and the message says what was freed."""
    library = jobs.store.library
    library.user_dir.mkdir(parents=True)
    (library.user_dir / "tiny.gguf").write_bytes(starter_bytes)
    library.verify(tiny)
    dialog = make_dialog(qtbot, jobs)
    dialog.select(tiny.id)
    dialog.buttons["Delete"].click()
    assert dialog.state_text(tiny.id) == "not downloaded"
    assert dialog.message_label.text() == "Deleted Tiny Instruct (Q4_1), freeing 98 MB."


def test_use_of_a_model_deleted_since_is_refused_in_words(qtbot, jobs, tiny, starter_bytes):
    """A ready file removed behind the dialog's back: Use says it is not ready, emits nothing."""
    library = jobs.store.library
    library.user_dir.mkdir(parents=True)
    (library.user_dir / "tiny.gguf").write_bytes(starter_bytes)
    library.verify(tiny)
    dialog = make_dialog(qtbot, jobs)
    dialog.select(tiny.id)
    (library.user_dir / "tiny.gguf").unlink()
    with qtbot.assertNotEmitted(dialog.sig_use_requested):
        dialog.buttons["Use"].click()
    assert "is not ready (not downloaded)" in dialog.message_label.text()


def test_a_shared_read_only_store_is_checked_and_listed_ready(
    qtbot, tmp_path, hub, tiny, starter_bytes
):
    """A model in the admin's read-only store is checked on opening, then ready, not deletable."""
    shared = tmp_path / "lab"
    shared.mkdir()
    (shared / "tiny.gguf").write_bytes(starter_bytes)
    library = ModelLibrary(tmp_path / "user", shared, lambda folder: folder != shared)
    store = ModelStore(library, HubConfig(hub.url), 4096, None, Catalog((tiny,)))
    jobs = ModelJobs(store)
    dialog = make_dialog(qtbot, jobs)
    qtbot.waitUntil(lambda: dialog.state_text(tiny.id) == "ready (shared store)", timeout=10_000)
    dialog.select(tiny.id)
    assert enabled(dialog) == {"Use"}
    assert hub.requests == []


def test_add_a_gguf_file_as_the_learners_own(qtbot, tmp_path, jobs):
    """Add a GGUF file: a new row, ready and "not verified"."""
    mine = tmp_path / "my-model.gguf"
    shutil.copyfile(starter_model_path(), mine)
    dialog = make_dialog(qtbot, jobs)
    added = dialog.add_file(mine)
    assert added is not None and added.is_local
    assert dialog.state_text(added.id) == "ready · not verified"
    assert dialog.message_label.text() == "Added my-model: your own file, not verified."
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    assert dialog.add_file(bad) is None
    assert "is not a GGUF model file" in dialog.message_label.text()


def test_offline_mode_offers_no_download(qtbot, tmp_path, tiny):
    """Offline: Download is disabled and the advice says offline."""
    store = ModelStore(
        ModelLibrary(tmp_path / "s"),
        HubConfig("http://127.0.0.1:9", True),
        4096,
        None,
        Catalog((tiny,)),
    )
    dialog = make_dialog(qtbot, ModelJobs(store))
    dialog.select(tiny.id)
    assert enabled(dialog) == set()
    assert dialog.advice_label.text().endswith("Offline mode: nothing will be downloaded.")


def test_catalog_problems_are_shown(qtbot, tmp_path, tiny):
    """A bad catalog entry is named with its file and line above the buttons."""
    problem = CatalogProblem(
        tmp_path / "catalog.toml", 12, "model x: 'size' must be a whole number"
    )
    store = ModelStore(
        ModelLibrary(tmp_path / "s"),
        HubConfig("http://127.0.0.1:9"),
        4096,
        None,
        Catalog((tiny,), (problem,)),
    )
    dialog = make_dialog(qtbot, ModelJobs(store))
    assert dialog.message_label.text() == (
        f"Catalog entries left out: {tmp_path / 'catalog.toml'}:12: model x: 'size' must be a "
        "whole number"
    )


def test_reopening_the_dialog_shows_a_download_still_running(qtbot, hub, jobs, tiny):
    """Downloads live in the shared jobs: a dialog opened later shows the running one."""
    hub.files[(REPO, "tiny.gguf")].bytes_per_s = 20e6
    first = make_dialog(qtbot, jobs)
    first.select(tiny.id)
    first.buttons["Download"].click()
    first.close()
    second = make_dialog(qtbot, jobs)
    qtbot.waitUntil(lambda: "MB/s" in second.state_text(tiny.id), timeout=10_000)
    second.select(tiny.id)
    assert enabled(second) == {"Pause", "Cancel"}
    with qtbot.waitSignal(jobs.sig_finished, timeout=30_000):
        pass
    assert second.state_text(tiny.id) == "ready"


def test_two_entries_download_side_by_side(qtbot, hub, tmp_path, tiny, starter_bytes):
    """Two downloads at once each show their own progress and both end ready."""
    other = entry_for("other", starter_bytes, name="Other Instruct")
    hub.add(REPO, "other.gguf", starter_bytes)
    store = ModelStore(
        ModelLibrary(tmp_path / "s"), HubConfig(hub.url), 4096, None, Catalog((tiny, other))
    )
    jobs = ModelJobs(store)
    dialog = make_dialog(qtbot, jobs)
    for entry in (tiny, other):
        dialog.select(entry.id)
        dialog.buttons["Download"].click()
    qtbot.waitUntil(
        lambda: dialog.state_text(tiny.id) == dialog.state_text(other.id) == "ready", timeout=60_000
    )
    jobs.shutdown()
