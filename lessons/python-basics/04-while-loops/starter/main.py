# Lesson 4: While loops
#
# Count down from the number you read to 1, then print Liftoff!
# Example for 3:
#   3
#   2
#   1
#   Liftoff!

count = int(input())

# Write a while loop here. Inside it:
#   - print count
#   - make count one smaller


print("Liftoff!")
