"""The domain model: cases, their requests, expectations and run policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Protocol = Literal["gemini", "openai"]
Level = Literal["MUST", "SHOULD"]
Outcome = Literal["passed", "failed", "errored", "flaky", "unsupported", "skipped"]
AuthMode = Literal["profile", "none", "invalid", "query", "x-goog-api-key", "bearer"]
StreamMode = Literal["none", "sse", "json-array"]
Capability = Literal["default", "image", "tts", "thinking", "gemini3"]
"""The model a case runs against: the profile's default, or its model for a capability some models lack."""
TriggerName = Literal["prompt-block", "answer-block", "rate-limit", "overloaded", "server-error"]
"""The documented trigger prompts a profile may name (``triggers``), which cases use as ``{trigger:NAME}``."""
SdkName = Literal["google-genai", "openai"]
SdkAuth = Literal["profile", "invalid"]
Side = Literal["response", "upstream"]
"""What an expectation judges: the gateway's response, or the request the gateway forwarded upstream."""
Forwarding = Literal["always", "optional", "never"]
"""Whether a step's request must reach the upstream, may, or must not."""

PROTOCOLS: tuple[Protocol, ...] = ("gemini", "openai")
CAPABILITIES: tuple[Capability, ...] = ("default", "image", "tts", "thinking", "gemini3")
TRIGGER_NAMES: tuple[TriggerName, ...] = (
    "prompt-block",
    "answer-block",
    "rate-limit",
    "overloaded",
    "server-error",
)
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD")
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "errored", "flaky", "unsupported", "skipped")
BROKEN: frozenset[str] = frozenset({"failed", "errored", "flaky"})
"""Outcomes that mean the gateway did not do what the case asks."""
NOT_JUDGED: frozenset[str] = frozenset({"unsupported", "skipped"})
"""Outcomes of cases that were not judged: declared unsupported, or not applicable to the target."""


@dataclass(frozen=True)
class RequestSpec:
    """One request of a case, before the provider's base URL, prefix, model and key are applied."""

    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw_body: str | None = None
    auth: AuthMode = "profile"
    stream: StreamMode = "none"
    protocol: Protocol | None = None
    """The route the request goes to when it is not the case's (a billing case comparing both routes)."""

    @property
    def template(self) -> Any:
        """The part of the request built from templates (``$from``, triggers, media)."""
        return self.body


SDK_PROTOCOLS: dict[SdkName, Protocol] = {"google-genai": "gemini", "openai": "openai"}
"""The route each official SDK speaks."""
SDK_CALLS: dict[SdkName, tuple[str, ...]] = {
    "google-genai": (
        "models.generate_content",
        "models.generate_content_stream",
        "models.count_tokens",
        "models.list",
        "models.get",
    ),
    "openai": ("chat.completions.create", "models.list", "models.retrieve"),
}
"""The calls a probe may make with each SDK (``conformance/sdk/calls.py`` implements each)."""
SDK_STREAMING_CALLS: frozenset[str] = frozenset({"models.generate_content_stream"})
"""SDK calls that always answer with a stream iterator (``chat.completions.create`` does with ``stream``)."""


@dataclass(frozen=True)
class SdkCall:
    """A step of an SDK probe: a call of an official SDK's async client, with its arguments as JSON.

    ``call`` names the method below the client (``models.generate_content``); ``args`` are its keyword
    arguments, templates included (``{model}``, ``$from``, ``$media``); ``auth: invalid`` configures the
    client with a wrong key. The probe runs it against the provider's route for the SDK's protocol.
    """

    sdk: SdkName
    call: str
    args: Any = None
    auth: SdkAuth = "profile"

    @property
    def protocol(self) -> Protocol:
        return SDK_PROTOCOLS[self.sdk]

    @property
    def stream(self) -> StreamMode:
        """``json-array`` for a call answered by a stream iterator: the probe records its chunks as a JSON
        array, which the stream checks read as they read Google's JSON-array stream."""
        streamed = self.call in SDK_STREAMING_CALLS or (
            isinstance(self.args, dict) and self.args.get("stream") is True
        )
        return "json-array" if streamed else "none"

    @property
    def template(self) -> Any:
        return self.args


@dataclass(frozen=True)
class Expectation:
    """One check of the vocabulary applied with its arguments, e.g. ``status: 200``."""

    check: str
    args: Any

    def describe(self) -> str:
        return f"{self.check}: {_compact(self.args)}"


@dataclass(frozen=True)
class UpstreamPart:
    """What a step asks of the suite's upstream: how it answers the request (a scenario), whether the
    request must reach it (``forwarded``), and what the forwarded request must satisfy (``expect``)."""

    scenario: str | None = None
    expect: tuple[Expectation, ...] = ()
    forwarded: Forwarding = "always"


@dataclass(frozen=True)
class Step:
    """A request and what its response (and, with an upstream part, the forwarded request) must satisfy."""

    request: RequestSpec | SdkCall
    expect: tuple[Expectation, ...]
    upstream: UpstreamPart | None = None


@dataclass(frozen=True)
class Policy:
    """How non-determinism is handled: run the case ``repeat`` times, require ``require`` passes."""

    repeat: int = 1
    require: int = 1


@dataclass(frozen=True)
class Case:
    """A conformance case: a stable id, its metadata, and the steps it sends and judges.

    ``model`` is the capability whose model the case runs against (``default`` unless it needs one only
    some models have); ``group`` gathers the cases of a feature that reports show folded together (the
    per-type multimodal cases: ``per-type``).
    """

    id: str
    protocol: Protocol
    feature: str
    level: Level
    title: str
    reference: str
    steps: tuple[Step, ...]
    policy: Policy
    source: Path
    bug_classes: tuple[str, ...] = ()
    reference_only: bool = False
    model: Capability = "default"
    group: str | None = None

    @property
    def sdks(self) -> tuple[SdkName, ...]:
        """The official SDKs the case's steps call (none for a case of raw HTTP requests)."""
        return tuple(dict.fromkeys(s.request.sdk for s in self.steps if isinstance(s.request, SdkCall)))

    def step_protocol(self, index: int) -> Protocol:
        """The route step ``index`` goes to: its own, else the case's."""
        if index < len(self.steps):
            return self.steps[index].request.protocol or self.protocol
        return self.protocol

    @property
    def needs_upstream(self) -> bool:
        """Whether a step has an upstream part: the case runs only when the run plays the gateway's
        upstream."""
        return any(step.upstream is not None for step in self.steps)

    @property
    def marker_names(self) -> tuple[str, ...]:
        return (self.protocol, self.level.lower(), feature_marker(self.feature))


def feature_marker(feature: str) -> str:
    """The pytest marker name of a feature (``generation-config`` -> ``generation_config``)."""
    return feature.replace("-", "_")


def _compact(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
    return text if len(text) <= 300 else text[:297] + "..."
