"""Tests of the strict stream decoders in `conformance.streams.decode`."""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from conformance.streams.decode import (
    FINDING_CODES,
    Finding,
    JsonArrayStream,
    SseStream,
    decode_json_array,
    decode_sse,
)

# ---------------------------------------------------------------------------------------------
# helpers


def codes(stream: SseStream | JsonArrayStream) -> list[str]:
    return [f.code for f in stream.findings]


def only(stream: SseStream | JsonArrayStream, code: str) -> Finding:
    """The single finding with `code`."""
    found = [f for f in stream.findings if f.code == code]
    assert len(found) == 1, (code, stream.findings)
    return found[0]


def google_sse(*payloads: object) -> bytes:
    """A stream framed the way Google frames `alt=sse`."""
    return b"".join(b"data: " + json.dumps(p).encode() + b"\r\n\r\n" for p in payloads)


def google_array(*elements: object) -> bytes:
    """A stream framed the way Google frames the JSON-array stream."""
    return b"[" + b"\n,\r\n".join(json.dumps(e, indent=2).encode() for e in elements) + b"\n]"


def check_sse_invariants(raw: bytes, stream: SseStream) -> None:
    """Properties every SseStream must have, whatever the input."""
    n = len(raw)
    assert stream.total_bytes == n
    previous_end = 0
    for i, event in enumerate(stream.events):
        assert event.index == i
        assert previous_end <= event.offset < event.end <= n
        previous_end = event.end
        term = event.terminator
        if term:
            assert raw[event.end - len(term) : event.end] == term
            assert re.fullmatch(rb"(\r\n|\r|\n){2}", term), term
        else:
            assert i == len(stream.events) - 1 and event.end == n
        assert event.is_done == (event.data == "[DONE]")
        assert ("data", event.data.split("\n")[0]) in event.fields
        if event.json is not None:
            assert json.loads(event.data) == event.json
    check_findings(n, stream.findings, len(stream.events), "event")
    for f in stream.findings:
        if f.event is not None:
            event = stream.events[f.event]
            assert event.offset <= f.offset <= event.end, (f, event)
    assert stream.line_ending in ("crlf", "lf", "cr", "mixed", "none")
    if b"\r" not in raw and b"\n" not in raw:
        assert stream.line_ending == "none"


def check_array_invariants(raw: bytes, stream: JsonArrayStream) -> None:
    """Properties every JsonArrayStream must have, whatever the input."""
    n = len(raw)
    assert stream.total_bytes == n
    previous_end = 0
    for i, element in enumerate(stream.elements):
        assert element.index == i
        assert max(previous_end, 1) <= element.offset < element.end <= n  # `[{}{}]`: no bytes between
        previous_end = element.end
        assert (
            json.loads(raw[element.offset : element.end].decode("utf-8", "surrogateescape")) == element.json
        )
    assert len(stream.separators) == max(0, len(stream.elements) - 1)
    for sep, (a, b) in zip(stream.separators, pairwise(stream.elements), strict=True):
        assert sep == raw[a.end : b.offset]
        assert re.fullmatch(rb"[ \t\r\n,]*", sep)
    check_findings(n, stream.findings, len(stream.elements), "element")
    assert stream.closed == (
        "array-not-closed" not in codes(stream)
        and "array-not-started" not in codes(stream)
        and "empty-stream" not in codes(stream)
    )


def check_findings(n: int, findings: tuple[Finding, ...], count: int, kind: str) -> None:
    offsets = [f.offset for f in findings]
    assert offsets == sorted(offsets)
    for f in findings:
        assert f.code in FINDING_CODES, f
        assert 0 <= f.offset <= n, f
        assert "\n" not in f.message and "\r" not in f.message, f
        if f.event is None:
            assert f.message.startswith(f"byte {f.offset}: "), f
        else:
            # an element that failed to decode is named although it is not in `elements`
            partial = kind == "element" and f.code in ("malformed-json", "missing-comma")
            assert 0 <= f.event < count + partial, f
            assert f.message.startswith(f"{kind} {f.event} (byte {f.offset}): "), f


# ---------------------------------------------------------------------------------------------
# SSE: the clean Google layout

