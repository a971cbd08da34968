"""The solution guard's plain logic: the code blocks of a tutor reply, and the programs built
from them that could be a full solution of the lesson (each block alone, all blocks joined, and
for Python the learner's file with the blocks' functions and classes put in).

`app.runner.guard` runs the lesson's checks on these candidates.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt

from app.core.languages import language_for_fence

MAX_CANDIDATES = 12
"""At most this many candidates are built from one reply (the combined ones are kept first)."""

_COMPATIBLE: dict[str, frozenset[str]] = {"typescript": frozenset({"javascript"})}
"""Languages whose blocks a lesson in the key's language can run as they are."""

# The same parser settings as `app.core.markdown`, so blocks are found and numbered alike.
_MD = MarkdownIt("commonmark", {"html": False, "breaks": False}).enable("table")
_CODE_TOKENS = ("fence", "code_block")

_TOP_DEF = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)")
_MAIN_GUARD = re.compile(r"^if\s+__name__\s*==")


@dataclass(frozen=True)
class FencedBlock:
    """One code block of a reply, as the chat panel shows it.

    Attributes:
        index: its position among the reply's code blocks, 0 first; the same number the chat
            panel gives it (`render_markdown(reply).code_blocks[index]`).
        language: the first word of the fence's info string ("" when none, and for an
            indented code block).
        code: the code, without the fences and without trailing newlines.
    """

    index: int
    language: str
    code: str


@dataclass(frozen=True)
class Candidate:
    """A program built from a reply that might solve the lesson.

    Attributes:
        description: what it was built from, in words (for logs and tests).
        code: the whole main file.
        blocks: the indexes of the blocks it was built from, ascending.
    """

    description: str
    code: str
    blocks: tuple[int, ...]


def code_blocks(reply: str) -> list[FencedBlock]:
    """The code blocks of a Markdown reply, numbered as `render_markdown` numbers them.

    Fenced blocks (``` or ~~~, also inside lists and quotes) and indented code blocks count:
    the chat panel shows both as code with Copy and Insert. An unclosed final fence is a block
    holding the rest of the reply.

    Args:
        reply: the tutor's reply (Markdown).

    Returns:
        The blocks in reply order; [] when there are none.
    """
    blocks: list[FencedBlock] = []
    for token in _MD.parse(reply):
        if token.type not in _CODE_TOKENS:
            continue
        info = token.info.strip()
        language = info.split(maxsplit=1)[0] if info else ""
        blocks.append(FencedBlock(len(blocks), language, token.content.rstrip("\n")))
    return blocks


def block_language(block: FencedBlock, lesson_language: str) -> str | None:
    """The language id a block is written in: the lesson's when its fence names none.

    Returns:
        A registered language id, or None when the fence names a language Code Tutor does not
        know ("text", "console", ...).
    """
    if not block.language:
        return lesson_language
    return language_for_fence(block.language)


def runs_in(block: FencedBlock, lesson_language: str) -> bool:
    """Whether a block could be a program of the lesson: not clearly another language."""
    language = block_language(block, lesson_language)
    if language is None or language == lesson_language:
        return True
    return language in _COMPATIBLE.get(lesson_language, frozenset())


def candidates(
    blocks: Sequence[FencedBlock],
    learner_code: str,
    language: str,
    *,
    limit: int = MAX_CANDIDATES,
) -> list[Candidate]:
    """The programs that could turn out to be a full solution hidden in a reply.

    In this order: each block alone (and, for Python, right after it, the learner's file with
    the top-level functions and classes the block defines put in place of the learner's ones
    of the same name); then all blocks joined with blank lines (for Python also only those that
    parse, so a block of output or a snippet does not spoil it); then, for Python, the
    learner's file with the definitions of all blocks. Blocks in another known language are
    left out. A program identical to another is listed once, with the blocks of both; one
    identical to the learner's own code is left out (it shows them nothing new).

    Args:
        blocks: the reply's blocks (`code_blocks`).
        learner_code: the learner's main file as it is now.
        language: the lesson's language id.
        limit: at most this many candidates; when there are more, the combined ones are kept
            and the last single ones dropped.

    Returns:
        The candidates, in the order worth trying.
    """
    usable = [block for block in blocks if runs_in(block, language) and block.code.strip()]
    python = language == "python"
    singles: list[Candidate] = []
    for block in usable:
        singles.append(Candidate(f"block #{block.index} alone", block.code, (block.index,)))
        if python:
            merged = merge_definitions(learner_code, [block.code])
            if merged is not None:
                singles.append(
                    Candidate(
                        f"your file with block #{block.index}'s definitions",
                        merged,
                        (block.index,),
                    )
                )
    combined: list[Candidate] = []
    if len(usable) > 1:
        indexes = tuple(block.index for block in usable)
        joined = "\n\n".join(block.code for block in usable)
        combined.append(Candidate(f"blocks {_names(indexes)} joined", joined, indexes))
        if python:
            parsed = [block for block in usable if _parses(block.code)]
            if 1 < len(parsed) < len(usable):  # without the output or snippets shown
                used = tuple(block.index for block in parsed)
                code = "\n\n".join(block.code for block in parsed)
                combined.append(Candidate(f"blocks {_names(used)} joined", code, used))
            defining = [block for block in parsed if _has_definitions(block.code)]
            if len(defining) > 1:
                merged = merge_definitions(learner_code, [block.code for block in defining])
                if merged is not None:
                    used = tuple(block.index for block in defining)
                    combined.append(
                        Candidate(f"your file with the definitions of {_names(used)}", merged, used)
                    )
    room = max(limit - len(combined), 0)
    return _unique([*singles[:room], *combined][:limit], learner_code)


