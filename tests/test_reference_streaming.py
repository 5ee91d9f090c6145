"""The reference gateway's streams, byte for byte: Google's native framings, OpenAI chunks, errors, pacing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.reference.app import create_app
from conformance.reference.faults.registry import activate
from conformance.reference.faults.seams import TEXT_DELTAS, Call
from conformance.reference.model.catalogue import Catalogue
from conformance.reference.protocols.streaming import gemini_events, openai_chunks, split_text
from conformance.reference.server import ReferenceServer
from conformance.streams.decode import decode_json_array, decode_sse

KEY = "stream-key"
MODEL = "gemini-2.5-flash"
DELAY = 0.02
COUNT = {"contents": [{"role": "user", "parts": [{"text": "Count from 1 to 12"}]}]}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with ReferenceServer(create_app(api_key=KEY, stream_delay=DELAY)) as server:
        yield server.base_url


def native(base_url: str, method: str, body: Any, *, sse: bool = False, model: str = MODEL) -> httpx.Response:
    params = {"alt": "sse"} if sse else {}
    return httpx.post(
        f"{base_url}/v1beta/models/{model}:{method}",
        params=params,
        json=body,
        headers={"x-goog-api-key": KEY},
    )


def chat(base_url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{base_url}/v1/chat/completions",
        json={"model": MODEL, **body},
        headers={"authorization": f"Bearer {KEY}"},
    )


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(p["text"] for e in events for c in e["candidates"] for p in c["content"]["parts"])


def test_native_sse_is_googles_framing(base_url: str) -> None:
    response = native(base_url, "streamGenerateContent", COUNT, sse=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["content-disposition"] == "attachment"
    raw = response.content
    stream = decode_sse(raw)
    assert stream.findings == ()
    assert stream.line_ending == "crlf"
    assert all(event.terminator == b"\r\n\r\n" and not event.is_done for event in stream.events)
    assert raw.count(b"data: ") == len(stream.events) > 1
    events = [event.json for event in stream.events]
    assert len({e["responseId"] for e in events}) == 1
    assert all("finishReason" not in c for e in events[:-1] for c in e["candidates"])
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    totals = [e["usageMetadata"]["totalTokenCount"] for e in events]
    assert totals == sorted(totals) and "candidatesTokenCount" in events[0]["usageMetadata"]
    whole = native(base_url, "generateContent", COUNT).json()
    assert text_of(events) == text_of([whole]) == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"
    assert events[-1]["usageMetadata"] == whole["usageMetadata"]


def test_native_json_array_is_googles_layout(base_url: str) -> None:
    response = native(base_url, "streamGenerateContent", COUNT)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    raw = response.content
    assert raw.startswith(b"[{") and raw.endswith(b"}\n]")
    stream = decode_json_array(raw)
    assert stream.findings == () and stream.closed
    assert set(stream.separators) == {b"\n,\r\n"}
    sse = decode_sse(native(base_url, "streamGenerateContent", COUNT, sse=True).content)
    assert [e.json for e in stream.elements] == [e.json for e in sse.events]


def test_events_are_paced_by_the_stream_delay(base_url: str) -> None:
    started = time.perf_counter()
    arrivals: list[float] = []
    with httpx.stream(
        "POST",
        f"{base_url}/v1beta/models/{MODEL}:streamGenerateContent",
        params={"alt": "sse"},
        json=COUNT,
        headers={"x-goog-api-key": KEY},
    ) as response:
        for _ in response.iter_bytes():
            arrivals.append(time.perf_counter() - started)
    assert len(arrivals) >= 3
    assert arrivals[-1] - arrivals[0] >= (len(arrivals) - 1) * DELAY * 0.8


@pytest.mark.parametrize(
    ("sse", "content_type", "wrapped"),
    [(True, "text/event-stream", False), (False, "application/json; charset=UTF-8", True)],
)
def test_native_stream_errors_are_googles(base_url: str, sse: bool, content_type: str, wrapped: bool) -> None:
    response = native(base_url, "streamGenerateContent", COUNT, sse=sse, model="no-such-model")
    assert response.status_code == 404
    assert response.headers["content-type"] == content_type
    body = response.json()
    error = (body[0] if wrapped else body)["error"]
    assert error["code"] == 404 and error["status"] == "NOT_FOUND"
    assert "streamGenerateContent" in error["message"]
    if wrapped:
        assert response.content.startswith(b"[{") and response.content.endswith(b"}\n]")
    bad = native(base_url, "streamGenerateContent", {"contents": []}, sse=sse)
    assert bad.status_code == 400


def test_openai_stream_framing_and_usage(base_url: str) -> None:
    response = chat(
        base_url,
        {
            "stream": True,
            "stream_options": {"include_usage": True},
            "n": 2,
            "messages": [{"role": "user", "content": "Count from 1 to 5"}],
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    raw = response.content
    assert raw.endswith(b"data: [DONE]\n\n") and b"\r" not in raw
    stream = decode_sse(raw)
    assert {f.code for f in stream.findings} == {"lf-line-endings", "done-sentinel"}
    chunks = [e.json for e in stream.events if not e.is_done]
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    usage_chunk = chunks[-1]
    usage = usage_chunk["usage"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]  # gemini-2.5-flash thinks
    assert usage_chunk["choices"] == [] and usage["total_tokens"] == 5 + 9 * 2 + reasoning
    assert all(c["usage"] is None for c in chunks[:-1])
    for index in (0, 1):
        mine = [c["choices"][0] for c in chunks[:-1] if c["choices"][0]["index"] == index]
        assert mine[0]["delta"]["role"] == "assistant"
        assert [c["finish_reason"] for c in mine] == [None] * (len(mine) - 1) + ["stop"]
        assert "".join(c["delta"].get("content", "") for c in mine) == "1, 2, 3, 4, 5"


def test_openai_stream_without_usage_option_has_no_usage(base_url: str) -> None:
    raw = chat(base_url, {"stream": True, "messages": [{"role": "user", "content": "Hi"}]}).content
    chunks = [e.json for e in decode_sse(raw).events if not e.is_done]
    assert all("usage" not in c for c in chunks)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"stream": "yes"}, "stream"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": True, "stream_options": "all"}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
    ],
)
def test_openai_stream_parameters_are_checked(base_url: str, body: dict[str, Any], param: str) -> None:
    response = chat(base_url, {**body, "messages": [{"role": "user", "content": "Hi"}]})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_openai_stream_error_is_an_http_error(base_url: str) -> None:
    response = chat(
        base_url, {"model": "no-such-model", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


def test_split_text_joins_back() -> None:
    for text in ("", "PINEAPPLE", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10", "  spaced  out  "):
        groups = split_text(text)
        assert "".join(groups) == text and 1 <= len(groups) <= 6
    cumulative = activate({"stream-cumulative-text"})
    call = Call("gemini", Catalogue.of())
    assert cumulative.apply(TEXT_DELTAS, split_text("a b c"), call) == ["a", "a b", "a b c"]


def test_non_text_parts_stream_whole() -> None:
    call = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}
    full = {
        "candidates": [
            {
                "content": {
                    "parts": [{"text": "Let me check the weather", "thoughtSignature": "c2ln"}, call],
                    "role": "model",
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 5, "totalTokenCount": 9},
        "modelVersion": MODEL,
        "responseId": "r",
    }
    events = gemini_events(full)
    parts = [p for e in events for c in e["candidates"] for p in c["content"]["parts"]]
    assert parts[-1] == call
    assert "".join(p.get("text", "") for p in parts) == "Let me check the weather"
    signed = [p for p in parts if "thoughtSignature" in p]
    assert len(signed) == 1 and signed[0] is parts[-2]
    assert events[-1]["usageMetadata"] == full["usageMetadata"]
    assert [e["candidates"][0].get("finishReason") for e in events] == [None] * (len(events) - 1) + ["STOP"]


def test_tool_calls_stream_as_indexed_deltas() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": json.dumps({"a": 1})}}
    result = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    chunks = openai_chunks(result, include_usage=False)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant"
    pieces = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert len(pieces) == 2 and all(p["index"] == 0 for p in pieces)
    assert pieces[0]["id"] == "call_1" and pieces[0]["function"]["name"] == "f" and "id" not in pieces[1]
    assert "".join(p["function"]["arguments"] for p in pieces) == call["function"]["arguments"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_prompt_blocked_response_is_a_single_event() -> None:
    blocked = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3},
    }
    assert gemini_events(blocked) == [blocked]


def test_stream_delay_is_bounded() -> None:
    with pytest.raises(ValueError, match="stream delay"):
        create_app(stream_delay=-1)