CHUNKS = [
    {"candidates": [{"content": {"parts": [{"text": "The"}], "role": "model"}}], "responseId": "r1"},
    {"candidates": [{"content": {"parts": [{"text": " café ☕ 😀"}], "role": "model"}}], "responseId": "r1"},
    {"candidates": [{"content": {"parts": [{"text": "."}], "role": "model"}, "finishReason": "STOP"}]},
]


def test_google_sse_is_clean() -> None:
    raw = google_sse(*CHUNKS)
    stream = decode_sse(raw)
    assert stream.findings == ()
    assert stream.line_ending == "crlf"
    assert stream.total_bytes == len(raw)
    assert [e.json for e in stream.events] == CHUNKS
    assert all(e.terminator == b"\r\n\r\n" for e in stream.events)
    assert all(not e.is_done and e.event_type is None and e.received_at is None for e in stream.events)
    assert stream.events[0].offset == 0
    assert stream.events[-1].end == len(raw)
    for a, b in pairwise(stream.events):
        assert a.end == b.offset
    for e in stream.events:
        assert raw[e.offset : e.end] == b"data: " + e.data.encode() + b"\r\n\r\n"
        assert e.fields == (("data", e.data),)
    check_sse_invariants(raw, stream)


@pytest.mark.parametrize(
    ("eol", "line_ending"),
    [(b"\r\n", "crlf"), (b"\n", "lf"), (b"\r", "cr")],
    ids=["crlf", "lf", "cr"],
)
def test_each_line_ending_gives_the_same_events(eol: bytes, line_ending: str) -> None:
    raw = b"".join(b"data: " + json.dumps(c).encode() + eol + eol for c in CHUNKS)
    stream = decode_sse(raw)
    assert stream.line_ending == line_ending
    assert [e.json for e in stream.events] == CHUNKS
    assert all(e.terminator == eol + eol for e in stream.events)
    expected = {"crlf": [], "lf": ["lf-line-endings"], "cr": ["cr-line-endings"]}[line_ending]
    assert codes(stream) == expected
    if expected:
        finding = stream.findings[0]
        assert finding.offset == raw.index(eol)
        assert finding.event == 0
        assert f"{2 * len(CHUNKS)} line(s)" in finding.message
    check_sse_invariants(raw, stream)


def test_mixed_line_endings() -> None:
    raw = b'data: {"a": 1}\r\n\r\ndata: {"b": 2}\n\ndata: {"c": 3}\r\n\n'
    stream = decode_sse(raw)
    assert stream.line_ending == "mixed"
    assert [e.terminator for e in stream.events] == [b"\r\n\r\n", b"\n\n", b"\r\n\n"]
    assert [e.json for e in stream.events] == [{"a": 1}, {"b": 2}, {"c": 3}]
    mixed = only(stream, "mixed-line-endings")
    assert mixed.offset == raw.index(b"\n\ndata")
    assert mixed.event == 1
    assert "3 CRLF, 3 LF" in mixed.message
    assert only(stream, "lf-line-endings").offset == mixed.offset
    check_sse_invariants(raw, stream)


def test_cr_then_lf_across_blank_line_is_one_crlf() -> None:
    # "\r\n\r\n" must not be read as CR, LF-blank, CR, LF-blank
    stream = decode_sse(b"data: {}\r\n\r\n")
    assert len(stream.events) == 1 and stream.findings == ()


def test_double_cr_dispatches() -> None:
    stream = decode_sse(b"data: {}\r\rdata: {}\r\r")
    assert [e.terminator for e in stream.events] == [b"\r\r", b"\r\r"]
    assert codes(stream) == ["cr-line-endings"]


# ---------------------------------------------------------------------------------------------
# SSE: WHATWG field parsing


def test_field_parsing_follows_whatwg() -> None:
    raw = b"data:x\ndata:  two spaces\ndata\ndata: \nevent:  up\nid:7\n\n"
    stream = decode_sse(raw)
    (event,) = stream.events
    assert event.fields == (
        ("data", "x"),
        ("data", " two spaces"),
        ("data", ""),
        ("data", ""),
        ("event", " up"),
        ("id", "7"),
    )
    assert event.data == "x\n two spaces\n\n"
    assert event.event_type == " up"
    check_sse_invariants(raw, stream)


