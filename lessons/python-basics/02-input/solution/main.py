name = input()
age = int(input())

print(f"Hello, {name}!")
print(f"In 10 years you will be {age + 10}.")
