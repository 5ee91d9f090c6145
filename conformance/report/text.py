"""A case record as plain text for a person: the verdict, the broken expectations, each request and response.

Used wherever a failure is shown as text: pytest's failure report, JUnit's failure bodies, the console.
"""

from __future__ import annotations

from conformance.report.records import CaseRecord, ExchangeRecord

REQUEST_BODY_SHOWN = 2000
RESPONSE_BODY_SHOWN = 4000


def _indent(text: str, limit: int) -> list[str]:
    if len(text) > limit:
        text = text[:limit] + " ..."
    return ["    " + line for line in text.splitlines() or [""]]


def exchange_lines(exchange: ExchangeRecord) -> list[str]:
    """One exchange: the request line, headers and body, then the response (or why there is none)."""
    request = exchange.request
    lines = [f"--- step {exchange.step} request: {request.method} {request.url}"]
    lines.extend(f"    {name}: {value}" for name, value in request.headers)
    if request.body:
        lines.extend(
            _indent(request.body + (" [truncated]" if request.body_truncated else ""), REQUEST_BODY_SHOWN)
        )
    for retry in exchange.retries:
        lines.append(
            f"    (retried after HTTP {retry.status}, Retry-After {retry.retry_after},"
            f" waited {retry.waited_ms:.0f} ms)"
        )
    response = exchange.response
    if response is None:
        lines.append(f"--- step {exchange.step} no response: {exchange.error}")
        return lines
    timings = exchange.timings
    lines.append(
        f"--- step {exchange.step} response: HTTP {response.status} ({response.body_bytes} bytes, "
        f"{timings.total_ms:.0f} ms)"
    )
    if timings.stream is not None:
        lines.append("    " + timings.stream.describe(timings.ttfb_ms, timings.total_ms))
    lines.extend(f"    {name}: {value}" for name, value in response.headers)
    body = response.body + (" [truncated]" if response.body_truncated else "")
    lines.extend(_indent(body, RESPONSE_BODY_SHOWN))
    if exchange.error:
        lines.append(f"    error: {exchange.error}")
    for forwarded in exchange.forwarded:
        status = "no answer" if forwarded.status is None else f"HTTP {forwarded.status}"
        lines.append(
            f"--- step {exchange.step} forwarded upstream: {forwarded.method} {forwarded.url} -> {status}"
        )
        lines.extend(f"    {name}: {value}" for name, value in forwarded.headers)
        if forwarded.body:
            suffix = " [truncated]" if forwarded.body_truncated else ""
            lines.extend(_indent(forwarded.body + suffix, REQUEST_BODY_SHOWN))
    return lines


def case_text(record: CaseRecord) -> str:
    """A case's verdict and evidence as text."""
    lines = [
        f"{record.outcome.upper()} {record.id} [{record.level}]: {record.message}",
        f"reference: {record.reference}",
    ]
    if record.forwarded_wrongly:
        lines.append("forwarded wrongly: an expectation on the request the gateway sent upstream broke")
    if record.baseline is not None:
        mark = record.baseline
        lines.append(f"baseline: expected {mark.expected} ({mark.reason}), {mark.status}")
    evidence = record.evidence
    if evidence is None:
        return "\n".join(lines)
    for failure in evidence.failures:
        side = ", upstream side: the forwarded request" if failure.side == "upstream" else ""
        lines.append(f"  expectation (step {failure.step}{side}): {failure.expectation}")
        lines.append(f"    -> {failure.message}")
    if evidence.error:
        lines.append(f"  error: {evidence.error}")
    for exchange in evidence.exchanges:
        lines.extend(exchange_lines(exchange))
    return "\n".join(lines)
