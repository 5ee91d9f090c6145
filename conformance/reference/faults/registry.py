"""The registry of faults: switchable lies of the reference gateway, each a real bug class.

Every fault reproduces one class of ``GATEWAY-BUGS.md`` (``bug_class``, or None where no class is
listed) and changes the reference's behaviour in that one way only, so that a suite which is
green on the clean reference must turn red on each fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from conformance.reference.protocols.media_input import family_of
from conformance.suite.samples import load_media

Protocol = Literal["gemini", "openai"]


@dataclass(frozen=True)
class Fault:
    """One switchable fault of the reference gateway.

    ``protocol`` is the protocol the bug class belongs to; ``affects`` lists every route the
    fault changes (some faults act on both protocols, as the real bugs do); ``caught_by`` names the
    cases meant to catch it (the project's tests prove each one fails with the fault on).
    """

    name: str
    bug_class: str | None
    protocol: Protocol
    feature: str
    description: str
    affects: tuple[Protocol, ...] = field(default=())
    caught_by: tuple[str, ...] = ()

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
        caught_by=(
            "gemini/count-tokens/contents",
            "gemini/models/list",
            "gemini/text/single-turn",
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
        caught_by=(
            "gemini/system-instruction/camel-case",
            "gemini/system-instruction/snake-case",
            "openai/chat/system-message",
        ),
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
        caught_by=(
            "gemini/request-casing/mixed",
            "gemini/request-casing/snake-case-candidate-count",
            "gemini/request-casing/snake-case-max-output-tokens",
            "gemini/request-casing/snake-case-stop-sequences",
            "gemini/system-instruction/snake-case",
            "gemini/json-mode/snake-case",
            "gemini/safety/block-none-honoured",
        ),
    ),
    Fault(
        name="stop-sequences-dropped",
        bug_class="F30",
        protocol="openai",
        feature="stop-sequences",
        description=("generationConfig.stopSequences (native) and stop (OpenAI) are ignored."),
        affects=_BOTH,
        caught_by=(
            "gemini/generation-config/stop-sequences",
            "openai/sampling/stop",
        ),
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
        caught_by=(
            "gemini/generation-config/max-output-tokens",
            "openai/sampling/max-tokens",
        ),
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
        caught_by=(
            "gemini/generation-config/max-output-tokens",
            "openai/sampling/max-tokens",
        ),
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
        caught_by=(
            "gemini/generation-config/candidate-count",
            "openai/sampling/n",
            "openai/streaming/n-2",
        ),
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
        caught_by=(
            "gemini/streaming-json-array/finish-reason-and-usage-last",
            "gemini/streaming-sse/usage-last-event",
            "gemini/usage/total-is-sum",
            "openai/chat/usage-present",
            "openai/chat/usage-total-is-sum",
        ),
    ),
    Fault(
        name="usage-renamed",
        bug_class="F12",
        protocol="gemini",
        feature="usage",
        description=("usageMetadata is returned as cpaUsageMetadata on the native route."),
        caught_by=(
            "gemini/streaming-sse/usage-last-event",
            "gemini/usage/present",
            "gemini/usage/total-is-sum",
        ),
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
        caught_by=(
            "gemini/streaming-sse/camel-case-keys",
            "gemini/text/camel-case-keys",
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
        caught_by=(
            "gemini/errors/missing-contents",
            "gemini/errors/unknown-model",
            "openai/errors/missing-messages",
        ),
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
        caught_by=(
            "gemini/errors/bad-key",
            "gemini/errors/missing-contents",
            "gemini/errors/missing-key",
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
        caught_by=(
            "gemini/errors/bad-role",
            "gemini/generation-config/response-modalities-bad-enum",
            "gemini/generation-config/temperature-out-of-range",
            "openai/sampling/temperature-out-of-range",
            "gemini/safety/unknown-category",
            "gemini/safety/unknown-threshold",
        ),
    ),
    Fault(
        name="unknown-model-fallback",
        bug_class="F44",
        protocol="gemini",
        feature="model-routing",
        description=("An unknown model is silently served by the default model with 200 on both routes."),
        affects=_BOTH,
        caught_by=(
            "gemini/count-tokens/unknown-model",
            "gemini/errors/unknown-model",
            "gemini/streaming-json-array/unknown-model",
            "gemini/streaming-sse/unknown-model",
            "openai/errors/unknown-model",
            "openai/streaming/unknown-model",
        ),
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
        caught_by=("gemini/auth/x-goog-api-key",),
    ),
    Fault(
        name="count-tokens-zero",
        bug_class="F43",
        protocol="gemini",
        feature="count-tokens",
        description=('countTokens answers {"totalTokens": 0}.'),
        caught_by=(
            "gemini/count-tokens/contents",
            "gemini/count-tokens/generate-content-request",
        ),
    ),
    Fault(
        name="models-openai-shape",
        bug_class="F44",
        protocol="gemini",
        feature="models-list",
        description=("The native GET models returns the OpenAI list shape {object: list, data: [...]}."),
        caught_by=("gemini/models/list",),
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
        caught_by=(
            "gemini/text/multi-turn",
            "openai/chat/multi-turn",
        ),
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
        caught_by=(
            "gemini/text/model-version-and-response-id",
            "openai/chat/response-identity",
        ),
    ),
    Fault(
        name="openai-message-missing",
        bug_class="F45",
        protocol="openai",
        feature="openai-response-shape",
        description=("choices[].message is omitted from OpenAI chat completions."),
        caught_by=("openai/chat/basic",),
    ),
    # -- streaming (issue 3): each changes one fact of conformance/reference/streaming.py
    Fault(
        name="stream-without-alt-sse-not-streamed",
        bug_class="F01",
        protocol="gemini",
        feature="streaming-json-array",
        description=(
            ":streamGenerateContent without alt=sse is treated as non-streaming: the answer is one"
            " GenerateContentResponse object, not a JSON array."
        ),
        caught_by=("gemini/streaming-json-array/framing",),
    ),
    Fault(
        name="stream-array-served-as-sse",
        bug_class="F02",
        protocol="gemini",
        feature="streaming-json-array",
        description=(
            ":streamGenerateContent without alt=sse is answered with SSE events (text/event-stream)."
        ),
        caught_by=("gemini/streaming-json-array/framing",),
    ),
    Fault(
        name="stream-buffered",
        bug_class="F03",
        protocol="gemini",
        feature="streaming",
        description=(
            "Streams of both protocols are buffered: every event is sent at once at the end, after"
            " the time the whole answer took."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/streaming-json-array/incremental",
            "gemini/streaming-sse/incremental",
            "openai/streaming/incremental",
        ),
    ),
    Fault(
        name="sse-final-frame-unterminated",
        bug_class="F04",
        protocol="gemini",
        feature="streaming-sse",
        description=(
            "The last SSE event of either protocol ends without its terminating blank line, so"
            " WHATWG clients drop it."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/streaming-sse/framing",
            "openai/streaming/framing",
        ),
    ),
    Fault(
        name="stream-tool-calls-dropped",
        bug_class="F22",
        protocol="openai",
        feature="streaming",
        description=(
            "The stream converter passes text only: functionCall parts (native) and tool_calls deltas"
            " (OpenAI) never reach a streaming client."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/streaming-sse/function-call",
            "gemini/streaming-json-array/function-call",
            "openai/streaming/tool-calls",
        ),
    ),
    Fault(
        name="stream-tool-call-index-missing",
        bug_class="F22",
        protocol="openai",
        feature="streaming",
        description="Streamed tool_calls deltas carry no index, so clients cannot join the argument pieces.",
        caught_by=("openai/streaming/tool-calls", "openai/streaming/parallel-tool-calls"),
    ),
    Fault(
        name="sse-served-as-json",
        bug_class=None,
        protocol="gemini",
        feature="streaming-sse",
        description=(
            "The native SSE stream is framed as SSE but labelled Content-Type: application/json, so"
            " EventSource-style clients refuse it (no bug class listed)."
        ),
        caught_by=("gemini/streaming-sse/framing",),
    ),
    Fault(
        name="sse-lf-separators",
        bug_class=None,
        protocol="gemini",
        feature="streaming-sse",
        description=(
            "Native SSE lines end with a bare LF (events separated by \\n\\n) instead of Google's"
            " CRLF (no bug class listed; a SHOULD-level deviation)."
        ),
        caught_by=("gemini/streaming-sse/crlf-separators",),
    ),
    Fault(
        name="stream-error-as-200",
        bug_class="F05",
        protocol="gemini",
        feature="streaming-errors",
        description=(
            "An error on a streaming request of either protocol (unknown model, bad request) is"
            " answered HTTP 200 with an empty stream."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/streaming-json-array/bad-request",
            "gemini/streaming-json-array/unknown-model",
            "gemini/streaming-sse/bad-request",
            "gemini/streaming-sse/unknown-model",
            "openai/streaming/bad-request",
            "openai/streaming/unknown-model",
        ),
    ),
    Fault(
        name="openai-stream-finish-reason-missing",
        bug_class="F06",
        protocol="openai",
        feature="streaming",
        description=("OpenAI stream chunks never carry a finish_reason (null on the final chunk too)."),
        caught_by=("openai/streaming/choice-deltas",),
    ),
    Fault(
        name="openai-stream-done-missing",
        bug_class="F06",
        protocol="openai",
        feature="streaming",
        description=("The OpenAI stream ends with a clean EOF and no data: [DONE] event."),
        caught_by=("openai/streaming/framing",),
    ),
    Fault(
        name="stream-finish-reason-missing",
        bug_class="F07",
        protocol="gemini",
        feature="streaming",
        description=("The last event of a native stream (SSE or array) has no finishReason."),
        caught_by=(
            "gemini/streaming-json-array/finish-reason-and-usage-last",
            "gemini/streaming-sse/finish-reason-last",
        ),
    ),
    Fault(
        name="openai-chunks-on-native-stream",
        bug_class="F08",
        protocol="gemini",
        feature="streaming",
        description=(
            "Native stream events are OpenAI chat.completion.chunk objects instead of GenerateContentResponses."
        ),
        caught_by=(
            "gemini/streaming-json-array/elements-are-responses",
            "gemini/streaming-sse/events-are-responses",
        ),
    ),
    Fault(
        name="done-on-native-stream",
        bug_class="F08",
        protocol="gemini",
        feature="streaming-sse",
        description=(
            "A data: [DONE] event, an OpenAI-ism that breaks Google's SDKs, ends the native SSE stream."
        ),
        caught_by=("gemini/streaming-sse/framing",),
    ),
    Fault(
        name="include-usage-ignored",
        bug_class="F09",
        protocol="openai",
        feature="streaming",
        description=(
            "stream_options.include_usage is ignored: every chunk has usage: null and no usage chunk comes."
        ),
        caught_by=("openai/streaming/include-usage",),
    ),
    Fault(
        name="openai-usage-on-every-chunk",
        bug_class=None,
        protocol="openai",
        feature="streaming",
        description=(
            "With include_usage, every chunk carries the final usage instead of null (no bug class"
            " listed; clients that add up usage count it many times)."
        ),
        caught_by=("openai/streaming/include-usage",),
    ),
    Fault(
        name="stream-usage-only-on-last-event",
        bug_class="F10",
        protocol="gemini",
        feature="streaming",
        description=(
            "usageMetadata is only on the last native stream event, so an interrupted stream carries none."
        ),
        caught_by=("gemini/streaming-sse/usage-every-event",),
    ),
    Fault(
        name="stream-cumulative-text",
        bug_class=None,
        protocol="gemini",
        feature="streaming",
        description=(
            "Streamed text of both protocols is cumulative (each event repeats the text so far)"
            " instead of deltas (no bug class listed)."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/streaming-json-array/text-deltas",
            "gemini/streaming-sse/text-deltas",
            "gemini/streaming-sse/text-matches-non-streaming",
            "openai/streaming/content-deltas",
            "openai/streaming/content-matches-non-streaming",
        ),
    ),
    Fault(
        name="stream-response-id-changes",
        bug_class=None,
        protocol="gemini",
        feature="streaming",
        description=(
            "Each stream event gets a different responseId (native) or chunk id (OpenAI) (no bug class listed)."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/streaming-json-array/elements-are-responses",
            "gemini/streaming-sse/same-response-id",
            "openai/streaming/chunk-shape",
        ),
    ),
    Fault(
        name="sse-event-lines",
        bug_class=None,
        protocol="gemini",
        feature="streaming-sse",
        description=(
            "Every SSE event of either protocol gets an `event: message` line before its data (no bug"
            " class listed; Google's SDKs and OpenAI's chat stream parser break on it)."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/streaming-sse/framing",
            "openai/streaming/framing",
        ),
    ),
    Fault(
        name="openai-stream-role-missing",
        bug_class=None,
        protocol="openai",
        feature="streaming",
        description=("The first delta of an OpenAI stream has no role (no bug class listed)."),
        caught_by=("openai/streaming/choice-deltas",),
    ),
    Fault(
        name="openai-stream-first-choice-only",
        bug_class="F32",
        protocol="openai",
        feature="streaming",
        description=("With n > 1 only choice 0 is streamed (the non-streaming route returns every choice)."),
        caught_by=("openai/streaming/n-2",),
    ),
    Fault(
        name="openai-chunk-object-wrong",
        bug_class=None,
        protocol="openai",
        feature="streaming",
        description=(
            'OpenAI stream chunks say object "chat.completion" instead of "chat.completion.chunk" (no bug class listed).'
        ),
        caught_by=("openai/streaming/chunk-shape",),
    ),
)

# -- multimodal (cases/*/multimodal*.yaml) --------------------------------------------------------


def _slugs(family: str | None = None) -> list[str]:
    return [
        s.mime_type.replace("/", "-")
        for s in load_media()
        if family is None or family_of(s.mime_type) == family
    ]


def _per_type_cases(slugs: list[str]) -> tuple[str, ...]:
    """The MUST cases sending each of these types: both native spellings and the OpenAI data URI."""
    return tuple(
        f"{prefix}/{slug}"
        for prefix in (
            "gemini/multimodal/inline-data",
            "gemini/multimodal/inline-data-camel",
            "openai/multimodal/image-url",
        )
        for slug in slugs
    )


def _family_fault(family: str) -> Fault:
    return Fault(
        name=f"media-{family}-rejected",
        bug_class="F34",
        protocol="gemini",
        feature="multimodal",
        description=(
            f"Every {family} media part (inline data or data URI) is refused with 400 'Unsupported MIME type'"
            " on both routes, although the type is documented as supported."
        ),
        affects=("gemini", "openai"),
        caught_by=_per_type_cases(_slugs(family)),
    )


_MEDIA: tuple[Fault, ...] = (
    *(_family_fault(family) for family in ("image", "audio", "video", "document", "text")),
    Fault(
        name="media-dropped",
        bug_class="F35",
        protocol="gemini",
        feature="multimodal",
        description=(
            "Media parts (inline data, file data; OpenAI image_url, input_audio, file) are silently removed"
            " before the model sees them; the text of the message still goes through (F35's silent drop,"
            " for every kind of media)."
        ),
        affects=("gemini", "openai"),
        caught_by=(
            "gemini/multimodal/media-counted",
            "openai/multimodal/media-counted",
            "gemini/multimodal/inline-data/image-png/reaches-model",
            "gemini/multimodal/inline-data-camel/audio-wav/modality",
            "gemini/multimodal/several-parts/modality",
            "openai/multimodal/history/reaches-model",
        ),
    ),
    Fault(
        name="mime-jpg-alias",
        bug_class="F34",
        protocol="gemini",
        feature="multimodal",
        description="image/jpeg is forwarded as the undocumented image/jpg (inline data and data URIs).",
        affects=("gemini", "openai"),
        caught_by=_per_type_cases(["image-jpeg"]),
    ),
    Fault(
        name="mime-forced-png",
        bug_class="F34",
        protocol="gemini",
        feature="multimodal",
        description="Every inline media part is forwarded labelled image/png, whatever its real type.",
        affects=("gemini", "openai"),
        caught_by=_per_type_cases(
            ["image-jpeg", "image-webp", "audio-wav", "video-mp4", "application-pdf", "text-plain"]
        ),
    ),
    Fault(
        name="invalid-base64-accepted",
        bug_class=None,
        protocol="gemini",
        feature="multimodal",
        description=(
            "Inline data is decoded leniently (characters outside the base64 alphabet skipped, as Node's"
            " Buffer.from does) and re-encoded, so invalid base64 gets 200 instead of 400 (no bug class listed)."
        ),
        affects=("gemini", "openai"),
        caught_by=(
            "gemini/multimodal/invalid-base64/inline-data",
            "gemini/multimodal/invalid-base64/inline-data-camel",
            "openai/multimodal/invalid-base64",
        ),
    ),
    Fault(
        name="remote-image-url-dropped",
        bug_class="F35",
        protocol="openai",
        feature="multimodal",
        description="OpenAI image_url parts with an http(s) URL are silently dropped instead of reaching the model.",
        caught_by=("openai/multimodal/remote-image-url",),
    ),
    Fault(
        name="request-body-limit",
        bug_class=None,
        protocol="gemini",
        feature="multimodal",
        description=(
            "A proxy in front of the gateway refuses bodies over 1 MiB with nginx's HTML 413 page (the default"
            " client_max_body_size), far below the documented 20 MB inline limit (no bug class listed)."
        ),
        affects=("gemini", "openai"),
        caught_by=("gemini/multimodal/inline-limit", "openai/multimodal/inline-limit"),
    ),
)


_TOOLS: tuple[Fault, ...] = (
    Fault(
        name="thought-signature-dropped",
        bug_class="F13",
        protocol="gemini",
        feature="thought-signatures",
        description=(
            "thoughtSignature is stripped from functionCall parts, so the next turn replaying the call is"
            ' refused with 400 "Function call is missing a thought_signature".'
        ),
        caught_by=(
            "gemini/function-calling/round-trip",
            "gemini/function-calling/thought-signature-round-trip",
        ),
    ),
    Fault(
        name="thought-signature-in-call-id",
        bug_class="F14",
        protocol="openai",
        feature="tool-call-ids",
        description='The thought signature is smuggled into tool_calls[].id ("<id>__thought__<signature>").',
        caught_by=("openai/tools/tool-call-ids",),
    ),
    Fault(
        name="thought-parts-merged",
        bug_class="F15",
        protocol="gemini",
        feature="thinking",
        description="The thought summary is copied in front of the answer text (the thought parts are kept).",
        caught_by=("gemini/thinking/include-thoughts",),
    ),
    Fault(
        name="thinking-config-snake-case-ignored",
        bug_class="F16",
        protocol="gemini",
        feature="thinking",
        description="thinking_config and its snake_case fields (include_thoughts, thinking_budget, thinking_level) are dropped.",
        caught_by=("gemini/thinking/include-thoughts-snake-case",),
    ),
    Fault(
        name="parallel-responses-split",
        bug_class="F17",
        protocol="openai",
        feature="parallel-function-calls",
        description=(
            "A turn answering parallel calls is forwarded as one content per functionResponse (OpenAI tool"
            " messages become separate user contents), which Gemini refuses with 400."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/function-calling/parallel-round-trip",
            "openai/tools/parallel-round-trip",
        ),
    ),
    Fault(
        name="parallel-calls-collapsed",
        bug_class="F18",
        protocol="openai",
        feature="parallel-function-calls",
        description="Only the first of several parallel function calls is passed back.",
        affects=_BOTH,
        caught_by=(
            "gemini/function-calling/parallel-calls",
            "openai/tools/parallel-calls",
        ),
    ),
    Fault(
        name="function-args-emptied",
        bug_class="F19",
        protocol="openai",
        feature="function-arguments",
        description='Function call arguments are replaced by {} (native args, OpenAI arguments "{}").',
        affects=_BOTH,
        caught_by=(
            "gemini/function-calling/auto-call",
            "openai/tools/auto-call",
        ),
    ),
    Fault(
        name="tool-call-arguments-object",
        bug_class="F19",
        protocol="openai",
        feature="function-arguments",
        description="tool_calls[].function.arguments is a JSON object instead of a string holding JSON.",
        caught_by=("openai/tools/auto-call",),
    ),
    Fault(
        name="tool-calls-finish-stop",
        bug_class="F38",
        protocol="openai",
        feature="finish-reason",
        description='A choice holding tool calls reports finish_reason "stop" instead of "tool_calls".',
        caught_by=("openai/tools/auto-call",),
    ),
    Fault(
        name="function-call-id-is-name",
        bug_class="F20",
        protocol="gemini",
        feature="function-call-ids",
        description="functionCall.id (native) and tool_calls[].id (OpenAI) are set to the function name.",
        affects=_BOTH,
        caught_by=(
            "gemini/function-calling/parallel-calls",
            "openai/tools/tool-call-ids",
            "openai/tools/parallel-calls",
        ),
    ),
    Fault(
        name="tool-schema-unsanitized",
        bug_class="F23",
        protocol="openai",
        feature="tool-schemas",
        description=(
            "JSON Schema tool parameters are forwarded as Gemini Schema parameters unsanitized (OpenAI"
            " parameters; native parametersJsonSchema), so $schema or additionalProperties gives 400."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/function-calling/json-schema-keywords",
            "openai/tools/schema-keywords",
        ),
    ),
    Fault(
        name="tool-choice-ignored",
        bug_class="F24",
        protocol="openai",
        feature="tool-choice",
        description=(
            "tool_choice (OpenAI) and toolConfig.functionCallingConfig (native) are not forwarded: every"
            " request runs in AUTO mode with every function allowed."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/function-calling/allowed-function-names",
            "gemini/function-calling/mode-any",
            "gemini/function-calling/mode-none",
            "openai/tools/tool-choice-named",
            "openai/tools/tool-choice-none",
            "openai/tools/tool-choice-required",
        ),
    ),
    Fault(
        name="tools-dropped",
        bug_class="F25",
        protocol="openai",
        feature="tools",
        description="tools (function declarations and code execution) are not forwarded on either route.",
        affects=_BOTH,
        caught_by=(
            "gemini/code-execution/python",
            "gemini/function-calling/auto-call",
            "openai/tools/auto-call",
        ),
    ),
    Fault(
        name="non-text-parts-dropped",
        bug_class="F22",
        protocol="gemini",
        feature="response-parts",
        description=(
            "Only text parts are passed back: functionCall, executableCode and codeExecutionResult parts"
            " are dropped (the converter reads text only)."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/code-execution/python",
            "gemini/function-calling/auto-call",
        ),
    ),
    Fault(
        name="json-mode-dropped",
        bug_class="F28",
        protocol="openai",
        feature="json-mode",
        description=(
            "responseMimeType / responseSchema / responseJsonSchema (native) and response_format (OpenAI)"
            " are not forwarded, so prose comes back."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/json-mode/enum",
            "gemini/json-mode/mime-only",
            "gemini/json-mode/response-schema",
            "openai/json-mode/json-object",
            "openai/json-mode/json-schema",
        ),
    ),
    Fault(
        name="response-json-schema-ignored",
        bug_class="F28",
        protocol="gemini",
        feature="json-mode",
        description=(
            "JSON mode is kept but the schema is dropped (native responseSchema / responseJsonSchema, OpenAI"
            " json_schema.schema), so the JSON does not follow it."
        ),
        affects=_BOTH,
        caught_by=(
            "gemini/json-mode/response-json-schema",
            "gemini/json-mode/response-schema",
            "openai/json-mode/json-schema",
        ),
    ),
    Fault(
        name="safety-settings-overridden",
        bug_class="F29",
        protocol="gemini",
        feature="safety",
        description="The client's safetySettings are replaced by BLOCK_NONE for every category.",
        caught_by=("gemini/safety/answer-block",),
    ),
    Fault(
        name="safety-block-opaque",
        bug_class="F29",
        protocol="gemini",
        feature="safety",
        description=(
            "Safety blocks come back as an empty text candidate: no promptFeedback.blockReason for a blocked"
            " prompt, no finishReason or safetyRatings for a blocked answer."
        ),
        caught_by=(
            "gemini/safety/answer-block",
            "gemini/safety/prompt-block",
        ),
    ),
    Fault(
        name="thoughts-left-out-of-total",
        bug_class="F11",
        protocol="gemini",
        feature="usage",
        description="totalTokenCount leaves out thoughtsTokenCount.",
        caught_by=("gemini/thinking/usage-counts-thoughts",),
    ),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _ALL + _MEDIA + _TOOLS}


def check_fault_names(names: Iterable[str]) -> set[str]:
    """The given fault names as a set; raises ValueError naming any unknown one.

    A single string is taken as one fault name, not as a sequence of characters.
    """
    chosen = {names} if isinstance(names, str) else set(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    return chosen
