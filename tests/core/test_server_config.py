"""The server settings: the address checked in words, the API key read from a file or the
environment."""

from __future__ import annotations

import pytest

from app.core.server import API_KEY_ENV, ServerConfigError, check_url, make_config, read_api_key


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("lab-gpu.local:8080/v1", "has no scheme: write it in full, e.g. “http://lab-gpu.local"),
        ("ftp://lab-gpu.local/v1", "http:// or https:// only"),
        ("http:///v1", "names no host"),
        ("http://lab-gpu.local:99999/v1", "Port out of range"),
        ("http://lab-gpu.local:8080/v1?key=1", "query or fragment"),
        ("http://[lab-gpu:8080/v1", "cannot be read"),
        ("http://[lab-gpu]:8080/v1", "cannot be read"),
        ("http://ada:secret@lab-gpu.local/v1", "user name or password"),
        ("   ", "is empty"),
    ],
)
def test_a_bad_address_is_refused_saying_what_to_write(url, words):
    """An address without a scheme, another scheme, no host, a bad port or a query is
    refused with a sentence that says what is wrong."""
    with pytest.raises(ServerConfigError) as caught:
        check_url(url)
    assert words in str(caught.value)


def test_a_good_address_is_kept_without_its_trailing_slash():
    """Spaces and a trailing slash are taken off; the host and the root are derived."""
    config = make_config(" http://lab-gpu.local:8080/v1/ ", environ={})
    assert config.url == "http://lab-gpu.local:8080/v1"
    assert config.host == "lab-gpu.local"
    assert config.root == "http://lab-gpu.local:8080"


def test_the_key_comes_from_the_file_and_is_never_shown(tmp_path):
    """The key file's one line is the key; the config's repr does not show it."""
    key_file = tmp_path / "key"
    key_file.write_text("sk-lab-123\n")
    config = make_config("http://127.0.0.1:8080/v1", key_file=str(key_file), environ={})
    assert config.api_key == "sk-lab-123"
    assert "sk-lab-123" not in repr(config)


def test_without_a_file_the_key_comes_from_the_environment():
    """No key file: the environment variable, else no key; one with a newline inside is
    refused, never sent."""
    assert read_api_key("", {API_KEY_ENV: " from-env "}) == "from-env"
    assert read_api_key("", {}) == ""
    with pytest.raises(ServerConfigError, match="CODETUTOR_SERVER_API_KEY has spaces"):
        read_api_key("", {API_KEY_ENV: "sk-one\nsk-two"})


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("one\ntwo\n", "has 2 lines"),
        ("x" * 5000, "a key file holds one line"),
        (b"\xff\xfe", "is not text"),
        ("a key with spaces", "spaces or control characters"),
        ("clé-secrète", "letters outside ASCII"),
        ("dir", "is not a regular file"),
    ],
)
def test_a_bad_key_file_is_refused_in_words(tmp_path, content, words):
    """A missing, empty, multi-line, oversized, binary or spaced key file, or a folder, is
    refused with its name and the reason."""
    path = tmp_path / "key"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ServerConfigError) as caught:
        read_api_key(str(path), {})
    assert words in str(caught.value)
    assert str(path) in str(caught.value)
