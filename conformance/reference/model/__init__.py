"""The reference gateway's deterministic model: prompt vocabulary, tools, safety, thinking."""
