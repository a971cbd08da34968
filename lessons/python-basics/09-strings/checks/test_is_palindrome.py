from main import is_palindrome


def test_palindrome_mixed_case():
    result = is_palindrome("Level")
    assert result is True, f'is_palindrome("Level") should return True, but it returned {result!r}.'


def test_palindrome_lower_case():
    result = is_palindrome("racecar")
    assert result is True, (
        f'is_palindrome("racecar") should return True, but it returned {result!r}.'
    )


def test_not_palindrome():
    result = is_palindrome("python")
    assert result is False, (
        f'is_palindrome("python") should return False, but it returned {result!r}.'
    )


def test_not_palindrome_almost():
    result = is_palindrome("Lever")
    assert result is False, (
        f'is_palindrome("Lever") should return False, but it returned {result!r}.'
    )
