def shout(text):
    return text.upper() + "!"


def initials(full_name):
    result = ""
    for word in full_name.split():
        result = result + word[0].upper() + "."
    return result


def is_palindrome(word):
    low = word.lower()
    return low == low[::-1]


if __name__ == "__main__":
    text = input()
    print(f"Shouted: {shout(text)}")
    print(f"Initials: {initials(text)}")
    print(f"Palindrome: {is_palindrome(text)}")
