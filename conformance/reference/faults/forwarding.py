"""Faults of the forwarding reference: what a gateway gets wrong between its clients and Google.

They apply to the reference run as a forwarding gateway (``conformance serve --forward-to URL``, or the
embedded reference of a run with ``--upstream``) and change the request on its way up (``outbound``), the
upstream's answer on its way down (``inbound``, ``upstream_event``, ``framing``, ``response``) or the headers
of the answer (``reply_headers``). Most are invisible from the client's side of a deterministic model:
the cases that catch them judge what reached the suite's upstream. The request faults come first, then the
security faults, then those of the answer.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, ClassVar

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.requests import without
from conformance.reference.faults.seams import (
    FRAMING,
    INBOUND,
    OUTBOUND,
    REPLY_HEADERS,
    RESPONSE,
    UPSTREAM_EVENT,
    Call,
    Framing,
    Inbound,
    Outbound,
    ReplyHeaders,
)
from conformance.reference.faults.tools import split_responses
from conformance.reference.protocols.errors import GoogleError, OpenAIError

Body = dict[str, Any]


def edited(outbound: Outbound, change: Callable[[Body], None]) -> Outbound:
    """The request with its JSON body changed by ``change`` (a body that is not a JSON object is left)."""
    body = outbound.json()
    if not isinstance(body, dict):
        return outbound
    body = copy.deepcopy(body)
    change(body)
    return replace(outbound, body=body)


def _config(body: Body) -> dict[str, Any] | None:
    config = body.get("generationConfig", body.get("generation_config"))
    return config if isinstance(config, dict) else None


def _parts(body: Body) -> Iterator[dict[str, Any]]:
    """Every part of the contents and the system instruction, in any casing."""
    holders = [*(body.get("contents") or [])]
    system = body.get("systemInstruction", body.get("system_instruction"))
    if system is not None:
        holders.append(system)
    for content in holders:
        for part in (content.get("parts") or []) if isinstance(content, dict) else []:
            if isinstance(part, dict):
                yield part


def generates(outbound: Outbound) -> bool:
    """Whether a request is a generation (``generateContent`` or ``streamGenerateContent``)."""
    return outbound.path.endswith((":generateContent", ":streamGenerateContent"))


def _answer_edited(inbound: Inbound, change: Callable[[Body], None]) -> Inbound:
    body = inbound.json()
    if not isinstance(body, dict):
        return inbound
    change(body)
    return replace(inbound, body=json.dumps(body, ensure_ascii=False).encode("utf-8"))


# -- the request: fields dropped, rewritten or invented ------------------------------------------


class FieldsDropped(Fault):
    """A gateway that leaves request fields out on the way up: ``from_config`` names fields of
    generationConfig, ``from_body`` fields of the request body, under either casing. It changes only the
    routes the fault ``affects``. A fault of this kind subclasses it and declares its record and fields."""

    from_config: ClassVar[tuple[str, ...]] = ()
    from_body: ClassVar[tuple[str, ...]] = ()

    @at(OUTBOUND)
    def dropped(self, outbound: Outbound, call: Call) -> Outbound:
        if call.protocol not in self.affects:
            return outbound

        def drop(body: Body) -> None:
            without(_config(body), *self.from_config)
            without(body, *self.from_body)

        return edited(outbound, drop)


class GenerationConfigPruned(FieldsDropped):
    """The native pass-through rebuilds generationConfig from the fields it knows: seed, presence and
    frequency penalties, responseLogprobs and logprobs are dropped on the way up."""

    name = "generation-config-pruned"
    bug_class = None
    protocol = "gemini"
    feature = "forwarding"
    caught_by = ("gemini/forwarding/generation-config",)
    from_config = ("seed", "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs")


class SafetySettingsDropped(FieldsDropped):
    """The native pass-through drops safetySettings: the client's thresholds never reach Google."""

    name = "safety-settings-dropped"
    bug_class = "F29"
    protocol = "gemini"
    feature = "forwarding"
    caught_by = ("gemini/forwarding/safety-settings",)
    from_body = ("safetySettings",)


