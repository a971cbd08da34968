def check_guess(secret, guess):
    if guess < secret:
        return "Too low!"
    elif guess > secret:
        return "Too high!"
    else:
        return "Correct!"


def parse_number(text):
    try:
        return int(text)
    except ValueError:
        return None


if __name__ == "__main__":
    secret = int(input())
    guesses = 0
    result = ""

    while result != "Correct!":
        guess = parse_number(input())
        if guess is None:
            print("Please type a whole number.")
        else:
            guesses = guesses + 1
            result = check_guess(secret, guess)
            print(result)

    print(f"Guesses: {guesses}")
