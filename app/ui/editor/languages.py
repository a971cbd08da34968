"""Per-language data for the editor: the Lexilla lexer and its keyword lists.

Which lexer a language uses comes from the registry (`app.core.languages`); the keyword lists
and block openers live here.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from app.core.languages import LANGUAGES
from app.ui.common.theme import THEME, rgb


@dataclass(frozen=True)
class LexerSpec:
    """Which Lexilla lexer a language uses and the keyword lists it needs."""

    lexer: str
    keywords: dict[int, str]
    block_openers: tuple[str, ...]


_CPP = (
    "alignas alignof and asm auto bool break case catch char class const constexpr continue "
    "decltype default delete do double else enum explicit export extern false float for friend "
    "goto if inline int long mutable namespace new noexcept not nullptr operator or private "
    "protected public return short signed sizeof static struct switch template this throw true "
    "try typedef typename union unsigned using virtual void volatile while include define"
)
_JAVA = (
    "abstract assert boolean break byte case catch char class const continue default do double "
    "else enum extends final finally float for if implements import instanceof int interface "
    "long native new null package private protected public return short static super switch "
    "synchronized this throw throws transient true false try var void volatile while record"
)
_JS = (
    "async await break case catch class const continue debugger default delete do else export "
    "extends false finally for function if import in instanceof let new null of return static "
    "super switch this throw true try typeof undefined var void while yield"
)
_TS = _JS + (
    " abstract any as boolean declare enum implements interface keyof module namespace never "
    "number private protected public readonly string symbol type unknown"
)
_CS = (
    "abstract as base bool break byte case catch char checked class const continue decimal "
    "default delegate do double else enum event explicit extern false finally fixed float for "
    "foreach goto if implicit in int interface internal is lock long namespace new null object "
    "operator out override params private protected public readonly ref return sbyte sealed "
    "short sizeof stackalloc static string struct switch this throw true try typeof uint ulong "
    "unchecked unsafe ushort using var virtual void volatile while async await"
)
_BASH = (
    "if then else elif fi case esac for while until do done in function return local export "
    "declare readonly select break continue exit echo read printf set unset shift source test"
)
_PHP = (
    "abstract and array as break callable case catch class clone const continue declare "
    "default do echo else elseif empty enddeclare endfor endforeach endif endswitch endwhile "
    "extends final finally fn for foreach function global goto if implements include "
    "include_once instanceof insteadof interface isset list match namespace new or print "
    "private protected public readonly require require_once return static switch throw trait "
    "try unset use var while xor yield true false null"
)

# language id -> (keyword lists by Lexilla word-list index, words after which a line indents)
_WORDS: dict[str, tuple[dict[int, str], tuple[str, ...]]] = {
    "python": ({0: " ".join(keyword.kwlist + keyword.softkwlist)}, (":",)),
    "cpp": ({0: _CPP}, ("{",)),
    "java": ({0: _JAVA}, ("{",)),
    "javascript": ({0: _JS}, ("{",)),
    "typescript": ({0: _TS}, ("{",)),
    "csharp": ({0: _CS}, ("{",)),
    "bash": ({0: _BASH}, ("then", "do", "{")),
    "php": ({4: _PHP}, ("{",)),
}

LEXERS: dict[str, LexerSpec] = {
    language.id: LexerSpec(language.lexer, *_WORDS.get(language.id, ({}, ())))
    for language in LANGUAGES.values()
    if language.lexer is not None
}
"""Language id -> how the editor highlights it; plain text (no lexer) is not here."""

# Colours by Lexilla's style tags (the lexer says what each of its styles is).
TAG_COLOURS: list[tuple[str, int, bool, bool]] = [
    # (tag, 0xRRGGBB, bold, italic); the first matching tag wins
    ("error", rgb(THEME.error), False, False),
    ("comment", rgb(THEME.syntax_comment), False, True),
    ("keyword", rgb(THEME.syntax_keyword), True, False),
    ("literal string", rgb(THEME.syntax_string), False, False),
    ("literal numeric", rgb(THEME.syntax_number), False, False),
    ("literal", rgb(THEME.syntax_string), False, False),
    ("preprocessor", rgb(THEME.syntax_preprocessor), False, False),
    ("operator", rgb(THEME.syntax_operator), False, False),
]


def style_for_tags(tags: str) -> tuple[int, bool, bool] | None:
    """The (colour, bold, italic) for a style with Lexilla `tags`, or None for the default."""
    words = f" {tags} "
    for tag, colour, bold, italic in TAG_COLOURS:
        if f" {tag} " in words:
            return colour, bold, italic
    return None
