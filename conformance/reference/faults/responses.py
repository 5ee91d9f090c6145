"""Faults in the shape of a success response: its content type, its key casing, the finish reason, the
ids, and the OpenAI message."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import DOCUMENT, FRAMING, RESPONSE, Call, Framing
from conformance.reference.model.engine import Completion
from conformance.reference.protocols.gemini_request import camel_to_snake

ANSWERS = ("generateContent", "streamGenerateContent", "chat.completions")
"""The methods whose response renders the model's answer."""


def answers(body: dict[str, Any], call: Call) -> Iterator[tuple[dict[str, Any], Completion]]:
    """Each rendered candidate (native) or choice (OpenAI) of a response body, with the completion it
    renders (a choice standing for a blocked prompt renders none)."""
    rendered = body.get("candidates" if call.protocol == "gemini" else "choices")
    completions = call.generation.candidates if call.generation is not None else ()
    return zip(rendered if isinstance(rendered, list) else [], completions, strict=False)


def snake_keys(value: Any) -> Any:
    """A JSON value with every object key turned to snake_case."""
    if isinstance(value, dict):
        return {camel_to_snake(key): snake_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snake_keys(item) for item in value]
    return value


class JSONServedAsText(Fault):
    """Native success bodies are JSON but labelled Content-Type: text/plain (no bug class listed; strict
    clients refuse to parse them)."""

    name = "json-served-as-text"
    bug_class = None
    protocol = "gemini"
    feature = "content-type"
    caught_by = (
        "gemini/count-tokens/contents",
        "gemini/models/list",
        "gemini/text/single-turn",
    )

    @at(FRAMING)
    def labelled_text(self, framing: Framing, call: Call) -> Framing:
        if call.protocol != "gemini" or framing.mode != "json":
            return framing
        return replace(framing, content_type="text/plain; charset=utf-8")


class SnakeCaseOutput(Fault):
    """Native response keys are emitted in snake_case (usage_metadata, finish_reason, model_version,
    ...)."""

    name = "snake-case-output"
    bug_class = "F27"
    protocol = "gemini"
    feature = "response-casing"
    caught_by = (
        "gemini/streaming-sse/camel-case-keys",
        "gemini/text/camel-case-keys",
        "gemini/sdk/text",
    )

    @at(DOCUMENT)
    def snake_case(self, document: Any, call: Call) -> Any:
        return snake_keys(document) if call.protocol == "gemini" else document


class FinishReasonAlwaysStop(Fault):
    """Truncation is applied but the finish reason is reported as STOP (native) and "stop" (OpenAI)."""

    name = "finish-reason-always-stop"
    bug_class = "F38"
    protocol = "gemini"
    feature = "finish-reason"
    affects = BOTH
    caught_by = (
        "gemini/generation-config/max-output-tokens",
        "openai/sampling/max-tokens",
    )

    @at(RESPONSE)
    def always_stop(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        for rendered, completion in answers(body, call):
            if call.protocol == "gemini":
                if not completion.blocked:
                    rendered["finishReason"] = "STOP"
            elif rendered.get("finish_reason") != "tool_calls":
                rendered["finish_reason"] = "stop"
        return body


class ResponseIdsDropped(Fault):
    """The native responseId and modelVersion are omitted, and the OpenAI top-level id is omitted (F45
    for OpenAI; no class listed for the native side)."""

    name = "response-ids-dropped"
    bug_class = "F45"
    protocol = "openai"
    feature = "response-ids"
    affects = BOTH
    caught_by = (
        "gemini/text/model-version-and-response-id",
        "openai/chat/response-identity",
    )

    @at(RESPONSE)
    def without_ids(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.method not in ANSWERS:
            return body
        ids = ("modelVersion", "responseId") if call.protocol == "gemini" else ("id",)
        return {key: value for key, value in body.items() if key not in ids}


class OpenAIMessageMissing(Fault):
    """choices[].message is omitted from OpenAI chat completions."""

    name = "openai-message-missing"
    bug_class = "F45"
    protocol = "openai"
    feature = "openai-response-shape"
    caught_by = (
        "openai/chat/basic",
        "openai/sdk/text",
    )

    @at(RESPONSE)
    def without_message(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol == "openai":
            for choice, _ in answers(body, call):
                choice.pop("message", None)
        return body
