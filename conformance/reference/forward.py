"""The reference as a forwarding gateway: clients in front, Google (or the suite's upstream) behind.

``create_forwarding_app`` serves the client-facing API as the reference does (both prefixes, its own key in
any of the three styles) and forwards each request to ``forward_to``, a Google base URL
(``https://generativelanguage.googleapis.com``, with or without ``/v1beta``), with the upstream's key in
an ``x-goog-api-key`` header:

* the native route is a transparent pass-through: the path under the prefix goes to the same path under
  ``/v1beta``, the query without the client's ``key``, the body as the bytes that came, and the answer
  (status, Content-Type, body, streamed as it arrives) back to the client;
* the OpenAI route checks the request with the reference's reader (``openai.read_chat_request``, so it
  refuses what the reference refuses, in the same words) and translates it into a native request
  (``protocols/translation.py``), and the answer back, streamed event by event;
* the model lists are the reference's own (a gateway lists the models it is configured with).

Faults of the ``forwarding`` area change the request on its way up (``outbound``), the answer on its way
down (``inbound``, ``upstream_event``, ``framing``, ``error``, ``response``) and the headers of the answer
(``reply_headers``); ``conformance serve --forward-to URL --fault NAME`` and the two-sided tests use them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from conformance.reference.app import FaultSeam, _not_found, _prefix
from conformance.reference.faults.fault import ActiveFaults
from conformance.reference.faults.registry import FAULTS, FORWARDING_AREA, check_fault_names
from conformance.reference.faults.seams import (
    FRAMING,
    INBOUND,
    OUTBOUND,
    REPLY_HEADERS,
    RESPONSE,
    UPSTREAM_EVENT,
    Call,
    Framing,
    Inbound,
    Method,
    Outbound,
    ReplyHeaders,
)
from conformance.reference.model.catalogue import Catalogue
from conformance.reference.protocols import gemini, openai
from conformance.reference.protocols.errors import GoogleError, ProtocolError
from conformance.reference.protocols.gemini_request import ParseMode
from conformance.reference.protocols.streaming import SSE_CONTENT_TYPE
from conformance.reference.protocols.translation import (
    ChunkTranslator,
    Signatures,
    SSEDecoder,
    chat_completion,
    native_request,
    openai_error,
)
from conformance.reference.settings import ReferenceSettings, settings_of

UPSTREAM_VERSION = "/v1beta"
"""The API version the forwarding reference calls upstream."""
TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=60.0)


@dataclass(frozen=True)
class ForwardSettings:
    """Where the forwarding reference sends requests, and with which key."""

    root: str
    """The upstream's base URL without a version (``http://127.0.0.1:9000``)."""
    key: str


def upstream_root(url: str) -> str:
    """A Google base URL without its trailing version segment (``/v1beta`` or ``/v1``)."""
    root = url.strip().rstrip("/")
    for version in ("/v1beta", "/v1"):
        if root.endswith(version):
            return root[: -len(version)]
    return root


def _forward_settings(request: Request) -> ForwardSettings:
    settings: ForwardSettings = request.app.state.forward
    return settings


def _client(request: Request) -> httpx.AsyncClient:
    """The app's client of the upstream, made on first use in the server's event loop."""
    client: httpx.AsyncClient | None = getattr(request.app.state, "client", None)
    if client is None:
        client = httpx.AsyncClient(timeout=TIMEOUT, trust_env=False, follow_redirects=False)
        request.app.state.client = client
    return client


async def send(request: Request, outbound: Outbound) -> httpx.Response:
    """Send a request upstream; the response's body is left unread (the caller streams or reads it)."""
    url = _forward_settings(request).root + outbound.path
    built = _client(request).build_request(
        outbound.method,
        url,
        params=list(outbound.query),
        headers=list(outbound.headers),
        content=outbound.payload() or None,
    )
    return await _client(request).send(built, stream=True)


def _reply_headers(request: Request, active: ActiveFaults, call: Call) -> dict[str, str]:
    reply = active.apply(REPLY_HEADERS, ReplyHeaders((), _forward_settings(request).root), call)
    return dict(reply.headers)


def unreachable(error: Exception) -> GoogleError:
    """The error a client gets when the upstream could not be reached."""
    return GoogleError(503, f"The upstream could not be reached: {type(error).__name__}.")


def outbound_headers(request: Request, body: bool) -> tuple[tuple[str, str], ...]:
    """The headers of a request upstream: the upstream's key, and a JSON Content-Type when there is a body."""
    headers = [("x-goog-api-key", _forward_settings(request).key), ("accept-encoding", "identity")]
    if body:
        headers.append(("content-type", "application/json"))
    return tuple(headers)


