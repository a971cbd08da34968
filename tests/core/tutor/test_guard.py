"""Tests of the solution guard's plain logic: a reply's code blocks and the candidate programs."""

from __future__ import annotations

import ast

from app.core.markdown import render_markdown
from app.core.tutor.guard import (
    MAX_CANDIDATES,
    Candidate,
    FencedBlock,
    candidates,
    code_blocks,
    merge_definitions,
)

STARTER = """# Lesson 6: Functions


def greet(name):
    # Return (don't print!) the text "Hello, <name>!"
    pass


def area(width, height):
    # Return the area of a rectangle: width times height.
    pass


if __name__ == "__main__":
    width = int(input())
    height = int(input())
    print(f"The area is {area(width, height)}.")
"""

FIXED_AREA = "def area(width, height):\n    return width * height"


def _run(code: str, stdin: list[str] | None = None) -> dict:
    """Execute `code` as __main__ with `input()` fed from `stdin`; its globals and prints."""
    printed: list[str] = []
    feed = iter(stdin or [])
    env = {
        "__name__": "__main__",
        "input": lambda *_: next(feed),
        "print": lambda *a: printed.append(" ".join(map(str, a))),
    }
    exec(compile(code, "main.py", "exec"), env)
    env["printed"] = printed
    return env


def test_a_reply_without_code_has_no_blocks():
    """Plain text, inline code and an empty reply give no blocks."""
    assert code_blocks("") == []
    assert code_blocks("Use `return` instead of `print`.\n\nTry again!") == []


def test_an_unclosed_final_fence_is_a_block_to_the_end():
    """A fence still open when the reply ends holds the rest of the reply."""
    reply = "Fixed:\n\n```python\ndef area(w, h):\n    return w * h\n"
    assert code_blocks(reply) == [FencedBlock(0, "python", "def area(w, h):\n    return w * h")]


def test_blocks_are_numbered_as_the_chat_panel_numbers_them():
    """Backtick, tilde (inside a list) and indented blocks get the indexes render_markdown
    gives them, with the same language and code; an inner ``` in a ~~~ fence is code."""
    reply = (
        "First:\n\n```py title\nname = 'Ada'\n```\n\n"
        "- then\n\n  ~~~\n  print(name)\n  ```\n  ~~~\n\n"
        "Or indented:\n\n    age = 36\n\nDone `inline`."
    )
    blocks = code_blocks(reply)
    rendered = render_markdown(reply).code_blocks
    assert [b.index for b in blocks] == [0, 1, 2]
    assert [(b.language, b.code) for b in blocks] == [(r.language, r.code) for r in rendered]
    assert [(b.language, b.code) for b in blocks] == [
        ("py", "name = 'Ada'"),
        ("", "print(name)\n```"),
        ("", "age = 36"),
    ]


def test_each_block_alone_then_all_joined():
    """Two blocks give each alone and both joined with a blank line, in that order."""
    reply = "Set it:\n```python\nname = 'Ada'\n```\nthen print:\n```python\nprint(name)\n```"
    found = candidates(code_blocks(reply), "print('start')\n", "python")
    assert [(c.code, c.blocks) for c in found] == [
        ("name = 'Ada'\n", (0,)),
        ("print(name)\n", (1,)),
        ("name = 'Ada'\n\nprint(name)\n", (0, 1)),
    ]
    assert _run(found[-1].code)["printed"] == ["Ada"]


def test_typescript_lessons_take_javascript_blocks():
    """A TypeScript lesson tries ```js blocks (valid TypeScript) but not ```python ones."""
    reply = "```js\nconsole.log(1);\n```\n```python\nprint(1)\n```\n```ts\nlet a = 1;\n```"
    found = candidates(code_blocks(reply), "", "typescript")
    assert [c.blocks for c in found] == [(0,), (2,), (0, 2)]


def test_blocks_of_another_language_are_left_out():
    """In a Python lesson a ```bash block is no candidate; unknown names and no name are."""
    reply = "```bash\npython main.py\n```\n```\nx = 1\n```\n```text\nx = 2\n```"
    found = candidates(code_blocks(reply), "", "python")
    assert [c.blocks for c in found] == [(1,), (2,), (1, 2)]


