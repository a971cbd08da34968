"""The program runner and the output panel, wired for the tests of ui/run."""

from __future__ import annotations

import pytest

from app.ui.run.output_panel import OutputPanel
from app.ui.run.processes import ProgramRunner


@pytest.fixture
def wired(qtbot):
    """A ProgramRunner and an OutputPanel wired the way the run controller wires them."""
    controller = ProgramRunner()
    panel = OutputPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    controller.sig_output_received.connect(panel.append_output)
    controller.sig_run_finished.connect(panel.end_run)
    controller.sig_run_failed.connect(panel.show_failure)
    controller.sig_phase_changed.connect(panel.set_phase)
    controller.sig_checks_finished.connect(panel.show_check_results)
    controller.sig_checks_failed.connect(panel.show_checks_failure)
    panel.sig_input_entered.connect(controller.write_stdin)
    panel.sig_end_of_input_requested.connect(controller.close_stdin)
    panel.sig_stop_requested.connect(controller.stop)
    yield controller, panel
    controller.shutdown()
