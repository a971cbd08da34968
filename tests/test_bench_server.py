"""`codetutor bench --server`: simulated learners on a real server, their figures, and bad
input in words."""

from __future__ import annotations

import json

import pytest
from models.fixtures import no_network_beyond_loopback

from app.bench_server import parse_learners, table
from app.cli import main
from app.serve_process import find_llama_server, free_port

__all__ = ["no_network_beyond_loopback"]  # nothing but 127.0.0.1 is reached


def test_learner_counts_are_checked():
    """The counts "1,8,30" give three runs; zero, too many or words are refused in words."""
    assert parse_learners("1,8,30") == [1, 8, 30]
    for bad in ("0", "1,500", "many", ""):
        with pytest.raises(ValueError, match="--learners takes"):
            parse_learners(bad)


def test_bad_input_is_a_message_and_exit_2(capsys):
    """A server address without a scheme, or zero seconds, exits 2 with the reason."""
    assert main(["bench", "--server", "lab-gpu:8080/v1", "--learners", "1"]) == 2
    assert "has no scheme" in capsys.readouterr().err
    assert main(["bench", "--server", "http://127.0.0.1:1/v1", "--seconds", "0"]) == 2
    assert "--seconds takes 1 to 3600" in capsys.readouterr().err


def test_a_server_that_is_not_there_counts_as_failed_and_exits_1(capsys):
    """Learners that cannot connect are failures (the run exits 1), not a crash."""
    port = free_port()  # nothing listens there
    code = main(
        ["bench", "--server", f"http://127.0.0.1:{port}/v1", "--learners", "2", "--seconds", "1"]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert f"| http://127.0.0.1:{port}/v1 | 2 | 0 |" in out and "| 2 |" in out


@pytest.mark.slow
@pytest.mark.real_model
@pytest.mark.parametrize("engine", ["llama-cpp-python", "llama-server"])
def test_learners_on_a_real_server_get_replies_and_completions(engine, capsys):
    """Two learners for a few seconds on a server started with the starter model: replies
    and completions come, each figure is measured, and none failed."""
    if engine == "llama-server" and find_llama_server() is None:
        pytest.skip("llama-server is not built: `make llama-server` builds it")
    argv = ["bench", "--server", engine, "--learners", "2", "--seconds", "4", "--json"]
    assert main(argv) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["server"].startswith(engine) and run["learners"] == 2
    assert run["failed"] == 0 and run["replies"] >= 2 and run["completions"] >= 2  # each asks
    assert run["ttft_p50_ms"] > 0 and run["tokens_per_s_per_learner"] > 0
    assert run["fim_p50_ms"] > 0
    assert "| learners |" in table([])
