"""Faults in the modes a request switches on beyond tools: JSON mode, safety thresholds and thinking."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
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
    prompt, no finishReason or safetyRatings for a blocked answer."""

    name = "safety-block-opaque"
    bug_class = "F29"
    protocol = "gemini"
    feature = "safety"
    caught_by = (
        "gemini/safety/answer-block",
        "gemini/safety/prompt-block",
    )

    @at(RESPONSE)
    def opaque(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol != "gemini" or call.generation is None:
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
    caught_by = ("gemini/thinking/include-thoughts",)

    @at(GENERATION)
    def merged(self, generation: Generation, call: Call) -> Generation:
        return each_completion(generation, _merge_thoughts)


def _merge_thoughts(completion: Completion) -> Completion:
    if not completion.thoughts or not completion.pieces:
        return completion
    merged = "\n".join(completion.thoughts) + "\n"
    return replace(completion, pieces=(merged + completion.pieces[0], *completion.pieces[1:]))
