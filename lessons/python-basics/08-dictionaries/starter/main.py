# Lesson 8: Dictionaries


def get_price(prices, item):
    # Return the price of item, or 0 if it is not in the prices dictionary.
    # get_price({"apple": 3}, "apple") -> 3
    # get_price({"apple": 3}, "cake")  -> 0
    return 0


def basket_total(prices, basket):
    # basket is a list of items. Return the total price of all of them.
    # Items that are not for sale cost 0. (Tip: use get_price!)
    return 0


def count_words(words):
    # Return a dictionary saying how many times each word appears.
    # count_words(["a", "b", "a"]) -> {"a": 2, "b": 1}
    counts = {}
    return counts


# This part runs only when you press Run.
if __name__ == "__main__":
    prices = {"apple": 3, "bread": 5, "milk": 2}
    basket = ["apple", "milk", "apple", "cake"]
    print(f"Price of bread: {get_price(prices, 'bread')}")
    print(f"Price of cake: {get_price(prices, 'cake')}")
    print(f"Basket total: {basket_total(prices, basket)}")
    print(f"Item counts: {count_words(basket)}")
