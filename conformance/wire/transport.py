"""Sending case requests to a gateway: URL, auth style, timeouts and bounded capture."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import time
from functools import cache
from typing import Any

import certifi
import httpx

from conformance.suite.bodies import PREVIEW_BYTES, STREAM_THRESHOLD, build_body
from conformance.suite.model import RequestSpec
from conformance.suite.templates import fill_model
from conformance.wire.exchange import Exchange, Retry, SentRequest
from conformance.wire.profiles import Provider

INVALID_KEY = "conformance-invalid-key-0000"
DEFAULT_BODY_CAP = 8 * 1024 * 1024
"""Bytes of a response body (or stream) captured; the rest is never read."""
ERROR_DETAIL_LIMIT = 240
"""Characters of a transport error's text kept in its message: a parser's complaint may quote kilobytes of the
gateway's garbage, and the message is repeated in every case's record and on the console."""
MAX_CHUNK_TIMES = 4096
"""Arrival times kept per response: past this, each new piece moves the last record forward instead of adding
one (a gateway dripping a byte at a time would otherwise cost memory per byte)."""


class Transport:
    """Builds and sends requests for one provider; every call returns an ``Exchange``, never raises."""

    def __init__(self, provider: Provider, api_key: str | None, *, body_cap: int = DEFAULT_BODY_CAP) -> None:
        if not provider.base_url:
            raise ValueError("provider has no base URL")
        self.base_url: str = provider.base_url
        self.provider = provider
        self.api_key = api_key
        self.body_cap = body_cap
        timeouts = provider.timeouts
        self._timeout = httpx.Timeout(
            connect=timeouts.connect, read=timeouts.read, write=timeouts.read, pool=timeouts.total
        )
        self._tls = tls_context(provider.ca_bundle)
        self._idle: list[httpx.AsyncClient] = []
        self._clients: list[httpx.AsyncClient] = []

    def _take_client(self) -> httpx.AsyncClient:
        """An idle client, or a new one: one connection each, so that a request never waits in a pool.

        httpx's pool scans every connection it holds, twice over, each time a request starts or ends; with
        one client per request in flight (at most the concurrency limit, reused), each scan is of one.
        """
        if self._idle:
            return self._idle.pop()
        client = httpx.AsyncClient(
            timeout=self._timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            trust_env=False,
            verify=self._tls,
        )
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients.clear()
        self._idle.clear()

    def build(
        self,
        protocol: str,
        spec: RequestSpec,
        body: Any,
        query: dict[str, Any] | None = None,
        *,
        model: str | None = None,
    ) -> SentRequest:
        """The request as it will go on the wire, with prefix, model (the default one unless given) and auth
        applied."""
        route = self.provider.route(protocol)
        model = model or self.provider.default_model
        url = self.base_url.rstrip("/") + route.prefix + fill_model(spec.path, model)
        query = {k: str(v) for k, v in fill_model(spec.query if query is None else query, model).items()}
        if spec.stream == "sse" and protocol == "gemini":
            query.setdefault("alt", "sse")
        headers: dict[str, str] = {"accept-encoding": "identity"}
        headers.update(fill_model(spec.headers, model))
        payload = b""
        stream = None
        size: int | None = None
        if spec.raw_body is not None:
            payload = spec.raw_body.encode("utf-8")
            headers.setdefault("content-type", "application/json")
        elif body is not None:
            built = build_body(fill_model(body, model))
            headers.setdefault("content-type", "application/json")
            if built.size > STREAM_THRESHOLD:
                stream, size, payload = built.stream, built.size, built.head(PREVIEW_BYTES)
                headers["content-length"] = str(size)
            else:
                payload = built.materialize()
        mode = spec.auth
        key = self.api_key
        style: str | None = route.auth
        if mode == "none":
            style = None
        elif mode == "invalid":
            key = INVALID_KEY
        elif mode != "profile":
            style = mode
        if style and key:
            if style == "query":
                query["key"] = key
            elif style == "x-goog-api-key":
                headers["x-goog-api-key"] = key
            else:
                headers["authorization"] = f"Bearer {key}"
        if query:
            url += "?" + str(httpx.QueryParams(query))
        return SentRequest(
            method=spec.method,
            url=url,
            headers=tuple(headers.items()),
            body=payload,
            stream=stream,
            body_size=size,
        )

    async def send(self, request: SentRequest, *, retry: bool = True) -> Exchange:
        """Send, retrying 429 and 503 answers under the provider's retry policy (unless ``retry`` is false);
        the retries are recorded."""
        from conformance.wire.retry import RETRIED_STATUSES, wait_before_retry

        policy = self.provider.retry
        log: list[Retry] = []
        while True:
            exchange = await self.send_once(request)
            if not retry or exchange.status not in RETRIED_STATUSES or len(log) >= policy.attempts:
                break
            retry_after = exchange.header("retry-after")
            wait = wait_before_retry(policy, len(log), retry_after)
            log.append(Retry(status=exchange.status or 0, retry_after=retry_after, waited=wait))
            await asyncio.sleep(wait)
        if log:
            exchange = dataclasses.replace(exchange, retries=len(log), retry_log=tuple(log))
        return exchange

    async def send_once(self, request: SentRequest) -> Exchange:
        client = self._take_client()
        try:
            return await self._send_once(client, request)
        finally:
            self._idle.append(client)

    async def _send_once(self, client: httpx.AsyncClient, request: SentRequest) -> Exchange:
        started = time.perf_counter()
        chunks: list[tuple[int, float]] = []
        body = bytearray()
        status: int | None = None
        headers: tuple[tuple[str, str], ...] = ()
        ttfb: float | None = None
        headers_at: float | None = None
        truncated = False
        error: str | None = None
        try:
            async with asyncio.timeout(self.provider.timeouts.total):
                content = request.stream() if request.stream is not None else (request.body or None)
                async with client.stream(
                    request.method, request.url, headers=list(request.headers), content=content
                ) as response:
                    status = response.status_code
                    headers = tuple(response.headers.multi_items())
                    headers_at = time.perf_counter() - started
                    async for piece in response.aiter_bytes():
                        now = time.perf_counter() - started
                        if ttfb is None:
                            ttfb = now
                        room = self.body_cap - len(body)
                        body += piece[:room]
                        if len(chunks) < MAX_CHUNK_TIMES:
                            chunks.append((len(body), now))
                        else:
                            chunks[-1] = (len(body), now)
                        if len(piece) > room:
                            truncated = True
                            error = f"response body exceeded the capture limit of {self.body_cap} bytes"
                            break
        except TimeoutError:
            limits = self.provider.timeouts
            error = f"timed out after {limits.total:g} s (total limit) with {len(body)} body bytes received"
        except httpx.TimeoutException as exc:
            limits = self.provider.timeouts
            kind = type(exc).__name__.replace("Timeout", " timeout").lower()
            error = (
                f"{kind}: no progress within the limit ({limits.read:g} s read, {limits.connect:g} s connect)"
            )
        except httpx.HTTPError as exc:
            detail = _clip(str(exc) or _root_cause(exc) or "connection failed")
            where = f" after HTTP {status} and {len(body)} body bytes" if status is not None else ""
            error = f"{type(exc).__name__}: {detail}{where}"
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {_clip(str(exc))}"
        if ttfb is None and status is not None:
            ttfb = time.perf_counter() - started
        if request.stream is None and len(request.body) > PREVIEW_BYTES:
            # Keep only what evidence shows: holding every media body of a run adds up.
            request = dataclasses.replace(
                request, body=request.body[:PREVIEW_BYTES], body_size=len(request.body)
            )
        return Exchange(
            request=request,
            status=status,
            headers=headers,
            body=bytes(body),
            body_truncated=truncated,
            chunks=tuple(chunks),
            ttfb=ttfb,
            headers_at=headers_at,
            elapsed=time.perf_counter() - started,
            error=error,
        )


@cache
def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Certificate verification is always on: against httpx's default trust store (certifi's bundle), or
    only the given CA bundle. One context per bundle, shared by every connection."""
    return ssl.create_default_context(cafile=ca_bundle or certifi.where())


def _root_cause(exc: BaseException) -> str:
    """The innermost exception of a chain that says something (``ConnectionResetError: [Errno 104] ...``)."""
    found = ""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if str(current):
            found = f"{type(current).__name__}: {current}"
        current = current.__cause__ or current.__context__
    return found


def _clip(text: str, limit: int = ERROR_DETAIL_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"
