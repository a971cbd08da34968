"""`codetutor serve`: one model behind an OpenAI-compatible server for a classroom.

It resolves the model (a catalog id, a .gguf file, or the starter), checks the host, the port
and the key, starts the engine (`app.serve_process`), and prints the URL and the lines of the
site-wide settings' `[server]` table that point the learners' apps at it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from app.core.models import ModelSpec
from app.serve_process import (
    ENGINES,
    STARTER_ALIAS,
    ServeError,
    ServeOptions,
    ServerProcess,
    choose_engine,
    is_loopback,
    port_problem,
    site_config_line,
    stop_signals,
)

# --- `codetutor serve` ------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `serve` to the `codetutor` parser."""
    serve = sub.add_parser(
        "serve",
        help="serve one model to a classroom (an OpenAI-compatible server)",
        description="Serve one model to the learners' apps over an OpenAI-compatible API.",
    )
    serve.add_argument(
        "model",
        nargs="?",
        help="a model id (codellama-7b-instruct) or a .gguf file (default: the starter model)",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (127.0.0.1: this computer only; 0.0.0.0: the whole network, "
        "which needs an API key)",
    )
    for flag, low, high, default, words in (
        ("--port", 1, 65535, 8080, "TCP port (8080)"),
        ("--parallel", 1, 256, 8, "learners answered at once, by llama-server (8)"),
        ("--n-ctx", 256, 1 << 20, 4096, "tokens of context per learner (4096)"),
        ("--threads", 1, 1024, None, "CPU threads (the engine's default)"),
        ("--gpu-layers", -1, 100_000, -1, "layers on the GPU: -1 all, 0 none (-1)"),
    ):
        serve.add_argument(flag, metavar="N", type=_int_in(low, high), default=default, help=words)
    keys = serve.add_mutually_exclusive_group()
    keys.add_argument("--api-key-file", metavar="FILE", help="a file holding the clients' key")
    keys.add_argument(
        "--api-key", metavar="KEY", help="the key (shows in this command's process list)"
    )
    serve.add_argument("--engine", choices=("auto", *ENGINES), default="auto", help="(auto)")


def _int_in(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"“{text}” is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


def _api_key(args: argparse.Namespace) -> str | None:
    if args.api_key is not None:
        if not args.api_key.strip():
            raise ServeError("--api-key is empty: give a key, or leave the option out.")
        return args.api_key.strip()
    if args.api_key_file is None:
        return None
    from app.core.server import ServerConfigError, read_api_key

    if not args.api_key_file.strip():
        raise ServeError("--api-key-file needs the path of a file holding the key.")
    try:
        return read_api_key(args.api_key_file)
    except ServerConfigError as exc:
        raise ServeError(str(exc)) from exc


def resolve_model(name: str | None, n_ctx: int) -> tuple[ModelSpec, str]:
    """The spec of the model to serve and the name to serve it under: the starter model for
    None, a .gguf file's path, or an installed catalog model's id.

    Raises:
        ServeError: no such file or model, the model is not downloaded, or not a GGUF file.
    """
    from dataclasses import replace

    from app.core.gguf import ModelFileError, inspect_gguf
    from app.core.models import StarterModelMissingError, spec_for_file, starter_model_spec

    if not name:
        try:
            spec, alias = replace(starter_model_spec(), n_ctx=n_ctx), STARTER_ALIAS
        except StarterModelMissingError as exc:
            raise ServeError(str(exc)) from exc
    elif name.lower().endswith(".gguf") or os.sep in name or Path(name).exists():
        path = Path(name).expanduser()
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise ServeError(f"The model file “{path}” {what}.")
        spec, alias = spec_for_file(path, n_ctx=n_ctx), path.stem
    else:
        from app.models_cli import open_store

        store = open_store()
        entry = store.find(name)
        if entry is None:
            names = ", ".join(e.model_id for e in store.catalog.entries if e.is_default)
            raise ServeError(f"No model called “{name}”. Models: {names}; or give a .gguf file.")
        path = store.library.ready_path(entry)
        if path is None:
            status = store.library.status(entry).words()
            raise ServeError(
                f"{entry.display_name} is not ready on this computer ({status}): "
                f"`codetutor models download {entry.model_id if entry.is_default else entry.id}` "
                "first."
            )
        spec = entry.spec(path, n_ctx)
        alias = STARTER_ALIAS if entry.is_starter else entry.model_id
    try:
        inspect_gguf(spec.path)
    except ModelFileError as exc:
        raise ServeError(str(exc)) from exc
    return spec, alias


def _log_path(port: int) -> Path | None:
    from app.paths import resolve_paths

    folder = resolve_paths().cache_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder / f"serve-{port}.log"


def run_serve(args: argparse.Namespace) -> int:
    """Run `codetutor serve` until Ctrl+C (exit 0) or until the server dies (its exit code).

    Returns 2 when nothing was started: a bad option, no model, no engine, the port taken.
    """
    try:
        key = _api_key(args)
    except ServeError as exc:
        print(exc, file=sys.stderr)
        return 2
    host = args.host.strip()
    if not is_loopback(host):
        if not key:
            print(
                f"--host {host} would let every computer on the network use this server: give "
                "it a key with --api-key-file FILE (a file holding one line, the key), and the "
                "learners' machines the same key.",
                file=sys.stderr,
            )
            return 2
        print(
            f"Warning: with --host {host} every computer that can reach this one can reach the "
            "server; only those sending the API key get answers."
        )
    try:
        spec, alias = resolve_model(args.model, args.n_ctx)
        engine, note = choose_engine(args.engine)
    except ServeError as exc:
        print(exc, file=sys.stderr)
        return 2
    problem = port_problem(host, args.port)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    options = ServeOptions(
        model_path=spec.path,
        alias=alias,
        host=host,
        port=args.port,
        parallel=args.parallel,
        n_ctx=spec.n_ctx,
        api_key=key,
        engine=engine,
        threads=args.threads,
        chat_format=spec.chat_format,
        gpu_layers=args.gpu_layers,
    )
    at_once = f"{options.parallel} learners" if engine == "llama-server" else "one request"
    print(f"Engine: {engine} ({at_once} at a time, {options.n_ctx:,} tokens each).")
    if note:
        print(f"Note: {note}")
    log_path = _log_path(options.port)
    print(f"Loading {spec.display_name} as “{alias}”… (log: {log_path or 'none'})")
    with stop_signals():
        try:
            server = ServerProcess.start(options, engine, log_path=log_path, ready_timeout_s=600)
        except ServeError as exc:
            print(exc, file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("Stopped before the model was loaded.")
            return 0
        try:
            _print_ready(server, alias, key is not None, args.api_key_file or "")
            code = server.process.wait()
        except KeyboardInterrupt:
            server.stop(signal.SIGINT)
            print("Stopped.")
            return 0
        finally:
            if server.process.poll() is None:  # any other way out: never leave it running
                server.stop()
    tail = server.log_tail()
    server.stop()
    print(f"{engine} ended (exit code {code}). Its last lines:\n{tail}", file=sys.stderr)
    return code if code >= 0 else 128 - code  # killed by signal N: 128 + N, as a shell says


def _print_ready(server: ServerProcess, alias: str, has_key: bool, key_file: str = "") -> None:
    host, port = server.options.host, server.options.port
    if host in ("0.0.0.0", "::"):
        url = f"http://{socket.gethostname()}:{port}/v1"
        print(f"Serving on every address of this computer. Learners' machines use {url}")
        print("(this computer's name; its IP address works too).")
    else:
        url = server.url
        print(f"Serving at {url}")
        if is_loopback(host):
            print("Only this computer can reach it: --host 0.0.0.0 with a key opens it to the lab.")
    from app.paths import resolve_paths

    where = resolve_paths().site_config_file
    print(f"\nOn each learner's machine, put these lines in the site-wide settings ({where} here):")
    print(site_config_line(url, alias, has_key, key_file))
    print("\nPress Ctrl+C to stop.", flush=True)
