"""Wire formatting of JSON bodies: Google's pretty-printed style and OpenAI's compact style."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

GEMINI_CONTENT_TYPE = "application/json; charset=UTF-8"
OPENAI_CONTENT_TYPE = "application/json"


def gemini_bytes(body: Any) -> bytes:
    """Google's layout: 2-space indent, ``": "`` after keys, UTF-8, a trailing newline."""
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def openai_bytes(body: Any) -> bytes:
    """Compact JSON."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def gemini_response(body: Any, status: int = 200) -> Response:
    """A native JSON response."""
    return Response(gemini_bytes(body), status_code=status, media_type=GEMINI_CONTENT_TYPE)


def openai_response(body: Any, status: int = 200) -> Response:
    """An OpenAI-compatible JSON response."""
    return Response(openai_bytes(body), status_code=status, media_type=OPENAI_CONTENT_TYPE)
