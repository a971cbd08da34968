from main import parse_age


def test_parse_age_number():
    result = parse_age("12")
    assert result == 12, f'parse_age("12") should return the number 12, but it returned {result!r}.'


def test_parse_age_word():
    try:
        result = parse_age("abc")
    except ValueError:
        raise AssertionError(
            'parse_age("abc") crashed with a ValueError. Use try/except to return None instead.'
        ) from None
    assert result is None, f'parse_age("abc") should return None, but it returned {result!r}.'


def test_parse_age_empty():
    try:
        result = parse_age("")
    except ValueError:
        raise AssertionError(
            'parse_age("") crashed with a ValueError. Use try/except to return None instead.'
        ) from None
    assert result is None, f'parse_age("") should return None, but it returned {result!r}.'
