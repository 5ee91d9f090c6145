"""The run record as typed values: what a run was pointed at, one record per case, and the summary.

Every report (results.json, JUnit, report.html, the matrix, diffs, baselines) reads these frozen
dataclasses, never nested dicts. ``to_json`` gives the JSON object of ``schemas/results.schema.json``
(optional members left out when empty, as the format has always done); ``from_json`` reads it back,
including files written before a member existed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

from conformance.checks.billing import INVARIANTS, BillingVerdict, judge, ratio
from conformance.engine.baseline import BaselineMark
from conformance.engine.judge import breaks_gate
from conformance.suite.model import BROKEN, LEVELS, NOT_JUDGED, OUTCOMES, Level, Outcome, Protocol, Side

FORMAT = "gateway-conformance/results"
FORMAT_VERSION = 1

Gate = Literal["pass", "fail"]
Headers = tuple[tuple[str, str], ...]


def iso(moment: datetime) -> str:
    """An instant as ISO 8601 UTC with milliseconds, e.g. ``2026-12-07T10:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """The instant of an ISO 8601 text written by ``iso``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _headers(value: Any) -> Headers:
    return tuple((str(name), str(text)) for name, text in value)


def _headers_json(headers: Headers) -> list[list[str]]:
    return [[name, value] for name, value in headers]


@dataclass(frozen=True)
class UnattributedRequest:
    """A request that reached the upstream but that no case of the run caused (or whose tag is unknown)."""

    method: str
    url: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UnattributedRequest:
        return cls(data["method"], data["url"], data["reason"])


@dataclass(frozen=True)
class UpstreamInfo:
    """A two-sided run's upstream: where it listened, how many requests reached it, and the unattributed
    ones (known when the run ends)."""

    base_url: str
    requests: int = 0
    unattributed: tuple[UnattributedRequest, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "requests": self.requests,
            "unattributed": [request.to_json() for request in self.unattributed],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UpstreamInfo:
        return cls(
            data["base_url"],
            data.get("requests", 0),
            tuple(UnattributedRequest.from_json(r) for r in data.get("unattributed", ())),
        )


@dataclass(frozen=True)
class RunInfo:
    """What a run was pointed at, how, and when (the ``run`` member; the log's header)."""

    provider: str
    base_url: str | None
    model: str
    concurrency: int
    started_at: str
    suite_version: str
    embedded_reference: bool = False
    faults: tuple[str, ...] = ()
    mode: str = "compat"
    python: str = ""
    repeat: int = 1
    retry: Mapping[str, float] | None = None
    baseline: str | None = None
    finished_at: str | None = None
    duration_ms: float = 0.0
    complete: bool = True
    interrupted: str | None = None
    not_run: tuple[str, ...] = ()
    upstream: UpstreamInfo | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "suite_version": self.suite_version,
            "provider": self.provider,
            "base_url": self.base_url,
            "embedded_reference": self.embedded_reference,
            "faults": list(self.faults),
            "model": self.model,
            "mode": self.mode,
            "concurrency": self.concurrency,
            "started_at": self.started_at,
        }
        if self.finished_at is not None:
            out.update(finished_at=self.finished_at, duration_ms=round(self.duration_ms, 3))
        out.update(python=self.python, repeat=self.repeat)
        if self.retry is not None:
            out["retry"] = dict(self.retry)
        if self.baseline:
            out["baseline"] = self.baseline
        out["complete"] = self.complete
        if self.interrupted:
            out["interrupted"] = self.interrupted
        if self.not_run:
            out["not_run"] = list(self.not_run)
        if self.upstream is not None:
            out["upstream"] = self.upstream.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunInfo:
        return cls(
            provider=data["provider"],
            base_url=data.get("base_url"),
            model=data["model"],
            concurrency=data["concurrency"],
            started_at=data["started_at"],
            suite_version=data["suite_version"],
            embedded_reference=data.get("embedded_reference", False),
            faults=tuple(data.get("faults", ())),
            mode=data.get("mode", "compat"),
            python=data.get("python", ""),
            repeat=data.get("repeat", 1),
            retry=data.get("retry"),
            baseline=data.get("baseline"),
            finished_at=data.get("finished_at"),
            duration_ms=data.get("duration_ms", 0.0),
            complete=data.get("complete", True),
            interrupted=data.get("interrupted"),
            not_run=tuple(data.get("not_run", ())),
            upstream=UpstreamInfo.from_json(data["upstream"]) if data.get("upstream") else None,
        )

    @property
    def label(self) -> str:
        """``provider``, plus ``+fault,...`` for an injected reference and `` (strict)`` in strict mode."""
        return self.label_of(self.provider)

    @property
    def target_label(self) -> str:
        """The label with the model: ``provider · model +fault,... (strict)``."""
        return self.label_of(f"{self.provider} · {self.model}")

    def label_of(self, name: str) -> str:
        label = name
        if self.faults:
            label += " +" + ",".join(self.faults)
        if self.mode == "strict":
            label += " (strict)"
        return label

    @property
    def target(self) -> tuple[str, str, tuple[str, ...], str]:
        """What makes two runs runs of the same target: provider, model, injected faults and verdict mode."""
        return (self.provider, self.model, self.faults, self.mode)


