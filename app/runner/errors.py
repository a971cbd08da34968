"""Finds file, line and message of errors in compiler and interpreter output, per language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.core.languages import LANGUAGES


@dataclass(frozen=True)
class ErrorLocation:
    """Where an error is, as the tool reported it.

    Attributes:
        file: the file name or path as printed.
        line: 1-based line number.
        message: the error text (e.g. "NameError: name 'x' is not defined").
        column: 1-based column when the tool gave one.
    """

    file: str
    line: int
    message: str
    column: int | None = None


_Found = Iterator[tuple[int, ErrorLocation]]  # (index of the output line, location)
_Parser = Callable[[list[str]], _Found]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def parse_errors(language: str, output: str) -> list[ErrorLocation]:
    """Find the errors in a program's or compiler's output.

    Only errors, not warnings. A runtime error is placed at its innermost frame in the learner's
    code (not in the standard library). Each (file, line) appears once, in the order the output
    shows them, so the first item is the first error.

    Args:
        language: a language id of `app.core.languages` ("python", "cpp", ...); its
            `error_parser` picks the parsers. Any other id gives an empty list.
        output: the text (stderr, or stdout and stderr together), colour codes allowed.

    Returns:
        The error locations found, possibly none.
    """
    lines = _ANSI.sub("", output).replace("\r\n", "\n").split("\n")
    found = sorted(
        (hit for parser in parsers_for(language) for hit in parser(lines)),
        key=lambda hit: hit[0],
    )
    seen: set[tuple[str, int]] = set()
    result = []
    for _, location in found:
        key = (location.file, location.line)
        if key not in seen:
            seen.add(key)
            result.append(location)
    return result


# --- Python ------------------------------------------------------------------------------

_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in .*)?\s*$')
_PY_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?::\s?.*)?$")
_PY_LIBRARY = re.compile(r"[\\/](?:site-packages|dist-packages|lib[\\/]python\d[\d.]*|Lib)[\\/]")


def _python(lines: list[str]) -> _Found:
    """Tracebacks and SyntaxErrors: the innermost frame in the learner's files."""
    frames: list[tuple[str, int]] = []
    for index, line in enumerate(lines):
        frame = _PY_FRAME.match(line)
        if frame:
            frames.append((frame["file"], int(frame["line"])))
        elif line.startswith("Traceback (most recent call last)"):
            frames = []
        elif frames and line.strip() and not line[0].isspace() and _PY_EXCEPTION.match(line):
            learner = [f for f in frames if _is_learner_python_file(f[0])] or frames
            file, number = learner[-1]
            yield index, ErrorLocation(file, number, line.strip())
            frames = []


def _is_learner_python_file(path: str) -> bool:
    """False for "<frozen ...>", "<string>" and files of the standard library or packages."""
    return not path.startswith("<") and not _PY_LIBRARY.search(path)


# --- C++ (gcc, clang) ----------------------------------------------------------------------

_GCC = re.compile(
    r"^(?P<file>(?:[A-Za-z]:)?[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)?\s*"
    r"(?:fatal error|error): (?P<msg>.*)$"
)


def _gcc(lines: list[str]) -> _Found:
    """Lines like `f.cpp:3:5: error: ...` (and `fatal error`)."""
    for index, line in enumerate(lines):
        match = _GCC.match(line)
        if match:
            col = int(match["col"]) if match["col"] else None
            yield index, ErrorLocation(match["file"], int(match["line"]), match["msg"], col)


# --- Java ----------------------------------------------------------------------------------

_JAVAC = re.compile(r"^(?P<file>.+?\.java):(?P<line>\d+): error: (?P<msg>.*)$")
_JAVA_EXCEPTION = re.compile(r'^(?:Exception in thread "[^"]*" |Caused by: )(?P<msg>.+)$')
_JAVA_FRAME = re.compile(r"^\s+at (?P<where>[^(\s]+)\((?P<file>[^():]+\.java):(?P<line>\d+)\)")
_JAVA_LIBRARY = ("java.", "javax.", "jdk.", "sun.", "com.sun.")


def _javac(lines: list[str]) -> _Found:
    """Javac's "Main.java:3: error: ..." (column from the caret line below the source line)."""
    for index, line in enumerate(lines):
        match = _JAVAC.match(line)
        if match:
            yield (
                index,
                ErrorLocation(
                    match["file"], int(match["line"]), match["msg"], _caret_column(lines, index + 2)
                ),
            )


def _java_runtime(lines: list[str]) -> _Found:
    """An uncaught exception's stack: its innermost frame in the learner's classes."""
    message = ""
    for index, line in enumerate(lines):
        exception = _JAVA_EXCEPTION.match(line)
        if exception:
            message = exception["msg"]
            continue
        frame = _JAVA_FRAME.match(line)
        if frame and message:
            where = frame["where"]
            if "/" not in where and not where.startswith(_JAVA_LIBRARY):
                yield index, ErrorLocation(frame["file"], int(frame["line"]), message)
                message = ""


# --- JavaScript / TypeScript ---------------------------------------------------------------