class SafetyForcedBlockNone(Fault):
    """Every request goes up with safetySettings forced to BLOCK_NONE for every category, whatever the
    client sent (one-api's environment-forced setting)."""

    name = "safety-forced-block-none"
    bug_class = "F29"
    protocol = "gemini"
    feature = "forwarding"
    affects = BOTH
    caught_by = (
        "gemini/forwarding/safety-settings",
        "gemini/forwarding/nothing-invented",
        "openai/forwarding/nothing-invented",
    )

    @at(OUTBOUND)
    def forced(self, outbound: Outbound, call: Call) -> Outbound:
        categories = (
            "HARM_CATEGORY_HARASSMENT",
            "HARM_CATEGORY_HATE_SPEECH",
            "HARM_CATEGORY_SEXUALLY_EXPLICIT",
            "HARM_CATEGORY_DANGEROUS_CONTENT",
        )

        def force(body: Body) -> None:
            without(body, "safetySettings")
            body["safetySettings"] = [{"category": c, "threshold": "BLOCK_NONE"} for c in categories]

        return edited(outbound, force) if generates(outbound) else outbound


class ThinkingConfigDropped(FieldsDropped):
    """generationConfig.thinkingConfig (native) and the thinking reasoning_effort asks for (OpenAI) do not
    reach Google."""

    name = "thinking-config-dropped"
    bug_class = "F16"
    protocol = "gemini"
    feature = "forwarding"
    affects = BOTH
    caught_by = ("gemini/forwarding/thinking-config", "openai/forwarding/reasoning-effort")
    from_config = ("thinkingConfig",)


class SnakeCaseFieldsDropped(Fault):
    """The native pass-through parses only camelCase field names and re-serializes what it parsed: a
    snake_case generation_config, system_instruction or safety_settings is lost on the way up."""

    name = "snake-case-fields-dropped"
    bug_class = "F27"
    protocol = "gemini"
    feature = "forwarding"
    caught_by = ("gemini/forwarding/snake-case",)

    @at(OUTBOUND)
    def camel_only(self, outbound: Outbound, call: Call) -> Outbound:
        if call.protocol != "gemini":
            return outbound

        def keep_camel(body: Body) -> None:
            for key in [key for key in body if "_" in key]:
                del body[key]

        return edited(outbound, keep_camel)


class ResponseSchemaRewritten(Fault):
    """generationConfig.responseSchema (a Gemini Schema) is forwarded as responseJsonSchema, the wrong
    schema field for what it holds."""

    name = "response-schema-rewritten"
    bug_class = "F28"
    protocol = "gemini"
    feature = "forwarding"
    caught_by = ("gemini/forwarding/response-schema",)

    @at(OUTBOUND)
    def rewritten(self, outbound: Outbound, call: Call) -> Outbound:
        def move(body: Body) -> None:
            config = _config(body)
            if config is not None and "responseSchema" in config:
                config["responseJsonSchema"] = config.pop("responseSchema")

        return edited(outbound, move)


class InlineMimeRelabelled(Fault):
    """Every inline media part goes up labelled image/jpeg, whatever its type (a hard-coded MIME type)."""

    name = "inline-mime-relabelled"
    bug_class = "F34"
    protocol = "gemini"
    feature = "forwarding"
    affects = BOTH
    caught_by = ("gemini/forwarding/inline-data", "openai/forwarding/media")

    @at(OUTBOUND)
    def relabelled(self, outbound: Outbound, call: Call) -> Outbound:
        def relabel(body: Body) -> None:
            for part in _parts(body):
                blob = part.get("inlineData", part.get("inline_data"))
                if isinstance(blob, dict):
                    without(blob, "mimeType")
                    blob["mimeType"] = "image/jpeg"

        return edited(outbound, relabel)


class DefaultsInvented(Fault):
    """Fields the client never sent are added on the way up: ``"tools": null`` and an empty
    generationConfig."""

    name = "defaults-invented"
    bug_class = None
    protocol = "gemini"
    feature = "forwarding"
    affects = BOTH
    caught_by = ("gemini/forwarding/nothing-invented", "openai/forwarding/nothing-invented")

    @at(OUTBOUND)
    def invented(self, outbound: Outbound, call: Call) -> Outbound:
        def invent(body: Body) -> None:
            body.setdefault("tools", None)
            if _config(body) is None:
                body["generationConfig"] = {}

        return edited(outbound, invent) if generates(outbound) else outbound


