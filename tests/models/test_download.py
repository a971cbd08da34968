"""Downloads through the real huggingface_hub against the fake hub: progress, resume after a cut
connection, Pause and Resume, a restart of the app mid-download, and every bad answer (404, an
HTML page, a wrong size, a checksum mismatch, a full disk, offline, no scheme) said clearly with
nothing half-downloaded ever offered as ready."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from models.helpers import REPO, entry_for, run_in_thread, wait_for

from app.store.download import DownloadJob, Progress
from app.store.hub import HubConfig
from app.store.library import ModelLibrary, ModelState


def test_download_reports_progress_then_is_verified_and_ready(hub, online, library, starter_bytes):
    """The starter GGUF comes down with rising progress, is verified, and is listed as ready."""
    hub.add(REPO, "starter.gguf", starter_bytes)
    entry = entry_for("starter", starter_bytes)
    seen: list[Progress] = []
    started = time.perf_counter()
    final = DownloadJob(entry, library, online, seen.append).run()
    seconds = time.perf_counter() - started
    assert final.state is ModelState.READY, final.message
    downloading = [p for p in seen if p.state is ModelState.DOWNLOADING]
    assert len(downloading) >= 2
    assert [p.done for p in downloading] == sorted(p.done for p in downloading)
    assert downloading[-1].done == len(starter_bytes) and downloading[-1].words().startswith(
        "downloading 100 %"
    )
    assert any(p.state is ModelState.VERIFYING for p in seen)
    assert final.path == library.user_dir / "starter.gguf"
    assert hashlib.sha256(final.path.read_bytes()).hexdigest() == entry.sha256
    status = library.status(entry)
    assert (status.state, status.verified, status.words()) == (ModelState.READY, True, "ready")
    assert not library.part_path(entry).exists()
    print(f"fake hub: {len(starter_bytes) / seconds / 1e6:.0f} MB/s including the sha256 check")


def test_requests_carry_no_telemetry_and_no_token(hub, online, library, starter_bytes):
    """huggingface_hub is told who we are and nothing more: no token, no extra agent info."""
    hub.add(REPO, "starter.gguf", starter_bytes)
    DownloadJob(entry_for("starter", starter_bytes), library, online).run()
    from huggingface_hub import constants

    assert constants.HF_HUB_DISABLE_TELEMETRY is True
    for request in hub.requests:
        assert request.user_agent.startswith("codetutor/")
        assert "torch/" not in request.user_agent and "agent/" not in request.user_agent


def test_a_cut_connection_is_resumed_with_a_range_request(hub, online, library, big_bytes):
    """The hub cuts the connection after 4 MB: the download goes on from there and completes."""
    hub.add(REPO, "big.gguf", big_bytes, cut_after=4 << 20, cuts_left=1)
    entry = entry_for("big", big_bytes)
    final = DownloadJob(entry, library, online).run()
    assert final.state is ModelState.READY, final.message
    ranges = [r.range for r in hub.gets("big.gguf")]
    assert ranges[0] is None and ranges[1] is not None
    assert int(ranges[1].split("=")[1].rstrip("-")) >= 3 << 20
    assert final.path.read_bytes() == big_bytes


def test_a_connection_that_stays_down_keeps_the_part_for_resume(hub, online, library, big_bytes):
    """Cut, then 503 for every retry: the job fails saying Resume goes on, the part is kept and
    listed as paused, and a later Resume completes from that byte."""
    served = hub.add(
        REPO, "big.gguf", big_bytes, cut_after=5 << 20, cuts_left=1, refuse_after_cut=True
    )
    entry = entry_for("big", big_bytes)
    failed = DownloadJob(entry, library, online).run()
    assert failed.state is ModelState.FAILED and failed.resumable
    assert "Resume goes on from there" in failed.message
    status = library.status(entry)
    assert status.state is ModelState.PAUSED and status.done == failed.done > 0
    assert library.ready_path(entry) is None
    served.refuse_after_cut = False
    final = DownloadJob(entry, library, online).run()
    assert final.state is ModelState.READY, final.message
    assert hub.gets("big.gguf")[-1].range == f"bytes={status.done}-"
    assert final.path.read_bytes() == big_bytes


def test_pause_keeps_the_bytes_and_resume_goes_on(hub, online, library, big_bytes):
    """Pause while bytes flow: the job ends paused with part of the file; Resume fetches only
    the rest (a Range request from where it paused)."""
    hub.add(REPO, "big.gguf", big_bytes, bytes_per_s=6e6)
    entry = entry_for("big", big_bytes)
    seen: list[Progress] = []
    job = DownloadJob(entry, library, online, seen.append)
    thread = run_in_thread(job.run)
    wait_for(lambda: seen and seen[-1].done > 2 << 20, 20)
    job.pause()
    thread.join(10)
    assert job.last.state is ModelState.PAUSED
    paused_at = library.part_path(entry).stat().st_size
    assert 0 < paused_at < len(big_bytes)
    assert library.status(entry).words().startswith("paused at ")
    assert any(p.speed for p in seen) and "MB/s" in next(p for p in seen if p.speed).words()
    final = DownloadJob(entry, library, online).run()
    assert final.state is ModelState.READY
    assert hub.gets("big.gguf")[-1].range == f"bytes={paused_at}-"


def test_cancel_deletes_what_was_downloaded(hub, online, library, big_bytes):
    """Cancel ends the job as not downloaded and leaves no partial file."""
    hub.add(REPO, "big.gguf", big_bytes, bytes_per_s=6e6)
    entry = entry_for("big", big_bytes)
    seen: list[Progress] = []
    job = DownloadJob(entry, library, online, seen.append)
    thread = run_in_thread(job.run)
    wait_for(lambda: seen and seen[-1].done > 1 << 20, 20)
    job.cancel()
    thread.join(10)
    assert (job.last.state, job.last.words()) == (ModelState.NOT_DOWNLOADED, "cancelled")
    assert not library.part_path(entry).exists()
    assert library.status(entry).state is ModelState.NOT_DOWNLOADED


CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
from models.helpers import entry_for
from app.store.download import DownloadJob
from app.store.hub import HubConfig
from app.store.library import ModelLibrary
data = open({source!r}, "rb").read()
job = DownloadJob(entry_for("big", data), ModelLibrary({store!r}), HubConfig({url!r}),
                  lambda p: print(p.done, flush=True))
job.run()
"""


