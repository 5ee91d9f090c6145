"""Faults in function calling and code execution: the tools the gateway forwards, the calls it passes
back, the ids and signatures of those calls, and the turns that answer them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.responses import answers
from conformance.reference.faults.seams import FORWARDED, GENERATION, PARSE_MODE, RESPONSE, Call, Forwarded
from conformance.reference.model.engine import Completion, FunctionCall, Generation
from conformance.reference.protocols.gemini_request import ParseMode


def each_completion(generation: Generation, change: Callable[[Completion], Completion]) -> Generation:
    """The generation with ``change`` applied to every candidate."""
    return replace(generation, candidates=tuple(change(completion) for completion in generation.candidates))


def tool_calls(body: dict[str, Any], call: Call) -> list[tuple[dict[str, Any], FunctionCall]]:
    """Each rendered OpenAI tool call of a response body with the function call it renders."""
    found: list[tuple[dict[str, Any], FunctionCall]] = []
    for choice, completion in answers(body, call):
        message = choice.get("message")
        rendered = message.get("tool_calls") if isinstance(message, dict) else None
        found.extend(zip(rendered or [], completion.calls, strict=False))
    return found


# -- the tools forwarded -----------------------------------------------------------------------------


class ToolsDropped(Fault):
    """tools (function declarations and code execution) are not forwarded on either route."""

    name = "tools-dropped"
    bug_class = "F25"
    protocol = "openai"
    feature = "tools"
    affects = BOTH
    caught_by = (
        "gemini/code-execution/python",
        "gemini/function-calling/auto-call",
        "openai/tools/auto-call",
        "gemini/grounding/google-search",
        "gemini/grounding/google-search-streamed",
        "gemini/grounding/url-context",
        "gemini/grounding/url-context-streamed",
        "gemini/code-execution/failure",
        "gemini/code-execution/failure-streamed",
        "gemini/function-calling/no-parameters",
        "openai/tools/no-parameters",
        "gemini/sdk/function-calling-round-trip",
        "openai/sdk/tool-call-round-trip",
    )

    @at(FORWARDED)
    def without_tools(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, features=forwarded.features.without_tools())


class ToolChoiceIgnored(Fault):
    """tool_choice (OpenAI) and toolConfig.functionCallingConfig (native) are not forwarded: every
    request runs in AUTO mode with every function allowed."""

    name = "tool-choice-ignored"
    bug_class = "F24"
    protocol = "openai"
    feature = "tool-choice"
    affects = BOTH
    caught_by = (
        "gemini/function-calling/allowed-function-names",
        "gemini/function-calling/mode-any",
        "gemini/function-calling/mode-none",
        "openai/tools/tool-choice-named",
        "openai/tools/tool-choice-none",
        "openai/tools/tool-choice-required",
        "gemini/function-calling/mode-lowercase",
    )

    @at(FORWARDED)
    def auto(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, features=replace(forwarded.features, mode="AUTO", allowed=()))


class ToolSchemaUnsanitized(Fault):
    """JSON Schema tool parameters are forwarded as Gemini Schema parameters unsanitized (OpenAI
    parameters; native parametersJsonSchema), so $schema or additionalProperties gives 400."""

    name = "tool-schema-unsanitized"
    bug_class = "F23"
    protocol = "openai"
    feature = "tool-schemas"
    affects = BOTH
    caught_by = (
        "gemini/function-calling/json-schema-keywords",
        "openai/tools/schema-keywords",
    )

    @at(PARSE_MODE)
    def unsanitized(self, mode: ParseMode, call: Call) -> ParseMode:
        return replace(mode, sanitize_schemas=False)


# -- the calls passed back ---------------------------------------------------------------------------


class NonTextPartsDropped(Fault):
    """Only text parts are passed back: functionCall, executableCode and codeExecutionResult parts are
    dropped (the converter reads text only)."""

    name = "non-text-parts-dropped"
    bug_class = "F22"
    protocol = "gemini"
    feature = "response-parts"
    affects = BOTH
    caught_by = (
        "gemini/code-execution/python",
        "gemini/function-calling/auto-call",
        "gemini/code-execution/failure",
        "gemini/code-execution/failure-streamed",
        "gemini/function-calling/no-parameters",
        "openai/tools/no-parameters",
    )

    @at(GENERATION)
    def text_only(self, generation: Generation, call: Call) -> Generation:
        return each_completion(generation, lambda completion: replace(completion, calls=(), code=()))


class ParallelCallsCollapsed(Fault):
    """Only the first of several parallel function calls is passed back."""

    name = "parallel-calls-collapsed"
    bug_class = "F18"
    protocol = "openai"
    feature = "parallel-function-calls"
    affects = BOTH
    caught_by = (
        "gemini/function-calling/parallel-calls",
        "openai/tools/parallel-calls",
        "gemini/function-calling/parallel-round-trip-gemini3",
        "openai/tools/parallel-round-trip-gemini3",
    )

    @at(GENERATION)
    def first_call(self, generation: Generation, call: Call) -> Generation:
        return each_completion(generation, lambda completion: replace(completion, calls=completion.calls[:1]))


class FunctionArgsEmptied(Fault):
    """Function call arguments are replaced by {} (native args, OpenAI arguments "{}")."""

    name = "function-args-emptied"
    bug_class = "F19"
    protocol = "openai"
    feature = "function-arguments"
    affects = BOTH
    caught_by = (
        "gemini/function-calling/auto-call",
        "openai/tools/auto-call",
        "gemini/function-calling/enum-parameter",
        "gemini/unicode/function-args",
        "openai/tools/enum-parameter",
        "openai/unicode/tool-arguments",
    )

    @at(GENERATION)
    def empty_args(self, generation: Generation, call: Call) -> Generation:
        return each_completion(
            generation,
            lambda completion: replace(
                completion, calls=tuple(replace(c, args={}) for c in completion.calls)
            ),
        )


class ToolCallArgumentsObject(Fault):
    """tool_calls[].function.arguments is a JSON object instead of a string holding JSON."""

    name = "tool-call-arguments-object"
    bug_class = "F19"
    protocol = "openai"
    feature = "function-arguments"
    caught_by = (
        "openai/tools/auto-call",
        "openai/tools/no-parameters",
        "openai/tools/enum-parameter",
        "openai/tools/round-trip-gemini3",
        "openai/unicode/tool-arguments",
        "openai/sdk/tool-call-round-trip",
    )

    @at(RESPONSE)
    def arguments_object(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol == "openai":
            for rendered, function_call in tool_calls(body, call):
                rendered["function"]["arguments"] = dict(function_call.args)
        return body


class ToolCallsFinishStop(Fault):
    """A choice holding tool calls reports finish_reason "stop" instead of "tool_calls"."""

    name = "tool-calls-finish-stop"
    bug_class = "F38"
    protocol = "openai"
    feature = "finish-reason"
    caught_by = ("openai/tools/auto-call",)

    @at(RESPONSE)
    def finish_stop(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol == "openai":
            for choice, _ in answers(body, call):
                if choice.get("finish_reason") == "tool_calls":
                    choice["finish_reason"] = "stop"  # a choice of function calls ends STOP
        return body


# -- call ids and thought signatures (function-call-id-is-name sets the id the signature is added to) ---


class FunctionCallIdIsName(Fault):
    """functionCall.id (native) and tool_calls[].id (OpenAI) are set to the function name."""

    name = "function-call-id-is-name"
    bug_class = "F20"
    protocol = "gemini"
    feature = "function-call-ids"
    affects = BOTH
    caught_by = (
        "gemini/function-calling/parallel-calls",
        "openai/tools/tool-call-ids",
        "openai/tools/parallel-calls",
    )

    @at(GENERATION)
    def name_as_id(self, generation: Generation, call: Call) -> Generation:
        return each_completion(
            generation,
            lambda completion: replace(
                completion, calls=tuple(replace(c, id=c.name) for c in completion.calls)
            ),
        )

    @at(RESPONSE)
    def name_as_tool_call_id(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol == "openai":
            for rendered, function_call in tool_calls(body, call):
                rendered["id"] = function_call.name
        return body


class ThoughtSignatureInCallId(Fault):
    """The thought signature is smuggled into tool_calls[].id ("<id>__thought__<signature>")."""

    name = "thought-signature-in-call-id"
    bug_class = "F14"
    protocol = "openai"
    feature = "tool-call-ids"
    caught_by = ("openai/tools/tool-call-ids",)

    @at(RESPONSE)
    def smuggled(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol == "openai":
            for rendered, function_call in tool_calls(body, call):
                if function_call.signature:
                    rendered["id"] = f"{rendered['id']}__thought__{function_call.signature}"
        return body


class ThoughtSignatureDropped(Fault):
    """thoughtSignature is stripped from functionCall parts, so the next turn replaying the call is
    refused with 400 "Function call is missing a thought_signature"."""

    name = "thought-signature-dropped"
    bug_class = "F13"
    protocol = "gemini"
    feature = "thought-signatures"
    caught_by = (
        "gemini/function-calling/round-trip",
        "gemini/function-calling/thought-signature-round-trip",
        "gemini/function-calling/round-trip-gemini3",
        "gemini/function-calling/thought-signature-round-trip-gemini3",
        "gemini/streaming-sse/thought-signature-round-trip",
        "gemini/streaming-sse/thought-signature-round-trip-gemini3",
        "gemini/sdk/function-calling-round-trip",
        "gemini/sdk/function-calling-round-trip-gemini3",
    )

    @at(GENERATION)
    def unsigned(self, generation: Generation, call: Call) -> Generation:
        return each_completion(
            generation,
            lambda completion: replace(
                completion, calls=tuple(replace(c, signature=None) for c in completion.calls)
            ),
        )


# -- the turns answering calls -----------------------------------------------------------------------


class ParallelResponsesSplit(Fault):
    """A turn answering parallel calls is forwarded as one content per functionResponse (OpenAI tool
    messages become separate user contents), which Gemini refuses with 400."""

    name = "parallel-responses-split"
    bug_class = "F17"
    protocol = "openai"
    feature = "parallel-function-calls"
    affects = BOTH
    caught_by = (
        "gemini/function-calling/parallel-round-trip",
        "openai/tools/parallel-round-trip",
        "gemini/function-calling/parallel-round-trip-gemini3",
        "openai/tools/parallel-round-trip-gemini3",
    )

    @at(FORWARDED)
    def split(self, forwarded: Forwarded, call: Call) -> Forwarded:
        return replace(forwarded, contents=tuple(split_responses(forwarded.contents)))


def split_responses(contents: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Each content of several function responses split into one content per response."""
    out: list[Mapping[str, Any]] = []
    for content in contents:
        responses = [
            part for part in content.get("parts") or [] if isinstance(part.get("functionResponse"), Mapping)
        ]
        if len(responses) > 1:
            out.extend({**content, "parts": [part]} for part in responses)
        else:
            out.append(content)
    return out


