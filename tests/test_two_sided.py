"""Two-sided runs: the suite plays the gateway's upstream and judges what the gateway forwards.

One upstream serves every run of this module. Through the clean forwarding reference the whole suite is
green on both sides; each forwarding fault is caught by the cases it names (a fault in the request by an
expectation on what reached the upstream); a request that never reaches the upstream fails its upstream
expectations; requests no case caused are reported; and the command line judges a gateway on both sides
in one run.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.cli.main import main
from conformance.engine.attempts import CaseResult
from conformance.engine.runner import Runner
from conformance.reference.app import create_app
from conformance.reference.faults.registry import FAULTS, forwarding_faults
from conformance.reference.forward import create_forwarding_app
from conformance.reference.model.triggers import TRIGGERS
from conformance.reference.server import ReferenceServer
from conformance.report.records import FailureRecord
from conformance.suite.model import Case
from conformance.upstream.endpoint import Endpoint
from conformance.upstream.ledger import Ledger, UpstreamFacts, UpstreamLink
from conformance.upstream.server import serve_upstream
from conformance.validation.store import SchemaStore
from conformance.wire.profiles import load_provider
from tests.fixtures import read_results

UPSTREAM_KEY = "upstream-test-key-0001"
GATEWAY_KEY = "gateway-test-key-0002"
PARALLEL_FAULT_RUNS = 4
BROKEN = ("failed", "errored")


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Endpoint, Ledger]]:
    """The suite's upstream, shared by every run of the module (tags keep their requests apart)."""
    ledger = Ledger()
    with serve_upstream(Endpoint("127.0.0.1", 0), UPSTREAM_KEY, ledger) as endpoint:
        yield endpoint, ledger


def run_two_sided(
    cases: list[Case], schemas: SchemaStore, upstream: tuple[Endpoint, Ledger], faults: tuple[str, ...] = ()
) -> dict[str, CaseResult]:
    """The cases through a forwarding reference (with the faults) to the shared upstream."""
    endpoint, ledger = upstream
    app = create_forwarding_app(endpoint.base_url, UPSTREAM_KEY, api_key=GATEWAY_KEY, faults=faults)
    with ReferenceServer(app) as gateway:
        provider = dataclasses.replace(
            load_provider("reference"), base_url=gateway.base_url, embedded=True, triggers=dict(TRIGGERS)
        )
        link = UpstreamLink(ledger, UpstreamFacts(endpoint.base_url, UPSTREAM_KEY, (GATEWAY_KEY,)))
        return Runner(provider, GATEWAY_KEY, schemas, upstream=link).run(cases)


def upstream_failures(result: CaseResult) -> list[str]:
    return [f.describe() for a in result.attempts for f in a.failures if f.side == "upstream"]


def two_sided(all_cases: list[Case]) -> list[Case]:
    return [case for case in all_cases if case.needs_upstream]


@pytest.fixture(scope="module")
def clean_run(all_cases, schemas, upstream) -> dict[str, CaseResult]:
    return run_two_sided(all_cases, schemas, upstream)


def test_the_whole_suite_is_green_on_both_sides_through_the_clean_forwarding_reference(
    all_cases, clean_run, upstream
):
    broken = {cid: r.message for cid, r in clean_run.items() if r.outcome != "passed"}
    assert not broken
    assert not {cid: upstream_failures(r) for cid, r in clean_run.items() if upstream_failures(r)}
    judged_upstream = [c for c in two_sided(all_cases) if clean_run[c.id].attempts[-1].forwarded]
    assert len(judged_upstream) == len(two_sided(all_cases)) > 50
    # Every request the suite sent with a prompt carried its tag: what no case accounts for is a request
    # without one (a model list, a body that is not JSON or holds no text), never a tag of another run.
    _, ledger = upstream
    assert all("no tag" in reason for _, reason in ledger.unattributed())
    # Once a step is judged its forwarded requests are dropped: the ledger does not grow with the run.
    assert ledger.count > len(all_cases) and not [r for r in ledger.requests if r.body]


