#!/bin/bash
# Lesson 1: Hello, Bash!

read -r name   # read one line into the variable name, like name = input() in Python

# 1. Print:  Hello, <name>!
# 2. Print:  Your name has <number> characters.
#    Tip: ${#name} is the number of characters, like len(name) in Python.

echo "Hello!"
