"""Per-language data for the editor: the Lexilla lexer and its keyword lists."""

from __future__ import annotations

import keyword
from dataclasses import dataclass


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

LEXERS: dict[str, LexerSpec] = {
    "python": LexerSpec("python", {0: " ".join(keyword.kwlist + keyword.softkwlist)}, (":",)),
    "cpp": LexerSpec("cpp", {0: _CPP}, ("{",)),
    "java": LexerSpec("cpp", {0: _JAVA}, ("{",)),
    "javascript": LexerSpec("cpp", {0: _JS}, ("{",)),
    "typescript": LexerSpec("cpp", {0: _TS}, ("{",)),
    "csharp": LexerSpec("cpp", {0: _CS}, ("{",)),
    "bash": LexerSpec("bash", {0: _BASH}, ("then", "do", "{")),
    "php": LexerSpec("phpscript", {4: _PHP}, ("{",)),
}

# Colours by Lexilla's style tags (the lexer says what each of its styles is).
TAG_COLOURS: list[tuple[str, int, bool, bool]] = [
    # (tag, 0xRRGGBB, bold, italic); the first matching tag wins
    ("error", 0xC62828, False, False),
    ("comment", 0x6A737D, False, True),
    ("keyword", 0x0033B3, True, False),
    ("literal string", 0x067D17, False, False),
    ("literal numeric", 0x1750EB, False, False),
    ("literal", 0x067D17, False, False),
    ("preprocessor", 0x9E880D, False, False),
    ("operator", 0x5A5A5A, False, False),
]


def style_for_tags(tags: str) -> tuple[int, bool, bool] | None:
    """The (colour, bold, italic) for a style with Lexilla `tags`, or None for the default."""
    words = f" {tags} "
    for tag, colour, bold, italic in TAG_COLOURS:
        if f" {tag} " in words:
            return colour, bold, italic
    return None
