"""The wire phase: send every selected case concurrently and judge each exchange as it lands."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance import pointer as jp
from conformance.checks import CheckContext, Failure, run_check
from conformance.errors import Undecodable
from conformance.suite.bodies import PayloadError
from conformance.suite.model import Case, Expectation, Outcome
from conformance.suite.templates import REPLIES, NoCallsError, fill_triggers, replies_to, trigger_names
from conformance.validation.store import SchemaStore
from conformance.wire.exchange import Exchange
from conformance.wire.profiles import Provider
from conformance.wire.transport import Transport


@dataclass(frozen=True)
class FailedExpectation:
    """An expectation of one step that the response broke."""

    step: int
    expectation: Expectation
    failure: Failure

    def describe(self) -> str:
        where = (
            f" at {self.failure.pointer}"
            if self.failure.pointer and self.failure.pointer not in self.failure.message
            else ""
        )
        return f"{self.failure.message}{where}"


@dataclass
class Attempt:
    """One run of a case's steps."""

    exchanges: list[Exchange] = field(default_factory=list)
    failures: list[FailedExpectation] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


@dataclass(frozen=True)
class CaseResult:
    """The verdict on one case, with every attempt kept as evidence."""

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


class StepReferenceError(Exception):
    """A later step needs a value that an earlier response did not have."""


def fill_from(template: Any, exchanges: list[Exchange]) -> Any:
    """Replace every ``{"$from": "N#/pointer"}`` in a request body with that value of step N's response."""
    if isinstance(template, dict):
        if set(template) == {"$from"}:
            ref = template["$from"]
            step_text, _, pointer = ref.partition("#")
            step = int(step_text)
            found = jp.resolve(exchanges[step].json(), pointer)
            if not found:
                raise StepReferenceError(f"step {step} response has nothing at {pointer} to send on")
            return found[0][1]
        return {key: fill_from(value, exchanges) for key, value in template.items()}
    if isinstance(template, list):
        filled: list[Any] = []
        for item in template:
            if isinstance(item, dict) and set(item) == {REPLIES}:
                filled.extend(_replies(item[REPLIES], exchanges))
            else:
                filled.append(fill_from(item, exchanges))
        return filled
    return template


