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


FIM_TEXTS = ("<PRE>", "<SUF>", "<MID>", "<EOT>")
"""Code Llama's FIM token texts, which llama.cpp recognises at load time (llama-vocab.cpp,
"auto-detect special tokens by text") when the file names no FIM token ids."""
FIM_RENAMED_IDS = (8, 9, 10, 11)
"""The starter's unused control tokens given those texts: StarCoder's <issue_start>,
<issue_comment>, <issue_closed> and <jupyter_start>."""


def with_fim_tokens(source, target) -> dict[str, int]:
    """Copy the GGUF `source` to `target` with four unused control tokens renamed `<PRE>`,
    `<SUF>`, `<MID>`, `<EOT>`; returns {text: token id}.

    llama.cpp then reports Code Llama-style FIM tokens (`llama_vocab_fim_pre` …), so the
    real token-list path of inline completion runs on a real model. The weights are untouched:
    the model never learnt these tokens, so its proposals are no better than the starter's;
    tests check the prompt, the stops and the cache, not the quality of the code.

    The gguf package finds the four strings in the header; they are rewritten in place (a
    length, then the text) and the header padded again to the file's alignment, so the tensor
    data is copied byte for byte (rewriting the whole file with GGUFWriter takes 4x as long).
    """
    import struct

    import gguf

    reader = gguf.GGUFReader(str(source))
    assert reader.endianess == gguf.GGUFEndian.LITTLE
    field = reader.get_field(gguf.Keys.Tokenizer.LIST)
    types = reader.get_field(gguf.Keys.Tokenizer.TOKEN_TYPE).contents()
    assert not set(FIM_TEXTS) & set(field.contents())
    base = reader.data.ctypes.data
    last = reader.tensors[-1].field
    header_end = last.offset + sum(part.nbytes for part in last.parts)
    data = source.read_bytes()
    header = bytearray(data[:header_end])
    for token_id, text in sorted(zip(FIM_RENAMED_IDS, FIM_TEXTS, strict=True), reverse=True):
        assert types[token_id] == gguf.TokenType.CONTROL, token_id
        string = field.parts[field.data[token_id]]
        start = string.ctypes.data - base
        header[start - 8 : start + string.nbytes] = struct.pack("<Q", len(text)) + text.encode()
    header += bytes(-len(header) % reader.alignment)
    with open(target, "wb") as out:
        out.write(header)
        out.write(memoryview(data)[reader.data_offset :])
    return dict(zip(FIM_TEXTS, FIM_RENAMED_IDS, strict=True))