@dataclass(frozen=True)
class RequestRecord:
    """A request as it was sent, secrets removed, its body cut for the report."""

    method: str
    url: str
    headers: Headers
    body: str
    body_truncated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": _headers_json(self.headers),
            "body": self.body,
            "body_truncated": self.body_truncated,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestRecord:
        return cls(
            data["method"], data["url"], _headers(data["headers"]), data["body"], data["body_truncated"]
        )


@dataclass(frozen=True)
class ResponseRecord:
    """A response's status, headers and (cut) body, and how many body bytes came."""

    status: int
    headers: Headers
    body: str
    body_bytes: int
    body_truncated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": _headers_json(self.headers),
            "body": self.body,
            "body_bytes": self.body_bytes,
            "body_truncated": self.body_truncated,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResponseRecord:
        return cls(
            data["status"],
            _headers(data["headers"]),
            data["body"],
            data["body_bytes"],
            data["body_truncated"],
        )


@dataclass(frozen=True)
class StreamTimings:
    """When the events of a streamed 200 arrived, in milliseconds from the start of the request."""

    kind: str
    events: int
    first_event_ms: float | None
    last_event_ms: float | None
    largest_gap_ms: float | None

    def describe(self, ttfb_ms: float | None, total_ms: float) -> str:
        """One line for a person."""

        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.0f} ms"

        return (
            f"stream ({self.kind}): {self.events} event(s); ttfb {ms(ttfb_ms)}, first event "
            f"{ms(self.first_event_ms)}, last event {ms(self.last_event_ms)}, total {ms(total_ms)}, "
            f"largest gap {ms(self.largest_gap_ms)}"
        )


@dataclass(frozen=True)
class Timings:
    """How long an exchange took: first body byte and total, plus the stream's timings for a stream."""

    ttfb_ms: float | None
    total_ms: float
    stream: StreamTimings | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ttfb_ms": self.ttfb_ms, "total_ms": self.total_ms}
        if self.stream is not None:
            out.update(
                stream=self.stream.kind,
                events=self.stream.events,
                first_event_ms=self.stream.first_event_ms,
                last_event_ms=self.stream.last_event_ms,
                largest_gap_ms=self.stream.largest_gap_ms,
            )
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Timings:
        stream = None
        if "stream" in data:
            stream = StreamTimings(
                data["stream"],
                data.get("events", 0),
                data.get("first_event_ms"),
                data.get("last_event_ms"),
                data.get("largest_gap_ms"),
            )
        return cls(data.get("ttfb_ms"), data.get("total_ms", 0.0), stream)


