"""The model check: before a model is first used with a llama.cpp build and a setting, a child
process loads it and decodes a few tokens, so that a native crash or a hang never reaches the
app. Outcomes are cached per (build, model file, setting); the fallback chain and the words
come from `app.core.preflight`.

Runs on the LLM worker thread (it blocks while a child runs); `abort()` may be called from
any thread and ends the child at once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from app.core.models import ModelSpec
from app.core.preflight import (
    InferenceMarker,
    ProbeCache,
    ProbeOutcome,
    RunSettings,
    cache_key,
    crash_message,
    fallback_message,
    file_identity,
)

CACHE_FILE = "model-checks.json"
PHASE_WORDS = {
    "start": "starting",
    "load": "loading the model",
    "decode": "decoding",
    "template": "rendering the model's chat template",
}
MARKER_FILE = "inference-running.json"


def build_identity() -> str:
    """Which llama.cpp build is installed, without importing it: llama-cpp-python's version and
    the size and time of each of its native libraries (a rebuild changes them)."""
    try:
        version = metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        version = "unknown"
    parts = [version]
    found = importlib.util.find_spec("llama_cpp")
    if found is not None and found.submodule_search_locations:
        lib = Path(next(iter(found.submodule_search_locations))) / "lib"
        try:
            for path in sorted(lib.iterdir()):
                st = path.stat()
                parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            pass
    return "|".join(parts)


def default_timeout_s(path: Path) -> float:
    """How long a check may take: a minute, plus half a minute per GB of model."""
    try:
        size_gb = path.stat().st_size / 1e9
    except OSError:
        size_gb = 0.0
    return 60.0 + 30.0 * size_gb


def signal_name(returncode: int) -> str:
    """The signal's name ("SIGSEGV") for a child that died by it (returncode -11)."""
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


@dataclass
class PreflightResult:
    """What the check chose.

    Attributes:
        settings: the setting to load with; None when every one failed.
        outcome: that setting's outcome (speed measured).
        tried: every setting looked at, in order, with its outcome (cached or new).
        probed: how many child processes ran this time.
        message: what to tell the learner, or None when the first choice simply worked.
    """

    settings: RunSettings | None
    outcome: ProbeOutcome | None
    tried: list[tuple[RunSettings, ProbeOutcome]] = field(default_factory=list)
    probed: int = 0
    message: str | None = None