async def relay(upstream: httpx.Response, buffered: bool) -> AsyncIterator[bytes]:
    """The bytes of an upstream answer as they arrive (all at once when ``buffered``)."""
    try:
        if buffered:
            yield await upstream.aread()
            return
        async for piece in upstream.aiter_raw():
            yield piece
    finally:
        await upstream.aclose()


# -- the native route ---------------------------------------------------------------------------


def _native_method(rest: str | None, suffix: str = "", verb: str = "GET") -> Method:
    """The native method of ``{p}/models`` (no ``rest``), ``{p}/models/{rest}`` or ``{p}/cachedContents...``
    (``suffix``: the path under the prefix; ``verb``: the HTTP method)."""
    if suffix.startswith("/cachedContents"):
        if suffix == "/cachedContents":
            return "cachedContents.create"
        return "cachedContents.delete" if verb == "DELETE" else "cachedContents.get"
    method = (rest or "").partition(":")[2]
    if not rest:
        return "models.list"
    if method in ("generateContent", "streamGenerateContent", "countTokens"):
        return method  # type: ignore[return-value]
    return "models.get"


@gemini.native_endpoint
async def native_forward(request: Request, active: ActiveFaults) -> Response:
    """``{p}/models``, ``{p}/models/{rest}`` and ``{p}/cachedContents[/{id}]``: passed through to the same
    path under ``/v1beta``."""
    suffix = request.url.path[len(settings_of(request).gemini_prefix) :]
    method = _native_method(request.path_params.get("rest"), suffix, request.method)
    call = replace(gemini.call_of(request, method), stream=method == "streamGenerateContent")
    gemini.require_key(request, active, call)
    raw = await request.body()
    query = tuple((k, v) for k, v in request.query_params.multi_items() if k != "key")
    outbound = Outbound(
        request.method,
        UPSTREAM_VERSION + suffix,
        query,
        outbound_headers(request, bool(raw)),
        raw=raw,
        client_headers=tuple(request.headers.items()),
        client_query=tuple(request.query_params.multi_items()),
    )
    outbound = active.apply(OUTBOUND, outbound, call)
    try:
        upstream = await send(request, outbound)
    except httpx.HTTPError as exc:
        raise ProtocolError(unreachable(exc)) from None
    headers = _reply_headers(request, active, call)
    if call.stream and upstream.status_code == 200:
        sse = request.query_params.get("alt") == "sse"
        framing = active.apply(FRAMING, Framing("sse" if sse else "json-array"), call)
        headers["content-type"] = upstream.headers.get("content-type", "application/json")
        return StreamingResponse(relay(upstream, framing.buffered), headers=headers)
    body = await upstream.aread()
    await upstream.aclose()
    inbound = active.apply(
        INBOUND, Inbound(upstream.status_code, tuple(upstream.headers.multi_items()), body), call
    )
    headers["content-type"] = inbound.header("content-type") or "application/json"
    return Response(inbound.body, status_code=inbound.status, headers=headers)


# -- the OpenAI route ---------------------------------------------------------------------------


def _signatures(request: Request) -> Signatures:
    signatures: Signatures = request.app.state.signatures
    return signatures


