def greet(name):
    return f"Hello, {name}!"


def area(width, height):
    return width * height


if __name__ == "__main__":
    width = int(input())
    height = int(input())
    print(f"The area is {area(width, height)}.")
