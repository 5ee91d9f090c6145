"""Faults in streamed answers: how a stream is framed and sent, how its text is cut, and what its events
say. The event faults are listed in the order they apply at ``stream_events``: the ones that drop chunks
before the one that numbers them, and translating native events into OpenAI chunks last."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import (
    FRAMES,
    FRAMING,
    RESPONSE,
    STREAM_EVENTS,
    TEXT_DELTAS,
    Call,
    Framing,
)

Events = list[dict[str, Any]]

# -- framing and delivery ----------------------------------------------------------------------------


class StreamWithoutAltSseNotStreamed(Fault):
    """:streamGenerateContent without alt=sse is treated as non-streaming: the answer is one
    GenerateContentResponse object, not a JSON array."""

    name = "stream-without-alt-sse-not-streamed"
    bug_class = "F01"
    protocol = "gemini"
    feature = "streaming-json-array"
    caught_by = ("gemini/streaming-json-array/framing",)

    @at(FRAMING)
    def not_streamed(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, mode="json") if framing.mode == "json-array" else framing


class StreamArrayServedAsSse(Fault):
    """:streamGenerateContent without alt=sse is answered with SSE events (text/event-stream)."""

    name = "stream-array-served-as-sse"
    bug_class = "F02"
    protocol = "gemini"
    feature = "streaming-json-array"
    caught_by = ("gemini/streaming-json-array/framing",)

    @at(FRAMING)
    def as_sse(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, mode="sse") if framing.mode == "json-array" else framing


class SseServedAsJson(Fault):
    """The native SSE stream is framed as SSE but labelled Content-Type: application/json, so
    EventSource-style clients refuse it (no bug class listed)."""

    name = "sse-served-as-json"
    bug_class = None
    protocol = "gemini"
    feature = "streaming-sse"
    caught_by = ("gemini/streaming-sse/framing",)

    @at(FRAMING)
    def labelled_json(self, framing: Framing, call: Call) -> Framing:
        if call.protocol != "gemini" or framing.mode != "sse":
            return framing
        return replace(framing, content_type="application/json")


class SseLfSeparators(Fault):
    """Native SSE lines end with a bare LF (events separated by \\n\\n) instead of Google's CRLF (no bug
    class listed; a SHOULD-level deviation)."""

    name = "sse-lf-separators"
    bug_class = None
    protocol = "gemini"
    feature = "streaming-sse"
    caught_by = ("gemini/streaming-sse/crlf-separators",)

    level = "SHOULD"
    level_reason = (
        'Google\'s CRLF CRLF separators are a SHOULD (FACTS.md "Event framing"); WHATWG parsers accept LF'
    )

    @at(FRAMING)
    def bare_lf(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, eol=b"\n") if call.protocol == "gemini" else framing


class SseEventLines(Fault):
    """Every SSE event of either protocol gets an `event: message` line before its data (no bug class
    listed; Google's SDKs and OpenAI's chat stream parser break on it)."""

    name = "sse-event-lines"
    bug_class = None
    protocol = "gemini"
    feature = "streaming-sse"
    affects = BOTH
    caught_by = (
        "gemini/streaming-sse/framing",
        "openai/streaming/framing",
        "gemini/sdk/stream",
    )

    @at(FRAMING)
    def event_lines(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, event_line=True)


class DoneOnNativeStream(Fault):
    """A data: [DONE] event, an OpenAI-ism that breaks Google's SDKs, ends the native SSE stream."""

    name = "done-on-native-stream"
    bug_class = "F08"
    protocol = "gemini"
    feature = "streaming-sse"
    caught_by = (
        "gemini/streaming-sse/framing",
        "gemini/sdk/stream",
    )

    @at(FRAMING)
    def done(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, done=True) if call.protocol == "gemini" else framing


class OpenAIStreamDoneMissing(Fault):
    """The OpenAI stream ends with a clean EOF and no data: [DONE] event."""

    name = "openai-stream-done-missing"
    bug_class = "F06"
    protocol = "openai"
    feature = "streaming"
    caught_by = ("openai/streaming/framing",)

    @at(FRAMING)
    def no_done(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, done=False) if call.protocol == "openai" else framing