# -- calls of functions without parameters, enums, code runs -----------------------------------------


class NoArgumentCallsNull(Fault):
    """A call of a function that takes no arguments is passed back with null arguments: native
    functionCall.args null, OpenAI function.arguments "null" (an empty map serialised as nil), unary and
    streamed."""

    name = "no-argument-calls-null"
    bug_class = "F19"
    protocol = "openai"
    feature = "function-arguments"
    affects = BOTH
    caught_by = (
        "gemini/function-calling/no-parameters",
        "gemini/streaming-sse/function-call-no-parameters",
        "openai/tools/no-parameters",
        "openai/streaming/tool-call-no-parameters",
    )

    @at(RESPONSE)
    def null_args(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.protocol == "openai":
            for rendered, function_call in tool_calls(body, call):
                if not function_call.args:
                    rendered["function"]["arguments"] = "null"
            return body
        for candidate, _ in answers(body, call):
            for part in (candidate.get("content") or {}).get("parts") or []:
                called = part.get("functionCall") if isinstance(part, dict) else None
                if isinstance(called, dict) and not called.get("args"):
                    called["args"] = None
        return body


class ToolEnumDropped(Fault):
    """enum is stripped from tool parameter schemas by an over-eager sanitizer, so the model fills an
    enumerated argument with any string."""

    name = "tool-enum-dropped"
    bug_class = "F23"
    protocol = "openai"
    feature = "tool-schemas"
    affects = BOTH
    caught_by = (
        "gemini/function-calling/enum-parameter",
        "openai/tools/enum-parameter",
    )

    @at(FORWARDED)
    def no_enums(self, forwarded: Forwarded, call: Call) -> Forwarded:
        functions = tuple(
            replace(f, parameters=_without_enums(f.parameters)) for f in forwarded.features.functions
        )
        return replace(forwarded, features=replace(forwarded.features, functions=functions))


def _without_enums(schema: Any) -> Any:
    if isinstance(schema, Mapping):
        return {key: _without_enums(value) for key, value in schema.items() if key != "enum"}
    if isinstance(schema, list):
        return [_without_enums(item) for item in schema]
    return schema


class CodeFailureReportedOk(Fault):
    """Every codeExecutionResult is passed back with outcome OUTCOME_OK, a failed run included (the
    converter knows one outcome)."""

    name = "code-failure-reported-ok"
    bug_class = "F22"
    protocol = "gemini"
    feature = "code-execution"
    caught_by = (
        "gemini/code-execution/failure",
        "gemini/code-execution/failure-streamed",
    )

    @at(GENERATION)
    def always_ok(self, generation: Generation, call: Call) -> Generation:
        return each_completion(
            generation,
            lambda completion: replace(
                completion, code=tuple(replace(run, outcome="OUTCOME_OK") for run in completion.code)
            ),
        )
