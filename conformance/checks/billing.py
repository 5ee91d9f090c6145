"""The billing audit: invariants between a token count a response bills and the same thing counted another
way, each judged against a documented tolerance, and the check that measures them.

A billing case measures an invariant with ``billing: {invariant, measured, reference}``: ``measured`` is
the count the gateway bills, ``reference`` what it must match (countTokens of the same contents, the
same prompt on the other route, the same request unary, the request's own budget). Each measurement is a
``Sample`` kept in the case's record (``billing`` in the run record); the run's billing summary is built
from those records, judged by ``judge`` here, the one place that decides whether a ratio is within
tolerance. The tolerance is exact where Google's counts are deterministic (tokenizing a given input),
and a bound where a real model legitimately varies (what it generates), as ``INVARIANTS`` says for each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from conformance import pointer as jp
from conformance.checks.predicates import show
from conformance.checks.registry import CheckContext, Failure, Sample, check, ref
from conformance.checks.stream import json_events
from conformance.checks.tools import sent_body

Comparison = Literal["equal", "at_most"]
BillingVerdict = Literal["within", "over", "under"]


@dataclass(frozen=True)
class Invariant:
    """A billing invariant: what it compares, how (equal, or at most), its tolerance, and why that one.

    A sample is within tolerance when ``measured`` differs from ``reference`` by at most ``relative`` of
    the reference or ``tokens`` tokens, whichever is larger (``equal``), or exceeds it by at most that
    much (``at_most``).
    """

    name: str
    compares: str
    comparison: Comparison
    relative: float
    tokens: int
    why: str

    @property
    def tolerance(self) -> str:
        """The tolerance in words: ``exact``, ``±10% (at least 2 tokens)``, ``at most``..."""
        if self.relative == 0 and self.tokens == 0:
            return "exact" if self.comparison == "equal" else "at most the reference"
        bound = f"{self.relative:.0%}" + (f" (at least {self.tokens} tokens)" if self.tokens else "")
        return f"±{bound}" if self.comparison == "equal" else f"at most the reference +{bound}"


EXACT_WHY = (
    "counting a given input is deterministic: Google counts it with one tokenizer whichever way it is asked,"
    " and so does the reference"
)
GENERATED_WHY = (
    "a real model's output tokens are the tokens it generated; re-tokenizing the text can split it"
    " differently and the turn may end with tokens the text does not show (exact on the reference)"
)

INVARIANTS: dict[str, Invariant] = {
    invariant.name: invariant
    for invariant in (
        Invariant(
            "prompt-vs-count",
            "promptTokenCount vs countTokens totalTokens of the same contents (native route)",
            "equal",
            0.0,
            0,
            EXACT_WHY,
        ),
        Invariant(
            "prompt-across-protocols",
            "prompt_tokens of a chat completion vs countTokens totalTokens of the same prompt (native route)",
            "equal",
            0.0,
            0,
            EXACT_WHY + "; Google's OpenAI route reports the native usage under OpenAI's names",
        ),
        Invariant(
            "candidates-vs-count",
            "candidatesTokenCount (completion_tokens) vs countTokens of the answer text",
            "equal",
            0.10,
            2,
            GENERATED_WHY,
        ),
        Invariant(
            "thinking-counted-once",
            "candidatesTokenCount of a thinking answer vs countTokens of its answer text (thoughts left out)",
            "equal",
            0.10,
            2,
            GENERATED_WHY + "; thoughts are billed in thoughtsTokenCount, never again in the candidates",
        ),
        Invariant(
            "thinking-within-budget",
            "thoughtsTokenCount vs the request's thinkingBudget",
            "at_most",
            0.10,
            0,
            "Google documents that a model may overflow the budget somewhat depending on the prompt; more"
            " than 10% over bills thinking the client capped",
        ),
        Invariant(
            "stream-vs-unary",
            "the final output count of a stream vs the output count of the same request unary",
            "equal",
            0.10,
            2,
            "the same request at temperature 0 may still get a slightly different answer from a real model"
            " (exact on the reference); a stream billing part of its answer is far off",
        ),
        Invariant(
            "stream-usage-cumulative",
            "the output count on the last stream event vs the largest count any event of the stream reported",
            "equal",
            0.0,
            0,
            "Gemini's usageMetadata on each event is the running total, so the last event's count is the"
            " largest; a last event reporting less bills part of the answer",
        ),
        Invariant(
            "modality-details-sum",
            "the sum of promptTokensDetails tokenCount vs promptTokenCount",
            "equal",
            0.0,
            0,
            "the per-modality breakdown (what resellers price audio and images by) splits the prompt count;"
            " Google's details add up to it exactly",
        ),
        Invariant(
            "cached-within-prompt",
            "cachedContentTokenCount (OpenAI: cached_tokens) vs promptTokenCount (OpenAI: prompt_tokens)",
            "at_most",
            0.0,
            0,
            "cached tokens are part of the prompt (absent counts 0); more cached than prompt tokens is an"
            " impossible bill",
        ),
    )
}
"""Every billing invariant by name, in the order reports list them."""


def ratio(measured: float, reference: float) -> float | None:
    """measured / reference (1 when both are 0; None when only the reference is 0)."""
    if reference == 0:
        return 1.0 if measured == 0 else None
    return measured / reference


def judge(invariant: Invariant, measured: float, reference: float) -> BillingVerdict:
    """Whether a sample is within the invariant's tolerance, or bills over or under it."""
    allowed = max(invariant.relative * abs(reference), invariant.tokens)
    if measured > reference + allowed:
        return "over"
    if invariant.comparison == "equal" and measured < reference - allowed:
        return "under"
    return "within"