def test_quitting_mid_download_resumes_at_the_next_start(hub, tmp_path, big_bytes):
    """The app is killed while downloading; a fresh library lists the file as paused, and the
    download resumes where the killed one stopped."""
    hub.add(REPO, "big.gguf", big_bytes, bytes_per_s=4e6)
    source = tmp_path / "source.bin"
    source.write_bytes(big_bytes)
    store = tmp_path / "store"
    tests = str(Path(__file__).resolve().parent.parent)
    code = CHILD.format(tests=tests, source=str(source), store=str(store), url=hub.url)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        for line in child.stdout:
            if int(line) > 3 << 20:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    entry = entry_for("big", big_bytes)
    library = ModelLibrary(store)  # the next start
    status = library.status(entry)
    assert status.state is ModelState.PAUSED and status.done > 3 << 20
    final = DownloadJob(entry, library, HubConfig(hub.url)).run()
    assert final.state is ModelState.READY, final.message
    assert hub.gets("big.gguf")[-1].range == f"bytes={status.done}-"
    assert final.path.read_bytes() == big_bytes


def test_a_file_missing_on_the_hub_is_a_404_in_words(hub, online, library, starter_bytes):
    """A file the repository does not have: failed, saying so, nothing in the store."""
    hub.add(REPO, "other.gguf", starter_bytes)
    entry = entry_for("starter", starter_bytes)
    final = DownloadJob(entry, library, online).run()
    assert final.state is ModelState.FAILED
    assert final.message == f"The mirror {hub.url} has no file starter.gguf in {REPO} (404)."
    assert library.status(entry).words() == f"failed: {final.message}"
    assert not any(library.user_dir.glob("*.gguf"))


def test_a_checksum_mismatch_is_quarantined_and_never_ready(hub, online, library, big_bytes):
    """The hub sends other bytes than its checksum says: the file is set aside, the job says
    "checksum mismatch", and the entry is not ready."""
    hub.add(REPO, "big.gguf", big_bytes, garbage=True)
    entry = entry_for("big", big_bytes)
    final = DownloadJob(entry, library, online).run()
    assert final.state is ModelState.FAILED
    assert final.message.startswith("checksum mismatch: the downloaded file's sha256 is ")
    quarantined = list((library.user_dir / ".quarantine").iterdir())
    assert [p.name.split(".checksum-mismatch-")[0] for p in quarantined] == ["big.gguf"]
    assert not (library.user_dir / "big.gguf").exists()
    assert library.ready_path(entry) is None
    assert library.status(entry).state is ModelState.FAILED


def test_a_hub_checksum_unlike_the_catalogs_is_refused_before_downloading(
    hub, online, library, big_bytes
):
    """When the hub's sha256 is not the catalog's, nothing is downloaded at all."""
    hub.add(REPO, "big.gguf", big_bytes)
    entry = entry_for("big", big_bytes, sha256="0" * 64)
    final = DownloadJob(entry, library, online).run()
    assert final.state is ModelState.FAILED and "not the catalog's" in final.message
    assert hub.gets("big.gguf") == []