@pytest.fixture(scope="module")
def fault_runs(all_cases, schemas, upstream) -> dict[str, dict[str, CaseResult]]:
    """Each forwarding fault's run of the cases meant to catch it, a few at once, against one upstream."""
    by_id = {case.id: case for case in all_cases}
    with ThreadPoolExecutor(max_workers=PARALLEL_FAULT_RUNS) as pool:
        runs = {
            fault: pool.submit(
                run_two_sided, [by_id[c] for c in FAULTS[fault].caught_by], schemas, upstream, (fault,)
            )
            for fault in forwarding_faults()
        }
        return {fault: run.result() for fault, run in runs.items()}


@pytest.mark.parametrize("fault", forwarding_faults())
def test_forwarding_fault_is_caught_by_its_cases(fault_runs, fault):
    results = fault_runs[fault]
    record = FAULTS[fault]
    missed = {cid: results[cid].outcome for cid in record.caught_by if results[cid].outcome not in BROKEN}
    assert not missed, f"fault {fault} was not caught by {missed}"
    must = any(results[cid].case.level == "MUST" for cid in record.caught_by)
    assert must == (record.level == "MUST")
    if "outbound" in record.seams:  # a fault in the request: an expectation on what reached Google sees it
        assert any(upstream_failures(results[cid]) for cid in record.caught_by), (
            f"fault {fault} changes what is forwarded, but no upstream expectation caught it"
        )


def test_every_check_only_the_two_sided_cases_use_is_tripped_by_a_forwarding_fault(all_cases, fault_runs):
    def walk(items: list[dict[str, Any]]) -> set[str]:
        found = set()
        for item in items:
            ((name, args),) = item.items()
            found.add(name)
            if name == "any_of":
                found |= walk([e for branch in args for e in branch])
            elif name == "strict":
                found |= walk(args)
            elif name == "events":
                found |= walk(args["expect"])
        return found

    def checks(case: Case) -> set[str]:
        found = set()
        for step in case.steps:
            found |= walk([{e.check: e.args} for e in step.expect])
            if step.upstream is not None:
                found |= walk([{e.check: e.args} for e in step.upstream.expect])
        return found

    one_sided = set().union(*(checks(c) for c in all_cases if not c.needs_upstream))
    only_two_sided = set().union(*(checks(c) for c in two_sided(all_cases))) - one_sided
    tripped = {
        failure.expectation.check
        for results in fault_runs.values()
        for result in results.values()
        for attempt in result.attempts
        for failure in attempt.failures
    }
    assert only_two_sided and only_two_sided <= tripped, sorted(only_two_sided - tripped)


def test_a_request_that_never_reaches_the_upstream_fails_its_upstream_expectations(
    all_cases, schemas, upstream
):
    endpoint, ledger = upstream
    chosen = [
        c for c in all_cases if c.id in ("gemini/forwarding/tools", "openai/upstream-mapping/rate-limited")
    ]
    with ReferenceServer(create_app(api_key=GATEWAY_KEY)) as answering_itself:
        provider = dataclasses.replace(load_provider("reference"), base_url=answering_itself.base_url)
        link = UpstreamLink(ledger, UpstreamFacts(endpoint.base_url, UPSTREAM_KEY, (GATEWAY_KEY,)))
        results = Runner(provider, GATEWAY_KEY, schemas, upstream=link).run(chosen)
    tools = results["gemini/forwarding/tools"]
    assert tools.outcome == "failed"
    assert tools.message.startswith("forwarded request: the request never reached the upstream")
    assert upstream_failures(results["openai/upstream-mapping/rate-limited"])  # and its answer is not a 429


def test_a_case_with_a_scenario_is_not_retried_by_the_suite(clean_run):
    result = clean_run["gemini/upstream-mapping/rate-limited"]
    assert [e.retries for a in result.attempts for e in a.exchanges] == [0]
    assert [len(a.forwarded[0]) for a in result.attempts] == [1]


