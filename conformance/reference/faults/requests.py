"""Faults in what the gateway reads from a request and forwards to the model: how it parses the request,
the conversation it keeps, and the sampling settings it passes on."""

from __future__ import annotations

from dataclasses import replace

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import FORWARDED, PARSE_MODE, Call, Forwarded
from conformance.reference.protocols.gemini_request import ParseMode

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
    )

    @at(PARSE_MODE)
    def lenient(self, mode: ParseMode, call: Call) -> ParseMode:
        return replace(mode, strict=False)


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
        "gemini/sdk/system-instruction",
        "openai/sdk/system-message",
    )

    @at(FORWARDED)
    def without_system(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, prompt=forwarded.prompt.without_system())


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
