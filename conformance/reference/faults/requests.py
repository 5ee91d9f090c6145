"""Faults in what the gateway reads from a request and forwards to the model: how it parses the request
(its spellings and characters), the conversation it keeps, the sampling settings and the other fields it
passes on.

The faults at the ``request`` seam rewrite a copy of the decoded body (the original is not changed); a
body not of the shape its protocol sends is left alone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import FORWARDED, PARSE_MODE, REQUEST, Call, Forwarded
from conformance.reference.model.engine import Turn
from conformance.reference.protocols.errors import ProtocolError, invalid_argument
from conformance.reference.protocols.gemini_request import ParseMode, camel_to_snake

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def copied(body: Any) -> dict[str, Any] | None:
    """A deep copy of a JSON object body to rewrite, or None when the body is not an object."""
    return copy.deepcopy(body) if isinstance(body, dict) else None


def configs(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The generationConfig of a native body, in either spelling."""
    for key in ("generationConfig", "generation_config"):
        if isinstance(body.get(key), dict):
            yield body[key]


def without(mapping: Any, *names: str) -> None:
    """Remove the fields (each in camelCase and snake_case) from a mapping; anything else is left."""
    if isinstance(mapping, dict):
        for name in names:
            mapping.pop(name, None)
            mapping.pop(camel_to_snake(name), None)


# -- reading the request ---------------------------------------------------------------------------


class SnakeCaseIgnored(Fault):
    """Only camelCase request fields are parsed on the native route; snake_case keys are silently dropped
    (not rejected)."""

    name = "snake-case-ignored"
    bug_class = "F27"
    protocol = "gemini"
    feature = "snake-case"
    caught_by = (
        "gemini/request-casing/mixed",
        "gemini/request-casing/snake-case-candidate-count",
        "gemini/request-casing/snake-case-max-output-tokens",
        "gemini/request-casing/snake-case-stop-sequences",
        "gemini/system-instruction/snake-case",
        "gemini/json-mode/snake-case",
        "gemini/safety/block-none-honoured",
        "gemini/request-casing/singular-repeated-fields",
    )

    @at(PARSE_MODE)
    def camel_case_only(self, mode: ParseMode, call: Call) -> ParseMode:
        return replace(mode, accept_snake_case=False)


class InvalidArgumentUnchecked(Fault):
    """Request validation is skipped (no bug class listed): out-of-range sampling values, bad roles and
    unknown fields are accepted with 200 instead of 400 on both routes."""

    name = "invalid-argument-unchecked"
    bug_class = None
    protocol = "gemini"
    feature = "validation"
    affects = BOTH
    caught_by = (
        "gemini/errors/bad-role",
        "gemini/generation-config/response-modalities-bad-enum",
        "gemini/generation-config/temperature-out-of-range",
        "openai/sampling/temperature-out-of-range",
        "gemini/safety/unknown-category",
        "gemini/safety/unknown-threshold",
        "gemini/generation-config/presence-penalty-out-of-range",
        "gemini/media-resolution/unknown-value",
        "gemini/thinking/level-unknown",
        "openai/sampling/top-p-out-of-range",
        "openai/sampling/reasoning-effort-invalid",
    )

    @at(PARSE_MODE)
    def lenient(self, mode: ParseMode, call: Call) -> ParseMode:
        return replace(mode, strict=False)


class NonAsciiMangled(Fault):
    """The request body is read through an ASCII codec with replacement: every non-ASCII character of the
    prompt, the system instruction, the function declarations and every other field becomes '?' before it
    is forwarded (no bug class listed; the seeds' gateways serve Chinese-speaking users)."""

    name = "non-ascii-mangled"
    bug_class = None
    protocol = "gemini"
    feature = "unicode"
    affects = BOTH
    caught_by = (
        "gemini/unicode/prompt",
        "gemini/unicode/system-instruction",
        "gemini/unicode/function-args",
        "gemini/unicode/streamed-sse",
        "gemini/unicode/streamed-json-array",
        "gemini/unicode/error-message",
        "openai/unicode/prompt",
        "openai/unicode/system-message",
        "openai/unicode/tool-arguments",
        "openai/unicode/streamed",
        "openai/unicode/error-message",
        "gemini/unicode/line-separators-kept",
        "openai/unicode/line-separators-kept",
    )

    @at(REQUEST)
    def question_marks(self, body: Any, call: Call) -> Any:
        return _ascii(body) if isinstance(body, dict) else body


