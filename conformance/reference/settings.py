"""The per-app settings of a reference gateway and how a handler reads them."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from conformance.reference.model.catalogue import Catalogue


@dataclass(frozen=True)
class ReferenceSettings:
    """What a reference gateway was created with (the faults live apart, mutable: ``app.state.faults``)."""

    api_key: str
    catalogue: Catalogue
    gemini_prefix: str
    openai_prefix: str
    stream_delay: float = 0.0
    offload_large: bool = True
    """Whether a request with a large body is answered on a worker thread (``endpoints.guarded``): not in the
    forwarding reference, whose handlers use a client of the upstream bound to the server's event loop and
    answer with streams relayed from it."""


def settings_of(request: Request) -> ReferenceSettings:
    """The settings of the app serving this request."""
    settings: ReferenceSettings = request.app.state.reference
    return settings
