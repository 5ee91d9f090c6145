"""A streamed response as checks and reports see it: its events in order, with bytes, JSON and arrival times.

`conformance.streams.decode` decodes raw bytes; this module puts an `Exchange` through the decoder of the
right kind (SSE or Google's JSON array) and gives every event (SSE event or array element) one
shape, with the timings of the stream as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from conformance.streams.decode import Finding, JsonArrayStream, SseStream, decode_json_array, decode_sse
from conformance.wire.exchange import Exchange, ProbeExchange

StreamKind = Literal["sse", "json-array"]

QUOTE_LIMIT = 160


@dataclass(frozen=True)
class StreamItem:
    """One event of a stream: an SSE event or a JSON-array element, with its raw bytes and JSON."""

    index: int
    offset: int
    raw: bytes
    payload: bytes
    value: object | None
    received_at: float | None
    is_done: bool = False

    def quote(self, limit: int = QUOTE_LIMIT) -> str:
        """The raw wire text of the event, cut for a message."""
        text = self.raw.decode("utf-8", "replace")
        return repr(text if len(text) <= limit else text[:limit] + "...")


@dataclass(frozen=True)
class StreamTimings:
    """When a stream's bytes and events arrived, in seconds from the start of the request."""

    ttfb: float | None
    first_event: float | None
    last_event: float | None
    total: float
    events: int
    largest_gap: float | None

    def record(self) -> dict[str, float | int | None]:
        """The timings for results.json, in milliseconds."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 3)

        return {
            "events": self.events,
            "first_event_ms": ms(self.first_event),
            "last_event_ms": ms(self.last_event),
            "largest_gap_ms": ms(self.largest_gap),
        }

    def describe(self) -> str:
        """One line for a person: ttfb, first and last event, total, count and largest gap."""

        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f} ms"

        return (
            f"{self.events} event(s); ttfb {ms(self.ttfb)}, first event {ms(self.first_event)}, "
            f"last event {ms(self.last_event)}, total {ms(self.total)}, largest gap {ms(self.largest_gap)}"
        )


@dataclass(frozen=True)
class StreamView:
    """A decoded stream: every event, the decoder's findings, and the decoder's own result."""

    kind: StreamKind
    items: tuple[StreamItem, ...]
    findings: tuple[Finding, ...]
    decoded: SseStream | JsonArrayStream
    elapsed: float
    ttfb: float | None
    headers_at: float | None = None
    """When the response's status and headers arrived (seconds from the start of the request)."""

    @property
    def noun(self) -> str:
        """What one item is called in messages."""
        return "event" if self.kind == "sse" else "element"

    @property
    def json_items(self) -> tuple[StreamItem, ...]:
        """The items whose payload is a JSON object (``[DONE]`` and undecodable payloads left out)."""
        return tuple(item for item in self.items if isinstance(item.value, dict))

    def where(self, item: StreamItem) -> str:
        """``event 3 (byte 120)``."""
        return f"{self.noun} {item.index} (byte {item.offset})"

    def timings(self) -> StreamTimings:
        """The stream's timings over every dispatched item (``[DONE]`` included)."""
        times = [item.received_at for item in self.items if item.received_at is not None]
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        return StreamTimings(
            ttfb=self.ttfb,
            first_event=times[0] if times else None,
            last_event=times[-1] if times else None,
            total=self.elapsed,
            events=len(self.items),
            largest_gap=max(gaps) if gaps else None,
        )


def view_of(exchange: Exchange, kind: StreamKind) -> StreamView:
    """Decode an exchange's body as a stream of the given kind."""
    raw = exchange.body
    if kind == "sse":
        sse = decode_sse(raw, exchange.chunks)
        items = tuple(
            StreamItem(
                index=event.index,
                offset=event.offset,
                raw=raw[event.offset : event.end],
                payload=event.data.encode("utf-8"),
                value=event.json,
                received_at=event.received_at,
                is_done=event.is_done,
            )
            for event in sse.events
        )
        return StreamView(
            kind, items, sse.findings, sse, exchange.elapsed, exchange.ttfb, exchange.headers_at
        )
    array = decode_json_array(raw, exchange.chunks)
    items = tuple(
        StreamItem(
            index=element.index,
            offset=element.offset,
            raw=raw[element.offset : element.end],
            payload=raw[element.offset : element.end],
            value=element.json,
            received_at=element.received_at,
        )
        for element in array.elements
    )
    return StreamView(
        kind, items, array.findings, array, exchange.elapsed, exchange.ttfb, exchange.headers_at
    )


def sniff_kind(exchange: Exchange) -> StreamKind | None:
    """The kind of stream an exchange carries, judged from the request and the response, or None.

    Only a 200 is a stream; an SDK probe's chunks are a JSON array. ``text/event-stream`` is SSE; a 200 to
    ``:streamGenerateContent`` without ``alt=sse`` is a JSON array; a request body asking for
    ``"stream": true`` is SSE. Nothing else is.
    """
    if exchange.status != 200:
        return None
    if isinstance(exchange, ProbeExchange):  # an SDK's stream iterator, recorded as a JSON array of chunks
        return "json-array" if exchange.streamed and exchange.outcome == "returned" else None
    if exchange.media_type == "text/event-stream":
        return "sse"
    url = urlsplit(exchange.request.url)
    if url.path.endswith(":streamGenerateContent"):
        return "sse" if parse_qs(url.query).get("alt") == ["sse"] else "json-array"
    if b'"stream": true' in exchange.request.body or b'"stream":true' in exchange.request.body:
        return "sse"
    return None


def sniff_bytes(data: bytes) -> StreamKind | None:
    """The kind of a captured stream judged from its bytes alone, or None when it looks like neither."""
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"["):
        return "json-array"
    if head.startswith((b"data:", b"event:", b"id:", b"retry:", b":")) or b"\ndata:" in data:
        return "sse"
    return None
