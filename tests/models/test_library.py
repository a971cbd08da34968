"""The model library: a shared read-only store verified once and never written to, files
copied in by hand checked before use, deletion, the learner's own files, and records that
follow the file."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from models.helpers import entry_for, tree

import app.store.library as library_module
from app.core.catalog import load_catalog
from app.store.library import ModelLibrary, ModelState, writable


@pytest.fixture
def shared_store(tmp_path, starter_bytes):
    """A read-only shared store holding the starter GGUF (as a lab admin would set it up)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "starter.gguf").write_bytes(starter_bytes)
    (shared / "starter.gguf").chmod(0o444)
    shared.chmod(0o555)
    yield shared
    shared.chmod(0o755)


def read_only(shared):
    """A writability probe that sees `shared` as a read-only mount (the tests may run as root,
    for whom permission bits do not stop a write)."""
    return lambda folder: folder != shared and writable(folder)


def test_a_read_only_shared_store_is_verified_once_and_never_written(
    tmp_path, shared_store, starter_bytes, monkeypatch
):
    """Its model is hashed once, listed as ready from the shared store, and the store is left
    exactly as it was; the next start trusts the record without hashing again."""
    entry = entry_for("starter", starter_bytes)
    before = tree(shared_store)
    library = ModelLibrary(tmp_path / "user", shared_store, read_only(shared_store))
    assert library.status(entry).state is ModelState.UNCHECKED
    status = library.verify(entry)
    assert (status.state, status.shared, status.verified) == (ModelState.READY, True, True)
    assert status.path == shared_store / "starter.gguf"
    assert status.words() == "ready (shared store)"
    assert tree(shared_store) == before
    assert library.download_dir == tmp_path / "user"

    def no_hashing(*args, **kwargs):
        raise AssertionError("hashed again")

    monkeypatch.setattr(library_module, "sha256_of", no_hashing)
    again = ModelLibrary(tmp_path / "user", shared_store, read_only(shared_store))
    assert again.status(entry).state is ModelState.READY
    assert again.verify(entry).state is ModelState.READY
    assert again.ready_path(entry) == shared_store / "starter.gguf"


def test_a_damaged_copy_in_a_read_only_store_is_reported_and_left_alone(
    tmp_path, shared_store, starter_bytes
):
    """A shared file with the wrong sha256 is not offered, the admin is named, nothing moves."""
    entry = entry_for("starter", starter_bytes, sha256="1" * 64)
    before = tree(shared_store)
    library = ModelLibrary(tmp_path / "user", shared_store, read_only(shared_store))
    status = library.verify(entry)
    assert status.state is ModelState.FAILED
    assert "the copy in the shared store" in status.message
    assert "tell your administrator" in status.message
    assert library.ready_path(entry) is None
    assert tree(shared_store) == before
    assert library.status(entry).state is ModelState.FAILED


def test_a_writable_shared_store_takes_the_downloads(tmp_path):
    """Where the admin's store may be written, downloads go there."""
    shared = tmp_path / "lab"
    shared.mkdir()
    library = ModelLibrary(tmp_path / "user", shared, lambda folder: True)
    assert library.download_dir == shared
    assert library.part_path(entry_for("x", b"x")).parent == shared / ".partial"


def test_a_file_copied_in_by_hand_is_checked_before_it_is_ready(library, starter_bytes):
    """A file dropped into the store is "not checked yet" until verified, then ready."""
    entry = entry_for("starter", starter_bytes)
    library.user_dir.mkdir(parents=True)
    (library.user_dir / "starter.gguf").write_bytes(starter_bytes)
    assert library.status(entry).state is ModelState.UNCHECKED
    assert library.ready_path(entry) is None
    seen = []
    assert library.verify(entry, lambda done, total: seen.append(done)).state is ModelState.READY
    assert seen[-1] == len(starter_bytes)


def test_a_copied_file_with_the_wrong_checksum_is_quarantined(library, starter_bytes):
    """In the learner's own store a mismatching file is renamed aside and reported."""
    entry = entry_for("starter", starter_bytes, sha256="2" * 64)
    library.user_dir.mkdir(parents=True)
    (library.user_dir / "starter.gguf").write_bytes(starter_bytes)
    status = library.verify(entry)
    assert status.state is ModelState.FAILED
    assert "set aside as" in status.message and "not loaded" in status.message
    assert not (library.user_dir / "starter.gguf").exists()
    assert len(list((library.user_dir / ".quarantine").iterdir())) == 1


