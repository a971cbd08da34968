def total(numbers):
    result = 0
    for number in numbers:
        result = result + number
    return result


def largest(numbers):
    biggest = numbers[0]
    for number in numbers:
        if number > biggest:
            biggest = number
    return biggest


def only_even(numbers):
    evens = []
    for number in numbers:
        if number % 2 == 0:
            evens.append(number)
    return evens


if __name__ == "__main__":
    numbers = [4, 8, 15, 16, 23, 42]
    print(f"Numbers: {numbers}")
    print(f"Total: {total(numbers)}")
    print(f"Largest: {largest(numbers)}")
    print(f"Even numbers: {only_even(numbers)}")
