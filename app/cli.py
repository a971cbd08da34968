"""The `codetutor` command: the GUI by default, plus doctor, bench, lessons check, models and
serve."""

from __future__ import annotations

import argparse
import ctypes.util
import os
import sys
import time

X11_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}
"""Libraries Qt's xcb plugin needs (Debian package names) that desktops may lack."""


def display_problem(env: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """A plain-words reason the GUI cannot start here, or None when it should.

    Qt would otherwise abort with a long plugin error on Linux desktops that lack a display
    or the libxcb-cursor0 library.
    """
    env = dict(os.environ) if env is None else env
    if not platform.startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith("xcb"):
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "Code Tutor needs a graphical desktop, and none was found (DISPLAY is not set). "
            "Start it from your desktop session, or over SSH use `ssh -X`."
        )
    x11_only = env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY")
    missing = [pkg for lib, pkg in X11_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    if x11_only and missing:
        return (
            "Code Tutor cannot open its window: your system lacks libraries that Qt needs on "
            f"X11: {', '.join(missing)}. Install them (Debian/Ubuntu: `sudo apt install "
            f"{' '.join(missing)}`; Fedora: `sudo dnf install xcb-util-cursor xcb-util-wm "
            "xcb-util-keysyms xcb-util-image xcb-util-renderutil libxkbcommon-x11`) and start "
            "again."
        )
    return None


def run_gui(args: argparse.Namespace) -> int:
    """Open the main window and load the model in the background."""
    started = time.perf_counter()
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_app, start_default_model
    from app.paths import resolve_paths
    from app.settings import load_settings

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Code Tutor")
    app.setOrganizationName("codetutor")
    paths = resolve_paths()
    folder_problems = paths.ensure()
    cli_settings = {"model.path": args.model} if args.model else {}
    if args.chat_format:
        cli_settings["model.chat_format"] = args.chat_format
    settings = load_settings(paths.site_config_file, paths.user_config_file, cli_settings)
    settings.problems[:0] = folder_problems
    parts = build_app(settings, data_dir=paths.data_dir)
    parts.window.show()
    if args.file:
        parts.window.document.open_path(args.file)
    else:
        parts.lessons.restore_last_lesson()
    if args.startup_probe:

        def report_idle() -> None:
            ms = (time.perf_counter() - started) * 1000
            print(f"READY {ms:.1f} {parts.window.windowTitle()}", flush=True)
            parts.window.close()

        QTimer.singleShot(0, report_idle)
    else:
        QTimer.singleShot(0, lambda: start_default_model(parts))
    parts.service.abandon_on_shutdown = True  # Quit never waits on a worker stuck in C
    code = 1
    try:
        code = app.exec()
    finally:
        finish_gui(parts, code)  # also on an error: never leave the worker thread running
    return code


def finish_gui(parts: object, code: int, timeout_ms: int = 500) -> None:
    """End the worker thread; if it is stuck in C (a model load), end the process at once.

    The learner's code is already saved by then (the window saves when it closes). Python's
    normal exit would wait for, or abort on, the running thread.
    """
    if not parts.service.shutdown(timeout_ms=timeout_ms):  # type: ignore[attr-defined]
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_doctor(args: argparse.Namespace) -> int:
    """Print the health report; non-zero exit when something is wrong."""
    from app.doctor import doctor

    return doctor(sys.stdout, model=args.model)


def run_bench(args: argparse.Namespace) -> int:
    """Run the benchmark and print its figures (with --server: the classroom load test)."""
    if args.server:
        from app.bench_server import main as load_main

        return load_main(args)
    from app.bench import main as bench_main

    return bench_main(args)


def run_lessons_check(args: argparse.Namespace) -> int:
    """Validate lesson courses; exit 1 when any has an error."""
    from app.runner.lessons_check import check_main

    return check_main(args.paths, sys.stdout)


def run_models(args: argparse.Namespace) -> int:
    """List, download, verify, remove or add models."""
    from app.models_cli import run_models as models_main

    return models_main(args)


def run_serve(args: argparse.Namespace) -> int:
    """Serve one model to a classroom until Ctrl+C."""
    from app.serve import run_serve as serve_main

    return serve_main(args)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    from app import __version__

    parser = argparse.ArgumentParser(prog="codetutor", description="Code Tutor")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")
    gui = sub.add_parser("gui", help="open the app (the default: `codetutor [FILE]`)")
    gui.add_argument("file", nargs="?", help="a source file to open")
    gui.add_argument("--model", help="a GGUF model file to use instead of the configured one")
    gui.add_argument("--chat-format", help='chat format, e.g. "llama-2" for Code Llama')
    gui.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    doc = sub.add_parser("doctor", help="check this installation and measure the model")
    doc.add_argument("--model", help="a GGUF file to check (default: the configured model)")
    bench = sub.add_parser("bench", help="measure speed: app vs raw llama.cpp")
    bench.add_argument("--json", action="store_true", help="print JSON only")
    bench.add_argument("--tokens", type=int, default=512, help="tokens per run (512)")
    bench.add_argument("--model", help="a GGUF file (default: the starter model)")
    load = bench.add_argument_group(
        "classroom load (--server)",
        "Simulated learners typing, asking and reading replies on one server.",
    )
    load.add_argument(
        "--server",
        action="append",
        metavar="URL|ENGINE",
        help="a server's API address (http://lab-gpu.local:8080/v1), or llama-server or "
        "llama-cpp-python to start one here on the starter model; repeat to compare",
    )
    load.add_argument("--learners", default="1,8,30", help="learner counts to run (1,8,30)")
    load.add_argument("--seconds", type=float, default=60.0, help="seconds per run (60)")
    load.add_argument("--parallel", type=int, default=8, help="llama-server's slots (8)")
    load.add_argument("--server-model", help="the model to ask a server for (its first)")
    load.add_argument("--api-key-file", help="a file with the server's API key")
    lessons = sub.add_parser("lessons", help="work with lesson courses")
    lsub = lessons.add_subparsers(dest="lessons_command", required=True)
    check = lsub.add_parser("check", help="validate courses (default: the built-in ones)")
    check.add_argument("paths", nargs="*", help="course or lesson folders")
    from app.models_cli import add_parser as add_models_parser

    add_models_parser(sub)
    from app.serve import add_parser as add_serve_parser

    add_serve_parser(sub)
    return parser


COMMANDS = ("gui", "doctor", "bench", "lessons", "models", "serve")


def with_command(argv: list[str]) -> list[str]:
    """`argv` with "gui" put first when it names no command, so `codetutor`, `codetutor
    main.py` and `codetutor --model m.gguf` open the app."""
    if set(argv) & {"-h", "--help", "--version"} and not set(argv) & set(COMMANDS):
        return argv
    values = {"--model", "--chat-format"}  # options followed by their value
    words = [
        a
        for i, a in enumerate(argv)
        if not a.startswith("-") and argv[i - 1 : i] not in ([v] for v in values)
    ]
    if words and words[0] in COMMANDS:
        return argv
    return ["gui", *argv]


def main(argv: list[str] | None = None) -> int:
    """Entry point of `codetutor` and `python -m app`."""
    args = build_parser().parse_args(with_command(sys.argv[1:] if argv is None else argv))
    if args.command == "doctor":
        return run_doctor(args)
    if args.command == "bench":
        return run_bench(args)
    if args.command == "lessons":
        return run_lessons_check(args)
    if args.command == "models":
        return run_models(args)
    if args.command == "serve":
        return run_serve(args)
    return run_gui(args)
