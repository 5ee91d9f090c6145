"""Resolving where a run's requests go: a configured gateway, or the embedded reference on loopback."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from conformance.errors import ConfigError
from conformance.wire.profiles import Provider

EMBEDDED_STREAM_DELAY = 0.01
"""Seconds between streamed events of the embedded reference: enough to tell streamed from buffered, still fast."""


@dataclass(frozen=True)
class Target:
    """A provider with a base URL to call and the key to call it with."""

    provider: Provider
    api_key: str | None
    faults: tuple[str, ...] = ()


@contextmanager
def open_target(
    provider: Provider, faults: tuple[str, ...] = (), stream_delay: float = EMBEDDED_STREAM_DELAY
) -> Iterator[Target]:
    """Yield a ready target, starting the embedded reference gateway when the provider is embedded."""
    if not provider.embedded:
        if faults:
            raise ConfigError(
                "faults can only be injected into the embedded reference gateway", field="--fault"
            )
        if not provider.base_url:
            raise ConfigError(
                "no base_url in the profile; pass --base-url URL (or --reference)",
                source=provider.source,
                field="base_url",
            )
        yield Target(provider, provider.api_key())
        return
    from conformance.reference.app import create_app
    from conformance.reference.faults.registry import FAULTS
    from conformance.reference.model.safety import TRIGGERS
    from conformance.reference.server import ReferenceServer

    unknown = [name for name in faults if name not in FAULTS]
    if unknown:
        raise ConfigError(f"unknown fault {unknown[0]!r} (see `conformance faults`)", field="--fault")
    key = provider.api_key() or "ref-" + secrets.token_urlsafe(12)
    app = create_app(
        gemini_prefix=provider.gemini.prefix,
        openai_prefix=provider.openai.prefix,
        api_key=key,
        faults=faults,
        stream_delay=stream_delay,
    )
    with ReferenceServer(app) as server:
        # The reference's own trigger prompts replace the profile's: they are what this target answers to.
        served = dataclasses.replace(provider, base_url=server.base_url, triggers=dict(TRIGGERS))
        yield Target(served, key, faults)
