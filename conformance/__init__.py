"""gateway-conformance: a conformance suite for Gemini-native and OpenAI-compatible LLM gateways."""

from __future__ import annotations

__version__ = "0.1.0"
