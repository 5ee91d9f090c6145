"""Faults in the token usage a response reports: the counts (what billing reads) and the usage block.

The billing faults keep the sum rule (total = prompt + output + thoughts) true, as a gateway that bills
by its own numbers does: only the billing cases, which compare a count with the count of the same thing
measured another way (countTokens, the other route, the same request unary), catch them.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import DOCUMENT, RESPONSE, STREAM_EVENTS, USAGE, Call, Usage
from conformance.reference.model.engine import tokenize

INFLATION = 1.5
"""How much candidates-inflated multiplies the output count by."""
CHAT_TEMPLATE_TOKENS = 7
"""The prompt tokens prompt-tokens-differ-across-protocols adds on the OpenAI route."""

# -- the counts --------------------------------------------------------------------------------------


class UsageMisreported(Fault):
    """The total omits the output: totalTokenCount = promptTokenCount (native), total_tokens =
    prompt_tokens (OpenAI)."""

    name = "usage-misreported"
    bug_class = "F11"
    protocol = "gemini"
    feature = "usage"
    affects = BOTH
    caught_by = (
        "gemini/streaming-json-array/finish-reason-and-usage-last",
        "gemini/streaming-sse/usage-last-event",
        "gemini/usage/total-is-sum",
        "openai/chat/usage-present",
        "openai/chat/usage-total-is-sum",
        "gemini/grounding/google-search",
        "gemini/grounding/url-context",
        "openai/sampling/reasoning-effort-none",
    )

    @at(USAGE)
    def total_without_output(self, usage: Usage, call: Call) -> Usage:
        return replace(usage, total=usage.total - usage.output)


class ThoughtsLeftOutOfTotal(Fault):
    """totalTokenCount leaves out thoughtsTokenCount."""

    name = "thoughts-left-out-of-total"
    bug_class = "F11"
    protocol = "gemini"
    feature = "usage"
    caught_by = (
        "gemini/thinking/usage-counts-thoughts",
        "gemini/grounding/google-search",
        "gemini/grounding/url-context",
    )

    @at(USAGE)
    def total_without_thoughts(self, usage: Usage, call: Call) -> Usage:
        if call.protocol != "gemini":
            return usage
        return replace(usage, total=usage.total - usage.thoughts)


# -- billing: counts that the sum rule cannot see --------------------------------------------------


class CandidatesInflated(Fault):
    """The output count is inflated by half (candidatesTokenCount, completion_tokens x 1.5, rounded up)
    and the total raised to match, so the sum rule holds while every answer is overbilled."""

    name = "candidates-inflated"
    bug_class = "F11"
    protocol = "gemini"
    feature = "billing"
    affects = BOTH
    caught_by = ("gemini/billing/candidates-vs-count", "openai/billing/completion-vs-count")

    @at(USAGE)
    def inflated(self, usage: Usage, call: Call) -> Usage:
        extra = math.ceil(usage.output * INFLATION) - usage.output
        return replace(usage, output=usage.output + extra, total=usage.total + extra)


class ThoughtsCountedTwice(Fault):
    """Thinking is billed twice: thoughtsTokenCount is also added to candidatesTokenCount, and the total
    is prompt + candidates + thoughts of those numbers (the sum rule holds)."""

    name = "thoughts-counted-twice"
    bug_class = "F11"
    protocol = "gemini"
    feature = "billing"
    caught_by = ("gemini/billing/thinking",)

    @at(USAGE)
    def twice(self, usage: Usage, call: Call) -> Usage:
        return replace(usage, output=usage.output + usage.thoughts, total=usage.total + usage.thoughts)


class PromptTokensDifferAcrossProtocols(Fault):
    """The OpenAI route bills a chat template's overhead: prompt_tokens (and total_tokens) is 7 more than
    the native route's promptTokenCount and countTokens for the same prompt."""

    name = "prompt-tokens-differ-across-protocols"
    bug_class = "F11"
    protocol = "openai"
    feature = "billing"
    caught_by = ("openai/billing/prompt-across-protocols",)

    @at(USAGE)
    def with_template(self, usage: Usage, call: Call) -> Usage:
        if call.protocol != "openai":
            return usage
        return replace(
            usage, prompt=usage.prompt + CHAT_TEMPLATE_TOKENS, total=usage.total + CHAT_TEMPLATE_TOKENS
        )


