"""Crafted and damaged GGUF headers: each is refused with one plain sentence, quickly and
without reading or keeping what the header claims is there."""

from __future__ import annotations

import errno
import io
import struct
from pathlib import Path

import pytest

from app.core.gguf import ModelDamagedError, ModelUnreadableError, inspect_gguf
from app.doctor import doctor

STRING, ARRAY, UINT32, UINT64 = 8, 9, 4, 10


def _s(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf(kvs: list[bytes], n_tensors: int = 0) -> bytes:
    """A GGUF v3 header with the given raw key/value entries and no tensors."""
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, len(kvs)) + b"".join(kvs)


def kv(key: str, vtype: int, raw: bytes) -> bytes:
    """One raw key/value entry."""
    return _s(key) + struct.pack("<I", vtype) + raw


ARCH = kv("general.architecture", STRING, _s("llama"))
CRAFTED = {
    "text-for-a-number": gguf([ARCH, kv("llama.block_count", STRING, _s("thirty"))]),
    "huge-layer-count": gguf([ARCH, kv("llama.block_count", UINT64, struct.pack("<Q", 1 << 40))]),
    "deep-arrays": gguf(
        [kv("general.nested", ARRAY, struct.pack("<IQ", ARRAY, 1) * 20_000 + b"\0" * 64)]
    ),
    "huge-array-count": gguf(
        [kv("tokenizer.ggml.tokens", ARRAY, struct.pack("<IQ", STRING, 1 << 62))]
    ),
}
WORDS = {
    "text-for-a-number": "llama.block_count = 'thirty'",
    "huge-layer-count": "llama.block_count = 1099511627776",
    "deep-arrays": "arrays nested too deep",
    "huge-array-count": "an array of 4611686018427387904 items",
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_header_is_called_damaged(tmp_path, name):
    """Each crafted header raises ModelDamagedError naming what is wrong."""
    path = tmp_path / f"{name}.gguf"
    path.write_bytes(CRAFTED[name] + b"\0" * 64)
    with pytest.raises(ModelDamagedError) as excinfo:
        summary = inspect_gguf(path)
        from app.llm.build import model_shape

        model_shape(summary)
    assert WORDS[name] in str(excinfo.value) and "damaged" in str(excinfo.value)


def test_sparse_file_claiming_huge_strings_is_refused_without_reading_them(tmp_path):
    """64 strings of 32 MB claimed by a small sparse file: refused at once, nothing read."""
    path = tmp_path / "sparse.gguf"
    entries = b"".join(
        _s(f"general.x{i}") + struct.pack("<IQ", STRING, 32 << 20) for i in range(64)
    )
    with path.open("wb") as fh:
        fh.write(b"GGUF" + struct.pack("<IQQ", 3, 0, 64) + entries)
        fh.truncate(64 * (32 << 20) + 4096)  # sparse: 2 GB long, a few kB on disk
    reads: list[int] = []
    real_open = Path.open

    def counting_open(self, *args, **kwargs):
        fh = real_open(self, *args, **kwargs)
        real_read = fh.read
        fh.read = lambda n=-1: reads.append(n) or real_read(n)  # type: ignore[method-assign]
        return fh

    Path.open = counting_open  # type: ignore[method-assign]
    try:
        with pytest.raises(ModelDamagedError):
            inspect_gguf(path)
    finally:
        Path.open = real_open  # type: ignore[method-assign]
    assert max(reads) < 1 << 20  # no 32 MB read, let alone 64 of them


def test_failing_disk_is_a_sentence_not_a_traceback(tmp_path, monkeypatch, starter_spec):
    """EIO while reading the header becomes ModelUnreadableError with the disk named."""
    real_open = Path.open

    class Failing:
        """A file whose every read fails as on a dying disk."""

        def __init__(self, fh) -> None:
            self._fh = fh

        def fileno(self) -> int:
            return self._fh.fileno()

        def read(self, n: int = -1) -> bytes:
            raise OSError(errno.EIO, "Input/output error")

        def __enter__(self):
            return self

        def __exit__(self, *exc: object) -> None:
            self._fh.close()

    def failing_open(self, *args, **kwargs):
        fh = real_open(self, *args, **kwargs)
        return Failing(fh) if self == starter_spec.path else fh

    monkeypatch.setattr(Path, "open", failing_open)
    with pytest.raises(ModelUnreadableError) as excinfo:
        inspect_gguf(starter_spec.path)
    assert "Input/output error" in str(excinfo.value) and "disk" in str(excinfo.value)


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_doctor_gives_one_line_and_exit_1_for_crafted_files(tmp_path, name):
    """`codetutor doctor --model` on each crafted file: one FAILED line, exit 1, no traceback."""
    path = tmp_path / f"{name}.gguf"
    path.write_bytes(CRAFTED[name] + b"\0" * 64)
    out = io.StringIO()
    assert doctor(out, model=str(path)) == 1
    failed = [line for line in out.getvalue().splitlines() if "FAILED" in line]
    assert len(failed) == 1 and WORDS[name] in failed[0]
