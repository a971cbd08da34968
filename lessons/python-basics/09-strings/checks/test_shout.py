from main import shout


def test_shout_hello():
    result = shout("hello")
    assert result == "HELLO!", f'shout("hello") should return "HELLO!", but it returned {result!r}.'


def test_shout_mixed_case():
    result = shout("Good Morning")
    assert result == "GOOD MORNING!", (
        f'shout("Good Morning") should return "GOOD MORNING!", but it returned {result!r}.'
    )
