"""The ledger: every request that reached the upstream, and the case attempts that may have caused them.

The runner issues a tag for each request it sends (``Ledger.issue``); the upstream records every request it
receives (``Ledger.record``), whatever its path and whether or not it carries a tag; the runner then collects
the requests carrying its tag (``Ledger.collect``), which the ledger then forgets, so that its memory does
not grow with the run. A recorded request is attributed when its tag was issued by this run; the rest (no
tag, or a tag this run never issued) are reported as unattributed and kept without their bodies. The ledger
is shared by the upstream's server thread and the runner's event loop, so it is locked.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from conformance.errors import Undecodable
from conformance.upstream.correlation import Tag

COLLECT_GRACE = 0.3
"""Seconds to wait for a request that has not arrived when the client's exchange ended (a gateway answers
its client after the upstream answered it, so a forwarded request is nearly always there already)."""


@dataclass(frozen=True)
class Origin:
    """What caused a request: a case, the attempt of the case (counted over its rounds) and the step."""

    case_id: str
    attempt: int
    step: int
    tag: Tag


@dataclass(frozen=True)
class ForwardedRequest:
    """A request as it reached the upstream, and how the upstream answered it.

    ``body`` is the raw bytes received (the tag still in them); ``content`` is the JSON body with the tags
    removed and its fields under their lowerCamelCase names (``canonical``), or None when the body was not
    JSON (``problem`` says why). ``received`` is ``time.monotonic()`` at arrival; ``status`` is the HTTP
    status the upstream answered with (None while it has not answered).
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes
    content: Any
    tags: tuple[Tag, ...]
    received: float
    problem: str | None = None
    status: int | None = None

    @property
    def tag(self) -> Tag | None:
        """The first tag found in the body (a gateway that duplicates a text duplicates its tag)."""
        return self.tags[0] if self.tags else None

    @property
    def target(self) -> str:
        """The path and query as they came (``/v1beta/models/m:generateContent?alt=sse``)."""
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def query_values(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]

    def json(self) -> Any:
        """The canonical JSON body; raises ``Undecodable`` when the body was not JSON."""
        if self.problem is not None:
            raise Undecodable(f"the forwarded body {self.problem}")
        return self.content

    @staticmethod
    def read_body(body: bytes) -> tuple[Any, str | None]:
        """The JSON value of a body, or None and why it is not JSON."""
        if not body.strip():
            return None, "is empty"
        try:
            return json.loads(body.decode("utf-8")), None
        except UnicodeDecodeError as exc:
            return None, f"is not UTF-8 (byte {exc.start})"
        except json.JSONDecodeError as exc:
            return None, f"is not JSON ({exc.msg} at char {exc.pos})"


@dataclass(frozen=True)
class UpstreamFacts:
    """What checks know of the run's upstream: its base URL and key, and the keys the suite gives the gateway
    (which must never reach the upstream)."""

    base_url: str
    key: str
    client_keys: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        """``host:port`` of the base URL."""
        return self.base_url.split("://", 1)[-1].rstrip("/")


class Ledger:
    """The requests that reached the upstream, and the tags issued for the requests the suite sent."""

    def __init__(self, on_record: Callable[[ForwardedRequest], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._origins: dict[str, Origin] = {}
        self._requests: dict[int, ForwardedRequest] = {}
        self._by_nonce: dict[str, list[int]] = {}
        self._done: set[str] = set()
        self._count = 0
        self._on_record = on_record

    def issue(self, case_id: str, attempt: int, step: int, scenario: str | None = None) -> Origin:
        """A fresh tag for one request of a case attempt."""
        with self._lock:
            while True:
                nonce = secrets.token_hex(8)
                if nonce not in self._origins:
                    break
            origin = Origin(case_id, attempt, step, Tag(nonce, scenario))
            self._origins[nonce] = origin
            return origin

    def record(self, request: ForwardedRequest) -> int:
        """Keep a request that reached the upstream; returns its index for ``answered``."""
        if self._on_record is not None:
            self._on_record(request)
        with self._lock:
            attributed = any(tag.nonce in self._origins for tag in request.tags)
            if not attributed or all(tag.nonce in self._done for tag in request.tags):
                request = replace(request, body=b"", content=None)  # reported or too late: never judged
            index = self._count
            self._count += 1
            self._requests[index] = request
            for tag in dict.fromkeys(request.tags):
                self._by_nonce.setdefault(tag.nonce, []).append(index)
        return index

    def answered(self, index: int, status: int) -> None:
        """Note the status the upstream answered request ``index`` with."""
        with self._lock:
            if index in self._requests:
                self._requests[index] = replace(self._requests[index], status=status)

    def requests_of(self, nonce: str) -> tuple[ForwardedRequest, ...]:
        """The requests carrying a tag that the ledger still holds, in arrival order."""
        with self._lock:
            return tuple(self._requests[i] for i in self._by_nonce.get(nonce, ()) if i in self._requests)

    async def collect(self, nonce: str, grace: float = COLLECT_GRACE) -> tuple[ForwardedRequest, ...]:
        """The requests carrying a tag, waiting up to ``grace`` seconds for a first one (or for it to be
        answered) before deciding that none came; the ledger forgets them once they are collected."""
        deadline = time.monotonic() + grace
        while True:
            found = self.requests_of(nonce)
            if (found and all(r.status is not None for r in found)) or time.monotonic() >= deadline:
                self.forget(nonce)
                return found
            await asyncio.sleep(0.01)

    def forget(self, nonce: str) -> None:
        """Drop the requests carrying a tag (a step whose forwarded requests nobody judges, or that were
        collected); any that arrive later are counted without their bodies."""
        with self._lock:
            self._done.add(nonce)
            for index in self._by_nonce.pop(nonce, ()):
                self._requests.pop(index, None)

    def origin(self, request: ForwardedRequest) -> Origin | None:
        """The attempt that caused a request, when its tag was issued by this run."""
        with self._lock:
            return next((self._origins[t.nonce] for t in request.tags if t.nonce in self._origins), None)

    @property
    def requests(self) -> tuple[ForwardedRequest, ...]:
        """The requests the ledger holds: those not collected yet, and the unattributed ones."""
        with self._lock:
            return tuple(self._requests.values())

    @property
    def count(self) -> int:
        """How many requests reached the upstream in all."""
        with self._lock:
            return self._count

    def unattributed(self) -> list[tuple[ForwardedRequest, str]]:
        """Every recorded request no tag of this run accounts for, with why."""
        out = []
        for request in self.requests:
            if self.origin(request) is not None:
                continue
            if request.tags:
                reason = f"its tag {request.tags[0].text} was not issued by this run"
            elif request.problem is not None:
                reason = f"no tag: the body {request.problem}"
            else:
                reason = "no tag in the body (the gateway's own request, or content the gateway rewrote)"
            out.append((request, reason))
        return out


@dataclass(frozen=True)
class UpstreamLink:
    """What the runner needs of the upstream: the ledger to issue tags and collect requests, and the facts
    checks read."""

    ledger: Ledger
    facts: UpstreamFacts
