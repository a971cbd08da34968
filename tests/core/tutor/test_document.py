"""The Document proposal: the reply's best code block as a diff, and whether code changed."""

import pytest

from app.core.tutor.document import code_blocks, code_without_comments, proposal_from_reply

AREA = "def area(w, h):\n    return w * h\n\n\nsize = area(2, 3)\nprint(size)\n"

DOCUMENTED_AREA = '''Here is your code with comments:

```python
def area(w, h):
    """Return the area of a w by h rectangle."""
    # The area is the product of the sides.
    return w * h


# A 2 by 3 rectangle.
size = area(2, 3)
print(size)  # shows 6
```

Comments say *why*, the code says *how*.
'''


def fenced(code: str, info: str = "python") -> str:
    """A reply with `code` in one fenced block between prose."""
    return f"Sure.\n\n```{info}\n{code}\n```\n\nDone."


def test_comment_only_proposal_says_how_many_comment_lines():
    """Comments and a docstring added: no code change, and the summary counts the lines."""
    proposal = proposal_from_reply(DOCUMENTED_AREA, AREA, "python")
    assert proposal is not None
    assert not proposal.code_changed
    assert proposal.changed_lines == ()
    assert proposal.summary == ("Adds 3 comment lines and changes the comments on 1 line.")
    added = [line.text for line in proposal.diff if line.kind == "added"]
    assert '    """Return the area of a w by h rectangle."""' in added
    assert proposal.proposed.endswith("print(size)  # shows 6\n")


def test_renamed_variable_is_a_code_change_on_its_lines():
    """Renaming a variable is flagged with the lines it touches, before any apply."""
    reply = DOCUMENTED_AREA.replace("size", "result")
    proposal = proposal_from_reply(reply, AREA, "python")
    assert proposal.code_changed
    assert proposal.changed_lines == (5, 6)
    assert proposal.summary.startswith(
        "Careful: this also changes your code on lines 5–6, not only comments."
    )


def test_changed_lines_are_told_in_the_files_numbers():
    """For a selection starting at line 10, the summary names the file's lines."""
    reply = fenced("x = 1\ny = 3  # was 2\nz = 3")
    proposal = proposal_from_reply(reply, "x = 1\ny = 2\nz = 3", "python", first_line=10)
    assert proposal.changed_lines == (2,)
    assert "changes your code on line 11, not only comments" in proposal.summary


def test_python_docstrings_are_not_code():
    """Module, class and function docstrings are dropped; a string elsewhere is code."""
    code = (
        '"""Module doc."""\n'
        "class A:\n"
        "    '''Class doc.'''\n"
        "    def f(self):\n"
        '        """Method doc,\n        on two lines."""\n'
        '        "not a docstring"  # but a comment\n'
        "        return 1\n"
    )
    assert code_without_comments(code, "python") == [
        "class A :",
        "\tdef f ( self ) :",
        '\t\t"not a docstring"',
        "\t\treturn 1",
    ]


def test_python_docstring_added_to_an_indented_selection():
    """A method selected with its indentation, returned dedented: indentation is kept."""
    original = "    def f(self):\n        return 1\n"
    reply = fenced('def f(self):\n    """One, always."""\n    return 1')
    proposal = proposal_from_reply(reply, original, "python")
    assert not proposal.code_changed
    assert proposal.proposed == '    def f(self):\n        """One, always."""\n        return 1\n'


@pytest.mark.parametrize("language", ["cpp", "java", "javascript", "csharp"])
def test_c_family_line_and_block_comments_are_not_code(language):
    """// and /* */ comments go; the same text inside a string stays."""
    code = (
        "/* Adds two\n   numbers. */\n"
        "int add(int a, int b) { // sum\n"
        '    return a + b; /* inline */ // "quoted"\n'
        "}\n"
        'char* s = "// not a comment /* nor this */";\n'
    )
    assert code_without_comments(code, language) == [
        "int add(int a,int b){",
        "return a+b;",
        "}",
        'char*s="// not a comment /* nor this */";',
    ]


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        ("php", "<?php\n# note\n#[Pure]\n$a = 1; // b\n", ["<?php", "#[Pure]", "$a=1;"]),
        ("csharp", 'var p = @"C:\\dir\\"; // path\n', ['var p=@"C:\\dir\\";']),
        ("javascript", "let s = `a\n// in a template`; // c\n", ["let s=`a\n// in a template`;"]),
        ("bash", "cat <<< 'x' # c\n", ["cat <<< 'x'"]),
    ],
    ids=["php hash and attribute", "csharp verbatim string", "js template", "bash herestring"],
)
def test_language_specific_comments_and_strings(language, code, expected):
    """PHP's # comments (not #[ attributes), C#'s @"..." and JS templates are read right."""
    assert code_without_comments(code, language) == expected


def test_cpp_comment_only_proposal_and_code_change():
    """A C++ proposal adding // and /* */ comments changes no code; changing a number does."""
    original = "int main() {\n    int n = 3;\n    return n;\n}\n"
    documented = (
        "/* The program's entry point. */\n"
        "int main() {\n    int n = 3; // how many\n    return n;\n}"
    )
    proposal = proposal_from_reply(fenced(documented, "cpp"), original, "cpp")
    assert not proposal.code_changed
    changed = proposal_from_reply(fenced(documented.replace("3", "4"), "cpp"), original, "cpp")
    assert changed.code_changed and changed.changed_lines == (2,)


