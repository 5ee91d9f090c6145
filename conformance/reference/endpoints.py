"""Turning a protocol handler into a Starlette endpoint that answers a ``ProtocolError`` in its protocol's form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Set

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from conformance.reference.protocols.errors import GoogleError, OpenAIError, ProtocolError
from conformance.reference.settings import faults_of

Handler = Callable[[Request, frozenset[str]], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[GoogleError | OpenAIError, Set[str]], Response]


def guarded(handler: Handler, render_error: ErrorRenderer) -> Endpoint:
    """Call ``handler`` with the active faults; a ``ProtocolError`` it raises becomes ``render_error``'s response."""

    async def endpoint(request: Request) -> Response:
        faults = faults_of(request)
        try:
            return await handler(request, faults)
        except ProtocolError as raised:
            return render_error(raised.error, faults)
        except ClientDisconnect:  # the client went away mid-request (e.g. a run was interrupted)
            return Response(status_code=499)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