async def translate_stream(
    upstream: httpx.Response,
    translator: ChunkTranslator,
    active: ActiveFaults,
    call: Call,
    framing: Framing,
) -> AsyncIterator[bytes]:
    """The upstream's SSE events translated into chat.completion.chunk events as they arrive."""
    decoder = SSEDecoder()
    held: list[bytes] = []

    def event_of(chunk: Any) -> bytes:
        return b"data: " + json.dumps(chunk, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"

    def frames(events: Iterable[Any]) -> list[bytes]:
        return [
            event_of(chunk)
            for event in events
            for chunk in translator.feed(active.apply(UPSTREAM_EVENT, event, call))
        ]

    try:
        async for piece in upstream.aiter_raw():
            ready = frames(decoder.feed(piece))
            if framing.buffered:
                held += ready
            else:
                for frame in ready:
                    yield frame
            if translator.failed:
                break
        ready = frames(decoder.close())
        ready += [event_of(chunk) for chunk in translator.close()]
        if framing.done:  # after an error event too: clients raise on the error, and the framing stays whole
            ready.append(b"data: [DONE]\n\n")
        if framing.buffered:
            yield b"".join(held + ready)
        else:
            for frame in ready:
                yield frame
    finally:
        await upstream.aclose()


@openai.openai_endpoint
async def chat_forward(request: Request, active: ActiveFaults) -> Response:
    """``POST {p}/chat/completions``: checked as the reference checks it, translated, forwarded, and the
    answer translated back (streamed event by event when the request streams)."""
    call = openai.call_of(request, "chat.completions")
    openai.require_key(request, active, call)
    body = openai.parse_body(await request.body())
    chat = openai.read_chat_request(body, ParseMode())
    call = replace(call, stream=chat.stream, include_usage=chat.include_usage)
    model = chat.model.removeprefix("models/")
    parallel = chat.features.parallel
    signatures = _signatures(request)
    method = "streamGenerateContent" if chat.stream else "generateContent"
    outbound = Outbound(
        "POST",
        f"{UPSTREAM_VERSION}/models/{model}:{method}",
        (("alt", "sse"),) if chat.stream else (),
        outbound_headers(request, True),
        body=native_request(body, signatures),
        client_headers=tuple(request.headers.items()),
        client_query=tuple(request.query_params.multi_items()),
    )
    outbound = active.apply(OUTBOUND, outbound, call)
    try:
        upstream = await send(request, outbound)
    except httpx.HTTPError as exc:
        raise ProtocolError(openai_error(503, unreachable(exc).body())) from None
    headers = _reply_headers(request, active, call)
    if chat.stream and upstream.status_code == 200:
        framing = active.apply(FRAMING, Framing("sse", eol=b"\n", done=True), call)
        translator = ChunkTranslator(chat.model, chat.include_usage, signatures, parallel)
        return StreamingResponse(
            translate_stream(upstream, translator, active, call, framing),
            media_type=SSE_CONTENT_TYPE,
            headers=headers,
        )
    raw = await upstream.aread()
    await upstream.aclose()
    inbound = active.apply(
        INBOUND, Inbound(upstream.status_code, tuple(upstream.headers.multi_items()), raw), call
    )
    if inbound.status != 200:
        response = openai.render_error(openai_error(inbound.status, inbound.json()), active, call)
    else:
        result = active.apply(
            RESPONSE, chat_completion(inbound.json(), chat.model, signatures, parallel), call
        )
        response = openai.success(result, active, call)
    response.headers.update(headers)
    return response


# -- the app ------------------------------------------------------------------------------------


def check_forwarding_faults(names: Iterable[str]) -> set[str]:
    """The fault names, each known and of the forwarding area; ValueError otherwise."""
    chosen = check_fault_names(names)
    other = sorted(name for name in chosen if FAULTS[name].area != FORWARDING_AREA)
    if other:
        raise ValueError(
            f"fault(s) {', '.join(other)} change the reference's own answers and do not apply to the"
            " forwarding reference; its faults are those of the forwarding area"
        )
    return chosen


def create_forwarding_app(
    forward_to: str,
    upstream_key: str,
    *,
    gemini_prefix: str = "/v1beta",
    openai_prefix: str = "/v1",
    api_key: str = "reference-key",
    faults: Iterable[str] = (),
    models: Sequence[str] | None = None,
) -> Starlette:
    """A forwarding reference: both protocols under their prefixes, forwarded to ``forward_to``.

    ``app.state.faults`` is the mutable set of active faults (forwarding faults only).
    """
    active = check_forwarding_faults(faults)
    if not forward_to.startswith(("http://", "https://")):
        raise ValueError(f"the upstream URL must be http(s), not {forward_to!r}")
    if not upstream_key:
        raise ValueError("the upstream key must not be empty")
    if not api_key:
        raise ValueError("the api key must not be empty")
    native = _prefix(gemini_prefix, "gemini")
    compat = _prefix(openai_prefix, "openai")
    if native == compat:
        raise ValueError("the gemini and openai prefixes must differ")
    routes = [
        Route(f"{native}/models", native_forward, methods=["GET"]),
        Route(native + "/models/{rest:path}", native_forward, methods=["GET", "POST"]),
        Route(f"{native}/cachedContents", native_forward, methods=["POST"]),
        Route(native + "/cachedContents/{id}", native_forward, methods=["GET", "DELETE"]),
        Route(f"{compat}/chat/completions", chat_forward, methods=["POST"]),
        Route(f"{compat}/models", openai.list_models, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found},
        middleware=[Middleware(FaultSeam)],
    )
    app.router.redirect_slashes = False
    app.state.reference = ReferenceSettings(
        api_key=api_key,
        catalogue=Catalogue.of(models),
        gemini_prefix=native,
        openai_prefix=compat,
        offload_large=False,  # its handlers use the upstream client of the server's loop
    )
    app.state.faults = active
    app.state.forward = ForwardSettings(upstream_root(forward_to), upstream_key)
    app.state.signatures = Signatures()
    return app
