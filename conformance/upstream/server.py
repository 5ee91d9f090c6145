"""Running the upstream on a loopback address for a run, or alone (``conformance upstream``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from conformance.errors import ConfigError
from conformance.reference.server import ReferenceServer
from conformance.upstream.app import create_upstream
from conformance.upstream.endpoint import Endpoint
from conformance.upstream.ledger import Ledger

UPSTREAM_STREAM_DELAY = 0.01
"""Seconds between the events the upstream streams (a scenario may set its own pace)."""


def new_key() -> str:
    """A random upstream key, for an upstream whose key nobody configured (the embedded reference's)."""
    return "upstream-" + secrets.token_urlsafe(12)


@contextmanager
def serve_upstream(
    endpoint: Endpoint, key: str, ledger: Ledger, stream_delay: float = UPSTREAM_STREAM_DELAY
) -> Iterator[Endpoint]:
    """Serve the upstream on ``endpoint`` until the block ends; yields the endpoint actually bound.

    A port that cannot be bound (in use, not permitted) is a one-line ConfigError, raised before anything
    is served.
    """
    server = ReferenceServer(
        create_upstream(key, ledger, stream_delay=stream_delay), endpoint.host, endpoint.port
    )
    try:
        server.start()
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {endpoint.host}:{endpoint.port}: {exc.strerror or exc}", field="--upstream"
        ) from None
    try:
        yield Endpoint(endpoint.host, server.port)
    finally:
        server.stop()
