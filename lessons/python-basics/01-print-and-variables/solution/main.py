name = "Ada"
age = 36

print(f"My name is {name}.")
print(f"I am {age} years old.")
print(f"Next year I will be {age + 1}.")
