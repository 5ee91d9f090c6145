"""The wire phase: send every selected case concurrently and judge each exchange as it lands.

The unit of work on the wire is one attempt of a case: its chain of steps, which must go one after the
other. A round's attempts and ``--repeat``'s rounds are independent, so they go out side by side.
Every attempt waits for a slot of the provider's concurrency limit (``Slots``); a free slot goes to a
follow-up attempt of a case already started, else to the longest chain waiting, so the slots stay busy
to the end.

Each case's result is handed to a callback as soon as it is known and is not kept by the runner, so a
caller that writes it away and drops it keeps memory bounded by the cases in flight. A ``Stopper`` ends
the run early (the circuit breaker, ``--max-duration``, an unreachable target): cases in flight are
cancelled and every case not judged yet is errored with the stopper's reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar

from conformance.checks import CheckContext, Failure, run_check
from conformance.checks.body import answer_text
from conformance.engine.attempts import Attempt, CaseResult, FailedExpectation
from conformance.engine.judge import fold_attempts, fold_rounds
from conformance.engine.slots import Priority, Slots
from conformance.engine.stopping import Stopper
from conformance.errors import Undecodable
from conformance.sdk import clients
from conformance.sdk.probe import run_probe
from conformance.streams.merge import whole_of
from conformance.suite.bodies import PayloadError
from conformance.suite.model import Case, Expectation, Outcome, RequestSpec, SdkCall, Step
from conformance.suite.templates import StepReferenceError, fill_from, fill_triggers, trigger_names
from conformance.upstream.correlation import tag_request
from conformance.upstream.ledger import ForwardedRequest, Origin, UpstreamLink
from conformance.validation.store import SchemaStore
from conformance.wire.exchange import Exchange
from conformance.wire.profiles import Provider
from conformance.wire.transport import Transport

ResultCallback = Callable[[CaseResult], Awaitable[None] | None]
T = TypeVar("T")

NEEDS_UPSTREAM = (
    "judges what the gateway forwards: run with --upstream HOST:PORT, the gateway configured to forward to it"
)
"""Why a case with an upstream part is skipped in a run without the suite's upstream."""


def skip_reason(
    case: Case, provider: Provider, upstream: bool = False, has_key: bool = True
) -> tuple[Outcome, str] | None:
    """Why a case does not apply to a provider (declared unsupported, reference only, no model for the
    capability it needs, no trigger, no upstream to judge what it forwards, an SDK probe the SDK cannot
    make here), or None."""
    reason = provider.unsupported_reason(case.id)
    if reason is not None:
        return "unsupported", f"declared unsupported by provider {provider.name}: {reason}"
    if case.needs_upstream and not upstream:
        return "skipped", NEEDS_UPSTREAM
    if case.reference_only and not provider.embedded:
        return "skipped", "holds for the deterministic reference gateway only"
    if provider.model_for(case.model) is None:
        return (
            "skipped",
            f"provider {provider.name} names no {case.model} model (profile field models.{case.model})",
        )
    for sdk in case.sdks:
        problem = clients.missing(sdk) or clients.unexpressible(sdk, provider)
        if problem is None and not has_key:
            problem = f"{sdk} needs an API key and profile {provider.name} sends none"
        if problem is not None:
            return "skipped", f"SDK probe not run: {problem}"
    needed = {name for step in case.steps for name in trigger_names(step.request.template)}
    missing = sorted(needed - provider.triggers.keys())
    if missing:
        return (
            "skipped",
            f"provider {provider.name} names no trigger prompt {missing[0]!r} (profile field triggers)",
        )
    return None


def schedule(cases: Iterable[Case]) -> list[Case]:
    """Longest first (steps x required passes), so that long chains do not end up alone at the tail."""
    return sorted(cases, key=lambda c: len(c.steps) * c.policy.require, reverse=True)


def priority(case: Case, rank: int, follow_up: bool) -> Priority:
    """Which waiting attempt gets the next free slot: follow-ups of cases already started first (a case
    finishes and leaves memory sooner), then longer chains of steps, then the case's rank in ``schedule``."""
    return (0 if follow_up else 1, -len(case.steps), rank)