def test_empty_data_line_dispatches_an_event() -> None:
    stream = decode_sse(b"data:\r\n\r\n")
    (event,) = stream.events
    assert event.data == ""
    assert (
        only(stream, "payload-not-json").message == "event 0 (byte 5): payload is not JSON: payload is empty"
    )


def test_comment_lines_are_not_fields() -> None:
    raw = b': keep-alive\r\ndata: {"a": 1}\r\n\r\n'
    stream = decode_sse(raw)
    (event,) = stream.events
    assert event.fields == (("data", '{"a": 1}'),)
    assert event.offset == 0
    finding = only(stream, "comment-line")
    assert finding.message == "event 0 (byte 0): comment line ' keep-alive'"
    assert codes(stream) == ["comment-line"]


def test_comment_only_block_is_not_an_event() -> None:
    raw = b": ping\r\n\r\n" + google_sse({"a": 1})
    stream = decode_sse(raw)
    assert len(stream.events) == 1
    assert stream.events[0].offset == raw.index(b"data")
    finding = only(stream, "comment-line")
    assert finding.event is None and finding.message == "byte 0: comment line ' ping'"
    assert codes(stream) == ["comment-line"]


def test_event_type_is_per_block() -> None:
    stream = decode_sse(b"event: a\r\ndata: {}\r\n\r\ndata: {}\r\n\r\n")
    assert [e.event_type for e in stream.events] == ["a", None]
    assert codes(stream) == ["event-field"]


# ---------------------------------------------------------------------------------------------
# SSE: each finding code, failing and passing

CLEAN = google_sse({"a": 1})

SSE_FINDINGS: list[tuple[str, bytes, int, int | None]] = [
    # (code, stream, expected offset, expected event)
    ("lf-line-endings", b"data: {}\n\n", 8, 0),
    ("cr-line-endings", b"data: {}\r\r", 8, 0),
    ("mixed-line-endings", b"data: {}\r\n\n", 10, 0),
    ("event-field", b"event: message\r\ndata: {}\r\n\r\n", 0, 0),
    ("id-field", b"data: {}\r\nid: 42\r\n\r\n", 10, 0),
    ("retry-field", b"retry: 3000\r\ndata: {}\r\n\r\n", 0, 0),
    ("comment-line", CLEAN + b": bye\r\n\r\n", len(CLEAN), None),
    ("unknown-field", b"data: {}\r\nfoo: bar\r\n\r\n", 10, 0),
    ("field-without-colon", b"data: {}\r\nfoo\r\n\r\n", 10, 0),
    ("no-space-after-colon", b'data:{"a":1}\r\n\r\n', 4, 0),
    ("extra-blank-line", CLEAN + b"\r\n" + CLEAN, len(CLEAN), None),
    ("extra-blank-line", b"\r\n" + CLEAN, 0, None),
    ("undispatched-block", b"event: ping\r\n\r\n" + CLEAN, 0, None),
    ("unterminated-event", CLEAN + b'data: {"b": 2}', len(CLEAN) + 14, 1),
    ("unterminated-event", CLEAN + b'data: {"b": 2}\r\n', len(CLEAN) + 16, 1),
    ("no-events", b": only a comment\r\n\r\n", 0, None),
    ("multiline-data", b"data: {\r\ndata: }\r\n\r\n", 15, 0),
    ("payload-not-json", b"data: {'a': 1}\r\n\r\n", 7, 0),
    ("payload-not-json", b'data: {"a": 1\r\n\r\n', 13, 0),
    ("payload-not-one-value", b'data: {"a": 1}{"b": 2}\r\n\r\n', 14, 0),
    ("payload-not-one-value", b"data: {} x\r\n\r\n", 9, 0),
    ("payload-not-object", b"data: [1, 2]\r\n\r\n", 6, 0),
    ("payload-whitespace", b"data:  {}\r\n\r\n", 6, 0),
    ("done-sentinel", CLEAN + b"data: [DONE]\r\n\r\n", len(CLEAN) + 6, 1),
    ("event-after-done", b"data: [DONE]\r\n\r\n" + CLEAN, 16, 1),
    ("bom", b"\xef\xbb\xbf" + CLEAN, 0, None),
    ("empty-stream", b"", 0, None),
    ("invalid-utf8", b'data: {"a": "\xff"}\r\n\r\n', 13, 0),
]


