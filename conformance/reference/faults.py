"""The registry of faults: switchable lies of the reference gateway, each a real bug class.

Every fault reproduces one class of ``GATEWAY-BUGS.md`` (``bug_class``, or None where no class is
listed) and changes the reference's behaviour in that one way only, so that a suite which is
green on the clean reference must turn red on each fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Protocol = Literal["gemini", "openai"]


@dataclass(frozen=True)
class Fault:
    """One switchable fault of the reference gateway.

    ``protocol`` is the protocol the bug class belongs to; ``affects`` lists every route the
    fault changes (some faults act on both protocols, as the real bugs do).
    """

    name: str
    bug_class: str | None
    protocol: Protocol
    feature: str
    description: str
    affects: tuple[Protocol, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.affects:
            object.__setattr__(self, "affects", (self.protocol,))


_BOTH: tuple[Protocol, ...] = ("gemini", "openai")

_ALL: tuple[Fault, ...] = (
    Fault(
        name="json-served-as-text",
        bug_class=None,
        protocol="gemini",
        feature="content-type",
        description=(
            "Native success bodies are JSON but labelled Content-Type: text/plain (no bug class listed;"
            " strict clients refuse to parse them)."
        ),
    ),
    Fault(
        name="system-instruction-dropped",
        bug_class="F26",
        protocol="gemini",
        feature="system-instruction",
        description=(
            "systemInstruction / system_instruction is ignored on the native route, and system and"
            " developer messages are dropped on the OpenAI route."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="snake-case-ignored",
        bug_class="F27",
        protocol="gemini",
        feature="snake-case",
        description=(
            "Only camelCase request fields are parsed on the native route; snake_case keys are"
            " silently dropped (not rejected)."
        ),
    ),
    Fault(
        name="stop-sequences-dropped",
        bug_class="F30",
        protocol="openai",
        feature="stop-sequences",
        description=("generationConfig.stopSequences (native) and stop (OpenAI) are ignored."),
        affects=_BOTH,
    ),
    Fault(
        name="max-tokens-dropped",
        bug_class="F31",
        protocol="openai",
        feature="max-output-tokens",
        description=(
            "generationConfig.maxOutputTokens (native) and max_tokens / max_completion_tokens"
            " (OpenAI) are not applied."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="finish-reason-always-stop",
        bug_class="F38",
        protocol="gemini",
        feature="finish-reason",
        description=(
            'Truncation is applied but the finish reason is reported as STOP (native) and "stop" (OpenAI).'
        ),
        affects=_BOTH,
    ),
    Fault(
        name="candidate-count-ignored",
        bug_class="F32",
        protocol="gemini",
        feature="candidate-count",
        description=(
            "Only one candidate (native) or choice (OpenAI) is returned whatever candidateCount or"
            " n asks for."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="usage-misreported",
        bug_class="F11",
        protocol="gemini",
        feature="usage",
        description=(
            "The total omits the output: totalTokenCount = promptTokenCount (native), total_tokens"
            " = prompt_tokens (OpenAI)."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="usage-renamed",
        bug_class="F12",
        protocol="gemini",
        feature="usage",
        description=("usageMetadata is returned as cpaUsageMetadata on the native route."),
    ),
    Fault(
        name="snake-case-output",
        bug_class="F27",
        protocol="gemini",
        feature="response-casing",
        description=(
            "Native response keys are emitted in snake_case (usage_metadata, finish_reason,"
            " model_version, ...)."
        ),
    ),
    Fault(
        name="errors-as-500",
        bug_class="F40",
        protocol="gemini",
        feature="error-status",
        description=(
            "Every error on either route is answered with HTTP 500 (native body: code 500, status"
            " INTERNAL; OpenAI body unchanged)."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="errors-openai-envelope",
        bug_class="F41",
        protocol="gemini",
        feature="error-envelope",
        description=(
            "Native errors are returned in the OpenAI form {error: {message, type, param, code}}"
            " with the right HTTP status."
        ),
    ),
    Fault(
        name="invalid-argument-unchecked",
        bug_class=None,
        protocol="gemini",
        feature="validation",
        description=(
            "Request validation is skipped (no bug class listed): out-of-range sampling values, bad"
            " roles and unknown fields are accepted with 200 instead of 400 on both routes."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="unknown-model-fallback",
        bug_class="F44",
        protocol="gemini",
        feature="model-routing",
        description=("An unknown model is silently served by the default model with 200 on both routes."),
        affects=_BOTH,
    ),
    Fault(
        name="x-goog-api-key-rejected",
        bug_class="F42",
        protocol="gemini",
        feature="auth",
        description=(
            "The x-goog-api-key header is not read: a request authenticated only by it is treated"
            " as having no key (native: 401 UNAUTHENTICATED; OpenAI: 401 invalid_api_key)."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="count-tokens-zero",
        bug_class="F43",
        protocol="gemini",
        feature="count-tokens",
        description=('countTokens answers {"totalTokens": 0}.'),
    ),
    Fault(
        name="models-openai-shape",
        bug_class="F44",
        protocol="gemini",
        feature="models-list",
        description=("The native GET models returns the OpenAI list shape {object: list, data: [...]}."),
    ),
    Fault(
        name="history-dropped",
        bug_class=None,
        protocol="gemini",
        feature="multi-turn",
        description=(
            "Only the last user turn is forwarded to the model on both routes (no bug class"
            " listed); the system instruction is kept."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="response-ids-dropped",
        bug_class="F45",
        protocol="openai",
        feature="response-ids",
        description=(
            "The native responseId and modelVersion are omitted, and the OpenAI top-level id is"
            " omitted (F45 for OpenAI; no class listed for the native side)."
        ),
        affects=_BOTH,
    ),
    Fault(
        name="openai-message-missing",
        bug_class="F45",
        protocol="openai",
        feature="openai-response-shape",
        description=("choices[].message is omitted from OpenAI chat completions."),
    ),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _ALL}


def check_fault_names(names: Iterable[str]) -> set[str]:
    """The given fault names as a set; raises ValueError naming any unknown one.

    A single string is taken as one fault name, not as a sequence of characters.
    """
    chosen = {names} if isinstance(names, str) else set(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    return chosen
