console.log("MANGO");
