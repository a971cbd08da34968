using System;

class Program
{
    static void Main()
    {
        string name = Console.ReadLine();

        Console.WriteLine($"Hello, {name}!");
        Console.WriteLine($"Your name has {name.Length} characters.");
    }
}
