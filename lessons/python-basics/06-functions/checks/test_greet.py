from main import greet


def test_greet_ada():
    result = greet("Ada")
    assert result is not None, 'greet("Ada") returned nothing. Did you use print instead of return?'
    assert result == "Hello, Ada!", (
        f'greet("Ada") should return "Hello, Ada!", but it returned {result!r}.'
    )


def test_greet_other_name():
    result = greet("Grace")
    assert result == "Hello, Grace!", (
        f'greet("Grace") should return "Hello, Grace!", but it returned {result!r}.'
    )
