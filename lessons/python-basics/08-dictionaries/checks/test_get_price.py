from main import get_price

PRICES = {"apple": 3, "bread": 5, "milk": 2}


def test_get_price_known_item():
    result = get_price(PRICES, "bread")
    assert result == 5, f'get_price(prices, "bread") should return 5, but it returned {result!r}.'


def test_get_price_another_item():
    result = get_price(PRICES, "milk")
    assert result == 2, f'get_price(prices, "milk") should return 2, but it returned {result!r}.'


def test_get_price_unknown_item():
    result = get_price(PRICES, "cake")
    assert result == 0, (
        'get_price(prices, "cake") should return 0 because cake is not for sale, '
        f"but it returned {result!r}."
    )
