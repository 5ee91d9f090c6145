"""Faults in the modes a request switches on beyond tools: JSON mode, safety thresholds, thinking, output
modalities and speech, and logprobs."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.requests import configs, without
from conformance.reference.faults.responses import answers
from conformance.reference.faults.seams import FORWARDED, GENERATION, REQUEST, RESPONSE, Call, Forwarded
from conformance.reference.faults.tools import each_completion
from conformance.reference.model.engine import Completion, Generation
from conformance.reference.model.features import HARM_CATEGORIES_ALL, JSON_MIME

# -- JSON mode ---------------------------------------------------------------------------------------


class JSONModeDropped(Fault):
    """responseMimeType / responseSchema / responseJsonSchema (native) and response_format (OpenAI) are
    not forwarded, so prose comes back."""

    name = "json-mode-dropped"
    bug_class = "F28"
    protocol = "openai"
    feature = "json-mode"
    affects = BOTH
    caught_by = (
        "gemini/json-mode/enum",
        "gemini/json-mode/mime-only",
        "gemini/json-mode/response-schema",
        "openai/json-mode/json-object",
        "openai/json-mode/json-schema",
        "gemini/json-mode/lowercase-types",
        "gemini/sdk/json-schema",
        "openai/sdk/json-schema",
    )

    @at(FORWARDED)
    def prose(self, forwarded: Forwarded, call: Call) -> Forwarded:
        features = replace(forwarded.features, response_mime=None, response_schema=None)
        return replace(forwarded, features=features)


class ResponseJSONSchemaIgnored(Fault):
    """JSON mode is kept but the schema is dropped (native responseSchema / responseJsonSchema, OpenAI
    json_schema.schema), so the JSON does not follow it."""

    name = "response-json-schema-ignored"
    bug_class = "F28"
    protocol = "gemini"
    feature = "json-mode"
    affects = BOTH
    caught_by = (
        "gemini/json-mode/response-json-schema",
        "gemini/json-mode/response-schema",
        "openai/json-mode/json-schema",
        "gemini/json-mode/lowercase-types",
    )

    @at(FORWARDED)
    def schemaless(self, forwarded: Forwarded, call: Call) -> Forwarded:
        if forwarded.features.response_mime != JSON_MIME:
            return forwarded
        return replace(forwarded, features=replace(forwarded.features, response_schema=None))


# -- safety ------------------------------------------------------------------------------------------


class SafetySettingsOverridden(Fault):
    """The client's safetySettings are replaced by BLOCK_NONE for every category."""

    name = "safety-settings-overridden"
    bug_class = "F29"
    protocol = "gemini"
    feature = "safety"
    caught_by = ("gemini/safety/answer-block",)

    @at(FORWARDED)
    def block_none(self, forwarded: Forwarded, call: Call) -> Forwarded:
        safety = {category: "BLOCK_NONE" for category in HARM_CATEGORIES_ALL}
        return replace(forwarded, features=replace(forwarded.features, safety=safety))


