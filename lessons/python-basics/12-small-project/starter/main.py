# Lesson 12: Project - number guessing game


def check_guess(secret, guess):
    # Return "Too low!", "Too high!" or "Correct!"
    # check_guess(7, 3) -> "Too low!"
    # check_guess(7, 9) -> "Too high!"
    # check_guess(7, 7) -> "Correct!"
    return ""


def parse_number(text):
    # Already done for you: the text as a whole number, or None.
    try:
        return int(text)
    except ValueError:
        return None


# This part runs only when you press Run.
if __name__ == "__main__":
    secret = int(input())
    guesses = 0
    result = ""

    # Build the game loop here:
    #   while the result is not "Correct!":
    #       read a line with input() and turn it into a number with parse_number
    #       if it is None: print "Please type a whole number."
    #       otherwise: count the guess, use check_guess and print the result
    #
    # After the loop, print how many guesses it took, like:  Guesses: 3
