"""Finds the compilers and interpreters for learner code and builds each language's commands."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.core.languages import LANGUAGES as REGISTRY
from app.core.languages import display_name

# toolchain id -> (what is needed, apt package(s), Homebrew formula)
_INSTALL_HINTS = {
    "python": ("Python 3", "python3", "python"),
    "javascript": ("Node.js", "nodejs", "node"),
    "typescript": ("the TypeScript compiler (tsc) and Node.js", "node-typescript", "typescript"),
    "bash": ("the bash shell", "bash", "bash"),
    "cpp": ("the g++ compiler", "g++", "gcc"),
    "java": ("the Java Development Kit (javac and java)", "default-jdk", "openjdk"),
    "php": ("the PHP interpreter", "php-cli", "php"),
    "csharp": ("the Mono C# compiler and runtime (mcs and mono)", "mono-devel", "mono"),
}

TOOLCHAINS: tuple[str, ...] = tuple(_INSTALL_HINTS)
"""The toolchain ids this module finds and builds commands for (`Language.toolchain`)."""

LANGUAGES: tuple[str, ...] = tuple(
    language.id for language in REGISTRY.values() if language.toolchain in TOOLCHAINS
)
"""The ids of the languages Code Tutor can run, in the registry's order."""

_EXTRA_HINTS = {
    "typescript": " Node.js 22.6 or newer can also run TypeScript by itself.",
    "csharp": " The .NET 10 SDK (dotnet) works too.",
}


class ToolchainMissingError(Exception):
    """The compiler or interpreter a language needs is not installed; `str()` says what to do."""


@dataclass(frozen=True)
class Toolchain:
    """Whether a language can run on this machine.

    Attributes:
        language: the language id ("python", "cpp", ...).
        available: True when everything needed to run it was found.
        missing_message: plain words saying what to install; "" when available.
    """

    language: str
    available: bool
    missing_message: str


@dataclass(frozen=True)
class LaunchPlan:
    """The commands that build and then run one program.

    Attributes:
        compile_steps: commands run first, in order; a non-zero exit stops the run.
        run_argv: the command that runs the program.
        env: the complete environment for every step.
    """

    compile_steps: tuple[tuple[str, ...], ...]
    run_argv: tuple[str, ...]
    env: dict[str, str]


def toolchain_id(language: str) -> str | None:
    """The id of the toolchain that runs `language` (one of `TOOLCHAINS`), or None."""
    entry = REGISTRY.get(language)
    toolchain = entry.toolchain if entry is not None else None
    return toolchain if toolchain in TOOLCHAINS else None


def missing_message(language: str) -> str:
    """Plain words saying what to install to run `language`."""
    toolchain = toolchain_id(language)
    if toolchain is None:
        names = ", ".join(display_name(lang) for lang in LANGUAGES)
        return f"Code Tutor cannot run “{language}” files. It runs {names}."
    what, apt, brew = _INSTALL_HINTS[toolchain]
    if sys.platform == "darwin":
        how = f"Install it with: brew install {brew}"
    elif sys.platform == "win32":
        how = "Install it, make sure it is on your PATH, then restart Code Tutor"
    else:
        how = f"Install it with: sudo apt install {apt}"
    extra = _EXTRA_HINTS.get(toolchain, "")
    return f"To run {display_name(language)} you need {what}. {how}.{extra}"


def find_toolchain(language: str) -> Toolchain:
    """Look on PATH for what `language` needs.

    Args:
        language: one of `LANGUAGES`.

    Returns:
        The toolchain; when not available, `missing_message` says what to install.
    """
    toolchain = toolchain_id(language)
    programs = _resolve(toolchain) if toolchain else None
    if programs is None:
        return Toolchain(language, False, missing_message(language))
    return Toolchain(language, True, "")


def child_env(language: str | None = None) -> dict[str, str]:
    """A minimal environment for a learner program, not the user's whole environment.

    Args:
        language: adds that language's settings (e.g. .NET's telemetry opt-out).

    Returns:
        PATH, HOME, LANG=C.UTF-8, TMPDIR (and Windows essentials), nothing else.
    """
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", str(Path.home())),
        "LANG": "C.UTF-8",
        "TMPDIR": tempfile.gettempdir(),
    }
    if sys.platform == "win32":
        for key in ("SYSTEMROOT", "PATHEXT", "TEMP", "TMP", "USERPROFILE", "APPDATA", "COMSPEC"):
            if key in os.environ:
                env[key] = os.environ[key]
    if language is not None and toolchain_id(language) == "csharp":
        env.update(
            DOTNET_CLI_TELEMETRY_OPTOUT="1",
            DOTNET_NOLOGO="1",
            DOTNET_SKIP_FIRST_TIME_EXPERIENCE="1",
        )
    return env


def python_command(script: str | Path) -> list[str]:
    """The command that runs a Python script the way learner code is run.

    `-E -s` ignore PYTHON* variables and the user site, `-u` streams output live, `-B` keeps
    `__pycache__` out of the learner's folder, `-X utf8` makes text UTF-8 everywhere. Unlike `-I`,
    the script's folder stays on `sys.path`, so the learner's files can import each other.
    """
    programs = _resolve("python")
    if programs is None:
        raise ToolchainMissingError(missing_message("python"))
    return [programs["python"], "-u", "-B", "-s", "-E", "-X", "utf8", str(script)]