def test_java_javadoc_is_a_comment():
    """A Javadoc block above a method is a comment in Java."""
    original = "class A {\n    int twice(int x) {\n        return 2 * x;\n    }\n}\n"
    documented = (
        "class A {\n    /**\n     * Doubles x.\n     */\n"
        "    int twice(int x) {\n        return 2 * x;\n    }\n}"
    )
    proposal = proposal_from_reply(fenced(documented, "java"), original, "java")
    assert not proposal.code_changed
    assert proposal.summary == "Adds 3 comment lines."


def test_hash_inside_a_string_is_not_a_comment():
    """In Python and Bash a # inside quotes is code: changing it is a code change."""
    assert code_without_comments('s = "# not" # yes\n', "python") == ['s = "# not"']
    assert code_without_comments("echo \"# not\" '# nor' # yes\n", "bash") == [
        "echo \"# not\" '# nor'"
    ]
    original = 'echo "# step 1"\n'
    proposal = proposal_from_reply(fenced('echo "# step 2"', "bash"), original, "bash")
    assert proposal.code_changed and proposal.changed_lines == (1,)


def test_bash_keeps_shebang_parameter_lengths_and_here_documents():
    """#! on line 1, ${#x} and a here-document's # lines are code, not comments."""
    code = "#!/bin/bash\n# says hi\nn=${#1} # length\ncat <<EOF\n# shown\nEOF\n"
    assert code_without_comments(code, "bash") == [
        "#!/bin/bash",
        "n=${#1}",
        "cat <<EOF\n# shown\nEOF",
    ]


def test_whitespace_within_a_line_does_not_count():
    """Spacing inside a line is not a code change; a Python line's indentation depth is."""
    assert code_without_comments("x=1+2", "python") == code_without_comments("x = 1 + 2", "python")
    assert code_without_comments("int x=1;", "cpp") == code_without_comments("int  x = 1 ;", "cpp")
    moved = "if a:\n    b()\nc()\n"
    assert code_without_comments(moved, "python") != code_without_comments(
        "if a:\n    b()\n    c()\n", "python"
    )


def test_partial_python_selection_still_compares():
    """A selection that does not tokenize on its own (an open bracket) is still compared."""
    original = "total = add(1,\n"
    proposal = proposal_from_reply(fenced("total = add(1,  # the first"), original, "python")
    assert proposal is not None and not proposal.code_changed


@pytest.mark.parametrize(
    "reply",
    [
        "No code here, just advice.",
        "```python\n```",
        "```python\n   \n```\nNothing.",
        fenced(AREA.rstrip("\n")),
    ],
    ids=["no block", "empty block", "blank block", "unchanged"],
)
def test_nothing_to_propose_is_none(reply):
    """A reply without code, with an empty block, or repeating the code is no proposal."""
    assert proposal_from_reply(reply, AREA, "python") is None


def test_unclosed_last_fence_counts():
    """A reply cut off inside its code block still proposes that code."""
    reply = "Here:\n\n~~~py\nx = 1  # one\n"
    proposal = proposal_from_reply(reply, "x = 1\n", "python")
    assert proposal.proposed == "x = 1  # one\n"
    assert code_blocks("```\na\n````\nb\n") == ["a"]


def test_best_matching_block_is_chosen():
    """Of two blocks, the one closest to the learner's code is the proposal."""
    reply = "A tiny example first:\n\n```python\n# greet\nprint('hi')\n```\n\n" + DOCUMENTED_AREA
    proposal = proposal_from_reply(reply, AREA, "python")
    assert "# The area is the product of the sides." in proposal.proposed
    assert "print('hi')" not in proposal.proposed


def test_line_endings_and_final_newline_follow_the_original():
    """CRLF code stays CRLF; the reply's missing final newline is not a change."""
    original = "x = 1\r\ny = 2\r\n"
    proposal = proposal_from_reply(fenced("# the point\nx = 1\ny = 2"), original, "python")
    assert proposal.proposed == "# the point\r\nx = 1\r\ny = 2\r\n"
    assert [line.kind for line in proposal.diff] == ["added", "same", "same"]


def test_tabs_are_kept_when_the_reply_uses_spaces():
    """The learner's tab indentation survives a reply indented with spaces."""
    original = "if x:\n\ty()\n"
    proposal = proposal_from_reply(fenced("if x:\n    # call y\n    y()"), original, "python")
    assert proposal.proposed == "if x:\n\t# call y\n\ty()\n"


def test_one_moved_line_is_not_undone_by_reindenting():
    """A reply that re-indents one line keeps it: that line is the code change."""
    original = "if a:\n    b(\nc(\n"
    reply = fenced("if a:\n    b(  # call\n    c(")
    proposal = proposal_from_reply(reply, original, "python")
    assert proposal.proposed == "if a:\n    b(  # call\n    c(\n"
    assert proposal.code_changed and proposal.changed_lines == (3,)


def test_trailing_spaces_the_reply_dropped_are_not_a_change():
    """Lines the reply only stripped of trailing spaces stay as the learner wrote them."""
    original = "x = 1   \n\ny = 2\n"
    proposal = proposal_from_reply(fenced("x = 1\n\n# then y\ny = 2"), original, "python")
    assert proposal.proposed == "x = 1   \n\n# then y\ny = 2\n"
    assert [line.kind for line in proposal.diff] == ["same", "same", "added", "same"]
