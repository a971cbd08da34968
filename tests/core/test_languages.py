"""The language registry: every language is wired to the editor, the runner and the parsers."""

from __future__ import annotations

from collections import Counter

import pytest
from pygments.lexers import get_lexer_by_name

from app.core import filetypes
from app.core.languages import (
    LANGUAGES,
    PLAIN_TEXT,
    TEXT,
    display_name,
    get_language,
    language_for_fence,
    language_for_path,
)
from app.core.lessons import LANGUAGES as LESSON_LANGUAGES
from app.core.markdown import highlight_code
from app.runner import errors, toolchains
from app.ui.editor.languages import LEXERS

REGISTERED = list(LANGUAGES.values())
IDS = [language.id for language in REGISTERED]


@pytest.mark.parametrize("language", REGISTERED, ids=IDS)
def test_every_language_has_an_editor_lexer_that_lexilla_has(language):
    """Each language is in the editor's LEXERS under its id, with a lexer Lexilla can create."""
    lexilla = pytest.importorskip("lexilla")
    assert language.lexer is not None
    assert LEXERS[language.id].lexer == language.lexer
    catalogue = {lexilla.get_lexer_name(i) for i in range(lexilla.get_lexer_count())}
    assert language.lexer in catalogue
    assert lexilla.create_lexer(language.lexer) is not None


@pytest.mark.parametrize("language", REGISTERED, ids=IDS)
def test_every_language_has_a_toolchain(language):
    """Each language names a toolchain the runner knows, so it is runnable and has install words."""
    assert language.toolchain in toolchains.TOOLCHAINS
    assert toolchains.toolchain_id(language.id) == language.toolchain
    assert language.id in toolchains.LANGUAGES
    assert toolchains.missing_message(language.id).startswith(f"To run {language.name} ")


@pytest.mark.parametrize("language", REGISTERED, ids=IDS)
def test_every_language_has_an_error_parser(language):
    """Each language names an error parser that exists, so its errors are located."""
    assert language.error_parser in errors.ERROR_PARSERS
    assert errors.parsers_for(language.id) == errors.ERROR_PARSERS[language.error_parser]
    assert errors.parsers_for(language.id)


def test_extensions_are_unique_and_map_to_their_language():
    """No extension belongs to two languages, and each file name maps to its language."""
    counts = Counter(ext for language in REGISTERED for ext in language.extensions)
    assert [ext for ext, n in counts.items() if n > 1] == []
    for language in REGISTERED:
        assert language.extensions, language.id
        for ext in language.extensions:
            assert ext.startswith(".") and ext == ext.lower()
            assert language_for_path(f"main{ext}") == language.id
            assert language_for_path(f"MAIN{ext.upper()}") == language.id
    by_extension = {ext: language.id for language in REGISTERED for ext in language.extensions}
    assert by_extension == filetypes.LANGUAGE_BY_EXTENSION


def test_fence_aliases_resolve_to_one_language():
    """Each language's id and fence aliases, in any case, resolve to it and to no other."""
    names = [name for language in REGISTERED for name in (language.id, *language.fences)]
    assert [name for name, n in Counter(names).items() if n > 1] == []
    for language in REGISTERED:
        for name in (language.id, *language.fences):
            assert language_for_fence(name) == language.id
            assert language_for_fence(name.upper()) == language.id
    assert language_for_fence("py") == "python"
    assert language_for_fence("c++") == "cpp"
    assert language_for_fence("C#") == "csharp"
    assert language_for_fence("shell") == "bash"
    assert language_for_fence("rust") is None
    assert language_for_fence("") is None


@pytest.mark.parametrize("language", REGISTERED, ids=IDS)
def test_fence_aliases_highlight_like_the_language(language):
    """A code block fenced with an alias is coloured as the language (its id is a Pygments name)."""
    get_lexer_by_name(language.id)
    code = "x = 1  # one\n"
    for alias in language.fences:
        assert highlight_code(code, alias) == highlight_code(code, language.id), alias


def test_plain_text_is_the_fallback_outside_the_registry():
    """Unknown files are plain text, which has a name but no lexer, toolchain or parser."""
    assert TEXT not in LANGUAGES
    assert language_for_path("notes.txt") == language_for_path(None) == TEXT
    assert language_for_path("Makefile") == TEXT
    assert get_language(TEXT) is PLAIN_TEXT and get_language("cobol") is PLAIN_TEXT
    assert (PLAIN_TEXT.lexer, PLAIN_TEXT.toolchain, PLAIN_TEXT.error_parser) == (None, None, None)
    assert TEXT not in LEXERS
    assert errors.parsers_for(TEXT) == ()
    assert not toolchains.find_toolchain(TEXT).available


def test_display_names_come_from_the_registry():
    """Display names, the file-type table and the lesson languages are views of the registry."""
    assert display_name("cpp") == "C++"
    assert display_name("csharp") == "C#"
    assert display_name(TEXT) == "Plain text"
    assert display_name("cobol") == "cobol"
    names = {language.id: language.name for language in REGISTERED}
    assert {**names, TEXT: "Plain text"} == filetypes.LANGUAGE_NAMES
    assert filetypes.language_for_path is language_for_path
    assert tuple(LANGUAGES) == LESSON_LANGUAGES
