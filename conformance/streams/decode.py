"""Strict decoders for streamed response bodies: Server-Sent Events and the incremental JSON array.

Both work on the raw bytes as received, keep byte positions, and report every framing deviation
as a `Finding` instead of repairing it. They are protocol-neutral: they state facts (line endings
used, `event:` lines, a `[DONE]` payload, the bytes between array elements) and never decide
whether a fact is wrong. Protocol checks make that call; Google's own streams decode with no
findings at all, so every finding is a difference from Google's framing, which may or may not
matter for the protocol at hand (an OpenAI stream legitimately has `lf-line-endings` and
`done-sentinel`).

Neither decoder raises on any input bytes, and both run in linear time.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from json import JSONDecodeError, JSONDecoder
from typing import Final, Literal

__all__ = [
    "FINDING_CODES",
    "ArrayElement",
    "Finding",
    "JsonArrayStream",
    "LineEnding",
    "SseEvent",
    "SseStream",
    "decode_json_array",
    "decode_sse",
]

LineEnding = Literal["crlf", "lf", "cr", "mixed", "none"]
"""The line endings a stream used: one kind, several (`mixed`), or none at all."""

FINDING_CODES: Final[dict[str, str]] = {
    # both decoders
    "empty-stream": "the body has no bytes at all",
    "bom": "the body starts with a UTF-8 byte order mark (EF BB BF)",
    "invalid-utf8": "bytes that are not valid UTF-8",
    # SSE: line endings (Google uses CRLF only)
    "lf-line-endings": "SSE lines end with a bare LF",
    "cr-line-endings": "SSE lines end with a bare CR",
    "mixed-line-endings": "SSE lines end with more than one kind of line ending",
    # SSE: lines and fields
    "comment-line": "an SSE line starting with ':' (a comment, ignored by clients)",
    "event-field": "an SSE `event:` field",
    "id-field": "an SSE `id:` field",
    "retry-field": "an SSE `retry:` field",
    "unknown-field": "an SSE field other than data, event, id and retry (ignored by clients)",
    "field-without-colon": "an SSE line with no ':' (a field with an empty value)",
    "no-space-after-colon": "an SSE field whose value does not start with the optional space",
    "extra-blank-line": "blank lines outside an event (after a dispatching blank line, or at the start)",
    "undispatched-block": "an SSE block of fields without any data line (clients dispatch nothing)",
    "unterminated-event": "the SSE stream ended without the blank line that ends the last block",
    "no-events": "a non-empty SSE stream that dispatches no event",
    # SSE: payloads
    "multiline-data": "an SSE event with more than one data line",
    "payload-not-json": "an SSE data payload that is not JSON",
    "payload-not-one-value": "an SSE data payload holding a JSON value followed by more text",
    "payload-not-object": "an SSE data payload that is JSON but not an object",
    "payload-whitespace": "an SSE data payload with leading or trailing whitespace",
    "done-sentinel": "an SSE data payload that is exactly `[DONE]`",
    "event-after-done": "an SSE event after the `[DONE]` event",
    # JSON array
    "leading-whitespace": "whitespace before the array's opening '['",
    "array-not-started": "the body does not start with '['",
    "element-not-object": "an array element that is not a JSON object",
    "malformed-json": "an array element that is not valid JSON (decoding stops there)",
    "missing-comma": "two array elements with no ',' between them",
    "extra-comma": "a ',' with no element before it",
    "trailing-comma": "a ',' after the last element, before ']'",
    "array-not-closed": "the body ended before the array's closing ']'",
    "empty-array": "the array has no elements",
    "trailing-bytes": "bytes other than whitespace after the closing ']'",
}
"""Every finding code either decoder emits, with one line saying what it means."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A fact about a stream's framing, at a byte offset, possibly concerning one event or element."""

    code: str
    message: str
    offset: int
    event: int | None


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched SSE event: a block of lines holding at least one `data` field."""

    index: int
    offset: int
    end: int
    fields: tuple[tuple[str, str], ...]
    data: str
    event_type: str | None
    terminator: bytes
    json: object | None
    is_done: bool
    received_at: float | None


@dataclass(frozen=True, slots=True)
class SseStream:
    """A decoded SSE body: its events, the framing findings, and the line endings it used."""

    events: tuple[SseEvent, ...]
    findings: tuple[Finding, ...]
    line_ending: LineEnding
    total_bytes: int

    @property
    def codes(self) -> frozenset[str]:
        """The distinct finding codes."""
        return frozenset(f.code for f in self.findings)


@dataclass(frozen=True, slots=True)
class ArrayElement:
    """One element of a streamed JSON array, with the byte span of its JSON text."""

    index: int
    offset: int
    end: int
    json: object | None
    received_at: float | None


@dataclass(frozen=True, slots=True)
class JsonArrayStream:
    """A decoded JSON-array body: elements, the exact bytes between them, and framing findings."""

    elements: tuple[ArrayElement, ...]
    findings: tuple[Finding, ...]
    separators: tuple[bytes, ...]
    total_bytes: int
    closed: bool

    @property
    def codes(self) -> frozenset[str]:
        """The distinct finding codes."""
        return frozenset(f.code for f in self.findings)


# ---------------------------------------------------------------------------------------------
# shared helpers

_BOM: Final = b"\xef\xbb\xbf"
_SNIP: Final = 40


class _NonStandardConstant(ValueError):
    """NaN, Infinity or -Infinity: accepted by Python's json module, not JSON."""