@pytest.mark.parametrize(
    ("code", "raw", "offset", "event"),
    SSE_FINDINGS,
    ids=[f"{c}-{i}" for i, (c, *_rest) in enumerate(SSE_FINDINGS)],
)
def test_sse_finding(code: str, raw: bytes, offset: int, event: int | None) -> None:
    stream = decode_sse(raw)
    finding = only(stream, code)
    assert (finding.offset, finding.event) == (offset, event), finding
    where = f"event {event} (byte {offset}): " if event is not None else f"byte {offset}: "
    assert finding.message.startswith(where)
    check_sse_invariants(raw, stream)


def test_every_sse_code_is_exercised() -> None:
    sse_codes = {c for c in FINDING_CODES} - ARRAY_ONLY_CODES
    assert sse_codes == {c for c, *_ in SSE_FINDINGS}


@pytest.mark.parametrize("raw", [CLEAN, google_sse(*CHUNKS), google_sse({"x": "é"}, {"y": [1, {"z": None}]})])
def test_clean_streams_have_no_finding(raw: bytes) -> None:
    assert decode_sse(raw).findings == ()


def test_retry_and_id_notes() -> None:
    stream = decode_sse(b"retry: soon\r\nid: a\x00b\r\ndata: {}\r\n\r\n")
    assert "not digits" in only(stream, "retry-field").message
    assert "contains NUL" in only(stream, "id-field").message
    assert "not digits" not in only(decode_sse(b"retry: 10\r\ndata: {}\r\n\r\n"), "retry-field").message


def test_bom_is_skipped_and_offsets_stay_raw() -> None:
    raw = b"\xef\xbb\xbf" + CLEAN
    stream = decode_sse(raw)
    assert codes(stream) == ["bom"]
    assert stream.events[0].offset == 3
    assert stream.events[0].json == {"a": 1}


def test_invalid_utf8_is_replaced_and_located() -> None:
    raw = b"data: {}\r\n\r\n" + b'data: {"t": "ok \xc3\xa9 \xe2\x82"}\r\n\r\n'
    stream = decode_sse(raw)
    finding = only(stream, "invalid-utf8")
    assert finding.offset == raw.index(b"\xe2\x82")
    assert finding.event == 1
    assert stream.events[1].json == {"t": "ok é \ufffd"}


def test_unterminated_event_is_kept_with_empty_terminator() -> None:
    raw = CLEAN + b'data: {"b": 2}'
    stream = decode_sse(raw)
    assert [e.json for e in stream.events] == [{"a": 1}, {"b": 2}]
    assert stream.events[1].terminator == b""
    assert stream.events[1].end == len(raw)
    assert "last line has no line ending" in only(stream, "unterminated-event").message


def test_unterminated_block_without_data() -> None:
    stream = decode_sse(CLEAN + b": bye")
    assert len(stream.events) == 1
    finding = only(stream, "unterminated-event")
    assert finding.event is None


def test_payload_error_offsets_count_bytes_not_characters() -> None:
    raw = 'data: {"é😀": 1,}\r\n\r\n'.encode()
    stream = decode_sse(raw)
    finding = only(stream, "payload-not-json")
    assert finding.offset == raw.index(b"}")
    assert "Expecting property name" in finding.message


def test_payload_error_offsets_after_invalid_utf8() -> None:
    raw = b'data: {"\xff\xe2\x82 \xc3\xa9": 1,}\r\n\r\n'
    stream = decode_sse(raw)
    assert only(stream, "payload-not-json").offset == raw.index(b"}")
    assert only(stream, "invalid-utf8").offset == raw.index(b"\xff")