def test_garbage_without_a_known_checksum_fails_the_gguf_check(hub, online, library, big_bytes):
    """No sha256 anywhere (not an LFS file): a file that is not GGUF is set aside, not ready."""
    hub.add(REPO, "big.gguf", big_bytes, lfs=False)
    entry = entry_for("big", big_bytes, sha256=None)
    final = DownloadJob(entry, library, online).run()
    assert final.state is ModelState.FAILED and "is not a GGUF model file" in final.message
    assert library.ready_path(entry) is None


def test_a_gguf_without_a_known_checksum_is_ready_but_not_verified(
    hub, online, library, starter_bytes
):
    """A complete GGUF file with no sha256 known is offered, marked "not verified"."""
    hub.add(REPO, "starter.gguf", starter_bytes, lfs=False)
    entry = entry_for("starter", starter_bytes, sha256=None)
    assert DownloadJob(entry, library, online).run().state is ModelState.READY
    status = library.status(entry)
    assert status.state is ModelState.READY and not status.verified
    assert status.words() == "ready · not verified"


def test_a_hub_that_answers_html_is_said_to_be_a_web_page(hub, online, library, starter_bytes):
    """A captive portal's page instead of the hub: failed, naming the likely cause."""
    hub.add(REPO, "starter.gguf", starter_bytes, html=True)
    final = DownloadJob(entry_for("starter", starter_bytes), library, online).run()
    assert final.state is ModelState.FAILED
    assert "answered with a web page, not a model file" in final.message
    assert hub.gets("starter.gguf") == []


def test_a_size_unlike_the_catalogs_is_refused(hub, online, library, big_bytes):
    """The hub announces another size than the catalog's exact one: nothing is downloaded."""
    hub.add(REPO, "big.gguf", big_bytes, announced_size=len(big_bytes) + 1)
    final = DownloadJob(entry_for("big", big_bytes), library, online).run()
    assert final.state is ModelState.FAILED
    assert (
        f"with {len(big_bytes) + 1:,} bytes, but the catalog expects {len(big_bytes):,}"
        in final.message
    )
    assert hub.gets("big.gguf") == []


def test_a_body_shorter_than_announced_is_not_kept(hub, online, library, big_bytes):
    """The hub announces more bytes than it sends: failed, and the partial file is deleted."""
    hub.add(REPO, "big.gguf", big_bytes, announced_size=len(big_bytes) + 1000, lfs=False)
    entry = entry_for("big", big_bytes, sha256=None, size=len(big_bytes) + 1000)
    final = DownloadJob(entry, library, online).run()
    assert final.state is ModelState.FAILED
    assert "not the" in final.message and "it announced" in final.message
    assert not library.part_path(entry).exists() and library.ready_path(entry) is None


def test_too_little_disk_space_is_said_before_starting(hub, online, library, big_bytes):
    """With 10 MB free the download does not start and says how much is needed."""
    hub.add(REPO, "big.gguf", big_bytes)
    entry = entry_for("big", big_bytes)
    job = DownloadJob(entry, library, online, disk_free=lambda folder: 10 * 10**6)
    final = job.run()
    assert final.state is ModelState.FAILED
    assert final.message.startswith(
        f"not enough free disk space: Test big (Q4_1) needs 80 MB more in “{library.user_dir}”, "
        "and only 10 MB is free. Free 70 MB"
    )
    assert hub.gets("big.gguf") == []


class FullDisk:
    """A file that takes `room` bytes, then fails like a full disk."""

    def __init__(self, path: Path, room: int) -> None:
        self.fh = path.open("ab")
        self.room = room

    def write(self, data: bytes) -> int:
        """Write, or fail with ENOSPC once `room` is used up."""
        if self.fh.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def test_a_disk_that_fills_up_mid_download_keeps_the_part(hub, online, library, big_bytes):
    """ENOSPC while writing: failed "the disk is full", the part kept; Resume completes."""
    hub.add(REPO, "big.gguf", big_bytes)
    entry = entry_for("big", big_bytes)
    final = DownloadJob(entry, library, online, opener=lambda p: FullDisk(p, 3 << 20)).run()
    assert final.state is ModelState.FAILED and final.resumable
    assert final.message.startswith("the disk is full: the download stopped at ")
    kept = library.part_path(entry).stat().st_size
    assert 0 < kept <= 3 << 20
    assert library.status(entry).state is ModelState.PAUSED
    done = DownloadJob(entry, library, online).run()
    assert done.state is ModelState.READY and done.path.read_bytes() == big_bytes


