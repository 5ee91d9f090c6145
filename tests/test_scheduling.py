"""Scheduling close to the wire: the slots stay busy (chains of steps and repeats included), and several
targets in one run take about as long as the slowest of them. Ratios are measured in the same run against a
reference with a small added latency, with generous bounds (a loaded 2-core machine)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from conformance.engine.slots import Slots
from conformance.reference.app import create_app
from conformance.reference.server import ReferenceServer
from conformance.report.records import RunRecord
from conformance.session import RunPlan, run_sessions
from conformance.suite.model import Case
from conformance.suite.selection import select
from conformance.wire.profiles import load_provider

LATENCY = 0.15
CONCURRENCY = 4
SLACK = 1.75
"""How far above the ideal a run may be: the shared machine, start-up and the checker's own CPU."""


def test_slots_serve_the_best_priority_first_and_survive_cancellation():
    async def scenario() -> list[str]:
        slots = Slots(1)
        order: list[str] = []
        await slots.acquire()

        async def wait(name: str, priority: tuple[int, ...]) -> None:
            async with slots.hold(priority):
                order.append(name)

        tasks = [
            asyncio.create_task(wait(name, priority))
            for name, priority in (("new-long", (1, -2)), ("new-short", (1, -1)), ("follow-up", (0, -1)))
        ]
        cancelled = asyncio.create_task(wait("cancelled", (0, -9)))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
        slots.release()
        await asyncio.gather(*tasks)
        assert slots.free == 1 and slots.held == 0
        return order

    assert asyncio.run(scenario()) == ["follow-up", "new-long", "new-short"]


@pytest.fixture(scope="module")
def slow_reference() -> Iterator[ReferenceServer]:
    with ReferenceServer(create_app(api_key="sched-key", latency=LATENCY)) as server:
        yield server


@pytest.fixture(autouse=True)
def key(monkeypatch) -> None:
    monkeypatch.setenv("SCHED_KEY", "sched-key")


@pytest.fixture(scope="module")
def chains(all_cases) -> list[Case]:
    """Cases with chains of two steps, repeat policies (two of three must pass) and single requests."""
    return select(all_cases, "function-calling or count-tokens")


def _plan(server: ReferenceServer, cases: Sequence[Case], out: Path, model: str) -> RunPlan:
    provider = dataclasses.replace(
        load_provider("reference"),
        embedded=False,
        base_url=server.base_url,
        api_key_env="SCHED_KEY",
        concurrency=CONCURRENCY,
        default_model=model,
    )
    return RunPlan(provider, tuple(cases), out)


def _ideal(run: RunRecord, cases: Sequence[Case]) -> float:
    """requests x latency / concurrency, never below the longest chain of requests one case needed."""
    steps = {case.id: len(case.steps) for case in cases}
    judged = [record for record in run.cases if record.judged]
    requests = sum(steps[record.id] * record.attempts for record in judged)
    longest = max(steps[record.id] for record in judged)
    return max(requests * LATENCY / CONCURRENCY, longest * LATENCY)


def test_one_target_keeps_its_slots_busy(slow_reference, chains, schemas, tmp_path):
    (result,) = run_sessions([_plan(slow_reference, chains, tmp_path, "gemini-2.5-flash")], schemas=schemas)
    run = result.run
    assert run.summary.gate == "pass", [c.message for c in run.cases if c.broken]
    assert any(record.attempts > 1 for record in run.cases), "the selection has repeat policies"
    wall = run.info.duration_ms / 1000
    ideal = _ideal(run, chains)
    assert wall <= SLACK * ideal, f"{wall:.2f} s against an ideal of {ideal:.2f} s"


def test_several_targets_take_about_as_long_as_the_slowest(slow_reference, chains, schemas, tmp_path):
    models = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite")
    (alone,) = run_sessions([_plan(slow_reference, chains, tmp_path / "alone", models[0])], schemas=schemas)
    single = alone.run.info.duration_ms / 1000
    results = run_sessions([_plan(slow_reference, chains, tmp_path / m, m) for m in models], schemas=schemas)
    together = max(result.run.info.duration_ms for result in results) / 1000  # the targets start at once
    assert [result.run.info.model for result in results] == list(models)
    assert all(result.run.summary.gate == "pass" for result in results)
    assert together <= SLACK * single, (
        f"{len(models)} targets took {together:.2f} s, one alone {single:.2f} s"
    )
    assert together < 0.8 * len(models) * single, "the targets ran one after another"