_NODE_HEADER = re.compile(r"^(?:file://)?(?P<file>.+\.(?:[cm]?js|[cm]?ts|jsx|tsx)):(?P<line>\d+)$")
_NODE_FRAME = re.compile(
    r"^\s+at (?:.*?\()?(?:file://)?(?P<file>[^()]+?):(?P<line>\d+):(?P<col>\d+)\)?$"
)
_TSC = re.compile(
    r"^(?P<file>.+?\.[cm]?tsx?)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.*)$"
)
_TSC_PRETTY = re.compile(
    r"^(?P<file>.+?\.[cm]?tsx?):(?P<line>\d+):(?P<col>\d+) - error (?P<code>TS\d+): (?P<msg>.*)$"
)


def _node(lines: list[str]) -> _Found:
    """Node's "file:line" header above the caret, and stack frames "at f (file:line:col)"."""
    message = ""
    in_stack = False
    for index, line in enumerate(lines):
        header = _NODE_HEADER.match(line)
        if header:
            caret = next((i for i in range(index + 1, index + 4) if _is_caret(lines, i)), None)
            if caret is not None:
                text = next((t.strip() for t in lines[caret + 1 :] if t.strip()), "")
                column = _caret_column(lines, caret)
                yield index, ErrorLocation(header["file"], int(header["line"]), text, column)
                continue
        frame = _NODE_FRAME.match(line)
        if frame:
            file = frame["file"]
            library = file.startswith(("node:", "internal/")) or "node_modules" in file
            if not in_stack and not library:
                location = ErrorLocation(file, int(frame["line"]), message, int(frame["col"]))
                yield index, location
                in_stack = True
        elif line.strip():
            message, in_stack = line.strip(), False


def _tsc(lines: list[str]) -> _Found:
    """Tsc's "f.ts(3,5): error TS2322: ..." and its pretty "f.ts:3:5 - error TS2322: ..."."""
    for index, line in enumerate(lines):
        match = _TSC.match(line) or _TSC_PRETTY.match(line)
        if match:
            message = f"{match['code']}: {match['msg']}"
            yield (
                index,
                ErrorLocation(match["file"], int(match["line"]), message, int(match["col"])),
            )


# --- PHP, Bash, C# -------------------------------------------------------------------------

_PHP = re.compile(
    r"^(?:PHP )?(?P<kind>Parse error|Fatal error|Recoverable fatal error|Compile error):\s+"
    r"(?P<msg>.*?) in (?P<file>.+?)(?: on line |:)(?P<line>\d+)$"
)
_BASH = re.compile(r"^(?P<file>[^:\n]+?): line (?P<line>\d+): (?P<msg>.*)$")
_CS = re.compile(
    r"^(?P<file>.+?\.cs)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>CS\d+): "
    r"(?P<msg>.*?)(?:\s+\[[^\]]*\])?$"
)
_CS_FRAME = re.compile(r"^\s+at .+? in (?P<file>.+?\.cs):(?:line )?(?P<line>\d+)\s*$")


def _php(lines: list[str]) -> _Found:
    """`PHP Parse error: ... in f.php on line 3` (with or without "PHP "), and uncaught errors."""
    for index, line in enumerate(lines):
        match = _PHP.match(line.strip())
        if match:
            message = f"{match['kind']}: {match['msg']}"
            yield index, ErrorLocation(match["file"], int(match["line"]), message)


def _bash(lines: list[str]) -> _Found:
    """Lines like `f.sh: line 3: foo: command not found`."""
    for index, line in enumerate(lines):
        match = _BASH.match(line)
        if match:
            yield index, ErrorLocation(match["file"], int(match["line"]), match["msg"])


def _csharp(lines: list[str]) -> _Found:
    """mcs/dotnet "f.cs(3,5): error CS1002: ..." and runtime frames "at ... in f.cs:3"."""
    message = ""
    in_stack = False
    for index, line in enumerate(lines):
        match = _CS.match(line)
        if match:
            text = f"{match['code']}: {match['msg']}"
            yield index, ErrorLocation(match["file"], int(match["line"]), text, int(match["col"]))
            continue
        frame = _CS_FRAME.match(line)
        if frame:
            if not in_stack:
                yield index, ErrorLocation(frame["file"], int(frame["line"]), message)
                in_stack = True
        elif line.strip() and not line.lstrip().startswith("at "):
            message, in_stack = line.strip(), False


# --- helpers -------------------------------------------------------------------------------


def _is_caret(lines: list[str], index: int) -> bool:
    """True when line `index` is a caret marker ("    ^" or "  ^^^")."""
    return 0 <= index < len(lines) and bool(re.fullmatch(r"\s*\^+~*\s*", lines[index]))


def _caret_column(lines: list[str], index: int) -> int | None:
    """The 1-based column a caret line points at, or None when line `index` is not one."""
    if not _is_caret(lines, index):
        return None
    return lines[index].index("^") + 1


ERROR_PARSERS: dict[str, tuple[_Parser, ...]] = {
    "python": (_python,),
    "gcc": (_gcc,),
    "java": (_javac, _java_runtime),
    "node": (_node,),
    "typescript": (_tsc, _node),
    "php": (_php,),
    "bash": (_bash,),
    "csharp": (_csharp,),
}
"""Error parser id (`Language.error_parser`) -> the parsers run on the output, in turn."""


def parsers_for(language: str) -> tuple[_Parser, ...]:
    """The parsers for a language id's output; none for plain text or an unknown id."""
    entry = LANGUAGES.get(language)
    if entry is None or entry.error_parser is None:
        return ()
    return ERROR_PARSERS.get(entry.error_parser, ())