@dataclass(frozen=True)
class RetryRecord:
    """A 429 or 503 answer that was retried: its status, Retry-After header and the wait."""

    status: int
    retry_after: str | None
    waited_ms: float

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "retry_after": self.retry_after, "waited_ms": self.waited_ms}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RetryRecord:
        return cls(data["status"], data.get("retry_after"), data["waited_ms"])


@dataclass(frozen=True)
class ForwardedRecord:
    """A request a step caused to reach the suite's upstream, as it arrived (keys removed, body cut), and
    the status the upstream answered it with."""

    method: str
    url: str
    headers: Headers
    body: str
    body_truncated: bool
    status: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": _headers_json(self.headers),
            "body": self.body,
            "body_truncated": self.body_truncated,
            "status": self.status,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ForwardedRecord:
        return cls(
            data["method"],
            data["url"],
            _headers(data["headers"]),
            data["body"],
            data["body_truncated"],
            data.get("status"),
        )


@dataclass(frozen=True)
class ExchangeRecord:
    """One step's request and what came back (or the transport error that ended it); in a two-sided run
    also the requests the step caused to reach the upstream."""

    step: int
    request: RequestRecord
    response: ResponseRecord | None
    timings: Timings
    error: str | None = None
    retries: tuple[RetryRecord, ...] = ()
    forwarded: tuple[ForwardedRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step,
            "request": self.request.to_json(),
            "response": self.response.to_json() if self.response is not None else None,
            "timings": self.timings.to_json(),
            "error": self.error,
        }
        if self.retries:
            out["retries"] = [retry.to_json() for retry in self.retries]
        if self.forwarded:
            out["forwarded"] = [request.to_json() for request in self.forwarded]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExchangeRecord:
        response = data.get("response")
        return cls(
            data["step"],
            RequestRecord.from_json(data["request"]),
            ResponseRecord.from_json(response) if response is not None else None,
            Timings.from_json(data["timings"]),
            data.get("error"),
            tuple(RetryRecord.from_json(r) for r in data.get("retries", ())),
            tuple(ForwardedRecord.from_json(r) for r in data.get("forwarded", ())),
        )


@dataclass(frozen=True)
class FailureRecord:
    """An expectation a step broke: which, why, where (a JSON pointer), and on which side: the response, or
    (``upstream``) the request the gateway forwarded."""

    step: int
    expectation: str
    message: str
    pointer: str | None = None
    side: Side = "response"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step,
            "expectation": self.expectation,
            "message": self.message,
            "pointer": self.pointer,
        }
        if self.side == "upstream":
            out["side"] = self.side
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FailureRecord:
        side: Side = "upstream" if data.get("side") == "upstream" else "response"
        return cls(data["step"], data["expectation"], data["message"], data.get("pointer"), side)


@dataclass(frozen=True)
class Evidence:
    """The attempt worth showing: its exchanges, the broken expectations, or the error that stopped it."""

    exchanges: tuple[ExchangeRecord, ...] = ()
    failures: tuple[FailureRecord, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "exchanges": [exchange.to_json() for exchange in self.exchanges],
            "failures": [failure.to_json() for failure in self.failures],
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            tuple(ExchangeRecord.from_json(e) for e in data.get("exchanges", ())),
            tuple(FailureRecord.from_json(f) for f in data.get("failures", ())),
            data.get("error"),
        )


def _number(value: float) -> int | float:
    """A count as JSON writes it: an integer when it is one."""
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class BillingSample:
    """A billing measurement: the invariant, the step that measured it, the count the gateway billed and
    the count it is judged against (and, in the run's billing section, the case that measured it)."""

    invariant: str
    step: int
    measured: float
    reference: float
    case: str = ""

    @property
    def ratio(self) -> float | None:
        return ratio(self.measured, self.reference)

    @property
    def verdict(self) -> BillingVerdict:
        """Within the invariant's tolerance, or over or under it (an unknown invariant: exact)."""
        invariant = INVARIANTS.get(self.invariant)
        if invariant is None:
            return (
                "within"
                if self.measured == self.reference
                else ("over" if self.measured > self.reference else "under")
            )
        return judge(invariant, self.measured, self.reference)

    def to_json(self, judged: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"invariant": self.invariant}
        if self.case:
            out["case"] = self.case
        out.update(step=self.step, measured=_number(self.measured), reference=_number(self.reference))
        if judged:
            shown = self.ratio
            out.update(ratio=None if shown is None else round(shown, 6), verdict=self.verdict)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], case: str = "") -> BillingSample:
        return cls(
            data["invariant"], data["step"], data["measured"], data["reference"], data.get("case", case)
        )


