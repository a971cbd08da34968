"""The model catalog: which models the app offers, read from TOML files and checked like lessons.

The built-in catalog (`resources/models/catalog.toml`) lists every Code Llama variant as GGUF
files on the Hugging Face hub and the starter model; a lab admin's and a learner's own files
(`models.toml` in the site config dir and in the user's model store) add local GGUF files,
marked "not verified". A bad entry becomes a `CatalogProblem` with its file and line and is
left out; the other entries stay usable. Plain Python: nothing here touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.core.gguf import ModelFileError, inspect_gguf
from app.core.lessons.files import Where
from app.core.lessons.model import LessonError
from app.core.lessons.tomlreader import TomlReader, read_toml
from app.core.models import ModelSpec
from app.core.resources import RESOURCES_DIR

BUILTIN_CATALOG = RESOURCES_DIR / "models" / "catalog.toml"
"""The catalog shipped with the app."""

FAMILIES = ("instruct", "base", "python", "starter", "local")
"""What a model is for: Code Llama - Instruct, Code Llama (base), Code Llama - Python, the
starter model, or a file the learner or admin added."""

FAMILY_WORDS = {
    "instruct": "Code Llama - Instruct",
    "base": "Code Llama",
    "python": "Code Llama - Python",
    "starter": "starter model",
    "local": "your own file",
}

QUANTS = ("Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_0", "Q4_1", "Q4_K_S", "Q4_K_M", "Q5_0")
QUANTS += ("Q5_1", "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0", "F16", "BF16", "F32")

CHAT_FORMATS = (
    "llama-2",
    "llama-3",
    "chatml",
    "mistral-instruct",
    "zephyr",
    "gemma",
    "alpaca",
    "vicuna",
    "phind",
    "openchat",
    "qwen",
)
"""llama-cpp-python chat formats a catalog entry may name (empty: the file's own template)."""

MODEL_KEYS = ("id", "name", "family", "parameters", "repo", "revision", "package", "path")
MODEL_KEYS += ("chat_format", "fim", "context_length", "files")
FILE_KEYS = ("quant", "file", "size", "sha256")
SHAPE_KEYS = ("layers", "embedding", "heads", "kv_heads")
LOCAL_KEYS = ("id", "name", "path", "chat_format", "fim", "context_length")
TOP_KEYS = ("default_quant", "shapes", "models")

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,199}\.gguf$")
MAX_SIZE = 1 << 42  # 4 TB: no GGUF file is larger
MAX_CONTEXT = 1 << 20


@dataclass(frozen=True)
class CatalogProblem:
    """A bad catalog entry (or file), located.

    Attributes:
        file: the catalog file.
        line: the 1-based line, or None when no line applies.
        message: what is wrong, in plain words.
    """

    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"{self.file}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ModelShape:
    """The parts of a transformer's architecture that set its memory needs.

    Attributes:
        layers: transformer blocks.
        embedding: the embedding width.
        heads: attention heads.
        kv_heads: key/value heads (fewer than `heads` with grouped-query attention).
    """

    layers: int
    embedding: int
    heads: int
    kv_heads: int

    @property
    def kv_dim(self) -> int:
        """Width of the keys (and of the values) per layer and token: kv heads x head size."""
        return self.embedding * self.kv_heads // max(self.heads, 1)


