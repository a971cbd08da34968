# Lesson 1: Print and variables
#
# A variable is a name for a value. This one holds some text:
name = "Ada"

# 1. Make a variable called age that holds the number 36.


# 2. Print these three lines, using your variables:
#    My name is Ada.
#    I am 36 years old.
#    Next year I will be 37.

print("My name is ...")
