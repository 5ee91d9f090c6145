"""Resolving where a run's requests go: a configured gateway, or the embedded reference on loopback."""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.errors import ConfigError
from conformance.wire.profiles import Provider, load_provider, with_overrides

EMBEDDED_STREAM_DELAY = 0.01
"""Seconds between streamed events of the embedded reference: enough to tell streamed from buffered."""


@dataclass(frozen=True)
class Target:
    """A provider with a base URL to call and the key to call it with."""

    provider: Provider
    api_key: str | None
    faults: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForwardTo:
    """Where the embedded reference forwards in a two-sided run: the upstream's base URL and key."""

    base_url: str
    key: str


def resolve_provider(
    name: str,
    overrides: Mapping[str, Any],
    *,
    reference: bool = False,
    faults: Sequence[str] = (),
    upstream: bool = False,
) -> Provider:
    """The profile ``name`` with the command line's overrides, checked before anything is sent.

    With ``reference`` the profile is served by the embedded reference gateway; faults can only be
    injected there (in a two-sided run, ``upstream``, only the forwarding reference's faults); a target that
    is not embedded needs a base URL.
    """
    from conformance.reference.faults.registry import FAULTS, FORWARDING_AREA

    provider = with_overrides(load_provider(name), dict(overrides))
    if reference:
        provider = dataclasses.replace(provider, embedded=True, base_url=None)
    if faults and not provider.embedded:
        raise ConfigError(
            "faults can only be injected into the embedded reference gateway (add --reference)",
            field="--fault",
        )
    for fault in faults:
        if fault not in FAULTS:
            raise ConfigError(f"unknown fault {fault!r} (see `conformance faults`)", field="--fault")
        forwarding = FAULTS[fault].area == FORWARDING_AREA
        if forwarding and not upstream:
            raise ConfigError(
                f"fault {fault!r} is a forwarding fault: it needs a two-sided run (add --upstream HOST:PORT)",
                field="--fault",
            )
        if upstream and not forwarding:
            raise ConfigError(
                f"fault {fault!r} changes the reference's own answers; in a two-sided run the embedded"
                " reference forwards, and only forwarding faults apply (see `conformance faults`)",
                field="--fault",
            )
    if not provider.embedded and not provider.base_url:
        raise ConfigError(
            "no base_url in the profile; pass --base-url URL (or --reference)",
            source=provider.source,
            field="base_url",
        )
    variable = provider.api_key_env
    if not provider.embedded and variable and not os.environ.get(variable):
        raise ConfigError(
            f"environment variable {variable} is not set: profile {provider.name} sends its key from it"
            " (set it, pass --api-key-env VAR, or drop api_key_env from a profile of a gateway without keys)",
            source=provider.source,
            field="api_key_env",
        )
    return provider


def unreachable(base_url: str, timeout: float) -> str | None:
    """Why a base URL's host and port cannot be reached at all (DNS, refused, no answer), or None."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as exc:
        return f"cannot resolve host {host!r}: {exc.strerror or exc}"
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout:g} s (connect)"
    except OSError as exc:
        return f"cannot connect to {host}:{port}: {exc.strerror or exc}"


@contextmanager
def open_target(
    provider: Provider,
    faults: tuple[str, ...] = (),
    stream_delay: float = EMBEDDED_STREAM_DELAY,
    forward_to: ForwardTo | None = None,
) -> Iterator[Target]:
    """Yield a ready target, starting the embedded reference gateway when the provider is embedded (as a
    gateway forwarding to ``forward_to`` in a two-sided run)."""
    with open_targets([(provider, faults, forward_to)], stream_delay) as targets:
        yield targets[0]


Wanted = tuple[Provider, tuple[str, ...], ForwardTo | None]
"""A target to open: the provider, the faults to inject, where an embedded reference forwards (or None)."""


@contextmanager
def open_targets(
    wanted: Sequence[Wanted], stream_delay: float = EMBEDDED_STREAM_DELAY
) -> Iterator[list[Target]]:
    """Yield a ready target for each (provider, faults, forward_to), in order, until every one is closed.

    Embedded targets that the same reference gateway can serve (the same prefixes, key, faults and
    upstream; the model is only a part of the path) share one server on loopback.
    """
    with ExitStack() as stack:
        servers: dict[tuple[str, str, str | None, tuple[str, ...], ForwardTo | None], tuple[str, str]] = {}
        targets = []
        for provider, faults, forward_to in wanted:
            if not provider.embedded:
                targets.append(_gateway_target(provider, faults))
                continue
            key = (provider.gemini.prefix, provider.openai.prefix, provider.api_key(), faults, forward_to)
            if key not in servers:
                servers[key] = stack.enter_context(
                    _embedded_server(provider, faults, stream_delay, forward_to)
                )
            base_url, api_key = servers[key]
            targets.append(_embedded_target(provider, base_url, api_key, faults))
        yield targets


def _gateway_target(provider: Provider, faults: tuple[str, ...]) -> Target:
    if faults:
        raise ConfigError("faults can only be injected into the embedded reference gateway", field="--fault")
    if not provider.base_url:
        raise ConfigError(
            "no base_url in the profile; pass --base-url URL (or --reference)",
            source=provider.source,
            field="base_url",
        )
    return Target(provider, provider.api_key())


def _embedded_target(provider: Provider, base_url: str, api_key: str, faults: tuple[str, ...]) -> Target:
    from conformance.reference.model.triggers import TRIGGERS

    # The reference's own trigger prompts replace the profile's: they are what this target answers to.
    served = dataclasses.replace(provider, base_url=base_url, triggers=dict(TRIGGERS))
    return Target(served, api_key, faults)


@contextmanager
def _embedded_server(
    provider: Provider, faults: tuple[str, ...], stream_delay: float, forward_to: ForwardTo | None
) -> Iterator[tuple[str, str]]:
    """The embedded reference gateway serving the provider's prefixes (forwarding to ``forward_to`` when
    given): its base URL and its key."""
    from conformance.reference.app import create_app
    from conformance.reference.faults.registry import FAULTS
    from conformance.reference.server import ReferenceServer

    unknown = [name for name in faults if name not in FAULTS]
    if unknown:
        raise ConfigError(f"unknown fault {unknown[0]!r} (see `conformance faults`)", field="--fault")
    key = provider.api_key() or "ref-" + secrets.token_urlsafe(12)
    app: Any
    if forward_to is not None:
        from conformance.reference.forward import create_forwarding_app

        app = create_forwarding_app(
            forward_to.base_url,
            forward_to.key,
            gemini_prefix=provider.gemini.prefix,
            openai_prefix=provider.openai.prefix,
            api_key=key,
            faults=faults,
        )
    else:
        app = create_app(
            gemini_prefix=provider.gemini.prefix,
            openai_prefix=provider.openai.prefix,
            api_key=key,
            faults=faults,
            stream_delay=stream_delay,
            retry_after=0,  # the trigger prompts' 429 and 503 ask for no wait: retries cost nothing here
        )
    with ReferenceServer(app) as server:
        yield server.base_url, key
