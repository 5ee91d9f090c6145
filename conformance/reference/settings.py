"""The per-app settings of a reference gateway and how a handler reads them."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from conformance.reference.model.catalogue import Catalogue
from conformance.reference.protocols.caches import CacheStore


@dataclass(frozen=True)
class ReferenceSettings:
    """What a reference gateway was created with (the faults live apart, mutable: ``app.state.faults``).

    ``retry_after`` is the seconds its rate-limited and overloaded answers ask a client to wait;
    ``caches`` are the context caches made on it (mutable).
    """

    api_key: str
    catalogue: Catalogue
    gemini_prefix: str
    openai_prefix: str
    stream_delay: float = 0.0
    retry_after: float = 1.0
    caches: CacheStore = field(default_factory=CacheStore)
    offload_large: bool = True
    """Whether a request with a large body is answered on a worker thread (``endpoints.guarded``): not in the
    forwarding reference, whose handlers use a client of the upstream bound to the server's event loop and
    answer with streams relayed from it."""


def settings_of(request: Request) -> ReferenceSettings:
    """The settings of the app serving this request."""
    settings: ReferenceSettings = request.app.state.reference
    return settings
