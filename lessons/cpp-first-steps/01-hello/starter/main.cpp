// Lesson 1: Hello, C++!
#include <iostream>
#include <string>

int main() {
    std::string name;
    std::getline(std::cin, name);  // read one line, like name = input() in Python

    // 1. Print:  Hello, <name>!
    // 2. Print:  Your name has <number> characters.
    //    Tip: name.size() gives the number of characters, like len(name) in Python.

    std::cout << "Hello!" << std::endl;
    return 0;
}
