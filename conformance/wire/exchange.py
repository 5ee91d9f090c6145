"""The exchange: one request as sent and what came back, the only thing checks read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from conformance.errors import Undecodable


@dataclass(frozen=True)
class SentRequest:
    """A request exactly as it went on the wire (secrets included; redact before reporting).

    A body too large to hold is sent from ``stream`` (called once per send). When ``body_size`` is
    set, ``body`` keeps only the first bytes (as the transport records a large body after sending it).
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    stream: Callable[[], AsyncIterator[bytes]] | None = None
    body_size: int | None = None

    @property
    def size(self) -> int:
        """The body's full length in bytes."""
        return len(self.body) if self.body_size is None else self.body_size

    @property
    def body_truncated(self) -> bool:
        """Whether ``body`` holds only the start of what was sent."""
        return self.size > len(self.body)


@dataclass(frozen=True)
class Retry:
    """An answer that was retried (429 or 503): its status, its Retry-After header, the wait after it."""

    status: int
    retry_after: str | None
    waited: float


@dataclass(frozen=True)
class Exchange:
    """A request, its response bytes and timings, or the transport error that ended it.

    Times are seconds from the start of the request: ``headers_at`` when the status and headers arrived,
    ``ttfb`` the first body byte, ``chunks`` (bytes so far, time) per piece read, ``elapsed`` the end.
    """

    request: SentRequest
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    body_truncated: bool = False
    chunks: tuple[tuple[int, float], ...] = ()
    ttfb: float | None = None
    headers_at: float | None = None
    elapsed: float = 0.0
    error: str | None = None
    retries: int = 0
    retry_log: tuple[Retry, ...] = ()

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def media_type(self) -> str:
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    @cached_property
    def _decoded(self) -> tuple[bool, Any, str]:
        try:
            return True, json.loads(self.body.decode("utf-8")), ""
        except UnicodeDecodeError as exc:
            return False, None, f"body is not UTF-8 (byte {exc.start})"
        except json.JSONDecodeError as exc:
            snippet = self.body[:80].decode("utf-8", "replace")
            reason = (
                "body is empty"
                if not self.body.strip()
                else f"body is not JSON ({exc.msg} at char {exc.pos}): {snippet!r}"
            )
            return False, None, reason

    def json(self) -> Any:
        """The body parsed as JSON; raises ``Undecodable`` with a clear reason otherwise."""
        ok, value, reason = self._decoded
        if not ok:
            if self.body_truncated:
                reason += " (body was cut at the capture limit)"
            raise Undecodable(reason)
        return value

    @property
    def is_json(self) -> bool:
        return self._decoded[0]


ProbeOutcome = Literal["returned", "raised"]


@dataclass(frozen=True)
class ProbeExchange(Exchange):
    """An official SDK's call and what it gave back, in the shape checks read.

    ``request`` describes the call (method ``SDK``, the SDK and call as the URL, the call's arguments and
    the HTTP requests the SDK made as the body). ``status`` is the last HTTP status the SDK received;
    ``body`` is JSON: the returned object's attributes as user code reads them (a JSON array of them, one
    per chunk, for a stream), or the raised exception's attributes. ``classes`` are the qualified names
    of the returned object's class (a chunk's, an item's) or of the exception's classes, most derived
    first. A probe that got no answer at all (no connection, a timeout) is a transport error instead.
    """

    sdk: str = ""
    outcome: ProbeOutcome = "returned"
    classes: tuple[str, ...] = ()
    streamed: bool = False
