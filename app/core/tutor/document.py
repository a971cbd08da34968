"""The tutor's Document proposal: the documented code of a reply, as a diff against the
learner's code, and whether it changes code and not only comments."""

from __future__ import annotations

import ast
import difflib
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass

_FENCE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_INDENT = re.compile(r"[ \t]*")
_C_FAMILY = frozenset({"cpp", "c", "java", "javascript", "typescript", "csharp", "php"})
_BACKTICK_STRINGS = frozenset({"javascript", "typescript"})


@dataclass(frozen=True)
class DiffLine:
    """One line of a proposal's diff.

    Attributes:
        kind: "same", "added" or "removed".
        text: the line, without its line ending.
        old_line: its 1-based line in the original ("same", "removed"), else None.
        new_line: its 1-based line in the proposal ("same", "added"), else None.
    """

    kind: str
    text: str
    old_line: int | None = None
    new_line: int | None = None


@dataclass(frozen=True)
class DocProposal:
    """Documented code proposed for the learner's code.

    Attributes:
        original: the learner's code the proposal is for (the selection, or the whole file).
        proposed: the documented code, in the original's line endings and indentation.
        diff: the line diff from `original` to `proposed`.
        code_changed: the proposal changes code, not only comments and docstrings.
        changed_lines: 1-based lines of `original` whose code (not comments) changed.
        summary: what the proposal does, in plain words, for the learner.
        first_line: the file's line number of `original`'s first line.
    """

    original: str
    proposed: str
    diff: tuple[DiffLine, ...]
    code_changed: bool
    changed_lines: tuple[int, ...]
    summary: str
    first_line: int = 1


@dataclass(frozen=True)
class _Entry:
    """A piece of code without comments: its normalised text and the rows it spans (from 1)."""

    text: str
    first_row: int
    last_row: int
    only_strings: bool = False


# -- the reply ---------------------------------------------------------------------------------


def code_blocks(reply: str) -> list[str]:
    """The fenced code blocks of a Markdown reply, in order (an unclosed last one counts).

    Args:
        reply: the tutor's reply.

    Returns:
        Each block's content without its fences, one string per block.
    """
    blocks: list[str] = []
    current: list[str] | None = None
    marker, indent = "", 0
    for line in _NEWLINE.split(reply):
        fence = _FENCE.match(line)
        if current is None:
            if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
                current, marker, indent = [], fence.group(2), len(fence.group(1))
            continue
        closing = fence and fence.group(2).startswith(marker) and not fence.group(3).strip()
        if closing:
            blocks.append("\n".join(current))
            current = None
            continue
        strip = len(line) - len(line.lstrip(" "))
        current.append(line[min(indent, strip) :])
    if current is not None:
        blocks.append("\n".join(current))
    return blocks


def proposal_from_reply(
    reply: str, original: str, language: str, *, first_line: int = 1
) -> DocProposal | None:
    """The Document proposal in a reply: its code block that best matches the learner's code.

    Args:
        reply: the tutor's reply (Markdown; prose and several code blocks may be there).
        original: the learner's code the request was about (the selection, or the file).
        language: the language id ("python", "cpp", ...; see `app.core.languages`).
        first_line: the file's line number of `original`'s first line, for the summary.

    Returns:
        The proposal, or None when the reply has no non-empty code block or the best one
        changes nothing.
    """
    blocks = [block for block in code_blocks(reply) if block.strip()]
    if not blocks:
        return None
    key = _stripped_lines(original)
    best = max(blocks, key=lambda block: (_similarity(key, _stripped_lines(block)), len(block)))
    proposed = _in_style_of(original, best)
    if proposed == original:
        return None
    return _proposal(original, proposed, language, first_line)


def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in _NEWLINE.split(text) if line.strip()]


