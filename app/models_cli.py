"""`codetutor models list | download NAME | verify NAME | remove NAME | add FILE`: the model
manager on the command line, with a progress bar in the terminal."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TextIO

from app.core.hardware import Hardware, download_gb
from app.store.download import DownloadJob, Progress
from app.store.library import ModelState, ModelStatus
from app.store.manager import ModelStore

BAR_WIDTH = 24


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `models` and its subcommands to the `codetutor` parser."""
    models = sub.add_parser("models", help="list, download, verify and remove models")
    msub = models.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="every model with its size, fit and state")
    for name, words in (
        ("download", "download a model (resumes a paused one) and verify it"),
        ("verify", "check a model's sha256 (or GGUF structure)"),
        ("remove", "delete a downloaded model"),
    ):
        cmd = msub.add_parser(name, help=words)
        cmd.add_argument("name", help="a model id (codellama-7b-instruct) or entry id (….Q8_0)")
    add = msub.add_parser("add", help="add a GGUF file on this computer as your own model")
    add.add_argument("file", help="the .gguf file")
    add.add_argument("--name", help="what to call it")


def open_store() -> ModelStore:
    """The model store the configured settings describe."""
    from app.paths import resolve_paths
    from app.settings import load_settings
    from app.store.manager import open_model_store

    paths = resolve_paths()
    settings = load_settings(paths.site_config_file, paths.user_config_file)
    return open_model_store(settings, paths)


def run_models(
    args: argparse.Namespace,
    out: TextIO = sys.stdout,
    store: ModelStore | None = None,
    hardware: Hardware | None = None,
) -> int:
    """Run a `codetutor models` subcommand. Returns the exit status (0 ok, 1 failed, 2 no such
    model)."""
    store = store or open_store()
    command = args.models_command
    if command == "list":
        return list_models(store, out, hardware)
    if command == "add":
        return add_model(store, args.file, args.name, out)
    entry = store.find(args.name)
    if entry is None:
        names = ", ".join(e.model_id for e in store.catalog.entries if e.is_default)
        print(f"No model called “{args.name}”. Models: {names}.", file=out)
        return 2
    if command == "remove":
        try:
            print(store.library.remove(entry), file=out)
        except OSError as exc:
            print(f"Could not delete {entry.display_name}: {exc.strerror or exc}.", file=out)
            return 1
        return 0
    if command == "verify":
        bar = _Bar(entry.display_name, out)
        status = store.library.verify(
            entry,
            lambda done, total: bar.show(Progress(entry.id, ModelState.VERIFYING, done, total)),
        )
        bar.end()
        print(f"{entry.display_name}: {_state_words(status)}", file=out)
        return 0 if status.state is ModelState.READY else 1
    return download_model(store, entry.id, out)


def _state_words(status: ModelStatus) -> str:
    if status.state is ModelState.READY and status.path is not None:
        return f"{status.words()} — {status.path}"
    if status.state is ModelState.UNCHECKED:
        return f"on disk, not checked yet: run `codetutor models verify {status.entry.id}`"
    return status.words()


def list_models(store: ModelStore, out: TextIO, hardware: Hardware | None = None) -> int:
    """Print the hardware check, the recommendation, and every entry with size, fit and state."""
    from app.core.fit import fit, recommend
    from app.core.hardware import describe

    if hardware is None:
        from app.llm.hardware import detect_hardware

        hardware = detect_hardware()
    for line in describe(hardware):
        print(line, file=out)
    print(
        f"Recommended: {recommend(store.catalog.instruct(), hardware, store.n_ctx).text}", file=out
    )
    if store.hub.offline:
        print("Offline mode: nothing will be downloaded.", file=out)
    print(file=out)
    rows = [("NAME", "SIZE", f"AT {store.n_ctx:,} TOKENS", "STATE")]
    for status in store.statuses():
        entry = status.entry
        rows.append(
            (
                entry.id,
                download_gb(entry.size),
                fit(entry, hardware, min(store.n_ctx, entry.context_length)).words(
                    entry.shape.layers
                ),
                _state_words(status),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[3],
            file=out,
        )
    for problem in store.catalog.problems:
        print(f"Catalog problem (entry left out): {problem}", file=out)
    return 0


def add_model(store: ModelStore, file: str, name: str | None, out: TextIO) -> int:
    """Add a local GGUF file to the learner's own list."""
    from app.core.gguf import ModelFileError

    taken = tuple(e.model_id for e in store.catalog.entries)
    try:
        entry = store.library.add_local(file, name, taken=taken)  # type: ignore[arg-type]
    except ModelFileError as exc:
        print(str(exc), file=out)
        return 1
    except OSError as exc:
        print(f"Could not add it: {exc.strerror or exc}.", file=out)
        return 1
    store.reload()
    print(f"Added {entry.name} as “{entry.model_id}” (your own file, not verified).", file=out)
    return 0


def download_model(store: ModelStore, name: str, out: TextIO) -> int:
    """Download (or resume) `name` with a progress bar; Ctrl+C pauses it."""
    entry = store.find(name)
    assert entry is not None
    if not entry.downloadable:
        print(f"{entry.display_name} is on this computer already: nothing to download.", file=out)
        return 0
    status = store.library.status(entry)
    if status.state is ModelState.READY:
        print(f"{entry.display_name} is ready: {status.path}", file=out)
        return 0
    bar = _Bar(entry.display_name, out)
    job = DownloadJob(entry, store.library, store.hub, bar.show)
    thread = threading.Thread(target=job.run, name="model-download", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        job.pause()
        thread.join(10)
    bar.end()
    final = job.last
    if final.state is ModelState.READY:
        print(f"{entry.display_name} is ready: {final.path}", file=out)
        return 0
    if final.state is ModelState.PAUSED:
        print(f"Paused at {final.percent} %: run the same command again to resume.", file=out)
        return 1
    print(f"{entry.display_name}: {final.words()}", file=out)
    return 1


class _Bar:
    """A one-line progress bar (redrawn in place on a terminal, every 10 % otherwise)."""

    def __init__(self, label: str, out: TextIO) -> None:
        self.label = label
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.shown = False
        self.last: tuple[ModelState, int] | None = None

    def show(self, progress: Progress) -> None:
        """Draw `progress` (downloading or verifying; other states are said at the end)."""
        if progress.state not in (ModelState.DOWNLOADING, ModelState.VERIFYING):
            return
        filled = int(BAR_WIDTH * progress.percent / 100)
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        amounts = f"{download_gb(progress.done)} of {download_gb(progress.total)}"
        line = f"{self.label}: {bar} {progress.words()} ({amounts})"
        if self.tty:
            self.out.write("\r" + line.ljust(100)[:160])
            self.out.flush()
            self.shown = True
        elif self.last != (progress.state, progress.percent // 10):
            self.last = (progress.state, progress.percent // 10)
            print(line, file=self.out)

    def end(self) -> None:
        """End the bar's line."""
        if self.shown:
            self.out.write("\n")
            self.out.flush()