def test_a_file_changed_after_its_check_is_checked_again(library, starter_bytes):
    """The record holds size and time: a file replaced since is not trusted."""
    entry = entry_for("starter", starter_bytes)
    library.user_dir.mkdir(parents=True)
    path = library.user_dir / "starter.gguf"
    path.write_bytes(starter_bytes)
    assert library.verify(entry).state is ModelState.READY
    with path.open("r+b") as fh:
        fh.seek(100)
        fh.write(b"X")
    assert library.status(entry).state is ModelState.UNCHECKED
    assert library.verify(entry).state is ModelState.FAILED


def test_a_model_deleted_behind_the_apps_back_is_no_longer_ready(library, starter_bytes):
    """A ready file that disappears (deleted while in use) is listed as not downloaded."""
    entry = entry_for("starter", starter_bytes)
    library.user_dir.mkdir(parents=True)
    path = library.user_dir / "starter.gguf"
    path.write_bytes(starter_bytes)
    library.verify(entry)
    path.unlink()
    assert library.status(entry).state is ModelState.NOT_DOWNLOADED
    assert library.ready_path(entry) is None


def test_remove_deletes_the_file_and_says_how_much_was_freed(library, starter_bytes):
    """Delete removes the learner's copy and any partial download."""
    entry = entry_for("starter", starter_bytes)
    library.user_dir.mkdir(parents=True)
    (library.user_dir / "starter.gguf").write_bytes(starter_bytes)
    part = library.part_path(entry)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"partial")
    assert library.remove(entry) == "Deleted Test starter (Q4_1), freeing 98 MB."
    assert not any(library.user_dir.glob("*.gguf")) and not part.exists()
    assert library.remove(entry) == "Test starter (Q4_1) was not on this computer."


def test_remove_leaves_a_read_only_shared_copy(tmp_path, shared_store, starter_bytes):
    """A model in the read-only shared store is not deleted, and the sentence says why."""
    entry = entry_for("starter", starter_bytes)
    library = ModelLibrary(tmp_path / "user", shared_store, read_only(shared_store))
    message = library.remove(entry)
    assert message == "Test starter (Q4_1) is in the shared store, which is read-only: it stays."
    assert (shared_store / "starter.gguf").exists()


def test_the_learners_own_file_is_listed_as_not_verified(library, tmp_path, starter_bytes):
    """Add a GGUF file: it joins the catalog as the learner's own, ready and "not verified"."""
    mine = tmp_path / "downloads" / "my-model.Q4_1.gguf"
    mine.parent.mkdir()
    mine.write_bytes(starter_bytes)
    added = library.add_local(mine, "My model")
    catalog = load_catalog(local=[library.local_catalog])
    entry = catalog.get(added.model_id)
    assert entry is not None and entry.is_local and entry.path == mine
    status = library.status(entry)
    assert (status.state, status.verified) == (ModelState.READY, False)
    assert status.words() == "ready · not verified"
    second = library.add_local(mine, "Again", taken=(added.model_id,))
    assert second.model_id != added.model_id
    mine.unlink()
    assert library.status(entry).words() == f"failed: the file “{mine}” is gone"


def test_the_starter_model_is_always_ready():
    """The starter ships with the app: ready without any check."""
    library = ModelLibrary(shutil.os.devnull)  # never touched for the starter
    entry = load_catalog().get("starter")
    status = library.status(entry)
    assert (status.state, status.message) == (ModelState.READY, "ships with Code Tutor")


def test_a_corrupt_record_file_is_said_and_models_are_checked_again(library, starter_bytes):
    """A record file that is not JSON: one sentence, and files count as unchecked."""
    entry = entry_for("starter", starter_bytes)
    library.user_dir.mkdir(parents=True)
    (library.user_dir / "starter.gguf").write_bytes(starter_bytes)
    library.verify(entry)
    (library.user_dir / ".codetutor" / "records.json").write_text("{not json")
    fresh = ModelLibrary(library.user_dir)
    assert fresh.status(entry).state is ModelState.UNCHECKED
    assert "could not be read" in (fresh.load_problem or "")
    assert fresh.verify(entry).state is ModelState.READY
    assert (
        hashlib.sha256(starter_bytes).hexdigest()
        in (library.user_dir / ".codetutor" / "records.json").read_text()
    )