def test_payload_error_offsets_across_data_lines() -> None:
    raw = 'data: {"é":\r\ndata: x}\r\n\r\n'.encode()
    stream = decode_sse(raw)
    assert only(stream, "payload-not-json").offset == raw.index(b"x}")


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (b"NaN", "non-standard constant NaN"),
        (b'{"a": -Infinity}', "non-standard constant -Infinity"),
        (b"[" * 50_000, "nesting too deep"),
        (b"1" * 5000, "digits"),
    ],
    ids=["nan", "infinity", "deep", "huge-int"],
)
def test_payloads_python_would_accept_or_choke_on(payload: bytes, detail: str) -> None:
    stream = decode_sse(b"data: " + payload + b"\r\n\r\n")
    assert detail in only(stream, "payload-not-json").message
    assert stream.events[0].json is None


# ---------------------------------------------------------------------------------------------
# SSE: OpenAI layout and [DONE]


def test_openai_stream_facts() -> None:
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}}]}
    raw = b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for _ in range(3)) + b"data: [DONE]\n\n"
    stream = decode_sse(raw)
    assert sorted(set(codes(stream))) == ["done-sentinel", "lf-line-endings"]
    assert stream.line_ending == "lf"
    assert [e.is_done for e in stream.events] == [False, False, False, True]
    assert stream.events[-1].json is None and stream.events[-1].data == "[DONE]"
    assert only(stream, "done-sentinel").event == 3


def test_done_with_whitespace_is_not_the_sentinel() -> None:
    stream = decode_sse(b"data:  [DONE]\n\n")
    assert not stream.events[0].is_done
    assert "done-sentinel" not in codes(stream)
    assert "payload-not-json" in codes(stream)


# ---------------------------------------------------------------------------------------------
# chunk timings


def _timing_cases() -> Iterator[bytes]:
    yield google_sse(*CHUNKS)
    yield ': c\r\nevent: x\ndata: {"é": 1}\r\r\n\ndata: [DONE]\n\ndata: {"tail": true}'.encode()


@pytest.mark.parametrize("raw", list(_timing_cases()), ids=["google", "odd"])
def test_sse_split_at_every_byte(raw: bytes) -> None:
    n = len(raw)
    reference = decode_sse(raw)
    assert len(reference.events) >= 3
    for k in range(1, n):
        stream = decode_sse(raw, [(k, 1.0), (n, 2.0)])
        assert stream.findings == reference.findings
        for event, ref in zip(stream.events, reference.events, strict=True):
            assert event.received_at == (1.0 if event.end <= k else 2.0), (k, event)
            assert (event.offset, event.end, event.data, event.terminator) == (
                ref.offset,
                ref.end,
                ref.data,
                ref.terminator,
            )


def test_sse_byte_by_byte_timing() -> None:
    raw = google_sse(*CHUNKS)
    stream = decode_sse(raw, [(i + 1, float(i + 1)) for i in range(len(raw))])
    assert [e.received_at for e in stream.events] == [float(e.end) for e in stream.events]


def test_timing_beyond_recorded_chunks_is_none() -> None:
    raw = google_sse(*CHUNKS)
    first_end = decode_sse(raw).events[0].end
    stream = decode_sse(raw, [(first_end, 0.5)])
    assert [e.received_at for e in stream.events] == [0.5, None, None]


def test_unsorted_chunk_times_are_sorted() -> None:
    raw = google_sse(*CHUNKS)
    ends = [e.end for e in decode_sse(raw).events]
    stream = decode_sse(raw, [(ends[2], 3.0), (ends[0], 1.0), (ends[1], 2.0)])
    assert [e.received_at for e in stream.events] == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------------------------------------
# JSON array

ELEMENTS = [
    {"candidates": [{"content": {"parts": [{"text": "Hé 😀"}], "role": "model"}}]},
    {"candidates": [{"content": {"parts": [{"text": "llo"}], "role": "model"}}]},
    {"candidates": [{"content": {"parts": [{"text": "!"}], "role": "model"}, "finishReason": "STOP"}]},
]


def test_google_array_layout() -> None:
    raw = google_array(*ELEMENTS)
    assert raw.startswith(b"[{") and raw.endswith(b"}\n]")
    stream = decode_json_array(raw)
    assert stream.findings == ()
    assert stream.closed
    assert stream.separators == (b"\n,\r\n", b"\n,\r\n")
    assert [e.json for e in stream.elements] == ELEMENTS
    assert stream.elements[0].offset == 1
    assert stream.elements[-1].end == len(raw) - 2
    for e in stream.elements:
        assert json.loads(raw[e.offset : e.end]) == e.json
        assert raw[e.offset : e.offset + 1] == b"{" and raw[e.end - 1 : e.end] == b"}"
    check_array_invariants(raw, stream)


