"""The reference gateway's protocols: native Gemini and OpenAI-compatible requests, rendering, streaming."""
