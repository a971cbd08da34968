from main import basket_total

PRICES = {"apple": 3, "bread": 5, "milk": 2}


def test_basket_total_simple():
    result = basket_total(PRICES, ["apple", "milk", "apple"])
    assert result == 8, (
        'basket_total(prices, ["apple", "milk", "apple"]) should return 8, '
        f"but it returned {result!r}."
    )


def test_basket_total_with_unknown_item():
    result = basket_total(PRICES, ["bread", "cake"])
    assert result == 5, (
        'basket_total(prices, ["bread", "cake"]) should return 5 (cake costs 0), '
        f"but it returned {result!r}."
    )


def test_basket_total_empty_basket():
    result = basket_total(PRICES, [])
    assert result == 0, f"basket_total(prices, []) should return 0, but it returned {result!r}."