# -- the check ---------------------------------------------------------------------------------------

SOURCE: dict[str, Any] = {
    "oneOf": [
        ref("pointer"),
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                "request": {**ref("pointer"), "description": "In the JSON body this step sent."},
                "last_event": {
                    **ref("pointer"),
                    "description": "In the last event of this step's stream that has a value there.",
                },
                "max_over_events": {
                    **ref("pointer"),
                    "description": "The largest value there over the events of this step's stream.",
                },
            },
        },
    ]
}
"""Where a count is read: a pointer into a response (``N#/...`` for step N; the values it reaches are
added up, none counts 0), or a one-key object reading the request sent or this step's stream events."""


@check(
    "billing",
    args={
        "type": "object",
        "required": ["invariant", "measured", "reference"],
        "additionalProperties": False,
        "properties": {
            "invariant": {"enum": list(INVARIANTS)},
            "measured": {**SOURCE, "description": "The count the gateway bills."},
            "reference": {**SOURCE, "description": "The count it must match (or stay under)."},
        },
        "examples": [
            {
                "invariant": "prompt-vs-count",
                "measured": "/usageMetadata/promptTokenCount",
                "reference": "0#/totalTokens",
            },
            {
                "invariant": "stream-usage-cumulative",
                "measured": {"last_event": "/usageMetadata/candidatesTokenCount"},
                "reference": {"max_over_events": "/usageMetadata/candidatesTokenCount"},
            },
        ],
    },
)
def billing(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """A billed token count against the same thing counted another way, within the invariant's tolerance.

    ``invariant`` names one of the documented billing invariants (``conformance.checks.billing``), which
    holds the tolerance; ``measured`` and ``reference`` say where the two counts are read. The sample is
    recorded for the run's billing summary whether or not it is within tolerance.
    """
    invariant = INVARIANTS[args["invariant"]]
    measured, measured_at = _count(ctx, args["measured"], absent_is_zero=True)
    reference, reference_at = _count(ctx, args["reference"], absent_is_zero=False)
    if isinstance(measured, Failure):
        return [measured]
    if isinstance(reference, Failure):
        return [reference]
    step = len(ctx.exchanges) - 1
    ctx.samples.append(Sample(invariant.name, step, measured, reference))
    verdict = judge(invariant, measured, reference)
    if verdict == "within":
        return []
    shown = ratio(measured, reference)
    times = "an infinite ratio" if shown is None else f"{shown:.3g}x"
    return [
        Failure(
            f"billing {invariant.name}: {measured_at} is {_num(measured)}, {times} {reference_at} "
            f"{_num(reference)} ({verdict}; tolerance {invariant.tolerance}: {invariant.compares})",
            measured_at if measured_at.startswith("/") else None,
        )
    ]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _count(ctx: CheckContext, source: Any, absent_is_zero: bool) -> tuple[float | Failure, str]:
    """The count a source names and a short description of where it was read."""
    if isinstance(source, str):
        found = ctx.lookup(source)
        where = source
        values = [value for _, value in found]
    else:
        ((kind, at),) = source.items()
        where = f"{at} ({kind.replace('_', ' ')})"
        if kind == "request":
            values = [value for _, value in jp.resolve(sent_body(ctx), at)]
        else:
            _, items = json_events(ctx)
            per_event = [jp.resolve(item.value, at) for item in items]
            reached = [sum(_number(v) for _, v in found) for found in per_event if found]
            reached = [value for value in reached if not math.isnan(value)]
            values = reached[-1:] if kind == "last_event" else [max(reached)] if reached else []
    if not values:
        if absent_is_zero:
            return 0, where
        return Failure(f"billing: nothing at {where} to compare with"), where
    bad = [value for value in values if math.isnan(_number(value))]
    if bad:
        return Failure(f"billing: {where} is {show(bad[0])}, not a token count"), where
    return sum(_number(value) for value in values), where


def _number(value: Any) -> float:
    """A JSON number as a float (NaN for anything else)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)
