"""Turning a protocol handler into a Starlette endpoint: the active faults resolved for the request, and a
``ProtocolError`` answered in the protocol's form."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from conformance.reference.faults.fault import ActiveFaults
from conformance.reference.faults.registry import activate
from conformance.reference.faults.seams import Call
from conformance.reference.protocols.errors import GoogleError, OpenAIError, ProtocolError
from conformance.reference.settings import settings_of

Handler = Callable[[Request, ActiveFaults], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[GoogleError | OpenAIError, ActiveFaults, Call], Response]
CallOf = Callable[[Request], Call]


ACTIVE_KEY = "active_faults"
"""Where the fault seam middleware leaves the faults it activated for a request, in the request's state."""


def active_faults(request: Request) -> ActiveFaults:
    """The faults active for this request: the app's fault names when the request came in (activated once
    by the middleware; an app without it activates them here)."""
    active: ActiveFaults | None = getattr(request.state, ACTIVE_KEY, None)
    return active if active is not None else activate(request.app.state.faults)


OFFLOADED_BYTES = 1024 * 1024
"""Requests with a larger body are answered on a worker thread: reading megabytes of JSON and base64 would
otherwise hold the server's event loop, and so delay every other request in flight, for a noticeable time."""


def _large(request: Request) -> bool:
    """Whether the request is answered on a worker thread: a large body, in an app that allows it."""
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > OFFLOADED_BYTES and settings_of(request).offload_large


def _answer_apart(handler: Handler, request: Request, active: ActiveFaults) -> Response:
    """Run a handler to its response on a loop of the worker thread's own (its body already read)."""

    async def answer() -> Response:
        return await handler(request, active)

    return asyncio.run(answer())


def guarded(handler: Handler, render_error: ErrorRenderer, call_of: CallOf) -> Endpoint:
    """Call ``handler`` with the active faults; a ``ProtocolError`` it raises becomes ``render_error``'s
    response."""

    async def endpoint(request: Request) -> Response:
        active = active_faults(request)
        try:
            if _large(request):
                await request.body()  # read on the server's loop; the worker finds it cached
                return await run_in_threadpool(_answer_apart, handler, request, active)
            return await handler(request, active)
        except ProtocolError as raised:
            return render_error(raised.error, active, call_of(request))
        except ClientDisconnect:  # the client went away mid-request (e.g. a run was interrupted)
            return Response(status_code=499)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
