"""Hostile gateways, one case at a time: every misbehaviour ends as an errored or failed case with a clear
message, in time, with bounded memory. Whole-suite runs against them are in ``test_hostile_suite.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from conformance.engine.attempts import CaseResult
from conformance.engine.runner import Runner
from conformance.report.evidence import record_of
from conformance.wire.profiles import Provider, Route, Timeouts
from conformance.wire.redact import Redactor
from conformance.wire.transport import DEFAULT_BODY_CAP
from tests.hostile_server import HostileServer, second_host

REPO = Path(__file__).resolve().parents[1]
KEY = "HOSTILE-canary-key-7d1e0b"
FAST = Timeouts(connect=1.0, read=0.8, total=2.0)
PATIENT = Timeouts(connect=5.0, read=10.0, total=10.0)
"""For behaviours that answer at once: a run that waited for any of these limits took the wrong path."""
SLACK = 2.0
"""Seconds allowed beyond a limit: generous, so a loaded machine does not fail the test."""

# behaviour -> (outcome, words the message must carry, timeouts, longest acceptable duration in seconds)
EXPECTED: dict[str, tuple[str, tuple[str, ...], Timeouts, float]] = {
    "hang": ("errored", ("read timeout", "no progress"), FAST, FAST.read + SLACK),
    "hang-after-headers": ("errored", ("read timeout", "no progress"), FAST, FAST.read + SLACK),
    "slow-headers": (
        "errored",
        ("timed out after 2.5 s (total limit)", "0 body bytes received"),
        Timeouts(connect=1.0, read=3.0, total=2.5),
        2.5 + SLACK,
    ),
    "drip": (
        "errored",
        ("timed out after 2.5 s (total limit)", "body bytes received"),
        Timeouts(connect=1.0, read=3.0, total=2.5),
        2.5 + SLACK,
    ),
    "endless": ("errored", ("timed out after 2 s (total limit)",), FAST, FAST.total + SLACK),
    "huge": ("errored", ("exceeded the capture limit of 8388608 bytes",), FAST, FAST.total + SLACK),
    "bad-utf8": ("errored", ("body is not UTF-8",), PATIENT, PATIENT.read / 2),
    "truncated": ("errored", ("body is not JSON",), PATIENT, PATIENT.read / 2),
    "reset": (
        "errored",
        ("Connection reset by peer", "after HTTP 200 and 40 body bytes"),
        PATIENT,
        PATIENT.read / 2,
    ),
    "garbage": (
        "errored",
        ("RemoteProtocolError: illegal status line", "more characters)"),  # 4 KB of noise, quoted in part
        PATIENT,
        PATIENT.read / 2,
    ),
    "wrong-type": (
        "failed",
        ("expected Content-Type application/json, got 'text/html; charset=utf-8'",),
        PATIENT,
        PATIENT.read / 2,
    ),
    "redirect": ("failed", ("expected HTTP 200, got 307", "not followed"), PATIENT, PATIENT.read / 2),
    "empty": ("errored", ("body is empty",), PATIENT, PATIENT.read / 2),
}


def provider(base_url: str, timeouts: Timeouts, auth: str = "query") -> Provider:
    return Provider(
        name="hostile",
        gemini=Route("/v1beta", auth),
        openai=Route("/v1", "bearer"),  # type: ignore[arg-type]
        default_model="gemini-2.5-flash",
        base_url=base_url,
        timeouts=timeouts,
    )


@pytest.fixture(scope="module")
def servers():
    with HostileServer(host=second_host()) as other, HostileServer() as hostile:
        hostile.redirect_to = other.base_url
        yield hostile, other


@pytest.fixture(scope="module")
def single_turn(all_cases):
    return next(case for case in all_cases if case.id == "gemini/text/single-turn")


@pytest.fixture(scope="module")
def hostile_results(servers, single_turn, schemas) -> dict[str, tuple[CaseResult, float]]:
    """Every behaviour at once (one runner each, concurrently), so the slow ones overlap."""
    import asyncio

    hostile, _ = servers

    async def one(name: str) -> tuple[CaseResult, float]:
        started = time.perf_counter()
        runner = Runner(provider(hostile.url(name), EXPECTED[name][2]), KEY, schemas)
        results = await runner.run_async([single_turn])
        return results[single_turn.id], time.perf_counter() - started

    async def everything() -> dict[str, tuple[CaseResult, float]]:
        names = sorted(EXPECTED)
        done = await asyncio.gather(*(one(name) for name in names))
        return dict(zip(names, done, strict=True))

    return asyncio.run(everything())


@pytest.mark.parametrize("behaviour", sorted(EXPECTED))
def test_hostile_behaviour_ends_cleanly_in_time(hostile_results, behaviour):
    outcome, words, _, limit = EXPECTED[behaviour]
    result, seconds = hostile_results[behaviour]
    assert result.outcome == outcome, result.message
    for word in words:
        assert word in result.message, result.message
    assert "Traceback" not in result.message
    assert seconds < limit, f"{behaviour} took {seconds:.2f} s"
    record = record_of(result, Redactor([KEY])).to_json()
    json.dumps(record)
    for exchange in record["evidence"]["exchanges"]:
        if exchange["response"] is not None:
            assert len(exchange["response"]["body"].encode()) <= 16 * 1024 + 4  # replacement chars aside
        assert KEY not in json.dumps(exchange)


def test_huge_body_is_capped_and_memory_stays_bounded(servers, single_turn, schemas):
    hostile, _ = servers
    tracemalloc.start()
    try:
        result = Runner(provider(hostile.url("huge"), FAST), KEY, schemas).run([single_turn])[single_turn.id]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    exchange = result.attempts[0].exchanges[0]
    assert exchange.body_truncated and len(exchange.body) == DEFAULT_BODY_CAP
    assert peak < 4 * DEFAULT_BODY_CAP, f"peak traced memory {peak / 2**20:.1f} MiB for a 100 MB body"


def test_redirect_to_another_host_never_carries_the_key(servers, hostile_results):
    hostile, other = servers
    result, _ = hostile_results["redirect"]
    assert other.base_url in result.message
    assert other.seen == [], "the redirect was followed"
    assert any(KEY in seen.target for seen in hostile.seen), "the configured host should have had the key"
    for auth in ("x-goog-api-key", "bearer"):
        import asyncio

        from conformance.suite.model import RequestSpec
        from conformance.wire.transport import Transport

        async def send(style: str = auth) -> None:
            transport = Transport(provider(hostile.url("redirect"), FAST, style), KEY)
            try:
                await transport.send(
                    transport.build(
                        "gemini", RequestSpec("POST", "/models/m:generateContent"), {"contents": []}
                    )
                )
            finally:
                await transport.aclose()

        asyncio.run(send())
    assert not any(KEY in seen.target or KEY in json.dumps(seen.headers) for seen in other.seen)
    # The other host does answer at the redirect's target: had the redirect been followed, it would show.
    import httpx

    assert httpx.get(f"{other.base_url}/v1beta/models", timeout=5, trust_env=False).status_code == 200
    assert other.seen and other.seen[-1].target == "/v1beta/models"


def test_cli_run_against_chaos_completes_without_traceback(servers, tmp_path):
    hostile, _ = servers
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--provider",
            "google",
            "--base-url",
            hostile.url("chaos"),
            "--api-key-env",
            "HOSTILE_KEY",
            "--gemini-auth",
            "query",
            "--timeout",
            "1.5",
            "--concurrency",
            "32",
            "--retries",
            "0",
            "-k",
            "gemini/text or gemini/errors",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "HOSTILE_KEY": KEY},
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    outcomes = {record["outcome"] for record in results["cases"]}
    assert outcomes <= {"passed", "failed", "errored", "unsupported", "skipped"}, outcomes
    # Only "wrong-type" answers a whole, well-formed body (labelled text/html): a case that does not check
    # the Content-Type may pass on it, depending on which request the rotation gave it.
    for record in results["cases"]:
        if record["outcome"] == "passed":
            (exchange,) = record["evidence"]["exchanges"]
            assert dict(exchange["response"]["headers"])["content-type"].startswith("text/html"), record["id"]
    assert results["summary"]["total"] >= 10
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="replace"), f"key leaked into {path.name}"
    assert KEY not in done.stdout + done.stderr
