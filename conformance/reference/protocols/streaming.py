"""Streaming in the reference gateway: a whole response cut into events, framed and sent incrementally.

The handlers first build the whole answer exactly as the non-streaming route would (so every part a
feature adds also streams), then cut it: text is sent in consecutive groups of the engine's pieces,
any other part whole in an event of its own. Gemini events are full GenerateContentResponses (the
same responseId, usage on every event and growing, finishReason only on the last); OpenAI chunks
are chat.completion.chunk objects (role on the first delta, finish_reason on a final empty delta,
the include_usage chunk last). Framing follows FACTS.md: native SSE ``data: <json>\\r\\n\\r\\n`` with
no ``[DONE]``, the native JSON array ``[{...}\\n,\\r\\n{...}\\n]``, OpenAI ``data: <json>\\n\\n`` then
``data: [DONE]``. The stream faults of ``faults.py`` each change one of these facts.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Set
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from conformance.reference.model.engine import split_pieces, tokenize
from conformance.reference.protocols.wire import GEMINI_CONTENT_TYPE, snake_keys
from conformance.reference.settings import settings_of

NativeMode = Literal["sse", "json-array"]

MAX_TEXT_EVENTS = 6
SSE_CONTENT_TYPE = "text/event-stream"
_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature"})


def stream_delay(request: Request) -> float:
    """The seconds the gateway waits between two events."""
    return settings_of(request).stream_delay


def split_text(text: str, cumulative: bool = False) -> list[str]:
    """A text cut into at most ``MAX_TEXT_EVENTS`` consecutive groups of the engine's pieces.

    With ``cumulative`` (a fault), each group is the whole text so far instead of a delta.
    """
    pieces = split_pieces(text) or ("",)
    groups = min(len(pieces), MAX_TEXT_EVENTS)
    size, extra = divmod(len(pieces), groups)
    out: list[str] = []
    start = 0
    for n in range(groups):
        stop = start + size + (1 if n < extra else 0)
        out.append("".join(pieces[start:stop]))
        start = stop
    if cumulative:
        out = ["".join(out[: n + 1]) for n in range(len(out))]
    return out


# -- Gemini ------------------------------------------------------------------------------------


def _part_units(part: dict[str, Any], cumulative: bool) -> list[dict[str, Any]]:
    """A part as it is streamed: a text part in groups (its signature on the last), any other part whole."""
    if not isinstance(part.get("text"), str) or set(part) - _TEXT_KEYS:
        return [part]
    texts = split_text(part["text"], cumulative)
    units = []
    for n, text in enumerate(texts):
        unit = {"text": text, **{k: v for k, v in part.items() if k not in ("text", "thoughtSignature")}}
        if n == len(texts) - 1 and "thoughtSignature" in part:
            unit["thoughtSignature"] = part["thoughtSignature"]
        units.append(unit)
    return units


def _usage_key(body: dict[str, Any]) -> str | None:
    return next(
        (key for key in ("usageMetadata", "cpaUsageMetadata") if isinstance(body.get(key), dict)), None
    )


def _partial_usage(usage: dict[str, Any], emitted: int) -> dict[str, Any]:
    """Usage as it stands after ``emitted`` output tokens: the prompt counted, the output so far."""
    partial = dict(usage)
    final = usage.get("candidatesTokenCount", 0)
    partial.pop("candidatesTokenCount", None)
    total = usage.get("totalTokenCount")
    if (
        isinstance(total, int) and total >= final
    ):  # (under usage-misreported the total omits the output anyway)
        partial["totalTokenCount"] = total - final + emitted
    if emitted:  # zero counts are omitted, as Google does on the first events
        items = list(partial.items())
        at = next((i for i, (k, _) in enumerate(items) if k == "promptTokenCount"), -1) + 1
        items.insert(at, ("candidatesTokenCount", emitted))
        partial = dict(items)
    return partial


def gemini_events(full: dict[str, Any], faults: Set[str]) -> list[dict[str, Any]]:
    """The events of a native stream whose whole is the GenerateContentResponse ``full``."""
    candidates = full.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        return [full]
    cumulative = "stream-cumulative-text" in faults
    units = [
        [
            unit
            for part in (candidate.get("content") or {}).get("parts", [])
            for unit in _part_units(part, cumulative)
        ]
        for candidate in candidates
    ]
    count = max(1, *(len(u) for u in units))
    usage_key = _usage_key(full)
    emitted = 0
    events: list[dict[str, Any]] = []
    for n in range(count):
        last = n == count - 1
        streamed: list[dict[str, Any]] = []
        for i, candidate in enumerate(candidates):
            if n >= len(units[i]) and not last:
                continue
            part = units[i][n] if n < len(units[i]) else {"text": ""}
            if isinstance(part.get("text"), str) and not part.get("thought"):
                emitted += len(tokenize(part["text"]))
            role = (candidate.get("content") or {}).get("role", "model")
            entry: dict[str, Any] = {"content": {"parts": [part], "role": role}}
            if last:
                entry.update({k: v for k, v in candidate.items() if k != "content"})
            elif "index" in candidate:
                entry["index"] = candidate["index"]
            streamed.append(entry)
        event: dict[str, Any] = {}
        for key, value in full.items():
            if key == "candidates":
                event[key] = streamed
            elif key == usage_key:
                event[key] = copy.deepcopy(value) if last else _partial_usage(value, emitted)
            else:
                event[key] = value
        events.append(event)
    return _distort_gemini(events, usage_key, faults)


def _distort_gemini(
    events: list[dict[str, Any]], usage_key: str | None, faults: Set[str]
) -> list[dict[str, Any]]:
    if "stream-finish-reason-missing" in faults:
        for candidate in events[-1].get("candidates", []):
            candidate.pop("finishReason", None)
    if "stream-usage-only-on-last-event" in faults and usage_key:
        for event in events[:-1]:
            event.pop(usage_key, None)
    if "stream-response-id-changes" in faults:
        for n, event in enumerate(events):
            if "responseId" in event:
                event["responseId"] = f"{event['responseId']}{n}"
    if "stream-tool-calls-dropped" in faults:
        for event in events:
            for candidate in event.get("candidates", []):
                parts = candidate.get("content", {}).get("parts")
                if isinstance(parts, list):
                    candidate["content"]["parts"] = [p for p in parts if "functionCall" not in p]
    if "openai-chunks-on-native-stream" in faults:
        events = [_as_openai_chunk(event) for event in events]
    return events


def _as_openai_chunk(event: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for position, candidate in enumerate(event.get("candidates", [])):
        texts = [
            p.get("text", "")
            for p in (candidate.get("content") or {}).get("parts", [])
            if isinstance(p, dict)
        ]
        finish = candidate.get("finishReason")
        choices.append(
            {
                "index": candidate.get("index", position),
                "delta": {"content": "".join(texts)},
                "finish_reason": None if finish is None else finish.lower(),
            }
        )
    return {
        "id": f"chatcmpl-{event.get('responseId', '')}",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": event.get("modelVersion", ""),
        "choices": choices,
    }


def native_frames(
    events: list[dict[str, Any]], mode: NativeMode, faults: Set[str]
) -> tuple[list[bytes], str]:
    """The bytes of each event on the wire and the Content-Type, in a native mode."""
    if mode == "json-array" and "stream-array-served-as-sse" in faults:
        mode = "sse"
    if mode == "json-array":
        texts = [json.dumps(event, indent=2, ensure_ascii=False).encode("utf-8") for event in events]
        frames = [(b"[" if n == 0 else b"\n,\r\n") + text for n, text in enumerate(texts)]
        frames[-1] += b"\n]"
        return frames, GEMINI_CONTENT_TYPE
    eol = b"\n" if "sse-lf-separators" in faults else b"\r\n"
    head = b"event: message" + eol if "sse-event-lines" in faults else b""
    frames = [
        head
        + b"data: "
        + json.dumps(event, ensure_ascii=False, separators=(",", ": ")).encode("utf-8")
        + eol
        + eol
        for event in events
    ]
    if "done-on-native-stream" in faults:
        frames.append(head + b"data: [DONE]" + eol + eol)
    if "sse-final-frame-unterminated" in faults:
        frames[-1] = frames[-1].rstrip(b"\r\n")
    if "sse-served-as-json" in faults:
        return frames, "application/json"
    return frames, SSE_CONTENT_TYPE


def native_stream(full: dict[str, Any], mode: NativeMode, request: Request, faults: Set[str]) -> Response:
    """The streamed answer of ``:streamGenerateContent`` whose whole is ``full``."""
    events = gemini_events(full, faults)
    if "snake-case-output" in faults:
        events = [snake_keys(event) for event in events]
    frames, media_type = native_frames(events, mode, faults)
    headers = {"content-disposition": "attachment"} if media_type == SSE_CONTENT_TYPE else None
    return paced(frames, media_type, stream_delay(request), faults, headers)


# -- OpenAI ------------------------------------------------------------------------------------


def tool_call_deltas(n: int, call: dict[str, Any], faults: Set[str]) -> list[dict[str, Any]]:
    """A tool call as streamed: id, type and name with the first half of the arguments, then the rest."""
    function = call.get("function") or {}
    arguments = function.get("arguments")
    head = {**call}
    rest: dict[str, Any] | None = None
    if isinstance(arguments, str) and len(arguments) > 1:
        cut = len(arguments) // 2
        head["function"] = {**function, "arguments": arguments[:cut]}
        rest = {"function": {"arguments": arguments[cut:]}}
    deltas = [head] if rest is None else [head, rest]
    if "stream-tool-call-index-missing" in faults:
        return deltas
    return [{"index": n, **delta} for delta in deltas]


def openai_chunks(result: dict[str, Any], include_usage: bool, faults: Set[str]) -> list[dict[str, Any]]:
    """The chat.completion.chunk objects whose whole is the chat.completion ``result``."""
    base = {k: v for k, v in result.items() if k not in ("choices", "usage")}
    base["object"] = "chat.completion" if "openai-chunk-object-wrong" in faults else "chat.completion.chunk"
    cumulative = "stream-cumulative-text" in faults
    choices = result.get("choices", [])
    if "openai-stream-first-choice-only" in faults:
        choices = choices[:1]
    lanes: list[list[tuple[int, dict[str, Any], str | None]]] = []
    for position, choice in enumerate(choices):
        index = choice.get("index", position)
        message = choice.get("message") or {}
        first: dict[str, Any] = {} if "openai-stream-role-missing" in faults else {"role": "assistant"}
        first["content"] = ""
        first.update({k: v for k, v in message.items() if k not in ("role", "content", "tool_calls")})
        lane: list[tuple[int, dict[str, Any], str | None]] = [(index, first, None)]
        content = message.get("content")
        if isinstance(content, str) and content:
            lane.extend((index, {"content": text}, None) for text in split_text(content, cumulative))
        if "stream-tool-calls-dropped" not in faults:
            for n, call in enumerate(message.get("tool_calls") or []):
                lane.extend(
                    (index, {"tool_calls": [delta]}, None) for delta in tool_call_deltas(n, call, faults)
                )
        finish = None if "openai-stream-finish-reason-missing" in faults else choice.get("finish_reason")
        lane.append((index, {}, finish))
        lanes.append(lane)
    chunks: list[dict[str, Any]] = []
    for step in range(max((len(lane) for lane in lanes), default=0)):
        for lane in lanes:
            if step < len(lane):
                index, delta, finish = lane[step]
                chunk = {**base, "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}
                if include_usage or "include-usage-ignored" in faults:
                    chunk["usage"] = (
                        result.get("usage")
                        if "openai-usage-on-every-chunk" in faults and include_usage
                        else None
                    )
                chunks.append(chunk)
    if include_usage and "include-usage-ignored" not in faults:
        chunks.append({**base, "choices": [], "usage": result.get("usage")})
    if "stream-response-id-changes" in faults:
        for n, chunk in enumerate(chunks):
            if "id" in chunk:
                chunk["id"] = f"{chunk['id']}{n}"
    return chunks


def openai_stream(
    result: dict[str, Any], include_usage: bool, request: Request, faults: Set[str]
) -> Response:
    """The streamed answer of ``/chat/completions`` with ``stream: true`` whose whole is ``result``."""
    head = b"event: message\n" if "sse-event-lines" in faults else b""
    frames = [
        head
        + b"data: "
        + json.dumps(chunk, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        + b"\n\n"
        for chunk in openai_chunks(result, include_usage, faults)
    ]
    if "openai-stream-done-missing" not in faults:
        frames.append(head + b"data: [DONE]\n\n")
    if "sse-final-frame-unterminated" in faults:
        frames[-1] = frames[-1].rstrip(b"\n")
    return paced(frames, SSE_CONTENT_TYPE, stream_delay(request), faults)


# -- delivery ----------------------------------------------------------------------------------


def paced(
    frames: list[bytes],
    media_type: str,
    delay: float,
    faults: Set[str],
    headers: dict[str, str] | None = None,
) -> Response:
    """A 200 that sends each frame as it is ready, ``delay`` seconds apart (all at the end when buffered)."""

    async def body() -> AsyncIterator[bytes]:
        if "stream-buffered" in faults:
            await asyncio.sleep(delay * (len(frames) - 1))
            yield b"".join(frames)
            return
        for n, frame in enumerate(frames):
            if n:
                await asyncio.sleep(delay)
            yield frame

    return StreamingResponse(body(), media_type=media_type, headers=headers)


def empty_200(media_type: str) -> Response:
    """The answer of a gateway that hides an upstream error behind a 200 with an empty stream (F05)."""
    return Response(b"", status_code=200, media_type=media_type)