class _Clock:
    """When the first attempt of a case (or round) got on the wire, and the time since."""

    def __init__(self) -> None:
        self.started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.perf_counter()

    def elapsed_ms(self) -> float:
        return 0.0 if self.started is None else (time.perf_counter() - self.started) * 1000


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
        stopper: Stopper | None = None,
        max_duration: float | None = None,
        upstream: UpstreamLink | None = None,
    ) -> None:
        self.provider = provider
        self.api_key = api_key
        self.schemas = schemas
        self.strict = strict
        self.repeat = max(1, repeat)
        self.stopper = stopper or Stopper()
        self.max_duration = max_duration
        self.upstream = upstream

    def run(self, cases: Iterable[Case]) -> dict[str, CaseResult]:
        """Every case's result, kept in memory (for tests and small runs)."""
        return asyncio.run(self.run_async(list(cases)))

    async def run_async(self, cases: list[Case]) -> dict[str, CaseResult]:
        results: dict[str, CaseResult] = {}

        def keep(result: CaseResult) -> None:
            results[result.case.id] = result

        await self.run_each(cases, keep)
        return {case.id: results[case.id] for case in cases}

    async def run_each(self, cases: Iterable[Case], on_result: ResultCallback) -> None:
        """Run the cases, handing each result to ``on_result`` as soon as it is known; nothing is kept."""
        transport = Transport(self.provider, self.api_key)
        slots = Slots(self.provider.concurrency)
        stopper = self.stopper
        in_flight: set[asyncio.Task[CaseResult]] = set()

        def cancel_in_flight() -> None:
            for task in in_flight:
                task.cancel()

        stopper.on_stop.append(cancel_in_flight)

        ordered = schedule(cases)
        for sdk in {sdk for case in ordered for sdk in case.sdks}:
            clients.import_soon(sdk)  # on a thread, while the other cases go out

        async def one(case: Case, rank: int) -> None:
            for sdk in case.sdks:
                await clients.imported(sdk)
            skipped = skip_reason(case, self.provider, self.upstream is not None, self.api_key is not None)
            if skipped is not None:
                result = CaseResult(case, *skipped, 0.0)
            elif stopper.reason:
                result = stopped_result(case, stopper.reason)
            else:
                task = asyncio.create_task(self._run_applicable(transport, case, slots, rank))
                in_flight.add(task)
                try:
                    result = await task
                except asyncio.CancelledError:
                    if stopper.reason is None:
                        raise
                    result = stopped_result(case, stopper.reason)
                finally:
                    in_flight.discard(task)
            delivered = on_result(result)
            if delivered is not None:
                await delivered

        watchdog = asyncio.create_task(self._time_limit()) if self.max_duration else None
        try:
            await asyncio.gather(*(one(case, rank) for rank, case in enumerate(ordered)))
        finally:
            stopper.on_stop.remove(cancel_in_flight)
            if watchdog is not None:
                watchdog.cancel()
            await transport.aclose()

    async def _time_limit(self) -> None:
        assert self.max_duration is not None
        await asyncio.sleep(self.max_duration)
        self.stopper.stop(
            f"the run reached its time limit (--max-duration {self.max_duration:g} s) before this case ended"
        )

    async def _run_applicable(self, transport: Transport, case: Case, slots: Slots, rank: int) -> CaseResult:
        """The case's result: every round of its policy, folded by the judge.

        Rounds are independent, and so are a policy's attempts: they go out together, each on a slot of
        its own, and only the attempts that can still change the verdict are sent. The case's duration
        counts from its first attempt on the wire, not from when it was queued.
        """
        clock = _Clock()
        rounds = await _together(
            [self.run_round(transport, case, n, slots, rank, clock) for n in range(self.repeat)]
        )
        release_unshown([attempt for done in rounds for attempt in done.attempts])
        return fold_rounds(case, rounds, clock.elapsed_ms())

    async def run_round(
        self,
        transport: Transport,
        case: Case,
        round_number: int,
        slots: Slots,
        rank: int,
        clock: _Clock,
    ) -> CaseResult:
        """One round of the case's policy: attempts until ``require`` passed or that can no longer happen.

        Each batch sends exactly the attempts still needed, so no more requests go out than one attempt
        after another would send. Attempts are numbered over the rounds (``round_number``), for the tags
        of a two-sided run.
        """
        own = _Clock()
        attempts: list[Attempt] = []
        passes = 0
        policy = case.policy
        while True:
            needed = policy.require - passes
            if needed <= 0 or needed > policy.repeat - len(attempts):
                break
            order = priority(case, rank, follow_up=bool(attempts))
            first = round_number * policy.repeat + len(attempts)
            batch = await _together(
                [self._attempt(transport, case, first + n, slots, order, (own, clock)) for n in range(needed)]
            )
            attempts.extend(batch)
            release_unshown(attempts)  # bodies of attempts never shown are not kept while the case goes on
            passes += sum(attempt.passed for attempt in batch)
        return fold_attempts(case, attempts, passes, own.elapsed_ms())

    async def _attempt(
        self,
        transport: Transport,
        case: Case,
        number: int,
        slots: Slots,
        order: Priority,
        clocks: tuple[_Clock, ...],
    ) -> Attempt:
        """One attempt on a slot of its own (held for its whole chain of steps)."""
        async with slots.hold(order):
            for clock in clocks:
                clock.start()
            return await self.run_attempt(transport, case, number)

    async def run_attempt(self, transport: Transport, case: Case, number: int = 0) -> Attempt:
        """One attempt of the case's steps; in a two-sided run each request carries its own tag, and what
        reached the upstream is judged after the response."""
        attempt = Attempt()
        model = self.provider.model_for(case.model) or self.provider.default_model

        merged: dict[int, Any] = {}

        def body_of(step: int) -> Any:
            """Step N's response: its JSON body (decoded once by the exchange), or for a streamed 200 its
            events merged (streams.merge), merged once however many references name it."""
            exchange = attempt.exchanges[step]
            kind = case.steps[step].request.stream
            if kind != "none" and exchange.status == 200:
                if step not in merged:
                    merged[step] = whole_of(exchange, kind, case.step_protocol(step))
                return merged[step]
            return exchange.json()

        def text_of(step: int) -> str | None:
            return answer_text(case.step_protocol(step), body_of(step))[0]

        for index, step in enumerate(case.steps):
            spec = step.request
            try:
                body = fill_triggers(fill_from(spec.template, body_of, text_of), self.provider.triggers)
                query = {} if isinstance(spec, SdkCall) else fill_from(spec.query, body_of, text_of)
            except StepReferenceError as exc:
                attempt.failures.append(
                    FailedExpectation(index - 1, Expectation("steps", None), Failure(str(exc)))
                )
                return attempt
            except Undecodable as exc:
                attempt.error = f"step {index}: cannot build the request: {exc}"
                return attempt
            exchange: Exchange
            origin: Origin | None = None
            if self.upstream is not None and isinstance(spec, RequestSpec) and spec.raw_body is None:
                scenario = step.upstream.scenario if step.upstream is not None else None
                origin = self.upstream.ledger.issue(case.id, number, index, scenario)
                body, tagged = tag_request(case.step_protocol(index), body, origin.tag)
                origin = origin if tagged else None
            try:
                if isinstance(spec, SdkCall):
                    exchange = await run_probe(self.provider, self.api_key, spec, body, model=model)
                else:
                    request = transport.build(case.step_protocol(index), spec, body, query, model=model)
                    # A scenario's 429 or 503 is what the step judges, not a rate limit to wait out.
                    retry = step.upstream is None or step.upstream.scenario is None
                    exchange = await transport.send(request, retry=retry)
            except PayloadError as exc:
                attempt.error = f"step {index}: cannot build the request: {exc}"
                return attempt
            self.stopper.observe(case.id, exchange)
            attempt.exchanges.append(exchange)
            if exchange.error is not None:
                attempt.error = _prefix(case, index, exchange.error)
                return attempt
            context = CheckContext(
                case=case,
                exchanges=tuple(attempt.exchanges),
                schemas=self.schemas,
                strict=self.strict,
                model=model,
                upstream=self.upstream.facts if self.upstream is not None else None,
            )
            failures: list[FailedExpectation] = []
            for expectation in step.expect:
                try:
                    found = run_check(context, expectation)
                except Undecodable as exc:
                    attempt.error = _prefix(case, index, f"{expectation.check}: {exc}")
                    break
                except Exception as exc:  # a defect in a check must not end the run
                    problem = f"{expectation.check}: check raised {type(exc).__name__}: {exc}"
                    attempt.error = _prefix(case, index, problem)
                    break
                failures.extend(FailedExpectation(index, expectation, f) for f in found)
            attempt.samples.extend(context.samples)
            if step.upstream is not None and self.upstream is not None:
                forwarded = await self.upstream.ledger.collect(origin.tag.nonce) if origin is not None else ()
                attempt.forwarded[index] = forwarded
                # What the gateway forwarded comes first: it is usually why the answer is wrong too.
                failures = self.judge_forwarded(context, index, step, origin, forwarded) + failures
            elif origin is not None and self.upstream is not None:  # nothing judges it: not kept
                self.upstream.ledger.forget(origin.tag.nonce)
            attempt.failures.extend(failures)
            if attempt.failures or attempt.error is not None:
                return attempt
        return attempt

    def judge_forwarded(
        self,
        context: CheckContext,
        index: int,
        step: Step,
        origin: Origin | None,
        forwarded: tuple[ForwardedRequest, ...],
    ) -> list[FailedExpectation]:
        """The upstream expectations of a step, judged on each request it caused to reach the upstream."""
        part = step.upstream
        assert part is not None

        def broken(message: str, expectation: Expectation | None = None) -> FailedExpectation:
            return FailedExpectation(
                index, expectation or Expectation("forwarded", part.forwarded), Failure(message), "upstream"
            )

        if origin is None:
            return [
                broken("the request has no user text to carry the correlation tag: the case cannot be judged")
            ]
        if part.forwarded == "never":
            if not forwarded:
                return []
            return [broken(f"the gateway forwarded the request ({_count(forwarded)} reached the upstream)")]
        if not forwarded:
            if part.forwarded == "optional":
                return []
            return [
                broken(
                    "the request never reached the upstream: no request carrying its tag "
                    f"{origin.tag.text} arrived (answered by the gateway itself, or sent elsewhere)"
                )
            ]
        failures: list[FailedExpectation] = []
        for n, request in enumerate(forwarded):
            which = f"request {n + 1} of {len(forwarded)}: " if len(forwarded) > 1 else ""
            upstream = dataclasses.replace(context, side="upstream", forwarded=request, cache={})
            for expectation in part.expect:
                try:
                    found = run_check(upstream, expectation)
                except Undecodable as exc:
                    found = [Failure(f"{expectation.check}: {exc}")]
                except Exception as exc:  # a defect in a check must not end the run
                    found = [Failure(f"{expectation.check}: check raised {type(exc).__name__}: {exc}")]
                failures.extend(
                    FailedExpectation(index, expectation, Failure(which + f.message, f.pointer), "upstream")
                    for f in found
                )
        return failures


