"""JSON Schema validation: the schema store, one-line document errors and Gemini Schema conversion."""