class FunctionCallIdsDropped(Fault):
    """The ids of function calls and of the function responses answering them are dropped on the way up,
    so Google cannot pair them."""

    name = "function-call-ids-dropped"
    bug_class = "F20"
    protocol = "gemini"
    feature = "forwarding"
    affects = BOTH
    caught_by = ("gemini/forwarding/function-turn", "openai/forwarding/tool-messages")

    @at(OUTBOUND)
    def dropped(self, outbound: Outbound, call: Call) -> Outbound:
        def strip(body: Body) -> None:
            for part in _parts(body):
                for name in ("functionCall", "function_call", "functionResponse", "function_response"):
                    if isinstance(part.get(name), dict):
                        part[name].pop("id", None)

        return edited(outbound, strip)


class ThoughtSignaturesDropped(Fault):
    """thoughtSignature is dropped from the parts of a replayed model turn, so Gemini 3 refuses the next
    turn."""

    name = "thought-signatures-dropped"
    bug_class = "F13"
    protocol = "gemini"
    feature = "forwarding"
    affects = BOTH
    caught_by = ("gemini/forwarding/function-turn", "openai/forwarding/tool-messages")

    @at(OUTBOUND)
    def dropped(self, outbound: Outbound, call: Call) -> Outbound:
        def strip(body: Body) -> None:
            for part in _parts(body):
                without(part, "thoughtSignature")

        return edited(outbound, strip)


class StreamAsUnary(Fault):
    """A native ``:streamGenerateContent`` without ``alt=sse`` is taken for a plain request: it goes up as
    ``:generateContent`` and its one JSON answer comes back."""

    name = "stream-as-unary"
    bug_class = "F01"
    protocol = "gemini"
    feature = "forwarding"
    caught_by = ("gemini/forwarding/stream-endpoint",)

    @at(OUTBOUND)
    def unary(self, outbound: Outbound, call: Call) -> Outbound:
        if call.protocol != "gemini" or not outbound.path.endswith(":streamGenerateContent"):
            return outbound
        if ("alt", "sse") in outbound.query:
            return outbound
        return replace(
            outbound, path=outbound.path.removesuffix(":streamGenerateContent") + ":generateContent"
        )


class CountTokensAsGeneration(Fault):
    """countTokens goes up as a generation (``:generateContent``): slow, billed, and answered with a
    GenerateContentResponse instead of ``totalTokens``."""

    name = "count-tokens-as-generation"
    bug_class = "F43"
    protocol = "gemini"
    feature = "forwarding"
    caught_by = ("gemini/forwarding/count-tokens",)

    @at(OUTBOUND)
    def generation(self, outbound: Outbound, call: Call) -> Outbound:
        if not outbound.path.endswith(":countTokens"):
            return outbound
        return replace(outbound, path=outbound.path.removesuffix(":countTokens") + ":generateContent")


class ApiVersionV1(Fault):
    """Requests go up under ``/v1`` instead of ``/v1beta`` (where Gemini 3 and systemInstruction live)."""

    name = "api-version-v1"
    bug_class = "F44"
    protocol = "gemini"
    feature = "forwarding"
    affects = BOTH
    caught_by = ("gemini/forwarding/generation-config", "openai/forwarding/sampling")

    @at(OUTBOUND)
    def v1(self, outbound: Outbound, call: Call) -> Outbound:
        if not outbound.path.startswith("/v1beta/"):
            return outbound
        return replace(outbound, path="/v1/" + outbound.path.removeprefix("/v1beta/"))


class CachedContentDropped(FieldsDropped):
    """cachedContent is dropped, so the cached context is never used."""

    name = "cached-content-dropped"
    bug_class = None
    protocol = "gemini"
    feature = "forwarding"
    caught_by = ("gemini/forwarding/cached-content",)
    from_body = ("cachedContent",)


class UnknownFieldsDropped(FieldsDropped):
    """The native pass-through keeps only the request fields it was written for: newer ones (``store``,
    ``serviceTier``) are silently dropped instead of forwarded or refused."""

    name = "unknown-fields-dropped"
    bug_class = None
    protocol = "gemini"
    feature = "forwarding"
    caught_by = ("gemini/forwarding/newer-fields",)
    from_body = ("store", "serviceTier")


