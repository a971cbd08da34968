<?php
// Lesson 1: Hello, PHP!

$name = trim(fgets(STDIN));  // read one line, like name = input().strip() in Python

// 1. Print:  Hello, <name>!
// 2. Print:  Your name has <number> characters.
//    Tip: strlen($name) gives the number of characters, like len(name) in Python.
//    Remember: echo doesn't start a new line, so end each line with \n

echo "Hello!\n";
