from main import only_even


def test_only_even_simple():
    result = only_even([1, 2, 3, 4])
    assert result == [2, 4], (
        f"only_even([1, 2, 3, 4]) should return [2, 4], but it returned {result!r}."
    )


def test_only_even_keeps_order():
    result = only_even([10, 3, 8, 5, 6])
    assert result == [10, 8, 6], (
        f"only_even([10, 3, 8, 5, 6]) should return [10, 8, 6], but it returned {result!r}."
    )


def test_only_even_none_found():
    result = only_even([1, 3, 5])
    assert result == [], (
        f"only_even([1, 3, 5]) should return an empty list [], but it returned {result!r}."
    )


def test_only_even_does_not_change_original():
    original = [1, 2, 3, 4]
    only_even(original)
    assert original == [1, 2, 3, 4], (
        "only_even should not change the list it receives, "
        f"but afterwards the list was {original!r}."
    )
