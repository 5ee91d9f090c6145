"""The reference gateway application: both protocols under their prefixes, with switchable faults."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance.reference.endpoints import ACTIVE_KEY, active_faults
from conformance.reference.faults.registry import FAULTS, FORWARDING_AREA, activate, check_fault_names
from conformance.reference.faults.seams import ASGI
from conformance.reference.latency import AddedLatency
from conformance.reference.model.catalogue import Catalogue
from conformance.reference.protocols import gemini, openai
from conformance.reference.settings import ReferenceSettings, settings_of


class FaultSeam:
    """ASGI middleware: each HTTP request goes to the gateway as the active faults wrap it (the ``asgi``
    seam), so that a fault can answer before the gateway sees the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        active = activate(scope["app"].state.faults)
        scope.setdefault("state", {})[ACTIVE_KEY] = active  # the request's snapshot (endpoints.active_faults)
        await active.apply(ASGI, self.app, None)(scope, receive, send)


def _prefix(value: str, what: str) -> str:
    """A route prefix without its trailing slash; the root is the empty prefix."""
    core = value.strip().strip("/")
    if "{" in core or "}" in core:
        raise ValueError(f"invalid {what} prefix {value!r}")
    return "/" + core if core else ""


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


async def _not_found(request: Request, exc: Exception) -> Response:
    """Any path or method the gateway does not serve: a 404 in the form of the protocol it is under."""
    settings = settings_of(request)
    active = active_faults(request)
    path = request.url.path
    in_openai = _under(path, settings.openai_prefix)
    in_gemini = _under(path, settings.gemini_prefix)
    if in_openai and (not in_gemini or len(settings.openai_prefix) > len(settings.gemini_prefix)):
        return openai.render_error(openai.route_not_found(request), active, openai.call_of(request))
    return gemini.render_error(gemini.route_not_found(request), active, gemini.call_of(request))


def create_app(
    *,
    gemini_prefix: str = "/v1beta",
    openai_prefix: str = "/v1",
    api_key: str = "reference-key",
    faults: Iterable[str] = (),
    models: Sequence[str] | None = None,
    stream_delay: float = 0.0,
    latency: float = 0.0,
    retry_after: float = 1.0,
) -> Starlette:
    """A reference gateway: a Starlette app serving both protocols.

    ``app.state.faults`` is a mutable set of active fault names, resolved to the registry's faults on
    every request; unknown names given here raise ValueError (and fail a request if added later).
    ``stream_delay`` is the seconds between two streamed events; ``latency`` seconds are added before
    every response (benchmarks); ``retry_after`` is what the rate-limited and overloaded answers of the
    trigger prompts ask a client to wait.
    """
    active = check_fault_names(faults)
    forwarding = sorted(name for name in active if FAULTS[name].area == FORWARDING_AREA)
    if forwarding:
        raise ValueError(
            f"fault(s) {', '.join(forwarding)} belong to the forwarding reference (--upstream, or serve"
            " --forward-to)"
        )
    native = _prefix(gemini_prefix, "gemini")
    compat = _prefix(openai_prefix, "openai")
    if native == compat:
        raise ValueError("the gemini and openai prefixes must differ")
    if not api_key:
        raise ValueError("the api key must not be empty")
    if not 0 <= stream_delay <= 10:
        raise ValueError(f"the stream delay must be between 0 and 10 seconds, not {stream_delay}")
    settings = ReferenceSettings(
        api_key=api_key,
        catalogue=Catalogue.of(models),
        gemini_prefix=native,
        openai_prefix=compat,
        stream_delay=stream_delay,
        retry_after=retry_after,
    )
    routes = [
        Route(f"{native}/models", gemini.list_models, methods=["GET"]),
        Route(native + "/models/{rest:path}", gemini.model_route, methods=["GET", "POST"]),
        Route(f"{native}/cachedContents", gemini.create_cache, methods=["POST"]),
        Route(native + "/cachedContents/{id}", gemini.cache_route, methods=["GET", "DELETE"]),
        Route(f"{compat}/chat/completions", openai.chat_completions, methods=["POST"]),
        Route(f"{compat}/models", openai.list_models, methods=["GET"]),
    ]
    middleware = [Middleware(FaultSeam)]
    if latency > 0:
        middleware.append(Middleware(AddedLatency, seconds=latency))
    app = Starlette(
        routes=routes, exception_handlers={404: _not_found, 405: _not_found}, middleware=middleware
    )
    app.router.redirect_slashes = False
    app.state.reference = settings
    app.state.faults = active
    return app
