print("MANGO")
