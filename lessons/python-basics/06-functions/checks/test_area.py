from main import area


def test_area_rectangle():
    result = area(3, 4)
    assert result is not None, "area(3, 4) returned nothing. Did you use print instead of return?"
    assert result == 12, f"area(3, 4) should return 12, but it returned {result!r}."


def test_area_square():
    assert area(5, 5) == 25, f"area(5, 5) should return 25, but it returned {area(5, 5)!r}."


def test_area_zero():
    assert area(10, 0) == 0, f"area(10, 0) should return 0, but it returned {area(10, 0)!r}."
