"""Faults in the token usage a response reports: the counts (what billing reads) and the usage block."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import DOCUMENT, USAGE, Call, Usage

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
    caught_by = ("gemini/thinking/usage-counts-thoughts",)

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
