"""`codetutor serve`: one model behind an OpenAI-compatible server for a classroom.

llama.cpp's llama-server (`make llama-server`) answers several learners at once, one slot each;
llama-cpp-python's own server (`python -m llama_cpp.server`) is the fallback, and answers one
request at a time. This module finds an engine, builds its command line, starts the child,
waits until it answers, and stops it. The learners' apps reach it through the site-wide
settings' `[server]` table, whose lines it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import importlib.util
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from app.core.models import ModelSpec
from app.paths import PROJECT_ROOT

ENGINES = ("llama-server", "llama-cpp-python")
"""The servers `codetutor serve` can run, best first."""

LLAMA_SERVER_ENV = "CODETUTOR_LLAMA_SERVER"
"""The environment variable that may name the llama-server binary."""

BUILT_LLAMA_SERVER = Path(".tools/llama-server/bin/llama-server")
"""Where `make llama-server` puts the binary, under the project's folder."""

STARTER_ALIAS = "smollm2-135m-instruct"
"""The model name the starter model is served under."""

SERVER_MODULES = (
    "uvicorn",
    "fastapi",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
    "llama_cpp",
)
"""What `python -m llama_cpp.server` imports."""

CHAT_TEMPLATES = {"llama-2": "llama2"}
"""llama-cpp-python chat formats -> llama-server's built-in template names."""

CHILD_ENV_DROPPED = ("HOST", "PORT", "CONFIG_FILE")
"""Variables llama-cpp-python's server would take over its command line."""

STOP_GRACE_S = 5.0
"""How long a server may take to end after SIGTERM before it is killed."""


class ServeError(Exception):
    """The server cannot be started or stopped; `str()` says why, for the lab's admin."""


@dataclass(frozen=True)
class ServeOptions:
    """What to serve and how.

    Attributes:
        model_path: the GGUF file.
        alias: the model name clients send and see in `/v1/models`.
        host: the address to listen on; 127.0.0.1 reaches this computer only.
        port: the TCP port.
        parallel: llama-server's slots (requests answered together).
        n_ctx: context length per slot, in tokens.
        api_key: the key clients must send as a bearer token; None: no key.
        engine: "auto" or one of ENGINES.
        threads: CPU threads for generation; None: the engine's default.
        chat_format: llama-cpp-python's chat format ("llama-2" for Code Llama - Instruct);
            None: the file's own template.
        gpu_layers: layers offloaded to the GPU: -1 all (a build without GPU support runs
            on the CPU and says so in its log), 0 none.
    """

    model_path: Path
    alias: str
    host: str = "127.0.0.1"
    port: int = 8080
    parallel: int = 8
    n_ctx: int = 4096
    api_key: str | None = None
    engine: str = "auto"
    threads: int | None = None
    chat_format: str | None = None
    gpu_layers: int = -1


def _executable(path: str | os.PathLike[str] | None) -> Path | None:
    if not path:
        return None
    p = Path(path).expanduser()
    return p if p.is_file() and os.access(p, os.X_OK) else None


def find_llama_server() -> Path | None:
    """The llama-server binary: $CODETUTOR_LLAMA_SERVER, else `llama-server` on PATH, else the
    one `make llama-server` built. None when none is an executable file."""
    return (
        _executable(os.environ.get(LLAMA_SERVER_ENV))
        or _executable(shutil.which("llama-server"))
        or _executable(PROJECT_ROOT / BUILT_LLAMA_SERVER)
    )


def llama_cpp_server_available() -> str | None:
    """None when `python -m llama_cpp.server` can run here, else what to install."""
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return (
        f"llama-cpp-python's server cannot run: {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not installed. Install them with "
        "`pip install 'codetutor[server]'`."
    )


ONE_AT_A_TIME = (
    "llama-cpp-python's server answers one request at a time (the others wait their turn) — "
    "for a lab, build llama-server."
)


def choose_engine(engine: str) -> tuple[str, str | None]:
    """The engine to run for `engine` ("auto" or one of ENGINES), and a note for the admin.

    Raises:
        ServeError: the engine asked for is not here (or, for "auto", neither is).
    """
    if engine not in ("auto", *ENGINES):
        raise ServeError(f"No engine called “{engine}”: choose auto, {' or '.join(ENGINES)}.")
    if engine in ("auto", "llama-server") and find_llama_server() is not None:
        return "llama-server", None
    if engine == "llama-server":
        raise ServeError(
            "llama-server was not found: build it with `make llama-server` (a few minutes), "
            f"put it on PATH, or set {LLAMA_SERVER_ENV} to its path."
        )
    problem = llama_cpp_server_available()
    if problem:
        if engine == "auto":
            problem = (
                f"llama-server was not found (build it with `make llama-server`), and {problem}"
            )
        raise ServeError(problem)
    if engine == "auto":
        return "llama-cpp-python", (
            "llama-server was not found (build it with `make llama-server`): using " + ONE_AT_A_TIME
        )
    return "llama-cpp-python", ONE_AT_A_TIME


