"""Tests for app.runner.process: real child processes, streamed, limited and killed as a tree."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from runner_helpers import need_toolchain as _need
from runner_helpers import write_source as _write

from app.runner.process import RunResult, RunSession, ToolchainMissingError, run_program

pytestmark = pytest.mark.slow


def _group_gone(pgid: int) -> bool:
    """True when no process of group `pgid` exists any more."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


class _Collector:
    """Collects streamed output; `wait_for(text)` blocks until it has arrived."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, str]] = []
        self._changed = threading.Condition()

    def __call__(self, stream: str, text: str) -> None:
        with self._changed:
            self.chunks.append((stream, text))
            self._changed.notify_all()

    def text(self, stream: str = "stdout") -> str:
        with self._changed:
            return "".join(t for s, t in self.chunks if s == stream)

    def wait_for(self, text: str, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: text in self.text(), timeout)


def test_output_arrives_while_the_program_is_still_running(tmp_path: Path) -> None:
    """Printed text reaches on_output before the program ends (it then sleeps for 1 s)."""
    main = _write(
        tmp_path,
        "main.py",
        """
        import time
        print("first")
        time.sleep(1)
        print("second")
        """,
    )
    output = _Collector()
    session = RunSession("python", main, tmp_path, on_output=output)
    session.start()
    assert output.wait_for("first")
    assert session.wait(timeout=0) is None  # still sleeping: the text came live
    result = session.wait(timeout=10)
    assert result is not None
    assert result.stdout == "first\nsecond\n"
    assert result.exit_code == 0 and result.message == "Your program finished."


def test_prompt_without_newline_shows_at_once_and_input_is_read(tmp_path: Path) -> None:
    """input("Name? ") shows its prompt at once, and text sent with write_stdin answers it."""
    main = _write(tmp_path, "main.py", 'name = input("Name? ")\nprint(f"Hello, {name}!")\n')
    output = _Collector()
    session = RunSession("python", main, tmp_path, on_output=output)
    session.start()
    assert output.wait_for("Name? ")
    session.write_stdin("Ada\n")
    result = session.wait(timeout=10)
    assert result is not None
    assert result.stdout == "Name? Hello, Ada!\n"


def test_close_stdin_ends_input(tmp_path: Path) -> None:
    """After close_stdin, a program reading all its input sees the end and finishes."""
    main = _write(tmp_path, "main.py", "import sys\nprint(len(sys.stdin.read().split()))\n")
    session = RunSession("python", main, tmp_path)
    session.start()
    session.write_stdin("one two ")
    session.write_stdin("three")
    session.close_stdin()
    result = session.wait(timeout=10)
    assert result is not None and result.stdout == "3\n"


def test_sibling_files_import_and_the_folder_stays_clean(tmp_path: Path) -> None:
    """The learner's files import each other, and no __pycache__ is left in their folder."""
    _write(tmp_path, "helper.py", "def greet(name):\n    return f'Hi {name}'\n")
    main = _write(tmp_path, "main.py", "from helper import greet\nprint(greet('Bo'))\n")
    result = run_program("python", main, tmp_path)
    assert result.stdout == "Hi Bo\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["helper.py", "main.py"]


def test_unicode_output_is_decoded(tmp_path: Path) -> None:
    """Non-ASCII output arrives as the same text."""
    main = _write(tmp_path, "main.py", "print('héllo wörld ✓ 你好')\n")
    assert run_program("python", main, tmp_path).stdout == "héllo wörld ✓ 你好\n"