class PenaltiesDropped(FieldsDropped):
    """presence_penalty and frequency_penalty are not translated into generationConfig."""

    name = "penalties-dropped"
    bug_class = None
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/penalties-seed-logprobs",)
    from_config = ("presencePenalty", "frequencyPenalty")


class SeedDropped(FieldsDropped):
    """seed is not translated into generationConfig.seed."""

    name = "seed-dropped"
    bug_class = None
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/penalties-seed-logprobs",)
    from_config = ("seed",)


class LogprobsDropped(FieldsDropped):
    """logprobs and top_logprobs are not translated into responseLogprobs and logprobs."""

    name = "logprobs-dropped"
    bug_class = None
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/penalties-seed-logprobs",)
    from_config = ("responseLogprobs", "logprobs")


class SamplingNotMapped(FieldsDropped):
    """stop, max_tokens and n are not translated: no stopSequences, maxOutputTokens or candidateCount
    goes up."""

    name = "sampling-not-mapped"
    bug_class = "F30"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/sampling",)
    from_config = ("stopSequences", "maxOutputTokens", "candidateCount")


class SystemMessagesFirstOnly(Fault):
    """Only the first system message becomes the system instruction; the others are dropped."""

    name = "system-messages-first-only"
    bug_class = "F26"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/system-messages",)

    @at(OUTBOUND)
    def first_only(self, outbound: Outbound, call: Call) -> Outbound:
        def keep_first(body: Body) -> None:
            system = body.get("systemInstruction")
            if call.protocol == "openai" and isinstance(system, dict) and system.get("parts"):
                system["parts"] = system["parts"][:1]

        return edited(outbound, keep_first)


class SystemAsUserTurn(Fault):
    """System messages are emulated as a first user turn instead of the system instruction."""

    name = "system-as-user-turn"
    bug_class = "F26"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/system-messages",)

    @at(OUTBOUND)
    def emulated(self, outbound: Outbound, call: Call) -> Outbound:
        def as_user(body: Body) -> None:
            system = body.pop("systemInstruction", None) if call.protocol == "openai" else None
            if isinstance(system, dict) and system.get("parts"):
                body["contents"] = [{"role": "user", "parts": system["parts"]}, *body.get("contents", [])]

        return edited(outbound, as_user)


class FunctionResponseNameFiller(Fault):
    """A tool message becomes a functionResponse named ``function`` instead of after the function it
    answers."""

    name = "function-response-name-filler"
    bug_class = "F21"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/tool-messages",)

    @at(OUTBOUND)
    def filler(self, outbound: Outbound, call: Call) -> Outbound:
        def rename(body: Body) -> None:
            for part in _parts(body) if call.protocol == "openai" else ():
                if isinstance(part.get("functionResponse"), dict):
                    part["functionResponse"]["name"] = "function"

        return edited(outbound, rename)


class ToolMessagesSplit(Fault):
    """The tool messages answering parallel calls are translated into one user content each, instead of one
    content holding every functionResponse (Gemini refuses the turn)."""

    name = "tool-messages-split"
    bug_class = "F17"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/parallel-tool-messages",)

    @at(OUTBOUND)
    def split(self, outbound: Outbound, call: Call) -> Outbound:
        def one_each(body: Body) -> None:
            body["contents"] = split_responses(body.get("contents") or [])

        return edited(outbound, one_each) if call.protocol == "openai" else outbound


class RemoteImageDropped(Fault):
    """An http(s) image_url is dropped instead of becoming a fileData part."""

    name = "remote-image-dropped"
    bug_class = "F35"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/media",)

    @at(OUTBOUND)
    def dropped(self, outbound: Outbound, call: Call) -> Outbound:
        def drop(body: Body) -> None:
            for content in body.get("contents") or [] if call.protocol == "openai" else []:
                content["parts"] = [p for p in content.get("parts", []) if "fileData" not in p] or [
                    {"text": ""}
                ]

        return edited(outbound, drop)


class ToolChoiceDropped(FieldsDropped):
    """tool_choice is not translated: no functionCallingConfig goes up, so the model decides alone."""

    name = "tool-choice-dropped"
    bug_class = "F24"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/tool-choice",)
    from_body = ("toolConfig",)


