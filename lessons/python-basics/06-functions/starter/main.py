# Lesson 6: Functions


def greet(name):
    # Return (don't print!) the text "Hello, <name>!"
    # Example: greet("Ada") returns "Hello, Ada!"
    pass


def area(width, height):
    # Return the area of a rectangle: width times height.
    # Example: area(3, 4) returns 12
    pass


# This part runs only when you press Run, not when the checker tests your functions.
if __name__ == "__main__":
    width = int(input())
    height = int(input())
    print(f"The area is {area(width, height)}.")
