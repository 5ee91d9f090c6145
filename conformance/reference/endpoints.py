"""Turning a protocol handler into a Starlette endpoint: the active faults resolved for the request, and a
``ProtocolError`` answered in the protocol's form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from conformance.reference.faults.fault import ActiveFaults
from conformance.reference.faults.registry import activate
from conformance.reference.faults.seams import Call
from conformance.reference.protocols.errors import GoogleError, OpenAIError, ProtocolError

Handler = Callable[[Request, ActiveFaults], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[GoogleError | OpenAIError, ActiveFaults, Call], Response]
CallOf = Callable[[Request], Call]


def active_faults(request: Request) -> ActiveFaults:
    """The faults active for this request: the app's fault names when the request came in."""
    return activate(request.app.state.faults)


def guarded(handler: Handler, render_error: ErrorRenderer, call_of: CallOf) -> Endpoint:
    """Call ``handler`` with the active faults; a ``ProtocolError`` it raises becomes ``render_error``'s
    response."""

    async def endpoint(request: Request) -> Response:
        active = active_faults(request)
        try:
            return await handler(request, active)
        except ProtocolError as raised:
            return render_error(raised.error, active, call_of(request))
        except ClientDisconnect:  # the client went away mid-request (e.g. a run was interrupted)
            return Response(status_code=499)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
