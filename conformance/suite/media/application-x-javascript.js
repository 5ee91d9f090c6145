const word = "MANGO";
console.log(word);
