"""Ships resources/ and lessons/ as data files (share/codetutor/...) in wheels and installs.

Everything else is in pyproject.toml; app.core.resources finds the files either beside the
source tree (development, editable installs) or under sys.prefix/share/codetutor.
"""

from pathlib import Path

from setuptools import setup


def tree(root: str) -> list[tuple[str, list[str]]]:
    """(target folder, files) pairs for every file below `root`."""
    folders: dict[str, list[str]] = {}
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            folders.setdefault(str(Path("share/codetutor") / path.parent), []).append(str(path))
    return sorted(folders.items())


setup(data_files=tree("resources") + tree("lessons"))
