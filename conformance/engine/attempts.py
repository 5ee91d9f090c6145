"""What running a case produces: attempts (exchanges, broken expectations), folded into a result."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.checks import Failure, Sample
from conformance.suite.model import Case, Expectation, Outcome
from conformance.wire.exchange import Exchange


@dataclass(frozen=True)
class FailedExpectation:
    """An expectation of one step that the response broke."""

    step: int
    expectation: Expectation
    failure: Failure

    def describe(self) -> str:
        pointer = self.failure.pointer
        where = f" at {pointer}" if pointer and pointer not in self.failure.message else ""
        return f"{self.failure.message}{where}"


@dataclass
class Attempt:
    """One run of a case's steps: its exchanges, the broken expectations, or the error that stopped it, and
    what its billing checks measured."""

    exchanges: list[Exchange] = field(default_factory=list)
    failures: list[FailedExpectation] = field(default_factory=list)
    error: str | None = None
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
