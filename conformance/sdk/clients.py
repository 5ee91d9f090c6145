"""The official SDKs: whether each is installed, and how its client is pointed at a provider's route.

``google-genai`` reaches the native route at ``base_url`` + ``/`` + ``api_version`` + ``/models/...`` and
sends the key as ``x-goog-api-key``; the profile's prefix is split into both (``/gemini/v1beta`` is base
``.../gemini`` and version ``v1beta``), so any prefix can be expressed, but a route that takes the key by
``?key=`` or Bearer cannot. ``openai`` reaches ``base_url`` + ``/chat/completions`` and sends the key as a
Bearer token: any prefix, Bearer only. A probe of a route its SDK cannot express is skipped with that
reason, never sent some other way.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from importlib import metadata

from conformance.suite.model import SDK_PROTOCOLS, SdkName
from conformance.wire.profiles import AuthStyle, Provider

INSTALL = "pip install 'gateway-conformance[sdk]'"
"""How the SDKs are installed: the package's ``sdk`` extra (pinned ranges in pyproject.toml)."""
MODULES: dict[SdkName, str] = {"google-genai": "google.genai", "openai": "openai"}
"""The module each SDK is imported as."""
PROBE_MODULES: dict[SdkName, tuple[str, ...]] = {
    "google-genai": ("google.genai", "google.genai.types", "httpx2"),
    "openai": ("openai",),
}
"""What a probe of each SDK imports (``httpx2``: google-genai's default HTTP library, when installed)."""
KEY_STYLES: dict[SdkName, AuthStyle] = {"google-genai": "x-goog-api-key", "openai": "bearer"}
"""How each SDK sends an API key; it has no setting for another style."""


def missing(sdk: SdkName) -> str | None:
    """Why the SDK cannot be imported here, with the command that installs it, or None when it can."""
    try:
        importlib.import_module(MODULES[sdk])
    except ImportError as exc:
        return f"the {sdk} SDK is not installed ({exc}); install the sdk extra: {INSTALL}"
    return None


_imports: dict[SdkName, Future[None]] = {}
_imports_lock = threading.Lock()


def import_soon(sdk: SdkName) -> Future[None]:
    """Start importing the SDK on a thread of its own, once per process; done when it is imported or cannot
    be (``missing`` then says why). A first import costs most of a second of CPU: on the run's event loop it
    would hold every request in flight for that long."""
    with _imports_lock:
        future = _imports.get(sdk)
        if future is None:
            future = _imports[sdk] = Future()
            # Running: a waiter that is cancelled (an interrupted run) cannot cancel the one shared import.
            future.set_running_or_notify_cancel()
            threading.Thread(target=_import, args=(sdk, future), name=f"import {sdk}", daemon=True).start()
    return future


def _import(sdk: SdkName, done: Future[None]) -> None:
    for name in PROBE_MODULES[sdk]:
        with contextlib.suppress(Exception):  # not installed, or broken: found (and reported) by ``missing``
            importlib.import_module(name)
    done.set_result(None)


async def imported(sdk: SdkName) -> None:
    """Wait, without holding the event loop, until ``import_soon`` has imported the SDK (or given up)."""
    await asyncio.wrap_future(import_soon(sdk))


@cache
def version(sdk: SdkName) -> str:
    """The installed version of the SDK's distribution ("?" when its metadata is not found)."""
    try:
        return metadata.version(sdk)
    except metadata.PackageNotFoundError:
        return "?"


@dataclass(frozen=True)
class Endpoint:
    """Where an SDK client is pointed: its base URL and, for google-genai, the API version after it."""

    base_url: str
    api_version: str | None = None


def unexpressible(sdk: SdkName, provider: Provider) -> str | None:
    """Why the SDK cannot call the provider's route as the profile describes it, or None when it can."""
    protocol = SDK_PROTOCOLS[sdk]
    route = provider.route(protocol)
    if route.auth != KEY_STYLES[sdk]:
        return (
            f"{sdk} sends the key as {KEY_STYLES[sdk]} only, but profile {provider.name} takes it on the "
            f"{protocol} route as {route.auth}"
        )
    return None


def endpoint(sdk: SdkName, provider: Provider) -> Endpoint:
    """The base URL (and API version) that points the SDK at the provider's route of its protocol."""
    if not provider.base_url:
        raise ValueError("provider has no base URL")
    base = provider.base_url.rstrip("/")
    prefix = provider.route(SDK_PROTOCOLS[sdk]).prefix.rstrip("/")
    if sdk == "openai":
        return Endpoint(base + prefix)
    head, _, last = prefix.rpartition("/")
    return Endpoint(base + head, last or None)
