"""The upstream application: Google's Gemini API as the reference implements it, behind a recorder.

``create_upstream`` builds a Starlette app serving the native API under ``/v1beta`` (and ``/v1``, so that
a gateway calling the wrong version is judged by its path, not stopped by a 404) with the reference's
handlers, catalogue and deterministic model. It accepts its key in every style Google does (``?key=``,
``x-goog-api-key``, Bearer). In front of the handlers, ``Recorder`` reads each request whole, records it in
the ledger, removes the correlation tags from the body and passes the request on with the tag's scenario.
A generation request that names a scenario is answered by ``scenario_route``, which calls the reference's
protocol code and lets the scenario change the answer; every other request goes to the reference's own
native handlers.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.reference.faults.fault import NO_FAULTS
from conformance.reference.faults.seams import Framing
from conformance.reference.model.catalogue import Catalogue
from conformance.reference.model.ids import derive_id
from conformance.reference.protocols import gemini
from conformance.reference.protocols.errors import ProtocolError
from conformance.reference.protocols.gemini_request import parse_json_body
from conformance.reference.protocols.streaming import SSE_CONTENT_TYPE, gemini_events, native_frames, paced
from conformance.reference.settings import ReferenceSettings, settings_of
from conformance.upstream.canonical import canonical
from conformance.upstream.correlation import strip_tags
from conformance.upstream.ledger import ForwardedRequest, Ledger
from conformance.upstream.scenarios import SCENARIOS, Scenario, scenario_answer

VERSIONS = ("/v1beta", "/v1")
"""The API versions served (Google serves both; cases judge which one a gateway called)."""
SCENARIO_KEY = "conformance.scenario"
"""Where the recorder leaves the scenario named by a request's tag, in the ASGI scope."""


class Recorder:
    """ASGI middleware: record every HTTP request in the ledger, remove its tags, pass it on."""

    def __init__(self, app: ASGIApp, ledger: Ledger) -> None:
        self.app = app
        self.ledger = ledger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        value, problem = ForwardedRequest.read_body(raw)
        stripped, tags = strip_tags(value) if problem is None else (None, [])
        path = scope["path"]
        query = tuple(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ()))
        index = self.ledger.record(
            ForwardedRequest(
                method=scope["method"],
                path=path,
                query=query,
                headers=headers,
                body=raw,
                content=canonical(stripped, path) if problem is None else None,
                tags=tuple(tags),
                received=time.monotonic(),
                problem=problem,
            )
        )
        body = json.dumps(stripped, ensure_ascii=False).encode("utf-8") if tags else raw
        inner = dict(scope)
        inner["headers"] = [
            (k, str(len(body)).encode() if k.lower() == b"content-length" else v) for k, v in scope["headers"]
        ]
        inner[SCENARIO_KEY] = next((tag.scenario for tag in tags if tag.scenario), None)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.ledger.answered(index, message["status"])
            await send(message)

        await self.app(inner, replay, noting)


def _scenario(request: Request) -> Scenario | None:
    name = request.scope.get(SCENARIO_KEY)
    return SCENARIOS.get(name) if isinstance(name, str) else None


async def scenario_route(request: Request) -> Response:
    """``{version}/models/{rest}``: a generation that names a scenario is answered the scenario's way; every
    other request by the reference's native handler."""
    scenario = _scenario(request)
    model_id, _, method = request.path_params["rest"].partition(":")
    if (
        scenario is None
        or request.method != "POST"
        or method not in ("generateContent", "streamGenerateContent")
    ):
        return await gemini.model_route(request)
    stream = method == "streamGenerateContent"
    sse = request.query_params.get("alt") == "sse"
    call = replace(gemini.call_of(request, method), stream=stream)
    try:
        gemini.require_key(request, NO_FAULTS, call)
        body = parse_json_body(await request.body())
        error = scenario.error()
        if error is not None:
            raise ProtocolError(error)
        settings = settings_of(request)
        generation, info, native = gemini.answer_request(
            body, model_id, NO_FAULTS, call, settings.caches, settings.retry_after
        )
    except ProtocolError as raised:
        if stream:
            return gemini.stream_error(raised.error, sse, NO_FAULTS, call)
        return gemini.render_error(raised.error, NO_FAULTS, call)
    call = replace(call, generation=generation)
    response_id = derive_id(method, info.id, native.fingerprint)
    full = scenario_answer(
        scenario, gemini.render_generate_response(generation, info.id, response_id, NO_FAULTS, call)
    )
    if not stream:
        return gemini.success(full, NO_FAULTS, call)
    frames, media_type = native_frames(
        scenario.events(gemini_events(full)), Framing("sse" if sse else "json-array")
    )
    delay = scenario.delay if scenario.delay is not None else settings_of(request).stream_delay
    headers = {"content-disposition": "attachment"} if media_type == SSE_CONTENT_TYPE else None
    return paced(frames, media_type, delay, headers=headers)


async def _not_found(request: Request, exc: Exception) -> Response:
    """Any path or method Google does not serve: its native 404."""
    return gemini.render_error(gemini.route_not_found(request), NO_FAULTS, gemini.call_of(request))


def create_upstream(api_key: str, ledger: Ledger, *, stream_delay: float = 0.0) -> ASGIApp:
    """The upstream: Google's native API with the reference's model, recording into ``ledger``."""
    if not api_key:
        raise ValueError("the upstream's key must not be empty")
    routes = []
    for version in VERSIONS:
        routes += [
            Route(f"{version}/models", gemini.list_models, methods=["GET"]),
            Route(version + "/models/{rest:path}", scenario_route, methods=["GET", "POST"]),
            Route(f"{version}/cachedContents", gemini.create_cache, methods=["POST"]),
            Route(version + "/cachedContents/{id}", gemini.cache_route, methods=["GET", "DELETE"]),
        ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    app.router.redirect_slashes = False
    app.state.reference = ReferenceSettings(
        api_key=api_key,
        catalogue=Catalogue.of(None),
        gemini_prefix=VERSIONS[0],
        openai_prefix="/openai-not-served",
        stream_delay=stream_delay,
    )
    app.state.faults = set()
    return Recorder(app, ledger)
