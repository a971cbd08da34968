// Lesson 1: Hello, C#!
using System;

class Program
{
    static void Main()
    {
        string name = Console.ReadLine();  // read one line, like name = input() in Python

        // 1. Print:  Hello, <name>!
        // 2. Print:  Your name has <number> characters.
        //    Tip: name.Length is the number of characters, like len(name) in Python.

        Console.WriteLine("Hello!");
    }
}