class SafetyBlockOpaque(Fault):
    """Safety blocks come back as an empty text candidate: no promptFeedback.blockReason for a blocked
    prompt, no finishReason or safetyRatings for a blocked answer (native); an empty answer with
    finish_reason "stop" instead of "content_filter" (OpenAI), unary and streamed."""

    name = "safety-block-opaque"
    bug_class = "F29"
    protocol = "gemini"
    feature = "safety"
    affects = BOTH
    caught_by = (
        "gemini/safety/answer-block",
        "gemini/safety/prompt-block",
        "gemini/streaming-sse/prompt-block",
        "openai/safety/prompt-block",
        "openai/safety/prompt-block-streamed",
    )

    @at(RESPONSE)
    def opaque(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol == "openai":
            for choice in body.get("choices") or []:
                if isinstance(choice, dict) and choice.get("finish_reason") == "content_filter":
                    choice["finish_reason"] = "stop"
                    if isinstance(choice.get("message"), dict):
                        choice["message"]["content"] = ""
            return body
        if call.generation is None:
            return body
        for candidate, completion in answers(body, call):
            if completion.blocked:
                index = candidate.get("index")
                candidate.clear()
                candidate.update({"content": _opaque_content(), "index": index})
        if call.generation.block_reason is not None and "promptFeedback" in body:
            rest = {key: value for key, value in body.items() if key != "promptFeedback"}
            return {"candidates": [{"content": _opaque_content(), "index": 0}], **rest}
        return body


def _opaque_content() -> dict[str, Any]:
    return {"parts": [{"text": ""}], "role": "model"}


# -- thinking ----------------------------------------------------------------------------------------


class ThinkingConfigSnakeCaseIgnored(Fault):
    """thinking_config and its snake_case fields (include_thoughts, thinking_budget, thinking_level) are
    dropped."""

    name = "thinking-config-snake-case-ignored"
    bug_class = "F16"
    protocol = "gemini"
    feature = "thinking"
    caught_by = ("gemini/thinking/include-thoughts-snake-case",)

    @at(REQUEST)
    def camel_case_thinking_only(self, body: Any, call: Call) -> Any:
        if call.protocol != "gemini" or not isinstance(body, dict):
            return body
        out = dict(body)
        for key in ("generationConfig", "generation_config"):
            config = out.get(key)
            if not isinstance(config, dict):
                continue
            config = {k: v for k, v in config.items() if k != "thinking_config"}
            thinking = config.get("thinkingConfig")
            if isinstance(thinking, dict):
                config["thinkingConfig"] = {k: v for k, v in thinking.items() if "_" not in k}
            out[key] = config
        return out


class ThoughtPartsMerged(Fault):
    """The thought summary is copied in front of the answer text (the thought parts are kept)."""

    name = "thought-parts-merged"
    bug_class = "F15"
    protocol = "gemini"
    feature = "thinking"
    caught_by = (
        "gemini/thinking/include-thoughts",
        "gemini/thinking/streamed",
        "gemini/thinking/level-gemini3",
    )

    @at(GENERATION)
    def merged(self, generation: Generation, call: Call) -> Generation:
        return each_completion(generation, _merge_thoughts)


def _merge_thoughts(completion: Completion) -> Completion:
    if not completion.thoughts or not completion.pieces:
        return completion
    merged = "\n".join(completion.thoughts) + "\n"
    return replace(completion, pieces=(merged + completion.pieces[0], *completion.pieces[1:]))


def _native_copy(body: Any, call: Call) -> dict[str, Any] | None:
    """A copy of a native request body to rewrite, or None for any other body."""
    return copy.deepcopy(body) if call.protocol == "gemini" and isinstance(body, dict) else None


def _thinking_configs(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        config[key]
        for config in configs(body)
        for key in ("thinkingConfig", "thinking_config")
        if isinstance(config.get(key), dict)
    ]


class ThinkingLevelDropped(Fault):
    """thinkingLevel (thinking_level) is not forwarded, as by a gateway that knows only the Gemini 2.5
    thinkingBudget: an unknown level and a level beside a budget get 200 instead of 400."""

    name = "thinking-level-dropped"
    bug_class = "F16"
    protocol = "gemini"
    feature = "thinking"
    caught_by = (
        "gemini/thinking/level-and-budget",
        "gemini/thinking/level-unknown",
    )

    @at(REQUEST)
    def budget_only(self, body: Any, call: Call) -> Any:
        copied = _native_copy(body, call)
        if copied is None:
            return body
        for config in _thinking_configs(copied):
            without(config, "thinkingLevel")
        return copied


class ThinkingBudgetDropped(Fault):
    """thinkingBudget (thinking_budget) is not forwarded: thinkingBudget 0 does not turn thinking off, and
    the thoughts the model then spends are billed."""

    name = "thinking-budget-dropped"
    bug_class = "F16"
    protocol = "gemini"
    feature = "thinking"
    caught_by = ("gemini/thinking/budget-zero",)

    @at(REQUEST)
    def level_only(self, body: Any, call: Call) -> Any:
        copied = _native_copy(body, call)
        if copied is None:
            return body
        for config in _thinking_configs(copied):
            without(config, "thinkingBudget")
        return copied


class ReasoningEffortNoneIgnored(Fault):
    """reasoning_effort "none" is not mapped to thinking off (the other efforts are): a model that thinks
    by default keeps thinking, and the reasoning tokens are billed."""

    name = "reasoning-effort-none-ignored"
    bug_class = None
    protocol = "openai"
    feature = "thinking"
    caught_by = ("openai/sampling/reasoning-effort-none",)

    @at(REQUEST)
    def unmapped(self, body: Any, call: Call) -> Any:
        if call.protocol != "openai" or not isinstance(body, dict) or body.get("reasoning_effort") != "none":
            return body
        return {key: value for key, value in body.items() if key != "reasoning_effort"}


class LogprobsIgnored(Fault):
    """responseLogprobs and logprobs (native) and logprobs and top_logprobs (OpenAI) are not forwarded: no
    logprobs come back, and an out-of-range count gets 200."""

    name = "logprobs-ignored"
    bug_class = None
    protocol = "gemini"
    feature = "logprobs"
    affects = BOTH
    caught_by = (
        "gemini/logprobs/chosen-and-top",
        "gemini/logprobs/out-of-range",
        "gemini/logprobs/streamed",
        "openai/logprobs/top-logprobs",
        "openai/logprobs/out-of-range",
        "openai/logprobs/streamed",
    )

    @at(REQUEST)
    def no_logprobs(self, body: Any, call: Call) -> Any:
        if not isinstance(body, dict):
            return body
        if call.protocol == "openai":
            return {key: value for key, value in body.items() if key not in ("logprobs", "top_logprobs")}
        copied = copy.deepcopy(body)
        for config in configs(copied):
            without(config, "responseLogprobs", "logprobs")
        return copied


class SpeechConfigDropped(Fault):
    """speechConfig (speech_config) is not forwarded: the voices asked for never reach the model, so an
    unknown voice or too many speakers get 200 in the default voice."""

    name = "speech-config-dropped"
    bug_class = None
    protocol = "gemini"
    feature = "speech-output"
    caught_by = (
        "gemini/speech-output/unknown-voice",
        "gemini/speech-output/three-speakers",
    )

    @at(REQUEST)
    def default_voice(self, body: Any, call: Call) -> Any:
        copied = _native_copy(body, call)
        if copied is None:
            return body
        for config in configs(copied):
            without(config, "speechConfig")
        return copied


class ResponseModalitiesDropped(Fault):
    """responseModalities (native) and modalities with audio (OpenAI) are not forwarded, so a text model
    asked for images or audio answers 200 with text only instead of refusing."""

    name = "response-modalities-dropped"
    bug_class = "F36"
    protocol = "gemini"
    feature = "image-output"
    affects = BOTH
    caught_by = (
        "gemini/image-output/text-model",
        "gemini/speech-output/text-model",
        "openai/output-modalities/audio",
    )

    @at(REQUEST)
    def text_only(self, body: Any, call: Call) -> Any:
        if not isinstance(body, dict):
            return body
        if call.protocol == "openai":
            return {key: value for key, value in body.items() if key not in ("modalities", "audio")}
        copied = copy.deepcopy(body)
        for config in configs(copied):
            without(config, "responseModalities")
        return copied
