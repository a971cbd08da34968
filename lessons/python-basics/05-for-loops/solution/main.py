number = int(input())

for i in range(1, 11):
    print(f"{number} x {i} = {number * i}")
