"""The sandbox, proved with real programs: each thing a program must not do is tried and
denied, and an escapee that calls setsid and clears its environment still dies with the run."""

from __future__ import annotations

import http.server
import os
import textwrap
import threading
import time
from pathlib import Path

import pytest
from runner_helpers import write_source as _write

from app.runner import sandbox
from app.runner.process import RunSession, run_program

pytestmark = pytest.mark.skipif(
    not sandbox.available(), reason=f"No sandbox here: {sandbox.INSTALL_HINT}"
)


def _run(tmp_path: Path, code: str, *args: str) -> str:
    """Run `code` as the learner's main.py in a workspace under tmp_path; its stdout."""
    workspace = tmp_path / "workspace"
    prelude = "import sys\nARGS = sys.stdin.read().splitlines()\n"
    main = _write(workspace, "main.py", prelude + textwrap.dedent(code))
    result = run_program("python", main, workspace, stdin="\n".join(args), time_limit_s=20)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_only_its_own_folder_is_writable(tmp_path: Path) -> None:
    """Writing into the learner's home fails; writing inside the workspace works."""
    outside = Path.home() / f".codetutor-sandbox-escape-{os.getpid()}"
    out = _run(
        tmp_path,
        """
        import sys
        for target in (ARGS[0], "mine.txt"):
            try:
                open(target, "w").write("x")
                print("wrote", target)
            except OSError as exc:
                print("denied", target, exc.errno)
        """,
        str(outside),
    )
    assert "denied" in out.splitlines()[0] and "wrote mine.txt" in out
    assert not outside.exists()
    assert (tmp_path / "workspace" / "mine.txt").read_text() == "x"


def test_no_network_not_even_a_server_on_this_machine(tmp_path: Path) -> None:
    """A real HTTP server on 127.0.0.1 answers the test but not the sandboxed program."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        import urllib.request

        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).status == 200
        out = _run(
            tmp_path,
            """
            import socket, sys
            try:
                socket.create_connection(("127.0.0.1", int(ARGS[0])), timeout=3)
                print("connected")
            except OSError as exc:
                print("denied", exc)
            """,
            str(port),
        )
    finally:
        server.shutdown()
    assert out.startswith("denied")


def test_hidden_solutions_and_app_data_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folders hidden by the app (lessons with solutions, progress) read as empty."""
    monkeypatch.setattr(sandbox, "_hidden", set())
    lessons = tmp_path / "lessons" / "course" / "lesson" / "solution"
    lessons.mkdir(parents=True)
    (lessons / "main.py").write_text("print('the answer')\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "progress.json").write_text("{}")
    sandbox.hide([tmp_path / "lessons", data])
    out = _run(
        tmp_path,
        """
        import os, sys
        for folder in ARGS:
            print(folder, sorted(os.listdir(folder)))
        """,
        str(tmp_path / "lessons"),
        str(data),
    )
    assert out.splitlines() == [f"{tmp_path / 'lessons'} []", f"{data} []"]


def test_the_app_cannot_be_seen_or_signalled(tmp_path: Path) -> None:
    """The app's process (and its environment) is invisible; signalling it fails."""
    out = _run(
        tmp_path,
        """
        import os, sys
        pid = int(ARGS[0])
        print("environ", os.path.exists(f"/proc/{pid}/environ"))
        try:
            os.kill(pid, 0)
            print("signalled")
        except ProcessLookupError:
            print("no such process")
        """,
        str(os.getpid()),
    )
    assert out.splitlines() == ["environ False", "no such process"]


def _alive(marker: str) -> bool:
    """True while a process whose command line holds `marker` runs on this machine."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            return True
    return False


def test_setsid_escapee_with_an_empty_environment_dies_with_stop(tmp_path: Path) -> None:
    """Setsid + exec with an empty environment sheds group and marker; Stop still ends it."""
    workspace = tmp_path / "workspace"
    main = _write(
        workspace,
        "main.py",
        """
        import subprocess, time
        subprocess.Popen(["setsid", "env", "-i", "sleep", "4242.25"])
        print("ready", flush=True)
        time.sleep(100)
        """,
    )
    lines: list[str] = []
    session = RunSession("python", main, workspace, on_output=lambda _s, t: lines.append(t))
    session.start()
    deadline = time.monotonic() + 20
    while not any("ready" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive("4242.25")
    session.stop()
    assert session.wait(timeout=10) is not None
    deadline = time.monotonic() + 5
    while _alive("4242.25") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive("4242.25")


def test_tools_under_tmp_stay_visible_and_tmpdir_is_writable(tmp_path: Path) -> None:
    """A toolchain installed under /tmp (a clone there) still runs; TMPDIR can be written."""
    tool = tmp_path / "tools" / "greet"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho hello from a tool\n")
    tool.chmod(0o755)
    out = _run(
        tmp_path,
        """
        import subprocess, tempfile
        print(subprocess.run([ARGS[0]], capture_output=True, text=True).stdout.strip())
        with tempfile.NamedTemporaryFile() as fh:
            fh.write(b"scratch")
            print("tmp ok")
        """,
        str(tool),
    )
    assert out.splitlines() == ["hello from a tool", "tmp ok"]
