"""Streaming in the reference gateway: a whole response cut into events, framed and sent incrementally.

The handlers first build the whole answer exactly as the non-streaming route would (so every part a
feature adds also streams), then cut it: text is sent in consecutive groups of the engine's pieces,
any other part whole in an event of its own. Gemini events are full GenerateContentResponses (the
same responseId, usage on every event and growing, finishReason only on the last); OpenAI chunks
are chat.completion.chunk objects (role on the first delta, finish_reason on a final empty delta,
the include_usage chunk last). Framing follows FACTS.md: native SSE ``data: <json>\\r\\n\\r\\n`` with
no ``[DONE]``, the native JSON array ``[{...}\\n,\\r\\n{...}\\n]``, OpenAI ``data: <json>\\n\\n`` then
``data: [DONE]``. The stream faults change these facts at the seams ``text_deltas``, ``stream_events``,
``document``, ``frames`` and ``framing`` (``faults/seams.py``).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from conformance.reference.faults.fault import ActiveFaults
from conformance.reference.faults.seams import DOCUMENT, FRAMES, STREAM_EVENTS, TEXT_DELTAS, Call, Framing
from conformance.reference.model.engine import split_pieces, tokenize
from conformance.reference.protocols.wire import GEMINI_CONTENT_TYPE
from conformance.reference.settings import settings_of

Deltas = Callable[[str], list[str]]
"""How a streamed text part is cut: the text in, the successive pieces out."""

MAX_TEXT_EVENTS = 6
SSE_CONTENT_TYPE = "text/event-stream"
_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature"})


def stream_delay(request: Request) -> float:
    """The seconds the gateway waits between two events."""
    return settings_of(request).stream_delay


def split_text(text: str) -> list[str]:
    """A text cut into at most ``MAX_TEXT_EVENTS`` consecutive groups of the engine's pieces."""
    pieces = split_pieces(text) or ("",)
    groups = min(len(pieces), MAX_TEXT_EVENTS)
    size, extra = divmod(len(pieces), groups)
    out: list[str] = []
    start = 0
    for n in range(groups):
        stop = start + size + (1 if n < extra else 0)
        out.append("".join(pieces[start:stop]))
        start = stop
    return out


def text_deltas(active: ActiveFaults, call: Call) -> Deltas:
    """``split_text`` as the active faults leave its pieces (the ``text_deltas`` seam)."""
    return lambda text: active.apply(TEXT_DELTAS, split_text(text), call)


# -- Gemini ------------------------------------------------------------------------------------


def _part_units(part: dict[str, Any], deltas: Deltas) -> list[dict[str, Any]]:
    """A part as it is streamed: a text part in groups (its signature on the last), any other part whole."""
    if not isinstance(part.get("text"), str) or set(part) - _TEXT_KEYS:
        return [part]
    texts = deltas(part["text"])
    units = []
    for n, text in enumerate(texts):
        unit = {"text": text, **{k: v for k, v in part.items() if k not in ("text", "thoughtSignature")}}
        if n == len(texts) - 1 and "thoughtSignature" in part:
            unit["thoughtSignature"] = part["thoughtSignature"]
        units.append(unit)
    return units


def _partial_usage(usage: dict[str, Any], emitted: int) -> dict[str, Any]:
    """Usage as it stands after ``emitted`` output tokens: the prompt counted, the output so far."""
    partial = dict(usage)
    final = usage.get("candidatesTokenCount", 0)
    partial.pop("candidatesTokenCount", None)
    total = usage.get("totalTokenCount")
    if isinstance(total, int) and total >= final:  # (a total that leaves out the output stays as it is)
        partial["totalTokenCount"] = total - final + emitted
    if emitted:  # zero counts are omitted, as Google does on the first events
        items = list(partial.items())
        at = next((i for i, (k, _) in enumerate(items) if k == "promptTokenCount"), -1) + 1
        items.insert(at, ("candidatesTokenCount", emitted))
        partial = dict(items)
    return partial


def gemini_events(full: dict[str, Any], deltas: Deltas = split_text) -> list[dict[str, Any]]:
    """The events of a native stream whose whole is the GenerateContentResponse ``full``."""
    candidates = full.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        return [full]
    units = [
        [
            unit
            for part in (candidate.get("content") or {}).get("parts", [])
            for unit in _part_units(part, deltas)
        ]
        for candidate in candidates
    ]
    count = max(1, *(len(u) for u in units))
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
            elif key == "usageMetadata" and isinstance(value, dict):
                event[key] = copy.deepcopy(value) if last else _partial_usage(value, emitted)
            else:
                event[key] = value
        events.append(event)
    return events


def json_array_frames(documents: list[bytes]) -> list[bytes]:
    """Google's JSON array, one frame per element: ``[{...}\\n,\\r\\n{...}\\n]``."""
    frames = [(b"[" if n == 0 else b"\n,\r\n") + document for n, document in enumerate(documents)]
    frames[-1] += b"\n]"
    return frames


