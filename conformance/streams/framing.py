"""Framing rules of streamed bodies: which decoder findings break a stream for each protocol's clients.

Pure functions over a decoded stream, shared by the stream checks and ``conformance validate``.
"""

from __future__ import annotations

from typing import Literal

from conformance.streams.decode import Finding, JsonArrayStream, SseStream
from conformance.streams.view import StreamItem, StreamView

SseDialect = Literal["gemini", "openai"]

# SSE findings that break a stream for every client of either protocol.
_SSE_ALWAYS = frozenset(
    {
        "empty-stream",
        "no-events",
        "bom",
        "invalid-utf8",
        "event-field",
        "id-field",
        "field-without-colon",
        "multiline-data",
        "payload-not-json",
        "payload-not-one-value",
        "payload-not-object",
        "unterminated-event",
        "event-after-done",
    }
)
# Google's SDKs read `data: <json>` lines only: anything else on a native stream breaks them.
_SSE_GEMINI = frozenset(
    {"comment-line", "retry-field", "unknown-field", "undispatched-block", "done-sentinel"}
)
# Harmless to WHATWG clients, but not the framing the protocol's own server sends.
_SSE_STRICT = frozenset({"payload-whitespace", "no-space-after-colon", "extra-blank-line"})
_LINE_ENDING_CODES = {
    "crlf": ("lf-line-endings", "cr-line-endings", "mixed-line-endings"),
    "lf": ("cr-line-endings", "mixed-line-endings"),
}
# JSON-array findings that a strict reader still takes.
_ARRAY_TOLERATED = frozenset({"leading-whitespace"})


def _finding_text(finding: Finding, raw: bytes, items: tuple[StreamItem, ...]) -> str:
    if finding.event is not None and finding.event < len(items):
        quote = items[finding.event].quote()
    else:
        start = min(finding.offset, max(0, len(raw) - 80))
        quote = repr(raw[start : start + 80].decode("utf-8", "replace"))
    return f"{finding.message} [{finding.code}]; raw: {quote}"


def sse_problems(
    view: StreamView, raw: bytes, dialect: SseDialect, *, strict: bool = False, line_ending: str | None = None
) -> list[str]:
    """Every way an SSE stream breaks the framing of ``dialect``, one sentence each."""
    stream = view.decoded
    assert isinstance(stream, SseStream)
    failing = set(_SSE_ALWAYS)
    if dialect == "gemini":
        failing |= _SSE_GEMINI
    if strict:
        failing |= _SSE_STRICT
    required = line_ending or ("crlf" if strict and dialect == "gemini" else None)
    if required:
        failing |= set(_LINE_ENDING_CODES[required])
    problems = [_finding_text(f, raw, view.items) for f in stream.findings if f.code in failing]
    if required == "lf" and stream.line_ending == "crlf":
        problems.append(
            f"lines end with CRLF, expected LF only; raw: {repr(raw[:80].decode('utf-8', 'replace'))}"
        )
    if dialect == "openai" and stream.events and not any(event.is_done for event in stream.events):
        last = view.items[-1]
        problems.append(
            f"no `data: [DONE]` event: the stream ended after {view.where(last)}; raw: {last.quote()}"
        )
    return problems


def array_problems(view: StreamView, raw: bytes, *, strict: bool = False) -> list[str]:
    """Every way a JSON-array stream breaks Google's framing (`[`, object elements, `]`)."""
    stream = view.decoded
    assert isinstance(stream, JsonArrayStream)
    tolerated = frozenset() if strict else _ARRAY_TOLERATED
    return [_finding_text(f, raw, view.items) for f in stream.findings if f.code not in tolerated]