def test_program_does_not_see_the_apps_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child gets a minimal environment: no secrets, no PYTHONPATH, UTF-8 locale."""
    monkeypatch.setenv("CODETUTOR_SECRET_TOKEN", "s3cret")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    main = _write(
        tmp_path,
        "main.py",
        """
        import os, sys
        print(os.environ.get("CODETUTOR_SECRET_TOKEN"), os.environ.get("LANG"))
        print(str(sys.path).count("elsewhere"))
        """,
    )
    assert run_program("python", main, tmp_path).stdout == "None C.UTF-8\n0\n"


def test_an_error_gives_the_exit_code_and_a_plain_message(tmp_path: Path) -> None:
    """A program that fails shows its traceback on stderr and says it stopped with an error."""
    main = _write(tmp_path, "main.py", "print('before')\nprint(1 / 0)\n")
    result = run_program("python", main, tmp_path)
    assert result.exit_code == 1
    assert result.stdout == "before\n"
    assert "ZeroDivisionError" in result.stderr
    assert result.message == "Your program stopped with an error (exit code 1)."
    assert not (result.timed_out or result.killed or result.output_capped)


def test_a_crash_by_signal_is_explained(tmp_path: Path) -> None:
    """A segmentation fault is reported as a crash, in plain words."""
    main = _write(tmp_path, "main.py", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    result = run_program("python", main, tmp_path)
    assert result.exit_code == -11
    assert result.message.startswith("Your program crashed")
    assert "SIGSEGV" in result.message


def test_endless_loop_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    """`while True: pass` ends after the time limit with timed_out and a clear message."""
    main = _write(tmp_path, "main.py", "while True:\n    pass\n")
    started = time.monotonic()
    result = run_program("python", main, tmp_path, time_limit_s=1)
    assert time.monotonic() - started < 5
    assert result.timed_out and result.killed
    assert result.exit_code is None
    assert result.message == "Your program ran longer than 1 s and was stopped."
    assert 0.9 < result.duration_s < 3


def test_waiting_for_input_that_never_comes_ends_at_the_time_limit(tmp_path: Path) -> None:
    """A program blocked on input() that nobody answers ends at the time limit."""
    main = _write(tmp_path, "main.py", "input('Number? ')\n")
    session = RunSession("python", main, tmp_path, time_limit_s=1)
    session.start()
    result = session.wait(timeout=10)
    assert result is not None and result.timed_out
    assert result.stdout == "Number? "


def test_output_flood_is_capped(tmp_path: Path) -> None:
    """A program printing without end is stopped at the output cap, keeping only that much."""
    main = _write(tmp_path, "main.py", "while True:\n    print('spam' * 50)\n")
    result = run_program("python", main, tmp_path, output_limit_bytes=10_000)
    assert result.output_capped and result.killed and not result.timed_out
    assert len(result.stdout.encode()) <= 10_000
    assert result.stdout.startswith("spam")
    assert result.message == "Your program printed more than 10 KB and was stopped."


def test_stop_ends_the_program_and_everything_it_started(tmp_path: Path, no_sandbox: None) -> None:
    """stop() returns at once and leaves no process of the program's group alive."""
    main = _write(
        tmp_path,
        "main.py",
        """
        import os, subprocess, time
        subprocess.Popen(["sleep", "100"])
        if os.fork() == 0:
            time.sleep(100)
            os._exit(0)
        print(os.getpgid(0), "ready", flush=True)
        time.sleep(100)
        """,
    )
    output = _Collector()
    finished: list[RunResult] = []
    session = RunSession("python", main, tmp_path, on_output=output, on_finished=finished.append)
    session.start()
    assert output.wait_for("ready")
    pgid = int(output.text().split()[0])
    started = time.monotonic()
    session.stop()
    assert time.monotonic() - started < 0.5
    result = session.wait(timeout=10)
    assert result is not None
    assert result.killed and not result.timed_out
    assert result.message == "You stopped the program."
    assert finished == [result]
    assert _group_gone(pgid)


def test_time_limit_ends_background_jobs_too(tmp_path: Path) -> None:
    """A script whose background jobs outlive it is cleaned up when the time limit hits."""
    main = _write(tmp_path, "main.sh", "echo $$\nsleep 100 &\nsleep 100\n")
    result = run_program("bash", main, tmp_path, time_limit_s=1)
    assert result.timed_out
    assert _group_gone(int(result.stdout.split()[0]))


def test_background_job_left_after_a_normal_exit_is_ended(tmp_path: Path) -> None:
    """A program that exits leaving a background job running returns at once, job ended."""
    main = _write(tmp_path, "main.sh", "echo $$\nsleep 100 &\necho done\n")
    started = time.monotonic()
    result = run_program("bash", main, tmp_path, time_limit_s=5)
    assert time.monotonic() - started < 4
    assert result.exit_code == 0 and not result.timed_out
    assert _group_gone(int(result.stdout.split()[0]))


def test_stop_during_compile_ends_the_compiler(tmp_path: Path) -> None:
    """Stopping while g++ still compiles ends it; the result says the learner stopped it."""
    _need("cpp")
    main = _write(tmp_path, "main.cpp", "#include <iostream>\nint main() { std::cout << 1; }\n")
    session = RunSession("cpp", main, tmp_path)
    session.start()
    session.stop()
    result = session.wait(timeout=10)
    assert result is not None
    assert result.killed and not result.compile_failed
    assert result.message == "You stopped the program."


