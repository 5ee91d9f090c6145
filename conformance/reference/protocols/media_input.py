"""How the reference's model reads media parts: decoding, MIME checks, modality, tokens and the word.

Inline media (Gemini ``inlineData``, OpenAI ``image_url`` data URIs and ``input_audio``) is decoded
(standard or URL-safe base64, padding optional, whitespace ignored) and judged by its bytes:

* The declared MIME type must be one of the 32 documented types (``SUPPORTED_MIME_TYPES``) or an alias
  of one (``ALIASES``: audio/mpeg for audio/mp3), else 400 ``Unsupported MIME type: <type>``.
* The bytes must be what the type says (``conformance.suite.samples.sniff_mime``): any text for the text and
  code types, the same container for the binary ones (aliases of one container agree: ``video/mpg``
  and ``video/mpeg``; ``video/mp4``, ``video/mov`` and ``video/3gpp``; ``image/heic`` and
  ``image/heif``). Otherwise 400 ``Unable to process input <family>``. Google's documentation is
  silent on a mislabelled part; the reference rejects it because Google rejected JPEG bytes sent
  as ``image/png`` (GATEWAY-BUGS F34), and the suite accepts either that or a 200.
* The part counts 258 tokens of its modality, except text files, which count the tokens of their
  text as TEXT. Its word is the manifest's word when the bytes are a sample of ``media/`` (by
  SHA-256), or for text the first sample word that the text contains; otherwise it cannot be read.

Remote files (Gemini ``fileData``, OpenAI http(s) ``image_url``) cannot be fetched here: they are
accepted, count 258 tokens of their modality, and cannot be read (the model says so).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from conformance.reference.model.engine import MEDIA_PART_TOKENS, Media, Modality, tokenize
from conformance.suite.samples import load_media, sniff_mime

# The documented types are the media set's: one sample per type (tests/test_media.py checks all 32).
_SAMPLES = load_media()
SUPPORTED_MIME_TYPES: tuple[str, ...] = tuple(sample.mime_type for sample in _SAMPLES)
TEXT_MIME_TYPES = frozenset(sample.mime_type for sample in _SAMPLES if sample.family == "text")
ALIASES: dict[str, str] = {"audio/mpeg": "audio/mp3"}
"""Types the model takes as another one it documents: MP3's registered type (RFC 3003) for audio/mp3."""
SAME_CONTAINER: dict[str, str] = {
    "video/mpg": "video/mpeg",
    "video/mov": "video/mp4",
    "video/3gpp": "video/mp4",
    "image/heif": "image/heic",
}
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_DATA_URI = re.compile(r"data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)", re.DOTALL)


class MediaError(Exception):
    """A media part the model cannot take; the message is the one the gateway answers with."""


def family_of(mime_type: str) -> str:
    """The family of a MIME type: image, audio, video, document or text."""
    mime_type = normalize(mime_type)
    if mime_type in TEXT_MIME_TYPES or mime_type.startswith("text/"):
        return "text"
    head = mime_type.split("/", 1)[0]
    return head if head in ("image", "audio", "video") else "document"


def modality_of(mime_type: str) -> Modality:
    """The modality a part of this MIME type is counted as."""
    family = family_of(mime_type)
    if family == "image":
        return "IMAGE"
    if family == "audio":
        return "AUDIO"
    if family == "video":
        return "VIDEO"
    return "TEXT" if family == "text" else "DOCUMENT"


def normalize(mime_type: str) -> str:
    """A MIME type without parameters, lower case."""
    return mime_type.split(";", 1)[0].strip().lower()


def decode_base64(text: str) -> bytes | None:
    """Standard or URL-safe base64 (whitespace ignored, padding optional), or None if it is not base64."""
    try:  # the common case, fast: canonical standard base64
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    compact = "".join(text.split())
    if not _BASE64.fullmatch(compact):
        return None
    core = compact.rstrip("=")
    if len(core) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(core.replace("+", "-").replace("/", "_") + "=" * (-len(core) % 4))
    except (binascii.Error, ValueError):
        return None


@lru_cache(maxsize=1)
def _known_samples() -> tuple[dict[str, str], tuple[str, ...]]:
    by_hash = {sample.sha256: sample.word for sample in _SAMPLES if sample.sha256}
    words = tuple(dict.fromkeys(sample.word for sample in _SAMPLES))
    return by_hash, words


def _text_word(text: str) -> str | None:
    _, words = _known_samples()
    found = [
        (match.start(), word) for word in words if (match := re.search(re.escape(word), text, re.IGNORECASE))
    ]
    return min(found)[1] if found else None