class SseFinalFrameUnterminated(Fault):
    """The last SSE event of either protocol ends without its terminating blank line, so WHATWG clients
    drop it."""

    name = "sse-final-frame-unterminated"
    bug_class = "F04"
    protocol = "gemini"
    feature = "streaming-sse"
    affects = BOTH
    caught_by = (
        "gemini/streaming-sse/framing",
        "openai/streaming/framing",
    )

    @at(FRAMING)
    def unterminated(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, terminated=False)


class StreamBuffered(Fault):
    """Streams of both protocols are buffered: every event is sent at once at the end, after the time the
    whole answer took."""

    name = "stream-buffered"
    bug_class = "F03"
    protocol = "gemini"
    feature = "streaming"
    affects = BOTH
    caught_by = (
        "gemini/streaming-json-array/incremental",
        "gemini/streaming-sse/incremental",
        "openai/streaming/incremental",
    )

    level = "SHOULD"
    level_reason = "incremental delivery is a SHOULD (GATEWAY-BUGS F03): a buffered stream is still a stream"

    @at(FRAMING)
    def buffered(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, buffered=True)


# -- text --------------------------------------------------------------------------------------------


class StreamCumulativeText(Fault):
    """Streamed text of both protocols is cumulative (each event repeats the text so far) instead of
    deltas (no bug class listed)."""

    name = "stream-cumulative-text"
    bug_class = None
    protocol = "gemini"
    feature = "streaming"
    affects = BOTH
    caught_by = (
        "gemini/streaming-json-array/text-deltas",
        "gemini/streaming-sse/text-deltas",
        "gemini/streaming-sse/text-matches-non-streaming",
        "openai/streaming/content-deltas",
        "openai/streaming/content-matches-non-streaming",
        "gemini/sdk/stream",
        "openai/sdk/stream",
    )

    @at(TEXT_DELTAS)
    def cumulative(self, deltas: list[str], call: Call) -> list[str]:
        return ["".join(deltas[: n + 1]) for n in range(len(deltas))]


class StreamTextSplitMidCharacter(Fault):
    """Streamed text of both protocols is re-cut into pieces of a few bytes, each decoded on its own with
    replacement, so a multi-byte character split between two events becomes U+FFFD (no bug class listed)."""

    name = "stream-text-split-mid-character"
    bug_class = None
    protocol = "gemini"
    feature = "unicode"
    affects = BOTH
    caught_by = (
        "gemini/unicode/streamed-sse",
        "gemini/unicode/streamed-json-array",
        "openai/unicode/streamed",
        "gemini/unicode/line-separators-kept",
        "openai/unicode/line-separators-kept",
    )

    @at(TEXT_DELTAS)
    def byte_pieces(self, deltas: list[str], call: Call) -> list[str]:
        raw = "".join(deltas).encode("utf-8")
        size = 4
        return [raw[n : n + size].decode("utf-8", "replace") for n in range(0, len(raw), size)] or deltas


# -- frames ------------------------------------------------------------------------------------------


class SseLinesSplitOnUnicodeSeparators(Fault):
    """The gateway re-reads SSE lines with a Unicode-aware line splitter (Python's str.splitlines, a
    JavaScript readline): U+2028, U+2029 and U+0085 inside an event's JSON end its line, and the pieces are
    written back as lines of their own, breaking the event (no bug class listed)."""

    name = "sse-lines-split-on-unicode-separators"
    bug_class = None
    protocol = "gemini"
    feature = "unicode"
    affects = BOTH
    caught_by = (
        "gemini/unicode/line-separators",
        "gemini/unicode/line-separators-kept",
        "openai/unicode/line-separators",
        "openai/unicode/line-separators-kept",
    )

    @at(FRAMES)
    def split_lines(self, frames: list[bytes], call: Call) -> list[bytes]:
        out = []
        for frame in frames:
            text = frame.decode("utf-8")
            if not text.startswith(("data:", "event:")):
                out.append(frame)  # JSON-array elements are not read as lines
                continue
            ending = text[len(text.rstrip("\r\n")) :]
            out.append(("\n".join(text.splitlines()) + ending).encode("utf-8"))
        return out


