"""Where Code Tutor keeps its files: user data, config, site-wide config, bundled resources.

`CODETUTOR_HOME` (or a `portable.txt` marker next to the program) moves all user data into
one folder, for labs and USB sticks. Otherwise the platform's usual places are used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.core.resources import BUILTIN_LESSONS_DIR, PROJECT_ROOT, RESOURCES_DIR

APP_NAME = "codetutor"

__all__ = ["BUILTIN_LESSONS_DIR", "PROJECT_ROOT", "RESOURCES_DIR", "AppPaths", "resolve_paths"]


@dataclass(frozen=True)
class AppPaths:
    """The folders the app reads and writes.

    Attributes:
        data_dir: learner files, progress, history.
        config_dir: the user's settings file.
        site_config_dir: the admin's system-wide settings (read-only to the app).
        cache_dir: disposable files.
    """

    data_dir: Path
    config_dir: Path
    site_config_dir: Path
    cache_dir: Path

    @property
    def user_config_file(self) -> Path:
        """The user's settings file."""
        return self.config_dir / "settings.toml"

    @property
    def site_config_file(self) -> Path:
        """The admin's system-wide settings file."""
        return self.site_config_dir / "settings.toml"

    def ensure(self) -> list[str]:
        """Create the writable folders if they are missing.

        Returns:
            A sentence for each folder that could not be made (a read-only home, say): the
            app starts anyway, and saving says what went wrong.
        """
        problems = []
        for d in (self.data_dir, self.config_dir, self.cache_dir):
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                problems.append(
                    f"Code Tutor cannot create its folder “{d}” ({exc.strerror or exc}): your "
                    "work and settings cannot be saved there. Ask for write access, or set "
                    "CODETUTOR_HOME to a folder you can write."
                )
        return problems


def resolve_paths(env: dict[str, str] | None = None) -> AppPaths:
    """Work out the app's folders from the environment.

    Args:
        env: the environment to read (defaults to `os.environ`).

    Returns:
        The folders; nothing is created.
    """
    env = dict(os.environ) if env is None else env
    site = Path(
        env.get("CODETUTOR_SITE_CONFIG") or platformdirs.site_config_dir(APP_NAME, appauthor=False)
    )
    home = env.get("CODETUTOR_HOME")
    if not home and (PROJECT_ROOT / "portable.txt").exists():
        home = str(PROJECT_ROOT / "userdata")
    if home:
        root = Path(home).expanduser()
        return AppPaths(root / "data", root / "config", site, root / "cache")
    return AppPaths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        site,
        Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
