# Lesson 11: Errors and debugging
#
# This program has TWO bugs. Run it, type 12, and read the error message.
# Then run it again and type twelve.


def parse_age(text):
    # Should return the text as a whole number,
    # or None if the text is not a whole number.
    return int(text)


if __name__ == "__main__":
    text = input()
    age = parse_age(text)
    if age is None:
        print("That is not a whole number.")
    else:
        print("Next year you will be " + age + 1 + ".")