def _replies(spec: dict[str, Any], exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """The ``$replies`` of a list: one reply per function call of an earlier response (see templates.py)."""
    ref = spec["to"]
    turn = fill_from({"$from": ref}, exchanges)
    try:
        return replies_to(turn, fill_from(spec.get("response", {}), exchanges))
    except NoCallsError as exc:
        raise StepReferenceError(
            f"step {ref.partition('#')[0]} response at {ref.partition('#')[2]} {exc}"
        ) from None


def skip_reason(case: Case, provider: Provider) -> tuple[Outcome, str] | None:
    reason = provider.unsupported_reason(case.id)
    if reason is not None:
        return "unsupported", f"declared unsupported by provider {provider.name}: {reason}"
    if case.reference_only and not provider.embedded:
        return "skipped", "holds for the deterministic reference gateway only"
    missing = sorted(
        {name for step in case.steps for name in trigger_names(step.request.body)} - provider.triggers.keys()
    )
    if missing:
        return (
            "skipped",
            f"provider {provider.name} names no trigger prompt {missing[0]!r} (profile field triggers)",
        )
    return None


class Runner:
    """Runs cases against one provider with bounded concurrency."""

    def __init__(
        self,
        provider: Provider,
        api_key: str | None,
        schemas: SchemaStore,
        *,
        strict: bool = False,
        repeat: int = 1,
    ) -> None:
        self.provider = provider
        self.api_key = api_key
        self.schemas = schemas
        self.strict = strict
        self.repeat = max(1, repeat)

    def run(
        self, cases: Iterable[Case], on_result: Callable[[CaseResult], None] | None = None
    ) -> dict[str, CaseResult]:
        return asyncio.run(self.run_async(list(cases), on_result))

    async def run_async(
        self, cases: list[Case], on_result: Callable[[CaseResult], None] | None = None
    ) -> dict[str, CaseResult]:
        transport = Transport(self.provider, self.api_key)
        gate = asyncio.Semaphore(self.provider.concurrency)
        results: dict[str, CaseResult] = {}

        async def one(case: Case) -> None:
            async with gate:
                result = await self.run_case(transport, case)
            results[case.id] = result
            if on_result is not None:
                on_result(result)

        # longest first (steps x required passes x rounds): the long chains do not end up alone at the tail
        ordered = sorted(cases, key=lambda c: len(c.steps) * c.policy.require, reverse=True)
        try:
            await asyncio.gather(*(one(case) for case in ordered))
        finally:
            await transport.aclose()
        return {case.id: results[case.id] for case in cases}

    async def run_case(self, transport: Transport, case: Case) -> CaseResult:
        """The case's verdict; with ``repeat`` > 1 the whole policy runs that many rounds (see ``fold_rounds``)."""
        skipped = skip_reason(case, self.provider)
        if skipped is not None:
            return CaseResult(case, skipped[0], skipped[1], 0.0)
        started = time.perf_counter()
        rounds = [await self.run_round(transport, case) for _ in range(self.repeat)]
        if self.repeat == 1:
            return rounds[0]
        return fold_rounds(case, rounds, (time.perf_counter() - started) * 1000)

    async def run_round(self, transport: Transport, case: Case) -> CaseResult:
        started = time.perf_counter()
        attempts: list[Attempt] = []
        passes = 0
        policy = case.policy
        for n in range(policy.repeat):
            if passes >= policy.require or passes + (policy.repeat - n) < policy.require:
                break
            attempt = await self.run_attempt(transport, case)
            attempts.append(attempt)
            passes += attempt.passed
        duration = (time.perf_counter() - started) * 1000
        return verdict(case, attempts, passes, duration)

    async def run_attempt(self, transport: Transport, case: Case) -> Attempt:
        attempt = Attempt()
        for index, step in enumerate(case.steps):
            try:
                body = fill_triggers(fill_from(step.request.body, attempt.exchanges), self.provider.triggers)
                query = fill_from(step.request.query, attempt.exchanges)
            except StepReferenceError as exc:
                failure = Failure(str(exc))
                attempt.failures.append(FailedExpectation(index - 1, Expectation("steps", None), failure))
                return attempt
            except Undecodable as exc:
                attempt.error = f"step {index}: cannot build the request: {exc}"
                return attempt
            try:
                request = transport.build(case.protocol, step.request, body, query)
            except PayloadError as exc:
                attempt.error = f"step {index}: cannot build the request: {exc}"
                return attempt
            exchange = await transport.send(request)
            attempt.exchanges.append(exchange)
            if exchange.error is not None:
                attempt.error = _prefix(case, index, exchange.error)
                return attempt
            context = CheckContext(
                case=case,
                exchanges=tuple(attempt.exchanges),
                schemas=self.schemas,
                strict=self.strict,
                model=self.provider.default_model,
            )
            for expectation in step.expect:
                try:
                    failures = run_check(context, expectation)
                except Undecodable as exc:
                    attempt.error = _prefix(case, index, f"{expectation.check}: {exc}")
                    return attempt
                except Exception as exc:  # a defect in a check must not end the run
                    attempt.error = _prefix(
                        case, index, f"{expectation.check}: check raised {type(exc).__name__}: {exc}"
                    )
                    return attempt
                attempt.failures.extend(FailedExpectation(index, expectation, f) for f in failures)
            if attempt.failures:
                return attempt
        return attempt


def _prefix(case: Case, index: int, message: str) -> str:
    return f"step {index}: {message}" if len(case.steps) > 1 else message


def verdict(case: Case, attempts: list[Attempt], passes: int, duration_ms: float) -> CaseResult:
    """Fold the attempts of a case into one outcome under its policy."""
    policy = case.policy
    if passes >= policy.require:
        note = (
            ""
            if policy.repeat == 1
            else f" ({passes} of {len(attempts)} attempts passed, {policy.require} required)"
        )
        return CaseResult(case, "passed", "passed" + note, duration_ms, tuple(attempts), passes)
    worst = next((a for a in reversed(attempts) if a.failures), None)
    if worst is not None:
        first = worst.failures[0]
        message = _prefix(case, first.step, first.describe()) if first.step >= 0 else first.describe()
        more = len(worst.failures) - 1
        if more:
            message += f" (+{more} more)"
        outcome: Outcome = "failed"
    else:
        message = next(a.error for a in reversed(attempts) if a.error)
        outcome = "errored"
    if policy.repeat > 1:
        message += f" [{passes} of {len(attempts)} attempts passed, {policy.require} required]"
    return CaseResult(case, outcome, message, duration_ms, tuple(attempts), passes)


def fold_rounds(case: Case, rounds: list[CaseResult], duration_ms: float) -> CaseResult:
    """Fold repeated rounds of one case: all passed is passed; some passed and some not is flaky; none is the last verdict."""
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
    return CaseResult(
        case,
        broken.outcome,
        f"{broken.message} [passed in none of {n} rounds]",
        duration_ms,
        attempts,
        passes,
        outcomes,
    )
