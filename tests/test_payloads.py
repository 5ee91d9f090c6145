"""The ``$media`` directive: its forms, load-time checks, and large bodies streamed in bounded memory."""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hashlib
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from conformance.errors import ConfigError
from conformance.report.evidence import exchange_record
from conformance.suite.bodies import (
    INVALID_MARK,
    PREVIEW_BYTES,
    PayloadError,
    build_body,
    check_template,
    media_ref,
)
from conformance.suite.loader import load_case_file
from conformance.suite.model import RequestSpec
from conformance.suite.samples import sample_for
from conformance.wire.exchange import Exchange
from conformance.wire.profiles import load_provider
from conformance.wire.redact import Redactor
from conformance.wire.transport import Transport

PNG = sample_for("image/png").read()
MPEG = sample_for("video/mpeg").read()


def expand(template: Any) -> Any:
    return json.loads(build_body(template).materialize())


def test_plain_bodies_are_serialized_as_before() -> None:
    body = {"contents": [{"parts": [{"text": 'héllo "quoted"'}]}], "n": [1, 2.5, None, True]}
    assert build_body(body).materialize() == json.dumps(body, ensure_ascii=False).encode("utf-8")


def test_forms_decode_to_the_sample() -> None:
    out = expand(
        {
            "std": {"$media": "image/png"},
            "url": {"$media": "image/png", "as": "base64url"},
            "uri": {"$media": "image/png", "as": "data-uri"},
            "relabelled": {"$media": "image/png", "as": "data-uri", "label": "image/jpeg"},
            "nested": [{"deep": {"$media": "text/plain"}}],
        }
    )
    assert base64.b64decode(out["std"], validate=True) == PNG
    assert base64.urlsafe_b64decode(out["url"]) == PNG and ("-" in out["url"] or "_" in out["url"])
    assert out["uri"] == "data:image/png;base64," + out["std"]
    assert out["relabelled"].startswith("data:image/jpeg;base64,")
    assert base64.b64decode(out["nested"][0]["deep"]) == b"MANGO\n"


@pytest.mark.parametrize("form", ["base64", "data-uri"])
def test_invalid_base64_is_refused_strictly_but_hides_the_real_sample(form: str) -> None:
    text = expand({"x": {"$media": "image/png", "as": form, "invalid": True}})["x"]
    data = text.split(",", 1)[1] if form == "data-uri" else text
    assert INVALID_MARK.decode() in data and not data.startswith(INVALID_MARK.decode())
    with pytest.raises(binascii.Error):
        base64.b64decode(data, validate=True)
    assert base64.b64decode(data) == PNG  # a lenient decoder skips the marks


def test_bytes_repeats_whole_copies_within_the_size() -> None:
    ref = media_ref({"$media": "video/mpeg", "bytes": 10 * len(MPEG) + 5})
    assert ref.copies == 10 and ref.raw_size == 10 * len(MPEG)
    assert base64.b64decode(ref.text()) == MPEG * 10
    assert media_ref({"$media": "video/mpeg", "bytes": 1}).copies == 1


@pytest.mark.parametrize("raw_chunk", [3, 3 * 7, 3 * 1024])
def test_chunked_encoding_equals_the_whole_encoding(raw_chunk: int) -> None:
    ref = media_ref({"$media": "video/mpeg", "bytes": 3 * len(MPEG)})
    assert b"".join(ref.chunks(raw_chunk)) == base64.b64encode(MPEG * 3)
    invalid = dataclasses.replace(ref, invalid=True)
    assert len(b"".join(invalid.chunks(raw_chunk))) == invalid.size


def test_body_size_head_and_stream_agree() -> None:
    body = build_body(
        {"a": {"$media": "audio/wav", "as": "data-uri"}, "b": [{"$media": "image/png"}], "c": "end"}
    )
    whole = body.materialize()
    assert body.size == len(whole) and body.has_media
    assert body.head(100) == whole[:100] and body.head(10**9) == whole

    async def collect() -> bytes:
        return b"".join([piece async for piece in body.stream()])

    assert asyncio.run(collect()) == whole


@pytest.mark.parametrize(
    ("directive", "message"),
    [
        ({"$media": "image/gif"}, "no media sample of type 'image/gif'"),
        ({"$media": "image/png", "as": "hex"}, "unknown $media form"),
        ({"$media": "image/png", "colour": 1}, "unknown key(s) colour"),
        ({"$media": "image/png", "label": "image/jpeg"}, "label"),
        ({"$media": "video/mp4", "bytes": 100}, "concatenate"),
        ({"$media": "video/mpeg", "bytes": 0}, "positive integer"),
        ({"$media": "image/png", "invalid": "yes"}, "true or false"),
    ],
)
def test_bad_directives_are_named(directive: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError) as raised:
        check_template({"contents": [{"data": directive}]})
    assert str(raised.value).startswith("body.contents[0].data: ") and message in str(raised.value)


