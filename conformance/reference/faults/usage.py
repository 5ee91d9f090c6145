"""Faults in the token usage a response reports: the counts (what billing reads) and the usage block."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import DOCUMENT, RESPONSE, USAGE, Call, Usage

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