def test_offline_mode_never_touches_the_network(hub, library, starter_bytes):
    """Offline: the job fails at once saying "Offline", and the hub sees no request."""
    hub.add(REPO, "starter.gguf", starter_bytes)
    started = time.monotonic()
    final = DownloadJob(
        entry_for("starter", starter_bytes), library, HubConfig(hub.url, True)
    ).run()
    assert time.monotonic() - started < 1
    assert final.state is ModelState.FAILED and final.message.startswith("Offline: ")
    assert hub.requests == []


def test_offline_mode_is_read_from_the_environment():
    """CODETUTOR_OFFLINE=1 or HF_HUB_OFFLINE=1 turn offline mode on."""
    assert HubConfig.from_settings("", {"CODETUTOR_OFFLINE": "1"}).offline
    assert HubConfig.from_settings("", {"HF_HUB_OFFLINE": "true"}).offline
    assert not HubConfig.from_settings("", {}).offline


def test_an_unreachable_hub_says_offline_quickly(hub, library, starter_bytes):
    """A hub that is down: failed within seconds, saying the network cannot reach it."""
    url = hub.url
    hub.stop()
    started = time.monotonic()
    final = DownloadJob(entry_for("starter", starter_bytes), library, HubConfig(url)).run()
    assert time.monotonic() - started < 15
    assert final.state is ModelState.FAILED
    assert final.message.startswith(f"Offline? The mirror {url} at {url} cannot be reached")


def test_a_mirror_without_a_scheme_is_refused_in_words(library, starter_bytes):
    """model.mirror_endpoint = "hf-mirror.com": refused before any request, with the fix."""
    final = DownloadJob(
        entry_for("starter", starter_bytes), library, HubConfig.from_settings("hf-mirror.com", {})
    ).run()
    assert final.state is ModelState.FAILED
    assert final.message == (
        "The mirror address “hf-mirror.com” has no scheme: write it as https://hf-mirror.com "
        "(setting model.mirror_endpoint)."
    )


def test_an_unwritable_store_is_said_with_the_fix(hub, online, tmp_path, starter_bytes):
    """A model folder that cannot be created: failed, naming it and the settings that move it."""
    hub.add(REPO, "starter.gguf", starter_bytes)
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    library = ModelLibrary(blocker / "store")
    final = DownloadJob(entry_for("starter", starter_bytes), library, online).run()
    assert final.state is ModelState.FAILED
    assert f"the model folder “{blocker / 'store'}” cannot be written" in final.message
    assert "model.store_dir" in final.message


def test_the_part_file_records_which_version_it_belongs_to(hub, online, library, big_bytes):
    """A partial file of another version (another ETag) is started again from zero."""
    served = hub.add(
        REPO, "big.gguf", big_bytes, cut_after=2 << 20, cuts_left=1, refuse_after_cut=True
    )
    entry = entry_for("big", big_bytes)
    DownloadJob(entry, library, online).run()
    part = library.part_path(entry)
    meta = json.loads(Path(f"{part}.json").read_text())
    assert meta["etag"] == served.sha256
    meta["etag"] = "another-version"
    Path(f"{part}.json").write_text(json.dumps(meta))
    served.refuse_after_cut = False
    assert DownloadJob(entry, library, online).run().state is ModelState.READY
    assert hub.gets("big.gguf")[-1].range is None


def test_two_jobs_never_share_state(hub, online, library, starter_bytes, big_bytes):
    """Two downloads at once (two entries) both end ready and verified."""
    hub.add(REPO, "starter.gguf", starter_bytes)
    hub.add(REPO, "big.gguf", big_bytes)
    jobs = [
        DownloadJob(entry_for("starter", starter_bytes), library, online),
        DownloadJob(entry_for("big", big_bytes), library, online),
    ]
    threads = [threading.Thread(target=j.run) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [j.last.state for j in jobs] == [ModelState.READY, ModelState.READY]


def test_a_second_download_of_the_same_model_is_refused_while_one_runs(
    hub, online, library, big_bytes
):
    """Two windows (or a window and a terminal) downloading one model: the second is told the
    first is under way, and the first completes unharmed."""
    hub.add(REPO, "big.gguf", big_bytes, bytes_per_s=8e6)
    entry = entry_for("big", big_bytes)
    seen: list[Progress] = []
    first = DownloadJob(entry, library, online, seen.append)
    thread = run_in_thread(first.run)
    wait_for(lambda: seen and seen[-1].done > 1 << 20, 20)
    second = DownloadJob(entry, ModelLibrary(library.user_dir), online).run()
    assert second.state is ModelState.FAILED
    assert "is being downloaded already" in second.message
    thread.join(30)
    assert first.last.state is ModelState.READY
    assert first.last.path.read_bytes() == big_bytes
