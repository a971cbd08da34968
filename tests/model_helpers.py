"""Helpers for tests that need a real model file with one thing changed."""

from __future__ import annotations


def with_chat_template(source, target, template: str) -> None:
    """Copy the GGUF `source` to `target` with its chat template replaced in place (the new
    one padded with spaces to the same length, so the file stays valid)."""
    from app.core.gguf import inspect_gguf

    old = str(inspect_gguf(source).metadata["tokenizer.chat_template"]).encode()
    new = template.encode().ljust(len(old))
    assert len(new) == len(old)
    data = source.read_bytes()
    assert data.count(old) == 1
    target.write_bytes(data.replace(old, new))