@functools.lru_cache(maxsize=8)
def _flags(binary: str) -> frozenset[str]:
    """The long options `binary --help` lists (none when it cannot say)."""
    try:
        done = subprocess.run(
            [binary, "--help"], capture_output=True, text=True, errors="replace", timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(re.findall(r"--[\w-]+", done.stdout + done.stderr))


def server_command(options: ServeOptions, engine: str) -> list[str]:
    """The command line that serves `options` with `engine` (one of ENGINES).

    The API key is not in it (the process list shows every command line to every user of
    the machine): `server_env` passes it.

    Raises:
        ServeError: llama-server is asked for and not found, or the engine is unknown.
    """
    o = options
    if engine == "llama-server":
        binary = find_llama_server()
        if binary is None:
            raise ServeError("llama-server was not found: build it with `make llama-server`.")
        cmd = [str(binary), "-m", str(o.model_path), "--alias", o.alias]
        cmd += ["--host", o.host, "--port", str(o.port), "-np", str(o.parallel)]
        cmd += ["-c", str(o.n_ctx * o.parallel)]  # the total, split across the slots
        flags = _flags(str(binary))  # the learners use the app, not llama.cpp's web page:
        cmd += [f for f in ("--no-ui", "--no-webui") if f in flags][:1]  # new name, else old
        if o.chat_format:
            cmd += ["--chat-template", CHAT_TEMPLATES.get(o.chat_format, o.chat_format)]
        if o.threads:
            cmd += ["-t", str(o.threads)]
        if o.gpu_layers:
            cmd += ["-ngl", str(999 if o.gpu_layers < 0 else o.gpu_layers)]
        return cmd
    if engine == "llama-cpp-python":
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(o.model_path)]
        cmd += ["--model_alias", o.alias, "--host", o.host, "--port", str(o.port)]
        cmd += ["--n_ctx", str(o.n_ctx)]
        cmd += ["--interrupt_requests", "False"]  # a new request waits; it never cuts one off
        if o.chat_format:
            cmd += ["--chat_format", o.chat_format]
        if o.threads:
            cmd += ["--n_threads", str(o.threads), "--n_threads_batch", str(o.threads)]
        if o.gpu_layers:
            cmd += ["--n_gpu_layers", str(o.gpu_layers)]
        return cmd
    raise ServeError(f"No engine called “{engine}”: choose {' or '.join(ENGINES)}.")


def server_env(
    options: ServeOptions, engine: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The child's environment: `base` (default: this process's) with the API key, which
    each engine reads from there (llama-server: LLAMA_API_KEY; llama-cpp-python's settings:
    API_KEY), and without what would override the command line."""
    env = dict(os.environ if base is None else base)
    if engine == "llama-cpp-python":
        for name in CHILD_ENV_DROPPED:
            env.pop(name, None)
        env["PYTHONUNBUFFERED"] = "1"
    for name in ("LLAMA_API_KEY", "API_KEY"):
        env.pop(name, None)  # a key of the admin's shell is not this server's
    if options.api_key:
        env["LLAMA_API_KEY" if engine == "llama-server" else "API_KEY"] = options.api_key
    return env


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this computer only (127.x, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _client_host(host: str) -> str:
    """The address this computer reaches a server listening on `host` at."""
    text = host.strip("[]")
    if text in ("", "0.0.0.0", "localhost"):
        return "127.0.0.1"
    if text == "::":
        return "[::1]"
    return f"[{text}]" if ":" in text else text


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host.strip("[]"), 0))
        return int(sock.getsockname()[1])


def port_problem(host: str, port: int) -> str | None:
    """None when a server could listen on `host`:`port`, else why not, in words."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        if os.name == "posix":  # as the servers do: a recent connection's TIME_WAIT is no user
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} is in use on {host} (another server, or `codetutor serve` "
                    "running already): stop it, or choose another port with --port."
                )
            if exc.errno == errno.EACCES:
                return f"Port {port} needs administrator rights: choose one above 1023 with --port."
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this computer: check --host."
            return f"Cannot listen on {host}:{port}: {exc.strerror or exc}."
    return None


def site_config_line(url: str, alias: str, has_key: bool = False, key_file: str = "") -> str:
    """The TOML for the lab's site-wide settings file that points the learners' apps at the
    server (and, when it has a key, says where theirs goes: `key_file` when the admin gave
    one, which the learners' machines must be able to read)."""
    from app.core.server import API_KEY_ENV

    lines = ["[server]", f"url = {json.dumps(url)}", f"model = {json.dumps(alias)}"]
    if key_file:
        path = str(Path(key_file).expanduser().absolute())
        lines.append(f"api_key_file = {json.dumps(path)}  # readable by the learners")
    elif has_key:
        lines.append(
            '# the key: api_key_file = "/path/to/a/file/holding/it" here, or the environment '
            f"variable {API_KEY_ENV}"
        )
    return "\n".join(lines)