class ToolSchemaAsGeminiSchema(Fault):
    """An OpenAI tool's JSON Schema goes up as a Gemini Schema (``parameters``) instead of
    ``parametersJsonSchema``, keywords Gemini's Schema lacks included."""

    name = "tool-schema-as-gemini-schema"
    bug_class = "F23"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/tools",)

    @at(OUTBOUND)
    def as_gemini(self, outbound: Outbound, call: Call) -> Outbound:
        def move(body: Body) -> None:
            for tool in body.get("tools") or [] if call.protocol == "openai" else []:
                for declaration in tool.get("functionDeclarations") or []:
                    if "parametersJsonSchema" in declaration:
                        declaration["parameters"] = declaration.pop("parametersJsonSchema")

        return edited(outbound, move)


class ResponseFormatDropped(FieldsDropped):
    """response_format is not translated: neither responseMimeType nor the schema goes up."""

    name = "response-format-dropped"
    bug_class = "F28"
    protocol = "openai"
    feature = "forwarding"
    caught_by = ("openai/forwarding/response-format",)
    from_config = ("responseMimeType", "responseJsonSchema", "responseSchema")


# -- security: keys and the upstream's address ---------------------------------------------------


class UpstreamKeyInQuery(Fault):
    """The upstream key goes in the URL (``?key=``), where access logs and proxies keep it, instead of a
    header."""

    name = "upstream-key-in-query"
    bug_class = None
    protocol = "gemini"
    feature = "forwarding-security"
    affects = BOTH
    caught_by = (
        "gemini/forwarding-security/upstream-key-in-header",
        "openai/forwarding-security/upstream-key-in-header",
    )

    @at(OUTBOUND)
    def in_query(self, outbound: Outbound, call: Call) -> Outbound:
        key = next((v for k, v in outbound.headers if k.lower() == "x-goog-api-key"), None)
        if key is None:
            return outbound
        return replace(outbound.with_header("x-goog-api-key", None), query=(*outbound.query, ("key", key)))


class ClientKeyForwarded(Fault):
    """The client's own credentials are copied to the request upstream beside the upstream key: its
    Authorization and x-goog-api-key headers and its ``?key=``, handing the gateway's key to Google."""

    name = "client-key-forwarded"
    bug_class = "F42"
    protocol = "gemini"
    feature = "forwarding-security"
    affects = BOTH
    caught_by = (
        "gemini/forwarding-security/client-key-not-forwarded",
        "openai/forwarding-security/client-key-not-forwarded",
    )

    @at(OUTBOUND)
    def copied(self, outbound: Outbound, call: Call) -> Outbound:
        credentials = ("authorization", "x-goog-api-key")
        copied = tuple((k, v) for k, v in outbound.client_headers if k.lower() in credentials)
        keys = tuple((k, v) for k, v in outbound.client_query if k == "key")
        return replace(outbound, headers=outbound.headers + copied, query=outbound.query + keys)


class UpstreamUrlRevealed(Fault):
    """Every answer carries the upstream's base URL in a response header, as one real gateway does
    (``x-litellm-model-api-base``)."""

    name = "upstream-url-revealed"
    bug_class = None
    protocol = "gemini"
    feature = "forwarding-security"
    affects = BOTH
    caught_by = ("gemini/forwarding-security/upstream-hidden", "openai/forwarding-security/upstream-hidden")

    @at(REPLY_HEADERS)
    def revealed(self, reply: ReplyHeaders, call: Call) -> ReplyHeaders:
        return replace(reply, headers=(*reply.headers, ("x-gateway-model-api-base", reply.upstream)))


# -- the answer: statuses, errors, finish reasons, usage, streams --------------------------------


class UpstreamErrorsAs500(Fault):
    """Every error the upstream answers (429, 503, 400...) reaches the client as 500: native bodies become
    INTERNAL, OpenAI ones a server_error."""

    name = "upstream-errors-as-500"
    bug_class = "F40"
    protocol = "gemini"
    feature = "upstream-mapping"
    affects = BOTH
    caught_by = (
        "gemini/upstream-mapping/rate-limited",
        "gemini/upstream-mapping/bad-request",
        "openai/upstream-mapping/rate-limited",
        "openai/upstream-mapping/bad-request",
    )

    @at(INBOUND)
    def as_500(self, inbound: Inbound, call: Call) -> Inbound:
        if inbound.status < 400:
            return inbound
        body = json.dumps(GoogleError(500, "Internal error while calling the upstream.").body()).encode()
        return replace(inbound, status=500, body=body)


