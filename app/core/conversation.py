"""The chat history with the tutor, and where each lesson's history is kept on disk.

`Conversation` holds the turns, oldest first; which of them fit in the model's context is
decided when a request is sent, by the one budget policy (`app.core.prompts.budget.fit_messages`)
with the model's own token counts. `ConversationStore` keeps one conversation per lesson in
the user data folder, when the learner lets it (the `tutor.keep_conversations` setting).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.atomic import atomic_write_text
from app.core.prompts.messages import ChatMessage

log = logging.getLogger(__name__)

MAX_TURNS = 40  # kept for the prompt; older turns would never fit a tutor's context anyway
ROLES = ("user", "assistant")

CONVERSATIONS_DIR = "conversations"
FREE_KEY = "free"
"""The key of free editing (no lesson open); "" means the same."""
FORMAT_VERSION = 1
MAX_STORED_TURNS = 200
"""The most turns kept on disk per lesson: the newest ones."""
MAX_TURN_CHARS = 64_000
"""The most characters of one turn's text kept on disk; the rest is cut off."""
MAX_LABEL_CHARS = 500
SHORTENED = "\n\n… (shortened when saved)"
# The biggest file the store writes: every character JSON-escaped (\u0001 is 6 bytes), plus
# the keys of each turn. Anything bigger is not ours.
MAX_FILE_BYTES = MAX_STORED_TURNS * 6 * (MAX_TURN_CHARS + len(SHORTENED) + MAX_LABEL_CHARS + 200)
_STAMP = "%Y%m%d-%H%M%S"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#+!|~])")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _now() -> str:
    """The local time now, as an ISO string with its UTC offset."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Turn:
    """One turn of the conversation.

    Attributes:
        role: "user" (the learner) or "assistant" (the tutor).
        content: the text: the learner's words, or the tutor's Markdown reply.
        label: what was asked, e.g. "Explain — lines 3–7 of main.py"; "" for plain chat.
        at: when it was added, an ISO time with its UTC offset; "" when unknown.
    """

    role: str
    content: str
    label: str = ""
    at: str = ""

    @property
    def message(self) -> ChatMessage:
        """The turn as it is sent to the model (without label or time)."""
        return ChatMessage(self.role, self.content)


@dataclass
class Conversation:
    """The turns so far, oldest first."""

    turns: list[Turn] = field(default_factory=list)

    def add(self, role: str, content: str, label: str = "") -> Turn:
        """Append a turn, stamped with the time now.

        Args:
            role: "user" or "assistant".
            content: the text.
            label: what was asked (e.g. "Explain — lines 3–7 of main.py"); "" for plain chat.

        Returns:
            The turn added.

        Raises:
            ValueError: `role` is neither "user" nor "assistant" (a caller's bug).
        """
        if role not in ROLES:
            raise ValueError(f"a turn is from 'user' or 'assistant', not {role!r}")
        turn = Turn(role, content, label, _now())
        self.turns.append(turn)
        return turn

    def clear(self) -> None:
        """Forget everything."""
        self.turns.clear()

    def history(self) -> tuple[ChatMessage, ...]:
        """The recent turns to send before a new request (oldest first)."""
        return tuple(turn.message for turn in self.turns[-MAX_TURNS:])

    def to_markdown(self, title: str) -> str:
        """The conversation as a Markdown document the learner can keep.

        It starts "# Tutor conversation — <title>"; each turn has a bold "**You**" or
        "**Tutor**" line, with the label in brackets and the time, then its text. The tutor's
        text is Markdown and kept as it is (a code block left open, as by a stopped reply, is
        closed so it cannot swallow the turns after it). The learner's text is put in a code
        block, so it reads exactly as typed: a "#" at a line's start stays a "#".

        Args:
            title: what the conversation was about, e.g. the lesson's title.

        Returns:
            The document, ending in a newline.
        """
        parts = [f"# Tutor conversation — {_inline(title) or 'Code Tutor'}"]
        for turn in self.turns:
            who = "**You**" if turn.role == "user" else "**Tutor**"
            if turn.label.strip():
                who += f" ({_inline(turn.label)})"
            when = _when(turn.at)
            if when:
                who += f" · {when}"
            parts.append(who)
            if turn.role == "user":
                parts.append(_code_block(turn.content))
            elif turn.content.strip():
                parts.append(_close_fences(turn.content.strip("\n")))
        return "\n\n".join(parts) + "\n"


def _inline(text: str) -> str:
    """`text` on one line with Markdown's special characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _when(at: str) -> str:
    """An ISO time as "2025-03-01 10:42", or "" when there is none or it is not a time."""
    try:
        return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M") if at else ""
    except ValueError:
        return ""


def _code_block(text: str) -> str:
    """`text` in a fenced code block no line of it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.strip(chr(10))}\n{fence}"


def _close_fences(text: str) -> str:
    """`text`, with a closing fence added when its last code block is left open."""
    open_fence = ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if not match:
            continue
        run, rest = match.groups()
        if not open_fence:
            if not (run[0] == "`" and "`" in rest):  # a backtick fence's info has no backtick
                open_fence = run
        elif run[0] == open_fence[0] and len(run) >= len(open_fence) and not rest.strip():
            open_fence = ""
    return f"{text}\n{open_fence}" if open_fence else text


def _file_name(key: str) -> str:
    """A file name for `key` that stays in its folder and differs for every key.

    Readable ASCII from the key, then a hash of the exact key: no separators or dots can
    leave the folder, and keys differing only in case or punctuation never share a file
    (even where the file system ignores case).
    """
    key = key or FREE_KEY
    slug = re.sub(r"[^a-z0-9_-]+", "-", key.lower()).strip("-_")[:60] or "lesson"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{slug}-{digest}.json"


def _stored_turn(turn: Turn) -> dict[str, str]:
    """A turn as it is written: its text and label capped."""
    content = turn.content
    if len(content) > MAX_TURN_CHARS:
        content = content[:MAX_TURN_CHARS] + SHORTENED
    return {
        "role": turn.role,
        "content": _encodable(content),
        "label": _encodable(turn.label[:MAX_LABEL_CHARS]),
        "at": _encodable(turn.at),
    }


def _encodable(text: str) -> str:
    """`text` with what UTF-8 cannot hold (a lone surrogate, from a bad paste) made "?"."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _read_turn(raw: Any) -> Turn | None:
    """A turn from the file, or None when the entry is not one (it is skipped)."""
    if not isinstance(raw, dict):
        return None
    role, content = raw.get("role"), raw.get("content")
    if role not in ROLES or not isinstance(content, str):
        return None
    label, at = raw.get("label", ""), raw.get("at", "")
    return Turn(
        role,
        content[: MAX_TURN_CHARS + len(SHORTENED)],
        label[:MAX_LABEL_CHARS] if isinstance(label, str) else "",
        at if isinstance(at, str) and len(at) < 64 else "",
    )


class ConversationStore:
    """Each lesson's conversation with the tutor, one JSON file per lesson.

    Files live in data_dir/conversations/, named from the lesson key ("course_id/lesson_id",
    or "" / "free" for free editing) so that no key can reach outside that folder. Each is
    written at once and atomically, and holds at most the newest `MAX_STORED_TURNS` (200)
    turns, each cut to `MAX_TURN_CHARS` (64,000) characters, so a file cannot grow without
    bound. A file that cannot be read is moved aside (<name>.corrupt-<time>) and the
    conversation starts afresh; `load_problem` says so.

    With `keep` False nothing is written, and what was stored is deleted: at once when the
    store is made so, or when `set_keep(False)` is called. Nothing here raises on a bad file
    or a failed write: what went wrong becomes a sentence (`load_problem`, `last_error`, the
    return values). Use from one thread.

    Attributes:
        data_dir: the user data folder.
        load_problem: what the learner should be told about the last `load` (its file was
            unreadable and set aside), or None.
        last_error: why the last write or deletion failed, or None once one succeeded.
    """

    def __init__(self, data_dir: Path, keep: bool = True) -> None:
        """Open the store in `data_dir`; with `keep` False, delete what it holds.

        Args:
            data_dir: the user data folder (`resolve_paths().data_dir`).
            keep: the `tutor.keep_conversations` setting.
        """
        self.data_dir = Path(data_dir)
        self.load_problem: str | None = None
        self.last_error: str | None = None
        self._keep = True
        self.set_keep(keep)

    @property
    def folder(self) -> Path:
        """The folder of conversation files, data_dir/conversations."""
        return self.data_dir / CONVERSATIONS_DIR

    @property
    def keep(self) -> bool:
        """Whether conversations are stored."""
        return self._keep

    def path_for(self, key: str) -> Path:
        """The file of lesson `key`'s conversation (it may not exist); always in `folder`.

        Raises:
            TypeError: `key` is not text (a caller's bug).
        """
        if not isinstance(key, str):
            raise TypeError(f"conversation keys are text, not {key!r}")
        return self.folder / _file_name(key)

    def load(self, key: str) -> Conversation:
        """The stored conversation of lesson `key`; empty when there is none. Never raises.

        Sets `load_problem` to a sentence when the file could not be read (it is moved
        aside), else to None.
        """
        self.load_problem = None
        path = self.path_for(key)
        if not self._keep:
            return Conversation()
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return Conversation()
        except OSError as exc:
            return self._set_aside(path, f"cannot be read ({exc.strerror or exc})")
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the lesson for ever
            return self._set_aside(path, "is not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            return self._set_aside(path, "is too big to be Code Tutor's")
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            return self._set_aside(path, f"cannot be read ({exc.strerror or exc})")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return self._set_aside(path, "is not valid JSON")
        turns = data.get("turns") if isinstance(data, dict) else None
        if not isinstance(turns, list):
            return self._set_aside(path, "holds no list of turns")
        read = (_read_turn(entry) for entry in turns[-MAX_STORED_TURNS:])
        return Conversation([turn for turn in read if turn is not None])

    def save(self, key: str, conversation: Conversation) -> str | None:
        """Store lesson `key`'s conversation (its newest turns, capped), atomically.

        Nothing is written when `keep` is False; an empty conversation deletes the file.

        Returns:
            None when it was stored (or nothing was to be); else a sentence for the learner
            saying it could not be, also kept in `last_error`.
        """
        path = self.path_for(key)
        if not self._keep:
            return None
        if not conversation.turns:
            return self.delete(key)
        data = {
            "version": FORMAT_VERSION,
            "key": key or FREE_KEY,
            "turns": [_stored_turn(turn) for turn in conversation.turns[-MAX_STORED_TURNS:]],
        }
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        except OSError as exc:
            log.warning("cannot write %s: %s", path, exc)
            self.last_error = (
                f"Code Tutor cannot save your conversation with the tutor in “{path}” "
                f"({exc.strerror or exc}), so it will not be there when the "
                "lesson opens again."
            )
            return self.last_error
        self.last_error = None
        return None

    def delete(self, key: str) -> str | None:
        """Delete lesson `key`'s stored conversation, and copies of it set aside as corrupt.

        Returns:
            None when nothing of it is left; else a sentence saying what could not be
            deleted, also kept in `last_error`.
        """
        path = self.path_for(key)
        try:
            aside = list(self.folder.glob(f"{path.name}.corrupt-*"))
        except OSError:
            aside = []
        return self._unlink([path, *aside])

    def delete_all(self) -> str | None:
        """Delete every stored conversation: all files in `folder`, then the folder if empty.

        Returns:
            None when nothing is left; else a sentence saying what could not be deleted,
            also kept in `last_error`.
        """
        try:
            files = [p for p in self.folder.iterdir() if p.is_symlink() or not p.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            files = []
        except OSError as exc:
            return self._failed(self.folder, exc)
        problem = self._unlink(files)
        with contextlib.suppress(OSError):
            self.folder.rmdir()
        return problem

    def set_keep(self, keep: bool) -> str | None:
        """Turn storing on or off; off deletes everything stored (see `delete_all`).

        Returns:
            None, or a sentence saying what could not be deleted.
        """
        self._keep = bool(keep)
        return None if self._keep else self.delete_all()

    # --- helpers ------------------------------------------------------------------------

    def _unlink(self, paths: list[Path]) -> str | None:
        problem = None
        for path in paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                problem = self._failed(path, exc)
        if problem is None:
            self.last_error = None
        return problem

    def _failed(self, path: Path, exc: OSError) -> str:
        log.warning("cannot delete %s: %s", path, exc)
        self.last_error = (
            f"Code Tutor cannot delete your stored conversation “{path}” "
            f"({exc.strerror or exc}); you can delete it yourself."
        )
        return self.last_error

    def _set_aside(self, path: Path, why: str) -> Conversation:
        """Move an unusable file out of the way, so the next save does not replace it."""
        stamp = time.strftime(_STAMP, time.localtime())
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists() or target.is_symlink():
            n += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(path, target)
        except OSError as exc:
            log.warning("%s %s and cannot be moved aside: %s", path, why, exc)
            self.load_problem = (
                f"Your stored conversation with the tutor, “{path}”, {why} and cannot be "
                f"moved aside ({exc.strerror or exc}), so this lesson's conversation starts "
                "afresh and may not be saved. Your code and progress are not affected."
            )
        else:
            log.warning("%s %s; moved to %s", path, why, target)
            self.load_problem = (
                f"Your stored conversation with the tutor for this lesson {why}, so it starts "
                f"afresh. The old file is kept as “{target}”; your code and progress are not "
                "affected."
            )
        return Conversation()
