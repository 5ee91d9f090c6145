"""Whole-suite runs against hostile gateways: the real command, every case, one misbehaviour on every request.

Each behaviour of ``tests/hostile_server.py`` gets one ``conformance run --provider google`` of the full
suite (no selection) in a child process, a few at a time. Every run must end in a time that does not grow
with the number of cases, exit 1 without a traceback, pass no case it should not, keep the child's peak
resident memory under a few hundred MB, and never send the key to another host.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import read_results
from tests.hostile_server import BEHAVIOURS, HostileServer, second_host
from tests.measured import Measured, run_measured

KEY = "HOSTILE-suite-canary-5be2a1"
TIMEOUT = 2.0
"""--timeout of the runs against the behaviours that never finish an answer."""
ANSWERING_TIMEOUT = 10.0
"""--timeout of the runs against the behaviours that answer at once: they never wait for it, so a larger
one costs nothing and keeps a starved machine (two test runs at once) from turning verdicts into timeouts."""
CONCURRENCY = 16
RSS_BOUND_MIB = 384
"""Peak resident memory of a run: the interpreter with the suite loaded (about 60 MiB) plus concurrency 16
x two attempts' exchanges per case x the 8 MiB capture limit (256 MiB), plus allocator slack. Runs that
kept every exchange went past 3 GB."""
PARALLEL_RUNS = 3
"""Runs at once: the hanging behaviours mostly wait, the others need the CPU; more would starve them."""
HOSTILE = sorted(name for name in BEHAVIOURS if name != "good")
UNANSWERED = ("hang", "hang-after-headers", "drip", "endless", "huge", "reset", "garbage", "slow-headers")
"""Behaviours where no exchange completes: each request ends in a transport error, so the breaker trips."""
WAITING = ("hang", "hang-after-headers", "drip", "endless", "slow-headers")
"""Behaviours whose requests end only at the timeout."""


def timeout_of(behaviour: str) -> float:
    return TIMEOUT if behaviour in UNANSWERED else ANSWERING_TIMEOUT


def time_bound(behaviour: str) -> float:
    """Seconds a whole run may take. Not requests x timeout / concurrency: waiting out every request of a
    gateway that hangs takes about 590 x 2 s / 16 = 74 s here (78 s measured with --breaker 0) and grows
    with the suite, which is what the circuit breaker prevents. One timeout for the requests in flight when
    the breaker trips, two for slack, and a fixed allowance for start-up, judging what answers at once, and
    the reports, on a loaded 2-core machine."""
    return timeout_of(behaviour) * 3 + 20


@dataclass(frozen=True)
class SuiteRun:
    """One whole-suite run against one behaviour: the measured command and its results.json."""

    behaviour: str
    measured: Measured
    out: Path
    results: dict[str, Any]

    @property
    def outcomes(self) -> dict[str, str]:
        return {case["id"]: case["outcome"] for case in self.results["cases"]}

    def describe(self) -> str:
        done = self.measured
        console = done.stdout[-3000:] + done.stderr[-3000:]
        return f"{self.behaviour}: exit {done.returncode} after {done.seconds:.1f} s\n{console}"


def test_every_behaviour_of_the_issue_is_served():
    assert set(HOSTILE) == {
        *("hang", "hang-after-headers", "drip", "endless", "huge", "bad-utf8", "truncated", "reset"),
        *("wrong-type", "empty", "redirect", "garbage", "slow-headers"),
    }
    assert set(UNANSWERED) >= set(WAITING) and set(UNANSWERED) <= set(HOSTILE)


@pytest.fixture(scope="module")
def hostile_pair():
    with HostileServer(host=second_host()) as other, HostileServer() as hostile:
        hostile.redirect_to = other.base_url
        yield hostile, other


@pytest.fixture(scope="module")
def suite_runs(hostile_pair, tmp_path_factory) -> dict[str, SuiteRun]:
    hostile, _ = hostile_pair
    root = tmp_path_factory.mktemp("hostile-suite")

    def run(behaviour: str) -> SuiteRun:
        out = root / behaviour
        measured = run_measured(
            [
                sys.executable,
                "-m",
                "conformance",
                "run",
                "--provider",
                "google",
                "--base-url",
                hostile.url(behaviour),
                "--api-key-env",
                "HOSTILE_SUITE_KEY",
                "--timeout",
                f"{timeout_of(behaviour):g}",
                "--concurrency",
                str(CONCURRENCY),
                "--out",
                str(out),
            ],
            env={**os.environ, "HOSTILE_SUITE_KEY": KEY},
            cwd=root,
            logs=root / f"{behaviour}.console",
            deadline=time_bound(behaviour) * 4,
        )
        results_path = out / "results.json"
        results = read_results(results_path) if results_path.is_file() else {}
        return SuiteRun(behaviour, measured, out, results)

    # The behaviours that wait out a timeout need little CPU and the others need it all: interleave them.
    waiting = [name for name in HOSTILE if name in WAITING]
    busy = [name for name in HOSTILE if name not in WAITING]
    order = [name for pair in zip_longest(waiting, busy) for name in pair if name is not None]
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        runs = {done.behaviour: done for done in pool.map(run, order)}
    measures = {
        name: {**asdict(done.measured), "stdout": None, "stderr": None} for name, done in runs.items()
    }
    (root / "measured.json").write_text(json.dumps(measures, indent=1))  # for a look at the margins
    return runs


@pytest.mark.parametrize("behaviour", HOSTILE)
def test_whole_run_ends_in_time_and_exits_1_without_traceback(suite_runs, behaviour):
    run = suite_runs[behaviour]
    assert not run.measured.timed_out, run.describe()
    took = f"{behaviour} took {run.measured.seconds:.1f} s ({run.measured.cpu_seconds:.1f} s of CPU)"
    assert run.measured.seconds < time_bound(behaviour), took
    assert run.measured.returncode == 1, run.describe()
    assert "Traceback" not in run.measured.stdout + run.measured.stderr, run.describe()
    assert run.results["run"]["complete"] is True and run.results["summary"]["gate"] == "fail"


@pytest.mark.parametrize("behaviour", HOSTILE)
def test_whole_run_judges_every_case_and_passes_none(suite_runs, behaviour, all_cases):
    run = suite_runs[behaviour]
    outcomes = run.outcomes
    assert sorted(outcomes) == sorted(case.id for case in all_cases), "every case has a verdict"
    passed = {case for case, outcome in outcomes.items() if outcome == "passed"}
    if behaviour == "wrong-type":  # a well-formed answer with the wrong type: see the Content-Type test
        return
    assert passed == set(), f"passed against {behaviour}: {sorted(passed)}"  # every case judges its body
    if behaviour in UNANSWERED:
        assert set(outcomes.values()) <= {"errored", "unsupported", "skipped"}


@pytest.mark.parametrize("behaviour", UNANSWERED)
def test_breaker_stops_sending_to_a_gateway_that_never_answers(suite_runs, hostile_pair, behaviour):
    hostile, _ = hostile_pair
    run = suite_runs[behaviour]
    sent = sum(seen.target.startswith(f"/{behaviour}/") for seen in hostile.seen)
    assert sent < 3 * CONCURRENCY, f"{sent} requests sent to {behaviour}; the breaker stops at about 17"
    messages = [case["message"] for case in run.results["cases"] if case["outcome"] == "errored"]
    assert sum("gateway unresponsive since case" in message for message in messages) > len(messages) / 2


@pytest.mark.parametrize("behaviour", HOSTILE)
def test_whole_run_peak_memory_stays_bounded(suite_runs, behaviour):
    run = suite_runs[behaviour]
    assert 0 < run.measured.peak_rss_mib < RSS_BOUND_MIB, f"{behaviour}: {run.measured.peak_rss_mib:.0f} MiB"


def test_wrong_content_type_fails_the_content_type_cases_and_the_gate(suite_runs, all_cases):
    run = suite_runs["wrong-type"]
    records = {case["id"]: case for case in run.results["cases"]}
    typed = [
        case.id
        for case in all_cases
        if any(e.check == "content_type" for step in case.steps for e in step.expect)
        and records[case.id]["outcome"] not in ("skipped", "unsupported")
    ]
    assert len(typed) >= 20
    for case_id in typed:
        record = records[case_id]
        assert record["outcome"] == "failed", f"{case_id}: {record['outcome']}: {record['message']}"
        broken = [failure["expectation"] for failure in record["evidence"]["failures"]]
        assert any(e.startswith("content_type") for e in broken), f"{case_id}: {record['message']}"
    assert run.results["summary"]["gate"] == "fail"
    assert run.results["summary"]["by_level"]["MUST"]["failed"] > 0


def test_redirect_never_carries_the_key_to_the_other_host(suite_runs, hostile_pair):
    hostile, other = hostile_pair
    run = suite_runs["redirect"]
    assert other.seen == [], f"{len(other.seen)} requests followed a redirect to {other.base_url}"
    assert any(seen.target.startswith("/redirect/") for seen in hostile.seen)
    assert any(("x-goog-api-key", KEY) in seen.headers for seen in hostile.seen), "the key went to its host"
    judged = [case for case in run.results["cases"] if case["outcome"] not in ("skipped", "unsupported")]
    odd = [
        f"{case['id']}: {case['outcome']}: {case['message']}"
        for case in judged
        if "307" not in case["message"]
    ]
    assert odd == [] and all(case["outcome"] == "failed" for case in judged), odd[:5]
    # The other host answers at the redirect's target: a followed redirect would have shown up above.
    assert httpx.get(f"{other.base_url}/v1beta/models", timeout=5, trust_env=False).status_code == 200
    assert other.seen and other.seen[-1].target == "/v1beta/models"


@pytest.mark.parametrize("behaviour", HOSTILE)
def test_key_is_in_no_report_or_console_line(suite_runs, behaviour):
    run = suite_runs[behaviour]
    assert KEY not in run.measured.stdout + run.measured.stderr
    for path in run.out.rglob("*"):  # every report, the badges/ folder's too
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"key leaked into {path.name}"
