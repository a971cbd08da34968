// Lesson 1: Hello, JavaScript!

// Read everything that was typed, split it into lines, and keep the first one.
// With Run: type the name, press Enter, then End input (Ctrl+D) so the program goes on.
const lines = require("fs").readFileSync(0, "utf8").split("\n");
const name = lines[0].trim();

// 1. Print:  Hello, <name>!
// 2. Print:  Your name has <number> characters.
//    Tip: name.length is the number of characters, like len(name) in Python.

console.log("Hello!");
