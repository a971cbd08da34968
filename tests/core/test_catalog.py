"""The model catalog: the built-in Code Llama entries, and every kind of bad entry reported
with its file and line while the other entries stay usable."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.catalog import BUILTIN_CATALOG, load_catalog, local_entry, read_catalog_file
from app.core.models import starter_model_path

SHAPES = """\
default_quant = "Q4_K_M"

[shapes.7B]
layers = 32
embedding = 4096
heads = 32
kv_heads = 32
"""

GOOD_MODEL = """\
[[models]]
id = "good-7b"
name = "Good 7B"
family = "instruct"
parameters = "7B"
repo = "owner/Good-7B-GGUF"
chat_format = "llama-2"
fim = true
context_length = 16384

[[models.files]]
quant = "Q4_K_M"
file = "good-7b.Q4_K_M.gguf"
size = 4081095360
"""


def write(tmp_path: Path, text: str, name: str = "catalog.toml") -> Path:
    """Write a catalog file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bad_model(replace: str, with_: str) -> str:
    """The good model's table with one line changed."""
    assert replace in GOOD_MODEL
    return GOOD_MODEL.replace(replace, with_).replace('id = "good-7b"', 'id = "bad-7b"')


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing `needle`."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def test_builtin_catalog_lists_every_code_llama_variant_in_three_quantisations():
    """Base, Python and Instruct at 7B, 13B and 34B, each in Q4_K_M (default), Q5_K_M and Q8_0,
    plus the starter model, with no problem reported."""
    catalog = load_catalog()
    assert catalog.problems == ()
    for family in ("base", "python", "instruct"):
        for size in ("7B", "13B", "34B"):
            quants = {
                e.quant: e.is_default
                for e in catalog.entries
                if e.family == family and e.parameters == size
            }
            assert quants == {"Q4_K_M": True, "Q5_K_M": False, "Q8_0": False}, (family, size)
    starter = catalog.get("starter")
    assert starter is not None and starter.is_starter
    assert starter.file == starter_model_path().name
    assert starter.size == starter_model_path().stat().st_size


def test_builtin_catalog_has_the_known_7b_instruct_entry():
    """The 7B Instruct Q4_K_M entry carries the repository, file, size and sha256 of the hub."""
    entry = load_catalog().get("codellama-7b-instruct")
    assert entry is not None
    assert entry.repo == "TheBloke/CodeLlama-7B-Instruct-GGUF"
    assert entry.file == "codellama-7b-instruct.Q4_K_M.gguf"
    assert round(entry.size / 1e9, 2) == 4.08
    assert entry.sha256 == "0701500c591c2c1b910516658e58044cdfa07b2e8b5a2e3b6808d983441daf1a"
    assert entry.chat_format == "llama-2"
    assert entry.fim is True
    assert entry.context_length == 16384
    assert len(entry.revision) == 40
    assert entry.display_name == "Code Llama 7B Instruct (Q4_K_M)"


def test_fim_is_claimed_by_the_7b_and_13b_base_and_instruct_models_only():
    """Fill-in-the-middle: 7B and 13B base and Instruct have it; 34B and Python do not."""
    catalog = load_catalog()
    with_fim = {(e.family, e.parameters) for e in catalog.entries if e.fim}
    assert with_fim == {("base", "7B"), ("base", "13B"), ("instruct", "7B"), ("instruct", "13B")}


def test_only_instruct_models_have_a_chat_format():
    """Instruct entries say "llama-2"; the base and Python models are not chat models."""
    for entry in load_catalog().entries:
        expected = "llama-2" if entry.family == "instruct" else None
        assert entry.chat_format == expected, entry.id


def test_entry_spec_loads_with_the_catalog_chat_format_and_capped_context():
    """An entry's spec carries its display name and chat format, n_ctx capped at its training
    context."""
    entry = load_catalog().get("codellama-7b-instruct")
    assert entry is not None
    spec = entry.spec(Path("/models/x.gguf"), n_ctx=200_000)
    assert (spec.display_name, spec.chat_format, spec.n_ctx) == (
        "Code Llama 7B Instruct (Q4_K_M)",
        "llama-2",
        16384,
    )