def merge_definitions(learner_code: str, block_codes: Sequence[str]) -> str | None:
    """The learner's file with the top-level functions and classes of `block_codes` put in.

    A definition replaces the learner's one of the same name where it stands (later copies of
    that name are removed). A new one goes just before the first top-level statement of the
    learner's that uses its name (so it exists when that statement runs), else at the end
    (before `if __name__ == "__main__":` when the learner's file does not parse). The blocks'
    imports that the learner's file lacks go at its top. Later blocks win over earlier ones.

    Args:
        learner_code: the learner's main file (it may have syntax errors: its top-level
            definitions are then found line by line).
        block_codes: the code of the blocks, in reply order.

    Returns:
        The merged file, or None when no block parses or none defines a function or class.
    """
    definitions: dict[str, str] = {}
    imports: list[str] = []
    for code in block_codes:
        found = _block_definitions(code)
        if found is None:
            continue
        defs, block_imports = found
        for name, source in defs:
            definitions.pop(name, None)  # re-insert: the last definition of a name counts
            definitions[name] = source
        imports += [line for line in block_imports if line not in imports]
    if not definitions:
        return None
    lines = learner_code.splitlines()
    layout = _learner_layout(learner_code, lines)
    imports = [line for line in imports if line.strip() not in layout.imports]
    replace_at: dict[int, tuple[int, str]] = {}  # start line -> (end line, new source)
    new: list[str] = []
    for name, source in definitions.items():
        found_spans = layout.spans.get(name)
        if not found_spans:
            new.append(name)
            continue
        (start, end), *later = found_spans
        replace_at[start] = (end, source)
        for other_start, other_end in later:
            replace_at.setdefault(other_start, (other_end, ""))
    insert_at = next(
        (line for line, names in layout.uses if any(name in names for name in new)),
        layout.append_at,
    )
    out: list[str] = []
    index = 0
    while index <= len(lines):
        if index == layout.import_at and imports:
            out += [*imports, ""]
        if index == insert_at and new:
            for name in new:
                out += [definitions[name], "", ""]
        if index == len(lines):
            break
        if index in replace_at:
            end, source = replace_at[index]
            if source:
                out.append(source)
            index = end
            continue
        out.append(lines[index])
        index += 1
    return "\n".join(out).rstrip("\n") + "\n"


def _names(indexes: Sequence[int]) -> str:
    return ", ".join(f"#{index}" for index in indexes)


def _parse(code: str) -> ast.Module | None:
    """`code` parsed, or None when it is not valid Python (or too deep to parse)."""
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _parses(code: str) -> bool:
    return _parse(code) is not None


def _has_definitions(code: str) -> bool:
    found = _block_definitions(code)
    return bool(found and found[0])


_DEFINITION = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORT = (ast.Import, ast.ImportFrom)


def _start_line(node: ast.stmt) -> int:
    """The 1-based first line of a statement, its decorators included."""
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _block_definitions(code: str) -> tuple[list[tuple[str, str]], list[str]] | None:
    """The top-level definitions (name, source) and import lines of a block, or None when it
    does not parse."""
    tree = _parse(code)
    if tree is None:
        return None
    lines = code.splitlines()
    defs: list[tuple[str, str]] = []
    imports: list[str] = []
    for node in tree.body:
        source = "\n".join(lines[_start_line(node) - 1 : node.end_lineno])
        if isinstance(node, _DEFINITION):
            defs.append((node.name, source))
        elif isinstance(node, _IMPORT) and not (
            isinstance(node, ast.ImportFrom) and node.module == "__future__"
        ):
            imports.append(source.strip())
    return defs, imports