def test_single_element_array() -> None:
    raw = google_array(ELEMENTS[0])
    stream = decode_json_array(raw)
    assert stream.findings == () and stream.closed
    assert stream.separators == ()
    (element,) = stream.elements
    assert (element.offset, element.end) == (1, len(raw) - 2)


def test_array_wrapped_error_body() -> None:
    error = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
        }
    }
    raw = b"[" + json.dumps(error, indent=2).encode() + b"\n]"
    stream = decode_json_array(raw)
    assert stream.findings == () and stream.closed
    assert [e.json for e in stream.elements] == [error]


def test_array_offsets_count_bytes() -> None:
    raw = '[{"a": "é😀"}, {"b": "ü"}, {"c": 1,}]'.encode()
    stream = decode_json_array(raw)
    assert [e.offset for e in stream.elements] == [1, raw.index(b'{"b"')]
    assert stream.elements[0].end == raw.index(b", {")
    finding = only(stream, "malformed-json")
    assert finding.offset == raw.index(b"}]")
    assert finding.event == 2
    assert not stream.closed


def test_array_trailing_whitespace_is_fine() -> None:
    stream = decode_json_array(google_array(*ELEMENTS) + b"\r\n \n")
    assert stream.findings == () and stream.closed


ARRAY_FINDINGS: list[tuple[str, bytes, int, int | None]] = [
    ("empty-stream", b"", 0, None),
    ("bom", b"\xef\xbb\xbf[{}]", 0, None),
    ("invalid-utf8", b'[{"a": "\xc3\xa9\xff"}]', 10, None),
    ("leading-whitespace", b"\n [{}]", 0, None),
    ("array-not-started", b'{"candidates": []}', 0, None),
    ("array-not-started", b"   ", 3, None),
    ("element-not-object", b"[{}, [], {}]", 5, 1),
    ("malformed-json", b'[{"a": 1}, {"a" 2}]', 16, 1),
    ("missing-comma", b"[{}\n{}]", 4, 1),
    ("extra-comma", b"[,{}]", 1, None),
    ("extra-comma", b"[{},,{}]", 4, None),
    ("trailing-comma", b"[{},]", 3, 0),
    ("array-not-closed", b"[{}\n,\r\n{}", 9, None),
    ("array-not-closed", b'[{"a": 1', 8, None),
    ("empty-array", b"[]", 0, None),
    ("trailing-bytes", b"[{}]\n[{}]", 5, None),
]

ARRAY_ONLY_CODES = {c for c, *_ in ARRAY_FINDINGS} - {"empty-stream", "bom", "invalid-utf8"}


@pytest.mark.parametrize(
    ("code", "raw", "offset", "event"),
    ARRAY_FINDINGS,
    ids=[f"{c}-{i}" for i, (c, *_rest) in enumerate(ARRAY_FINDINGS)],
)
def test_array_finding(code: str, raw: bytes, offset: int, event: int | None) -> None:
    stream = decode_json_array(raw)
    finding = only(stream, code)
    assert (finding.offset, finding.event) == (offset, event), finding
    where = f"element {event} (byte {offset}): " if event is not None else f"byte {offset}: "
    assert finding.message.startswith(where)
    check_array_invariants(raw, stream)


def test_every_code_is_exercised() -> None:
    assert set(FINDING_CODES) == {c for c, *_ in SSE_FINDINGS} | {c for c, *_ in ARRAY_FINDINGS}


def test_malformed_element_stops_decoding() -> None:
    raw = b'[{"a": 1}\n,\r\n{"b": }\n,\r\n{"c": 3}\n]'
    stream = decode_json_array(raw)
    assert [e.json for e in stream.elements] == [{"a": 1}]
    assert codes(stream) == ["malformed-json", "array-not-closed"]
    assert not stream.closed


