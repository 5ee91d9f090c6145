"""Faults in how the gateway passes media on: what it does to media parts before the model sees them
(rejects a MIME family, relabels a type, drops parts, accepts broken base64), and a proxy in front of it
that refuses large bodies.

The request faults rewrite a copy of the decoded body (the original is not changed), in the order they
are listed: the ones that drop parts first, so that a dropped part is neither refused nor relabelled.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import ASGI, FORWARDED, REQUEST, Call, Forwarded
from conformance.reference.model.engine import Prompt, Turn
from conformance.reference.protocols.errors import ProtocolError, invalid_argument, openai_invalid
from conformance.reference.protocols.media_input import family_of
from conformance.suite.samples import load_media

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_LIMIT = 1024 * 1024
NGINX_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_DATA_URI = re.compile(r"data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)", re.DOTALL)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/_-]")
_REMOTE = re.compile(r"https?://", re.IGNORECASE)
_OPENAI_MEDIA = ("image_url", "input_audio", "file")


# -- the cases meant to catch them (cases/*/multimodal*.yaml) -----------------------------------------


def _slugs(family: str) -> list[str]:
    return [s.mime_type.replace("/", "-") for s in load_media() if family_of(s.mime_type) == family]


def per_type_cases(slugs: list[str]) -> tuple[str, ...]:
    """The MUST cases sending each of these types: both native spellings and the OpenAI data URI."""
    return tuple(
        f"{prefix}/{slug}"
        for prefix in (
            "gemini/multimodal/inline-data",
            "gemini/multimodal/inline-data-camel",
            "openai/multimodal/image-url",
        )
        for slug in slugs
    )


# -- walking a request's media -----------------------------------------------------------------------


def _first(mapping: dict[str, Any], *names: str) -> str | None:
    return next((name for name in names if name in mapping), None)


def _native_parts(body: Any) -> Iterator[list[Any]]:
    """Every parts list of the contents of a native body (also inside countTokens' generateContentRequest)."""
    if not isinstance(body, dict):
        return
    for content in body.get("contents") or []:
        if isinstance(content, dict) and isinstance(content.get("parts"), list):
            yield content["parts"]
    for key in ("generateContentRequest", "generate_content_request"):
        yield from _native_parts(body.get(key))


def _native_media(part: Any) -> bool:
    return isinstance(part, dict) and bool(
        _first(part, "inlineData", "inline_data") or _first(part, "fileData", "file_data")
    )


def _native_blobs(body: Any) -> Iterator[tuple[dict[str, Any], str | None, str]]:
    """Each inline blob of a native body with the key and value of its MIME type; the gateway rewrites the
    MIME type it read, as text."""
    for parts in _native_parts(body):
        for part in parts:
            blob_key = _first(part, "inlineData", "inline_data") if isinstance(part, dict) else None
            blob = part.get(blob_key) if blob_key else None
            if isinstance(blob, dict):
                mime_key = _first(blob, "mimeType", "mime_type")
                mime_type = str(blob.get(mime_key, "")) if mime_key else ""
                if mime_key:
                    blob[mime_key] = mime_type
                yield blob, mime_key, mime_type


def _openai_contents(body: Any) -> Iterator[list[Any]]:
    """The content list of each message of an OpenAI chat body."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return
    for message in body["messages"]:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            yield content


def _typed(part: Any, kind: str) -> dict[str, Any] | None:
    """The ``kind`` object of an OpenAI content part of that type."""
    value = part.get(kind) if isinstance(part, dict) and part.get("type") == kind else None
    return value if isinstance(value, dict) else None


def _data_uris(body: Any) -> Iterator[tuple[dict[str, Any], re.Match[str]]]:
    """Each image_url object of an OpenAI body whose URL is a data URI, with the URI's parts."""
    for content in _openai_contents(body):
        for part in content:
            image = _typed(part, "image_url")
            url = image.get("url") if image is not None else None
            match = _DATA_URI.fullmatch(url) if isinstance(url, str) else None
            if image is not None and match is not None:
                yield image, match


def _audios(body: Any) -> Iterator[dict[str, Any]]:
    """Each input_audio object of an OpenAI body."""
    for content in _openai_contents(body):
        for part in content:
            audio = _typed(part, "input_audio")
            if audio is not None:
                yield audio


def _rewritten(body: Any) -> Any:
    """A copy of a body this fault rewrites (a body not of the shape the protocol sends is left alone)."""
    return copy.deepcopy(body) if isinstance(body, dict) else body


def _lenient_base64(text: str) -> str:
    """Skip every character outside the base64 alphabets, decode, and re-encode in the standard form."""
    core = _NOT_BASE64.sub("", text).rstrip("=").replace("-", "+").replace("_", "/")
    core = core[: len(core) - (len(core) % 4 == 1)]
    return base64.b64encode(base64.b64decode(core + "=" * (-len(core) % 4))).decode("ascii")


# -- dropping ----------------------------------------------------------------------------------------


class MediaDropped(Fault):
    """Media parts (inline data, file data; OpenAI image_url, input_audio, file) are silently removed
    before the model sees them; the text of the message still goes through (F35's silent drop, for every
    kind of media)."""

    name = "media-dropped"
    bug_class = "F35"
    protocol = "gemini"
    feature = "multimodal"
    affects = BOTH
    caught_by = (
        "gemini/multimodal/media-counted",
        "openai/multimodal/media-counted",
        "gemini/multimodal/inline-data/image-png/reaches-model",
        "gemini/multimodal/inline-data-camel/audio-wav/modality",
        "gemini/multimodal/several-parts/modality",
        "openai/multimodal/history/reaches-model",
        "gemini/multimodal/audio-mpeg",
        "gemini/media-resolution/low-counts-fewer",
        "openai/multimodal/file-pdf",
        "gemini/sdk/media",
        "openai/sdk/media",
    )

    @at(REQUEST)
    def without_media(self, body: Any, call: Call) -> Any:
        body = _rewritten(body)
        if call.protocol == "gemini":
            for parts in _native_parts(body):
                parts[:] = [part for part in parts if not _native_media(part)]
        else:
            for content in _openai_contents(body):
                content[:] = [
                    part
                    for part in content
                    if not (isinstance(part, dict) and part.get("type") in _OPENAI_MEDIA)
                ]
        return body


class RemoteImageUrlDropped(Fault):
    """OpenAI image_url parts with an http(s) URL are silently dropped instead of reaching the model."""

    name = "remote-image-url-dropped"
    bug_class = "F35"
    protocol = "openai"
    feature = "multimodal"
    caught_by = ("openai/multimodal/remote-image-url",)

    @at(REQUEST)
    def without_remote_images(self, body: Any, call: Call) -> Any:
        if call.protocol != "openai":
            return body
        body = _rewritten(body)
        for content in _openai_contents(body):
            content[:] = [part for part in content if not _remote_image(part)]
        return body


def _remote_image(part: Any) -> bool:
    image = _typed(part, "image_url")
    url = image.get("url") if image is not None else None
    return isinstance(url, str) and _REMOTE.match(url) is not None


class PdfFilePartDropped(Fault):
    """OpenAI file content parts (a PDF as file.file_data) are silently removed; the message's text still
    goes through."""

    name = "pdf-file-part-dropped"
    bug_class = "F35"
    protocol = "openai"
    feature = "multimodal"
    caught_by = (
        "openai/multimodal/file-pdf",
        "openai/multimodal/file-pdf/reaches-model",
    )

    @at(REQUEST)
    def without_files(self, body: Any, call: Call) -> Any:
        if call.protocol != "openai":
            return body
        body = _rewritten(body)
        for content in _openai_contents(body):
            content[:] = [
                part for part in content if not (isinstance(part, dict) and part.get("type") == "file")
            ]
        return body


class UnlistedMimeDropped(Fault):
    """Native inline parts whose MIME type is not on the gateway's list of the 32 documented types (such
    as audio/mpeg, the registered type of MP3) are silently removed instead of forwarded."""

    name = "unlisted-mime-dropped"
    bug_class = "F34"
    protocol = "gemini"
    feature = "multimodal"
    caught_by = ("gemini/multimodal/audio-mpeg",)

    @at(REQUEST)
    def listed_only(self, body: Any, call: Call) -> Any:
        if call.protocol != "gemini":
            return body
        body = _rewritten(body)
        listed = {sample.mime_type for sample in load_media()}
        for parts in _native_parts(body):
            parts[:] = [part for part in parts if _listed(part, listed)]
        return body


def _listed(part: Any, listed: set[str]) -> bool:
    blob_key = _first(part, "inlineData", "inline_data") if isinstance(part, dict) else None
    blob = part.get(blob_key) if blob_key else None
    if not isinstance(blob, dict):
        return True
    mime_key = _first(blob, "mimeType", "mime_type")
    return str(blob.get(mime_key, "")).strip().lower() in listed if mime_key else True


# -- refusing a MIME family --------------------------------------------------------------------------


class _FamilyRejected(Fault):
    """A MIME family refused: every inline part of it (native inline data; OpenAI data URIs of image_url
    parts and input_audio) gets 400 "Unsupported MIME type"."""

    family: ClassVar[str]
    bug_class = "F34"
    protocol = "gemini"
    feature = "multimodal"
    affects = BOTH

    @at(REQUEST)
    def refused(self, body: Any, call: Call) -> Any:
        body = _rewritten(body)
        if call.protocol == "gemini":
            for _, _, mime_type in _native_blobs(body):
                if family_of(mime_type) == self.family:
                    raise ProtocolError(invalid_argument(f"Unsupported MIME type: {mime_type}"))
            return body
        for content in _openai_contents(body):
            for part in content:
                declared = _inline_type(part)
                if declared is not None and family_of(declared) == self.family:
                    raise ProtocolError(openai_invalid(f"Unsupported MIME type: {declared}", "messages"))
        return body


def _inline_type(part: Any) -> str | None:
    """The declared MIME type of an OpenAI inline media part: an image_url data URI's, or audio/<format>."""
    image = _typed(part, "image_url")
    url = image.get("url") if image is not None else None
    match = _DATA_URI.fullmatch(url) if isinstance(url, str) else None
    if match is not None:
        return match["type"]
    audio = _typed(part, "input_audio")
    return None if audio is None else "audio/" + str(audio.get("format", ""))


class MediaImageRejected(_FamilyRejected):
    """Every image media part (inline data or data URI) is refused with 400 'Unsupported MIME type' on
    both routes, although the type is documented as supported."""

    name = "media-image-rejected"
    family = "image"
    caught_by = per_type_cases(_slugs("image"))


class MediaAudioRejected(_FamilyRejected):
    """Every audio media part (inline data or data URI) is refused with 400 'Unsupported MIME type' on
    both routes, although the type is documented as supported."""

    name = "media-audio-rejected"
    family = "audio"
    caught_by = per_type_cases(_slugs("audio"))


class MediaVideoRejected(_FamilyRejected):
    """Every video media part (inline data or data URI) is refused with 400 'Unsupported MIME type' on
    both routes, although the type is documented as supported."""

    name = "media-video-rejected"
    family = "video"
    caught_by = per_type_cases(_slugs("video"))


class MediaDocumentRejected(_FamilyRejected):
    """Every document media part (inline data or data URI) is refused with 400 'Unsupported MIME type' on
    both routes, although the type is documented as supported."""

    name = "media-document-rejected"
    family = "document"
    caught_by = per_type_cases(_slugs("document"))


class MediaTextRejected(_FamilyRejected):
    """Every text media part (inline data or data URI) is refused with 400 'Unsupported MIME type' on
    both routes, although the type is documented as supported."""

    name = "media-text-rejected"
    family = "text"
    caught_by = per_type_cases(_slugs("text"))


# -- relabelling and re-encoding ---------------------------------------------------------------------


class _Relabelled(Fault):
    """Inline media forwarded under another MIME type (native inline data, OpenAI data URIs)."""

    bug_class = "F34"
    protocol = "gemini"
    feature = "multimodal"
    affects = BOTH

    def relabel(self, mime_type: str) -> str:
        """The MIME type the gateway forwards instead of ``mime_type``."""
        raise NotImplementedError

    @at(REQUEST)
    def relabelled(self, body: Any, call: Call) -> Any:
        body = _rewritten(body)
        if call.protocol == "gemini":
            for blob, mime_key, mime_type in _native_blobs(body):
                if mime_key:
                    blob[mime_key] = self.relabel(mime_type)
        else:
            for image, match in _data_uris(body):
                image["url"] = f"data:{self.relabel(match['type'])}{match['params']},{match['data']}"
        return body


class MimeJpgAlias(_Relabelled):
    """image/jpeg is forwarded as the undocumented image/jpg (inline data and data URIs)."""

    name = "mime-jpg-alias"
    caught_by = per_type_cases(["image-jpeg"])

    def relabel(self, mime_type: str) -> str:
        return "image/jpg" if mime_type.strip().lower() == "image/jpeg" else mime_type


class MimeForcedPng(_Relabelled):
    """Every inline media part is forwarded labelled image/png, whatever its real type."""

    name = "mime-forced-png"
    caught_by = per_type_cases(
        ["image-jpeg", "image-webp", "audio-wav", "video-mp4", "application-pdf", "text-plain"]
    )

    def relabel(self, mime_type: str) -> str:
        return "image/png"


class InvalidBase64Accepted(Fault):
    """Inline data is decoded leniently (characters outside the base64 alphabet skipped, as Node's
    Buffer.from does) and re-encoded, so invalid base64 gets 200 instead of 400 (no bug class listed)."""

    name = "invalid-base64-accepted"
    bug_class = None
    protocol = "gemini"
    feature = "multimodal"
    affects = BOTH
    caught_by = (
        "gemini/multimodal/invalid-base64/inline-data",
        "gemini/multimodal/invalid-base64/inline-data-camel",
        "openai/multimodal/invalid-base64",
    )

    @at(REQUEST)
    def lenient(self, body: Any, call: Call) -> Any:
        body = _rewritten(body)
        if call.protocol == "gemini":
            for blob, _, _ in _native_blobs(body):
                if isinstance(blob.get("data"), str):
                    blob["data"] = _lenient_base64(blob["data"])
            return body
        for image, match in _data_uris(body):
            image["url"] = f"data:{match['type']}{match['params']},{_lenient_base64(match['data'])}"
        for audio in _audios(body):
            if isinstance(audio.get("data"), str):
                audio["data"] = _lenient_base64(audio["data"])
        return body


class StrippedImageBilled(Fault):
    """Images are stripped before the model sees them but still billed: countTokens (forwarded without
    them) leaves them out, while generateContent reports their IMAGE tokens in promptTokenCount and
    promptTokensDetails as if the model had read them (it answers that it cannot tell)."""

    name = "stripped-image-billed"
    bug_class = "F36"
    protocol = "gemini"
    feature = "billing"
    caught_by = ("gemini/billing/prompt-vs-count-media",)

    @at(FORWARDED)
    def stripped(self, forwarded: Forwarded, call: Call) -> Forwarded:
        if call.protocol != "gemini":
            return forwarded
        counted = call.method != "countTokens"

        def strip(turn: Turn) -> Turn:
            media = tuple(
                dataclasses.replace(item, word=None) if item.modality == "IMAGE" else item
                for item in turn.media
                if counted or item.modality != "IMAGE"
            )
            return dataclasses.replace(turn, media=media)

        prompt = forwarded.prompt
        stripped = Prompt(tuple(strip(turn) for turn in prompt.turns), prompt.system)
        return dataclasses.replace(forwarded, prompt=stripped)


# -- in front of the gateway -------------------------------------------------------------------------


class RequestBodyLimit(Fault):
    """A proxy in front of the gateway refuses bodies over 1 MiB with nginx's HTML 413 page (the default
    client_max_body_size), far below the documented 20 MB inline limit (no bug class listed)."""

    name = "request-body-limit"
    bug_class = None
    protocol = "gemini"
    feature = "multimodal"
    affects = BOTH
    caught_by = ("gemini/multimodal/inline-limit", "openai/multimodal/inline-limit")

    @at(ASGI)
    def nginx_in_front(self, app: ASGIApp, context: None) -> ASGIApp:
        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            length = dict(scope["headers"]).get(b"content-length", b"0")
            if not length.isdigit() or int(length) <= BODY_LIMIT:
                await app(scope, receive, send)
                return
            message: Message = {"more_body": True}
            while message.get("more_body"):  # drain the body, so the client sees the answer, not a reset
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
            headers = [(b"content-type", b"text/html"), (b"content-length", str(len(NGINX_413)).encode())]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": NGINX_413})

        return limited
