"""SDK probes: skipped with the install command without the SDKs, pointed at each profile's route or skipped
with the reason, judged on what the SDK returned or raised, and bounded by the limits and the breaker."""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pytest

from conformance.engine.runner import Runner, skip_reason
from conformance.engine.stopping import Stopper
from conformance.sdk import clients
from conformance.sdk.calls import CALLS
from conformance.suite.model import SDK_CALLS, Case
from conformance.wire.profiles import Provider, RetryPolicy, Route, Timeouts, load_provider
from tests.hostile_server import HostileServer

KEY = "SDK-probe-canary-key-3f9a"
FAST = Timeouts(connect=1.0, read=0.8, total=2.0)
SLACK = 3.0
"""Seconds allowed beyond a limit: generous, so a loaded machine does not fail the test."""


@pytest.fixture(scope="module")
def sdk_cases(all_cases: list[Case]) -> list[Case]:
    return [case for case in all_cases if case.feature == "sdk"]


def test_every_call_the_case_model_offers_is_implemented() -> None:
    assert {sdk: set(calls) for sdk, calls in SDK_CALLS.items()} == {
        sdk: set(calls) for sdk, calls in CALLS.items()
    }


def test_without_the_sdk_extra_sdk_cases_are_skipped_with_the_install_command(
    monkeypatch, sdk_cases, all_cases
):
    # A None entry in sys.modules makes the import fail as a missing package does; nothing is uninstalled.
    monkeypatch.setitem(sys.modules, "google.genai", None)
    monkeypatch.setitem(sys.modules, "openai", None)
    provider = load_provider("reference")
    assert {case.protocol for case in sdk_cases} == {"gemini", "openai"}
    for case in sdk_cases:
        skipped = skip_reason(case, provider)
        assert skipped is not None and skipped[0] == "skipped", case.id
        assert "not installed" in skipped[1] and "pip install 'gateway-conformance[sdk]'" in skipped[1]
    text = next(case for case in all_cases if case.id == "gemini/text/single-turn")
    assert skip_reason(text, provider) is None


def test_an_sdk_is_imported_off_the_event_loop(tmp_path, monkeypatch):
    # A first import of an SDK costs most of a second of CPU: on the loop it would hold requests in flight.
    (tmp_path / "slow_sdk_stand_in.py").write_text("import time\n\ntime.sleep(0.4)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(clients.PROBE_MODULES, "openai", ("slow_sdk_stand_in",))
    monkeypatch.setattr(clients, "_imports", {})

    async def ticks_while_importing() -> int:
        ticks = 0
        waiting = asyncio.ensure_future(clients.imported("openai"))
        while not waiting.done():
            await asyncio.sleep(0.02)
            ticks += 1
        assert clients.import_soon("openai") is clients.import_soon("openai")  # once per process
        return ticks

    try:
        assert asyncio.run(ticks_while_importing()) >= 5
        assert "slow_sdk_stand_in" in sys.modules
    finally:
        sys.modules.pop("slow_sdk_stand_in", None)


def test_a_cancelled_waiter_leaves_the_shared_import_alone(tmp_path, monkeypatch):
    # An interrupted run cancels the cases waiting for an SDK; the import goes on, and later waiters get it.
    (tmp_path / "slow_sdk_stand_in.py").write_text("import time\n\ntime.sleep(0.2)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(clients.PROBE_MODULES, "openai", ("slow_sdk_stand_in",))
    monkeypatch.setattr(clients, "_imports", {})
    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))

    async def cancelled_then_awaited() -> None:
        waiting = asyncio.ensure_future(clients.imported("openai"))
        await asyncio.sleep(0.02)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.wait_for(clients.imported("openai"), timeout=30)

    try:
        asyncio.run(cancelled_then_awaited())
        assert clients.import_soon("openai").result(timeout=30) is None and not failures
    finally:
        sys.modules.pop("slow_sdk_stand_in", None)


