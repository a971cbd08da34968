// Lesson 1: Hello, TypeScript!

function add(a: number, b: number): number {
    // Return a and b added together.
    return 0;
}

const shop: string = "Corner Shop";
const apples: number = 3;
const pears: number = 4;

// 1. Finish the add function above.
// 2. Make a constant called total, of type number, that holds add(apples, pears).
// 3. Print these lines, using your constants:
//      Apples: 3
//      Pears: 4
//      Total fruit: 7

console.log(`Welcome to ${shop}!`);