@dataclass(frozen=True)
class InvariantResult:
    """One billing invariant over a run: its samples, the ratio farthest from 1, and the verdict."""

    invariant: str
    samples: tuple[BillingSample, ...]

    @property
    def worst(self) -> BillingSample:
        """The sample out of tolerance (else any) whose ratio is farthest from 1 (an infinite one first)."""

        def distance(sample: BillingSample) -> tuple[bool, float]:
            shown = sample.ratio
            far = float("inf") if shown is None or shown <= 0 else abs(math.log(shown))
            return sample.verdict != "within", far

        return max(self.samples, key=distance)

    @property
    def ratio(self) -> float | None:
        return self.worst.ratio

    @property
    def verdict(self) -> BillingVerdict:
        return self.worst.verdict

    @property
    def compares(self) -> str:
        invariant = INVARIANTS.get(self.invariant)
        return invariant.compares if invariant else ""

    @property
    def tolerance(self) -> str:
        invariant = INVARIANTS.get(self.invariant)
        return invariant.tolerance if invariant else "exact"

    @property
    def why(self) -> str:
        invariant = INVARIANTS.get(self.invariant)
        return invariant.why if invariant else ""

    def to_json(self) -> dict[str, Any]:
        shown = self.ratio
        return {
            "invariant": self.invariant,
            "compares": self.compares,
            "tolerance": self.tolerance,
            "why": self.why,
            "ratio": None if shown is None else round(shown, 6),
            "verdict": self.verdict,
            "samples": [sample.to_json(judged=True) for sample in self.samples],
        }


