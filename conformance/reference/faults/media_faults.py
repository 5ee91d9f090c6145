"""The reference gateway's multimodal faults: what a faulty gateway does to media before the model.

Each fault rewrites the request body the way a real gateway mangles it on its way upstream (rejects
a MIME family, relabels a type, drops media parts, accepts broken base64) or, for the body limit,
answers before the request reaches the gateway at all. ``rewrite_gemini`` and ``rewrite_openai`` are
applied to the parsed JSON body before the protocol handlers read it; ``BodyLimit`` is ASGI middleware.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable, Iterator, Set
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.reference.protocols.errors import ProtocolError, invalid_argument, openai_invalid
from conformance.reference.protocols.media_input import family_of

FAMILIES: tuple[str, ...] = ("image", "audio", "video", "document", "text")
BODY_LIMIT = 1024 * 1024
NGINX_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_DATA_URI = re.compile(r"data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)", re.DOTALL)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/_-]")


FAMILY_FAULTS: dict[str, str] = {f"media-{family}-rejected": family for family in FAMILIES}


# -- what the faults do --------------------------------------------------------------------------


def _lenient_base64(text: str) -> str:
    """Skip every character outside the base64 alphabets, decode, and re-encode in the standard form."""
    core = _NOT_BASE64.sub("", text).rstrip("=").replace("-", "+").replace("_", "/")
    core = core[: len(core) - (len(core) % 4 == 1)]
    return base64.b64encode(base64.b64decode(core + "=" * (-len(core) % 4))).decode("ascii")


def _relabel(mime_type: str, faults: Set[str]) -> str:
    if "mime-forced-png" in faults:
        return "image/png"
    if "mime-jpg-alias" in faults and mime_type.strip().lower() == "image/jpeg":
        return "image/jpg"
    return mime_type


def _rejected_family(faults: Set[str]) -> set[str]:
    return {family for name, family in FAMILY_FAULTS.items() if name in faults}


def _gemini_parts(body: Any) -> Iterator[list[Any]]:
    """Every parts list of the contents of a native body (also inside countTokens' generateContentRequest)."""
    if not isinstance(body, dict):
        return
    for content in body.get("contents") or []:
        if isinstance(content, dict) and isinstance(content.get("parts"), list):
            yield content["parts"]
    for key in ("generateContentRequest", "generate_content_request"):
        yield from _gemini_parts(body.get(key))


def _first(mapping: dict[str, Any], *names: str) -> str | None:
    return next((name for name in names if name in mapping), None)


def rewrite_gemini(body: Any, faults: Set[str]) -> Any:
    """A native request body as the active media faults forward it (the original is not changed)."""
    rejected = _rejected_family(faults)
    active = rejected or faults & {
        "media-dropped",
        "mime-jpg-alias",
        "mime-forced-png",
        "invalid-base64-accepted",
    }
    if not active or not isinstance(body, dict):
        return body
    body = copy.deepcopy(body)
    for parts in _gemini_parts(body):
        kept: list[Any] = []
        for part in parts:
            blob_key = _first(part, "inlineData", "inline_data") if isinstance(part, dict) else None
            file_key = _first(part, "fileData", "file_data") if isinstance(part, dict) else None
            if (blob_key or file_key) and "media-dropped" in faults:
                continue
            blob = part.get(blob_key) if blob_key else None
            if isinstance(blob, dict):
                mime_key = _first(blob, "mimeType", "mime_type")
                mime_type = str(blob.get(mime_key, "")) if mime_key else ""
                if family_of(mime_type) in rejected:
                    message = f"Unsupported MIME type: {mime_type}"
                    raise ProtocolError(invalid_argument(message))
                if mime_key:
                    blob[mime_key] = _relabel(mime_type, faults)
                if "invalid-base64-accepted" in faults and isinstance(blob.get("data"), str):
                    blob["data"] = _lenient_base64(blob["data"])
            kept.append(part)
        parts[:] = kept
    return body


def _openai_media_part(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") in ("image_url", "input_audio", "file")


def _rewrite_data_uri(url: str, faults: Set[str], reject: Callable[[str], None]) -> str:
    match = _DATA_URI.fullmatch(url)
    if match is None:
        return url
    mime_type, params, data = match.group("type"), match.group("params"), match.group("data")
    reject(mime_type)
    if "invalid-base64-accepted" in faults:
        data = _lenient_base64(data)
    return f"data:{_relabel(mime_type, faults)}{params},{data}"


def rewrite_openai(body: Any, faults: Set[str]) -> Any:
    """An OpenAI chat body as the active media faults forward it (the original is not changed)."""
    rejected = _rejected_family(faults)
    active = rejected or faults & {
        "media-dropped", "mime-jpg-alias", "mime-forced-png", "invalid-base64-accepted", "remote-image-url-dropped",
    }  # fmt: skip
    if not active or not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return body
    body = copy.deepcopy(body)

    def reject(mime_type: str) -> None:
        if family_of(mime_type) in rejected:
            raise ProtocolError(openai_invalid(f"Unsupported MIME type: {mime_type}", "messages"))

    for message in body["messages"]:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        kept: list[Any] = []
        for part in content:
            if _openai_media_part(part) and "media-dropped" in faults:
                continue
            image = (
                part.get("image_url") if isinstance(part, dict) and part.get("type") == "image_url" else None
            )
            url = image.get("url") if isinstance(image, dict) else None
            if isinstance(image, dict) and isinstance(url, str):
                if re.match(r"https?://", url, re.IGNORECASE) and "remote-image-url-dropped" in faults:
                    continue
                image["url"] = _rewrite_data_uri(url, faults, reject)
            audio = (
                part.get("input_audio")
                if isinstance(part, dict) and part.get("type") == "input_audio"
                else None
            )
            if isinstance(audio, dict):
                reject("audio/" + str(audio.get("format", "")))
                if "invalid-base64-accepted" in faults and isinstance(audio.get("data"), str):
                    audio["data"] = _lenient_base64(audio["data"])
            kept.append(part)
        message["content"] = kept
    return body


class BodyLimit:
    """ASGI middleware: under ``request-body-limit``, a body over 1 MiB gets nginx's HTML 413 page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "request-body-limit" not in scope["app"].state.faults:
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) <= BODY_LIMIT:
            await self.app(scope, receive, send)
            return
        message: Message = {"more_body": True}
        while message.get("more_body"):  # drain the body, so the client sees the answer, not a reset
            message = await receive()
            if message["type"] == "http.disconnect":
                return
        headers = [(b"content-type", b"text/html"), (b"content-length", str(len(NGINX_413)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": NGINX_413})
