# Lesson 5: For loops
#
# Print the times table of a number, from 1 to 10.
# For 3 the first line is:  3 x 1 = 3
# and the last line is:     3 x 10 = 30

number = int(input())

# Write a for loop with range() here.
# Inside it, print one line of the table.
