"""`codetutor bench --server …`: a classroom on one server, simulated.

Each simulated learner is a thread with its own server backend (the app's own client): it
types for a while (an inline completion every FIM_EVERY_S, as the editor asks at typing
pace), asks the tutor a question and reads the streamed reply, thinks, and starts again,
until the run's time is up (a learner's first round is always whole). Requests in flight
then finish; a run is bounded by its seconds plus GRACE_S, after which what is still open
is stopped and counted as failed.

The figures per run: the time to the first word of the tutor's replies (p50, p95), the
decode speed each learner sees (tokens/s, the median over replies), the inline
completions' latency (p50, p95), and the requests that failed (must be 0). `--server` may
be an address or an engine name ("llama-server", "llama-cpp-python"): an engine is started
on 127.0.0.1 with the starter model (`app.serve`), so both are measured side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.bench import percentile
from app.core.models import server_model_spec, starter_model_spec
from app.core.server import ServerConfig, check_url, read_api_key
from app.llm.backend import CancelFlag, ChatMessage, GenerationParams, StreamStats
from app.llm.server import ServerBackend
from app.serve_process import ENGINES, ServeOptions, ServerProcess, free_port, stop_signals

QUESTIONS = (
    "What does a for loop do in Python? Answer in two sentences.",
    "Why does my function return None instead of the sum?",
    "Explain what a list comprehension is, briefly.",
    "What is the difference between == and is?",
    "How do I read a number the user types?",
    "What does IndexError: list index out of range mean?",
)
CODE = (
    "def total(values):\n    result = 0\n    for v in values:\n        result += v\n"
    "    return result\n\n\ndef mean(values):\n    "
)
SYSTEM = "You are a patient programming tutor for beginners. Answer briefly."
CHAT_TOKENS = 64
FIM_TOKENS = 16
FIM_PER_ROUND = 3
FIM_EVERY_S = 0.8  # a learner's editor asks this often while they type
THINK_S = (1.0, 3.0)  # reading the reply and thinking, before typing again
GRACE_S = 120.0  # after the run's time, in-flight requests may take this long to finish
DEFAULT_LEARNERS = (1, 8, 30)
STARTER_ALIAS = "smollm2-135m-instruct"


@dataclass
class LearnerLog:
    """What one simulated learner saw."""

    ttft_ms: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    fim_ms: list[float] = field(default_factory=list)
    replies: int = 0
    completions: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    """One run: N learners on one server for a fixed time."""

    server: str
    learners: int
    seconds: float
    replies: int
    completions: int
    failed: int
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    tokens_per_s_per_learner: float | None
    fim_p50_ms: float | None
    fim_p95_ms: float | None
    failures: list[str]


def _timed(pieces, started: float, stats: StreamStats) -> str:
    text = []
    for piece in pieces:
        now = time.perf_counter()
        if stats.first_token_s is None:
            stats.first_token_s = now - started
        stats.tokens += 1
        text.append(piece)
    stats.seconds = time.perf_counter() - started
    return "".join(text)


class Learner(threading.Thread):
    """One simulated learner, until `deadline` (time.monotonic())."""

    def __init__(self, index: int, config: ServerConfig, deadline: float, stop: CancelFlag) -> None:
        super().__init__(name=f"learner-{index}", daemon=True)
        self.log = LearnerLog()
        self._rng = random.Random(index)
        self._config = config
        self._deadline = deadline
        self._halt = stop
        self._cancel = CancelFlag()
        stop.add_hook(self._cancel.set)  # the grace time's end stops what is in flight

    def run(self) -> None:
        """Type, ask, read, think; again until the deadline."""
        backend = ServerBackend(self._config)
        try:
            try:
                backend.load(server_model_spec(self._config.model))
            except Exception as exc:  # noqa: BLE001 - a learner's failure is a figure
                self.log.failures.append(f"connect: {exc}")
                return
            self._halt.wait(self._rng.uniform(0, THINK_S[1]))  # learners do not start as one
            first = True  # every learner's first round is whole, however short the run
            while first or (time.monotonic() < self._deadline and not self._halt.is_set()):
                self._type(backend)
                if not first and (time.monotonic() >= self._deadline or self._halt.is_set()):
                    break
                self._ask(backend)
                first = False
                self._halt.wait(self._rng.uniform(*THINK_S))
        finally:
            backend.close()

    def _type(self, backend: ServerBackend) -> None:
        params = GenerationParams(max_tokens=FIM_TOKENS, temperature=0.0, repeat_penalty=1.0)
        for keystroke in range(FIM_PER_ROUND):
            if self._halt.is_set():
                return
            prefix = CODE + "return sum(values) / len(values)"[: 4 * (keystroke + 1)]
            started = time.perf_counter()
            try:
                _timed(backend.infill(prefix, "\n", params, self._cancel), started, StreamStats())
            except Exception as exc:  # noqa: BLE001 - counted
                self.log.failures.append(f"completion: {exc}")
                continue
            if self._cancel.is_set():
                self.log.failures.append("completion: still open when the grace time ended")
                return
            self.log.fim_ms.append((time.perf_counter() - started) * 1000)
            self.log.completions += 1
            self._halt.wait(FIM_EVERY_S)

    def _ask(self, backend: ServerBackend) -> None:
        question = self._rng.choice(QUESTIONS)
        messages = [ChatMessage("system", SYSTEM), ChatMessage("user", question)]
        params = GenerationParams(max_tokens=CHAT_TOKENS, temperature=0.0)
        stats = StreamStats()
        started = time.perf_counter()
        try:
            _timed(backend.stream_chat(messages, params, self._cancel), started, stats)
        except Exception as exc:  # noqa: BLE001 - counted
            self.log.failures.append(f"reply: {exc}")
            return
        if self._cancel.is_set():
            self.log.failures.append("reply: still streaming when the run's grace time ended")
            return
        if stats.first_token_s is None:
            self.log.failures.append("reply: empty")
            return
        self.log.replies += 1
        self.log.ttft_ms.append(stats.first_token_s * 1000)
        if stats.tokens >= 2 and stats.seconds > stats.first_token_s:
            rate = (stats.tokens - 1) / (stats.seconds - stats.first_token_s)
            self.log.tokens_per_s.append(rate)


def run_load(config: ServerConfig, learners: int, seconds: float, label: str = "") -> LoadResult:
    """Simulate `learners` learners on the server for `seconds`; their figures together."""
    deadline = time.monotonic() + seconds
    stop = CancelFlag()
    crowd = [Learner(i, config, deadline, stop) for i in range(learners)]
    began = time.monotonic()
    for learner in crowd:
        learner.start()
    for learner in crowd:
        learner.join(max(0.0, deadline + GRACE_S - time.monotonic()))
    stop.set()  # what is still open after the grace time is stopped (and counted failed)
    for learner in crowd:
        learner.join(10)
    for learner in crowd:
        if learner.is_alive():  # stuck past Stop: a failure, and its log is left alone
            learner.log = LearnerLog(failures=["learner: still waiting after the run ended"])
    logs = [learner.log for learner in crowd]
    ttft = [v for log in logs for v in log.ttft_ms]
    fim = [v for log in logs for v in log.fim_ms]
    rates = [v for log in logs for v in log.tokens_per_s]
    failures = [f for log in logs for f in log.failures]
    return LoadResult(
        server=label or config.url,
        learners=learners,
        seconds=round(time.monotonic() - began, 1),
        replies=sum(log.replies for log in logs),
        completions=sum(log.completions for log in logs),
        failed=len(failures),
        ttft_p50_ms=_quantile(ttft, 0.5),
        ttft_p95_ms=_quantile(ttft, 0.95),
        tokens_per_s_per_learner=round(statistics.median(rates), 1) if rates else None,
        fim_p50_ms=_quantile(fim, 0.5),
        fim_p95_ms=_quantile(fim, 0.95),
        failures=sorted(set(failures))[:5],
    )


def _quantile(values: list[float], share: float) -> float | None:
    return round(percentile(values, share), 1) if values else None


def table(results: list[LoadResult]) -> str:
    """The results as a Markdown table (README's)."""
    rows = [
        "| server | learners | replies | TTFT p50 | TTFT p95 | tokens/s per learner "
        "| completion p50 | completion p95 | failed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f} ms"

    for r in results:
        rate = "—" if r.tokens_per_s_per_learner is None else f"{r.tokens_per_s_per_learner:.1f}"
        rows.append(
            f"| {r.server} | {r.learners} | {r.replies} | {ms(r.ttft_p50_ms)} | "
            f"{ms(r.ttft_p95_ms)} | {rate} | {ms(r.fim_p50_ms)} | {ms(r.fim_p95_ms)} | "
            f"{r.failed} |"
        )
    return "\n".join(rows)


def parse_learners(text: str) -> list[int]:
    """The counts in text such as "1,8,30", each from 1 to 200.

    Raises:
        ValueError: with a sentence saying what is wrong.
    """
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ValueError(f"--learners takes numbers separated by commas, not {text!r}") from exc
    if not counts or any(not 1 <= n <= 200 for n in counts):
        raise ValueError(f"--learners takes counts from 1 to 200, not {text!r}")
    return counts


def main(args: argparse.Namespace) -> int:
    """`codetutor bench --server URL|ENGINE [--server …] --learners 1,8,30 --seconds S`."""
    try:
        counts = parse_learners(args.learners)
        if not 1 <= args.seconds <= 3600:
            raise ValueError(f"--seconds takes 1 to 3600, not {args.seconds:g}")
        key = read_api_key(args.api_key_file or "")
    except Exception as exc:  # noqa: BLE001 - bad input is a message, not a traceback
        print(f"codetutor bench: {exc}", file=sys.stderr)
        return 2
    results: list[LoadResult] = []
    for server in args.server:
        if server in ENGINES:
            results += _on_engine(server, counts, args.seconds, args.parallel)
        else:
            try:
                url = check_url(server)
            except Exception as exc:  # noqa: BLE001
                print(f"codetutor bench: {exc}", file=sys.stderr)
                return 2
            config = ServerConfig(url, model=args.server_model or "", api_key=key)
            config = _bench_config(config)
            results += [run_load(config, n, args.seconds) for n in counts]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(table(results))
    return 0 if all(r.failed == 0 for r in results) else 1


def _bench_config(config: ServerConfig) -> ServerConfig:
    """The learners wait as long as a queue takes (the grace time), not the app's minute."""
    return ServerConfig(
        config.url, config.model, config.api_key, connect_timeout_s=10, read_timeout_s=GRACE_S
    )


def _on_engine(engine: str, counts: list[int], seconds: float, parallel: int) -> list[LoadResult]:
    """Start `engine` on 127.0.0.1 with the starter model and run each count on it."""
    options = ServeOptions(
        model_path=starter_model_spec().path,
        alias=STARTER_ALIAS,
        port=free_port(),
        parallel=parallel,
        engine=engine,
    )
    label = f"{engine} -np {parallel}" if engine == "llama-server" else engine
    with tempfile.TemporaryDirectory() as tmp, stop_signals():  # SIGTERM stops the child too
        log = Path(tmp) / "server.log"
        with ServerProcess.start(options, engine, log_path=log) as server:
            config = _bench_config(ServerConfig(server.url, STARTER_ALIAS))
            return [run_load(config, n, seconds, label) for n in counts]
