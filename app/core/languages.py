"""The one registry of the programming languages Code Tutor knows.

Every per-language table elsewhere (file extensions, display names, Markdown fence names, the
editor's lexer, the runner's toolchain and error parser, the languages a lesson may name) is a
lookup in `LANGUAGES`, so adding a language starts here.

Plain text is not a registered language: it is `PLAIN_TEXT`, what a file with an unknown
extension is, with no lexer, toolchain or error parser. Code that iterates `LANGUAGES` (lessons,
the runner) therefore sees only languages that can be highlighted, run and checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Language:
    """One language and the names each part of the app knows it by.

    Attributes:
        id: the language id used everywhere ("python", "cpp", ...), also in lesson.toml.
        name: the display name ("Python", "C++", ...).
        extensions: file extensions, lower case with the dot (".py"); unique across languages.
        fences: further Markdown fence names (```py) besides the id, lower case.
        lexer: the Lexilla lexer the editor highlights with ("python", "cpp", ...), or None.
        toolchain: the id of the toolchain in `app.runner.toolchains` that runs it, or None.
        error_parser: the id of the parser in `app.runner.errors` for its output, or None.
    """

    id: str
    name: str
    extensions: tuple[str, ...] = ()
    fences: tuple[str, ...] = ()
    lexer: str | None = None
    toolchain: str | None = None
    error_parser: str | None = None


TEXT = "text"
"""The id of plain text: files whose extension names no registered language."""

PLAIN_TEXT = Language(TEXT, "Plain text")
"""Plain text: no highlighting, nothing to run; not in `LANGUAGES`."""

_ALL = (
    Language(
        "python",
        "Python",
        (".py", ".pyw"),
        ("py", "python3", "py3"),
        lexer="python",
        toolchain="python",
        error_parser="python",
    ),
    Language(
        "cpp",
        "C++",
        (".cpp", ".cc", ".cxx", ".hpp", ".h", ".c"),
        ("c++", "cc", "cxx"),
        lexer="cpp",
        toolchain="cpp",
        error_parser="gcc",
    ),
    Language(
        "java",
        "Java",
        (".java",),
        (),
        lexer="cpp",
        toolchain="java",
        error_parser="java",
    ),
    Language(
        "javascript",
        "JavaScript",
        (".js", ".mjs", ".cjs"),
        ("js", "node", "nodejs"),
        lexer="cpp",
        toolchain="javascript",
        error_parser="node",
    ),
    Language(
        "typescript",
        "TypeScript",
        (".ts",),
        ("ts",),
        lexer="cpp",
        toolchain="typescript",
        error_parser="typescript",
    ),
    Language(
        "php",
        "PHP",
        (".php",),
        (),
        lexer="phpscript",
        toolchain="php",
        error_parser="php",
    ),
    Language(
        "csharp",
        "C#",
        (".cs",),
        ("cs", "c#"),
        lexer="cpp",
        toolchain="csharp",
        error_parser="csharp",
    ),
    Language(
        "bash",
        "Bash",
        (".sh", ".bash"),
        ("sh", "shell"),
        lexer="bash",
        toolchain="bash",
        error_parser="bash",
    ),
)

LANGUAGES: dict[str, Language] = {language.id: language for language in _ALL}
"""The registered languages by id, in the order the app lists them."""

_BY_EXTENSION: dict[str, str] = {
    extension: language.id for language in _ALL for extension in language.extensions
}
_BY_FENCE: dict[str, str] = {
    alias: language.id for language in _ALL for alias in (language.id, *language.fences)
}


def get_language(language_id: str) -> Language:
    """The registered language `language_id`, or `PLAIN_TEXT` when there is none."""
    return LANGUAGES.get(language_id, PLAIN_TEXT)


def extension_map() -> dict[str, str]:
    """Every registered file extension (".py") and the id of its language."""
    return dict(_BY_EXTENSION)


def language_for_path(path: str | Path | None) -> str:
    """The language id for a file name, or "text" when the extension is unknown.

    Args:
        path: a file name or path (only its extension matters, in any case); None or "" is
            plain text.

    Returns:
        A key of `LANGUAGES`, or `TEXT`.
    """
    if not path:
        return TEXT
    return _BY_EXTENSION.get(Path(path).suffix.lower(), TEXT)


def language_for_fence(alias: str) -> str | None:
    """The language id a Markdown fence name (```py, ```c++, ```C#) stands for.

    Args:
        alias: the word after the fence, in any case; a language id counts too.

    Returns:
        A key of `LANGUAGES`, or None when no registered language goes by that name.
    """
    return _BY_FENCE.get(alias.strip().lower())


def display_name(language_id: str) -> str:
    """The display name of a language ("C++" for "cpp", "Plain text" for "text").

    Args:
        language_id: a language id.

    Returns:
        Its name; an unknown id is returned unchanged.
    """
    if language_id == TEXT:
        return PLAIN_TEXT.name
    language = LANGUAGES.get(language_id)
    return language.name if language else language_id
