"""Request bodies with media: the ``$media`` directive and bodies that stream what they cannot hold.

A case never pastes base64 into YAML. Anywhere in a request body, a one-directive object stands for
a sample of ``media/`` (``conformance.suite.samples``), encoded as a JSON string when the request is built::

    {$media: image/png}                               # standard base64 of media/image-png.png
    {$media: image/png, as: base64url}                # URL-safe alphabet (``-``, ``_``)
    {$media: image/png, as: data-uri}                 # data:image/png;base64,... (OpenAI image_url.url)
    {$media: image/jpeg, as: data-uri, label: image/png}   # the data URI names another type
    {$media: image/png, invalid: true}                # base64 that no decoder may accept (any form)
    {$media: video/mpeg, bytes: 15000000}             # real video of about that many bytes

``invalid: true`` breaks the base64 of any form: it is the real encoding with ``!*@#`` (outside both
base64 alphabets) inserted in its middle: a strict decoder must refuse it, while a lenient one that
skips unknown characters gets the real sample back. ``bytes: N`` repeats the sample whole as many
times as fit in N bytes (at least once); it is allowed only for formats whose files concatenate into
one valid stream (MPEG program streams, MP3 and ADTS AAC frames, plain text), so that every byte sent
is real media.

A built ``Body`` is JSON text split around its media, which is encoded chunk by chunk when sent: a large
body is streamed without ever being held whole, and only its first bytes are kept as evidence.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from conformance.suite.samples import MediaSample, load_media

Form = Literal["base64", "base64url", "data-uri"]

DIRECTIVE = "$media"
FORMS: tuple[Form, ...] = ("base64", "base64url", "data-uri")
DIRECTIVE_KEYS = frozenset({DIRECTIVE, "as", "label", "bytes", "invalid"})
# Formats whose files, concatenated, are still one valid file of that format.
CONCATENABLE = frozenset({"video/mpeg", "video/mpg", "audio/mp3", "audio/aac", "text/plain"})
INVALID_MARK = b"!*@#"
RAW_CHUNK = 3 * 64 * 1024  # a multiple of 3, so chunk encodings concatenate into the whole encoding
STREAM_THRESHOLD = 1024 * 1024
PREVIEW_BYTES = 16 * 1024


class PayloadError(ValueError):
    """A ``$media`` directive that cannot be built (unknown sample, unknown form, bad size)."""


@lru_cache(maxsize=1)
def _samples() -> dict[str, MediaSample]:
    return {sample.mime_type: sample for sample in load_media()}


@lru_cache(maxsize=64)
def _sample_bytes(mime_type: str) -> bytes:
    return _samples()[mime_type].read()


@dataclass(frozen=True)
class MediaRef:
    """One expanded ``$media`` directive: which sample, in which form, how many copies."""

    sample: MediaSample
    form: Form = "base64"
    label: str | None = None
    copies: int = 1
    invalid: bool = False

    @property
    def raw_size(self) -> int:
        """The number of media bytes encoded."""
        return self.sample.size * self.copies

    @property
    def prefix(self) -> bytes:
        """What comes before the base64 text: ``data:<type>;base64,`` for a data URI, else nothing."""
        if self.form != "data-uri":
            return b""
        return f"data:{self.label or self.sample.mime_type};base64,".encode("ascii")

    @property
    def size(self) -> int:
        """The length of the encoded string (without JSON quotes)."""
        encoded = 4 * ((self.raw_size + 2) // 3)
        return len(self.prefix) + encoded + (len(INVALID_MARK) if self.invalid else 0)

    def chunks(self, raw_chunk: int = RAW_CHUNK) -> Iterator[bytes]:
        """The encoded string, a chunk at a time (each chunk encodes at most ``raw_chunk`` bytes)."""
        if self.prefix:
            yield self.prefix
        encode = base64.urlsafe_b64encode if self.form == "base64url" else base64.b64encode
        mark_at = -1
        if self.invalid:
            mark_at = (
                (self.size - len(self.prefix) - len(INVALID_MARK)) // 8 * 4
            )  # the middle, on a quantum boundary
        written = 0
        for piece in _repeat(_sample_bytes(self.sample.mime_type), self.copies, raw_chunk):
            encoded = encode(piece)
            if written <= mark_at < written + len(encoded):
                cut = mark_at - written
                yield encoded[:cut] + INVALID_MARK + encoded[cut:]
            else:
                yield encoded
            written += len(encoded)

    def text(self) -> str:
        """The whole encoded string (for small samples and tests)."""
        return b"".join(self.chunks()).decode("ascii")


def _repeat(data: bytes, copies: int, chunk: int) -> Iterator[bytes]:
    """``data`` repeated ``copies`` times, cut into pieces of ``chunk`` bytes (the last may be shorter)."""
    buffer = bytearray()
    for _ in range(copies):
        buffer += data
        while len(buffer) >= chunk:
            yield bytes(buffer[:chunk])
            del buffer[:chunk]
    if buffer:
        yield bytes(buffer)


def is_directive(value: Any) -> bool:
    """Whether a body value is a ``$media`` directive."""
    return isinstance(value, dict) and DIRECTIVE in value


def media_ref(directive: dict[str, Any]) -> MediaRef:
    """The ``MediaRef`` a directive stands for; ``PayloadError`` says what is wrong with it."""
    unknown = sorted(set(directive) - DIRECTIVE_KEYS)
    if unknown:
        raise PayloadError(f"unknown key(s) {', '.join(unknown)} in a $media directive")
    mime_type = directive[DIRECTIVE]
    sample = _samples().get(mime_type) if isinstance(mime_type, str) else None
    if sample is None:
        raise PayloadError(f"no media sample of type {mime_type!r} (see media/manifest.yaml)")
    form = directive.get("as", "base64")
    if form not in FORMS:
        raise PayloadError(f"unknown $media form {form!r} (one of {', '.join(FORMS)})")
    label = directive.get("label")
    if label is not None and (form != "data-uri" or not isinstance(label, str)):
        raise PayloadError("label (a MIME type string) applies only to 'as: data-uri'")
    invalid = directive.get("invalid", False)
    if not isinstance(invalid, bool):
        raise PayloadError(f"invalid must be true or false, got {invalid!r}")
    copies = 1
    if "bytes" in directive:
        size = directive["bytes"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise PayloadError(f"bytes must be a positive integer, got {size!r}")
        if mime_type not in CONCATENABLE:
            allowed = ", ".join(sorted(CONCATENABLE))
            raise PayloadError(f"bytes needs a type whose files concatenate into one valid file ({allowed})")
        copies = max(1, size // sample.size)
    return MediaRef(sample=sample, form=form, label=label, copies=copies, invalid=invalid)


def check_template(template: Any, where: str = "body") -> None:
    """Raise ``PayloadError`` (its message prefixed by the field) for the first bad directive."""
    if is_directive(template):
        try:
            media_ref(template)
        except PayloadError as exc:
            raise PayloadError(f"{where}: {exc}") from None
    elif isinstance(template, dict):
        for key, value in template.items():
            check_template(value, f"{where}.{key}")
    elif isinstance(template, list):
        for index, value in enumerate(template):
            check_template(value, f"{where}[{index}]")


Segment = bytes | MediaRef


@dataclass(frozen=True)
class Body:
    """A JSON request body as literal JSON segments and media strings encoded on demand."""

    segments: tuple[Segment, ...]

    @property
    def size(self) -> int:
        """The body's length in bytes."""
        return sum(len(s) if isinstance(s, bytes) else s.size for s in self.segments)

    @property
    def has_media(self) -> bool:
        return any(isinstance(s, MediaRef) for s in self.segments)

    def pieces(self) -> Iterator[bytes]:
        """The body's bytes, piece by piece."""
        for segment in self.segments:
            if isinstance(segment, bytes):
                if segment:
                    yield segment
            else:
                yield from segment.chunks()

    async def stream(self) -> AsyncIterator[bytes]:
        """The body's bytes for an HTTP client that sends a stream."""
        for piece in self.pieces():
            yield piece

    def materialize(self) -> bytes:
        """The whole body in memory (for bodies small enough to hold)."""
        return b"".join(self.pieces())

    def head(self, limit: int) -> bytes:
        """The first ``limit`` bytes, encoding no more media than needed."""
        out = bytearray()
        for piece in self.pieces():
            out += piece[: limit - len(out)]
            if len(out) >= limit:
                break
        return bytes(out)


def build_body(template: Any) -> Body:
    """The JSON body of ``template`` with every ``$media`` directive expanded to its string."""
    refs: list[MediaRef] = []
    nonce = secrets.token_hex(8)

    def swap(value: Any) -> Any:
        if is_directive(value):
            refs.append(media_ref(value))
            return f"$media-{nonce}-{len(refs) - 1}"
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    text = json.dumps(swap(template), ensure_ascii=False)
    segments: list[Segment] = []
    for index, ref in enumerate(refs):
        before, _, text = text.partition(f'"$media-{nonce}-{index}"')
        segments.extend((before.encode("utf-8") + b'"', ref, b'"'))
    segments.append(text.encode("utf-8"))
    return Body(tuple(_merge(segments)))


def _merge(segments: list[Segment]) -> Iterator[Segment]:
    """Adjacent literal segments joined, empty ones left out."""
    pending = b""
    for segment in segments:
        if isinstance(segment, bytes):
            pending += segment
            continue
        if pending:
            yield pending
            pending = b""
        yield segment
    if pending:
        yield pending