def test_a_compiled_program_reports_its_compile_time_apart(tmp_path: Path) -> None:
    """A C++ run's result holds the compile's seconds beside the run's, so the learner is
    not told "0.0 s" for seconds of work."""
    _need("cpp")
    main = _write(tmp_path, "main.cpp", "#include <iostream>\nint main() { std::cout << 1; }\n")
    result = run_program("cpp", main, tmp_path, time_limit_s=10)
    assert result.exit_code == 0 and result.stdout == "1"
    assert result.compile_s > 0.05
    assert result.compile_s > result.duration_s
    python = run_program("python", _write(tmp_path, "main.py", "print(1)\n"), tmp_path)
    assert python.compile_s == 0.0


def test_a_session_runs_once(tmp_path: Path) -> None:
    """Starting the same session twice is refused; a new RunSession is needed."""
    main = _write(tmp_path, "main.py", "pass\n")
    session = RunSession("python", main, tmp_path)
    session.start()
    with pytest.raises(RuntimeError, match="already started"):
        session.start()
    assert session.wait(timeout=10) is not None


def test_a_failing_output_callback_does_not_break_the_run(tmp_path: Path) -> None:
    """An exception in on_output is logged, and the run still finishes with all its output."""

    def broken(stream: str, text: str) -> None:
        raise ValueError("UI bug")

    main = _write(tmp_path, "main.py", "print('still here')\n")
    session = RunSession("python", main, tmp_path, on_output=broken)
    session.start()
    result = session.wait(timeout=10)
    assert result is not None and result.stdout == "still here\n"


def test_missing_toolchain_raises_with_the_install_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting C++ without g++ on PATH raises ToolchainMissingError saying what to install."""
    monkeypatch.setenv("PATH", str(tmp_path))
    main = _write(tmp_path, "main.cpp", "int main() {}\n")
    session = RunSession("cpp", main, tmp_path)
    with pytest.raises(ToolchainMissingError, match="g\\+\\+"):
        session.start()
    assert session.wait(timeout=0) is None


def test_cpp_compiles_runs_and_streams_input(tmp_path: Path) -> None:
    """C++ is compiled with g++ and run; its prompt arrives before the input is sent."""
    _need("cpp")
    main = _write(
        tmp_path,
        "main.cpp",
        """
        #include <iostream>
        #include <string>
        int main() {
            std::string name;
            std::cout << "Name? ";
            std::cin >> name;
            std::cout << "Hello, " << name << "!\\n";
        }
        """,
    )
    output = _Collector()
    session = RunSession("cpp", main, tmp_path, on_output=output)
    session.start()
    assert output.wait_for("Name? ", timeout=30)
    session.write_stdin("Ada\n")
    result = session.wait(timeout=10)
    assert result is not None
    assert result.stdout == "Name? Hello, Ada!\n" and result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.cpp"]  # built elsewhere


def test_cpp_compile_error_does_not_run(tmp_path: Path) -> None:
    """A C++ compile error is reported as compile_failed with g++'s message on stderr."""
    _need("cpp")
    main = _write(tmp_path, "main.cpp", "int main() {\n    return x;\n}\n")
    result = run_program("cpp", main, tmp_path)
    assert result.compile_failed
    assert "main.cpp:2:12: error" in result.stderr
    assert result.message.startswith("Your program did not compile")


def test_java_compiles_and_runs(tmp_path: Path) -> None:
    """Java is compiled with javac and run with java, reading its input."""
    _need("java")
    main = _write(
        tmp_path,
        "Main.java",
        """
        import java.util.Scanner;
        public class Main {
            public static void main(String[] args) {
                int n = new Scanner(System.in).nextInt();
                System.out.println("Twice: " + 2 * n);
            }
        }
        """,
    )
    result = run_program("java", main, tmp_path, stdin="21\n", time_limit_s=20)
    assert result.stdout == "Twice: 42\n", result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Main.java"]


def test_typescript_runs(tmp_path: Path) -> None:
    """TypeScript runs through tsc and node, or node's own type stripping."""
    _need("typescript")
    main = _write(tmp_path, "main.ts", "const n: number = 6 * 7;\nconsole.log(`n=${n}`);\n")
    result = run_program("typescript", main, tmp_path, time_limit_s=30)
    assert result.stdout == "n=42\n", result.stderr


def test_php_runs(tmp_path: Path) -> None:
    """PHP runs with the php interpreter."""
    _need("php")
    main = _write(tmp_path, "main.php", "<?php\necho 'n=' . (6 * 7) . \"\\n\";\n")
    assert run_program("php", main, tmp_path).stdout == "n=42\n"


def test_csharp_runs(tmp_path: Path) -> None:
    """C# is compiled and run (mcs and mono, or dotnet)."""
    _need("csharp")
    main = _write(
        tmp_path,
        "main.cs",
        'class P { static void Main() { System.Console.WriteLine("n=" + 6 * 7); } }\n',
    )
    result = run_program("csharp", main, tmp_path, time_limit_s=60)
    assert result.stdout.strip().endswith("n=42"), result.stderr


