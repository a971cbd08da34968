// Lesson 1: Hello, Java!
import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner scanner = new Scanner(System.in);
        String name = scanner.nextLine();  // read one line, like name = input() in Python

        // 1. Print:  Hello, <name>!
        // 2. Print:  Your name has <number> characters.
        //    Tip: name.length() gives the number of characters, like len(name) in Python.

        System.out.println("Hello!");
    }
}