def test_lookup_by_model_id_file_name_and_entry_id():
    """`get` finds an entry by model id (default quantisation), entry id or file name."""
    catalog = load_catalog()
    by_model = catalog.get("CodeLlama-13B-Instruct")
    assert by_model is not None and by_model.quant == "Q4_K_M"
    by_id = catalog.get("codellama-13b-instruct.Q8_0")
    assert by_id is not None and by_id.quant == "Q8_0"
    assert catalog.get("codellama-13b-instruct.Q5_K_M.gguf") is not None
    assert catalog.get("no-such-model") is None


BAD_CASES = [
    pytest.param(
        "size = 4081095360", 'size = "4 GB"', "'size' must be a whole number", "size =", id="type"
    ),
    pytest.param(
        'chat_format = "llama-2"',
        'chat_fromat = "llama-2"',
        "did you mean 'chat_format'",
        "chat_fromat",
        id="unknown-key",
    ),
    pytest.param(
        'family = "instruct"', 'family = "chat"', "'family' must be one of", "family =", id="choice"
    ),
    pytest.param(
        'quant = "Q4_K_M"', 'quant = "Q9"', "'quant' must be one of", "quant =", id="quant"
    ),
    pytest.param(
        "size = 4081095360",
        'size = 4081095360\nsha256 = "abc"',
        "64 lower-case hex digits",
        "sha256",
        id="sha256",
    ),
    pytest.param(
        "fim = true",
        'fim = true\nrevision = "main2"',
        "40-digit commit hash",
        "revision",
        id="revision",
    ),
    pytest.param(
        'parameters = "7B"', 'parameters = "70B"', "no [shapes.70B] table", "parameters", id="shape"
    ),
    pytest.param(
        'file = "good-7b.Q4_K_M.gguf"',
        'file = "../good.gguf"',
        "a file name ending in .gguf",
        "file =",
        id="file-name",
    ),
    pytest.param(
        'file = "good-7b.Q4_K_M.gguf"',
        'file = "good-7b.bin"',
        "a file name ending in .gguf",
        "file =",
        id="not-gguf",
    ),
    pytest.param(
        "size = 4081095360", "size = 0", "'size' must be from 1", "size =", id="size-range"
    ),
    pytest.param(
        "context_length = 16384",
        "context_length = 16384.5",
        "'context_length' must be a whole number",
        "context_length",
        id="context",
    ),
    pytest.param(
        'repo = "owner/Good-7B-GGUF"\n',
        "",
        "missing required key 'repo'",
        "[[models]]",
        id="missing-repo",
    ),
    pytest.param(
        'repo = "owner/Good-7B-GGUF"',
        'repo = "https://huggingface.co/x"',
        "'owner/name'",
        "repo =",
        id="repo",
    ),
    pytest.param("fim = true", 'fim = "yes"', "'fim' must be true or false", "fim =", id="bool"),
]


@pytest.mark.parametrize(("old", "new", "message", "where"), BAD_CASES)
def test_a_bad_entry_is_reported_at_its_line_and_the_others_stay(
    tmp_path, old, new, message, where
):
    """Each kind of mistake names the file and the line, the bad model is left out, and the
    good model beside it loads."""
    bad = bad_model(old, new)
    text = SHAPES + "\n" + GOOD_MODEL + "\n" + bad
    path = write(tmp_path, text)
    catalog = load_catalog([path])
    assert [e.id for e in catalog.entries] == ["good-7b.Q4_K_M"]
    assert len(catalog.problems) >= 1
    problem = catalog.problems[0]
    assert problem.file == path
    assert message in problem.message
    bad_start = text.index(bad)
    expected = text[:bad_start].count("\n") + line_of(bad, where)
    assert problem.line == expected
    assert str(problem).startswith(f"{path}:{expected}: ")


def test_invalid_toml_is_reported_with_its_line(tmp_path):
    """A catalog that is not TOML is one problem at the line tomllib names; nothing loads."""
    text = SHAPES + '\n[[models]]\nid = "x"\nname = \n'
    path = write(tmp_path, text)
    catalog = load_catalog([path])
    assert catalog.entries == ()
    assert catalog.problems[0].line == text.count("\n")
    assert "invalid TOML" in catalog.problems[0].message


def test_a_model_without_files_is_reported(tmp_path):
    """A [[models]] table with no [[models.files]] is reported at its header."""
    text = SHAPES + "\n" + GOOD_MODEL.split("[[models.files]]")[0]
    path = write(tmp_path, text)
    catalog = load_catalog([path])
    assert catalog.entries == ()
    assert "needs at least one [[models.files]] table" in catalog.problems[0].message
    assert catalog.problems[0].line == line_of(text, "[[models]]")


