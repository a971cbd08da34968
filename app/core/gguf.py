"""Checks a GGUF model file before llama.cpp sees it: exists, readable, GGUF, complete.

llama.cpp's own errors for these cases are terse ("failed to load model"); here each case
gets a message that names the file and says what to do. Pure Python: reads the header and
the tensor table, never the weights.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

GGUF_MAGIC = b"GGUF"

# ggml type id -> (elements per block, bytes per block)
_GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 36),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    30: (1, 2),  # BF16
}

# GGUF metadata value types -> fixed size in bytes (strings and arrays handled apart)
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9


class ModelFileError(Exception):
    """A model file that cannot be used. `str()` is a message for the learner."""

    kind = "invalid"

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


class ModelMissingError(ModelFileError):
    """The model file does not exist."""

    kind = "missing"


class ModelUnreadableError(ModelFileError):
    """The model file exists but cannot be read."""

    kind = "unreadable"


class NotGgufError(ModelFileError):
    """The file is not a GGUF model."""

    kind = "not_gguf"


class TruncatedModelError(ModelFileError):
    """The GGUF file ends before its tensors do (an interrupted download)."""

    kind = "truncated"


class ModelDamagedError(ModelFileError):
    """The GGUF header holds values no real model has (a damaged or crafted file)."""

    kind = "damaged"


class NotEnoughMemoryError(ModelFileError):
    """The model needs more memory than the machine has free."""

    kind = "memory"


@dataclass(frozen=True)
class GgufSummary:
    """What the header says about a GGUF file."""

    version: int
    tensor_count: int
    metadata: dict[str, object]
    data_bytes_needed: int
    file_size: int
    path: Path = Path()

    def number(self, key: str, default: int, limit: int) -> int:
        """The whole number at `key` (or `default`), which must lie in 0..`limit`.

        Raises:
            ModelDamagedError: the value is not a number or out of range (a damaged file).
        """
        value = self.metadata.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
            raise ModelDamagedError(
                self.path,
                f"“{self.path.name}” is damaged: its header says {key} = {value!r:.60}, which "
                "no real model has. Download it again or choose another model.",
            )
        return value


class _Reader:
    def __init__(self, fh, path: Path) -> None:
        self.fh = fh
        self.path = path

    size = 0  # the file's size: nothing is read or skipped past it

    def _room(self, n: int) -> None:
        if n > self.size - self.fh.tell():
            raise TruncatedModelError(self.path, _truncated_message(self.path))

    def read(self, n: int) -> bytes:
        self._room(n)
        data = self.fh.read(n)
        if len(data) != n:
            raise TruncatedModelError(self.path, _truncated_message(self.path))
        return data

    def skip(self, n: int) -> None:
        self._room(n)
        self.fh.seek(n, os.SEEK_CUR)

    def u32(self) -> int:
        return struct.unpack("<I", self.read(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.read(8))[0]

    def string(self, keep: bool = True) -> str:
        n = self.u64()
        if n > MAX_KEPT_STRING and keep:  # nothing we keep is that long (a crafted file)
            raise ModelDamagedError(self.path, _damaged_message(self.path, "a text too long"))
        if not keep:  # skipped without reading: a crafted length costs no memory
            self.skip(n)
            return ""
        return self.read(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, keep: bool, depth: int = 0) -> object:
        if vtype == _STRING:
            return self.string(keep)
        if vtype == _ARRAY:
            if depth >= MAX_ARRAY_DEPTH:
                raise ModelDamagedError(
                    self.path, _damaged_message(self.path, "arrays nested too deep")
                )
            item_type = self.u32()
            count = self.u64()
            if count > self.size - self.fh.tell():  # every item takes at least a byte
                raise ModelDamagedError(
                    self.path, _damaged_message(self.path, f"an array of {count} items")
                )
            if item_type in _SCALAR_SIZES:
                self.skip(_SCALAR_SIZES[item_type] * count)
                return None
            for _ in range(count):
                self.value(item_type, False, depth + 1)
            return None
        if vtype not in _SCALAR_SIZES:
            raise NotGgufError(self.path, _not_gguf_message(self.path))
        raw = self.read(_SCALAR_SIZES[vtype])
        if not keep:
            return None
        fmt = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?"}
        fmt.update({10: "<Q", 11: "<q", 12: "<d"})
        return struct.unpack(fmt[vtype], raw)[0]


MAX_KEPT_STRING = 1 << 20  # 1 MB: chat templates are a few kB; tokens are skipped, not kept
MAX_ARRAY_DEPTH = 4


def _damaged_message(path: Path, what: str) -> str:
    return (
        f"“{path.name}” is damaged: its header holds {what}, which no real model has. "
        "Download it again or choose another model."
    )


def _truncated_message(path: Path) -> str:
    return (
        f"The model file “{path.name}” is incomplete (it ends before its data does), "
        "probably from an interrupted download. Delete it and download it again."
    )


def _not_gguf_message(path: Path) -> str:
    return (
        f"“{path.name}” is not a GGUF model file. Code Tutor runs models in the GGUF format "
        "(for example codellama-7b-instruct.Q4_K_M.gguf); choose such a file."
    )


def version_too_new(path: Path) -> bool:
    """True when the file starts like GGUF but has a version above 3 (a newer format)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head[:4] == GGUF_MAGIC and len(head) == 8 and int.from_bytes(head[4:], "little") > 3


