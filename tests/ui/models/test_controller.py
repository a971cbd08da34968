"""The models controller: the hardware check arrives off the UI thread, Use loads the model
through the LLM service and remembers it, the welcome appears only on a first run, and a click
on the status bar's model name opens the manager."""

from __future__ import annotations

import threading

import pytest
from fakes.backends import ScriptedBackend
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QWidget
from ui.models.conftest import GPU_8GB

from app.llm.service import LlmService
from app.settings import Settings
from app.ui.models.controller import ModelsController, make_clickable


@pytest.fixture
def service(qtbot):
    """An LlmService on a scripted backend (no real model)."""
    svc = LlmService(ScriptedBackend())
    yield svc
    svc.shutdown()


@pytest.fixture
def window(qtbot):
    """A stand-in main window."""
    w = QWidget()
    qtbot.addWidget(w)
    return w


def make_controller(qtbot, store, service, window, settings=None, detect=lambda: GPU_8GB):
    """A controller whose hardware check returns `detect()`; waits for the check."""
    controller = ModelsController(store, service, settings or Settings(), window, detect)
    qtbot.waitUntil(lambda: controller.detected, timeout=5_000)
    return controller


def test_the_hardware_check_runs_off_the_ui_thread(qtbot, store, service, window):
    """The check runs in another thread and its result reaches the UI thread by signal."""
    threads = []

    def detect():
        threads.append(threading.current_thread())
        return GPU_8GB

    controller = make_controller(qtbot, store, service, window, detect=detect)
    assert threads and threads[0] is not threading.main_thread()
    assert controller.hardware is GPU_8GB


def test_use_loads_the_model_and_remembers_it(
    qtbot, store, service, window, tiny, tmp_path, starter_bytes
):
    """Use on a ready model: the service loads it and model.path / model.chat_format are set."""
    store.library.user_dir.mkdir(parents=True)
    (store.library.user_dir / "tiny.gguf").write_bytes(starter_bytes)
    store.library.verify(tiny)
    settings = Settings(user_file=tmp_path / "config" / "settings.toml")
    controller = make_controller(qtbot, store, service, window, settings)
    dialog = controller.open_manager()
    dialog.select(tiny.id)
    with qtbot.waitSignal(service.sig_model_loaded, timeout=5_000) as loaded:
        dialog.buttons["Use"].click()
    assert loaded.args[0].path == str(store.library.user_dir / "tiny.gguf")
    assert settings.get("model.path") == str(store.library.user_dir / "tiny.gguf")
    assert settings.get("model.chat_format") == "llama-2"
    assert "tiny.gguf" in (tmp_path / "config" / "settings.toml").read_text()
    assert controller.welcome_panel() is None  # a model was chosen: no welcome any more


def test_the_welcome_is_for_a_first_run_only_and_closing_it_is_remembered(
    qtbot, store, service, window
):
    """No model chosen: a welcome; after Close, a new controller shows none."""
    controller = make_controller(qtbot, store, service, window)
    panel = controller.welcome_panel(window)
    assert panel is not None and panel.advice_label.text().startswith("Your GPU has 8 GB free:")
    panel.close_button.click()
    again = make_controller(qtbot, store, service, window)
    assert again.welcome_panel(window) is None


def test_the_starter_choice_dismisses_the_welcome(qtbot, store, service, window):
    """The starter choice of the welcome loads the starter and closes the welcome."""
    controller = make_controller(qtbot, store, service, window)
    notices = []
    controller.sig_notice.connect(lambda text, error: notices.append(text))
    panel = controller.welcome_panel(window)
    window.show()
    with qtbot.waitSignal(service.sig_model_loaded, timeout=5_000) as loaded:
        panel.starter_button.click()
    assert loaded.args[0].is_starter
    assert not panel.isVisible()
    assert notices[-1].startswith("The tiny starter model is answering.")


def test_a_click_on_the_status_bar_model_name_opens_the_manager(qtbot, store, service, window):
    """make_clickable on the model label: a left click opens Model ▸ Models…."""
    controller = make_controller(qtbot, store, service, window)
    label = QLabel("SmolLM2-135M-Instruct", window)
    make_clickable(label, controller.open_manager, "Open the model manager")
    window.show()
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert controller.dialog is not None and controller.dialog.isVisible()
    assert label.toolTip() == "Open the model manager"
    assert controller.open_manager() is controller.dialog  # one dialog, raised again
