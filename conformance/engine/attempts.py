"""What running a case produces: attempts (exchanges, broken expectations), folded into a result."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.checks import Failure, Sample
from conformance.suite.model import Case, Expectation, Outcome, Side
from conformance.upstream.ledger import ForwardedRequest
from conformance.wire.exchange import Exchange

FORWARDED_PREFIX = "forwarded request: "
"""How a broken upstream expectation's message starts, wherever it is shown."""


@dataclass(frozen=True)
class FailedExpectation:
    """An expectation of one step that the response (on the upstream side: a forwarded request) broke."""

    step: int
    expectation: Expectation
    failure: Failure
    side: Side = "response"

    def describe(self) -> str:
        pointer = self.failure.pointer
        where = f" at {pointer}" if pointer and pointer not in self.failure.message else ""
        prefix = FORWARDED_PREFIX if self.side == "upstream" else ""
        return f"{prefix}{self.failure.message}{where}"


@dataclass
class Attempt:
    """One run of a case's steps: its exchanges, the broken expectations, or the error that stopped it;
    in a two-sided run also the requests each step caused to reach the upstream (by step); and what its
    billing checks measured."""

    exchanges: list[Exchange] = field(default_factory=list)
    failures: list[FailedExpectation] = field(default_factory=list)
    error: str | None = None
    forwarded: dict[int, tuple[ForwardedRequest, ...]] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


@dataclass(frozen=True)
class CaseResult:
    """A case's outcome under its policy and rounds (folded by the judge), with its attempts."""

    case: Case
    outcome: Outcome
    message: str
    duration_ms: float
    attempts: tuple[Attempt, ...] = ()
    passes: int = 0
    rounds: tuple[Outcome, ...] = ()

    @property
    def evidence_attempt(self) -> Attempt | None:
        """The attempt worth showing: the last one that did not pass, else the last one."""
        for attempt in reversed(self.attempts):
            if not attempt.passed:
                return attempt
        return self.attempts[-1] if self.attempts else None