def inspect_gguf(path: str | os.PathLike[str]) -> GgufSummary:
    """Read and check a GGUF file's header and tensor table.

    Args:
        path: the model file.

    Returns:
        A summary of the header.

    Raises:
        ModelMissingError, ModelUnreadableError, NotGgufError, TruncatedModelError.
    """
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        if p.is_symlink() and exc.errno == errno.ELOOP:
            raise ModelUnreadableError(
                p, f"“{p}” is a link that points back to itself. Choose the model file itself."
            ) from exc
        raise ModelMissingError(
            p, f"The model file “{p}” does not exist. Choose another model or download it again."
        ) from exc
    if stat.S_ISDIR(mode):
        raise NotGgufError(p, f"“{p}” is a folder, not a model file. Choose a .gguf file.")
    if not stat.S_ISREG(mode):  # a FIFO or a device would block the load for ever
        raise NotGgufError(
            p, f"“{p}” is not a regular file (a pipe or a device), so it cannot be a model."
        )
    if version_too_new(p):
        raise NotGgufError(
            p,
            f"“{p.name}” is a GGUF model made for a newer llama.cpp than this one. Update "
            "Code Tutor, or download another version of the model.",
        )
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise ModelUnreadableError(
            p,
            f"The model file “{p}” cannot be read ({exc.strerror or exc}). "
            "Check its permissions, or ask your administrator.",
        ) from exc
    try:
        with fh:
            return _read_header(fh, p)
    except OSError as exc:  # EIO from a failing disk, say
        raise ModelUnreadableError(
            p,
            f"The model file “{p}” cannot be read ({exc.strerror or exc}): the disk or the "
            "file may be damaged. Copy or download it again.",
        ) from exc


def _read_header(fh, p: Path) -> GgufSummary:
    """Parse the header of the open file `fh` (see `inspect_gguf`)."""
    size = os.fstat(fh.fileno()).st_size
    if fh.read(4) != GGUF_MAGIC:
        raise NotGgufError(p, _not_gguf_message(p))
    r = _Reader(fh, p)
    r.size = size
    version = r.u32()
    if version not in (1, 2, 3):
        raise NotGgufError(p, _not_gguf_message(p))
    n_tensors, n_kv = r.u64(), r.u64()
    if n_tensors > 1 << 20 or n_kv > 1 << 20:
        raise NotGgufError(p, _not_gguf_message(p))
    meta: dict[str, object] = {}
    for _ in range(n_kv):
        key = r.string()
        vtype = r.u32()
        keep = not key.startswith("tokenizer.ggml.")
        value = r.value(vtype, keep)
        if keep:
            meta[key] = value
    end = 0
    for _ in range(n_tensors):
        r.string()
        n_dims = r.u32()
        if n_dims > 8:
            raise NotGgufError(p, _not_gguf_message(p))
        n_elems = 1
        for _ in range(n_dims):
            n_elems *= r.u64()
        ttype = r.u32()
        offset = r.u64()
        block, nbytes = _GGML_BLOCKS.get(ttype, (1, 0))
        end = max(end, offset + (n_elems // block) * nbytes)
    summary = GgufSummary(version, n_tensors, meta, end, size, p)
    alignment = summary.number("general.alignment", 32, 1 << 16) or 32
    header_end = fh.tell()
    data_start = (header_end + alignment - 1) // alignment * alignment
    if data_start + end > size:
        raise TruncatedModelError(p, _truncated_message(p))
    return summary


def available_memory_bytes() -> int | None:
    """Memory the OS could give us now (Linux: MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(path: Path, needed: int, available: int | None) -> None:
    """Raise NotEnoughMemoryError when `needed` bytes clearly do not fit in `available`."""
    if available is not None and needed > available:
        raise NotEnoughMemoryError(
            path,
            f"“{path.name}” needs about {needed / 2**30:.1f} GB of memory but only "
            f"{available / 2**30:.1f} GB is free. Close other programs or choose a smaller "
            "model (a 7B Q4_K_M file needs about 5 GB).",
        )