def _similarity(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _in_style_of(original: str, block: str) -> str:
    """`block` in the original's line endings, indentation and blank lines around it."""
    old, new = _NEWLINE.split(original), _NEWLINE.split(block)
    lo, hi = _code_edges(old)
    nlo, nhi = _code_edges(new)
    body = _map_indentation(old[lo:hi], new[nlo:nhi])
    matcher = difflib.SequenceMatcher(
        None, [line.rstrip() for line in old[lo:hi]], [line.rstrip() for line in body], False
    )
    restored = old[:lo]
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        restored.extend(old[lo + i1 : lo + i2] if tag == "equal" else body[j1:j2])
    found = _NEWLINE.search(original)
    return (found.group(0) if found else "\n").join(restored + old[hi:])


def _code_edges(lines: list[str]) -> tuple[int, int]:
    """The index of the first non-blank line and one past the last (blank edges are kept)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return (filled[0], filled[-1] + 1) if filled else (len(lines), len(lines))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _map_indentation(old: list[str], new: list[str]) -> list[str]:
    """Re-indent `new` as `old` is indented when the lines both have say the reply shifted
    every line (a selection returned dedented) or used spaces for the learner's tabs; a
    shift that fits fewer of those lines than no shift is not made."""
    old_key, new_key = [line.strip() for line in old], [line.strip() for line in new]
    pairs = []
    matcher = difflib.SequenceMatcher(None, old_key, new_key, autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += [
                (_indent(new[j1 + k]), _indent(old[i1 + k]))
                for k in range(i2 - i1)
                if old_key[i1 + k]
            ]
    tabs = any("\t" in _indent(line) for line in old)
    best, best_score = None, sum(1 for mine, theirs in pairs if mine == theirs)
    for unit in (4, 2, 8) if tabs else (4,):
        least = min((_width(_indent(line), unit) for line in new if line.strip()), default=0)
        for delta in sorted({_width(t, unit) - _width(m, unit) for m, t in pairs}):
            if least + delta < 0:
                continue  # it would take a line left of the margin
            score = sum(1 for m, t in pairs if _render(m, unit, delta, tabs) == t)
            if score > best_score:
                best, best_score = (unit, delta), score
    if best is None:
        return new
    unit, delta = best
    return [
        _render(_indent(line), unit, delta, tabs) + line.lstrip(" \t") if line.strip() else line
        for line in new
    ]


def _width(indent: str, unit: int) -> int:
    return len(indent.expandtabs(unit))


def _render(indent: str, unit: int, delta: int, tabs: bool) -> str:
    """`indent` shifted by `delta` columns, in tabs of `unit` columns or in spaces."""
    width = _width(indent, unit) + delta
    return "\t" * (width // unit) + " " * (width % unit) if tabs else " " * width


# -- the proposal ------------------------------------------------------------------------------


def _proposal(original: str, proposed: str, language: str, first_line: int) -> DocProposal:
    old, new = _code_entries_pair(original, proposed, language)
    changed = [e.text for e in old] != [e.text for e in new]
    rows: set[int] = set()
    matcher = difflib.SequenceMatcher(
        None, [e.text for e in old], [e.text for e in new], autojunk=False
    )
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for entry in old[i1:i2]:
            rows.update(range(entry.first_row, entry.last_row + 1))
        if i1 == i2 and old:
            rows.add(old[i1 - 1].last_row if i1 else old[0].first_row)
    diff, counts = _diff(original, proposed)
    changed_lines = tuple(sorted(rows))
    return DocProposal(
        original=original,
        proposed=proposed,
        diff=diff,
        code_changed=changed,
        changed_lines=changed_lines,
        summary=_summary(changed, changed_lines, counts, first_line),
        first_line=first_line,
    )


def _diff(original: str, proposed: str) -> tuple[tuple[DiffLine, ...], tuple[int, int, int]]:
    """The line diff, and (lines added, lines rewritten, lines removed), blank lines uncounted."""
    old, new = _NEWLINE.split(original), _NEWLINE.split(proposed)
    if original.endswith(("\n", "\r")) and proposed.endswith(("\n", "\r")):
        old, new = old[:-1], new[:-1]
    lines: list[DiffLine] = []
    added = rewritten = removed = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines.extend(DiffLine("same", old[i], i + 1, j1 + i - i1 + 1) for i in range(i1, i2))
            continue
        lines.extend(DiffLine("removed", old[i], old_line=i + 1) for i in range(i1, i2))
        lines.extend(DiffLine("added", new[j], new_line=j + 1) for j in range(j1, j2))
        gone = sum(1 for line in old[i1:i2] if line.strip())
        came = sum(1 for line in new[j1:j2] if line.strip())
        both = min(gone, came)
        rewritten += both
        added += came - both
        removed += gone - both
    return tuple(lines), (added, rewritten, removed)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _summary(
    code_changed: bool, rows: tuple[int, ...], counts: tuple[int, int, int], first_line: int
) -> str:
    added, rewritten, removed = counts
    noun = "line" if code_changed else "comment line"
    parts = []
    if added:
        parts.append(f"adds {_plural(added, noun)}")
    if rewritten:
        what = "" if code_changed else "the comments on "
        parts.append(f"changes {what}{_plural(rewritten, 'line')}")
    if removed:
        parts.append(f"removes {_plural(removed, noun)}")
    if parts:
        told = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
        told = told[0].upper() + told[1:] + "."
    else:
        told = "Changes only blank lines and spacing."
    if not code_changed:
        return told
    where = " on " + _line_phrase([row + first_line - 1 for row in rows]) if rows else ""
    return f"Careful: this also changes your code{where}, not only comments. {told}"


def _line_phrase(lines: list[int]) -> str:
    """The lines in words: "line 3", "lines 3 and 7", "lines 3–5, 9 and 12"."""
    runs: list[list[int]] = []
    for line in lines:
        if runs and line == runs[-1][-1] + 1:
            runs[-1].append(line)
        else:
            runs.append([line])
    names = [str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]
    word = "line" if len(lines) == 1 else "lines"
    if len(names) == 1:
        return f"{word} {names[0]}"
    return f"{word} {', '.join(names[:-1])} and {names[-1]}"


# -- code without comments ---------------------------------------------------------------------


def code_without_comments(code: str, language: str) -> list[str]:
    """The code's lines without comments, docstrings and blank lines, to compare code.

    Whitespace within a line does not count; Python is compared statement by statement,
    token by token, with each statement's indentation depth.

    Args:
        code: source code.
        language: the language id ("python", "cpp", "bash", ...); other ids (plain text)
            have no comments.

    Returns:
        One string per line (per statement in Python) that carries code.
    """
    return [entry.text for entry in _code_entries_pair(code, "", language)[0]]


def _code_entries_pair(a: str, b: str, language: str) -> tuple[list[_Entry], list[_Entry]]:
    """Both codes without comments, read the same way: when one of two Python codes does not
    tokenize (a partial selection), both are read by the simple scan; when one does not
    parse, both find their docstrings from the tokens alone."""
    if language == "python":
        sources = textwrap.dedent(a), textwrap.dedent(b)
        spans = [_docstring_spans(source) for source in sources]
        if None in spans:
            spans = [None, None]
        try:
            return _python_entries(sources[0], spans[0]), _python_entries(sources[1], spans[1])
        except (tokenize.TokenError, SyntaxError):
            options = {"quotes": "\"'", "triple": True, "keep_indent": True}
            scans = (
                _Scanner(a, ("#",), **options).entries(),
                _Scanner(b, ("#",), **options).entries(),
            )
            return tuple([e for e in scan if not e.only_strings] for scan in scans)
    if language in _C_FAMILY:
        options = {
            "line_comments": ("//", "#") if language == "php" else ("//",),
            "block": ("/*", "*/"),
            "quotes": "\"'`" if language in _BACKTICK_STRINGS else "\"'",
            "verbatim": language == "csharp",
        }
    elif language == "bash":
        options = {"line_comments": ("#",), "quotes": "\"'", "shell": True, "collapse": True}
    else:
        options = {"collapse": True}
    return _Scanner(a, **options).entries(), _Scanner(b, **options).entries()


_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
_SKIPPED.add(tokenize.ENDMARKER)
_Spans = list[tuple[int, int]]


def _python_entries(source: str, docstrings: _Spans | None) -> list[_Entry]:
    """Python's logical lines as tokens, without comments and docstrings.

    Args:
        source: dedented Python code.
        docstrings: the rows (first, last) of its docstrings, or None to take a statement of
            only strings first in the code or after a def/class line as a docstring.

    Raises:
        tokenize.TokenError, SyntaxError: the code does not tokenize (a partial selection).
    """
    entries: list[_Entry] = []
    depth = 0
    line: list[tokenize.TokenInfo] = []
    previous: list[str] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.INDENT:
            depth += 1
        elif token.type == tokenize.DEDENT:
            depth -= 1
        elif token.type not in _SKIPPED:
            line.append(token)
        elif token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) and line:
            words = [t.string for t in line]
            strings = all(t.type == tokenize.STRING for t in line)
            if docstrings is None:
                header = bool(previous) and previous[0] in ("def", "class", "async")
                is_doc = strings and (not previous or (header and previous[-1] == ":"))
            else:
                is_doc = strings and all(
                    any(a <= t.start[0] and t.end[0] <= b for a, b in docstrings) for t in line
                )
            if not is_doc:
                text = "\t" * depth + " ".join(words)
                entries.append(_Entry(text, line[0].start[0], line[-1].end[0]))
            previous, line = words, []
    return entries


def _docstring_spans(source: str) -> _Spans | None:
    """The rows (first, last) of each docstring, or None when the code does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    spans = []
    bodies = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in ast.walk(tree):
        if not isinstance(node, bodies) or not node.body:
            continue
        first = node.body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            spans.append((first.lineno, first.end_lineno or first.lineno))
    return spans


def _word(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


class _Scanner:
    """Reads code row by row into entries without comments; a string or here-document that
    spans rows stays in one entry.

    Args:
        code: the code.
        line_comments: what starts a comment to the end of the line ("//", "#").
        block: what opens and closes a block comment, or None.
        quotes: the characters that open a string literal.
        triple: triple quotes open a string that may span rows (Python).
        shell: `#` starts a comment only at a word's start, not as `#!` in the first line;
            a backslash escapes the next character; here-documents are strings.
        verbatim: `@"..."` strings have no escapes and double their quotes (C#).
        collapse: whitespace in a row counts as one space; otherwise it only separates words.
        keep_indent: a row's indentation counts (Python).
    """

    def __init__(
        self,
        code: str,
        line_comments: tuple[str, ...] = (),
        block: tuple[str, str] | None = None,
        quotes: str = "",
        *,
        triple: bool = False,
        shell: bool = False,
        verbatim: bool = False,
        collapse: bool = False,
        keep_indent: bool = False,
    ) -> None:
        self.text = "\n".join(_NEWLINE.split(code))
        self.line_comments, self.block, self.quotes = line_comments, block, quotes
        self.triple, self.shell, self.verbatim, self.collapse = triple, shell, verbatim, collapse
        self.keep_indent, self.indent = keep_indent, ""
        self.row, self.first = 1, 1
        self.buf: list[str] = []
        self.pending, self.only_strings = False, True
        self.out: list[_Entry] = []

    def entries(self) -> list[_Entry]:
        """The code's entries, in order."""
        text, i, n = self.text, 0, len(self.text)
        heredocs: list[tuple[str, bool]] = []
        row_start = True
        if self.shell and text.startswith("#!"):
            i = text.find("\n") if "\n" in text else n
            self.buf.append(text[:i].strip())
            self.only_strings = False
        while i < n:
            if self.keep_indent and row_start:
                self.indent = _INDENT.match(text, i).group(0)
                i, row_start = i + len(self.indent), False
                continue
            ch = text[i]
            if ch == "\n":
                i = self._heredocs(i, heredocs)
                heredocs.clear()
                self._finish()
                i, row_start = i + 1, True
            elif self.block and text.startswith(self.block[0], i):
                end = text.find(self.block[1], i + len(self.block[0]))
                end = n if end < 0 else end + len(self.block[1])
                for _ in range(text.count("\n", i, end)):
                    self._finish()
                self.pending, i = True, end
            elif self._comment_at(i):
                end = text.find("\n", i)
                self.pending, i = True, (n if end < 0 else end)
            elif self.shell and ch == "\\" and i + 1 < n:
                self._put(ch)
                self._put(text[i + 1], literal=True)
                self.row += text[i + 1] == "\n"
                i += 2
            elif ch in self.quotes:
                i = self._string(i)
            else:
                if (
                    self.shell
                    and text.startswith("<<", i)
                    and "<" not in text[i - 1 : i] + text[i + 2 : i + 3]
                ):
                    found = re.match(r"<<(-?)\s*(['\"]?)(\w+)\2", text[i:])
                    if found:
                        heredocs.append((found.group(3), bool(found.group(1))))
                self._put(ch)
                i += 1
        self._finish()
        return self.out

    def _comment_at(self, i: int) -> bool:
        text = self.text
        if not any(text.startswith(marker, i) for marker in self.line_comments):
            return False
        if text[i] == "#" and "//" in self.line_comments and text.startswith("#[", i):
            return False  # a PHP attribute
        return not (self.shell and i > 0 and text[i - 1] not in " \t\n;&|()<>")

    def _put(self, ch: str, *, literal: bool = False) -> None:
        if not literal and ch in " \t\f\v":
            self.pending = True
            return
        if self.pending and self.buf and (self.collapse or (_word(self.buf[-1][-1]) and _word(ch))):
            self.buf.append(" ")
        self.pending = False
        if not self.buf and self.indent:
            self.buf.append(self.indent)
        self.buf.append(ch)
        self.only_strings = self.only_strings and literal

    def _finish(self) -> None:
        """End the row: its entry is done (if it has code), the next row begins."""
        if self.buf:
            self.out.append(_Entry("".join(self.buf), self.first, self.row, self.only_strings))
        self.buf.clear()
        self.pending, self.only_strings, self.indent = False, True, ""
        self.row += 1
        self.first = self.row

    def _heredocs(self, i: int, heredocs: list[tuple[str, bool]]) -> int:
        """Copy the here-documents that start after the newline at `i`; returns the index of
        the newline that ends the last one (or `i`)."""
        text, n = self.text, len(self.text)
        for word, tabs in heredocs:
            while i < n:
                end = text.find("\n", i + 1)
                end = n if end < 0 else end
                body = text[i + 1 : end]
                self.buf.append("\n" + body)
                self.row += 1
                i = end
                if (body.lstrip("\t") if tabs else body) == word:
                    break
        return i

    def _string(self, i: int) -> int:
        """Copy the string literal that opens at `i`; returns the index after it."""
        text, quote = self.text, self.text[i]
        if self.triple and text.startswith(quote * 3, i):
            end = text.find(quote * 3, i + 3)
            end = len(text) if end < 0 else end + 3
            for ch in text[i:end]:
                self._put(ch, literal=True)
            self.row += text.count("\n", i, end)
            return end
        verbatim = self.verbatim and i > 0 and text[i - 1] == "@"
        raw = self.shell and quote == "'" and (i == 0 or text[i - 1] != "$")
        escapes = not verbatim and not raw
        spans_rows = self.shell or quote == "`" or verbatim
        self._put(quote, literal=True)
        j = i + 1
        while j < len(text):
            ch = text[j]
            if escapes and ch == "\\" and j + 1 < len(text):
                self._put(ch, literal=True)
                self._put(text[j + 1], literal=True)
                self.row += text[j + 1] == "\n"
                j += 2
                continue
            if ch == "\n" and not spans_rows:
                return j  # an unclosed string ends with its line
            self._put(ch, literal=True)
            self.row += ch == "\n"
            j += 1
            if ch == quote:
                if verbatim and text.startswith(quote, j):
                    self._put(quote, literal=True)
                    j += 1
                    continue
                return j
        return j
