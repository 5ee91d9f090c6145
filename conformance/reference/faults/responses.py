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
        "gemini/streaming-sse/max-tokens",
        "gemini/streaming-json-array/max-tokens",
        "openai/streaming/length",
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


# -- what a candidate holds beyond its text ----------------------------------------------------------

CANDIDATE_METADATA = (
    "groundingMetadata",
    "urlContextMetadata",
    "citationMetadata",
    "logprobsResult",
    "avgLogprobs",
)
"""The candidate members a converter that knows only content, finishReason and safetyRatings loses."""


class CandidateMetadataDropped(Fault):
    """The candidate's metadata is dropped on the way back (no bug class listed; a gateway re-serialising
    through a type that lacks it): groundingMetadata, urlContextMetadata, citationMetadata, logprobsResult
    and avgLogprobs (native), and each choice's logprobs (OpenAI), unary and streamed."""

    name = "candidate-metadata-dropped"
    bug_class = None
    protocol = "gemini"
    feature = "grounding"
    affects = BOTH
    caught_by = (
        "gemini/grounding/google-search",
        "gemini/grounding/google-search-streamed",
        "gemini/grounding/url-context",
        "gemini/grounding/url-context-streamed",
        "gemini/logprobs/chosen-and-top",
        "gemini/logprobs/streamed",
        "gemini/citations/recitation-cited",
        "gemini/citations/streamed",
        "openai/logprobs/top-logprobs",
        "openai/logprobs/streamed",
    )

    @at(RESPONSE)
    def bare(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        for rendered, _ in answers(body, call):
            for key in CANDIDATE_METADATA if call.protocol == "gemini" else ("logprobs",):
                rendered.pop(key, None)
        return body


class CitationSourcesRenamed(Fault):
    """citationMetadata.citationSources is returned as citationMetadata.citations (the name of Vertex AI's
    older field), so clients reading citationSources find none."""

    name = "citation-sources-renamed"
    bug_class = None
    protocol = "gemini"
    feature = "citations"
    caught_by = (
        "gemini/citations/well-formed",
        "gemini/citations/recitation-cited",
        "gemini/citations/streamed",
    )

    @at(RESPONSE)
    def renamed(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol != "gemini":
            return body
        for candidate, _ in answers(body, call):
            metadata = candidate.get("citationMetadata")
            if isinstance(metadata, dict) and "citationSources" in metadata:
                metadata["citations"] = metadata.pop("citationSources")
        return body


class GeneratedMediaDropped(Fault):
    """Generated images and audio (inlineData parts of the answer) are dropped while their tokens are still
    billed in usageMetadata, unary and streamed (the converter reads text parts only)."""

    name = "generated-media-dropped"
    bug_class = "F36"
    protocol = "gemini"
    feature = "image-output"
    caught_by = (
        "gemini/image-output/image-part",
        "gemini/image-output/streamed",
        "gemini/speech-output/audio-part",
        "gemini/speech-output/two-speakers",
        "gemini/speech-output/streamed",
    )

    @at(RESPONSE)
    def text_only(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol != "gemini":
            return body
        for candidate, _ in answers(body, call):
            content = candidate.get("content")
            if isinstance(content, dict) and isinstance(content.get("parts"), list):
                content["parts"] = [part for part in content["parts"] if "inlineData" not in part]
        return body
