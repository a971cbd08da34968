"""`codetutor serve`: the engines' command lines, the choice of engine, the refusals before
anything starts, the site settings it prints, and real servers on the starter model."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import httpx
import pytest
from models.fixtures import no_network_beyond_loopback  # noqa: F401 - autouse: 127.0.0.1 only

from app import serve_process
from app.cli import main
from app.serve_process import (
    ServeError,
    ServeOptions,
    ServerProcess,
    choose_engine,
    find_llama_server,
    free_port,
    server_command,
    server_env,
    site_config_line,
)

OPTIONS = ServeOptions(model_path=Path("model.gguf"), alias="tutor", parallel=4, n_ctx=2048)


@pytest.fixture
def fake_llama_server(tmp_path, monkeypatch) -> Path:
    """An executable named by CODETUTOR_LLAMA_SERVER that says "boom" and exits 3."""
    script = tmp_path / "llama-server"
    script.write_text("#!/bin/sh\necho 'error: boom' >&2\nexit 3\n")
    script.chmod(0o755)
    monkeypatch.setenv("CODETUTOR_LLAMA_SERVER", str(script))
    return script


def after(cmd: list[str], flag: str) -> str:
    """The value that follows `flag` in `cmd`."""
    return cmd[cmd.index(flag) + 1]


def test_llama_server_command_splits_the_context_across_the_slots(fake_llama_server):
    """llama-server gets the model, alias, slots and n_ctx × slots as its total context."""
    cmd = server_command(OPTIONS, "llama-server")
    assert cmd[0] == str(fake_llama_server)
    assert after(cmd, "-m") == "model.gguf" and after(cmd, "--alias") == "tutor"
    assert after(cmd, "-np") == "4" and after(cmd, "-c") == "8192"
    assert after(cmd, "--host") == "127.0.0.1" and after(cmd, "--port") == "8080"
    assert "-t" not in cmd and after(cmd, "-ngl") == "999"  # all layers, where there is a GPU
    options = ServeOptions(Path("m.gguf"), "a", api_key="s3cret", threads=6, gpu_layers=0)
    keyed = server_command(options, "llama-server")
    assert after(keyed, "-t") == "6" and "-ngl" not in keyed
    assert "s3cret" not in keyed  # the process list shows command lines to every user
    env = server_env(options, "llama-server", {"PATH": "/bin", "API_KEY": "other"})
    assert env["LLAMA_API_KEY"] == "s3cret" and "API_KEY" not in env


def test_llama_cpp_python_command_is_one_its_server_parses_with_interrupts_off(monkeypatch):
    """llama_cpp.server's own parser reads the command as this model, alias, context and key,
    with a new request waiting instead of cutting off the one streaming."""
    pytest.importorskip("pydantic_settings", reason="the server extra: pip install -e '.[test]'")
    import argparse

    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import Settings

    parser = argparse.ArgumentParser()
    add_args_from_model(parser, Settings)
    cmd = server_command(OPTIONS, "llama-cpp-python")
    assert cmd[1:3] == ["-m", "llama_cpp.server"]
    settings = parse_model_from_args(Settings, parser.parse_args(cmd[3:]))
    assert (settings.model, settings.model_alias, settings.n_ctx) == ("model.gguf", "tutor", 2048)
    assert settings.interrupt_requests is False and settings.api_key is None
    keyed_options = ServeOptions(Path("m.gguf"), "a", api_key="s3cret")
    keyed = server_command(keyed_options, "llama-cpp-python")
    assert "s3cret" not in keyed
    for name, value in server_env(keyed_options, "llama-cpp-python", {}).items():
        monkeypatch.setenv(name, value)
    assert parse_model_from_args(Settings, parser.parse_args(keyed[3:])).api_key == "s3cret"


def test_auto_takes_llama_server_when_it_is_there(fake_llama_server):
    """With llama-server found, "auto" runs it and has nothing to warn about."""
    assert find_llama_server() == fake_llama_server
    assert choose_engine("auto") == ("llama-server", None)


def test_auto_falls_back_to_llama_cpp_python_and_says_so(monkeypatch):
    """Without llama-server, "auto" runs llama-cpp-python's server, saying it answers one
    request at a time and how to build llama-server; asking for llama-server says how."""
    monkeypatch.setattr(serve_process, "find_llama_server", lambda: None)
    engine, note = choose_engine("auto")
    assert engine == "llama-cpp-python"
    assert note and "one request at a time" in note and "make llama-server" in note
    with pytest.raises(ServeError, match="make llama-server"):
        choose_engine("llama-server")


def test_a_file_that_is_not_executable_is_not_llama_server(tmp_path, monkeypatch):
    """CODETUTOR_LLAMA_SERVER naming a file without the execute bit is passed over."""
    plain = tmp_path / "llama-server"
    plain.write_text("not a program")
    monkeypatch.setenv("CODETUTOR_LLAMA_SERVER", str(plain))
    assert find_llama_server() != plain


def test_serving_the_network_without_a_key_is_refused(capsys):
    """`codetutor serve --host 0.0.0.0` without a key exits 2 and says how to give one."""
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "every computer on the network" in err and "--api-key-file" in err


def test_an_empty_key_file_is_refused(tmp_path, capsys):
    """An empty --api-key-file exits 2 naming the file."""
    empty = tmp_path / "key.txt"
    empty.write_text("\n")
    assert main(["serve", "--host", "0.0.0.0", "--api-key-file", str(empty)]) == 2
    assert f"“{empty}” is empty" in capsys.readouterr().err


def test_a_missing_model_file_is_refused(tmp_path, capsys):
    """A .gguf path that does not exist exits 2 saying so."""
    assert main(["serve", str(tmp_path / "gone.gguf")]) == 2
    assert "gone.gguf” does not exist" in capsys.readouterr().err


def test_a_port_in_use_is_refused_before_anything_starts(fake_llama_server, capsys):
    """With the port taken, serve exits 2 saying so and how to choose another; the engine
    never runs."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--engine", "llama-server"]) == 2
    err = capsys.readouterr().err
    assert f"Port {port} is in use" in err and "--port" in err


