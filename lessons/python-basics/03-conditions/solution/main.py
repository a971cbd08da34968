temperature = int(input())

if temperature < 10:
    print("Cold: wear a coat.")
elif temperature < 25:
    print("Mild: a jumper is enough.")
else:
    print("Hot: drink some water.")