CASE_FILE = """protocol: gemini
feature: x
reference: r
cases:
  - id: gemini/x/a
    level: MUST
    title: t
    request:
      path: /m
      body: {{contents: [{{parts: [{{inlineData: {{mimeType: image/png, data: {directive}}}}}]}}]}}
    expect: [{{status: 200}}]
"""


@pytest.mark.parametrize(
    ("directive", "expected"),
    [
        ("{$media: image/gif}", "no media sample of type 'image/gif'"),
        ("{$media: image/png, as: hex}", "cases[0].request.body.contents[0].parts[0].inlineData.data"),
    ],
)
def test_a_bad_directive_in_a_case_file_is_a_one_line_config_error(
    tmp_path: Path, directive: str, expected: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(CASE_FILE.format(directive=directive), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_case_file(path)
    assert expected in str(raised.value) and "\n" not in str(raised.value)


# -- large bodies: streamed, never held whole ----------------------------------------------------

LARGE = {
    "contents": [
        {
            "parts": [
                {
                    "inlineData": {
                        "mimeType": "video/mpeg",
                        "data": {"$media": "video/mpeg", "bytes": 14_900_000},
                    }
                }
            ]
        }
    ]
}


class Sink:
    """A loopback HTTP server that hashes each request body as it arrives and answers a small JSON."""

    def __init__(self) -> None:
        self.received: list[tuple[int, str, dict[str, str]]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)
        }
        remaining = int(headers.get("content-length", "0"))
        digest = hashlib.sha256()
        size = 0
        while remaining:
            piece = await reader.read(min(remaining, 65536))
            if not piece:
                break
            digest.update(piece)
            size += len(piece)
            remaining -= len(piece)
        self.received.append((size, digest.hexdigest(), headers))
        body = b'{"ok": true}'
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
            % (len(body), body)
        )
        await writer.drain()
        writer.close()


async def send_through_sink(template: Any) -> tuple[Sink, Exchange, int]:
    sink = Sink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    provider = dataclasses.replace(
        load_provider("reference"), embedded=False, base_url=f"http://127.0.0.1:{port}"
    )
    transport = Transport(provider, "k")
    try:
        tracemalloc.start()
        request = transport.build("gemini", RequestSpec("POST", "/models/{model}:generateContent"), template)
        exchange = await transport.send(request)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()
    return sink, exchange, peak


def test_a_large_body_is_streamed_in_bounded_memory_and_its_evidence_is_cut() -> None:
    sink, exchange, peak = asyncio.run(send_through_sink(LARGE))
    expected = hashlib.sha256()
    for piece in build_body(LARGE).pieces():
        expected.update(piece)
    ((size, digest, headers),) = sink.received
    assert exchange.status == 200 and exchange.error is None
    assert size == exchange.request.size > 19_000_000
    assert digest == expected.hexdigest()
    assert headers["content-length"] == str(size) and "transfer-encoding" not in headers
    # The checker never held the 20 MB body (a single copy would be 20 MB, and its str another 20 MB).
    assert peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert len(exchange.request.body) == PREVIEW_BYTES and exchange.request.body_truncated
    record = exchange_record(0, exchange, Redactor(["k"]), 16 * 1024)
    assert record.request.body_truncated is True and len(record.request.body) <= 16 * 1024


def test_a_small_body_with_media_is_sent_whole() -> None:
    template = {
        "contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": {"$media": "image/png"}}}]}]
    }
    sink, exchange, _ = asyncio.run(send_through_sink(template))
    assert exchange.request.stream is None and not exchange.request.body_truncated
    assert sink.received[0][1] == hashlib.sha256(exchange.request.body).hexdigest()
    assert (
        base64.b64decode(json.loads(exchange.request.body)["contents"][0]["parts"][0]["inlineData"]["data"])
        == PNG
    )


def test_a_mid_sized_body_is_sent_whole_but_recorded_cut() -> None:
    template = {
        "contents": [{"parts": [{"inlineData": {"mimeType": "audio/wav", "data": {"$media": "audio/wav"}}}]}]
    }
    whole = build_body(template).materialize()
    sink, exchange, _ = asyncio.run(send_through_sink(template))
    assert len(whole) > PREVIEW_BYTES and sink.received[0][:2] == (
        len(whole),
        hashlib.sha256(whole).hexdigest(),
    )
    assert exchange.request.body == whole[:PREVIEW_BYTES] and exchange.request.size == len(whole)
    assert exchange.request.body_truncated