@dataclass
class _Layout:
    """Where things are in the learner's file (0-based lines, spans end exclusive).

    Attributes:
        spans: the spans of each top-level definition, by name.
        uses: the top-level statements that are not definitions or imports, as
            (first line, names they use).
        import_at: the line new imports go before.
        append_at: where new definitions go when no statement in `uses` uses them.
        imports: the learner's import statements, stripped.
    """

    spans: dict[str, list[tuple[int, int]]]
    uses: list[tuple[int, set[str]]]
    import_at: int
    append_at: int
    imports: set[str]


def _learner_layout(code: str, lines: list[str]) -> _Layout:
    """The layout of the learner's file; found line by line when it does not parse."""
    tree = _parse(code)
    if tree is None:
        return _layout_by_lines(lines)
    layout = _Layout({}, [], 0, len(lines), set())
    for position, node in enumerate(tree.body):
        start, end = _start_line(node) - 1, node.end_lineno or node.lineno
        if isinstance(node, _DEFINITION):
            layout.spans.setdefault(node.name, []).append((start, end))
        elif isinstance(node, _IMPORT):
            layout.imports.add("\n".join(lines[start:end]).strip())
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                layout.import_at = end
        elif position == 0 and _is_docstring(node):
            layout.import_at = end
        else:
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            layout.uses.append((start, names))
    return layout


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _layout_by_lines(lines: list[str]) -> _Layout:
    """The layout of a file that does not parse: a definition is a `def`/`class` line at
    column 0 with the indented (or blank) lines after it; new definitions go before the first
    `if __name__ == ...` line, else at the end."""
    layout = _Layout({}, [], 0, len(lines), set())
    layout.imports = {line.strip() for line in lines if re.match(r"(?:import|from)\s", line)}
    guard_seen = False
    index = 0
    while index < len(lines):
        match = _TOP_DEF.match(lines[index])
        if match is None:
            if not guard_seen and _MAIN_GUARD.match(lines[index]):
                layout.append_at, guard_seen = index, True
            index += 1
            continue
        end = last = index + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t)]}"):
            end += 1
            if lines[end - 1].strip():
                last = end
        layout.spans.setdefault(match.group(1), []).append((index, last))
        index = end
    return layout


def _unique(found: list[Candidate], learner_code: str) -> list[Candidate]:
    """`found` with each program once (blocks united), without the learner's own code."""
    by_code: dict[str, Candidate] = {}
    own = _normal(learner_code)
    for candidate in found:
        code = _normal(candidate.code)
        if code == own:
            continue
        known = by_code.get(code)
        if known is None:
            by_code[code] = Candidate(candidate.description, code, candidate.blocks)
        else:
            blocks = tuple(sorted({*known.blocks, *candidate.blocks}))
            by_code[code] = Candidate(known.description, code, blocks)
    return list(by_code.values())


def _normal(code: str) -> str:
    """`code` with Unix newlines, no trailing spaces on lines and one final newline."""
    lines = [line.rstrip() for line in code.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def replace_blocks(reply: str, replacements: dict[int, str]) -> str:
    """`reply` with some of its code blocks (by `code_blocks` index) replaced by Markdown.

    The chat panel holds code behind "checking this code…" while a reply streams, and folds
    a block that solves the exercise behind a question. A block inside a list or a quote
    keeps its line's indentation and quote marks, so the replacement stays inside it.

    Args:
        reply: the tutor's reply (Markdown).
        replacements: the Markdown to show instead of block `index`.
    """
    if not replacements:
        return reply
    lines = reply.splitlines(keepends=True)
    spans: list[tuple[int, int, str]] = []
    index = 0
    for token in _MD.parse(reply):
        if token.type not in _CODE_TOKENS:
            continue
        if index in replacements and token.map is not None:
            start, end = token.map
            first = lines[start] if start < len(lines) else ""
            lead = first[: len(first) - len(first.lstrip(" \t>"))]
            if token.type == "code_block":
                lead = lead[: max(0, len(lead) - 4)]
            text = "".join(f"{lead}{row}\n" for row in replacements[index].splitlines())
            spans.append((start, end, text))
        index += 1
    for start, end, text in reversed(spans):
        before = "" if start == 0 or lines[start - 1].strip() == "" else "\n"
        lines[start:end] = [before + text + "\n"]
    return "".join(lines)
