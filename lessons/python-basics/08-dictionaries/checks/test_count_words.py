from main import count_words


def test_count_words_simple():
    result = count_words(["a", "b", "a"])
    assert result == {"a": 2, "b": 1}, (
        'count_words(["a", "b", "a"]) should return {"a": 2, "b": 1}, '
        f"but it returned {result!r}."
    )


def test_count_words_fruit():
    result = count_words(["apple", "milk", "apple", "cake"])
    expected = {"apple": 2, "milk": 1, "cake": 1}
    assert result == expected, (
        'count_words(["apple", "milk", "apple", "cake"]) '
        f"should return {expected!r}, but it returned {result!r}."
    )


def test_count_words_empty():
    result = count_words([])
    assert result == {}, (
        f"count_words([]) should return an empty dictionary {{}}, but it returned {result!r}."
    )
