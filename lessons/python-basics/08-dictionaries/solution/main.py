def get_price(prices, item):
    if item in prices:
        return prices[item]
    else:
        return 0


def basket_total(prices, basket):
    total = 0
    for item in basket:
        total = total + get_price(prices, item)
    return total


def count_words(words):
    counts = {}
    for word in words:
        if word in counts:
            counts[word] = counts[word] + 1
        else:
            counts[word] = 1
    return counts


if __name__ == "__main__":
    prices = {"apple": 3, "bread": 5, "milk": 2}
    basket = ["apple", "milk", "apple", "cake"]
    print(f"Price of bread: {get_price(prices, 'bread')}")
    print(f"Price of cake: {get_price(prices, 'cake')}")
    print(f"Basket total: {basket_total(prices, basket)}")
    print(f"Item counts: {count_words(basket)}")
