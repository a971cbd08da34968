"""A small Markdown renderer for tutor replies: paragraphs, headings, lists, emphasis,
inline code and fenced code blocks highlighted by Pygments.

The HTML is the subset Qt's rich text understands (inline styles, tables for blocks).
An unclosed fence, as seen while a reply is still streaming, renders as a code block.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from app.core.languages import language_for_fence

_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+#.-]*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+(.*)$")
_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")

_FORMATTER = HtmlFormatter(nowrap=True, noclasses=True, style="friendly")


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block found in a reply."""

    language: str
    code: str


@dataclass(frozen=True)
class Rendered:
    """A reply rendered to HTML, with its code blocks in order."""

    html: str
    code_blocks: tuple[CodeBlock, ...]


def _inline(text: str) -> str:
    """Escape and format one line's inline Markdown."""
    parts = []
    last = 0
    for m in _INLINE_CODE.finditer(text):
        parts.append(_emphasis(html.escape(text[last : m.start()], quote=False)))
        parts.append(
            '<code style="background-color:#eef0f3; font-family:monospace;">'
            f"{html.escape(m.group(1), quote=False)}</code>"
        )
        last = m.end()
    parts.append(_emphasis(html.escape(text[last:], quote=False)))
    return "".join(parts)


def _emphasis(escaped: str) -> str:
    escaped = _BOLD.sub(lambda m: f"<b>{m.group(1) or m.group(2)}</b>", escaped)
    return _ITALIC.sub(r"<i>\1</i>", escaped)


HIGHLIGHT_LIMIT = 50_000  # characters of one code block that are coloured


def highlight_code(code: str, language: str) -> str:
    """HTML (inline styles) for `code` highlighted as `language`; plain text if unknown.

    `language` is a fence name: a registered language's id or alias (see `app.core.languages`;
    every id is also a Pygments name), or else any name Pygments knows.
    """
    name = (language_for_fence(language) or language.lower()) if language else ""
    if len(code) > HIGHLIGHT_LIMIT:  # colouring a huge block would take seconds: plain
        name = ""
    try:
        lexer = get_lexer_by_name(name) if name else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    return highlight(code, lexer, _FORMATTER).rstrip("\n")


def _code_block_html(block: CodeBlock, index: int, actions: bool) -> str:
    body = highlight_code(block.code, block.language).replace("\n", "<br/>")
    body = body.replace("  ", "&nbsp; ")
    links = ""
    if actions:
        links = (
            f'<a href="copy:{index}">Copy</a> &nbsp; '
            f'<a href="insert:{index}">Insert into editor</a>'
        )
    label = html.escape(block.language or "code")
    return (
        '<table width="100%" cellspacing="0" cellpadding="6" '
        'style="background-color:#f6f8fa; border:1px solid #d0d7de; margin:4px 0;">'
        f'<tr><td style="color:#57606a; font-size:small;">{label} &nbsp; {links}</td></tr>'
        f'<tr><td style="font-family:monospace;">{body}</td></tr></table>'
    )


def stable_prefix_length(text: str) -> int:
    """Length of the leading part of `text` that later text cannot change when rendered:
    everything up to the last blank line that is outside a code fence (0 if none).

    A streaming reply renders this part once; only the rest is re-rendered as it grows.
    """
    in_fence = False
    marker = ""
    stable = 0
    pos = 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        fence = _FENCE.match(line.rstrip("\n"))
        if fence and (not in_fence or line.strip().startswith(marker)):
            in_fence = not in_fence
            marker = fence.group(1)
            if not in_fence and line.endswith("\n"):
                stable = pos
        elif not in_fence and not line.strip() and line.endswith("\n"):
            stable = pos
    return stable


def render_markdown(text: str, *, code_actions: bool = True, block_offset: int = 0) -> Rendered:
    """Render Markdown `text` to Qt-friendly HTML.

    Args:
        text: the Markdown source (possibly a reply still streaming).
        code_actions: add "Copy" and "Insert into editor" links under each code block,
            as `copy:N` / `insert:N` anchors (N indexes `Rendered.code_blocks`, plus
            `block_offset`).
        block_offset: the number of code blocks rendered before this text.

    Returns:
        The HTML and the code blocks.
    """
    out: list[str] = []
    blocks: list[CodeBlock] = []
    para: list[str] = []
    list_kind: str | None = None
    lines = text.split("\n")
    i = 0

    def flush_para() -> None:
        if para:
            out.append("<p>" + "<br/>".join(_inline(p) for p in para) + "</p>")
            para.clear()

    def close_list() -> None:
        nonlocal list_kind
        if list_kind:
            out.append(f"</{list_kind}>")
            list_kind = None

    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush_para()
            close_list()
            marker, lang = fence.group(1), fence.group(2)
            code_lines = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                code_lines.append(lines[i])
                i += 1
            block = CodeBlock(lang, "\n".join(code_lines).rstrip("\n"))
            out.append(_code_block_html(block, block_offset + len(blocks), code_actions))
            blocks.append(block)
            i += 1
            continue
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line)
        if heading:
            flush_para()
            close_list()
            level = min(len(heading.group(1)) + 2, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            flush_para()
            kind = "ul" if bullet else "ol"
            if list_kind != kind:
                close_list()
                out.append(f"<{kind}>")
                list_kind = kind
            item = bullet.group(1) if bullet else numbered.group(2)  # type: ignore[union-attr]
            out.append(f"<li>{_inline(item)}</li>")
        elif not line.strip():
            flush_para()
            close_list()
        else:
            close_list()
            para.append(line)
        i += 1
    flush_para()
    close_list()
    return Rendered("".join(out), tuple(blocks))