async def _together(jobs: list[Coroutine[Any, Any, T]]) -> list[T]:
    """The jobs' results, run side by side; a single job runs in the caller's task (no task of its own, so
    a case that ends just as the breaker trips keeps its own result)."""
    if len(jobs) == 1:
        return [await jobs[0]]
    return list(await asyncio.gather(*jobs))


def _count(requests: tuple[ForwardedRequest, ...]) -> str:
    return "1 request" if len(requests) == 1 else f"{len(requests)} requests"


def release_unshown(attempts: Sequence[Attempt]) -> None:
    """Drop the exchanges of attempts that can no longer be a result's ``evidence_attempt``.

    Whatever attempts follow, the evidence is the last attempt that did not pass, else the last one; so
    only the latest attempt and the latest one that did not pass need their exchanges (their failures and
    errors stay). A case repeated by its policy or by rounds then holds at most two attempts' response
    bodies at a time, not one per attempt.
    """
    broken = next((attempt for attempt in reversed(attempts) if not attempt.passed), None)
    for attempt in attempts[:-1]:
        if attempt is not broken:
            attempt.exchanges.clear()
            attempt.forwarded.clear()


def stopped_result(case: Case, reason: str) -> CaseResult:
    """The result of a case that the run stopped before it was judged."""
    return CaseResult(case, "errored", reason, 0.0)


def _prefix(case: Case, index: int, message: str) -> str:
    return f"step {index}: {message}" if len(case.steps) > 1 else message