class ServerProcess:
    """A running server child: started, waited on until it answers, stopped.

    `ServerProcess.start(options, engine)` returns it ready; `ServerProcess(options, engine)`
    starts when entered as a context manager. Leaving the `with` block stops it.
    """

    def __init__(
        self,
        options: ServeOptions,
        engine: str,
        *,
        log_path: Path | None = None,
        ready_timeout_s: float = 120.0,
    ) -> None:
        self.options = options
        self._engine = engine
        self.log_path = log_path
        self.ready_timeout_s = ready_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @classmethod
    def start(
        cls,
        options: ServeOptions,
        engine: str,
        *,
        log_path: Path | None = None,
        ready_timeout_s: float = 120.0,
    ) -> ServerProcess:
        """Start `engine` on `options` and return once `GET /v1/models` answers 200.

        Args:
            options: what to serve.
            engine: one of ENGINES.
            log_path: the file for the child's output; None: a temporary file (its last
                lines still go into a ServeError).
            ready_timeout_s: how long loading may take.

        Raises:
            ServeError: the child could not start, ended, or did not answer in time.
        """
        server = cls(options, engine, log_path=log_path, ready_timeout_s=ready_timeout_s)
        server.launch()
        return server

    # --- what callers read -------------------------------------------------------------

    @property
    def engine(self) -> str:
        """The engine running (one of ENGINES)."""
        return self._engine

    @property
    def url(self) -> str:
        """The base URL an OpenAI client uses from this computer, e.g.
        "http://127.0.0.1:8080/v1"."""
        return f"http://{_client_host(self.options.host)}:{self.options.port}/v1"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The child process (ServeError before it was started)."""
        if self._process is None:
            raise ServeError("The server has not been started.")
        return self._process

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    def log_tail(self, lines: int = 15) -> str:
        """The last `lines` lines the child wrote, the API key blanked out."""
        if self._log is not None and not self._log.closed:
            fd = self._log.fileno()
            size = os.fstat(fd).st_size
            data = os.pread(fd, min(size, 65536), max(0, size - 65536))
        elif self.log_path is not None and self.log_path.is_file():
            data = self.log_path.read_bytes()[-65536:]
        else:
            return ""
        text = "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
        key = self.options.api_key
        return text.replace(key, "<api key>") if key else text

    # --- life cycle --------------------------------------------------------------------

    def launch(self) -> None:
        """Start the child and wait until it answers (see `start`)."""
        if self._process is not None:
            raise ServeError("This server was started already.")
        command = server_command(self.options, self._engine)
        env = server_env(self.options, self._engine, os.environ)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "w+b")  # noqa: SIM115 - closed by stop()
        else:
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=os.name == "posix",  # Ctrl+C reaches us; we stop it
            )
        except OSError as exc:
            self._log.close()
            raise ServeError(f"Could not start {self._engine}: {exc.strerror or exc}.") from exc
        try:
            self._wait_ready()
        except BaseException:  # also Ctrl+C while the model loads: never leave it running
            self.stop()
            raise

    def _wait_ready(self) -> None:
        import httpx

        key = self.options.api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        deadline = time.monotonic() + self.ready_timeout_s
        with httpx.Client(trust_env=False, timeout=2.0) as client:  # no proxy for our own child
            while True:
                code = self.process.poll()
                if code is not None:
                    raise ServeError(
                        f"{self._engine} ended (exit code {code}) before it answered. "
                        f"Its last lines:\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/models", headers=headers).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ServeError(
                        f"{self._engine} did not answer within {self.ready_timeout_s:.0f} s. "
                        f"Its last lines:\n{self.log_tail()}"
                    )
                time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM, grace_s: float = STOP_GRACE_S) -> int | None:
        """End the child (`sig`, then SIGKILL after `grace_s`) and wait for it; returns its
        exit code (None if it never started). Safe to call twice."""
        proc = self._process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
        return None if proc is None else proc.returncode

    def kill(self) -> int | None:
        """End the child at once (SIGKILL), as a crash would, and wait for it."""
        return self.stop(getattr(signal, "SIGKILL", signal.SIGTERM))  # Windows: terminate

    def __enter__(self) -> ServerProcess:
        if self._process is None:
            self.launch()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


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


@contextlib.contextmanager
def _stop_signals() -> Any:
    """SIGTERM and SIGHUP (a service manager, a closed terminal) stop the server the way
    Ctrl+C does, instead of leaving it running without us."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    saved = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                sig = getattr(signal, name)
                saved[sig] = signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


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
    with _stop_signals():
        try:
            server = ServerProcess.start(options, engine, log_path=log_path, ready_timeout_s=600)
        except ServeError as exc:
            print(exc, file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("Stopped before the model was loaded.")
            return 0
        _print_ready(server, alias, key is not None, args.api_key_file or "")
        try:
            code = server.process.wait()
        except KeyboardInterrupt:
            server.stop(signal.SIGINT)
            print("Stopped.")
            return 0
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
