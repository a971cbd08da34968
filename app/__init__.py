"""Code Tutor: a desktop coding tutor with a local model beside a real code editor.

The version is written once, in pyproject.toml: `app.__version__` reads it from the installed
package's metadata, or from pyproject.toml itself in a source tree that was never installed.
It is worked out on first use, so importing `app.core` modules costs nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

DIST_NAME = "codetutor"
UNKNOWN_VERSION = "0+unknown"


@functools.cache
def package_version() -> str:
    """Code Tutor's version: installed metadata, else the source tree's pyproject.toml.

    Returns:
        The version (e.g. "1.4.2"), or `UNKNOWN_VERSION` when neither can be read (a frozen
        bundle built without the package's metadata, say).
    """
    from importlib import metadata

    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        pass
    import tomllib

    try:
        text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8")
        project = tomllib.loads(text).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return UNKNOWN_VERSION
    version = project.get("version")
    if project.get("name") == DIST_NAME and isinstance(version, str) and version:
        return version
    return UNKNOWN_VERSION


def __getattr__(name: str) -> Any:
    """`app.__version__`, looked up only when asked for (PEP 562)."""
    if name == "__version__":
        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