def test_stdout_and_stderr_keep_the_order_they_were_written(tmp_path: Path) -> None:
    """Output then an error then output again reach the panel in that order."""
    main = _write(
        tmp_path,
        "main.py",
        """
        import sys, time
        sys.stdout.write("first\\n"); time.sleep(0.05)
        sys.stderr.write("second\\n"); time.sleep(0.05)
        sys.stdout.write("third\\n")
        """,
    )
    seen: list[tuple[str, str]] = []
    session = RunSession("python", main, tmp_path, on_output=lambda s, t: seen.append((s, t)))
    session.start()
    assert session.wait(20) is not None
    assert [t.strip() for _s, t in seen] == ["first", "second", "third"]
    assert [s for s, _t in seen] == ["stdout", "stderr", "stdout"]


def test_learner_python_does_not_see_the_apps_packages(tmp_path: Path) -> None:
    """Learner code runs on the base Python, not the app's environment (no PySide6 there)."""
    import sys

    main = _write(tmp_path, "main.py", "import sys\nprint(sys.prefix)\n")
    result = run_program("python", main, tmp_path)
    assert result.exit_code == 0
    if sys.prefix != sys.base_prefix:  # the app runs in a virtual environment
        assert result.stdout.strip() != sys.prefix


def test_a_program_that_leaves_its_group_is_still_ended(tmp_path: Path, no_sandbox: None) -> None:
    """A grandchild that calls setsid() (escaping the process group) dies with the run."""
    pidfile = tmp_path / "escaped.pid"
    main = _write(
        tmp_path,
        "main.py",
        f"""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                open({str(pidfile)!r}, "w").write(str(os.getpid()))
                time.sleep(60)
            os._exit(0)
        time.sleep(60)
        """,
    )
    result = run_program("python", main, tmp_path, time_limit_s=1.5)
    assert result.timed_out
    escaped = int(pidfile.read_text())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.kill(escaped, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{escaped}/stat") as fh:  # a zombie is dead too
            if fh.read().split(")")[-1].split()[0] == "Z":
                break
        time.sleep(0.05)
    else:
        raise AssertionError("the escaped process is still running")


def test_waiting_for_typed_input_does_not_count_against_the_time_limit(tmp_path: Path) -> None:
    """With a person typing (Run), slow input is fine; a busy loop still hits the limit."""
    main = _write(tmp_path, "main.py", "name = input()\nprint('Hello', name)\n")
    session = RunSession("python", main, tmp_path, time_limit_s=1.0, wait_for_input=True)
    session.start()
    time.sleep(2.0)  # the learner takes longer than the limit to type
    session.write_stdin("Ada\n")
    result = session.wait(20)
    assert result is not None and result.exit_code == 0 and "Hello Ada" in result.stdout
    busy = _write(tmp_path, "busy.py", "while True:\n    pass\n")
    result = RunSession("python", busy, tmp_path, time_limit_s=1.0, wait_for_input=True)
    result.start()
    ended = result.wait(20)
    assert ended is not None and ended.timed_out and "longer than 1 s" in ended.message


def test_a_memory_hog_gets_an_error_not_the_whole_machine(tmp_path: Path) -> None:
    """A program asking for 3 GB fails with MemoryError instead of eating the memory."""
    main = _write(tmp_path, "main.py", "data = bytearray(3 * 1024**3)\nprint('got it')\n")
    result = run_program("python", main, tmp_path, time_limit_s=10)
    assert result.exit_code != 0
    assert "MemoryError" in result.stderr and "got it" not in result.stdout


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "no-sandbox"])
def test_shared_memory_cannot_go_past_the_memory_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandboxed: bool
) -> None:
    """MAP_SHARED memory, which the data cap does not count, is refused too (address space)."""
    from app.runner import sandbox

    if not sandboxed:
        monkeypatch.setattr(sandbox, "_tools", lambda: None)
    elif not sandbox.available():
        pytest.skip(f"No sandbox here: {sandbox.INSTALL_HINT}")
    main = _write(
        tmp_path,
        "main.py",
        """
        import mmap
        try:
            shared = mmap.mmap(-1, 6 * 1024**3, flags=mmap.MAP_SHARED)
            print("got it")
        except OSError as exc:
            print("refused", exc.errno)
        """,
    )
    result = run_program("python", main, tmp_path, time_limit_s=10)
    assert result.stdout.startswith("refused"), result.stdout + result.stderr