def _ascii(value: Any) -> Any:
    if isinstance(value, str):
        return _NON_ASCII.sub("?", value)
    if isinstance(value, dict):
        return {_ascii(key): _ascii(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_ascii(item) for item in value]
    return value


class SingularRepeatedFieldsRefused(Fault):
    """contents, parts or systemInstruction.parts given as one object instead of a list (as Google's own
    example and new-api's examples send them) are refused with 400, the gateway's typed request only
    reading lists."""

    name = "singular-repeated-fields-refused"
    bug_class = "F27"
    protocol = "gemini"
    feature = "request-casing"
    caught_by = ("gemini/request-casing/singular-repeated-fields",)

    @at(REQUEST)
    def lists_only(self, body: Any, call: Call) -> Any:
        if call.protocol != "gemini" or not isinstance(body, dict):
            return body
        contents = body.get("contents")
        system = body.get("systemInstruction", body.get("system_instruction"))
        singular = isinstance(contents, dict) or any(
            isinstance(content, dict) and isinstance(content.get("parts"), dict)
            for content in [*(contents if isinstance(contents, list) else [contents]), system]
        )
        if singular:
            message = "Invalid JSON payload received: json: cannot unmarshal object into []Content or []Part."
            raise ProtocolError(invalid_argument(message))
        return body


class LowercaseEnumsIgnored(Fault):
    """Enum values spelt in lower case are not recognised: a functionCallingConfig mode like "none" is
    treated as unset (AUTO), and a Gemini Schema with lower-case types (parameters, responseSchema) is
    dropped as invalid."""

    name = "lowercase-enums-ignored"
    bug_class = "F24"
    protocol = "gemini"
    feature = "function-calling"
    caught_by = (
        "gemini/function-calling/mode-lowercase",
        "gemini/function-calling/lowercase-types",
        "gemini/json-mode/lowercase-types",
    )

    @at(REQUEST)
    def upper_case_only(self, body: Any, call: Call) -> Any:
        if call.protocol != "gemini" or not isinstance(body, dict):
            return body
        body = copy.deepcopy(body)
        tool_config = body.get("toolConfig", body.get("tool_config"))
        calling = (
            tool_config.get("functionCallingConfig", tool_config.get("function_calling_config"))
            if isinstance(tool_config, dict)
            else None
        )
        mode = calling.get("mode") if isinstance(calling, dict) else None
        if isinstance(calling, dict) and isinstance(mode, str) and not mode.isupper():
            del calling["mode"]
        for config in configs(body):
            for key in ("responseSchema", "response_schema"):
                if _lowercase_types(config.get(key)):
                    del config[key]
        for tool in body.get("tools") or []:
            declarations = (
                tool.get("functionDeclarations", tool.get("function_declarations"))
                if isinstance(tool, dict)
                else None
            )
            for declaration in declarations or []:
                if isinstance(declaration, dict) and _lowercase_types(declaration.get("parameters")):
                    del declaration["parameters"]
        return body


def _lowercase_types(schema: Any) -> bool:
    """Whether a Gemini Schema names a type in lower case anywhere."""
    if isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, str) and kind != kind.upper():
            return True
        return any(_lowercase_types(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_lowercase_types(item) for item in schema)
    return False


# -- the conversation ------------------------------------------------------------------------------


class SystemInstructionDropped(Fault):
    """systemInstruction / system_instruction is ignored on the native route, and system and developer
    messages are dropped on the OpenAI route."""

    name = "system-instruction-dropped"
    bug_class = "F26"
    protocol = "gemini"
    feature = "system-instruction"
    affects = BOTH
    caught_by = (
        "gemini/system-instruction/camel-case",
        "gemini/system-instruction/snake-case",
        "openai/chat/system-message",
        "gemini/system-instruction/several-parts",
        "gemini/request-casing/singular-repeated-fields",
        "gemini/unicode/system-instruction",
        "openai/chat/system-messages-first",
        "openai/chat/system-messages-second",
        "openai/unicode/system-message",
        "gemini/sdk/system-instruction",
        "openai/sdk/system-message",
    )

    @at(FORWARDED)
    def without_system(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, prompt=forwarded.prompt.without_system())


class FirstSystemTextOnly(Fault):
    """Only the first system message (OpenAI) or the first part of systemInstruction (native) is
    forwarded; the rest of the system text is lost."""

    name = "first-system-text-only"
    bug_class = "F26"
    protocol = "openai"
    feature = "system-instruction"
    affects = BOTH
    caught_by = (
        "gemini/system-instruction/several-parts",
        "openai/chat/system-messages-second",
    )

    @at(FORWARDED)
    def first_only(self, forwarded: Forwarded, call: Call) -> Forwarded:
        system = forwarded.prompt.system
        if system is None or len(system.texts) < 2:
            return forwarded
        kept = Turn(system.role, system.texts[:1], system.structured, system.media)
        return replace(forwarded, prompt=replace(forwarded.prompt, system=kept))


class CachedContentIgnored(Fault):
    """cachedContent is not forwarded (no bug class listed): the cache never reaches the model, and a
    request naming a cache that does not exist gets 200."""

    name = "cached-content-ignored"
    bug_class = None
    protocol = "gemini"
    feature = "cached-content"
    caught_by = (
        "gemini/cached-content/round-trip",
        "gemini/cached-content/unknown-cache",
    )

    @at(REQUEST)
    def no_cache(self, body: Any, call: Call) -> Any:
        if call.protocol != "gemini" or not isinstance(body, dict):
            return body
        body = copy.deepcopy(body)
        without(body, "cachedContent")
        return body


class HistoryDropped(Fault):
    """Only the last user turn is forwarded to the model on both routes (no bug class listed); the system
    instruction is kept."""

    name = "history-dropped"
    bug_class = None
    protocol = "gemini"
    feature = "multi-turn"
    affects = BOTH
    caught_by = (
        "gemini/text/multi-turn",
        "openai/chat/multi-turn",
        "gemini/cached-content/round-trip",
    )

    @at(FORWARDED)
    def last_user_turn_only(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, prompt=forwarded.prompt.only_last_user_turn())


# -- sampling --------------------------------------------------------------------------------------


class StopSequencesDropped(Fault):
    """generationConfig.stopSequences (native) and stop (OpenAI) are ignored."""

    name = "stop-sequences-dropped"
    bug_class = "F30"
    protocol = "openai"
    feature = "stop-sequences"
    affects = BOTH
    caught_by = (
        "gemini/generation-config/stop-sequences",
        "openai/sampling/stop",
        "openai/sampling/stop-string",
        "openai/sampling/stop-string-streamed",
        "gemini/sdk/generation-config",
        "openai/sdk/sampling",
    )

    @at(FORWARDED)
    def no_stop_sequences(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, sampling=replace(forwarded.sampling, stop_sequences=()))


class MaxTokensDropped(Fault):
    """generationConfig.maxOutputTokens (native) and max_tokens / max_completion_tokens (OpenAI) are not
    applied."""

    name = "max-tokens-dropped"
    bug_class = "F31"
    protocol = "openai"
    feature = "max-output-tokens"
    affects = BOTH
    caught_by = (
        "gemini/generation-config/max-output-tokens",
        "openai/sampling/max-tokens",
        "gemini/streaming-sse/max-tokens",
        "gemini/streaming-json-array/max-tokens",
        "openai/streaming/length",
        "gemini/sdk/generation-config",
        "openai/sdk/sampling",
    )

    @at(FORWARDED)
    def no_limit(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, sampling=replace(forwarded.sampling, max_output_tokens=None))


class CandidateCountIgnored(Fault):
    """Only one candidate (native) or choice (OpenAI) is returned whatever candidateCount or n asks for."""

    name = "candidate-count-ignored"
    bug_class = "F32"
    protocol = "gemini"
    feature = "candidate-count"
    affects = BOTH
    caught_by = (
        "gemini/generation-config/candidate-count",
        "openai/sampling/n",
        "openai/streaming/n-2",
    )

    @at(FORWARDED)
    def one_candidate(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, sampling=replace(forwarded.sampling, candidate_count=1))


class SamplingFieldsDropped(Fault):
    """topK, presencePenalty, frequencyPenalty and seed (native) and top_p, presence_penalty,
    frequency_penalty and seed (OpenAI) are not forwarded (no bug class listed; issue 11's audit of two
    gateways found penalties and seed dropped), so out-of-range values get 200 instead of 400."""

    name = "sampling-fields-dropped"
    bug_class = None
    protocol = "gemini"
    feature = "generation-config"
    affects = BOTH
    caught_by = (
        "gemini/generation-config/top-k-not-integer",
        "gemini/generation-config/presence-penalty-out-of-range",
        "gemini/generation-config/frequency-penalty-out-of-range",
        "gemini/generation-config/seed-not-integer",
        "openai/sampling/top-p-out-of-range",
        "openai/sampling/presence-penalty-out-of-range",
        "openai/sampling/frequency-penalty-out-of-range",
    )

    @at(REQUEST)
    def dropped(self, body: Any, call: Call) -> Any:
        body = copied(body)
        if body is None:
            return body
        if call.protocol == "gemini":
            for config in configs(body):
                without(config, "topK", "presencePenalty", "frequencyPenalty", "seed")
        else:
            for name in ("top_p", "presence_penalty", "frequency_penalty", "seed"):
                body.pop(name, None)
        return body


class StopStringDropped(Fault):
    """OpenAI stop given as a single string (not a list) is dropped; a list of stops still works."""

    name = "stop-string-dropped"
    bug_class = "F30"
    protocol = "openai"
    feature = "stop-sequences"
    caught_by = (
        "openai/sampling/stop-string",
        "openai/sampling/stop-string-streamed",
    )

    @at(REQUEST)
    def list_only(self, body: Any, call: Call) -> Any:
        if call.protocol != "openai" or not isinstance(body, dict) or not isinstance(body.get("stop"), str):
            return body
        return {key: value for key, value in body.items() if key != "stop"}


class StopsTruncatedToFour(Fault):
    """An OpenAI stop list longer than OpenAI's 4 is cut to its first 4 instead of being forwarded (Gemini
    takes 5) or refused: the fifth stop silently does nothing."""

    name = "stops-truncated-to-four"
    bug_class = "F30"
    protocol = "openai"
    feature = "stop-sequences"
    caught_by = ("openai/sampling/five-stops",)

    @at(REQUEST)
    def first_four(self, body: Any, call: Call) -> Any:
        if call.protocol != "openai" or not isinstance(body, dict) or not isinstance(body.get("stop"), list):
            return body
        return {**body, "stop": body["stop"][:4]}


class MediaResolutionDropped(Fault):
    """generationConfig.mediaResolution and a part's mediaResolution are not forwarded (no bug class
    listed): every image counts the default tokens, and an unknown value gets 200."""

    name = "media-resolution-dropped"
    bug_class = None
    protocol = "gemini"
    feature = "media-resolution"
    caught_by = (
        "gemini/media-resolution/low-counts-fewer",
        "gemini/media-resolution/per-part",
        "gemini/media-resolution/unknown-value",
    )

    @at(REQUEST)
    def default_resolution(self, body: Any, call: Call) -> Any:
        if call.protocol != "gemini" or not isinstance(body, dict):
            return body
        body = copy.deepcopy(body)
        for config in configs(body):
            without(config, "mediaResolution")
        for content in body.get("contents") or []:
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in parts if isinstance(parts, list) else []:
                if isinstance(part, dict):
                    without(part, "mediaResolution")
        return body
