# Lesson 7: Lists


def total(numbers):
    # Return all the numbers added together.
    # total([1, 2, 3]) -> 6      total([]) -> 0
    return 0


def largest(numbers):
    # Return the biggest number in the list (the list is never empty).
    # largest([3, 9, 2]) -> 9    largest([-5, -2, -9]) -> -2
    return 0


def only_even(numbers):
    # Return a NEW list with only the even numbers, in the same order.
    # only_even([1, 2, 3, 4]) -> [2, 4]
    return []


# This part runs only when you press Run.
if __name__ == "__main__":
    numbers = [4, 8, 15, 16, 23, 42]
    print(f"Numbers: {numbers}")
    print(f"Total: {total(numbers)}")
    print(f"Largest: {largest(numbers)}")
    print(f"Even numbers: {only_even(numbers)}")