def _reject_constant(name: str) -> object:
    raise _NonStandardConstant(f"non-standard constant {name}")


_DECODER: Final = JSONDecoder(parse_constant=_reject_constant)
_SCAN: Final[Callable[[str, int], tuple[object, int]]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _snip(text: str | bytes) -> str:
    """A short one-line quotation of wire text for a message."""
    cut = text[:_SNIP]
    shown = repr(cut)
    return shown + "..." if len(text) > _SNIP else shown


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _where(offset: int, kind: str, index: int | None) -> str:
    return f"{kind} {index} (byte {offset})" if index is not None else f"byte {offset}"


_Arrival = Callable[[int], float | None]


def _arrival(chunk_times: Sequence[tuple[int, float]] | None) -> _Arrival:
    """Map an exclusive end offset to the time the byte before it arrived."""
    if not chunk_times:
        return lambda end: None
    pairs = sorted((int(count), float(seconds)) for count, seconds in chunk_times)
    counts = [count for count, _ in pairs]
    times = [seconds for _, seconds in pairs]

    def at(end: int) -> float | None:
        i = bisect_left(counts, end)
        return times[i] if i < len(times) else None

    return at


# ---------------------------------------------------------------------------------------------
# Server-Sent Events

_JSON_WS: Final = " \t\n\r"


def _parse_payload(data: str) -> tuple[object | None, str | None, str, int]:
    """Parse one JSON payload: (value, finding code or None, detail, char position of the problem)."""
    if data and data[0] not in _JSON_WS:  # fast path: the C scanner, no whitespace handling
        try:
            value, stop = _SCAN(data, 0)
        except (StopIteration, ValueError, RecursionError):
            pass
        else:
            if stop == len(data):
                return value, None, "", 0
    try:
        return _DECODER.decode(data), None, "", 0
    except JSONDecodeError as err:
        if err.msg == "Extra data":
            return None, "payload-not-one-value", "text follows the first JSON value", err.pos
        if not data.strip(_JSON_WS):
            return None, "payload-not-json", "payload is empty", 0
        return None, "payload-not-json", err.msg, err.pos
    except RecursionError:
        return None, "payload-not-json", "nesting too deep", 0
    except ValueError as err:
        return None, "payload-not-json", _one_line(str(err)), 0


class _Block:
    """The lines of one SSE block seen so far (mutable, internal)."""

    __slots__ = ("start", "last_eol", "fields", "data", "event_type", "has_field", "pending")

    def __init__(self, start: int) -> None:
        self.start = start
        self.last_eol = start
        self.fields: list[tuple[str, str]] = []
        self.data: list[tuple[int, int, str]] = []  # (value start, value stop, value)
        self.event_type: str | None = None
        self.has_field = False
        self.pending: list[tuple[str, int, str]] = []


class _SseDecoder:
    """One run of the SSE line parser over a complete body."""

    def __init__(self, raw: bytes, arrival: _Arrival) -> None:
        self.raw = raw
        self.arrival = arrival
        self.events: list[SseEvent] = []
        self.findings: list[Finding] = []
        self.block: _Block | None = None
        self.done_index: int | None = None
        self.blank_start: int | None = None
        self.blank_count = 0

    # -- driver

    def run(self) -> SseStream:
        raw = self.raw
        n = len(raw)
        pos = 0
        if raw.startswith(_BOM):
            self._note("bom", 0, "stream starts with a UTF-8 byte order mark")
            pos = len(_BOM)
        # bytes.splitlines splits at exactly CRLF, LF and CR: the SSE line endings
        crlf = lf = cr = 0
        first: dict[str, int] = {}
        line_at = self._line
        for line in (raw[pos:] if pos else raw).splitlines(True):
            size = len(line)
            tail = line[-1]
            if tail == 0x0A:
                if size > 1 and line[-2] == 0x0D:
                    width = 2
                    crlf += 1
                    if crlf == 1:
                        first["crlf"] = pos + size - 2
                else:
                    width = 1
                    lf += 1
                    if lf == 1:
                        first["lf"] = pos + size - 1
            elif tail == 0x0D:
                width = 1
                cr += 1
                if cr == 1:
                    first["cr"] = pos + size - 1
            else:
                width = 0
            line_at(pos, line[: size - width] if width else line, pos + size)
            pos += size
        self._end_blank_run()
        block = self.block
        if block is not None:
            self.block = None
            last = "has no line ending" if block.last_eol == n else "ends with a line ending"
            block.pending.append(
                (
                    "unterminated-event",
                    n,
                    f"stream ended without the blank line that ends the block starting at byte "
                    f"{block.start} (last line {last})",
                )
            )
            self._finish(block, b"", n)
        return self._result({"crlf": crlf, "lf": lf, "cr": cr}, first)

    def _result(self, counts: dict[str, int], first: dict[str, int]) -> SseStream:
        n = len(self.raw)
        kinds = sorted(first, key=first.__getitem__)
        line_ending: LineEnding = "none"
        if len(kinds) == 1:
            line_ending = "crlf" if kinds[0] == "crlf" else ("lf" if kinds[0] == "lf" else "cr")
        elif kinds:
            line_ending = "mixed"
        starts = [e.offset for e in self.events]
        for kind in ("lf", "cr"):
            if kind in first:
                self._note_at_event(
                    f"{kind}-line-endings",
                    first[kind],
                    f"{counts[kind]} line(s) end with a bare {kind.upper()}, the first here",
                    starts,
                )
        if len(kinds) > 1:
            used = ", ".join(f"{counts[k]} {k.upper()}" for k in kinds)
            self._note_at_event(
                "mixed-line-endings",
                first[kinds[1]],
                f"line endings are mixed ({used}); the first one that is not {kinds[0].upper()} is here",
                starts,
            )
        if not self.events:
            self._note("no-events", 0, f"stream of {n} bytes dispatches no event")
        self.findings.sort(key=lambda f: f.offset)
        return SseStream(tuple(self.events), tuple(self.findings), line_ending, n)

    # -- bookkeeping

    def _note(self, code: str, offset: int, detail: str, event: int | None = None) -> None:
        self.findings.append(Finding(code, f"{_where(offset, 'event', event)}: {detail}", offset, event))

    def _note_at_event(self, code: str, offset: int, detail: str, starts: list[int]) -> None:
        i = bisect_right(starts, offset) - 1
        event = i if i >= 0 and offset < self.events[i].end else None
        self._note(code, offset, detail, event)

    def _end_blank_run(self) -> None:
        if self.blank_start is not None:
            self._note(
                "extra-blank-line",
                self.blank_start,
                f"{self.blank_count} blank line(s) outside any event",
            )
            self.blank_start = None
            self.blank_count = 0

    @staticmethod
    def _text(block: _Block, chunk: bytes, at: int) -> str:
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError as err:
            block.pending.append(
                ("invalid-utf8", at + err.start, f"invalid UTF-8 byte(s) {chunk[err.start : err.end]!r}")
            )
            return chunk.decode("utf-8", "replace")

    # -- lines

    def _line(self, start: int, line: bytes, eol_end: int) -> None:
        """Handle one line: `line` is its content without the line ending, which ends at `eol_end`."""
        block = self.block
        if not line:
            if block is None:
                if self.blank_start is None:
                    self.blank_start = start
                self.blank_count += 1
            else:
                self.block = None
                self._finish(block, self.raw[block.last_eol : eol_end], eol_end)
            return
        if self.blank_start is not None:
            self._end_blank_run()
        if block is None:
            block = self.block = _Block(start)
        stop = start + len(line)
        block.last_eol = stop
        text = self._text
        if line.startswith(b"data: "):  # the common case
            block.has_field = True
            value = text(block, line[6:], start + 6)
            block.fields.append(("data", value))
            block.data.append((start + 6, stop, value))
            return
        colon = line.find(b":")
        if colon == 0:
            comment = text(block, line[1:], start + 1)
            block.pending.append(("comment-line", start, f"comment line {_snip(comment)}"))
            return
        block.has_field = True
        if colon < 0:
            name = text(block, line, start)
            value = ""
            value_at = stop
            block.pending.append(
                ("field-without-colon", start, f"line {_snip(name)} has no ':' (a field with an empty value)")
            )
        else:
            name = text(block, line[:colon], start)
            skip = colon + 1
            if skip < len(line):
                if line[skip] == 0x20:
                    skip += 1
                else:
                    block.pending.append(
                        ("no-space-after-colon", start + colon, f"no space after ':' in field {_snip(name)}")
                    )
            value_at = start + skip
            value = text(block, line[skip:], value_at)
        block.fields.append((name, value))
        if name == "data":
            block.data.append((value_at, stop, value))
        elif name == "event":
            block.event_type = value
            block.pending.append(("event-field", start, f"event field {_snip(value)}"))
        elif name == "id":
            note = " (ignored by clients: contains NUL)" if "\x00" in value else ""
            block.pending.append(("id-field", start, f"id field {_snip(value)}{note}"))
        elif name == "retry":
            note = "" if value.isascii() and value.isdigit() else " (ignored by clients: not digits)"
            block.pending.append(("retry-field", start, f"retry field {_snip(value)}{note}"))
        else:
            block.pending.append(
                ("unknown-field", start, f"unknown field {_snip(name)} (ignored by clients)")
            )

    # -- blocks

    def _finish(self, block: _Block, terminator: bytes, end: int) -> None:
        if not block.data:
            if block.has_field:
                block.pending.append(
                    (
                        "undispatched-block",
                        block.start,
                        "block has fields but no data line; nothing is dispatched",
                    )
                )
            for code, offset, detail in block.pending:
                self._note(code, offset, detail)
            return
        index = len(self.events)
        pending = block.pending
        data_lines = block.data
        data = data_lines[0][2] if len(data_lines) == 1 else "\n".join(v for _, _, v in data_lines)
        if len(data_lines) > 1:
            pending.append(("multiline-data", data_lines[1][0], f"{len(data_lines)} data lines in one event"))
        if self.done_index is not None:
            pending.append(
                (
                    "event-after-done",
                    block.start,
                    f"event after the [DONE] sentinel of event {self.done_index}",
                )
            )
        value: object | None = None
        is_done = data == "[DONE]"
        if is_done:
            pending.append(("done-sentinel", data_lines[0][0], "[DONE] sentinel"))
            if self.done_index is None:
                self.done_index = index
        else:
            value, problem, detail, char_at = _parse_payload(data)
            if problem is not None:
                at = _payload_byte(self.raw, data_lines, char_at)
                pending.append((problem, at, f"{_payload_label(problem)}: {detail}"))
            elif not isinstance(value, dict):
                pending.append(
                    (
                        "payload-not-object",
                        data_lines[0][0],
                        f"payload is a JSON {type(value).__name__}, not an object",
                    )
                )
            if data and (data[0] in _JSON_WS or data[-1] in _JSON_WS):
                pending.append(
                    ("payload-whitespace", data_lines[0][0], "payload has leading or trailing whitespace")
                )
        for code, offset, detail in pending:
            self._note(code, offset, detail, index)
        self.events.append(
            SseEvent(
                index=index,
                offset=block.start,
                end=end,
                fields=tuple(block.fields),
                data=data,
                event_type=block.event_type,
                terminator=terminator,
                json=value,
                is_done=is_done,
                received_at=self.arrival(end),
            )
        )


def _payload_label(code: str) -> str:
    return "payload is not one JSON value" if code == "payload-not-one-value" else "payload is not JSON"


def _payload_byte(raw: bytes, data_lines: list[tuple[int, int, str]], char_at: int) -> int:
    """The byte offset in the body of character `char_at` of the data lines joined with LF."""
    line_start = 0
    for value_at, value_stop, value in data_lines:
        if char_at <= line_start + len(value):
            return value_at + _char_to_byte(raw[value_at:value_stop], value, char_at - line_start)
        line_start += len(value) + 1
    return data_lines[-1][1]


def _char_to_byte(chunk: bytes, text: str, chars: int) -> int:
    """The byte offset in `chunk` of character `chars` of `text`, its replacement-decoded form.

    Inside a run of invalid bytes (each ill-formed subsequence became one U+FFFD) the answer is
    the start of the run.
    """
    if len(text) == len(chunk):  # one byte per character
        return chars
    if "\ufffd" not in text:
        return len(text[:chars].encode("utf-8"))
    seen = 0
    byte = 0
    for piece in _PIECES.findall(chunk.decode("utf-8", "surrogateescape")):
        raw_piece = piece.encode("utf-8", "surrogateescape")
        invalid = "\udc80" <= piece[0] <= "\udcff"
        count = len(raw_piece.decode("utf-8", "replace")) if invalid else len(piece)
        if chars < seen + count:
            return byte if invalid else byte + len(piece[: chars - seen].encode("utf-8"))
        seen += count
        byte += len(raw_piece)
    return byte


_PIECES: Final = re.compile("[\udc80-\udcff]+|[^\udc80-\udcff]+")


def decode_sse(raw: bytes, chunk_times: Sequence[tuple[int, float]] | None = None) -> SseStream:
    """Decode an SSE body per the WHATWG event-stream rules, reporting framing facts as findings.

    Events are the blocks a WHATWG client would dispatch (those with a data line), plus a final
    block with data that the stream ended inside (terminator `b""`, finding `unterminated-event`),
    which a client would drop. `chunk_times` holds (cumulative bytes, seconds) per network chunk.
    """
    raw = bytes(raw)
    if not raw:
        return SseStream((), (Finding("empty-stream", "byte 0: stream is empty", 0, None),), "none", 0)
    return _SseDecoder(raw, _arrival(chunk_times)).run()


# ---------------------------------------------------------------------------------------------
# JSON array

_WS: Final = re.compile(r"[ \t\n\r]+")
_ESCAPED: Final = re.compile("[\udc80-\udcff]+")


def _skip_ws(text: str, pos: int) -> int:
    """The position of the first character at or after `pos` that is not JSON whitespace."""
    m = _WS.match(text, pos)
    return m.end() if m else pos


class _ByteOffsets:
    """Maps character positions of the surrogate-escaped text to byte offsets of the body."""

    def __init__(self, text: str, ascii_only: bool) -> None:
        self.text = text
        self.ascii_only = ascii_only
        self.char = 0
        self.byte = 0

    def __call__(self, char: int) -> int:
        if self.ascii_only:
            return char
        if char < self.char:
            self.char = self.byte = 0
        self.byte += len(self.text[self.char : char].encode("utf-8", "surrogateescape"))
        self.char = char
        return self.byte


def decode_json_array(raw: bytes, chunk_times: Sequence[tuple[int, float]] | None = None) -> JsonArrayStream:
    """Decode a streamed JSON array (`[`, elements separated by `,`, `]`), keeping exact separators.

    Decoding stops at the first malformed element. `closed` is true only when the closing `]` was
    seen; otherwise there is an `array-not-closed` finding. `chunk_times` is as for `decode_sse`.
    """
    raw = bytes(raw)
    n = len(raw)
    findings: list[Finding] = []

    def note(code: str, offset: int, detail: str, element: int | None = None) -> None:
        findings.append(Finding(code, f"{_where(offset, 'element', element)}: {detail}", offset, element))

    def result(closed: bool) -> JsonArrayStream:
        findings.sort(key=lambda f: f.offset)
        return JsonArrayStream(tuple(elements), tuple(findings), tuple(separators), n, closed)

    elements: list[ArrayElement] = []
    separators: list[bytes] = []
    if not raw:
        note("empty-stream", 0, "stream is empty")
        return result(False)
    arrival = _arrival(chunk_times)
    ascii_only = raw.isascii()
    text = raw.decode("ascii") if ascii_only else raw.decode("utf-8", "surrogateescape")
    to_byte = _ByteOffsets(text, ascii_only)
    length = len(text)
    pos = 0
    if not ascii_only:
        bad = _ESCAPED.search(text)
        if bad is not None:
            total = sum(len(m.group()) for m in _ESCAPED.finditer(text))
            at = _ByteOffsets(text, False)(bad.start())
            note("invalid-utf8", at, f"invalid UTF-8 byte(s) here ({total} invalid byte(s) in all)")
        if text.startswith("\ufeff"):
            note("bom", 0, "stream starts with a UTF-8 byte order mark")
            pos = 1

    start = _skip_ws(text, pos)
    if start > pos:
        note("leading-whitespace", to_byte(pos), f"{start - pos} whitespace character(s) before '['")
    if start == length:
        note("array-not-started", to_byte(start), "stream ended before '['")
        return result(False)
    if text[start] != "[":
        note(
            "array-not-started",
            to_byte(start),
            f"stream starts with {_snip(text[start : start + _SNIP + 1])}, not '['",
        )
        return result(False)

    pos = start + 1
    commas: list[int] = []
    while True:
        at = _skip_ws(text, pos)
        if at == length:
            last = f"after element {len(elements) - 1}" if elements else "before any element"
            note("array-not-closed", n, f"stream ended {last} without the closing ']'")
            return result(False)
        char = text[at]
        if char == "]":
            if commas and elements:
                note("trailing-comma", to_byte(commas[0]), "',' after the last element", len(elements) - 1)
            pos = at + 1
            break
        if char == ",":
            if len(commas) == (1 if elements else 0):  # the first comma that follows no element
                after = f" (after element {len(elements) - 1})" if elements else ""
                note("extra-comma", to_byte(at), f"',' with no element before it{after}")
            commas.append(at)
            pos = at + 1
            continue
        index = len(elements)
        if elements and not commas:
            note(
                "missing-comma", to_byte(at), f"no ',' between element {index - 1} and element {index}", index
            )
        try:
            value, stop = _DECODER.raw_decode(text, at)
        except JSONDecodeError as err:
            ended = " (at end of stream)" if _skip_ws(text, err.pos) == length else ""
            note("malformed-json", to_byte(err.pos), f"malformed JSON: {err.msg}{ended}", index)
            note(
                "array-not-closed",
                n,
                f"stream ended without the closing ']' (decoding stopped in element {index})",
            )
            return result(False)
        except (ValueError, RecursionError) as err:
            detail = "nesting too deep" if isinstance(err, RecursionError) else _one_line(str(err))
            note("malformed-json", to_byte(at), f"malformed JSON: {detail}", index)
            note(
                "array-not-closed",
                n,
                f"stream ended without the closing ']' (decoding stopped in element {index})",
            )
            return result(False)
        offset = to_byte(at)
        end = to_byte(stop)
        if elements:
            separators.append(raw[elements[-1].end : offset])
        if not isinstance(value, dict):
            note(
                "element-not-object",
                offset,
                f"element is a JSON {type(value).__name__}, not an object",
                index,
            )
        elements.append(ArrayElement(index, offset, end, value, arrival(end)))
        commas.clear()
        pos = stop

    if not elements:
        note("empty-array", to_byte(start), "array has no elements")
    rest = _skip_ws(text, pos)
    if rest < length:
        note("trailing-bytes", to_byte(rest), f"{_snip(text[rest : rest + _SNIP + 1])} after the closing ']'")
    return result(True)
