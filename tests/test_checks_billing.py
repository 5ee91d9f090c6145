"""The billing check: a billed count against the same thing counted another way, within the invariant's
tolerance, each measurement kept as a sample."""

from __future__ import annotations

import json
from typing import Any

from conformance.checks import CheckContext, run_check
from conformance.suite.model import Expectation
from conformance.wire.exchange import Exchange
from tests.test_checks import REQUEST, case, exchange, verdict

USAGE = {"usageMetadata": {"promptTokenCount": 15, "candidatesTokenCount": 39, "totalTokenCount": 54}}
PROMPT_VS_COUNT = {
    "invariant": "prompt-vs-count",
    "measured": "/usageMetadata/promptTokenCount",
    "reference": "/count",
}


def usage(prompt: int, count: int) -> Exchange:
    return exchange({"usageMetadata": {"promptTokenCount": prompt}, "count": count})


def sse(*counts: int) -> Exchange:
    events = b"".join(
        b"data: " + json.dumps({"usageMetadata": {"candidatesTokenCount": n}}).encode() + b"\r\n\r\n"
        for n in counts
    )
    return Exchange(REQUEST, 200, (("content-type", "text/event-stream"),), events)


CUMULATIVE = {
    "invariant": "stream-usage-cumulative",
    "measured": {"last_event": "/usageMetadata/candidatesTokenCount"},
    "reference": {"max_over_events": "/usageMetadata/candidatesTokenCount"},
}

GOOD_AND_BAD: list[tuple[str, Any, Exchange, Exchange, str]] = [
    (
        "billing",
        PROMPT_VS_COUNT,
        usage(15, 15),
        usage(22, 15),
        "prompt-vs-count: /usageMetadata/promptTokenCount is 22, 1.47x /count 15 (over; tolerance exact",
    ),
    ("billing", CUMULATIVE, sse(2, 5, 9), sse(2, 5, 2), "is 2, 0.222x /usageMetadata/candidatesTokenCount"),
    (
        "billing",
        {
            "invariant": "candidates-vs-count",
            "measured": "/usageMetadata/candidatesTokenCount",
            "reference": "/n",
        },
        exchange({**USAGE, "n": 42}),
        exchange({**USAGE, "n": 30}),
        "(over; tolerance ±10% (at least 2 tokens)",
    ),
]


def test_every_sample_is_kept_in_or_out_of_tolerance(schemas) -> None:
    for ex, within in ((usage(15, 15), True), (usage(22, 15), False)):
        ctx = CheckContext(case=case(), exchanges=(ex,), schemas=schemas)
        failures = run_check(ctx, Expectation("billing", PROMPT_VS_COUNT))
        assert (failures == []) == within
        ((sample),) = ctx.samples
        assert (sample.invariant, sample.step, sample.reference) == ("prompt-vs-count", 0, 15)


def test_an_absent_billed_count_is_zero_and_an_absent_reference_fails(schemas) -> None:
    cached = {"invariant": "cached-within-prompt", "measured": "/cached", "reference": "/count"}
    assert verdict(schemas, "billing", cached, exchange({"count": 15})) == []
    (problem,) = verdict(schemas, "billing", PROMPT_VS_COUNT, exchange({"usageMetadata": {}}))
    assert "nothing at /count to compare with" in problem
    (problem,) = verdict(schemas, "billing", PROMPT_VS_COUNT, usage(15, "x"))  # type: ignore[arg-type]
    assert "not a token count" in problem