def read_inline(mime_type: str, data: bytes) -> Media:
    """The model's view of inline media, or ``MediaError`` when it refuses it."""
    declared = normalize(mime_type)
    declared = ALIASES.get(declared, declared)
    if declared not in SUPPORTED_MIME_TYPES:
        raise MediaError(f"Unsupported MIME type: {mime_type}")
    sniffed = sniff_mime(data)
    family = family_of(declared)
    if declared in TEXT_MIME_TYPES:
        matches = sniffed == "text/plain"
    else:
        matches = sniffed is not None and SAME_CONTAINER.get(sniffed, sniffed) == SAME_CONTAINER.get(
            declared, declared
        )
    if not matches:
        seen = f"looks like {sniffed}" if sniffed else "is not recognised"
        raise MediaError(f"Unable to process input {family}: the data {seen}, not {declared}.")
    if family == "text":
        text = data.decode("utf-8").removeprefix("\ufeff")
        return Media("TEXT", len(tokenize(text)), _text_word(text))
    by_hash, _ = _known_samples()
    word = by_hash.get(hashlib.sha256(data).hexdigest())
    return Media(modality_of(declared), MEDIA_PART_TOKENS, word)


def read_remote(mime_type: str | None) -> Media:
    """A remote file (a URI the reference cannot fetch): counted, but not readable."""
    if mime_type is not None and normalize(mime_type) not in SUPPORTED_MIME_TYPES:
        raise MediaError(f"Unsupported MIME type: {mime_type}")
    return Media(modality_of(mime_type) if mime_type else "IMAGE", MEDIA_PART_TOKENS, None)


def read_native_part(part: Mapping[str, Any]) -> Media:
    """A canonical (camelCase) Gemini part with ``inlineData`` or ``fileData``."""
    if "inlineData" in part:
        blob = part["inlineData"]
        mime_type = blob.get("mimeType")
        if not mime_type:
            raise MediaError("inline_data.mime_type is required.")
        data = decode_base64(blob.get("data", ""))
        if data is None:  # pragma: no cover - the parser rejects invalid base64 first
            raise MediaError("Base64 decoding failed for inline_data.data.")
        return read_inline(mime_type, data)
    blob = part.get("fileData") or {}
    if not blob.get("fileUri"):
        raise MediaError("file_data.file_uri is required.")
    return read_remote(blob.get("mimeType"))


def read_data_uri(url: str) -> Media:
    """An inline ``data:<type>;base64,<data>`` URI."""
    match = _DATA_URI.fullmatch(url)
    if match is None or ";base64" not in match.group("params").lower():
        raise MediaError("Invalid data URI: expected data:<mime type>;base64,<data>.")
    data = decode_base64(match.group("data"))
    if data is None:
        raise MediaError("Invalid data URI: base64 decoding failed.")
    return read_inline(match.group("type") or "text/plain", data)


def read_url(url: str) -> Media:
    """An OpenAI ``image_url.url``: a base64 data URI, or an http(s) URL taken as a remote image."""
    if url.startswith("data:"):
        return read_data_uri(url)
    if re.match(r"https?://", url, re.IGNORECASE):
        return read_remote(None)
    raise MediaError("Invalid image URL: expected a base64 data URI or an http(s) URL.")


INPUT_AUDIO_FORMATS: dict[str, str] = {"wav": "audio/wav", "mp3": "audio/mp3"}


def read_openai_part(part: Mapping[str, Any]) -> Media:
    """An OpenAI content part of type ``image_url``, ``input_audio`` or ``file``."""
    kind = part.get("type")
    value = part.get(kind) if isinstance(kind, str) else None
    if not isinstance(value, dict):
        raise MediaError(f"Invalid '{kind}': expected an object.")
    if kind == "image_url":
        url = value.get("url")
        if not isinstance(url, str) or not url:
            raise MediaError("Missing required parameter: 'image_url.url'.")
        return read_url(url)
    if kind == "input_audio":
        audio_format = value.get("format")
        if audio_format not in INPUT_AUDIO_FORMATS:
            raise MediaError(f"Invalid 'input_audio.format': expected 'wav' or 'mp3', got {audio_format!r}.")
        data = decode_base64(value.get("data", "")) if isinstance(value.get("data"), str) else None
        if data is None:
            raise MediaError("Invalid 'input_audio.data': base64 decoding failed.")
        return read_inline(INPUT_AUDIO_FORMATS[audio_format], data)
    file_data = value.get("file_data")
    if isinstance(file_data, str) and file_data.startswith("data:"):
        return read_data_uri(file_data)
    return Media("DOCUMENT")
