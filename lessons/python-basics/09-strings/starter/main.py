# Lesson 9: Working with text


def shout(text):
    # Return the text in capital letters, followed by "!"
    # shout("hello") -> "HELLO!"
    return text


def initials(full_name):
    # Return the first letter of each word in capitals, each followed by a dot.
    # initials("Ada Lovelace") -> "A.L."
    result = ""
    return result


def is_palindrome(word):
    # Return True if the word is the same backwards, ignoring upper/lower case.
    # is_palindrome("Level") -> True     is_palindrome("python") -> False
    return False


# This part runs only when you press Run.
if __name__ == "__main__":
    text = input()
    print(f"Shouted: {shout(text)}")
    print(f"Initials: {initials(text)}")
    print(f"Palindrome: {is_palindrome(text)}")
