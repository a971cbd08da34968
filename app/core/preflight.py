"""The crash-safe model check, as plain decisions: which settings to try and in what order,
what each try came to, the cache of outcomes, the crash marker, and the words a learner reads.

Running the check (a child process) is `app.llm.preflight`'s job; nothing here starts a
process or imports llama.cpp.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.atomic import atomic_write_text

CACHE_FORMAT = 1


@dataclass(frozen=True)
class RunSettings:
    """How llama.cpp runs a model.

    Attributes:
        gpu_layers: layers offloaded to the GPU; -1 means all of them, 0 the CPU only.
        extra_bufts: llama.cpp's extra CPU buffer types (the AMX kernels and the weight
            repacking that speeds up Q4_0/Q4_K models on the CPU).
    """

    gpu_layers: int = 0
    extra_bufts: bool = True

    @property
    def key(self) -> str:
        """A stable short name, e.g. "gpu=-1,bufts=1"."""
        return f"gpu={self.gpu_layers},bufts={int(self.extra_bufts)}"

    def describe(self, total_layers: int = 0) -> str:
        """Plain words: "all layers on the GPU", "the CPU, without the extra CPU kernels"."""
        if self.gpu_layers < 0 or (total_layers and self.gpu_layers >= total_layers):
            where = "all layers on the GPU"
        elif self.gpu_layers > 0:
            of = f" of {total_layers}" if total_layers else ""
            where = f"{self.gpu_layers}{of} layers on the GPU"
        else:
            where = "the CPU"
        return where if self.extra_bufts else f"{where}, without the extra CPU kernels"

    @classmethod
    def from_key(cls, key: str) -> RunSettings:
        """The inverse of `key`; raises ValueError for anything else."""
        parts = dict(part.split("=", 1) for part in key.split(","))
        return cls(int(parts["gpu"]), parts["bufts"] == "1")


def fallback_chain(gpu: bool, total_layers: int, amx: bool) -> list[RunSettings]:
    """The settings to try, fastest first, each safer than the one before.

    All GPU layers, then half, then the CPU; where the processor reports AMX (whose kernels
    fault on some CPUs and VMs), each level is tried with the extra buffer types off before
    going down a level. The CPU without extra buffer types always comes last.
    """
    levels = [-1, max(total_layers // 2, 1), 0] if gpu else [0]
    chain: list[RunSettings] = []
    for level in levels:
        chain.append(RunSettings(level, True))
        if amx:
            chain.append(RunSettings(level, False))
    if RunSettings(0, False) not in chain:
        chain.append(RunSettings(0, False))
    return chain


@dataclass(frozen=True)
class ProbeOutcome:
    """What one check of one setting came to.

    Attributes:
        status: "ok"; "crashed" (the child died by a signal); "hung" (it passed its time
            limit); "error" (llama.cpp refused, e.g. not enough GPU memory); "unavailable"
            (the check itself could not run: no interpreter, no permission).
        detail: the signal's name ("SIGSEGV"), the time limit, or the error's text.
        phase: where the check was: "load", "decode" or "template" (the file's chat template).
        tokens_per_s: decode speed measured in the check.
        prompt_tokens_per_s: prompt evaluation speed measured in the check.
        facts: what the child reported of the loaded model (layers, context, load time).
    """

    status: str
    detail: str = ""
    phase: str = ""
    tokens_per_s: float = 0.0
    prompt_tokens_per_s: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the setting loaded and decoded."""
        return self.status == "ok"

    def reason(self) -> str:
        """Plain words for a failure: "crashed (SIGSEGV)", "did not answer within 60 s"."""
        if self.status == "crashed":
            return f"crashed ({self.detail})"
        if self.status == "hung":
            return f"did not answer within {self.detail}"
        if self.status == "app-crashed":
            return "crashed while the app was using it"
        return f"failed ({self.detail})" if self.detail else "failed"

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ProbeOutcome:
        """The inverse of `to_record`; raises (KeyError, TypeError, ValueError) on junk."""
        return cls(
            status=str(record["status"]),
            detail=str(record.get("detail", "")),
            phase=str(record.get("phase", "")),
            tokens_per_s=float(record.get("tokens_per_s", 0.0)),
            prompt_tokens_per_s=float(record.get("prompt_tokens_per_s", 0.0)),
            facts=dict(record.get("facts") or {}),
        )


def file_identity(path: Path) -> str:
    """Which file this is, cheaply: resolved path, size and modification time."""
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def cache_key(build: str, model: str, n_ctx: int, settings: RunSettings) -> str:
    """The cache's key for one (llama.cpp build, model file, settings)."""
    raw = json.dumps([build, model, n_ctx, settings.key])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class ProbeCache:
    """Outcomes of earlier checks, in one JSON file. A missing, corrupt or foreign file reads
    as empty (everything is checked again); failing to write it only costs a re-check.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, key: str) -> ProbeOutcome | None:
        """The cached outcome for `key`, or None."""
        record = self._read().get(key)
        if not isinstance(record, dict):
            return None
        try:
            return ProbeOutcome.from_record(record)
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, outcome: ProbeOutcome) -> bool:
        """Store `outcome` under `key`. Returns False when the file could not be written."""
        entries = self._read()
        entries[key] = outcome.to_record() | {"at": time.time()}
        text = json.dumps({"format": CACHE_FORMAT, "entries": entries}, indent=1)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, text)
        except OSError:
            return False
        return True


def _write_quietly(path: Path, text: str) -> bool:
    """Write `text` to `path` through a temporary file, without fsync (it only has to survive
    the process, and runs before every reply); False (no exception) on failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True


class InferenceMarker:
    """A file that exists only while llama.cpp computes in the app's own process.

    Armed before a load or a reply and cleared after it, so one found at start-up means the
    previous run died inside llama.cpp (or was killed while it computed).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def arm(self, record: dict[str, Any]) -> None:
        """Say that computing starts now, with what (build, model, settings)."""
        _write_quietly(self.path, json.dumps(record | {"pid": os.getpid()}))

    def clear(self) -> None:
        """Say that computing ended cleanly."""
        with contextlib.suppress(OSError):
            self.path.unlink()

    def take(self) -> dict[str, Any] | None:
        """The record a crashed run left, removing it; None when there is none (or junk)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        self.clear()
        try:
            record = json.loads(text)
        except ValueError:
            return None
        if not isinstance(record, dict) or record.get("pid") == os.getpid():
            return None
        return record


def fallback_message(
    tried: Iterable[tuple[RunSettings, ProbeOutcome]],
    chosen: RunSettings,
    outcome: ProbeOutcome,
    total_layers: int = 0,
    amx: bool = False,
) -> str | None:
    """What the learner reads when the first choice failed and a safer one is used.

    Returns None when nothing failed. Names what failed, how, what is used now and what it
    costs (the speed measured with it).
    """
    failures = [(s, o) for s, o in tried if not o.ok and s != chosen]
    if not failures:
        return None
    first, why = failures[0]
    speed = f"about {outcome.tokens_per_s:.0f} tokens/s" if outcome.tokens_per_s else ""
    if why.status == "app-crashed":
        text = f"The model now runs with {chosen.describe(total_layers)}"
        return f"{text}{', ' + speed if speed else ''}."
    cpu_kernels = first.extra_bufts and not chosen.extra_bufts
    same_level = first.gpu_layers == chosen.gpu_layers
    if cpu_kernels and same_level and amx:
        text = (
            f"Your processor's AMX unit failed: llama.cpp {why.reason()} in its AMX kernels. "
            "Code Tutor uses the processor's other vector units instead"
        )
    elif cpu_kernels and same_level:
        text = (
            f"llama.cpp {why.reason()} in its extra CPU kernels. Code Tutor runs the model "
            "without them"
        )
    elif first.gpu_layers != 0 and chosen.gpu_layers == 0:
        text = (
            f"The GPU {why.reason()} while loading the model with "
            f"{first.describe(total_layers)}. The tutor runs on {chosen.describe(total_layers)}"
        )
    else:
        text = (
            f"llama.cpp {why.reason()} with {first.describe(total_layers)}. The tutor runs "
            f"with {chosen.describe(total_layers)}"
        )
    return f"{text}{', ' + speed if speed else ''}."


def crash_message(record: dict[str, Any]) -> str:
    """What the learner reads after the app died while the model computed."""
    model = str(record.get("model_name") or "the model")
    what = "loading" if record.get("phase") == "load" else "answering"
    return (
        f"Code Tutor closed unexpectedly last time while {model} was {what} (a crash inside "
        "llama.cpp). Your code was saved as you typed."
    )