def test_a_fixed_function_goes_in_place_of_the_learners():
    """A block with one fixed function gives the learner's file with just that function
    changed: the rest of the file, comments and main part, is kept and the program works."""
    reply = f"Your area should return:\n\n```python\n{FIXED_AREA}\n\nprint(area(3, 4))\n```"
    found = candidates(code_blocks(reply), STARTER, "python")
    assert [c.description for c in found] == [
        "block #0 alone",
        "your file with block #0's definitions",
    ]
    merged = found[1].code
    assert merged == STARTER.replace(
        "    # Return the area of a rectangle: width times height.\n    pass",
        "    return width * height",
    )
    env = _run(merged, ["3", "4"])
    assert env["printed"] == ["The area is 12."]
    assert env["greet"]("Ada") is None  # the learner's greet is still theirs


def test_functions_from_several_blocks_are_put_in_together():
    """Two blocks fixing one function each give a file with both fixed."""
    reply = (
        '```python\ndef greet(name):\n    return f"Hello, {name}!"\n```\n'
        f"and\n```python\n{FIXED_AREA}\n```"
    )
    found = candidates(code_blocks(reply), STARTER, "python")
    both = [c for c in found if c.description.startswith("your file with the definitions")]
    assert [c.blocks for c in both] == [(0, 1)]
    env = _run(both[0].code, ["2", "5"])
    assert env["greet"]("Ada") == "Hello, Ada!"
    assert env["printed"] == ["The area is 10."]


def test_a_new_function_goes_before_the_statement_that_calls_it():
    """A helper the learner lacks is defined before the first top-level statement using it,
    and the imports it needs go at the top, so the merged program runs."""
    learner = 'import sys\n\nname = "Ada"\nprint(shout(name))\nprint("end")\n'
    block = "import sys\nimport math\n\ndef shout(text):\n    return text.upper() + str(math.pi)[0]"
    merged = merge_definitions(learner, [block])
    assert merged is not None
    assert merged.index("import math") < merged.index("def shout") < merged.index("print(shout")
    assert merged.count("import sys") == 1
    assert _run(merged)["printed"] == ["ADA3", "end"]


def test_a_learner_file_with_a_syntax_error_still_gets_the_fixed_function():
    """When the learner's file does not parse, its broken function is found line by line,
    replaced, and a new function goes before `if __name__`."""
    broken = STARTER.replace("    pass\n\n\nif", "    return width * height\n        oops(\n\n\nif")
    fixed_helper = f"{FIXED_AREA}\n\ndef perimeter(w, h):\n    return 2 * (w + h)"
    merged = merge_definitions(broken, [fixed_helper])
    assert merged is not None
    ast.parse(merged)
    assert "oops" not in merged
    assert merged.index("def perimeter") < merged.index('if __name__ == "__main__":')
    assert _run(merged, ["3", "4"])["printed"] == ["The area is 12."]


def test_a_block_that_does_not_parse_gives_no_merged_candidate():
    """A snippet with a syntax error is tried alone only; a snippet with no definitions
    gives no merged file either."""
    reply = "```python\ndef area(width, height)\n    return width * height\n```"
    found = candidates(code_blocks(reply), STARTER, "python")
    assert [c.description for c in found] == ["block #0 alone"]
    assert merge_definitions(STARTER, ["return width * height"]) is None
    assert merge_definitions(STARTER, ["width = 3"]) is None


def test_identical_programs_are_tried_once_with_all_their_blocks():
    """Two blocks with the same code make one candidate naming both; the learner's own code
    shown back is no candidate."""
    reply = "```python\nprint('hi')\n```\n\n```python\nprint('hi')\n```\n```python\nx = 1\n```"
    found = candidates(code_blocks(reply), "x = 1\n", "python")
    assert found[0] == Candidate("block #0 alone", "print('hi')\n", (0, 1))
    assert [c.blocks for c in found] == [(0, 1), (0, 1, 2)]


def test_the_number_of_candidates_is_capped_keeping_the_combined_ones():
    """Many blocks give at most MAX_CANDIDATES candidates, the joined one among them."""
    reply = "\n\n".join(f"```python\ndef f{n}():\n    return {n}\n```" for n in range(20))
    found = candidates(code_blocks(reply), "print(1)\n", "python")
    assert len(found) == MAX_CANDIDATES
    assert found[-2].blocks == tuple(range(20))  # all joined
    assert found[-1].description.startswith("your file with the definitions")
