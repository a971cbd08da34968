from main import total


def test_total_small_list():
    result = total([1, 2, 3])
    assert result == 6, f"total([1, 2, 3]) should return 6, but it returned {result!r}."


def test_total_empty_list():
    result = total([])
    assert result == 0, f"total([]) should return 0, but it returned {result!r}."


def test_total_longer_list():
    result = total([4, 8, 15, 16, 23, 42])
    assert result == 108, (
        f"total([4, 8, 15, 16, 23, 42]) should return 108, but it returned {result!r}."
    )
