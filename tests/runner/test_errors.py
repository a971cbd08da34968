"""Tests for app.runner.errors: file, line and message from real and sample tool output."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from runner_helpers import need_toolchain as _need
from runner_helpers import write_source as _write

from app.runner.errors import ErrorLocation, parse_errors
from app.runner.process import run_program


def _sample(text: str) -> str:
    """Dedent a sample of tool output."""
    return textwrap.dedent(text).lstrip("\n")


# --- real runs -----------------------------------------------------------------------------


@pytest.mark.slow
def test_python_error_points_at_the_innermost_line_of_the_learners_code(tmp_path: Path) -> None:
    """A traceback through the learner's two files and the stdlib points into the learner's file."""
    _write(
        tmp_path,
        "helper.py",
        """
        import json

        def load(text):
            data = json.loads(text)
            return data["missing"]
        """,
    )
    main = _write(tmp_path, "main.py", "import helper\n\nhelper.load('{}')\n")
    result = run_program("python", main, tmp_path)
    errors = parse_errors("python", result.stderr)
    assert errors == [ErrorLocation(str(tmp_path / "helper.py"), 5, "KeyError: 'missing'")]


@pytest.mark.slow
def test_python_error_inside_the_standard_library_points_at_the_learners_call(
    tmp_path: Path,
) -> None:
    """When the exception is raised in the stdlib, the location is the learner's line calling it."""
    main = _write(tmp_path, "main.py", "import json\n\njson.loads('{oops')\n")
    errors = parse_errors("python", run_program("python", main, tmp_path).stderr)
    assert len(errors) == 1
    assert (errors[0].file, errors[0].line) == (str(main), 3)
    assert errors[0].message.startswith("json.decoder.JSONDecodeError: Expecting property name")


@pytest.mark.slow
def test_python_syntax_error_gives_its_line(tmp_path: Path) -> None:
    """A SyntaxError (no "Traceback" header) is found with its line and message."""
    main = _write(tmp_path, "main.py", "x = 1\nprint('hi'\ny = 2\n")
    errors = parse_errors("python", run_program("python", main, tmp_path).stderr)
    assert len(errors) == 1
    assert (errors[0].file, errors[0].line) == (str(main), 2)
    assert errors[0].message.startswith("SyntaxError:")


@pytest.mark.slow
def test_bash_error_gives_its_line(tmp_path: Path) -> None:
    """Bash's "file: line N: ..." message is found."""
    main = _write(tmp_path, "main.sh", "echo hi\nnosuchcommand_xyz\n")
    errors = parse_errors("bash", run_program("bash", main, tmp_path).stderr)
    assert errors == [ErrorLocation(str(main), 2, "nosuchcommand_xyz: command not found")]


@pytest.mark.slow
def test_javascript_error_gives_line_column_and_message(tmp_path: Path) -> None:
    """A node ReferenceError is placed at its line and column with the error's message."""
    _need("javascript")
    main = _write(tmp_path, "main.js", "const a = 1;\nconsole.log(a + b);\n")
    errors = parse_errors("javascript", run_program("javascript", main, tmp_path).stderr)
    assert errors[0] == ErrorLocation(str(main), 2, "ReferenceError: b is not defined", 17)


@pytest.mark.slow
def test_javascript_syntax_error_gives_its_line(tmp_path: Path) -> None:
    """A node SyntaxError is found at its line."""
    _need("javascript")
    main = _write(tmp_path, "main.js", "let x = 1;\nlet y = ;\n")
    errors = parse_errors("javascript", run_program("javascript", main, tmp_path).stderr)
    assert (errors[0].file, errors[0].line) == (str(main), 2)
    assert errors[0].message.startswith("SyntaxError:")


@pytest.mark.slow
def test_cpp_compile_error_gives_line_column_and_message(tmp_path: Path) -> None:
    """g++'s compile error is found with its line, column and message."""
    _need("cpp")
    main = _write(tmp_path, "main.cpp", "int main() {\n    int a = 1;\n    return a + b;\n}\n")
    result = run_program("cpp", main, tmp_path)
    errors = parse_errors("cpp", result.stderr)
    assert len(errors) == 1
    assert (errors[0].file, errors[0].line, errors[0].column) == (str(main), 3, 16)
    assert "b’ was not declared" in errors[0].message.replace("'", "’")


