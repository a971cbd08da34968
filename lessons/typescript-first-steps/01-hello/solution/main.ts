function add(a: number, b: number): number {
    return a + b;
}

const shop: string = "Corner Shop";
const apples: number = 3;
const pears: number = 4;
const total: number = add(apples, pears);

console.log(`Welcome to ${shop}!`);
console.log(`Apples: ${apples}`);
console.log(`Pears: ${pears}`);
console.log(`Total fruit: ${total}`);
