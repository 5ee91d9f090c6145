"""Streamed bodies: the SSE and JSON-array decoders, the stream view, framing rules and captured streams."""