def sse_frames(payloads: list[bytes], framing: Framing) -> list[bytes]:
    """One SSE event per payload (its ``data:``), shaped by ``framing``."""
    eol = framing.eol
    head = b"event: message" + eol if framing.event_line else b""
    frames = [head + b"data: " + payload + eol + eol for payload in payloads]
    if framing.done:
        frames.append(head + b"data: [DONE]" + eol + eol)
    if not framing.terminated:
        frames[-1] = frames[-1].rstrip(b"\r\n")
    return frames


def native_frames(events: list[Any], framing: Framing) -> tuple[list[bytes], str]:
    """The bytes of each event on the wire and the Content-Type, in a native stream's framing."""
    if framing.mode == "json-array":
        texts = [json.dumps(event, indent=2, ensure_ascii=False).encode("utf-8") for event in events]
        return json_array_frames(texts), framing.content_type or GEMINI_CONTENT_TYPE
    payloads = [
        json.dumps(event, ensure_ascii=False, separators=(",", ": ")).encode("utf-8") for event in events
    ]
    return sse_frames(payloads, framing), framing.content_type or SSE_CONTENT_TYPE


def native_stream(
    full: dict[str, Any], framing: Framing, request: Request, active: ActiveFaults, call: Call
) -> Response:
    """The streamed answer of ``:streamGenerateContent`` whose whole is ``full``.

    A prompt blocked before generation has no candidates to cut: its one event is the whole answer, sent
    as it is (the ``stream_events`` seam is for the events an answer is cut into).
    """
    events = gemini_events(full, text_deltas(active, call))
    if full.get("candidates"):
        events = active.apply(STREAM_EVENTS, events, call)
    documents = [active.apply(DOCUMENT, event, call) for event in events]
    frames, media_type = native_frames(documents, framing)
    frames = active.apply(FRAMES, frames, call)
    headers = {"content-disposition": "attachment"} if media_type == SSE_CONTENT_TYPE else None
    return paced(frames, media_type, stream_delay(request), framing.buffered, headers)


# -- OpenAI ------------------------------------------------------------------------------------


def tool_call_deltas(n: int, call: dict[str, Any]) -> list[dict[str, Any]]:
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
    return [{"index": n, **delta} for delta in deltas]


def openai_chunks(
    result: dict[str, Any], include_usage: bool, deltas: Deltas = split_text
) -> list[dict[str, Any]]:
    """The chat.completion.chunk objects whose whole is the chat.completion ``result``."""
    base = {k: v for k, v in result.items() if k not in ("choices", "usage")}
    base["object"] = "chat.completion.chunk"
    lanes: list[list[tuple[int, dict[str, Any], str | None]]] = []
    logprobs: dict[int, Any] = {}
    for position, choice in enumerate(result.get("choices", [])):
        index = choice.get("index", position)
        if choice.get("logprobs") is not None:
            logprobs[index] = choice["logprobs"]
        message = choice.get("message") or {}
        first: dict[str, Any] = {"role": "assistant", "content": ""}
        first.update({k: v for k, v in message.items() if k not in ("role", "content", "tool_calls")})
        lane: list[tuple[int, dict[str, Any], str | None]] = [(index, first, None)]
        content = message.get("content")
        if isinstance(content, str) and content:
            lane.extend((index, {"content": text}, None) for text in deltas(content))
        for n, call in enumerate(message.get("tool_calls") or []):
            lane.extend((index, {"tool_calls": [delta]}, None) for delta in tool_call_deltas(n, call))
        lane.append((index, {}, choice.get("finish_reason")))
        lanes.append(lane)
    chunks: list[dict[str, Any]] = []
    for step in range(max((len(lane) for lane in lanes), default=0)):
        for lane in lanes:
            if step < len(lane):
                index, delta, finish = lane[step]
                entry: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish}
                if finish is not None and index in logprobs:  # the tokens' logprobs ride on the last chunk
                    entry["logprobs"] = logprobs[index]
                chunk = {**base, "choices": [entry]}
                if include_usage:
                    chunk["usage"] = None
                chunks.append(chunk)
    if include_usage:
        chunks.append({**base, "choices": [], "usage": result.get("usage")})
    return chunks


def openai_stream(
    result: dict[str, Any], framing: Framing, request: Request, active: ActiveFaults, call: Call
) -> Response:
    """The streamed answer of ``/chat/completions`` with ``stream: true`` whose whole is ``result``."""
    chunks = openai_chunks(result, call.include_usage, text_deltas(active, call))
    payloads = [
        json.dumps(active.apply(DOCUMENT, chunk, call), separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )
        for chunk in active.apply(STREAM_EVENTS, chunks, call)
    ]
    frames = active.apply(FRAMES, sse_frames(payloads, framing), call)
    return paced(frames, framing.content_type or SSE_CONTENT_TYPE, stream_delay(request), framing.buffered)


# -- delivery ----------------------------------------------------------------------------------


def paced(
    frames: list[bytes],
    media_type: str,
    delay: float,
    buffered: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    """A 200 that sends each frame as it is ready, ``delay`` seconds apart (all at the end when buffered)."""

    async def body() -> AsyncIterator[bytes]:
        if buffered:
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
