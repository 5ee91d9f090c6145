"""The judge: the one place that decides a case's outcome and whether it breaks the gate.

* Attempts under the case's policy (``repeat``, ``require``) fold into one round's outcome: passed
  when enough attempts passed, else failed when an attempt broke an expectation, else errored.
* Rounds (``--repeat``) fold into the case's outcome: passed in every round is passed, in some
  and not others is flaky, in none is the last broken round's outcome.
* A baseline entry turns the outcome into a baseline status: ``expected`` (broke exactly as
  listed), ``unexpected-pass`` (passed) or ``changed`` (broke differently).
* The gate breaks on a MUST case that failed, errored or was flaky, unless it is an expected
  failure of the baseline; and on every baselined case that passed or changed. Unsupported and
  skipped cases never break it.

Everything else (the run record, JUnit, pytest's item outcome, the console, the exit code) reads
the ``Verdict`` this module gives.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.engine.attempts import Attempt, CaseResult
from conformance.engine.baseline import Baseline, BaselineMark, BaselineStatus
from conformance.suite.model import BROKEN, NOT_JUDGED, Case, Level, Outcome


@dataclass(frozen=True)
class Verdict:
    """A case's final outcome, the message for a person, its baseline status, and if it breaks the gate."""

    outcome: Outcome
    message: str
    breaks_gate: bool
    baseline: BaselineMark | None = None


def _prefix(case: Case, step: int, message: str) -> str:
    return f"step {step}: {message}" if len(case.steps) > 1 else message


def fold_attempts(case: Case, attempts: list[Attempt], passes: int, duration_ms: float) -> CaseResult:
    """One round's outcome: the attempts of a case under its policy."""
    policy = case.policy
    if passes >= policy.require:
        note = (
            ""
            if policy.repeat == 1
            else f" ({passes} of {len(attempts)} attempts passed, {policy.require} required)"
        )
        return CaseResult(case, "passed", "passed" + note, duration_ms, tuple(attempts), passes)
    worst = next((a for a in reversed(attempts) if a.failures), None)
    outcome: Outcome
    if worst is not None:
        first = worst.failures[0]
        message = _prefix(case, first.step, first.describe()) if first.step >= 0 else first.describe()
        more = len(worst.failures) - 1
        if more:
            message += f" (+{more} more)"
        outcome = "failed"
    else:
        message = next((a.error for a in reversed(attempts) if a.error), None) or "no attempt was made"
        outcome = "errored"
    if policy.repeat > 1:
        message += f" [{passes} of {len(attempts)} attempts passed, {policy.require} required]"
    return CaseResult(case, outcome, message, duration_ms, tuple(attempts), passes)


def fold_rounds(case: Case, rounds: list[CaseResult], duration_ms: float) -> CaseResult:
    """The outcome of repeated rounds: all passed is passed, some is flaky, none is the last verdict."""
    if len(rounds) == 1:
        return rounds[0]
    outcomes = tuple(r.outcome for r in rounds)
    attempts = tuple(a for r in rounds for a in r.attempts)
    passes = sum(r.passes for r in rounds)
    passed = outcomes.count("passed")
    n = len(rounds)
    if passed == n:
        return CaseResult(
            case, "passed", f"passed in all {n} rounds", duration_ms, attempts, passes, outcomes
        )
    broken = next(r for r in reversed(rounds) if r.outcome != "passed")
    if passed:
        message = f"flaky: passed in {passed} of {n} rounds; otherwise {broken.outcome}: {broken.message}"
        return CaseResult(case, "flaky", message, duration_ms, attempts, passes, outcomes)
    message = f"{broken.message} [passed in none of {n} rounds]"
    return CaseResult(case, broken.outcome, message, duration_ms, attempts, passes, outcomes)


def breaks_gate(level: Level, outcome: str, baseline_status: BaselineStatus | None = None) -> bool:
    """The gate rule for one case."""
    if outcome in NOT_JUDGED:
        return False
    if baseline_status is not None:
        return baseline_status != "expected"
    return level == "MUST" and outcome in BROKEN


def baseline_status(expected: str, outcome: str) -> BaselineStatus:
    """How an outcome compares with a baseline entry's expected outcome."""
    if outcome == expected:
        return "expected"
    return "unexpected-pass" if outcome == "passed" else "changed"


def verdict(case: Case, outcome: Outcome, message: str, baseline: Baseline | None = None) -> Verdict:
    """The final verdict on a case that ended with ``outcome``, under an optional baseline."""
    entry = baseline.entry(case.id) if baseline is not None and outcome not in NOT_JUDGED else None
    if entry is None or baseline is None:
        return Verdict(outcome, message, breaks_gate(case.level, outcome))
    status = baseline_status(entry.expect, outcome)
    mark = BaselineMark(entry.expect, entry.reason, entry.issue, status)
    if status == "unexpected-pass":
        message = (
            f"baselined as {entry.expect} ({entry.reason}) but now passes: remove it from {baseline.source}"
        )
    elif status == "changed":
        message = f"baselined as {entry.expect} ({entry.reason}) but changed: {outcome}: {message}"
    return Verdict(outcome, message, breaks_gate(case.level, outcome, status), mark)