class RateLimitAs503(Fault):
    """A 429 from the upstream reaches the client as 503 UNAVAILABLE, so quota cannot be told from an
    outage."""

    name = "rate-limit-as-503"
    bug_class = "F40"
    protocol = "gemini"
    feature = "upstream-mapping"
    affects = BOTH
    caught_by = ("gemini/upstream-mapping/rate-limited", "openai/upstream-mapping/rate-limited")

    @at(INBOUND)
    def as_503(self, inbound: Inbound, call: Call) -> Inbound:
        if inbound.status != 429:
            return inbound
        body = json.dumps(GoogleError(503, "The service is currently unavailable.").body()).encode()
        return replace(inbound, status=503, body=body)


class ErrorDetailsDropped(Fault):
    """The native route rebuilds upstream errors from code, message and status: their details (RetryInfo,
    BadRequest fieldViolations) are lost."""

    name = "error-details-dropped"
    bug_class = "F41"
    protocol = "gemini"
    feature = "upstream-mapping"
    caught_by = ("gemini/upstream-mapping/rate-limited", "gemini/upstream-mapping/bad-request")

    @at(INBOUND)
    def stripped(self, inbound: Inbound, call: Call) -> Inbound:
        if call.protocol != "gemini" or inbound.status < 400:
            return inbound
        return _answer_edited(inbound, lambda body: without(body.get("error"), "details"))


class NativeErrorRewrapped(Fault):
    """Upstream errors on the native route are re-wrapped in OpenAI's envelope ``{error: {message, type,
    param, code}}``, with the right HTTP status."""

    name = "native-error-rewrapped"
    bug_class = "F41"
    protocol = "gemini"
    feature = "upstream-mapping"
    caught_by = ("gemini/upstream-mapping/unavailable", "gemini/upstream-mapping/internal")

    @at(INBOUND)
    def rewrapped(self, inbound: Inbound, call: Call) -> Inbound:
        answer = inbound.json()
        if call.protocol != "gemini" or inbound.status < 400 or not isinstance(answer, dict):
            return inbound
        error = answer.get("error")
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
        wrapped = OpenAIError(inbound.status, message, "server_error", None, None)
        return replace(inbound, body=json.dumps(wrapped.body()).encode())


