def parse_age(text):
    try:
        return int(text)
    except ValueError:
        return None


if __name__ == "__main__":
    text = input()
    age = parse_age(text)
    if age is None:
        print("That is not a whole number.")
    else:
        print(f"Next year you will be {age + 1}.")