@dataclass(frozen=True)
class Billing:
    """The billing audit of a run: each measured invariant, in the order ``INVARIANTS`` lists them."""

    invariants: tuple[InvariantResult, ...]

    @classmethod
    def of(cls, cases: Iterable[CaseRecord]) -> Billing | None:
        """The audit of the case records' samples, or None when no case measured anything."""
        by_name: dict[str, list[BillingSample]] = {}
        for case in cases:
            for sample in case.billing:
                by_name.setdefault(sample.invariant, []).append(replace(sample, case=case.id))
        if not by_name:
            return None
        order = {name: n for n, name in enumerate(INVARIANTS)}
        names = sorted(by_name, key=lambda name: (order.get(name, len(order)), name))
        return cls(tuple(InvariantResult(name, tuple(by_name[name])) for name in names))

    def by_name(self) -> dict[str, InvariantResult]:
        return {result.invariant: result for result in self.invariants}

    def to_json(self) -> dict[str, Any]:
        return {"invariants": [result.to_json() for result in self.invariants]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Billing:
        return cls(
            tuple(
                InvariantResult(
                    item["invariant"], tuple(BillingSample.from_json(sample) for sample in item["samples"])
                )
                for item in data["invariants"]
            )
        )


class FeatureHeading:
    """The anchor and label of what a view shows under one heading: the cases of one feature of one
    protocol, or of a group of them folded together (such as the per-type multimodal cases)."""

    protocol: str
    feature: str
    group: str | None

    @property
    def anchor(self) -> str:
        return f"f-{self.protocol}-{self.feature}" + (f"-{self.group}" if self.group else "")

    @property
    def label(self) -> str:
        """The feature, and the group its cases are folded into (``multimodal (per-type)``)."""
        return f"{self.feature} ({self.group})" if self.group else self.feature


@dataclass(frozen=True)
class CaseRecord:
    """One case's verdict and its evidence, as written to the run record."""

    id: str
    protocol: Protocol
    feature: str
    level: Level
    title: str
    reference: str
    outcome: Outcome
    message: str
    breaks_gate: bool
    bug_classes: tuple[str, ...] = ()
    duration_ms: float = 0.0
    attempts: int = 0
    passes: int = 0
    rounds: tuple[str, ...] = ()
    baseline: BaselineMark | None = None
    evidence: Evidence | None = None
    group: str | None = None
    capability: str | None = None
    billing: tuple[BillingSample, ...] = ()

    @property
    def broken(self) -> bool:
        """Whether the case failed, errored or was flaky."""
        return self.outcome in BROKEN

    @property
    def judged(self) -> bool:
        """Whether the case was judged (not unsupported or skipped)."""
        return self.outcome not in NOT_JUDGED

    @property
    def expected_failure(self) -> bool:
        """Whether the case broke exactly as its baseline says it does."""
        return self.baseline is not None and self.baseline.status == "expected"

    @property
    def forwarded_wrongly(self) -> bool:
        """Whether the case broke on the upstream side: the gateway forwarded the request wrongly."""
        return (
            self.broken
            and self.evidence is not None
            and any(f.side == "upstream" for f in self.evidence.failures)
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "protocol": self.protocol,
            "feature": self.feature,
            "level": self.level,
            "title": self.title,
            "reference": self.reference,
            "bug_classes": list(self.bug_classes),
            "outcome": self.outcome,
            "message": self.message,
            "breaks_gate": self.breaks_gate,
            "duration_ms": round(self.duration_ms, 3),
            "attempts": self.attempts,
            "passes": self.passes,
            "evidence": self.evidence.to_json() if self.evidence is not None else None,
        }
        if self.rounds:
            out["rounds"] = list(self.rounds)
        if self.baseline is not None:
            out["baseline"] = self.baseline.to_json()
        if self.group:
            out["group"] = self.group
        if self.capability:
            out["capability"] = self.capability
        if self.billing:
            out["billing"] = [sample.to_json() for sample in self.billing]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseRecord:
        baseline = BaselineMark.from_json(data["baseline"]) if data.get("baseline") else None
        evidence = Evidence.from_json(data["evidence"]) if data.get("evidence") else None
        level = cast(Level, data["level"])
        outcome = cast(Outcome, data["outcome"])
        breaks = data.get("breaks_gate")
        if breaks is None:  # written before the verdict was recorded: the judge's rule decides
            breaks = breaks_gate(level, outcome, baseline.status if baseline else None)
        return cls(
            id=data["id"],
            protocol=cast(Protocol, data["protocol"]),
            feature=data["feature"],
            level=level,
            title=data["title"],
            reference=data["reference"],
            outcome=outcome,
            message=data["message"],
            breaks_gate=bool(breaks),
            bug_classes=tuple(data.get("bug_classes", ())),
            duration_ms=data.get("duration_ms", 0.0),
            attempts=data.get("attempts", 0),
            passes=data.get("passes", 0),
            rounds=tuple(data.get("rounds", ())),
            baseline=baseline,
            evidence=evidence,
            group=data.get("group"),
            capability=data.get("capability"),
            billing=tuple(BillingSample.from_json(sample) for sample in data.get("billing", ())),
        )


@dataclass(frozen=True)
class Summary:
    """Counts per outcome (overall and per level), the baseline's verdicts, and the gate."""

    total: int
    counts: Mapping[str, int]
    by_level: Mapping[str, Mapping[str, int]]
    gate: Gate
    baseline: Mapping[str, int] | None = None

    @classmethod
    def of(cls, cases: Iterable[CaseRecord], complete: bool = True) -> Summary:
        """The summary of some case records; an incomplete run fails the gate."""
        counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        by_level: dict[str, dict[str, int]] = {level: dict.fromkeys(OUTCOMES, 0) for level in LEVELS}
        statuses = {"expected": 0, "unexpected-pass": 0, "changed": 0}
        total = 0
        breaking = 0
        baselined = False
        for case in cases:
            total += 1
            counts[case.outcome] += 1
            by_level[case.level][case.outcome] += 1
            breaking += case.breaks_gate
            if case.baseline is not None:
                baselined = True
                statuses[case.baseline.status] += 1
        baseline = None
        if baselined:
            baseline = {
                "expected_failures": statuses["expected"],
                "unexpected_passes": statuses["unexpected-pass"],
                "changed": statuses["changed"],
            }
        gate: Gate = "fail" if breaking or not complete else "pass"
        return cls(total, counts, by_level, gate, baseline)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "total": self.total,
            **self.counts,
            "by_level": {k: dict(v) for k, v in self.by_level.items()},
        }
        out["gate"] = self.gate
        if self.baseline is not None:
            out["baseline"] = dict(self.baseline)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        counts: dict[str, int] = {outcome: data.get(outcome, 0) for outcome in OUTCOMES}
        return cls(data["total"], counts, data["by_level"], data["gate"], data.get("baseline"))