def build_plan(language: str, main_file: Path, workdir: Path, build_dir: Path) -> LaunchPlan:
    """The commands that compile (where needed) and run `main_file`.

    Args:
        language: one of `LANGUAGES`.
        main_file: the program's entry file.
        workdir: the folder it runs in.
        build_dir: an empty private folder for compiler output.

    Returns:
        The plan.

    Raises:
        ToolchainMissingError: something needed is not installed.
    """
    toolchain = toolchain_id(language)
    programs = _resolve(toolchain) if toolchain else None
    if programs is None:
        raise ToolchainMissingError(missing_message(language))
    main = str(main_file)
    env = child_env(language)
    steps: list[tuple[str, ...]] = []
    if toolchain == "python":
        run = python_command(main_file)
    elif toolchain == "javascript":
        run = [programs["node"], main]
    elif toolchain == "bash":
        run = [programs["bash"], main]
    elif toolchain == "php":
        run = [programs["php"], "-d", "display_errors=stderr", "-d", "log_errors=0"]
        run += ["-d", "html_errors=0", main]
    elif toolchain == "cpp":
        exe = str(build_dir / ("prog.exe" if sys.platform == "win32" else "prog"))
        steps.append((programs["cxx"], "-std=c++17", "-O0", "-o", exe, main))
        # stdout to a pipe is fully buffered by C stdio; line buffering streams it live.
        run = [programs["stdbuf"], "-oL", exe] if "stdbuf" in programs else [exe]
    elif toolchain == "java":
        fast = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
        steps.append(
            (programs["javac"], *(f"-J{flag}" for flag in fast), "-encoding", "UTF-8")
            + ("-d", str(build_dir), "-sourcepath", str(main_file.parent), main)
        )
        run = [programs["java"], *fast, "-Dfile.encoding=UTF-8", "-cp", str(build_dir)]
        run.append(_java_class_name(main_file))
    elif toolchain == "typescript":
        run = _typescript_plan(programs, main_file, workdir, build_dir, steps)
    elif toolchain == "csharp":
        if "mono" in programs:
            exe = str(build_dir / "prog.exe")
            steps.append((programs["mcs"], "-debug", f"-out:{exe}", main))
            run = [programs["mono"], "--debug", exe]
        else:
            run = [programs["dotnet"], "run", main]
    else:  # pragma: no cover - _resolve returned None for unknown toolchains
        raise ToolchainMissingError(missing_message(language))
    return LaunchPlan(tuple(steps), tuple(run), env)


def _typescript_plan(
    programs: dict[str, str],
    main_file: Path,
    workdir: Path,
    build_dir: Path,
    steps: list[tuple[str, ...]],
) -> list[str]:
    """Compile with tsc into `build_dir` (source maps on), or let node strip the types."""
    node = programs["node"]
    if "tsc" not in programs:
        return [node, "--experimental-strip-types", "--disable-warning=ExperimentalWarning"] + [
            str(main_file)
        ]
    root = workdir if main_file.is_relative_to(workdir) else main_file.parent
    steps.append(
        (programs["tsc"], "--outDir", str(build_dir), "--rootDir", str(root))
        + ("--sourceMap", "--target", "ES2020", "--module", "commonjs", "--esModuleInterop")
        + ("--skipLibCheck", "--pretty", "false", str(main_file))
    )
    out = build_dir / main_file.relative_to(root).with_suffix(".js")
    return [node, "--enable-source-maps", str(out)]


def _java_class_name(main_file: Path) -> str:
    """The fully qualified class name of a Java file: its package (if any) and its stem."""
    try:
        source = main_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        source = ""
    match = re.search(r"^\s*package\s+([\w.]+)\s*;", source, re.MULTILINE)
    return f"{match.group(1)}.{main_file.stem}" if match else main_file.stem


def _which(*names: str) -> str | None:
    """The first of `names` found on PATH."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def _python_executable() -> str | None:
    """The Python the app's virtual environment was made from, so learner code sees none of
    the app's packages (PySide6, llama_cpp, ...); a python3 on PATH in a frozen bundle."""
    if getattr(sys, "frozen", False):
        return _which("python3", "python")
    base = getattr(sys, "_base_executable", "") or sys.executable
    return base if base and Path(base).exists() else sys.executable


def _resolve(toolchain: str) -> dict[str, str] | None:
    """Paths of the programs toolchain `toolchain` needs, or None when something is missing."""
    found: dict[str, str | None]
    if toolchain == "python":
        found = {"python": _python_executable()}
    elif toolchain == "javascript":
        found = {"node": _which("node", "nodejs")}
    elif toolchain == "bash":
        found = {"bash": _which("bash")}
    elif toolchain == "php":
        found = {"php": _which("php")}
    elif toolchain == "cpp":
        found = {"cxx": _which("g++", "clang++")}
        stdbuf = _which("stdbuf") if sys.platform.startswith("linux") else None
        if stdbuf:
            found["stdbuf"] = stdbuf
    elif toolchain == "java":
        found = {"javac": _which("javac"), "java": _which("java")}
    elif toolchain == "typescript":
        node = _which("node", "nodejs")
        tsc = _which("tsc")
        if node and not tsc and _program_version(node) < (22, 6):
            node = None
        found = {"node": node, "tsc": tsc} if tsc else {"node": node}
    elif toolchain == "csharp":
        mcs, mono, dotnet = _which("mcs"), _which("mono"), _which("dotnet")
        if mcs and mono:
            found = {"mcs": mcs, "mono": mono}
        elif dotnet and _program_version(dotnet) >= (10,):
            found = {"dotnet": dotnet}
        else:
            found = {"mcs": None}
    else:
        return None
    if any(path is None for path in found.values()):
        return None
    return {key: path for key, path in found.items() if path is not None}


@functools.lru_cache(maxsize=16)
def _program_version(program: str) -> tuple[int, ...]:
    """The version `program --version` prints (e.g. node's "v20.11.1"), or (0,) when unknown."""
    try:
        done = subprocess.run(
            [program, "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            env=child_env("csharp"),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return (0,)
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", done.stdout)
    if not match:
        return (0,)
    return tuple(int(part) for part in match.groups() if part is not None)
