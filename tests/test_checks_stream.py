"""The stream checks, each on a passing and a failing exchange built from raw bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.checks import CheckContext, run_check
from conformance.errors import Undecodable
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.wire.exchange import Exchange, SentRequest

GEMINI_SSE_URL = "http://127.0.0.1/v1beta/models/m:streamGenerateContent?alt=sse"
GEMINI_ARRAY_URL = "http://127.0.0.1/v1beta/models/m:streamGenerateContent"
OPENAI_URL = "http://127.0.0.1/v1/chat/completions"
GEMINI_GENERATE_URL = "http://127.0.0.1/v1beta/models/m:generateContent"


def candidate(
    text: str | None, finish: str | None = None, index: int = 0, parts: list[Any] | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "content": {"parts": parts if parts is not None else [{"text": text}], "role": "model"},
        "index": index,
    }
    if finish:
        found["finishReason"] = finish
    return found


def gemini_event(
    text: str, *, finish: bool = False, rid: str = "r1", usage: bool = True, parts: list[Any] | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "candidates": [candidate(text, "STOP" if finish else None, parts=parts)],
        "modelVersion": "m",
        "responseId": rid,
    }
    if usage:
        event["usageMetadata"] = {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}
    return event


GEMINI_EVENTS = [gemini_event("PINE"), gemini_event("APP"), gemini_event("LE", finish=True)]


def chunk(
    delta: dict[str, Any] | None,
    *,
    index: int = 0,
    finish: str | None = None,
    cid: str = "c1",
    usage: Any = "absent",
    choices: list[Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": 1, "model": "m"}
    body["choices"] = (
        choices if choices is not None else [{"index": index, "delta": delta, "finish_reason": finish}]
    )
    if usage != "absent":
        body["usage"] = usage
    return body


OPENAI_CHUNKS = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "PINE"}),
    chunk({"content": "APPLE"}),
    chunk({}, finish="stop"),
]
USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
OPENAI_USAGE_CHUNKS = [*(dict(c, usage=None) for c in OPENAI_CHUNKS), chunk(None, choices=[], usage=USAGE)]


def frames(payloads: list[Any], eol: bytes = b"\r\n", done: bool = False) -> bytes:
    out = b"".join(
        b"data: " + (p if isinstance(p, bytes) else json.dumps(p).encode()) + eol + eol for p in payloads
    )
    return out + (b"data: [DONE]" + eol + eol if done else b"")


def timed(body: bytes, pieces: int, spacing: float = 0.01) -> tuple[tuple[int, float], ...]:
    """Chunk times that deliver the body in ``pieces`` equal parts, ``spacing`` seconds apart."""
    size = max(1, -(-len(body) // pieces))
    return tuple((min(len(body), size * (i + 1)), 0.005 + spacing * i) for i in range(pieces))


def stream_exchange(
    body: bytes,
    *,
    url: str = GEMINI_SSE_URL,
    content_type: str = "text/event-stream",
    status: int = 200,
    chunks: tuple[tuple[int, float], ...] | None = None,
    request_body: bytes = b"{}",
) -> Exchange:
    chunks = (
        chunks if chunks is not None else timed(body, max(1, body.count(b"data:") or body.count(b"\n,") + 1))
    )
    last = chunks[-1][1] if chunks else 0.0
    return Exchange(
        request=SentRequest("POST", url, (), request_body),
        status=status,
        headers=(("Content-Type", content_type),),
        body=body,
        chunks=chunks,
        ttfb=chunks[0][1] if chunks else None,
        elapsed=last + 0.001,
    )


def gsse(payloads: list[Any], **kw: Any) -> Exchange:
    eol = kw.pop("eol", b"\r\n")
    done = kw.pop("done", False)
    return stream_exchange(frames(payloads, eol, done), **kw)


def osse(payloads: list[Any], *, done: bool = True, eol: bytes = b"\n", **kw: Any) -> Exchange:
    kw.setdefault("request_body", b'{"stream": true}')
    return stream_exchange(frames(payloads, eol, done), url=OPENAI_URL, **kw)


def garray(elements: list[Any], **kw: Any) -> Exchange:
    body = b"[" + b"\n,\r\n".join(json.dumps(e, indent=2).encode() for e in elements) + b"\n]"
    kw.setdefault("content_type", "application/json; charset=UTF-8")
    n = len(elements)
    return stream_exchange(body, url=GEMINI_ARRAY_URL, chunks=kw.pop("chunks", timed(body, n)), **kw)


def case(protocol: str, modes: tuple[str, ...]) -> Case:
    steps = tuple(Step(RequestSpec("POST", "/x", stream=mode), ()) for mode in modes)  # type: ignore[arg-type]
    return Case(
        id=f"{protocol}/unit/case",
        protocol=protocol,
        feature="unit",
        level="MUST",
        title="t",
        reference="r",  # type: ignore[arg-type]
        steps=steps,
        policy=Policy(),
        source=Path("x.yaml"),
    )


def mode_of(exchange: Exchange) -> str:
    if exchange.request.url == GEMINI_ARRAY_URL:
        return "json-array"
    if exchange.request.url in (GEMINI_SSE_URL, OPENAI_URL):
        return "sse"
    return "none"


def verdict(
    schemas, check: str, args: Any, *exchanges: Exchange, protocol: str = "gemini", strict: bool = False
) -> list[str]:
    ctx = CheckContext(
        case=case(protocol, tuple(mode_of(e) for e in exchanges)),
        exchanges=exchanges,
        schemas=schemas,
        strict=strict,
    )
    return [f.message for f in run_check(ctx, Expectation(check, args))]


BUFFERED = frames(GEMINI_EVENTS)
TEXT_OF_ANSWER = Exchange(
    request=SentRequest("POST", GEMINI_GENERATE_URL, (), b"{}"),
    status=200,
    headers=(("Content-Type", "application/json"),),
    body=json.dumps(gemini_event("PINEAPPLE", finish=True)).encode(),
)

GOOD_AND_BAD: list[tuple[str, Any, Exchange, Exchange, str, str]] = [
    # framing: Gemini SSE
    (
        "sse_framing",
        {"protocol": "gemini"},
        gsse(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS, content_type="application/json"),
        "expected Content-Type text/event-stream",
        "gemini",
    ),
    (
        "sse_framing",
        {"protocol": "gemini"},
        gsse(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS, done=True),
        "event 3 (byte",
        "gemini",
    ),
    (
        "sse_framing",
        {"protocol": "gemini"},
        gsse(GEMINI_EVENTS),
        stream_exchange(frames(GEMINI_EVENTS).replace(b"data: ", b"event: message\r\ndata: ")),
        "[event-field]",
        "gemini",
    ),
    (
        "sse_framing",
        {"protocol": "gemini"},
        gsse(GEMINI_EVENTS),
        stream_exchange(frames(GEMINI_EVENTS)[:-4]),
        "[unterminated-event]",
        "gemini",
    ),
    (
        "sse_framing",
        {"protocol": "gemini"},
        gsse(GEMINI_EVENTS),
        stream_exchange(b""),
        "[empty-stream]",
        "gemini",
    ),
    (
        "sse_framing",
        {"protocol": "gemini"},
        gsse(GEMINI_EVENTS),
        stream_exchange(json.dumps(gemini_event("x")).encode()),
        "[unterminated-event]",
        "gemini",
    ),
    (
        "sse_framing",
        {"protocol": "gemini"},
        gsse(GEMINI_EVENTS),
        gsse([b'{"candidates": [', *GEMINI_EVENTS[1:]]),
        "event 0 (byte 22): payload is not JSON",
        "gemini",
    ),
    (
        "sse_framing",
        {"protocol": "gemini", "line_ending": "crlf"},
        gsse(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS, eol=b"\n"),
        "[lf-line-endings]",
        "gemini",
    ),
    # framing: OpenAI SSE
    (
        "sse_framing",
        {"protocol": "openai"},
        osse(OPENAI_CHUNKS),
        osse(OPENAI_CHUNKS, done=False),
        "no `data: [DONE]` event: the stream ended after event 3",
        "openai",
    ),
    (
        "sse_framing",
        {"protocol": "openai"},
        osse(OPENAI_CHUNKS),
        stream_exchange(
            frames(OPENAI_CHUNKS, b"\n", True) + frames(OPENAI_CHUNKS[:1], b"\n"), url=OPENAI_URL
        ),
        "[event-after-done]",
        "openai",
    ),
    # framing: JSON array
    (
        "json_array_stream",
        True,
        garray(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS, url=GEMINI_ARRAY_URL, content_type="application/json"),
        "stream starts with 'data: ",
        "gemini",
    ),
    (
        "json_array_stream",
        True,
        garray(GEMINI_EVENTS),
        garray(GEMINI_EVENTS, content_type="text/event-stream"),
        "expected Content-Type application/json",
        "gemini",
    ),
    (
        "json_array_stream",
        True,
        garray(GEMINI_EVENTS),
        stream_exchange(
            json.dumps(GEMINI_EVENTS[0]).encode(), url=GEMINI_ARRAY_URL, content_type="application/json"
        ),
        "[array-not-started]",
        "gemini",
    ),
    (
        "json_array_stream",
        True,
        garray(GEMINI_EVENTS),
        stream_exchange(
            b"[" + json.dumps(GEMINI_EVENTS[0]).encode(),
            url=GEMINI_ARRAY_URL,
            content_type="application/json",
        ),
        "[array-not-closed]",
        "gemini",
    ),
    (
        "json_array_stream",
        True,
        garray(GEMINI_EVENTS),
        garray([GEMINI_EVENTS[0], [1]]),
        "element 1 (byte",
        "gemini",
    ),
    # per-event expectations
    (
        "events",
        {"which": "every", "expect": [{"schema": "gemini/GenerateContentResponse"}]},
        gsse(GEMINI_EVENTS),
        gsse([GEMINI_EVENTS[0], OPENAI_CHUNKS[1]]),
        "event 1 (byte",
        "gemini",
    ),
    (
        "events",
        {"which": "last", "expect": [{"json": {"at": "/candidates/0/finishReason", "exists": True}}]},
        gsse(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS[:2]),
        "expected a value at /candidates/0/finishReason",
        "gemini",
    ),
    (
        "events",
        {"which": "before_last", "expect": [{"json": {"at": "/candidates/0/finishReason", "exists": False}}]},
        gsse(GEMINI_EVENTS),
        gsse([gemini_event("x", finish=True), *GEMINI_EVENTS]),
        "event 0 (byte 0): expected nothing",
        "gemini",
    ),
    (
        "events",
        {"which": "first", "expect": [{"json": {"at": "/usageMetadata", "exists": True}}]},
        garray(GEMINI_EVENTS),
        garray([gemini_event("x", usage=False), *GEMINI_EVENTS]),
        "element 0 (byte 1)",
        "gemini",
    ),
    (
        "events",
        {
            "which": "last",
            "expect": [
                {
                    "sum": {
                        "total": "/usage/total_tokens",
                        "of": ["/usage/prompt_tokens", "/usage/completion_tokens"],
                    }
                }
            ],
        },
        osse(OPENAI_USAGE_CHUNKS),
        osse([*OPENAI_USAGE_CHUNKS[:-1], chunk(None, choices=[], usage={**USAGE, "total_tokens": 3})]),
        "expected the sum 5",
        "openai",
    ),
    # across events
    (
        "same_across_events",
        "/responseId",
        gsse(GEMINI_EVENTS),
        gsse([GEMINI_EVENTS[0], gemini_event("x", rid="r2")]),
        "event 1 (byte",
        "gemini",
    ),
    (
        "same_across_events",
        ["/id", "/created", "/model"],
        osse(OPENAI_CHUNKS),
        osse([OPENAI_CHUNKS[0], chunk({}, finish="stop", cid="c2")]),
        '/id is "c2", but event 0 (byte 0) had "c1"',
        "openai",
    ),
    (
        "same_across_events",
        "/responseId",
        gsse(GEMINI_EVENTS),
        gsse([GEMINI_EVENTS[0], {"candidates": []}]),
        "no value at /responseId",
        "gemini",
    ),
    # text
    (
        "stream_text",
        {"equals": "PINEAPPLE"},
        gsse(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS[:2]),
        'expected "PINEAPPLE", got "PINEAPP"',
        "gemini",
    ),
    (
        "stream_text",
        {"cumulative": False},
        gsse(GEMINI_EVENTS),
        gsse([gemini_event("PINE"), gemini_event("PINEAPP"), gemini_event("PINEAPPLE", finish=True)]),
        "the text is cumulative",
        "gemini",
    ),
    (
        "stream_text",
        {"candidate": 0, "contains": "APPLE"},
        osse(OPENAI_CHUNKS),
        osse(OPENAI_CHUNKS[:1]),
        'to contain "APPLE"',
        "openai",
    ),
    (
        "stream_text",
        {"candidate": 1, "length": {"min": 1}},
        osse([*OPENAI_CHUNKS, chunk({"role": "assistant", "content": "X"}, index=1)]),
        osse(OPENAI_CHUNKS),
        "choice 1",
        "openai",
    ),
    # incremental delivery
    (
        "incremental",
        {"min_events": 2},
        gsse(GEMINI_EVENTS),
        stream_exchange(BUFFERED, chunks=((len(BUFFERED), 0.2),)),
        "not delivered incrementally",
        "gemini",
    ),
    (
        "incremental",
        {"min_events": 2},
        gsse(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS[2:]),
        "expected at least 2 events, got 1",
        "gemini",
    ),
    # OpenAI chunk rules
    (
        "openai_chunks",
        {"choices": 1},
        osse(OPENAI_CHUNKS),
        osse(OPENAI_CHUNKS[:3]),
        "no chunk carries a finish_reason for choice 0",
        "openai",
    ),
    (
        "openai_chunks",
        {"choices": 1},
        osse(OPENAI_CHUNKS),
        osse(OPENAI_CHUNKS[1:]),
        "the first delta of choice 0 has role null",
        "openai",
    ),
    (
        "openai_chunks",
        {"choices": 1},
        osse(OPENAI_CHUNKS),
        osse([*OPENAI_CHUNKS[:2], chunk({"content": "APPLE"}, finish="stop"), chunk({}, finish="stop")]),
        "finish_reason on 2 chunks",
        "openai",
    ),
    (
        "openai_chunks",
        {"choices": 1},
        osse(OPENAI_CHUNKS),
        osse([*OPENAI_CHUNKS[:2], chunk({}, finish="stop"), chunk({"content": "x"})]),
        "continues after its finish_reason",
        "openai",
    ),
    (
        "openai_chunks",
        {"choices": 2},
        osse([*OPENAI_CHUNKS, *(dict(c, choices=[dict(c["choices"][0], index=1)]) for c in OPENAI_CHUNKS)]),
        osse(OPENAI_CHUNKS),
        "choice 1 never appears",
        "openai",
    ),
    (
        "openai_chunks",
        {"usage": True},
        osse(OPENAI_USAGE_CHUNKS),
        osse([dict(c, usage=None) for c in OPENAI_CHUNKS]),
        "no chunk carries usage",
        "openai",
    ),
    (
        "openai_chunks",
        {"usage": True},
        osse(OPENAI_USAGE_CHUNKS),
        osse([*OPENAI_USAGE_CHUNKS[:-2], dict(OPENAI_CHUNKS[-1], usage=USAGE), OPENAI_USAGE_CHUNKS[-1]]),
        "usage is on 2 chunks",
        "openai",
    ),
    (
        "openai_chunks",
        {"usage": True},
        osse(OPENAI_USAGE_CHUNKS),
        osse([*OPENAI_USAGE_CHUNKS[:-1], chunk(None, choices=[], usage={**USAGE, "total_tokens": 9})]),
        "usage.total_tokens is 9",
        "openai",
    ),
    (
        "openai_chunks",
        {"usage": True},
        osse(OPENAI_USAGE_CHUNKS),
        osse([*OPENAI_USAGE_CHUNKS[:-1], chunk({}, finish="stop", usage=USAGE)]),
        "expected []",
        "openai",
    ),
    # streamed tool calls
    (
        "tool_call_deltas",
        {"min_calls": 1},
        osse(
            [
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                    }
                ),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
                chunk({}, finish="tool_calls"),
            ]
        ),
        osse(
            [
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": "{}"},
                            }
                        ],
                    }
                ),
                chunk({}, finish="tool_calls"),
            ]
        ),
        "tool call delta without an integer index",
        "openai",
    ),
    (
        "tool_call_deltas",
        {},
        osse(
            [
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "a",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ],
                    }
                )
            ]
        ),
        osse(
            [
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [{"index": 0, "type": "function", "function": {"arguments": '{"a": '}}],
                    }
                )
            ]
        ),
        "the first delta of tool call 0 has no id",
        "openai",
    ),
    (
        "tool_call_deltas",
        {},
        osse(
            [
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "a",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ],
                    }
                )
            ]
        ),
        osse(
            [
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "a",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"a": '},
                            }
                        ],
                    }
                )
            ]
        ),
        "which is not JSON",
        "openai",
    ),
    (
        "tool_call_deltas",
        {},
        osse(
            [
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "a",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ],
                    }
                )
            ]
        ),
        osse(OPENAI_CHUNKS),
        "expected at least 1 streamed tool call(s), got 0",
        "openai",
    ),
    # streamed Gemini function calls
    (
        "function_call_parts",
        {"min_calls": 1},
        gsse(
            [
                gemini_event(
                    "",
                    finish=True,
                    parts=[{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
                )
            ]
        ),
        gsse(
            [
                gemini_event(
                    "",
                    finish=True,
                    parts=[{"functionCall": {"name": "get_weather", "args": '{"city": "Paris"}'}}],
                )
            ]
        ),
        "functionCall args are",
        "gemini",
    ),
    (
        "function_call_parts",
        {},
        gsse([gemini_event("", finish=True, parts=[{"functionCall": {"name": "f", "args": {}}}])]),
        gsse(
            [
                gemini_event(
                    "",
                    parts=[
                        {
                            "functionCall": {
                                "name": "f",
                                "partialArgs": [{"jsonPath": "$.a"}],
                                "willContinue": True,
                            }
                        }
                    ],
                )
            ]
        ),
        "arrives in pieces",
        "gemini",
    ),
    (
        "function_call_parts",
        {},
        gsse([gemini_event("", finish=True, parts=[{"functionCall": {"name": "f", "args": {}}}])]),
        gsse(GEMINI_EVENTS),
        "expected at least 1 functionCall part(s) in the stream, got 0",
        "gemini",
    ),
    # events: some, whole, count
    (
        "events",
        {"which": "some", "expect": [{"json": {"at": "/candidates/0/finishReason", "equals": "STOP"}}]},
        gsse(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS[:2]),
        "no event of 2 meets every expectation (the first: event 0",
        "gemini",
    ),
    (
        "events",
        {"which": "whole", "expect": [{"text": {"equals": "PINEAPPLE"}}]},
        gsse(GEMINI_EVENTS),
        gsse(GEMINI_EVENTS[:2]),
        'the whole stream: answer text of candidate 0: expected "PINEAPPLE", got "PINEAPP"',
        "gemini",
    ),
    (
        "events",
        {"which": "whole", "expect": [{"parts": {"kind": "thought", "count": 1, "before": "text"}}]},
        gsse([gemini_event("", parts=[{"text": "Hm", "thought": True}]), *GEMINI_EVENTS]),
        gsse([*GEMINI_EVENTS, gemini_event("", parts=[{"text": "Hm", "thought": True}])]),
        "a thought part comes after the text part",
        "gemini",
    ),
    (
        "events",
        {"count": 1, "expect": [{"json": {"at": "/candidates", "exists": False}}]},
        gsse([{"promptFeedback": {"blockReason": "SAFETY"}}]),
        gsse([{"promptFeedback": {"blockReason": "SAFETY"}}] * 2),
        "expected 1 event(s) holding a JSON object, got 2",
        "gemini",
    ),
]


@pytest.mark.parametrize(
    ("check", "args", "good", "bad", "message", "protocol"),
    GOOD_AND_BAD,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(GOOD_AND_BAD)],
)
def test_stream_check_passes_good_and_fails_bad(schemas, check, args, good, bad, message, protocol):
    assert verdict(schemas, check, args, good, protocol=protocol) == []
    problems = verdict(schemas, check, args, bad, protocol=protocol)
    assert problems, f"{check} accepted a bad exchange"
    assert any(message in problem for problem in problems), problems


def test_failures_name_event_number_offset_and_raw_text(schemas):
    bad = gsse([GEMINI_EVENTS[0], gemini_event("x", rid="r2")])
    (message,) = verdict(schemas, "same_across_events", "/responseId", bad)
    offset = bad.body.index(b"data: ", 1)
    assert message.startswith(f"event 1 (byte {offset}): ")
    assert "raw: 'data: {" in message


def test_lf_framing_passes_compat_and_fails_strict_on_gemini_only(schemas):
    lf = gsse(GEMINI_EVENTS, eol=b"\n")
    assert verdict(schemas, "sse_framing", {"protocol": "gemini"}, lf) == []
    assert any(
        "[lf-line-endings]" in p
        for p in verdict(schemas, "sse_framing", {"protocol": "gemini"}, lf, strict=True)
    )
    assert (
        verdict(
            schemas,
            "sse_framing",
            {"protocol": "openai"},
            osse(OPENAI_CHUNKS),
            protocol="openai",
            strict=True,
        )
        == []
    )


def test_openai_tolerates_comments_but_gemini_does_not(schemas):
    body = b": keep-alive\n\n" + frames(OPENAI_CHUNKS, b"\n", True)
    assert (
        verdict(
            schemas,
            "sse_framing",
            {"protocol": "openai"},
            stream_exchange(body, url=OPENAI_URL),
            protocol="openai",
        )
        == []
    )
    gemini = stream_exchange(b": keep-alive\r\n\r\n" + frames(GEMINI_EVENTS))
    assert any("[comment-line]" in p for p in verdict(schemas, "sse_framing", {"protocol": "gemini"}, gemini))


def test_stream_text_equals_the_answer_of_an_earlier_step(schemas):
    assert verdict(schemas, "stream_text", {"equals_text_of": 0}, TEXT_OF_ANSWER, gsse(GEMINI_EVENTS)) == []
    (problem,) = verdict(
        schemas, "stream_text", {"equals_text_of": 0}, TEXT_OF_ANSWER, gsse(GEMINI_EVENTS[:2])
    )
    assert 'is "PINEAPP", but the answer of step 0 is "PINEAPPLE"' in problem
    # an earlier streamed step is compared by its own concatenated text
    assert (
        verdict(schemas, "stream_text", {"equals_text_of": 0}, garray(GEMINI_EVENTS), gsse(GEMINI_EVENTS))
        == []
    )


def test_content_checks_on_an_undecodable_stream_are_errored(schemas):
    with pytest.raises(Undecodable, match="no event of the sse stream holds a JSON object"):
        verdict(
            schemas,
            "events",
            {"which": "every", "expect": [{"json": {"at": "/x", "exists": True}}]},
            stream_exchange(b""),
        )
    assert verdict(
        schemas, "sse_framing", {"protocol": "gemini"}, stream_exchange(b"")
    )  # the framing check fails instead


def test_thought_parts_are_not_answer_text(schemas):
    thought = gemini_event("", parts=[{"text": "hmm", "thought": True}])
    assert verdict(schemas, "stream_text", {"equals": "PINEAPPLE"}, gsse([thought, *GEMINI_EVENTS])) == []


def test_array_wrapped_error_of_a_json_array_stream(schemas):
    error = {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}
    wrapped = garray([error], status=404)
    assert verdict(schemas, "error", {"status": "NOT_FOUND"}, wrapped) == []
    plain = Exchange(
        request=SentRequest("POST", GEMINI_ARRAY_URL, (), b"{}"),
        status=404,
        headers=(("Content-Type", "application/json"),),
        body=json.dumps(error).encode(),
    )
    assert verdict(schemas, "error", {"status": "NOT_FOUND"}, plain) == []


def test_stream_timings_are_recorded():
    from conformance.streams.view import view_of

    exchange = gsse(GEMINI_EVENTS)
    timings = view_of(exchange, "sse").timings()
    assert timings.events == 3
    assert timings.first_event == pytest.approx(0.005) and timings.last_event == pytest.approx(0.025)
    assert timings.largest_gap == pytest.approx(0.01)
    assert timings.record()["first_event_ms"] == 5.0