@pytest.mark.parametrize("has_key", [False, True])
def test_the_site_settings_lines_are_toml_with_the_url_and_model(has_key):
    """The printed lines parse as TOML giving the server's url and model; with a key they
    say where the learners' key goes."""
    text = site_config_line("http://lab-gpu.local:8080/v1", "codellama-7b-instruct", has_key)
    assert tomllib.loads(text) == {
        "server": {"url": "http://lab-gpu.local:8080/v1", "model": "codellama-7b-instruct"}
    }
    assert ("CODETUTOR_SERVER_API_KEY" in text) is has_key and ("api_key_file" in text) is has_key


FAKE_SERVER = """#!{python}
import http.server, os, sys, threading
port = int(sys.argv[sys.argv.index("--port") + 1])
class Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{{"data": []}}')
        print("answered once, now failing", flush=True)
        threading.Timer(0.3, os._exit, (7,)).start()
http.server.HTTPServer(("127.0.0.1", port), Models).serve_forever()
"""


@pytest.mark.slow
def test_serve_exits_with_the_code_and_last_lines_of_a_server_that_dies(
    tmp_path, monkeypatch, capsys
):
    """When the server dies while serving, `codetutor serve` has printed where to connect,
    then exits with the server's code and its last lines."""
    script = tmp_path / "llama-server"
    script.write_text(FAKE_SERVER.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("CODETUTOR_LLAMA_SERVER", str(script))
    port = free_port()
    assert main(["serve", "--port", str(port), "--engine", "llama-server"]) == 7
    out, err = capsys.readouterr()
    assert f"Serving at http://127.0.0.1:{port}/v1" in out and "[server]" in out
    assert "llama-server ended (exit code 7)" in err and "now failing" in err


@pytest.mark.parametrize(
    ("model", "words"),
    [("codellama-7b-instruct", "models download codellama-7b-instruct"), ("nosuch", "No model")],
)
def test_a_catalog_model_that_is_not_here_is_refused(model, words, capsys):
    """A catalog model not downloaded, or no model of that name, exits 2 saying what to do."""
    assert main(["serve", model]) == 2
    assert words in capsys.readouterr().err


@pytest.mark.slow
def test_a_server_that_exits_at_once_reports_its_last_lines(fake_llama_server, tmp_path):
    """A server ending before it answers raises ServeError with its exit code and output,
    which its log file keeps."""
    options = ServeOptions(Path("model.gguf"), "tutor", port=free_port())
    log = tmp_path / "serve.log"
    with pytest.raises(ServeError, match=r"(?s)exit code 3.*error: boom"):
        ServerProcess.start(options, "llama-server", log_path=log, ready_timeout_s=30)
    assert "error: boom" in log.read_text()


def test_site_config_names_the_key_file_the_admin_gave(tmp_path):
    """With --api-key-file, the settings lines name that file for the learners' machines."""
    key = tmp_path / "key"
    text = site_config_line("http://lab-gpu.local:8080/v1", "tutor", True, str(key))
    assert tomllib.loads(text)["server"]["api_key_file"] == str(key)


def check_real_server(engine: str, model: Path) -> None:
    """Start `engine` on `model` with a key: it lists the alias to a client sending the key,
    refuses one without, its log's tail never shows the key, and stop() ends the process."""
    options = ServeOptions(model, "smollm2-135m-instruct", port=free_port(), api_key="s3cret")
    with ServerProcess.start(options, engine, ready_timeout_s=90) as server:
        assert server.url == f"http://127.0.0.1:{options.port}/v1"
        assert httpx.get(f"{server.url}/models", trust_env=False).status_code == 401
        answer = httpx.get(
            f"{server.url}/models", headers={"Authorization": "Bearer s3cret"}, trust_env=False
        )
        assert answer.status_code == 200
        assert "smollm2-135m-instruct" in [m["id"] for m in answer.json()["data"]]
        tail = server.log_tail()
        assert tail and "s3cret" not in tail
        server.stop()
        assert server.process.poll() is not None


@pytest.mark.slow
@pytest.mark.real_model
def test_llama_cpp_python_serves_the_starter_model(starter_spec):
    """llama-cpp-python's server answers /v1/models with the alias, and stops."""
    if serve_process.llama_cpp_server_available():
        pytest.skip(serve_process.llama_cpp_server_available())
    check_real_server("llama-cpp-python", starter_spec.path)


@pytest.mark.slow
@pytest.mark.real_model
def test_llama_server_serves_the_starter_model(starter_spec):
    """llama.cpp's llama-server answers /v1/models with the alias, and stops."""
    if find_llama_server() is None:
        pytest.skip("llama-server is not built: `make llama-server` builds it")
    check_real_server("llama-server", starter_spec.path)


@pytest.mark.slow
@pytest.mark.real_model
def test_codetutor_serve_prints_where_to_connect_and_stops_on_ctrl_c(starter_spec):
    """`codetutor serve` prints its URL and the site settings, answers there, and on Ctrl+C
    stops its server and exits 0 saying so."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    cmd = [
        sys.executable,
        "-m",
        "app",
        "serve",
        "--port",
        str(port),
        "--engine",
        "llama-cpp-python",
    ]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in child.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    shown: list[str] = []
    try:
        while not shown or "Press Ctrl+C" not in shown[-1]:
            line = lines.get(timeout=90)
            assert line is not None, "".join(shown)
            shown.append(line)
        assert f"Serving at {url}\n" in shown and f'url = "{url}"\n' in shown
        assert 'model = "smollm2-135m-instruct"\n' in shown
        assert httpx.get(f"{url}/models", trust_env=False).status_code == 200
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:  # Ctrl+C, so that its own server ends too
            child.send_signal(signal.SIGINT)
            child.wait(30)
        reader.join(10)
    assert "Stopped.\n" in list(iter(lines.get_nowait, None))
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/models", trust_env=False)


def test_the_key_never_shows_in_the_options_repr():
    """ServeOptions' repr (logs, tracebacks) leaves the API key out."""
    assert "s3cret" not in repr(ServeOptions(Path("m.gguf"), "a", api_key="s3cret"))
