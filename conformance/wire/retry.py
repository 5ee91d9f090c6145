"""Rate-limit retries: which answers are retried and how long to wait before the next try."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from conformance.wire.profiles import RetryPolicy

RETRIED_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by ``Retry-After`` (delta-seconds or HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def wait_before_retry(policy: RetryPolicy, retry: int, retry_after: str | None) -> float:
    """The wait before retry ``retry`` (from 0): Retry-After when given, else exponential backoff; capped."""
    asked = retry_after_seconds(retry_after)
    wait = asked if asked is not None else policy.backoff * (2**retry)
    return min(wait, policy.max_wait)
