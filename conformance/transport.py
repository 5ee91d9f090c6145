"""Sending case requests to a gateway: URL, auth style, timeouts and bounded capture."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import httpx

from conformance.checks.registry import substitute_model as substitute
from conformance.exchange import Exchange, SentRequest
from conformance.model import RequestSpec
from conformance.payloads import PREVIEW_BYTES, STREAM_THRESHOLD, build_body
from conformance.providers import Provider

INVALID_KEY = "conformance-invalid-key-0000"
DEFAULT_BODY_CAP = 8 * 1024 * 1024



class Transport:
    """Builds and sends requests for one provider; every call returns an ``Exchange``, never raises."""

    def __init__(self, provider: Provider, api_key: str | None, *, body_cap: int = DEFAULT_BODY_CAP) -> None:
        if not provider.base_url:
            raise ValueError("provider has no base URL")
        self.provider = provider
        self.api_key = api_key
        self.body_cap = body_cap
        timeouts = provider.timeouts
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(connect=timeouts.connect, read=timeouts.read, write=timeouts.read, pool=timeouts.total),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=provider.concurrency * 2, max_keepalive_connections=provider.concurrency * 2),
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def build(self, protocol: str, spec: RequestSpec, body: Any, query: dict[str, Any] | None = None) -> SentRequest:
        """The request as it will go on the wire, with prefix, model and auth applied."""
        route = self.provider.route(protocol)
        model = self.provider.default_model
        url = self.provider.base_url.rstrip("/") + route.prefix + substitute(spec.path, model)
        query = {k: str(v) for k, v in substitute(spec.query if query is None else query, model).items()}
        if spec.stream == "sse":
            query.setdefault("alt", "sse")
        headers: dict[str, str] = {"accept-encoding": "identity"}
        headers.update(substitute(spec.headers, model))
        payload = b""
        stream = None
        size: int | None = None
        if spec.raw_body is not None:
            payload = spec.raw_body.encode("utf-8")
            headers.setdefault("content-type", "application/json")
        elif body is not None:
            built = build_body(substitute(body, model))
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
            method=spec.method, url=url, headers=tuple(headers.items()), body=payload, stream=stream, body_size=size
        )

    async def send(self, request: SentRequest) -> Exchange:
        started = time.perf_counter()
        chunks: list[tuple[int, float]] = []
        body = bytearray()
        status: int | None = None
        headers: tuple[tuple[str, str], ...] = ()
        ttfb: float | None = None
        truncated = False
        error: str | None = None
        try:
            async with asyncio.timeout(self.provider.timeouts.total):
                content = request.stream() if request.stream is not None else (request.body or None)
                async with self._client.stream(
                    request.method, request.url, headers=list(request.headers), content=content
                ) as response:
                    status = response.status_code
                    headers = tuple(response.headers.multi_items())
                    async for piece in response.aiter_bytes():
                        now = time.perf_counter() - started
                        if ttfb is None:
                            ttfb = now
                        room = self.body_cap - len(body)
                        body += piece[:room]
                        chunks.append((len(body), now))
                        if len(piece) > room:
                            truncated = True
                            error = f"response body exceeded the capture limit of {self.body_cap} bytes"
                            break
        except TimeoutError:
            error = f"timed out after {self.provider.timeouts.total:g} s (total limit) with {len(body)} body bytes received"
        except httpx.TimeoutException as exc:
            kind = type(exc).__name__.replace("Timeout", " timeout").lower()
            error = f"{kind}: no progress within the limit ({self.provider.timeouts.read:g} s read, {self.provider.timeouts.connect:g} s connect)"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc or 'connection failed'}"
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if ttfb is None and status is not None:
            ttfb = time.perf_counter() - started
        if request.stream is None and len(request.body) > PREVIEW_BYTES:
            # Keep only what evidence shows: holding every media body of a run adds up.
            request = dataclasses.replace(request, body=request.body[:PREVIEW_BYTES], body_size=len(request.body))
        return Exchange(
            request=request,
            status=status,
            headers=headers,
            body=bytes(body),
            body_truncated=truncated,
            chunks=tuple(chunks),
            ttfb=ttfb,
            elapsed=time.perf_counter() - started,
            error=error,
        )
