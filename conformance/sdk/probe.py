"""One SDK probe step: the SDK's async client pointed at the provider, called, and what came of it recorded.

The client gets the provider's base URL and prefix (``clients.endpoint``), its key, its timeouts (the
SDK's own request timeout, and the probe's hard limit of the provider's total timeout around the whole
call, stream included), its retry policy for 429 and 503 answers, its TLS trust (``ca_bundle``), no
proxy from the environment and no redirects, like the raw transport. Each HTTP request the SDK makes is
noted (method, URL, status) for the evidence.

What came of the call is a ``ProbeExchange``: ``returned`` with the dump of the result (``calls.dump``),
or ``raised`` with the dump of the exception when the SDK raised after an answer came. A call that got
no answer at all (no connection, a reset, a timeout) is a transport error, as for a raw request: the
case is errored and the circuit breaker counts it. A probe cancelled by the run (the breaker,
``--max-duration``, Ctrl-C) closes its client and stream on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from conformance.sdk.calls import CALLS, chunks_of, class_names, dump, dump_exception, sdk_arguments
from conformance.sdk.clients import endpoint, version
from conformance.suite.bodies import PayloadError, build_body
from conformance.suite.model import SdkCall, SdkName
from conformance.suite.templates import fill_model
from conformance.wire.exchange import ProbeExchange, SentRequest
from conformance.wire.profiles import Provider
from conformance.wire.retry import RETRIED_STATUSES
from conformance.wire.transport import INVALID_KEY, tls_context

JSON_HEADERS = (("content-type", "application/json"),)
"""The Content-Type of a probe's recorded outcome (a JSON dump, not the HTTP response's own)."""


class Notes:
    """The HTTP requests an SDK made during a probe: a line each, the first request's headers, statuses."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.headers: tuple[tuple[str, str], ...] = ()
        self.statuses: list[int] = []

    async def request(self, request: Any) -> None:
        if not self.lines:
            self.headers = tuple((str(k), str(v)) for k, v in request.headers.items())
        self.lines.append(f"{request.method} {request.url}")

    async def response(self, response: Any) -> None:
        self.statuses.append(response.status_code)
        if self.lines:
            self.lines[-1] += f" -> {response.status_code}"


def arguments(call: SdkCall, args: Any, model: str) -> dict[str, Any]:
    """The call's keyword arguments as JSON: ``{model}`` filled in and ``$media`` expanded."""
    expanded = json.loads(build_body(fill_model(args if args is not None else {}, model)).materialize())
    if not isinstance(expanded, dict):
        raise PayloadError(f"{call.sdk} {call.call}: args must be an object")
    return expanded


async def run_probe(
    provider: Provider, api_key: str | None, call: SdkCall, args: Any, model: str | None = None
) -> ProbeExchange:
    """Make the call with the SDK against the provider's route (on ``model``, by default the provider's
    default model); never raises but for cancellation."""
    sdk = call.sdk
    spec = CALLS[sdk][call.call]
    plain = arguments(call, args, model or provider.default_model)
    try:
        typed = sdk_arguments(sdk, call.call, plain)
    except Exception as exc:  # the SDK's types refuse the case's arguments: a case problem
        raise PayloadError(f"{sdk} cannot read the arguments of {call.call}: {exc}") from None
    notes = Notes()
    label = f"{sdk} {version(sdk)}: {call.call}"
    started = time.perf_counter()

    def request() -> SentRequest:
        shown = {"call": call.call, "args": plain, "http": notes.lines}
        body = json.dumps(shown, ensure_ascii=False, indent=1).encode("utf-8")
        return SentRequest(method="SDK", url=label, headers=notes.headers, body=body)

    def since() -> float:
        return time.perf_counter() - started

    key = INVALID_KEY if call.auth == "invalid" else api_key
    http = _http_client(sdk, provider, notes)
    client = _client(sdk, provider, key, http)
    streamed = call.stream != "none" or spec.shape == "items"
    pieces: list[tuple[bytes, float]] = []
    first_class: tuple[str, ...] = ()
    total = provider.timeouts.total
    try:
        async with asyncio.timeout(total):
            result = await spec.make(client, typed)
            if not streamed:
                value_body = json.dumps(dump(sdk, result), ensure_ascii=False).encode("utf-8")
                return ProbeExchange(
                    request=request(),
                    status=notes.statuses[-1] if notes.statuses else 200,
                    headers=JSON_HEADERS,
                    body=value_body,
                    ttfb=since(),
                    elapsed=since(),
                    sdk=label,
                    outcome="returned",
                    classes=class_names(result),
                )
            async for item in _items(result, spec.shape):
                if not first_class:
                    first_class = class_names(item)
                pieces.append((json.dumps(dump(sdk, item), ensure_ascii=False).encode("utf-8"), since()))
    except TimeoutError:
        return _failed(request(), since(), f"{label} timed out after {total:g} s (total limit)", label)
    except Exception as exc:
        problem = _transport_failure(exc)
        if problem is not None or not notes.statuses:
            return _failed(request(), since(), f"{label}: {problem or _describe(exc)}", label)
        return ProbeExchange(
            request=request(),
            status=notes.statuses[-1],
            headers=JSON_HEADERS,
            body=json.dumps(dump_exception(exc), ensure_ascii=False, default=str).encode("utf-8"),
            ttfb=since(),
            elapsed=since(),
            sdk=label,
            outcome="raised",
            classes=class_names(exc),
        )
    finally:
        await _close(sdk, client, http)
    body, chunks = _array(pieces)
    return ProbeExchange(
        request=request(),
        status=notes.statuses[-1] if notes.statuses else 200,
        headers=JSON_HEADERS,
        body=body,
        chunks=chunks,
        ttfb=pieces[0][1] if pieces else since(),
        elapsed=since(),
        sdk=label,
        outcome="returned",
        classes=first_class,
        streamed=True,
    )


