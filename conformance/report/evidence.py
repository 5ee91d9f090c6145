"""A case's record from its result and verdict: the evidence worth showing, secrets removed, bodies cut."""

from __future__ import annotations

from conformance.engine.attempts import Attempt, CaseResult
from conformance.engine.baseline import Baseline
from conformance.engine.judge import Verdict, verdict
from conformance.report.records import (
    BillingSample,
    CaseRecord,
    Evidence,
    ExchangeRecord,
    FailureRecord,
    ForwardedRecord,
    RequestRecord,
    ResponseRecord,
    RetryRecord,
    StreamTimings,
    Timings,
)
from conformance.streams.view import sniff_kind, view_of
from conformance.suite.model import Case
from conformance.upstream.ledger import ForwardedRequest
from conformance.wire.exchange import Exchange
from conformance.wire.redact import Redactor

BODY_LIMIT_FAILED = 16 * 1024
BODY_LIMIT_PASSED = 4 * 1024


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def body_text(data: bytes, limit: int) -> tuple[str, bool]:
    """A body as text for a report: UTF-8 (undecodable bytes replaced), cut at ``limit`` bytes."""
    return data[:limit].decode("utf-8", "replace"), len(data) > limit


def stream_timings(exchange: Exchange) -> StreamTimings | None:
    """For a streamed 200: the event count, when the first and last event arrived, and the largest gap."""
    kind = sniff_kind(exchange)
    if kind is None:
        return None
    timings = view_of(exchange, kind).timings()
    return StreamTimings(
        kind, timings.events, _ms(timings.first_event), _ms(timings.last_event), _ms(timings.largest_gap)
    )


def forwarded_record(request: ForwardedRequest, redactor: Redactor, limit: int) -> ForwardedRecord:
    """A request that reached the upstream, for the run record: keys removed, the body cut."""
    body, cut = body_text(redactor.data(request.body), limit)
    return ForwardedRecord(
        request.method,
        redactor.text(request.target),
        redactor.headers(request.headers),
        body,
        cut,
        request.status,
    )


def exchange_record(
    step: int,
    exchange: Exchange,
    redactor: Redactor,
    limit: int,
    forwarded: tuple[ForwardedRequest, ...] = (),
) -> ExchangeRecord:
    """One exchange for the run record (with the requests it caused upstream), secrets removed and bodies
    cut at ``limit`` bytes."""
    sent = exchange.request
    request_body, request_cut = body_text(redactor.data(sent.body), limit)
    request = RequestRecord(
        sent.method,
        redactor.text(sent.url),
        redactor.headers(sent.headers),
        request_body,
        request_cut or sent.body_truncated,
    )
    response = None
    if exchange.status is not None:
        response_body, response_cut = body_text(redactor.data(exchange.body), limit)
        response = ResponseRecord(
            exchange.status,
            redactor.headers(exchange.headers),
            response_body,
            len(exchange.body),
            response_cut or exchange.body_truncated,
        )
    retries = tuple(
        RetryRecord(
            r.status, redactor.text(r.retry_after) if r.retry_after else None, round(r.waited * 1000, 3)
        )
        for r in exchange.retry_log
    )
    timings = Timings(_ms(exchange.ttfb), round(exchange.elapsed * 1000, 3), stream_timings(exchange))
    error = redactor.text(exchange.error) if exchange.error else None
    upstream = tuple(forwarded_record(r, redactor, limit) for r in forwarded)
    return ExchangeRecord(step, request, response, timings, error, retries, upstream)


def evidence_of(attempt: Attempt, redactor: Redactor) -> Evidence:
    """An attempt's exchanges and broken expectations; bodies are cut shorter for an attempt that passed."""
    limit = BODY_LIMIT_PASSED if attempt.passed else BODY_LIMIT_FAILED
    return Evidence(
        tuple(
            exchange_record(n, exchange, redactor, limit, attempt.forwarded.get(n, ()))
            for n, exchange in enumerate(attempt.exchanges)
        ),
        tuple(
            FailureRecord(
                f.step,
                redactor.text(f.expectation.describe()),
                redactor.text(f.failure.message),
                f.failure.pointer,
                f.side,
            )
            for f in attempt.failures
        ),
        redactor.text(attempt.error) if attempt.error else None,
    )


def record_of(result: CaseResult, redactor: Redactor, baseline: Baseline | None = None) -> CaseRecord:
    """The record of a case's result, with the judge's verdict under an optional baseline."""
    return case_record(
        result.case, result, verdict(result.case, result.outcome, result.message, baseline), redactor
    )


def case_record(case: Case, result: CaseResult, verdict: Verdict, redactor: Redactor) -> CaseRecord:
    """The record of a case that ran (or was found not to apply) with its verdict."""
    attempt = result.evidence_attempt
    return CaseRecord(
        id=case.id,
        protocol=case.protocol,
        feature=case.feature,
        level=case.level,
        title=case.title,
        reference=case.reference,
        outcome=verdict.outcome,
        message=redactor.text(verdict.message),
        breaks_gate=verdict.breaks_gate,
        bug_classes=case.bug_classes,
        duration_ms=result.duration_ms,
        attempts=len(result.attempts),
        passes=result.passes,
        rounds=result.rounds,
        baseline=verdict.baseline,
        evidence=evidence_of(attempt, redactor) if attempt is not None else None,
        group=case.group,
        capability=case.model if case.model != "default" else None,
        billing=tuple(BillingSample(s.invariant, s.step, s.measured, s.reference) for s in attempt.samples)
        if attempt is not None
        else (),
    )