def test_truncated_array_says_so() -> None:
    raw = google_array(*ELEMENTS)
    for cut in range(len(raw)):
        stream = decode_json_array(raw[:cut])
        assert not stream.closed
        check_array_invariants(raw[:cut], stream)
        if cut > 0:
            assert "array-not-closed" in codes(stream)


def test_array_invalid_utf8_inside_string_still_parses() -> None:
    raw = b'[{"a": "x\xffy"}\n]'
    stream = decode_json_array(raw)
    assert codes(stream) == ["invalid-utf8"]
    assert stream.closed and stream.elements[0].end == len(raw) - 2


def test_array_split_at_every_byte() -> None:
    raw = google_array(*ELEMENTS)
    n = len(raw)
    reference = decode_json_array(raw)
    for k in range(1, n):
        stream = decode_json_array(raw, [(k, 1.0), (n, 2.0)])
        assert stream.findings == reference.findings and stream.separators == reference.separators
        for element, ref in zip(stream.elements, reference.elements, strict=True):
            assert (element.offset, element.end) == (ref.offset, ref.end)
            assert element.received_at == (1.0 if element.end <= k else 2.0)


def test_array_deep_nesting_and_nan() -> None:
    deep = decode_json_array(b"[" + b"[" * 50_000)
    assert "nesting too deep" in only(deep, "malformed-json").message
    nan = decode_json_array(b'[{"a": NaN}]')
    assert "NaN" in only(nan, "malformed-json").message


# ---------------------------------------------------------------------------------------------
# robustness: garbage never raises

TOKENS = [
    b"data:",
    b"data: ",
    b"event: ",
    b"id: ",
    b"retry: ",
    b":",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b'"',
    b"[DONE]",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xc3\xa9",
    b"\xe2\x82",
    b"\xf0\x9f\x98\x80",
    b'{"a": 1}',
    b"null",
    b"NaN",
    b"1e999",
    b"\\",
    b"\x00",
    b"\xed\xa0\x80",
]


def garbage(rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        return rng.randbytes(rng.randrange(0, 300))
    return b"".join(rng.choice(TOKENS) for _ in range(rng.randrange(0, 80)))


def mutations(rng: random.Random) -> Iterator[bytes]:
    valid = [google_sse(*CHUNKS), google_array(*ELEMENTS)]
    for _ in range(150):
        raw = bytearray(rng.choice(valid))
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(raw))
            op = rng.randrange(3)
            if op == 0:
                raw[i] = rng.randrange(256)
            elif op == 1:
                del raw[i]
            else:
                raw[i:i] = rng.choice(TOKENS)
        yield bytes(raw[: rng.randrange(len(raw) + 1)])


def whatwg_reference(raw: bytes) -> list[tuple[str | None, str]]:
    """A direct, slow transcription of the WHATWG algorithm: dispatched (event type, data)."""
    text = raw.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)[:-1]  # the last piece has no line ending: discarded at EOF
    out: list[tuple[str | None, str]] = []
    data: list[str] = []
    event_type: str | None = None
    for line in lines:
        if line == "":
            if data:
                out.append((event_type, "\n".join(data)))
            data, event_type = [], None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
    return out


def test_garbage_never_raises() -> None:
    rng = random.Random(20240713)
    inputs = [garbage(rng) for _ in range(400)] + list(mutations(rng))
    for raw in inputs:
        sse = decode_sse(raw)
        check_sse_invariants(raw, sse)
        dispatched = [(e.event_type, e.data) for e in sse.events if e.terminator]
        assert dispatched == whatwg_reference(raw), raw
        array = decode_json_array(raw)
        check_array_invariants(raw, array)


def test_every_truncation_of_a_google_stream() -> None:
    raw = google_sse(*CHUNKS)
    full = decode_sse(raw)
    for cut in range(len(raw) + 1):
        part = raw[:cut]
        stream = decode_sse(part)
        check_sse_invariants(part, stream)
        complete = [e for e in full.events if e.end <= cut]
        assert [e.json for e in stream.events[: len(complete)]] == [e.json for e in complete]
        if cut == 0:
            assert codes(stream) == ["empty-stream"]
        elif any(e.end == cut for e in full.events):
            assert stream.findings == ()
        elif part.endswith(b"\r\n\r"):
            # WHATWG: a CR is a line ending, so the cut CRLF still dispatches the event
            assert stream.events[-1].terminator == b"\r\n\r"
            assert codes(stream) == ["cr-line-endings", "mixed-line-endings"]
        else:
            assert "unterminated-event" in codes(stream)