class Preflight:
    """Checks models in a child process and remembers the outcomes.

    Args:
        cache_dir: where the cache and the crash marker live.
        timeout_s: a check's time limit (default: from the model's size).
        python: the interpreter for the child (default: this one).
        env: extra environment for the child.
    """

    def __init__(
        self,
        cache_dir: Path,
        timeout_s: float | None = None,
        python: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.cache = ProbeCache(cache_dir / CACHE_FILE)
        self.marker = InferenceMarker(cache_dir / MARKER_FILE)
        self._timeout_s = timeout_s
        self._python = python or sys.executable
        self._env = env or {}
        self._build = build_identity()
        self._proc: subprocess.Popen[str] | None = None
        self._aborted = threading.Event()
        self._lock = threading.Lock()
        self._marker_read = False

    @property
    def build(self) -> str:
        """This llama.cpp build's identity (part of every cache key)."""
        return self._build

    def marker_record(self, spec: ModelSpec, settings: RunSettings, phase: str) -> dict:
        """What the crash marker says while `spec` computes with `settings`."""
        return {
            "build": self._build,
            "model": _model_id(spec),
            "model_name": spec.display_name,
            "n_ctx": spec.n_ctx,
            "settings": settings.key,
            "phase": phase,
        }

    def abort(self) -> None:
        """Any thread: end the running check now and refuse later ones (the app is quitting)."""
        with self._lock:
            self._aborted.set()
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def run_probe(
        self,
        spec: ModelSpec,
        settings: RunSettings,
        *,
        tokens: int = 8,
        prompt_tokens: int = 64,
        timeout_s: float | None = None,
    ) -> ProbeOutcome:
        """Check one setting in a child process (no cache)."""
        args = [
            self._python,
            "-m",
            "app.llm.probe_child",
            "--model",
            str(spec.path),
            "--n-ctx",
            str(spec.n_ctx),
            "--chat-format",
            spec.chat_format or "",
            "--gpu-layers",
            str(settings.gpu_layers),
            "--extra-bufts",
            str(int(settings.extra_bufts)),
            "--tokens",
            str(tokens),
            "--prompt-tokens",
            str(prompt_tokens),
        ]
        limit = timeout_s or self._timeout_s or default_timeout_s(spec.path)
        try:
            with self._lock:  # abort() either sees this child or stops it from starting
                if self._aborted.is_set():
                    return ProbeOutcome("cancelled", "the app is quitting")
                self._proc = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=dict(os.environ, **self._env),
                    start_new_session=True,
                )
        except OSError as exc:
            return ProbeOutcome("unavailable", f"{exc.strerror or exc}: {self._python}")
        proc = self._proc
        hung = False
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            hung = True
            proc.kill()
            out, err = proc.communicate()
        finally:
            self._proc = None
        if self._aborted.is_set():
            return ProbeOutcome("cancelled", "the app is quitting")
        lines = out.splitlines()
        phases = [line[6:] for line in lines if line.startswith("PHASE ")]
        phase = phases[-1] if phases else "start"
        where = PHASE_WORDS.get(phase, phase)
        if hung:
            return ProbeOutcome("hung", f"{limit:.0f} s ({where})", phase=phase)
        if proc.returncode < 0:
            return ProbeOutcome(
                "crashed", f"{signal_name(proc.returncode)} while {where}", phase=phase
            )
        try:
            report = json.loads(next(line for line in reversed(lines) if line.startswith("{")))
        except (StopIteration, ValueError):
            tail = (err.strip().splitlines() or ["no output"])[-1]
            return ProbeOutcome(
                "error", f"the check stopped with exit code {proc.returncode}: {tail}"
            )
        if not report.get("ok"):
            error = str(report.get("error", "unknown error"))
            return ProbeOutcome("error", error, phase=str(report.get("phase", phase)))
        return ProbeOutcome(
            "ok",
            tokens_per_s=float(report.get("tokens_per_s", 0.0)),
            prompt_tokens_per_s=float(report.get("prompt_tokens_per_s", 0.0)),
            facts=dict(report.get("facts") or {}),
        )

    def choose(
        self,
        spec: ModelSpec,
        chain: Sequence[RunSettings],
        total_layers: int = 0,
        amx: bool = False,
        on_checking: Callable[[], None] | None = None,
    ) -> PreflightResult:
        """Walk `chain` until a setting works, using cached outcomes where there are some.

        A crash of the app itself during inference (the marker an earlier run left) counts as
        a failure of the setting it ran with.
        """
        model = _model_id(spec)
        keys = {s: cache_key(self._build, model, spec.n_ctx, s) for s in chain}
        notes: list[str] = []
        record = None if self._marker_read else self.marker.take()  # left by a crashed run
        self._marker_read = True
        if record is not None:
            notes.append(crash_message(record))
            try:
                crashed = RunSettings.from_key(str(record.get("settings", "")))
                key = cache_key(
                    str(record.get("build")),
                    str(record.get("model")),
                    int(record["n_ctx"]),
                    crashed,
                )
                self.cache.put(key, ProbeOutcome("app-crashed", "the app crashed"))
            except (KeyError, TypeError, ValueError):
                pass
        result = PreflightResult(None, None)
        for settings in chain:
            outcome = self.cache.get(keys[settings])
            if outcome is None:
                if on_checking is not None:
                    on_checking()
                outcome = self.run_probe(spec, settings)
                result.probed += 1
                if outcome.status == "cancelled":
                    result.tried.append((settings, outcome))
                    return result
                if outcome.status == "unavailable":
                    return self._unchecked(result, chain, outcome, notes)
                if outcome.status != "error":  # errors (e.g. GPU memory) may pass next time
                    self.cache.put(keys[settings], outcome)
            result.tried.append((settings, outcome))
            if outcome.phase == "template" and not outcome.ok:
                break  # the file's chat template is at fault: no setting changes that
            if outcome.ok:
                result.settings, result.outcome = settings, outcome
                break
        if result.settings is None:
            app_crashed = [s for s, o in result.tried if o.status == "app-crashed"]
            if app_crashed:  # nothing safer is left: use what ran before, and say so
                result.settings, result.outcome = app_crashed[-1], ProbeOutcome("ok")
                notes.append(
                    "No safer setting is left; if it closes again, run `codetutor doctor`."
                )
        elif result.probed or record is not None:
            said = fallback_message(
                result.tried, result.settings, result.outcome, total_layers, amx
            )
            if said:
                notes.append(said)
        result.message = " ".join(notes) or None
        return result

    def _unchecked(
        self,
        result: PreflightResult,
        chain: Sequence[RunSettings],
        outcome: ProbeOutcome,
        notes: list[str],
    ) -> PreflightResult:
        """The check could not run: use the safest setting, unchecked, and say so."""
        safest = chain[-1]
        result.tried.append((safest, outcome))
        result.settings, result.outcome = safest, ProbeOutcome("ok")
        notes.append(
            f"The model check could not start ({outcome.detail}). Code Tutor runs the model in "
            f"its safest setting ({safest.describe()}) without checking it first."
        )
        result.message = " ".join(notes)
        return result


def _model_id(spec: ModelSpec) -> str:
    """The model part of a cache key: the file, and the chat format asked for (a template
    that hangs is the file's; another chat format avoids it)."""
    return f"{file_identity(spec.path)}|{spec.chat_format or ''}"