@pytest.mark.parametrize(
    ("profile", "unexpressible"),
    [
        ("reference", set()),
        ("google", set()),
        ("rivus", set()),
        ("new-api", {"google-genai"}),  # ?key= on the native route
        ("theturbo", {"google-genai"}),  # a Bearer key on the native route
    ],
)
def test_each_sdk_is_pointed_at_a_profile_only_as_it_can_be(profile: str, unexpressible: set[str]) -> None:
    provider = load_provider(profile)
    found = {sdk for sdk in clients.MODULES if clients.unexpressible(sdk, provider)}
    assert found == unexpressible
    for sdk in found:
        assert f"profile {profile}" in (clients.unexpressible(sdk, provider) or "")


def test_the_prefix_becomes_the_sdks_base_url_and_api_version() -> None:
    def at(gemini: str, openai: str) -> Provider:
        return Provider(
            "p", Route(gemini, "x-goog-api-key"), Route(openai, "bearer"), "m", base_url="https://gw.example"
        )

    assert clients.endpoint("google-genai", at("/gemini/v1beta", "/v1")) == clients.Endpoint(
        "https://gw.example/gemini", "v1beta"
    )
    assert clients.endpoint("google-genai", at("/v1beta", "")) == clients.Endpoint(
        "https://gw.example", "v1beta"
    )
    assert clients.endpoint("google-genai", at("", "")) == clients.Endpoint("https://gw.example", None)
    assert (
        clients.endpoint("openai", at("/v1beta", "/v1beta/openai")).base_url
        == "https://gw.example/v1beta/openai"
    )


@pytest.fixture(scope="module")
def hostile():
    with HostileServer() as server:
        yield server


def _hostile_provider(base_url: str) -> Provider:
    return Provider(
        name="hostile",
        gemini=Route("/v1beta", "x-goog-api-key"),
        openai=Route("/v1", "bearer"),
        default_model="gemini-2.5-flash",
        base_url=base_url,
        timeouts=FAST,
        retry=RetryPolicy(attempts=0),
    )


def test_probes_of_a_hanging_gateway_end_in_time_and_trip_the_breaker(hostile, sdk_cases, schemas) -> None:
    chosen = [
        case
        for case in sdk_cases
        if case.id in ("gemini/sdk/text", "gemini/sdk/count-tokens", "openai/sdk/text")
    ]
    chosen += [case for case in sdk_cases if case.id.endswith("/models-list")]
    stopper = Stopper(breaker=2)
    runner = Runner(_hostile_provider(hostile.url("hang")), KEY, schemas, stopper=stopper)
    started = time.perf_counter()
    results = runner.run(chosen)
    elapsed = time.perf_counter() - started
    assert elapsed < FAST.total + SLACK
    assert {result.outcome for result in results.values()} == {"errored"}
    assert stopper.reason is not None and stopper.reason.startswith("gateway unresponsive since case")
    timed_out = [r.message for r in results.values() if "gateway unresponsive" not in r.message]
    assert timed_out and all("timed out" in m or "Timeout" in m for m in timed_out), timed_out
    for result in results.values():
        for attempt in result.attempts:
            for exchange in attempt.exchanges:
                assert KEY not in exchange.request.url and KEY.encode() not in exchange.request.body


def test_an_endless_stream_ends_the_probe_at_the_total_limit(hostile, sdk_cases, schemas) -> None:
    stream = next(case for case in sdk_cases if case.id == "gemini/sdk/stream")
    runner = Runner(_hostile_provider(hostile.url("endless")), KEY, schemas, stopper=Stopper(breaker=0))
    started = time.perf_counter()
    result = runner.run([stream])[stream.id]
    assert time.perf_counter() - started < FAST.total + SLACK
    assert result.outcome == "errored"
    assert "google-genai" in result.message and ("timed out" in result.message or "Timeout" in result.message)