# ---------------------------------------------------------------------------------------------
# speed


def _megabyte_streams() -> Iterator[tuple[str, bytes, set[str]]]:
    chunk = {
        "candidates": [{"content": {"parts": [{"text": "word é " * 40}], "role": "model"}}],
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 20},
        "responseId": "x",
    }
    yield "google-sse", google_sse(*[chunk] * (1_000_000 // len(json.dumps(chunk)))), set()
    yield "google-array", google_array(*[chunk] * (1_000_000 // len(json.dumps(chunk, indent=2)))), set()
    small = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "Hi é"}, "finish_reason": None}],
    }
    event = b"data: " + json.dumps(small).encode() + b"\n\n"
    yield (
        "openai-sse",
        event * (1_000_000 // len(event)) + b"data: [DONE]\n\n",
        {"lf-line-endings", "done-sentinel"},
    )


@pytest.mark.parametrize(
    ("name", "raw", "expected"), [pytest.param(*case, id=case[0]) for case in _megabyte_streams()]
)
def test_one_megabyte_decodes_fast(name: str, raw: bytes, expected: set[str]) -> None:
    assert len(raw) >= 990_000
    decode = decode_json_array if name.endswith("array") else decode_sse
    chunk_times = [(i, i / 1e6) for i in range(4096, len(raw) + 4096, 4096)]
    times = []
    for _ in range(3):
        start = time.process_time()  # CPU time: other processes on the machine do not count
        result = decode(raw, chunk_times)
        times.append(time.process_time() - start)
    assert set(codes(result)) == expected
    assert min(times) < 0.1, times


# ---------------------------------------------------------------------------------------------
# the real corpus


def shared_dir() -> Path:
    override = os.environ.get("CONFORMANCE_SHARED")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared"


def corpus_entries(kind: str) -> list[object]:
    manifest = shared_dir() / "corpus" / "bodies" / "manifest.json"
    if not manifest.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"corpus manifest not found at {manifest}"))]
    entries = [e for e in json.loads(manifest.read_text()) if e.get("kind") == kind]
    return [pytest.param(e, id=e["file"]) for e in entries]


# Framing facts of the corpus files whose layout is not byte-exact ("faithful": false); the
# manifest note of each says why. Faithful files must have no finding at all.
UNFAITHFUL_FRAMING = {"lf-line-endings", "unterminated-event"}


@pytest.mark.parametrize("entry", corpus_entries("sse"))
def test_corpus_sse(entry: dict[str, object]) -> None:
    raw = (shared_dir() / "corpus" / "bodies" / str(entry["file"])).read_bytes()
    assert len(raw) == entry["bytes"]
    stream = decode_sse(raw)
    assert stream.events
    assert all(isinstance(e.json, dict) for e in stream.events), "every event is a JSON object"
    assert not any(e.is_done for e in stream.events)
    assert all(e.event_type is None for e in stream.events)
    if entry["faithful"]:
        assert stream.findings == (), [f.message for f in stream.findings]
        assert stream.line_ending == "crlf"
        assert all(e.terminator == b"\r\n\r\n" for e in stream.events)
        assert len(stream.events) == raw.count(b"data: ")
    else:
        assert set(codes(stream)) <= UNFAITHFUL_FRAMING, [f.message for f in stream.findings]


@pytest.mark.parametrize("entry", corpus_entries("jsonarray"))
def test_corpus_json_array(entry: dict[str, object]) -> None:
    raw = (shared_dir() / "corpus" / "bodies" / str(entry["file"])).read_bytes()
    assert len(raw) == entry["bytes"]
    stream = decode_json_array(raw)
    assert stream.findings == (), [f.message for f in stream.findings]
    assert stream.closed
    assert stream.elements
    assert all(isinstance(e.json, dict) for e in stream.elements)
    if entry["faithful"]:
        assert raw.startswith(b"[{") and raw.endswith(b"}\n]")
        assert all(sep == b"\n,\r\n" for sep in stream.separators)
