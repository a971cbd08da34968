#include <iostream>
#include <string>

int main() {
    std::string name;
    std::getline(std::cin, name);

    std::cout << "Hello, " << name << "!" << std::endl;
    std::cout << "Your name has " << name.size() << " characters." << std::endl;
    return 0;
}
