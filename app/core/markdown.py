"""Markdown for lesson text, hints and the tutor's replies: CommonMark by markdown-it-py
(paragraphs with soft line breaks, nested lists, block quotes, tables, emphasis, inline code),
with fenced code blocks highlighted by Pygments.

The HTML is the subset Qt's rich text understands (inline styles, tables for code blocks).
An unclosed fence, as seen while a reply is still streaming, renders as a code block.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from app.core.languages import language_for_fence

_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+#.-]*)\s*$")

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


_INLINE_CODE_STYLE = "background-color:#eef0f3; font-family:monospace;"


def _fence(tokens: list[Token], idx: int, env: dict) -> str:
    token = tokens[idx]
    language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    block = CodeBlock(language, token.content.rstrip("\n"))
    index = env["offset"] + len(env["blocks"])
    env["blocks"].append(block)
    return _code_block_html(block, index, env["actions"])


def _renderer() -> MarkdownIt:
    """CommonMark without raw HTML (a reply's or lesson's "<script>" shows as text), with
    tables, rendered to tags Qt shows well."""
    md = MarkdownIt("commonmark", {"html": False, "breaks": False}).enable("table")
    rules = {
        "fence": lambda _r, tokens, idx, _options, env: _fence(tokens, idx, env),
        "code_block": lambda _r, tokens, idx, _options, env: _fence(tokens, idx, env),
        "code_inline": lambda _r, tokens, idx, _options, _env: (
            f'<code style="{_INLINE_CODE_STYLE}">'
            f"{html.escape(tokens[idx].content, quote=False)}</code>"
        ),
        "strong_open": lambda *_: "<b>",
        "strong_close": lambda *_: "</b>",
        "em_open": lambda *_: "<i>",
        "em_close": lambda *_: "</i>",
        # Headings two levels down: a reply's "# Title" should not shout in a side panel.
        "heading_open": lambda _r, tokens, idx, *_: f"<h{min(int(tokens[idx].tag[1]) + 2, 6)}>",
        "heading_close": lambda _r, tokens, idx, *_: f"</h{min(int(tokens[idx].tag[1]) + 2, 6)}>",
        "table_open": lambda *_: '<table border="1" cellspacing="0" cellpadding="4">',
    }
    for name, rule in rules.items():
        md.add_render_rule(name, rule)
    return md


_MD = _renderer()


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
    env: dict = {"blocks": [], "offset": block_offset, "actions": code_actions}
    body = _MD.render(text, env)
    return Rendered(body.strip(), tuple(env["blocks"]))