@pytest.mark.slow
def test_java_compile_error_gives_line_and_column(tmp_path: Path) -> None:
    """Javac's compile error is found with its line and the caret's column."""
    _need("java")
    main = _write(
        tmp_path,
        "Main.java",
        """
        public class Main {
            public static void main(String[] args) {
                int a = "text";
            }
        }
        """,
    )
    errors = parse_errors("java", run_program("java", main, tmp_path, time_limit_s=20).stderr)
    assert len(errors) == 1
    assert (errors[0].file, errors[0].line, errors[0].column) == (str(main), 3, 17)
    assert "incompatible types" in errors[0].message


@pytest.mark.slow
def test_php_parse_error_gives_its_line(tmp_path: Path) -> None:
    """Php's parse error is found with its file, line and message."""
    _need("php")
    main = _write(tmp_path, "main.php", "<?php\necho 'a';\n$x = ;\n")
    result = run_program("php", main, tmp_path)
    assert parse_errors("php", result.stderr) == [
        ErrorLocation(str(main), 3, 'Parse error: syntax error, unexpected token ";"')
    ]


@pytest.mark.slow
def test_csharp_compile_error_gives_line_and_column(tmp_path: Path) -> None:
    """The C# compiler's error is found with its line, column and code."""
    _need("csharp")
    main = _write(
        tmp_path, "main.cs", "class P {\n  static void Main() {\n    int z = y;\n  }\n}\n"
    )
    result = run_program("csharp", main, tmp_path, time_limit_s=30)
    assert result.compile_failed
    errors = parse_errors("csharp", result.stdout + result.stderr)
    assert [(e.file, e.line, e.column) for e in errors] == [(str(main), 3, 13)]
    assert errors[0].message.startswith("CS0103:")


# --- sample output -------------------------------------------------------------------------


def test_javac_sample() -> None:
    """Javac errors give file, line, message and the caret's column."""
    output = _sample(
        """
        Main.java:3: error: ';' expected
                System.out.println("hi")
                                        ^
        Main.java:7: error: cannot find symbol
            foo();
            ^
          symbol:   method foo()
        2 errors
        """
    )
    assert parse_errors("java", output) == [
        ErrorLocation("Main.java", 3, "';' expected", 33),
        ErrorLocation("Main.java", 7, "cannot find symbol", 5),
    ]


def test_java_runtime_exception_sample() -> None:
    """An uncaught exception points at the learner's innermost frame, not the JDK's."""
    output = _sample(
        """
        Exception in thread "main" java.lang.NumberFormatException: For input string: "x"
        \tat java.base/java.lang.Integer.parseInt(Integer.java:668)
        \tat Main.read(Main.java:9)
        \tat Main.main(Main.java:4)
        """
    )
    message = 'java.lang.NumberFormatException: For input string: "x"'
    assert parse_errors("java", output) == [ErrorLocation("Main.java", 9, message)]


def test_node_stack_sample_without_header() -> None:
    """A printed stack (no caret header) gives the innermost frame outside node's internals."""
    output = _sample(
        """
        TypeError: Cannot read properties of undefined (reading 'x')
            at area (/home/ada/work/shapes.js:4:17)
            at Object.<anonymous> (/home/ada/work/main.js:2:1)
            at Module._compile (node:internal/modules/cjs/loader:1256:14)
        """
    )
    message = "TypeError: Cannot read properties of undefined (reading 'x')"
    assert parse_errors("javascript", output) == [
        ErrorLocation("/home/ada/work/shapes.js", 4, message, 17)
    ]


@pytest.mark.parametrize(
    "output",
    [
        "main.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n",
        "main.ts:3:7 - error TS2322: Type 'string' is not assignable to type 'number'.\n",
        "\x1b[96mmain.ts\x1b[0m:\x1b[93m3\x1b[0m:\x1b[93m7\x1b[0m - \x1b[91merror\x1b[0m"
        "\x1b[90m TS2322: \x1b[0mType 'string' is not assignable to type 'number'.\n",
    ],
    ids=["pretty-false", "pretty", "pretty-coloured"],
)
def test_tsc_samples(output: str) -> None:
    """Tsc errors in its plain, pretty and coloured forms give file, line and column."""
    message = "TS2322: Type 'string' is not assignable to type 'number'."
    assert parse_errors("typescript", output) == [ErrorLocation("main.ts", 3, message, 7)]