def test_requests_no_case_caused_are_reported(upstream):
    endpoint, ledger = upstream
    foreign = {"contents": [{"parts": [{"text": "Hi\n[conformance:ffffffffffffffff]"}]}]}
    with httpx.Client(base_url=endpoint.base_url, headers={"x-goog-api-key": UPSTREAM_KEY}) as client:
        assert client.get("/v1beta/models").status_code == 200
        assert client.post("/v1beta/models/gemini-2.5-flash:generateContent", json=foreign).status_code == 200
    reasons = [
        reason for request, reason in ledger.unattributed() if request.received > time.monotonic() - 60
    ]
    assert any("no tag" in r for r in reasons)
    assert any("[conformance:ffffffffffffffff] was not issued by this run" in r for r in reasons)


def test_an_upstream_failure_record_reads_back_and_old_records_are_response_side():
    record = FailureRecord(0, "json: {}", "m", "/x", "upstream")
    assert FailureRecord.from_json(record.to_json()) == record
    assert record.to_json()["side"] == "upstream"
    assert "side" not in FailureRecord(0, "e", "m").to_json()
    assert FailureRecord.from_json({"step": 0, "expectation": "e", "message": "m"}).side == "response"


# -- the command line --------------------------------------------------------------------------------


def _read(out: Path) -> dict:
    return read_results(out / "results.json")


def test_the_cli_two_sided_run_marks_upstream_failures_in_every_view(tmp_path, capsys):
    out = tmp_path / "faulted"
    args = ["run", "--upstream", "127.0.0.1:0", "-m", "forwarding_security", "--out", str(out)]
    assert main([*args, "--fault", "upstream-key-in-query"]) == 1
    console = capsys.readouterr().out
    assert "forwarded request: the upstream key is sent in the URL" in console
    assert "case(s) forwarded wrongly" in console
    record = _read(out)
    assert record["run"]["upstream"]["base_url"].startswith("http://127.0.0.1:")
    assert record["run"]["upstream"]["requests"] >= 8
    broken = [c for c in record["cases"] if c["outcome"] == "failed"]
    assert {c["id"] for c in broken} == set(FAULTS["upstream-key-in-query"].caught_by)
    for case in broken:
        assert {f["side"] for f in case["evidence"]["failures"]} == {"upstream"}
        forwarded = case["evidence"]["exchanges"][0]["forwarded"]
        assert forwarded and "?key=[REDACTED]" in forwarded[0]["url"]
    assert "upstream side: the forwarded request" in (out / "junit.xml").read_text(encoding="utf-8")
    assert "forwarded wrongly" in (out / "report.html").read_text(encoding="utf-8")
    assert "forwarded wrongly 1" in (out / "matrix.md").read_text(encoding="utf-8")
    assert "forwarded wrongly" in (out / "matrix.html").read_text(encoding="utf-8")