@dataclass(frozen=True)
class CatalogEntry:
    """One downloadable (or local) model file: one quantisation of one model.

    Attributes:
        id: "<model id>.<quant>", e.g. "codellama-7b-instruct.Q4_K_M".
        model_id: the model's id, e.g. "codellama-7b-instruct".
        name: the model's name, e.g. "Code Llama 7B Instruct".
        family: one of `FAMILIES`.
        parameters: "7B", "13B", "34B", ... ("" for local files).
        quant: the quantisation, e.g. "Q4_K_M".
        file: the file name on the hub and in the model store.
        size: bytes; exact where `sha256` is given, else the planning figure.
        sha256: the file's sha256 where the catalog knows it, else None.
        repo: the hub repository, or None (starter and local files).
        revision: the pinned commit, or "main" where none is known.
        chat_format: llama-cpp-python chat format, or None for the file's own template.
        fim: whether the model has fill-in-the-middle tokens.
        context_length: the context the model was trained for, in tokens.
        shape: its architecture, for the memory it needs.
        is_default: whether this is the quantisation offered first.
        package: the Python distribution carrying the file (the starter model), or None.
        path: the file of a local entry, or None.
        source: the catalog file it came from, and `line` where its table starts.
        line: see `source`.
    """

    id: str
    model_id: str
    name: str
    family: str
    parameters: str
    quant: str
    file: str
    size: int
    sha256: str | None
    repo: str | None
    revision: str
    chat_format: str | None
    fim: bool
    context_length: int
    shape: ModelShape
    is_default: bool = False
    package: str | None = None
    path: Path | None = None
    source: Path | None = None
    line: int | None = None

    @property
    def is_local(self) -> bool:
        """A file the learner or admin added (not verified by anyone)."""
        return self.family == "local"

    @property
    def is_starter(self) -> bool:
        """The embedded starter model."""
        return self.family == "starter"

    @property
    def downloadable(self) -> bool:
        """Whether the file comes from the hub."""
        return self.repo is not None

    @property
    def display_name(self) -> str:
        """The name shown, e.g. "Code Llama 7B Instruct (Q4_K_M)"; starter and local: the name."""
        if self.is_starter or self.is_local:
            return self.name
        return f"{self.name} ({self.quant})"

    def spec(self, path: Path, n_ctx: int = 4096) -> ModelSpec:
        """The spec that loads this entry from `path` with `n_ctx` tokens of context."""
        return ModelSpec(
            path=Path(path),
            display_name=self.display_name,
            chat_format=self.chat_format,
            n_ctx=min(n_ctx, self.context_length) if self.context_length else n_ctx,
            is_starter=self.is_starter,
        )


@dataclass(frozen=True)
class Catalog:
    """The entries of every catalog file read, and the problems found in them."""

    entries: tuple[CatalogEntry, ...] = ()
    problems: tuple[CatalogProblem, ...] = ()
    default_quant: str = "Q4_K_M"

    def get(self, name: str) -> CatalogEntry | None:
        """The entry called `name`: an entry id, a model id (its default quantisation), or a
        file name; case does not matter."""
        key = name.strip().lower()
        for entry in self.entries:
            if key in (entry.id.lower(), entry.file.lower()):
                return entry
        files = [e for e in self.entries if e.model_id.lower() == key]
        return next((e for e in files if e.is_default), files[0] if files else None)

    def instruct(self) -> list[CatalogEntry]:
        """The Instruct models in their default quantisation, smallest first."""
        found = [e for e in self.entries if e.family == "instruct" and e.is_default]
        return sorted(found, key=lambda e: e.size)

    def by_file(self, file_name: str) -> CatalogEntry | None:
        """The entry whose file is called `file_name`, if any."""
        return next((e for e in self.entries if e.file == file_name), None)


def load_catalog(files: Iterable[Path] = (BUILTIN_CATALOG,), local: Iterable[Path] = ()) -> Catalog:
    """Read catalog files; never raises on bad content.

    Args:
        files: catalog files of hub models (the built-in one first).
        local: files listing the learner's or admin's own GGUF files (a missing one is empty).

    Returns:
        Every good entry (an id defined twice keeps the first) and every problem found.
    """
    entries: list[CatalogEntry] = []
    problems: list[CatalogProblem] = []
    default_quant = "Q4_K_M"
    for path in files:
        found, bad, quant = read_catalog_file(Path(path))
        entries.extend(found)
        problems.extend(bad)
        default_quant = quant if path == BUILTIN_CATALOG else default_quant
    for path in local:
        if Path(path).exists():
            found, bad = read_local_file(Path(path))
            entries.extend(found)
            problems.extend(bad)
    kept: dict[str, CatalogEntry] = {}
    for entry in entries:
        if entry.id in kept:
            first = kept[entry.id]
            problems.append(
                CatalogProblem(
                    entry.source or Path(),
                    entry.line,
                    f"the id '{entry.model_id}' is already used at {first.source}:{first.line}; "
                    "this entry is left out",
                )
            )
            continue
        kept[entry.id] = entry
    return Catalog(tuple(kept.values()), tuple(problems), default_quant)


_HEADER = re.compile(r"^\[(\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^([A-Za-z0-9_-]+)\s*=")


