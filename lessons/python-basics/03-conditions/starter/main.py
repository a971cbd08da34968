# Lesson 3: Making decisions
#
# Below 10        -> Cold: wear a coat.
# 10 up to 24     -> Mild: a jumper is enough.
# 25 or more      -> Hot: drink some water.

temperature = int(input())

if temperature < 10:
    print("Cold: wear a coat.")
# Add an elif for mild weather and an else for hot weather.
