"""When a run stops sending: a circuit breaker on consecutive transport failures, a time limit, or a target
that cannot be reached at all.

Once stopped, the cases still in flight are cancelled and every case not yet judged is recorded as
errored with the one shared reason, so a dead, hanging or dripping gateway ends the run in about one
request timeout instead of (requests x timeout / concurrency).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.wire.exchange import Exchange

DEFAULT_BREAKER = 5
"""Transport failures in a row (no answer, timeouts, resets, bodies over the capture limit) that end a run."""


@dataclass
class Stopper:
    """Why a run stopped, once it has; ``observe`` trips the breaker after ``breaker`` failures in a row."""

    breaker: int = DEFAULT_BREAKER
    reason: str | None = None
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    _streak: int = 0
    _first: str = ""

    def observe(self, case_id: str, exchange: Exchange) -> None:
        """Count an exchange: a transport failure extends the streak, an answer ends it."""
        if exchange.error is None:
            self._streak = 0
            return
        if self._streak == 0:
            self._first = f"{case_id}: {exchange.error}"
        self._streak += 1
        if self.breaker and self._streak >= self.breaker:
            self.stop(
                f"gateway unresponsive since case {self._first} ({self._streak} transport failures in a row;"
                " the remaining cases were not sent)"
            )

    def stop(self, reason: str) -> None:
        """Stop the run for ``reason`` (the first reason wins) and cancel what is in flight."""
        if self.reason is not None:
            return
        self.reason = reason
        for callback in self.on_stop:
            callback()

    @property
    def stopped(self) -> bool:
        return self.reason is not None