def catalog_line(text: str, where: Where) -> int | None:
    """The line defining `where` in a catalog, arrays of tables nested in arrays included
    (("models", 2, "files", 0, "size") is the size of the third model's first file).

    Returns:
        The line, or failing that the line of its closest enclosing table; None when none.
    """
    if not where:
        return None
    best_len, best_line = 0, None
    current: tuple[str | int, ...] = ()
    counts: dict[tuple[str | int, ...], int] = {}
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if m := _HEADER.match(line):
            names = [n.strip().strip("\"'") for n in m.group(2).split(".")]
            if m.group(1):  # [[a.b]]: an array of tables, inside the latest [[a]]
                parent: tuple[str | int, ...] = ()
                if len(names) > 1 and current[:1] == (names[0],):
                    parent = current[:2]
                key = (*parent, *names[len(parent) // 2 :]) if parent else tuple(names)
                counts[key] = counts.get(key, -1) + 1
                path: tuple[str | int, ...] = (*key, counts[key])
            else:
                path = tuple(names)
            current = full = path
        elif m := _KEY.match(line):
            full = (*current, m.group(1))
        else:
            continue
        common = 0
        for a, b in zip(full, where, strict=False):
            if a != b:
                break
            common += 1
        if common == len(where):
            return number
        if common > best_len:
            best_len, best_line = common, number
    return best_line


class _CatalogReader(TomlReader):
    """A TomlReader whose errors are located with `catalog_line` (nested arrays of tables)."""

    def error(self, where: Where | None, message: str) -> None:
        """Record `message` at the line defining `where` (no line when None)."""
        line = catalog_line(self.text, where) if where else None
        self.errors.append(LessonError(self.file, line, message))


def _reader(path: Path) -> tuple[_CatalogReader | None, dict[str, Any], list[CatalogProblem]]:
    r, data, errors = read_toml(path, path.parent)
    if r is None:
        return None, {}, [CatalogProblem(e.file, e.line, e.message) for e in errors]
    return _CatalogReader(r.file, r.text), data, []


def _problems(reader: TomlReader) -> list[CatalogProblem]:
    return [CatalogProblem(e.file, e.line, e.message) for e in reader.errors]


def _integer(
    r: TomlReader, table: dict[str, Any], where: Where, key: str, low: int, high: int, label: str
) -> int | None:
    """`table[key]` as a whole number in low..high; None (with an error) otherwise."""
    value = table.get(key)
    if value is None:
        r.error(where or None, f"{label}missing required key '{key}'")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        r.error((*where, key), f"{label}'{key}' must be a whole number, not {value!r:.40}")
        return None
    if not low <= value <= high:
        r.error((*where, key), f"{label}'{key}' must be from {low:,} to {high:,}, not {value:,}")
        return None
    return value


def _pattern(
    r: TomlReader,
    table: dict[str, Any],
    where: Where,
    key: str,
    pattern: re.Pattern[str],
    words: str,
    label: str,
    required: bool = True,
) -> str | None:
    """`table[key]` as a string matching `pattern`; None (with an error if wrong) otherwise."""
    if key not in table and not required:
        return None
    value = r.string(table, where, key, label=label)
    if value is not None and not pattern.match(value):
        r.error((*where, key), f"{label}'{key}' must be {words}, not {value!r:.70}")
        return None
    return value


def _shapes(r: TomlReader, data: dict[str, Any]) -> dict[str, ModelShape]:
    raw = data.get("shapes", {})
    if not isinstance(raw, dict):
        r.error(("shapes",), "'shapes' must be a table ([shapes.7B])")
        return {}
    shapes: dict[str, ModelShape] = {}
    for name, table in raw.items():
        where: Where = ("shapes", name)
        if not isinstance(table, dict):
            r.error(where, f"shape '{name}' must be a table")
            continue
        r.unknown_keys(table, where, SHAPE_KEYS, f"shape {name}: ")
        values = [_integer(r, table, where, k, 1, 1 << 17, f"shape {name}: ") for k in SHAPE_KEYS]
        if all(v is not None for v in values):
            shapes[name] = ModelShape(*values)  # type: ignore[arg-type]
    return shapes


def read_catalog_file(path: Path) -> tuple[list[CatalogEntry], list[CatalogProblem], str]:
    """Read one catalog of hub models.

    Returns:
        (good entries, problems, the default quantisation); never raises.
    """
    r, data, errors = _reader(path)
    if r is None:
        return [], errors, "Q4_K_M"
    r.unknown_keys(data, (), TOP_KEYS)
    default_quant = r.choice(data, (), "default_quant", QUANTS, default="Q4_K_M") or "Q4_K_M"
    shapes = _shapes(r, data)
    models = data.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        r.error(("models",), "'models' must be written as [[models]] tables")
        return [], _problems(r), default_quant
    entries: list[CatalogEntry] = []
    problems = _problems(r)
    for i, table in enumerate(models):
        r.errors = []
        found = _model(r, table, ("models", i), shapes, default_quant, path)
        problems.extend(_problems(r))
        entries.extend(found)
    return entries, problems, default_quant


def _model(
    r: TomlReader,
    table: dict[str, Any],
    where: Where,
    shapes: dict[str, ModelShape],
    default_quant: str,
    path: Path,
) -> list[CatalogEntry]:
    """The entries of one [[models]] table; [] when it has an error (each one recorded)."""
    index = int(where[-1]) + 1
    r.unknown_keys(table, where, MODEL_KEYS, f"model {index}: ")
    label = f"model {table.get('id', index)}: "
    model_id = _pattern(r, table, where, "id", _ID, "lower-case letters, digits, . _ -", label)
    name = r.string(table, where, "name", label=label, one_line=True)
    family = r.choice(table, where, "family", FAMILIES[:4], default=None, label=label)
    parameters = r.string(table, where, "parameters", label=label)
    shape = shapes.get(parameters or "")
    if parameters is not None and shape is None:
        known = ", ".join(shapes) or "none"
        r.error((*where, "parameters"), f"{label}no [shapes.{parameters}] table (known: {known})")
    repo = _pattern(r, table, where, "repo", _REPO, "'owner/name'", label, required=False)
    package = r.string(table, where, "package", default="", label=label, non_empty=False)
    if family == "starter" and not package:
        r.error(where, f"{label}the starter model needs 'package' (the wheel carrying it)")
    elif family != "starter" and repo is None and "repo" not in table:
        r.error(where, f"{label}missing required key 'repo' (the hub repository)")
    revision = "main"
    if "revision" in table:
        words = "a 40-digit commit hash (pin the revision) or leave it out for main"
        revision = _pattern(r, table, where, "revision", _COMMIT, words, label) or "main"
    chat_format = r.choice(table, where, "chat_format", CHAT_FORMATS, default="", label=label)
    fim = r.boolean(table, where, "fim", False)
    context = _integer(r, table, where, "context_length", 256, MAX_CONTEXT, label)
    files = _files(r, table, where, label, default_quant)
    if r.errors or None in (model_id, name, family, parameters, shape, context):
        return []
    line = catalog_line(r.text, where)
    return [
        CatalogEntry(
            id=f"{model_id}.{quant}",
            model_id=str(model_id),
            name=str(name).strip(),
            family=str(family),
            parameters=str(parameters),
            quant=quant,
            file=file,
            size=size,
            sha256=sha256,
            repo=repo,
            revision=revision,
            chat_format=chat_format or None,
            fim=fim,
            context_length=int(context or 0),
            shape=shape,  # type: ignore[arg-type]
            is_default=is_default,
            package=package or None,
            source=path,
            line=line,
        )
        for quant, file, size, sha256, is_default in files
    ]


def _files(
    r: TomlReader, table: dict[str, Any], where: Where, label: str, default_quant: str
) -> list[tuple[str, str, int, str | None, bool]]:
    """(quant, file, size, sha256, is default) for each [[models.files]] table."""
    raw = table.get("files")
    if not isinstance(raw, list) or not raw or not all(isinstance(f, dict) for f in raw):
        r.error(where, f"{label}needs at least one [[models.files]] table")
        return []
    found: list[tuple[str, str, int, str | None, bool]] = []
    seen: set[str] = set()
    for j, ftable in enumerate(raw):
        fwhere: Where = (*where, "files", j)
        flabel = f"{label}file {j + 1}: "
        r.unknown_keys(ftable, fwhere, FILE_KEYS, flabel)
        quant = r.choice(ftable, fwhere, "quant", QUANTS, default=None, label=flabel)
        words = "a file name ending in .gguf (no folders)"
        file = _pattern(r, ftable, fwhere, "file", _FILE, words, flabel)
        size = _integer(r, ftable, fwhere, "size", 1, MAX_SIZE, flabel)
        words = "64 lower-case hex digits"
        sha = _pattern(r, ftable, fwhere, "sha256", _SHA256, words, flabel, required=False)
        if quant in seen:
            r.error((*fwhere, "quant"), f"{flabel}quantisation {quant} is listed twice")
            continue
        if quant and file and size:
            seen.add(quant)
            found.append((quant, file, size, sha, False))
    if found:
        first = next((i for i, f in enumerate(found) if f[0] == default_quant), 0)
        found[first] = (*found[first][:4], True)
    return found


def read_local_file(path: Path) -> tuple[list[CatalogEntry], list[CatalogProblem]]:
    """Read a list of the learner's or admin's own GGUF files ([[models]] with a `path`).

    Each file's size, architecture and context length come from its GGUF header; a file that
    is missing or not a GGUF model is a problem at its entry's line.

    Returns:
        (good entries, problems); never raises.
    """
    r, data, errors = _reader(path)
    if r is None:
        return [], errors
    r.unknown_keys(data, (), ("models",))
    models = data.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        r.error(("models",), "'models' must be written as [[models]] tables")
        return [], _problems(r)
    entries: list[CatalogEntry] = []
    problems = _problems(r)
    for i, table in enumerate(models):
        r.errors = []
        where: Where = ("models", i)
        r.unknown_keys(table, where, LOCAL_KEYS, f"model {i + 1}: ")
        label = f"model {table.get('id', i + 1)}: "
        model_id = _pattern(r, table, where, "id", _ID, "lower-case letters, digits, . _ -", label)
        file = r.string(table, where, "path", label=label)
        chat_format = r.choice(table, where, "chat_format", CHAT_FORMATS, default="", label=label)
        fim = r.boolean(table, where, "fim", False)
        entry = None
        if file is not None and not Path(file).expanduser().is_absolute():
            r.error((*where, "path"), f"{label}'path' must be an absolute path, not {file!r}")
        elif file is not None and model_id is not None:
            name = r.string(table, where, "name", default=model_id, label=label) or model_id
            try:
                entry = local_entry(Path(file).expanduser(), model_id, name, chat_format or None)
            except ModelFileError as exc:
                r.error((*where, "path"), f"{label}{exc}")
        if entry is not None and not r.errors:
            entries.append(replace(entry, fim=fim, source=path, line=catalog_line(r.text, where)))
        problems.extend(_problems(r))
    return entries, problems


def local_entry(
    path: Path, model_id: str, name: str | None = None, chat_format: str | None = None
) -> CatalogEntry:
    """An entry for a GGUF file on this computer, described by its own header.

    Raises:
        ModelFileError: the file is missing, unreadable, not GGUF, truncated or damaged.
    """
    summary = inspect_gguf(path)
    arch = str(summary.metadata.get("general.architecture", "llama"))
    heads = summary.number(f"{arch}.attention.head_count", 1, 1 << 12) or 1
    shape = ModelShape(
        layers=summary.number(f"{arch}.block_count", 0, 4096),
        embedding=summary.number(f"{arch}.embedding_length", 0, 1 << 17),
        heads=heads,
        kv_heads=summary.number(f"{arch}.attention.head_count_kv", heads, 1 << 12) or heads,
    )
    context = summary.number(f"{arch}.context_length", 4096, MAX_CONTEXT) or 4096
    lowered = path.name.lower().replace("-", "").replace("_", "")
    if chat_format is None and "codellama" in lowered and "instruct" in lowered:
        chat_format = "llama-2"
    quant = next((q for q in QUANTS if q.lower() in path.name.lower()), "GGUF")
    return CatalogEntry(
        id=f"{model_id}.{quant}",
        model_id=model_id,
        name=name or model_id,
        family="local",
        parameters=str(summary.metadata.get("general.size_label") or ""),
        quant=quant,
        file=path.name,
        size=summary.file_size,
        sha256=None,
        repo=None,
        revision="",
        chat_format=chat_format,
        fim=False,
        context_length=context,
        shape=shape,
        is_default=True,
        path=path,
    )


def local_entry_toml(model_id: str, name: str, path: Path, chat_format: str | None) -> str:
    """The [[models]] table that `read_local_file` reads back as this entry."""
    import json

    lines = ["[[models]]", f"id = {json.dumps(model_id)}", f"name = {json.dumps(name)}"]
    lines.append(f"path = {json.dumps(str(path))}")
    if chat_format:
        lines.append(f"chat_format = {json.dumps(chat_format)}")
    return "\n".join(lines) + "\n"


def unique_id(taken: Sequence[str], stem: str) -> str:
    """An entry id made from a file name `stem`, not in `taken`."""
    base = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._")[:56] or "model"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
