"""Helpers shared by the runner tests: writing source files, skipping missing toolchains."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from app.runner.toolchains import find_toolchain


def write_source(folder: Path, name: str, text: str) -> Path:
    """Write a dedented source file into `folder` (created if needed) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def need_toolchain(language: str) -> None:
    """Skip the test when `language` cannot run on this machine."""
    toolchain = find_toolchain(language)
    if not toolchain.available:
        pytest.skip(toolchain.missing_message)