class UpstreamFinishAlwaysStop(Fault):
    """The OpenAI route maps every finishReason to ``stop``: MAX_TOKENS, SAFETY, RECITATION and
    MALFORMED_FUNCTION_CALL all look like a normal end."""

    name = "upstream-finish-always-stop"
    bug_class = "F38"
    protocol = "openai"
    feature = "upstream-mapping"
    caught_by = (
        "openai/upstream-mapping/max-tokens",
        "openai/upstream-mapping/safety",
        "openai/upstream-mapping/recitation",
        "openai/upstream-mapping/malformed-function-call",
    )

    @at(RESPONSE)
    def always_stop(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol != "openai" or body.get("object") != "chat.completion":
            return body
        for choice in body.get("choices") or []:
            if isinstance(choice, dict) and not (choice.get("message") or {}).get("tool_calls"):
                choice["finish_reason"] = "stop"
        return body


class BlockMadeOpaque(Fault):
    """A prompt the upstream blocked becomes, on the OpenAI route, an ordinary empty answer that finished
    with ``stop``: the client cannot see why."""

    name = "block-made-opaque"
    bug_class = "F39"
    protocol = "openai"
    feature = "upstream-mapping"
    caught_by = ("openai/upstream-mapping/prompt-blocked",)

    @at(INBOUND)
    def opaque(self, inbound: Inbound, call: Call) -> Inbound:
        def hide(body: Body) -> None:
            if body.pop("promptFeedback", None) is not None:
                body["candidates"] = [
                    {
                        "content": {"parts": [{"text": ""}], "role": "model"},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ]

        return _answer_edited(inbound, hide) if call.protocol == "openai" else inbound


class ReasoningTokensDropped(Fault):
    """The OpenAI route leaves thoughtsTokenCount out of usage: thinking is neither in completion_tokens
    nor in completion_tokens_details (unbilled, and total_tokens no longer adds up)."""

    name = "reasoning-tokens-dropped"
    bug_class = "F11"
    protocol = "openai"
    feature = "upstream-mapping"
    caught_by = ("openai/upstream-mapping/usage-details",)

    @at(INBOUND)
    def dropped(self, inbound: Inbound, call: Call) -> Inbound:
        if call.protocol != "openai":
            return inbound
        return _answer_edited(inbound, lambda body: without(body.get("usageMetadata"), "thoughtsTokenCount"))


class ThoughtsMergedIntoContent(Fault):
    """The OpenAI route drops the ``thought`` flag of thought parts, so the model's thinking is merged into
    the answer's content."""

    name = "thoughts-merged-into-content"
    bug_class = "F15"
    protocol = "openai"
    feature = "upstream-mapping"
    caught_by = ("openai/upstream-mapping/thoughts",)

    @at(INBOUND)
    def merged(self, inbound: Inbound, call: Call) -> Inbound:
        def unflag(body: Body) -> None:
            for candidate in body.get("candidates") or []:
                for part in (candidate.get("content") or {}).get("parts") or []:
                    part.pop("thought", None)

        return _answer_edited(inbound, unflag) if call.protocol == "openai" else inbound


class ThoughtSignaturesStripped(Fault):
    """The native route strips thoughtSignature from the answer's parts before passing it on, so the
    client cannot replay them."""

    name = "thought-signatures-stripped"
    bug_class = "F13"
    protocol = "gemini"
    feature = "upstream-mapping"
    caught_by = ("gemini/upstream-mapping/thoughts",)

    @at(INBOUND)
    def stripped(self, inbound: Inbound, call: Call) -> Inbound:
        def strip(body: Body) -> None:
            for candidate in body.get("candidates") or []:
                for part in (candidate.get("content") or {}).get("parts") or []:
                    part.pop("thoughtSignature", None)

        return _answer_edited(inbound, strip) if call.protocol == "gemini" else inbound


class LineSeparatorsRewritten(Fault):
    """The OpenAI route rewrites U+2028 and U+2029 in answer text as newlines (a line splitter that takes
    them for line ends)."""

    name = "line-separators-rewritten"
    bug_class = None
    protocol = "openai"
    feature = "upstream-mapping"
    caught_by = ("openai/upstream-mapping/unicode-text",)

    @at(INBOUND)
    def rewritten(self, inbound: Inbound, call: Call) -> Inbound:
        if call.protocol != "openai":
            return inbound
        text = inbound.body.decode("utf-8", "replace").replace("\u2028", "\\n").replace("\u2029", "\\n")
        return replace(inbound, body=text.encode("utf-8"))

    @at(UPSTREAM_EVENT)
    def rewritten_event(self, event: Any, call: Call) -> Any:
        text = json.dumps(event, ensure_ascii=False).replace("\u2028", "\\n").replace("\u2029", "\\n")
        return json.loads(text)


class StreamErrorHidden(Fault):
    """An error in the middle of an upstream stream is hidden on the OpenAI route: the stream ends as if
    complete, with ``finish_reason: stop`` and ``[DONE]``."""

    name = "stream-error-hidden"
    bug_class = "F05"
    protocol = "openai"
    feature = "upstream-mapping"
    caught_by = ("openai/upstream-mapping/error-mid-stream",)

    @at(UPSTREAM_EVENT)
    def hidden(self, event: Any, call: Call) -> Any:
        if isinstance(event, dict) and "error" in event:
            return {
                "candidates": [
                    {"content": {"parts": [{"text": ""}], "role": "model"}, "finishReason": "STOP"}
                ]
            }
        return event


class ForwardedStreamBuffered(Fault):
    """The gateway reads the upstream's whole stream before it sends anything on, so the client gets every
    event at once, at the end."""

    name = "forwarded-stream-buffered"
    bug_class = "F03"
    protocol = "gemini"
    feature = "upstream-mapping"
    affects = BOTH
    caught_by = ("gemini/upstream-mapping/slow-stream", "openai/upstream-mapping/slow-stream")

    @at(FRAMING)
    def buffered(self, framing: Framing, call: Call) -> Framing:
        return replace(framing, buffered=True)