@dataclass(frozen=True)
class RunRecord:
    """A whole run: its metadata, its case records in suite order, and the summary."""

    info: RunInfo
    cases: tuple[CaseRecord, ...]
    summary: Summary
    source: str = ""
    billing: Billing | None = None
    """The billing audit, from the cases' samples (None when no case measured anything)."""

    @property
    def complete(self) -> bool:
        return self.info.complete

    @property
    def label(self) -> str:
        return self.info.label

    def by_id(self) -> dict[str, CaseRecord]:
        return {case.id: case for case in self.cases}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "run": self.info.to_json(),
            "summary": self.summary.to_json(),
        }
        if self.billing is not None:
            out["billing"] = self.billing.to_json()
        out["cases"] = [case.to_json() for case in self.cases]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "") -> RunRecord:
        cases = tuple(CaseRecord.from_json(case) for case in data["cases"])
        billing = Billing.from_json(data["billing"]) if data.get("billing") else Billing.of(cases)
        return cls(RunInfo.from_json(data["run"]), cases, Summary.from_json(data["summary"]), source, billing)

    @classmethod
    def of(cls, info: RunInfo, cases: Sequence[CaseRecord], source: str = "") -> RunRecord:
        """A run record whose summary and billing audit are computed from its cases."""
        return cls(info, tuple(cases), Summary.of(cases, info.complete), source, Billing.of(cases))

    def with_info(self, **changes: Any) -> RunRecord:
        return replace(self, info=replace(self.info, **changes))


@dataclass(frozen=True)
class FeatureGroup(FeatureHeading):
    """The cases of one feature of one protocol in a run (or of a group of them folded together, such as
    the per-type multimodal cases), with their counts."""

    protocol: str
    feature: str
    cases: tuple[CaseRecord, ...]
    group: str | None = None

    @property
    def counts(self) -> Counter[str]:
        return Counter(case.outcome for case in self.cases)

    @property
    def broken(self) -> int:
        return sum(case.broken or case.breaks_gate for case in self.cases)

    @property
    def duration_ms(self) -> float:
        return sum(case.duration_ms for case in self.cases)


def feature_groups(run: RunRecord) -> list[FeatureGroup]:
    """The run's cases grouped by protocol and feature, in suite order; the folded groups (such as the
    per-type multimodal cases) after every feature."""
    groups: dict[tuple[str, str, str], list[CaseRecord]] = {}
    for case in run.cases:
        groups.setdefault((case.protocol, case.feature, case.group or ""), []).append(case)
    ordered = sorted(groups.items(), key=lambda item: bool(item[0][2]))
    return [
        FeatureGroup(protocol, feature, tuple(cases), group or None)
        for (protocol, feature, group), cases in ordered
    ]
