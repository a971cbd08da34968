from main import largest


def test_largest_in_middle():
    result = largest([3, 9, 2])
    assert result == 9, f"largest([3, 9, 2]) should return 9, but it returned {result!r}."


def test_largest_at_end():
    result = largest([1, 5, 7, 20])
    assert result == 20, f"largest([1, 5, 7, 20]) should return 20, but it returned {result!r}."


def test_largest_all_negative():
    result = largest([-5, -2, -9])
    assert result == -2, (
        f"largest([-5, -2, -9]) should return -2, but it returned {result!r}. "
        "Tip: start from the first item of the list instead of 0."
    )


def test_largest_single_item():
    result = largest([7])
    assert result == 7, f"largest([7]) should return 7, but it returned {result!r}."
