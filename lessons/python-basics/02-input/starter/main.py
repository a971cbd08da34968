# Lesson 2: Asking for input
#
# input() waits for the user to type a line and returns it as text.
# Leave the brackets empty: input()

# 1. Read the name into a variable.
name = input()

# 2. Read the age. Remember: input() gives text, and int() turns text into a number.


# 3. Print the two lines, for example:
#    Hello, Ada!
#    In 10 years you will be 46.

print("Hello!")
