"""What the reference model adds to an answer beyond its text, deterministically: generated images and
speech, token logprobs, search grounding and retrieved URLs (the rules are in ``engine.py``)."""

from __future__ import annotations

import hashlib
import math
import re
from array import array
from functools import cache

from conformance.reference.model.engine import (
    GeneratedMedia,
    Grounding,
    TokenLogprob,
    UrlRetrieval,
    tokenize,
)
from conformance.reference.model.ids import derive_id
from conformance.suite.samples import sample_for

IMAGE_TOKENS = 1290
"""What one generated image costs (Gemini 2.5 Flash Image: 1290 tokens an image)."""
AUDIO_MIME = "audio/L16;codec=pcm;rate=24000"
AUDIO_RATE = 24000
AUDIO_TOKENS_PER_SECOND = 25
SECONDS_PER_TOKEN = 0.05
SEARCH_RESULT_TOKENS = 48
"""Tool-use prompt tokens the search results of a grounded answer count."""
URL_CONTENT_TOKENS = 64
"""Tool-use prompt tokens each URL retrieved with the URL context tool counts."""
ALTERNATIVES: tuple[str, ...] = (" the", " a", ",", ".", " and", " of", " to", " in", " is", " that")
"""Runner-up tokens shown beside each chosen token in logprobs (the chosen token left out)."""
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)


def _unit(*parts: str) -> float:
    """A deterministic number in [0, 1) derived from the parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def token_id(token: str) -> int:
    """A stable vocabulary id for a token."""
    return int(_unit("token", token) * 256000)


@cache
def generated_image() -> GeneratedMedia:
    """The image the model draws: the PNG media sample (it shows the word APPLE)."""
    return GeneratedMedia("image/png", sample_for("image/png").read(), "IMAGE", IMAGE_TOKENS)


def speech(text: str, voices: tuple[str, ...]) -> GeneratedMedia:
    """The model reading ``text`` aloud: 16-bit PCM at 24 kHz, a tone per voice, 50 ms per token."""
    tokens = max(1, len(tokenize(text)))
    seconds = tokens * SECONDS_PER_TOKEN
    frequency = 180.0 + 120.0 * _unit("voice", voices[0] if voices else "Kore")
    count = int(seconds * AUDIO_RATE)
    samples = array(
        "h", (int(3000 * math.sin(2 * math.pi * frequency * n / AUDIO_RATE)) for n in range(count))
    )
    if samples.itemsize == 2 and array("h", [1]).tobytes() != b"\x01\x00":  # pragma: no cover - big-endian
        samples.byteswap()
    audio_tokens = max(1, math.ceil(seconds * AUDIO_TOKENS_PER_SECOND))
    return GeneratedMedia(AUDIO_MIME, samples.tobytes(), "AUDIO", audio_tokens)


def logprobs_of(pieces: tuple[str, ...], top: int) -> tuple[TokenLogprob, ...]:
    """The logprob of each answer token (a piece of the answer) and its ``top`` most likely tokens."""
    found = []
    for position, piece in enumerate(pieces):
        chosen = -round(0.02 + 0.5 * _unit("logprob", str(position), piece), 6)
        others = [token for token in ALTERNATIVES if token != piece][: max(0, top - 1)]
        ranked = [(piece, token_id(piece), chosen)]
        ranked += [
            (token, token_id(token), round(chosen - 1.5 * (n + 1), 6)) for n, token in enumerate(others)
        ]
        found.append(TokenLogprob(piece, token_id(piece), chosen, tuple(ranked[:top])))
    return tuple(found)


def grounding_of(question: str, fingerprint: str) -> Grounding:
    """How a search grounds the answer to ``question``: one query (the question) and one web source."""
    query = " ".join(question.split())[:200] or "search"
    uri = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/" + derive_id("search", fingerprint)
    return Grounding((query,), ((uri, "example.com"),))


def retrieved_urls(text: str) -> tuple[UrlRetrieval, ...]:
    """Every http(s) URL of a text, retrieved (trailing punctuation is not part of a URL)."""
    urls = [match.group(0).rstrip(".,;:!?)]}") for match in _URL.finditer(text)]
    return tuple(UrlRetrieval(url) for url in dict.fromkeys(urls))
