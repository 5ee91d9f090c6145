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


def settings_of(request: Request) -> ReferenceSettings:
    """The settings of the app serving this request."""
    settings: ReferenceSettings = request.app.state.reference
    return settings
