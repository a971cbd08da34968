"""Tests for app.runner.toolchains: which languages can run here, and what to install if not."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.runner.toolchains import LANGUAGES, find_toolchain


def _fake_program(folder: Path, name: str, version_output: str = "") -> None:
    """Put an executable `name` in `folder` that prints `version_output`."""
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{version_output}'\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only an empty folder (returned) where tests can place fake programs."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_python_is_always_available(bare_path: Path) -> None:
    """Python runs with the app's own interpreter, even with nothing on PATH."""
    toolchain = find_toolchain("python")
    assert toolchain.available
    assert toolchain.missing_message == ""


def test_missing_cpp_compiler_says_what_to_install(bare_path: Path) -> None:
    """Without g++ on PATH, C++ is unavailable and the message names g++ and how to install it."""
    toolchain = find_toolchain("cpp")
    assert not toolchain.available
    assert toolchain.language == "cpp"
    assert "To run C++ you need the g++ compiler" in toolchain.missing_message
    assert "install" in toolchain.missing_message.lower()


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "python"])
def test_every_missing_toolchain_has_plain_words(bare_path: Path, language: str) -> None:
    """Each language without its tools explains in plain words what to install."""
    toolchain = find_toolchain(language)
    assert not toolchain.available
    assert toolchain.missing_message.startswith("To run ")
    assert "Install" in toolchain.missing_message


def test_missing_node_names_nodejs(bare_path: Path) -> None:
    """JavaScript without node asks for Node.js."""
    assert "Node.js" in find_toolchain("javascript").missing_message


def test_unknown_language_is_unavailable_with_the_list_of_languages() -> None:
    """A language the runner does not know is reported, with the languages it does run."""
    toolchain = find_toolchain("cobol")
    assert not toolchain.available
    assert "cobol" in toolchain.missing_message
    assert "Python" in toolchain.missing_message and "C++" in toolchain.missing_message


def test_typescript_needs_tsc_when_node_is_older_than_22_6(bare_path: Path) -> None:
    """Node 20 cannot strip types, so without tsc TypeScript is unavailable and tsc is named."""
    _fake_program(bare_path, "node", "v20.11.1")
    toolchain = find_toolchain("typescript")
    assert not toolchain.available
    assert "tsc" in toolchain.missing_message


def test_typescript_runs_on_node_22_6_without_tsc(bare_path: Path) -> None:
    """Node 22.6 or newer runs TypeScript by itself."""
    _fake_program(bare_path, "node", "v22.6.0")
    assert find_toolchain("typescript").available


def test_typescript_with_tsc_and_any_node_is_available(bare_path: Path) -> None:
    """Tsc plus node (any version) runs TypeScript."""
    _fake_program(bare_path, "node", "v18.0.0")
    _fake_program(bare_path, "tsc", "Version 5.4.5")
    assert find_toolchain("typescript").available


def test_java_needs_both_compiler_and_runtime(bare_path: Path) -> None:
    """Javac alone is not enough: java must be there too, and the message names the JDK."""
    _fake_program(bare_path, "javac")
    toolchain = find_toolchain("java")
    assert not toolchain.available
    assert "Java Development Kit" in toolchain.missing_message
    _fake_program(bare_path, "java")
    assert find_toolchain("java").available


@pytest.mark.parametrize(
    ("programs", "available"),
    [
        ({"mcs": "", "mono": ""}, True),
        ({"mcs": ""}, False),
        ({"dotnet": "8.0.100"}, False),
        ({"dotnet": "10.0.100"}, True),
    ],
)
def test_csharp_uses_mono_or_a_dotnet_10_sdk(
    bare_path: Path, programs: dict[str, str], available: bool
) -> None:
    """C# runs with mcs and mono, or with the .NET 10 SDK (which runs a single .cs file)."""
    for name, version in programs.items():
        _fake_program(bare_path, name, version)
    assert find_toolchain("csharp").available is available