def test_a_quantisation_listed_twice_is_reported(tmp_path):
    """Two files of one model with the same quantisation: the second one's line is named."""
    twice = GOOD_MODEL + '\n[[models.files]]\nquant = "Q4_K_M"\nfile = "b.gguf"\nsize = 1\n'
    text = SHAPES + "\n" + twice
    path = write(tmp_path, text)
    catalog = load_catalog([path])
    assert catalog.entries == ()
    assert "listed twice" in catalog.problems[0].message
    assert catalog.problems[0].line == text.count("\n") - 2


def test_an_id_defined_twice_keeps_the_first_and_names_both_places(tmp_path):
    """The same model id in a second catalog file is left out, the first place named."""
    first = write(tmp_path, SHAPES + "\n" + GOOD_MODEL, "a.toml")
    second = write(tmp_path, SHAPES + "\n" + GOOD_MODEL, "b.toml")
    catalog = load_catalog([first, second])
    assert [e.source for e in catalog.entries] == [first]
    (problem,) = catalog.problems
    assert problem.file == second
    assert problem.line == line_of(SHAPES + "\n" + GOOD_MODEL, "[[models]]")
    assert f"already used at {first}:" in problem.message


def test_a_bad_shape_is_reported_and_models_using_it_are_left_out(tmp_path):
    """A shape with a missing number is reported at its table; its models say no shape."""
    text = SHAPES.replace("kv_heads = 32\n", "") + "\n" + GOOD_MODEL
    path = write(tmp_path, text)
    catalog = load_catalog([path])
    assert catalog.entries == ()
    messages = [p.message for p in catalog.problems]
    assert "shape 7B: missing required key 'kv_heads'" in messages[0]
    assert catalog.problems[0].line == line_of(text, "[shapes.7B]")


def test_the_builtin_file_reads_without_problems_on_its_own():
    """read_catalog_file on the built-in catalog: entries, no problems, default Q4_K_M."""
    entries, problems, default = read_catalog_file(BUILTIN_CATALOG)
    assert problems == [] and default == "Q4_K_M"
    assert len(entries) == 28


def test_a_local_gguf_file_becomes_an_unverified_entry(tmp_path):
    """A learner's own GGUF file is listed from its header: size, layers, context; family
    "local" (not verified)."""
    path = starter_model_path()
    listing = write(
        tmp_path,
        f'[[models]]\nid = "mine"\nname = "My model"\npath = "{path}"\n',
        "models.toml",
    )
    catalog = load_catalog([], local=[listing])
    assert catalog.problems == ()
    (entry,) = catalog.entries
    assert (entry.name, entry.family, entry.is_local) == ("My model", "local", True)
    assert entry.size == path.stat().st_size
    assert (entry.shape.layers, entry.shape.kv_dim, entry.context_length) == (30, 192, 8192)
    assert entry.sha256 is None and entry.repo is None
    assert entry.path == path


def test_a_local_entry_whose_file_is_gone_is_reported_at_its_line(tmp_path):
    """A listed file that does not exist is a problem at its `path` line; others stay."""
    good = starter_model_path()
    text = (
        f'[[models]]\nid = "gone"\npath = "{tmp_path / "gone.gguf"}"\n\n'
        f'[[models]]\nid = "here"\npath = "{good}"\n'
    )
    listing = write(tmp_path, text, "models.toml")
    catalog = load_catalog([], local=[listing])
    assert [e.model_id for e in catalog.entries] == ["here"]
    (problem,) = catalog.problems
    assert problem.line == 3
    assert "does not exist" in problem.message


def test_a_local_entry_with_a_relative_path_is_refused(tmp_path):
    """`path` must be absolute: a relative one is reported at its line."""
    listing = write(tmp_path, '[[models]]\nid = "rel"\npath = "models/x.gguf"\n', "models.toml")
    catalog = load_catalog([], local=[listing])
    assert catalog.entries == ()
    assert catalog.problems[0].line == 3
    assert "must be an absolute path" in catalog.problems[0].message


def test_local_entry_gives_code_llama_instruct_files_the_llama2_format(tmp_path):
    """A local file named like Code Llama Instruct is given chat format "llama-2"."""
    copy = tmp_path / "codellama-7b-instruct.Q4_1.gguf"
    copy.write_bytes(starter_model_path().read_bytes())
    entry = local_entry(copy, "cl")
    assert (entry.chat_format, entry.quant) == ("llama-2", "Q4_1")