async def _items(result: Any, shape: str) -> Any:
    """The chunks of a stream or the items of a listing (at most ``MAX_ITEMS`` of a listing)."""
    from conformance.sdk.calls import MAX_ITEMS

    count = 0
    async for item in chunks_of(result):
        yield item
        count += 1
        if shape == "items" and count >= MAX_ITEMS:
            break


def _array(pieces: list[tuple[bytes, float]]) -> tuple[bytes, tuple[tuple[int, float], ...]]:
    """The dumps as one JSON array, with the byte offset each element ends at and when it was yielded."""
    body = bytearray(b"[")
    chunks: list[tuple[int, float]] = []
    for n, (piece, at) in enumerate(pieces):
        body += (b",\n" if n else b"") + piece
        chunks.append((len(body), at))
    body += b"]"
    if chunks:
        chunks[-1] = (len(body), chunks[-1][1])
    return bytes(body), tuple(chunks)


def _failed(request: SentRequest, elapsed: float, error: str, label: str) -> ProbeExchange:
    return ProbeExchange(request=request, elapsed=elapsed, error=error, sdk=label)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or repr(exc)
    return f"{type(exc).__name__}: {text}"


def _transport_failure(exc: BaseException) -> str | None:
    """What went wrong when an exception (or one it wraps) is a failure to get an answer, else None."""
    kinds = _transport_error_classes()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            return _describe(current)
        current = current.__cause__ or current.__context__
    return None


def _transport_error_classes() -> tuple[type[BaseException], ...]:
    """httpx's and httpx2's transport errors, and openai's connection error (its timeout included)."""
    import httpx

    kinds: list[type[BaseException]] = [httpx.TransportError]
    try:
        import httpx2

        kinds.append(httpx2.TransportError)
    except ImportError:
        pass
    try:
        import openai

        kinds.append(openai.APIConnectionError)
    except ImportError:
        pass
    return tuple(kinds)


def _http_client(sdk: SdkName, provider: Provider, notes: Notes) -> Any:
    """The SDK's own kind of async HTTP client, with the provider's TLS trust, no proxy from the
    environment, no redirects, and the notes' hooks."""
    options: dict[str, Any] = {
        "verify": tls_context(provider.ca_bundle),
        "trust_env": False,
        "follow_redirects": False,
        "event_hooks": {"request": [notes.request], "response": [notes.response]},
    }
    if sdk == "openai":
        import openai

        return openai.DefaultAsyncHttpxClient(**options)
    try:
        import httpx2  # the google-genai SDK's default HTTP library

        return httpx2.AsyncClient(**options)
    except ImportError:
        import httpx

        return httpx.AsyncClient(**options)


def _client(sdk: SdkName, provider: Provider, key: str | None, http: Any) -> Any:
    """The SDK's async client pointed at the provider's route of its protocol."""
    where = endpoint(sdk, provider)
    retry = provider.retry
    if sdk == "openai":
        import openai

        return openai.AsyncOpenAI(
            api_key=key,
            base_url=where.base_url,
            timeout=provider.timeouts.total,
            max_retries=retry.attempts,
            http_client=http,
        )
    from google import genai
    from google.genai import types

    retry_options = (
        types.HttpRetryOptions(
            attempts=retry.attempts + 1,
            initial_delay=retry.backoff,
            max_delay=retry.max_wait,
            http_status_codes=sorted(RETRIED_STATUSES),  # as the raw transport retries
        )
        if retry.attempts
        else None
    )
    # The shared context for the SDK's own (unused) sync, aiohttp and websocket clients: none loads a
    # store of its own.
    verify = {"verify": tls_context(provider.ca_bundle), "ssl": tls_context(provider.ca_bundle)}
    options = types.HttpOptions(
        base_url=where.base_url,
        api_version=where.api_version,
        timeout=int(provider.timeouts.total * 1000),
        retry_options=retry_options,
        httpx_async_client=http,
        client_args=verify,
        async_client_args=verify,
    )
    return genai.Client(vertexai=False, api_key=key, http_options=options)


async def _close(sdk: SdkName, client: Any, http: Any) -> None:
    """Close the SDK's client and the HTTP client it was given."""
    closers: list[Callable[[], Any]] = [
        client.aio.aclose if sdk == "google-genai" else client.close,
        http.aclose,
    ]
    for close in closers:
        with contextlib.suppress(Exception):  # closing must not hide the probe's outcome
            await close()
