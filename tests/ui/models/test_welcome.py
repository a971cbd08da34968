"""The first-run welcome beside the lesson: what the app does, the recommendation, the two
choices, and a download that ends with the tutor switched to the new model, without ever
blocking the lessons."""

from __future__ import annotations

import time

from models.helpers import REPO
from PySide6.QtCore import QTimer
from ui.models.conftest import GPU_8GB

from app.core.catalog import Catalog, load_catalog
from app.settings import Settings
from app.store.hub import HubConfig
from app.store.library import ModelLibrary
from app.store.manager import ModelStore
from app.ui.models.jobs import ModelJobs
from app.ui.models.welcome import INTRO, WelcomePanel, first_run


def make_welcome(qtbot, jobs, hardware=GPU_8GB) -> WelcomePanel:
    """The welcome on `jobs`, shown."""
    panel = WelcomePanel(jobs, hardware)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_the_welcome_says_what_the_app_does_and_offers_the_two_choices(qtbot, tmp_path):
    """With the real catalog on an 8 GB GPU: the intro, the recommendation, and the buttons
    "Download Code Llama 7B Instruct (4.1 GB)" and "Start now with the tiny starter model"."""
    store = ModelStore(ModelLibrary(tmp_path / "s"), HubConfig("http://127.0.0.1:9"), 4096)
    store.catalog = load_catalog()
    panel = make_welcome(qtbot, ModelJobs(store))
    assert panel.intro_label.text() == INTRO
    assert panel.advice_label.text().startswith(
        "Your GPU has 8 GB free: Code Llama 7B Instruct runs fully on it"
    )
    assert panel.download_button.text() == "Download Code Llama 7B Instruct (4.1 GB)"
    assert panel.starter_button.text() == "Start now with the tiny starter model"
    with qtbot.waitSignal(panel.sig_starter_requested):
        panel.starter_button.click()


def test_the_welcome_offers_7b_when_nothing_fits(qtbot, tmp_path):
    """On a machine where no Code Llama fits, the download offered is still 7B Instruct and the
    words say to keep the starter model."""
    from app.core.hardware import GIB, Hardware

    store = ModelStore(ModelLibrary(tmp_path / "s"), HubConfig("http://127.0.0.1:9"), 4096)
    store.catalog = load_catalog()
    panel = make_welcome(
        qtbot, ModelJobs(store), Hardware(False, ram_total=4 * GIB, ram_free=2 * GIB)
    )
    assert panel.download_button.text() == "Download Code Llama 7B Instruct (4.1 GB)"
    assert "Keep the tiny starter model" in panel.advice_label.text()


def test_download_from_the_welcome_switches_to_the_model_when_verified(qtbot, jobs, tiny):
    """The download runs with progress in the panel; once verified, the panel asks for the
    model to be loaded and hides itself."""
    panel = make_welcome(qtbot, jobs)
    assert panel.download_button.text() == "Download Tiny Instruct (98 MB)"
    seen = []
    jobs.sig_progressed.connect(lambda p: seen.append(panel.progress_label.text()))
    with qtbot.waitSignal(panel.sig_use_requested, timeout=30_000) as used:
        panel.download_button.click()
        assert panel.pause_button.isVisible() and not panel.download_button.isVisible()
    assert any("Tiny Instruct: downloading" in text for text in seen)
    assert any("The starter model answers meanwhile." in text for text in seen)
    assert used.args[0].path == jobs.store.library.user_dir / "tiny.gguf"
    assert not panel.isVisible()


def test_the_welcome_never_blocks_the_ui_while_downloading(qtbot, hub, jobs, tiny):
    """While a throttled download runs, a 10 ms timer on the UI thread keeps firing (no stall
    over 100 ms): the lessons stay usable."""
    hub.files[(REPO, "tiny.gguf")].bytes_per_s = 40e6
    panel = make_welcome(qtbot, jobs)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    with qtbot.waitSignal(jobs.sig_finished, timeout=30_000):
        panel.download_button.click()
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 50
    assert max(gaps) < 0.1, f"the UI thread stalled {max(gaps) * 1000:.0f} ms"


def test_pause_from_the_welcome_offers_resume(qtbot, hub, jobs, tiny):
    """Pause keeps the bytes; the button then offers to resume at the percentage reached."""
    hub.files[(REPO, "tiny.gguf")].bytes_per_s = 20e6
    panel = make_welcome(qtbot, jobs)
    panel.download_button.click()
    qtbot.waitUntil(lambda: "MB/s" in panel.progress_label.text(), timeout=10_000)
    with qtbot.waitSignal(jobs.sig_finished, timeout=10_000):
        panel.pause_button.click()
    assert panel.download_button.text().startswith("Resume the download (paused at ")


def test_a_failed_download_is_said_in_the_welcome(qtbot, hub, jobs, tiny):
    """A hub that answers a web page: the welcome says so; the starter stays available."""
    hub.files[(REPO, "tiny.gguf")].html = True
    panel = make_welcome(qtbot, jobs)
    with qtbot.waitSignal(jobs.sig_finished, timeout=10_000):
        panel.download_button.click()
    assert panel.progress_label.text().startswith("The download failed: ")
    assert "web page" in panel.progress_label.text()
    assert panel.starter_button.isEnabled()


def test_offline_the_welcome_offers_only_the_starter(qtbot, tmp_path, tiny):
    """Offline: the download button is disabled and the panel says why."""
    store = ModelStore(
        ModelLibrary(tmp_path / "s"),
        HubConfig("http://127.0.0.1:9", True),
        4096,
        None,
        Catalog((tiny,)),
    )
    panel = make_welcome(qtbot, ModelJobs(store))
    assert not panel.download_button.isEnabled()
    assert panel.progress_label.text().startswith("Offline: ")
    assert panel.starter_button.isEnabled()


def test_close_hides_the_welcome(qtbot, jobs):
    """Close hides the panel and says so."""
    panel = make_welcome(qtbot, jobs)
    with qtbot.waitSignal(panel.sig_dismissed):
        panel.close_button.click()
    assert not panel.isVisible()


def test_first_run_is_when_no_model_was_chosen():
    """The welcome is for a start with `model.path` empty."""
    assert first_run(Settings())
    assert not first_run(Settings(user={"model.path": "/models/x.gguf"}))