def test_php_samples() -> None:
    """PHP parse and fatal errors, logged ("PHP ...") or displayed, give file and line."""
    output = _sample(
        """
        PHP Parse error:  syntax error, unexpected token "}" in /w/main.php on line 3

        Fatal error: Uncaught Error: Call to undefined function foo() in /w/lib.php:7
        Stack trace:
        #0 {main}
          thrown in /w/lib.php on line 7
        PHP Warning:  Undefined variable $x in /w/main.php on line 9
        """
    )
    assert parse_errors("php", output) == [
        ErrorLocation("/w/main.php", 3, 'Parse error: syntax error, unexpected token "}"'),
        ErrorLocation(
            "/w/lib.php", 7, "Fatal error: Uncaught Error: Call to undefined function foo()"
        ),
    ]


def test_mcs_and_dotnet_samples() -> None:
    """C# compiler errors (mcs, and dotnet's with the project suffix) give line and column."""
    output = _sample(
        """
        main.cs(5,20): error CS1002: ; expected
        main.cs(2,1): warning CS0168: The variable `x' is declared but never used
        /w/main.cs(8,9): error CS0103: The name 'y' does not exist [/w/app.csproj]
        Compilation failed: 2 error(s), 1 warnings
        """
    )
    assert parse_errors("csharp", output) == [
        ErrorLocation("main.cs", 5, "CS1002: ; expected", 20),
        ErrorLocation("/w/main.cs", 8, "CS0103: The name 'y' does not exist", 9),
    ]


def test_mono_runtime_exception_sample() -> None:
    """An unhandled exception under mono --debug points at the learner's frame."""
    output = _sample(
        """
        Unhandled Exception:
        System.DivideByZeroException: Attempted to divide by zero.
          at P.Main () [0x00003] in /w/main.cs:4
        """
    )
    message = "System.DivideByZeroException: Attempted to divide by zero."
    assert parse_errors("csharp", output) == [ErrorLocation("/w/main.cs", 4, message)]


def test_gcc_sample_keeps_errors_and_skips_warnings_and_notes() -> None:
    """Only g++'s errors are returned, in order, with their columns."""
    output = _sample(
        """
        main.cpp: In function 'int main()':
        main.cpp:4:5: warning: unused variable 'z' [-Wunused-variable]
        main.cpp:5:12: error: 'y' was not declared in this scope
        main.cpp:6:1: error: expected ';' before '}' token
        main.cpp:2:6: note: declared here
        """
    )
    assert parse_errors("cpp", output) == [
        ErrorLocation("main.cpp", 5, "'y' was not declared in this scope", 12),
        ErrorLocation("main.cpp", 6, "expected ';' before '}' token", 1),
    ]


def test_bash_syntax_error_sample_is_reported_once() -> None:
    """Bash's two-line syntax error report gives one location."""
    output = _sample(
        """
        main.sh: line 4: syntax error near unexpected token `fi'
        main.sh: line 4: `fi'
        """
    )
    assert parse_errors("bash", output) == [
        ErrorLocation("main.sh", 4, "syntax error near unexpected token `fi'")
    ]


def test_chained_python_tracebacks_each_give_a_location() -> None:
    """Both exceptions of a chained traceback are found, in the order printed."""
    output = _sample(
        """
        Traceback (most recent call last):
          File "/w/main.py", line 2, in <module>
            int("x")
        ValueError: invalid literal for int() with base 10: 'x'

        During handling of the above exception, another exception occurred:

        Traceback (most recent call last):
          File "/w/main.py", line 4, in <module>
            raise RuntimeError("bad number")
        RuntimeError: bad number
        """
    )
    assert [(e.line, e.message) for e in parse_errors("python", output)] == [
        (2, "ValueError: invalid literal for int() with base 10: 'x'"),
        (4, "RuntimeError: bad number"),
    ]


def test_unknown_language_and_clean_output_give_nothing() -> None:
    """No errors are invented: an unknown language or plain output gives an empty list."""
    assert parse_errors("cobol", "main.cob:3: error: oops") == []
    assert parse_errors("python", "Hello, world!\n") == []