def test_the_targets_of_a_two_sided_run_share_its_one_upstream(tmp_path, capsys):
    args = [
        "run",
        "--upstream",
        "127.0.0.1:0",
        "--fault",
        "upstream-key-in-query",
        "-m",
        "forwarding_security",
    ]
    assert (
        main([*args, "--model", "gemini-2.5-flash", "--model", "gemini-2.5-pro", "--out", str(tmp_path)]) == 1
    )
    assert "matrix of 2 targets" in capsys.readouterr().out
    flash = _read(tmp_path / "reference+upstream+upstream-key-in-query")
    pro = _read(tmp_path / "reference~gemini-2.5-pro+upstream+upstream-key-in-query")
    assert (flash["run"]["model"], pro["run"]["model"]) == ("gemini-2.5-flash", "gemini-2.5-pro")
    assert flash["run"]["upstream"]["base_url"] == pro["run"]["upstream"]["base_url"]  # one upstream
    for record in (flash, pro):  # each forwarded request judged in the target whose case caused it
        broken = {c["id"] for c in record["cases"] if c["outcome"] == "failed"}
        assert broken == set(FAULTS["upstream-key-in-query"].caught_by)
        assert not record["run"]["upstream"]["unattributed"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_gateway_configured_against_the_upstream_is_judged_on_both_sides_in_one_run(tmp_path, monkeypatch):
    """A separate gateway process (the forwarding reference) forwards to the address the run serves."""
    up_port, gw_port = _free_port(), _free_port()
    env = {**os.environ, "UP_KEY": UPSTREAM_KEY}
    gateway = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance",
            "serve",
            "--port",
            str(gw_port),
            "--api-key",
            GATEWAY_KEY,
            "--forward-to",
            f"http://127.0.0.1:{up_port}",
            "--forward-key-env",
            "UP_KEY",
            "--fault",
            "client-key-forwarded",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert gateway.stdout is not None and "forwarding to" in gateway.stdout.readline()
        monkeypatch.setenv("UP_KEY", UPSTREAM_KEY)
        monkeypatch.setenv("GW_KEY", GATEWAY_KEY)
        out = tmp_path / "gateway"
        code = main(
            [
                "run",
                "--base-url",
                f"http://127.0.0.1:{gw_port}",
                "--api-key-env",
                "GW_KEY",
                "--upstream",
                f"127.0.0.1:{up_port}",
                "--upstream-key-env",
                "UP_KEY",
                "-m",
                "forwarding_security or upstream_mapping",
                "--out",
                str(out),
                "-q",
            ]
        )
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)
    assert code == 1
    cases = {c["id"]: c for c in _read(out)["cases"]}
    failed = {cid for cid, c in cases.items() if c["outcome"] != "passed"}
    assert failed == set(FAULTS["client-key-forwarded"].caught_by)
    assert sum(c["outcome"] == "passed" for c in cases.values()) >= 30  # the mapping cases, client side
    text = "".join(path.read_text(encoding="utf-8") for path in out.rglob("*") if path.is_file())
    assert UPSTREAM_KEY not in text and GATEWAY_KEY not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "10.1.2.3:8090"], "not a loopback address"),
        (["--upstream", "localhost"], "expected HOST:PORT"),
        (["--upstream-key-env", "UP_KEY"], "no --upstream was given"),
        (["--fault", "upstream-key-in-query"], "needs a two-sided run"),
        (["--upstream", "127.0.0.1:0", "--fault", "usage-misreported"], "only forwarding faults apply"),
        (
            [
                "--base-url",
                "http://127.0.0.1:9",
                "--api-key-env",
                "I11_GW_KEY",
                "--upstream",
                "127.0.0.1:8090",
            ],
            "--upstream-key-env VAR",
        ),
        (["--upstream", "127.0.0.1:0", "--upstream-key-env", "NO_SUCH_VARIABLE_I11"], "is not set"),
    ],
)
def test_bad_two_sided_options_are_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setenv("I11_GW_KEY", "k")
    assert main(["run", *args, "-m", "forwarding", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_a_busy_upstream_port_is_exit_2_before_anything_is_sent(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(
            ["run", "--upstream", f"127.0.0.1:{port}", "-m", "forwarding", "--out", str(tmp_path / "r")]
        )
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_upstream_command_announces_its_url_and_key_and_logs_requests():
    port = _free_port()
    env = {**os.environ, "UP_KEY": UPSTREAM_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "upstream", "--port", str(port), "--key-env", "UP_KEY"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        announced = [process.stdout.readline() for _ in range(7)]
        assert f"http://127.0.0.1:{port}" in announced[0] and "/v1beta" in "".join(announced)
        assert "the value of $UP_KEY" in "".join(announced)  # a key from a variable is not printed
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1beta/models/gemini-2.5-flash:generateContent",
            params={"key": UPSTREAM_KEY},
            json={"contents": [{"parts": [{"text": "Reply with exactly: OK"}]}]},
            timeout=10,
        )
        assert answer.status_code == 200
        logged = process.stdout.readline()
        assert "POST /v1beta/models/gemini-2.5-flash:generateContent?key=[REDACTED]" in logged
        assert UPSTREAM_KEY not in logged
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_upstream_command_refuses_a_busy_port_before_announcing():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "conformance", "upstream", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert result.stdout == "" and f"cannot listen on 127.0.0.1:{port}" in result.stderr
