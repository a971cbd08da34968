const lines = require("fs").readFileSync(0, "utf8").split("\n");
const name = lines[0].trim();

console.log(`Hello, ${name}!`);
console.log(`Your name has ${name.length} characters.`);