# -- events ------------------------------------------------------------------------------------------


class OpenAIStreamFirstChoiceOnly(Fault):
    """With n > 1 only choice 0 is streamed (the non-streaming route returns every choice)."""

    name = "openai-stream-first-choice-only"
    bug_class = "F32"
    protocol = "openai"
    feature = "streaming"
    caught_by = ("openai/streaming/n-2",)

    @at(RESPONSE)
    def first_choice(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol != "openai" or not call.stream or not isinstance(body.get("choices"), list):
            return body
        return {**body, "choices": body["choices"][:1]}


def _deltas(chunks: Events) -> list[dict[str, Any]]:
    return [choice["delta"] for chunk in chunks for choice in chunk.get("choices", [])]


class StreamToolCallsDropped(Fault):
    """The stream converter passes text only: functionCall parts (native) and tool_calls deltas (OpenAI)
    never reach a streaming client."""

    name = "stream-tool-calls-dropped"
    bug_class = "F22"
    protocol = "openai"
    feature = "streaming"
    affects = BOTH
    caught_by = (
        "gemini/streaming-sse/function-call",
        "gemini/streaming-json-array/function-call",
        "openai/streaming/tool-calls",
        "gemini/streaming-sse/function-call-no-parameters",
        "gemini/streaming-sse/thought-signature-round-trip",
        "openai/streaming/tool-call-no-parameters",
    )

    @at(STREAM_EVENTS)
    def text_only(self, events: Events, call: Call) -> Events:
        if call.protocol == "openai":
            return [chunk for chunk in events if not any("tool_calls" in delta for delta in _deltas([chunk]))]
        for event in events:
            for candidate in event.get("candidates", []):
                parts = candidate.get("content", {}).get("parts")
                if isinstance(parts, list):
                    candidate["content"]["parts"] = [part for part in parts if "functionCall" not in part]
        return events


class StreamToolCallIndexMissing(Fault):
    """Streamed tool_calls deltas carry no index, so clients cannot join the argument pieces."""

    name = "stream-tool-call-index-missing"
    bug_class = "F22"
    protocol = "openai"
    feature = "streaming"
    caught_by = (
        "openai/streaming/tool-calls",
        "openai/streaming/parallel-tool-calls",
    )

    @at(STREAM_EVENTS)
    def no_index(self, events: Events, call: Call) -> Events:
        if call.protocol == "openai":
            for delta in _deltas(events):
                for tool_call in delta.get("tool_calls", []):
                    tool_call.pop("index", None)
        return events


class StreamFinishReasonMissing(Fault):
    """The last event of a native stream (SSE or array) has no finishReason."""

    name = "stream-finish-reason-missing"
    bug_class = "F07"
    protocol = "gemini"
    feature = "streaming"
    caught_by = (
        "gemini/streaming-json-array/finish-reason-and-usage-last",
        "gemini/streaming-sse/finish-reason-last",
        "gemini/streaming-sse/max-tokens",
        "gemini/streaming-json-array/max-tokens",
    )

    @at(STREAM_EVENTS)
    def no_finish_reason(self, events: Events, call: Call) -> Events:
        if call.protocol == "gemini":
            for candidate in events[-1].get("candidates", []):
                candidate.pop("finishReason", None)
        return events


class StreamUsageOnlyOnLastEvent(Fault):
    """usageMetadata is only on the last native stream event, so an interrupted stream carries none."""

    name = "stream-usage-only-on-last-event"
    bug_class = "F10"
    protocol = "gemini"
    feature = "streaming"
    caught_by = ("gemini/streaming-sse/usage-every-event",)

    level = "SHOULD"
    level_reason = (
        'usage on intermediate events is a SHOULD (FACTS.md "Intermediate events already carry usage", F10)'
    )

    @at(STREAM_EVENTS)
    def usage_last(self, events: Events, call: Call) -> Events:
        if call.protocol == "gemini":
            for event in events[:-1]:
                if isinstance(event.get("usageMetadata"), dict):
                    del event["usageMetadata"]
        return events


class OpenAIStreamRoleMissing(Fault):
    """The first delta of an OpenAI stream has no role (no bug class listed)."""

    name = "openai-stream-role-missing"
    bug_class = None
    protocol = "openai"
    feature = "streaming"
    caught_by = ("openai/streaming/choice-deltas",)

    @at(STREAM_EVENTS)
    def no_role(self, events: Events, call: Call) -> Events:
        if call.protocol == "openai":
            for delta in _deltas(events):
                delta.pop("role", None)
        return events


class OpenAIStreamFinishReasonMissing(Fault):
    """OpenAI stream chunks never carry a finish_reason (null on the final chunk too)."""

    name = "openai-stream-finish-reason-missing"
    bug_class = "F06"
    protocol = "openai"
    feature = "streaming"
    caught_by = ("openai/streaming/choice-deltas",)

    @at(STREAM_EVENTS)
    def no_finish_reason(self, events: Events, call: Call) -> Events:
        if call.protocol == "openai":
            for chunk in events:
                for choice in chunk.get("choices", []):
                    choice["finish_reason"] = None
        return events


def _is_usage_chunk(chunk: dict[str, Any]) -> bool:
    """The include_usage chunk: no choices, the final usage."""
    return chunk.get("choices") == [] and "usage" in chunk


class OpenAIUsageOnEveryChunk(Fault):
    """With include_usage, every chunk carries the final usage instead of null (no bug class listed;
    clients that add up usage count it many times)."""

    name = "openai-usage-on-every-chunk"
    bug_class = None
    protocol = "openai"
    feature = "streaming"
    caught_by = ("openai/streaming/include-usage",)

    @at(STREAM_EVENTS)
    def usage_everywhere(self, events: Events, call: Call) -> Events:
        final = next((chunk["usage"] for chunk in events if _is_usage_chunk(chunk)), None)
        if call.protocol == "openai" and call.include_usage:
            for chunk in events:
                if not _is_usage_chunk(chunk):
                    chunk["usage"] = final
        return events


class IncludeUsageIgnored(Fault):
    """stream_options.include_usage is ignored: every chunk has usage: null and no usage chunk comes."""

    name = "include-usage-ignored"
    bug_class = "F09"
    protocol = "openai"
    feature = "streaming"
    caught_by = (
        "openai/streaming/include-usage",
        "openai/sdk/stream",
    )

    @at(STREAM_EVENTS)
    def no_usage(self, events: Events, call: Call) -> Events:
        """The usage chunk never comes; chunks that carry no usage say null (after usage-on-every-chunk)."""
        if call.protocol != "openai":
            return events
        kept = [chunk for chunk in events if not _is_usage_chunk(chunk)]
        for chunk in kept:
            chunk.setdefault("usage", None)
        return kept


class OpenAIChunkObjectWrong(Fault):
    """OpenAI stream chunks say object "chat.completion" instead of "chat.completion.chunk" (no bug class
    listed)."""

    name = "openai-chunk-object-wrong"
    bug_class = None
    protocol = "openai"
    feature = "streaming"
    caught_by = ("openai/streaming/chunk-shape",)

    @at(STREAM_EVENTS)
    def completion_object(self, events: Events, call: Call) -> Events:
        if call.protocol == "openai":
            for chunk in events:
                chunk["object"] = "chat.completion"
        return events


class StreamResponseIdChanges(Fault):
    """Each stream event gets a different responseId (native) or chunk id (OpenAI) (no bug class listed)."""

    name = "stream-response-id-changes"
    bug_class = None
    protocol = "gemini"
    feature = "streaming"
    affects = BOTH
    caught_by = (
        "gemini/streaming-json-array/elements-are-responses",
        "gemini/streaming-sse/same-response-id",
        "openai/streaming/chunk-shape",
    )

    @at(STREAM_EVENTS)
    def numbered_ids(self, events: Events, call: Call) -> Events:
        key = "responseId" if call.protocol == "gemini" else "id"
        for n, event in enumerate(events):
            if key in event:
                event[key] = f"{event[key]}{n}"
        return events


class OpenAIChunksOnNativeStream(Fault):
    """Native stream events are OpenAI chat.completion.chunk objects instead of GenerateContentResponses."""

    name = "openai-chunks-on-native-stream"
    bug_class = "F08"
    protocol = "gemini"
    feature = "streaming"
    caught_by = (
        "gemini/streaming-json-array/elements-are-responses",
        "gemini/streaming-sse/events-are-responses",
    )

    @at(STREAM_EVENTS)
    def as_chunks(self, events: Events, call: Call) -> Events:
        return [_as_openai_chunk(event) for event in events] if call.protocol == "gemini" else events


def _as_openai_chunk(event: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for position, candidate in enumerate(event.get("candidates", [])):
        texts = [
            part.get("text", "")
            for part in (candidate.get("content") or {}).get("parts", [])
            if isinstance(part, dict)
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


class StreamFinishReasonStop(Fault):
    """Streams always end with finishReason STOP (native) or finish_reason "stop" (OpenAI, tool calls
    apart): a stream cut by the token limit, or blocked, looks complete; unary answers are right."""

    name = "stream-finish-reason-stop"
    bug_class = "F38"
    protocol = "gemini"
    feature = "streaming"
    affects = BOTH
    caught_by = (
        "gemini/streaming-sse/max-tokens",
        "gemini/streaming-json-array/max-tokens",
        "openai/streaming/length",
        "openai/safety/prompt-block-streamed",
    )

    @at(STREAM_EVENTS)
    def stop(self, events: Events, call: Call) -> Events:
        for event in events:
            for entry in event.get("candidates" if call.protocol == "gemini" else "choices") or []:
                if call.protocol == "gemini" and "finishReason" in entry:
                    entry["finishReason"] = "STOP"
                elif call.protocol == "openai" and entry.get("finish_reason") not in (None, "tool_calls"):
                    entry["finish_reason"] = "stop"
        return events


class StreamThoughtSignatureDropped(Fault):
    """thoughtSignature is stripped from the parts of native stream events (the unary route keeps it), so
    replaying a streamed function call is refused with 400."""

    name = "stream-thought-signature-dropped"
    bug_class = "F13"
    protocol = "gemini"
    feature = "thought-signatures"
    caught_by = (
        "gemini/streaming-sse/thought-signature-round-trip",
        "gemini/streaming-sse/thought-signature-round-trip-gemini3",
    )

    @at(STREAM_EVENTS)
    def unsigned(self, events: Events, call: Call) -> Events:
        if call.protocol == "gemini":
            for part in _native_parts(events):
                part.pop("thoughtSignature", None)
        return events


class StreamThoughtsMerged(Fault):
    """Native stream events lose the thought flag of their parts: the streamed thought summary arrives as
    answer text (the unary route keeps thoughts apart)."""

    name = "stream-thoughts-merged"
    bug_class = "F15"
    protocol = "gemini"
    feature = "thinking"
    caught_by = ("gemini/thinking/streamed",)

    @at(STREAM_EVENTS)
    def unflagged(self, events: Events, call: Call) -> Events:
        if call.protocol == "gemini":
            for part in _native_parts(events):
                part.pop("thought", None)
        return events


def _native_parts(events: Events) -> list[dict[str, Any]]:
    return [
        part
        for event in events
        for candidate in event.get("candidates") or []
        for part in (candidate.get("content") or {}).get("parts") or []
        if isinstance(part, dict)
    ]