class StreamUsageLastChunkOnly(Fault):
    """A stream's usage counts each event's own output tokens instead of the running total, so the final
    usage (native: the last event's usageMetadata; OpenAI: the include_usage chunk) bills only the last
    chunk of the answer (F10: usage taken from the last chunk alone)."""

    name = "stream-usage-last-chunk-only"
    bug_class = "F10"
    protocol = "gemini"
    feature = "billing"
    affects = BOTH
    caught_by = ("gemini/billing/stream-vs-unary", "openai/billing/stream-vs-unary")

    @at(STREAM_EVENTS)
    def per_chunk(self, events: list[dict[str, Any]], call: Call) -> list[dict[str, Any]]:
        if call.protocol == "gemini":
            return [_own_native_usage(event) for event in events]
        last = next((_delta_tokens(e) for e in reversed(events) if _delta_tokens(e)), 0)
        out = []
        for event in events:
            usage = event.get("usage")
            if isinstance(usage, dict) and not event.get("choices"):
                prompt = usage.get("prompt_tokens", 0)
                event = {
                    **event,
                    "usage": {**usage, "completion_tokens": last, "total_tokens": prompt + last},
                }
            out.append(event)
        return out


def _own_native_usage(event: dict[str, Any]) -> dict[str, Any]:
    """A native event whose usage counts only the output tokens of its own text parts."""
    usage = event.get("usageMetadata")
    if not isinstance(usage, dict):
        return event
    own = sum(
        len(tokenize(part["text"]))
        for candidate in event.get("candidates") or []
        for part in (candidate.get("content") or {}).get("parts") or []
        if isinstance(part.get("text"), str) and not part.get("thought")
    )
    changed = {k: v for k, v in usage.items() if k != "candidatesTokenCount"}
    if own:
        changed["candidatesTokenCount"] = own
    changed["totalTokenCount"] = usage.get("promptTokenCount", 0) + own + usage.get("thoughtsTokenCount", 0)
    return {**event, "usageMetadata": changed}


def _delta_tokens(chunk: dict[str, Any]) -> int:
    """The output tokens of an OpenAI chunk's content deltas."""
    return sum(
        len(tokenize(choice["delta"]["content"]))
        for choice in chunk.get("choices") or []
        if isinstance((choice.get("delta") or {}).get("content"), str)
    )


# -- the usage block -------------------------------------------------------------------------------


class UsageRenamed(Fault):
    """usageMetadata is returned as cpaUsageMetadata on the native route."""

    name = "usage-renamed"
    bug_class = "F12"
    protocol = "gemini"
    feature = "usage"
    caught_by = (
        "gemini/streaming-sse/usage-last-event",
        "gemini/usage/present",
        "gemini/usage/total-is-sum",
        "gemini/grounding/google-search",
        "gemini/cached-content/round-trip",
    )

    @at(DOCUMENT)
    def renamed(self, document: Any, call: Call) -> Any:
        """The block is renamed as each body or stream event is written (before snake-case-output would
        recase it: ``AREAS`` lists this module before ``responses``)."""
        if call.protocol != "gemini" or not isinstance(document, dict):
            return document
        return {
            ("cpaUsageMetadata" if key == "usageMetadata" else key): value for key, value in document.items()
        }


KNOWN_USAGE = (
    "promptTokenCount",
    "candidatesTokenCount",
    "totalTokenCount",
    "thoughtsTokenCount",
    "promptTokensDetails",
)
"""The usageMetadata members kept by a gateway whose usage type predates caching, tools and output details."""


class UsageDetailsDropped(Fault):
    """usageMetadata keeps only the prompt, candidates, thoughts and total counts and the prompt details:
    cachedContentTokenCount, cacheTokensDetails, toolUsePromptTokenCount and candidatesTokensDetails are
    dropped (the total still counts them), so cached, tool and image or audio tokens cannot be billed."""

    name = "usage-details-dropped"
    bug_class = "F11"
    protocol = "gemini"
    feature = "usage"
    caught_by = (
        "gemini/cached-content/round-trip",
        "gemini/grounding/google-search",
        "gemini/grounding/url-context",
        "gemini/image-output/image-tokens",
        "gemini/speech-output/audio-tokens",
    )

    @at(RESPONSE)
    def known_only(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        usage = body.get("usageMetadata") if call.protocol == "gemini" else None
        if isinstance(usage, dict):
            body["usageMetadata"] = {key: value for key, value in usage.items() if key in KNOWN_USAGE}
        return body
