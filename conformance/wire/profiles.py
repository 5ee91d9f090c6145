"""Provider profiles (providers/<name>.yaml): where a gateway answers and how it wants to be called."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from conformance.errors import ConfigError
from conformance.suite.model import CAPABILITIES, Capability
from conformance.validation.documents import read_yaml, validate_document

AuthStyle = Literal["query", "x-goog-api-key", "bearer"]
AUTH_STYLES: tuple[AuthStyle, ...] = ("query", "x-goog-api-key", "bearer")
PROVIDERS_DIR = Path(str(files("conformance.wire") / "providers"))


@dataclass(frozen=True)
class Route:
    """One protocol's path prefix and auth style on a gateway."""

    prefix: str
    auth: AuthStyle


@dataclass(frozen=True)
class Timeouts:
    """Per-request limits in seconds: connecting, waiting between bytes, and the whole exchange."""

    connect: float = 10.0
    read: float = 60.0
    total: float = 120.0


@dataclass(frozen=True)
class RetryPolicy:
    """How 429 and 503 answers are retried: at most ``attempts`` more tries, waiting ``Retry-After`` when
    given (capped at ``max_wait``), else ``backoff`` seconds doubled on each retry."""

    attempts: int = 2
    backoff: float = 1.0
    max_wait: float = 30.0


@dataclass(frozen=True)
class Provider:
    """A gateway profile after command-line overrides."""

    name: str
    gemini: Route
    openai: Route
    default_model: str
    other_models: tuple[str, ...] = ()
    base_url: str | None = None
    embedded: bool = False
    api_key_env: str | None = None
    unsupported: dict[str, str] = field(default_factory=dict)
    triggers: dict[str, str] = field(default_factory=dict)
    timeouts: Timeouts = Timeouts()
    concurrency: int = 8
    description: str = ""
    source: str = ""
    retry: RetryPolicy = RetryPolicy()
    ca_bundle: str | None = None
    capabilities: dict[str, str] = field(default_factory=dict)
    """The model for each capability only some models have (``image``, ``tts``, ``thinking``,
    ``gemini3``); profile field ``models``."""

    def route(self, protocol: str) -> Route:
        return self.gemini if protocol == "gemini" else self.openai

    def model_for(self, capability: Capability) -> str | None:
        """The model a case needing ``capability`` runs against, or None when the profile names none."""
        if capability == "default":
            return self.default_model
        return self.capabilities.get(capability)

    def unsupported_reason(self, case_id: str) -> str | None:
        """The declared reason when ``case_id`` (or a path prefix of it) is declared unsupported."""
        for key, reason in self.unsupported.items():
            if case_id == key or case_id.startswith(key + "/"):
                return reason
        return None

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def safe_base_url(self) -> str | None:
        """The base URL without user info or query, safe to write into reports."""
        if not self.base_url:
            return None
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return f"{parts.scheme}://{host}{parts.path}"


def provider_path(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return candidate
    return PROVIDERS_DIR / f"{name_or_path}.yaml"


def available_providers() -> list[str]:
    return sorted(p.stem for p in PROVIDERS_DIR.glob("*.yaml"))


def load_provider(name_or_path: str) -> Provider:
    """Read and schema-check a profile by name (providers/<name>.yaml) or path."""
    path = provider_path(name_or_path)
    if not path.exists():
        known = ", ".join(available_providers())
        raise ConfigError(f"no such provider profile (known: {known})", source=path, field="--provider")
    raw = read_yaml(path)
    validate_document(raw, "provider.schema.json", path)
    return Provider(
        name=raw["name"],
        gemini=Route(**raw["gemini"]),
        openai=Route(**raw["openai"]),
        default_model=raw["models"]["default"],
        other_models=tuple(raw["models"].get("others", ())),
        capabilities={name: raw["models"][name] for name in CAPABILITIES[1:] if name in raw["models"]},
        base_url=raw.get("base_url"),
        embedded=bool(raw.get("embedded", False)),
        api_key_env=raw.get("api_key_env"),
        unsupported=dict(raw.get("unsupported", {})),
        triggers=dict(raw.get("triggers", {})),
        timeouts=Timeouts(**raw.get("timeouts", {})),
        concurrency=int(raw.get("concurrency", 8)),
        description=raw.get("description", ""),
        source=str(path),
        retry=RetryPolicy(**raw.get("retry", {})),
        ca_bundle=_ca_bundle(raw.get("ca_bundle"), path.parent, path),
    )


def _ca_bundle(
    value: str | None, base: Path, source: Path | str | None, field: str = "ca_bundle"
) -> str | None:
    """A CA bundle path (relative to the profile's folder), which must be a readable file."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise ConfigError(f"CA bundle not found: {value}", source=source, field=field)
    return str(path.resolve())


def with_overrides(provider: Provider, overrides: dict[str, Any]) -> Provider:
    """Apply command-line values (``None`` means not given); each is checked like the profile field."""
    changes: dict[str, Any] = {}
    if overrides.get("base_url"):
        url = overrides["base_url"].rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"not an http(s) base URL: {url!r}", field="--base-url")
        changes["base_url"] = url
        changes["embedded"] = False
    if overrides.get("api_key_env"):
        changes["api_key_env"] = overrides["api_key_env"]
    for protocol in ("gemini", "openai"):
        route = provider.route(protocol)
        prefix = overrides.get(f"{protocol}_prefix")
        auth = overrides.get(f"{protocol}_auth")
        if prefix is not None:
            prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        if auth is not None and auth not in AUTH_STYLES:
            raise ConfigError(
                f"unknown auth style {auth!r} (one of {', '.join(AUTH_STYLES)})", field=f"--{protocol}-auth"
            )
        if prefix is not None or auth is not None:
            changes[protocol] = Route(
                prefix=route.prefix if prefix is None else prefix, auth=auth or route.auth
            )
    if overrides.get("concurrency") is not None:
        if int(overrides["concurrency"]) < 1:
            raise ConfigError("must be at least 1", field="--concurrency")
        changes["concurrency"] = int(overrides["concurrency"])
    if overrides.get("timeout") is not None:
        total = float(overrides["timeout"])
        if total <= 0:
            raise ConfigError("must be positive", field="--timeout")
        changes["timeouts"] = dataclasses.replace(
            provider.timeouts,
            total=total,
            read=min(provider.timeouts.read, total),
            connect=min(provider.timeouts.connect, total),
        )
    retry: dict[str, Any] = {
        name: overrides.get(f"retry_{name}") for name in ("attempts", "backoff", "max_wait")
    }
    if overrides.get("retries") is not None:
        retry["attempts"] = overrides["retries"]
    retry = {k: v for k, v in retry.items() if v is not None}
    for name, value in retry.items():
        if value < 0:
            flag = "--retries" if name == "attempts" else f"--retry-{name.replace('_', '-')}"
            raise ConfigError("must not be negative", field=flag)
    if retry:
        changes["retry"] = dataclasses.replace(provider.retry, **retry)
    if overrides.get("ca_bundle"):
        changes["ca_bundle"] = _ca_bundle(overrides["ca_bundle"], Path.cwd(), None, "--ca-bundle")
    return dataclasses.replace(provider, **changes)
