"""The run record (results.json): metadata, then one record per case with redacted evidence."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.engine.baseline import Baseline, baseline_record
from conformance.engine.runner import CaseResult
from conformance.streams.view import sniff_kind, view_of
from conformance.suite.model import LEVELS, Case
from conformance.validation.documents import validate_document
from conformance.wire.exchange import Exchange
from conformance.wire.redact import Redactor

FORMAT = "gateway-conformance/results"
FORMAT_VERSION = 1
OUTCOMES = ("passed", "failed", "errored", "flaky", "unsupported", "skipped")
BROKEN = ("failed", "errored", "flaky")
BODY_LIMIT_FAILED = 16 * 1024
BODY_LIMIT_PASSED = 4 * 1024


@dataclass
class RunInfo:
    """What a run was pointed at and when it ran."""

    provider: str
    base_url: str | None
    model: str
    concurrency: int
    mode: str = "compat"
    embedded: bool = False
    faults: list[str] = field(default_factory=list)
    repeat: int = 1
    retry: dict[str, float] | None = None
    baseline: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None


def now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def body_text(data: bytes, limit: int) -> tuple[str, bool]:
    """A body as text for a report: UTF-8 (undecodable bytes replaced), cut at ``limit`` bytes."""
    cut = len(data) > limit
    return data[:limit].decode("utf-8", "replace"), cut


def exchange_record(step: int, exchange: Exchange, redactor: Redactor, limit: int) -> dict[str, Any]:
    request_body, request_cut = body_text(redactor.data(exchange.request.body), limit)
    record: dict[str, Any] = {
        "step": step,
        "request": {
            "method": exchange.request.method,
            "url": redactor.text(exchange.request.url),
            "headers": redactor.headers(exchange.request.headers),
            "body": request_body,
            "body_truncated": request_cut or exchange.request.body_truncated,
        },
        "response": None,
        "timings": {
            "ttfb_ms": round(exchange.ttfb * 1000, 3) if exchange.ttfb is not None else None,
            "total_ms": round(exchange.elapsed * 1000, 3),
            **stream_timings(exchange),
        },
        "error": redactor.text(exchange.error) if exchange.error else None,
    }
    if exchange.retry_log:
        record["retries"] = [
            {
                "status": r.status,
                "retry_after": redactor.text(r.retry_after) if r.retry_after else None,
                "waited_ms": round(r.waited * 1000, 3),
            }
            for r in exchange.retry_log
        ]
    if exchange.status is not None:
        response_body, response_cut = body_text(redactor.data(exchange.body), limit)
        record["response"] = {
            "status": exchange.status,
            "headers": redactor.headers(exchange.headers),
            "body": response_body,
            "body_bytes": len(exchange.body),
            "body_truncated": response_cut or exchange.body_truncated,
        }
    return record


def stream_timings(exchange: Exchange) -> dict[str, Any]:
    """For a streamed 200: the event count and when the first and last event arrived, and the largest gap."""
    kind = sniff_kind(exchange)
    if kind is None:
        return {}
    return {"stream": kind, **view_of(exchange, kind).timings().record()}


def case_record(
    case: Case, result: CaseResult | None, redactor: Redactor, baseline: Baseline | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": case.id,
        "protocol": case.protocol,
        "feature": case.feature,
        "level": case.level,
        "title": case.title,
        "reference": case.reference,
        "bug_classes": list(case.bug_classes),
        "outcome": result.outcome if result else "skipped",
        "message": redactor.text(result.message) if result else "not run",
        "duration_ms": round(result.duration_ms, 3) if result else 0.0,
        "attempts": len(result.attempts) if result else 0,
        "passes": result.passes if result else 0,
        "evidence": None,
    }
    if result is not None and result.rounds:
        record["rounds"] = list(result.rounds)
    if baseline is not None:
        judged = baseline.judge(case.id, record["outcome"])
        if judged is not None:
            record["baseline"] = baseline_record(*judged)
    attempt = result.evidence_attempt if result else None
    if attempt is not None:
        limit = BODY_LIMIT_PASSED if attempt.passed else BODY_LIMIT_FAILED
        record["evidence"] = {
            "exchanges": [exchange_record(i, ex, redactor, limit) for i, ex in enumerate(attempt.exchanges)],
            "failures": [
                {
                    "step": f.step,
                    "expectation": redactor.text(f.expectation.describe()),
                    "message": redactor.text(f.failure.message),
                    "pointer": f.failure.pointer,
                }
                for f in attempt.failures
            ],
            "error": redactor.text(attempt.error) if attempt.error else None,
        }
    return record


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {outcome: 0 for outcome in OUTCOMES}
    by_level = {level: {outcome: 0 for outcome in OUTCOMES} for level in LEVELS}
    for record in records:
        counts[record["outcome"]] += 1
        by_level[record["level"]][record["outcome"]] += 1
    judged = {"expected": 0, "unexpected-pass": 0, "changed": 0}
    gate_breakers = 0
    for record in records:
        status = (record.get("baseline") or {}).get("status")
        if status is not None:
            judged[status] += 1
            gate_breakers += status != "expected"
        elif record["level"] == "MUST" and record["outcome"] in BROKEN:
            gate_breakers += 1
    summary = {
        "total": len(records),
        **counts,
        "by_level": by_level,
        "gate": "fail" if gate_breakers else "pass",
    }
    if any(record.get("baseline") for record in records):
        summary["baseline"] = {
            "expected_failures": judged["expected"],
            "unexpected_passes": judged["unexpected-pass"],
            "changed": judged["changed"],
        }
    return summary


def build_results(
    info: RunInfo,
    cases: list[Case],
    results: dict[str, CaseResult],
    redactor: Redactor,
    baseline: Baseline | None = None,
) -> dict[str, Any]:
    records = [case_record(case, results.get(case.id), redactor, baseline) for case in cases]
    finished = info.finished_at or now()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "run": {
            "suite_version": __version__,
            "provider": info.provider,
            "base_url": redactor.text(info.base_url) if info.base_url else None,
            "embedded_reference": info.embedded,
            "faults": list(info.faults),
            "model": info.model,
            "mode": info.mode,
            "concurrency": info.concurrency,
            "started_at": _iso(info.started_at),
            "finished_at": _iso(finished),
            "duration_ms": round((finished - info.started_at).total_seconds() * 1000, 3),
            "python": platform.python_version(),
            "repeat": info.repeat,
            **({"retry": info.retry} if info.retry is not None else {}),
            **({"baseline": redactor.text(info.baseline)} if info.baseline else {}),
        },
        "summary": summarize(records),
        "cases": records,
    }


def write_results(document: dict[str, Any], path: Path) -> None:
    validate_document(document, "results.schema.json", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_results(path: Path) -> dict[str, Any]:
    from conformance.errors import ConfigError

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file not found", source=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not a results.json file: {exc}", source=path) from None
    validate_document(document, "results.schema.json", path)
    return document
