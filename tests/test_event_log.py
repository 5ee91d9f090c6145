"""The run is an event log: written as verdicts land, readable after Ctrl-C, SIGTERM or a kill, and every
report built from it says when the run is incomplete. The pytest route writes the same log and reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.report.log import LOG_NAME, read_log
from conformance.report.results import read_run
from conformance.validation.documents import validate_document

REPO = Path(__file__).resolve().parents[1]


def start_run(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--out", str(out), *args],
        cwd=out.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_cases(log: Path, count: int, process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Wait until the log holds ``count`` case lines (the run is well under way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.is_file() and log.read_text(encoding="utf-8").count('"event":"case"') >= count:
            return
        assert process.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.02)
    raise AssertionError("the run did not get under way")


def lines_of(log: Path) -> list[dict]:
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    for number, event in enumerate(events, start=1):
        validate_document(event, "results-log.schema.json", f"{log}: line {number}")
    return events


@pytest.mark.parametrize(
    ("sent", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")]
)
def test_an_interrupted_run_leaves_a_valid_log_and_reports_marked_incomplete(tmp_path, sent, code, name):
    out = tmp_path / "run"
    process = start_run(out)
    wait_for_cases(out / LOG_NAME, 40, process)
    process.send_signal(sent)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stdout[-2000:] + stderr[-2000:]
    assert "Traceback" not in stdout + stderr
    events = lines_of(out / LOG_NAME)
    header, footer = events[0], events[-1]
    assert header["event"] == "header" and footer["event"] == "footer"
    assert footer["complete"] is False and footer["interrupted"] == f"stopped by {name}"
    assert footer["summary"]["gate"] == "fail"
    ran = {event["case"]["id"] for event in events if event["event"] == "case"}
    assert 40 <= len(ran) < len(header["plan"])
    results = json.loads((out / "results.json").read_text())
    assert results["run"]["complete"] is False and results["summary"]["gate"] == "fail"
    assert sorted(results["run"]["not_run"]) == sorted(set(header["plan"]) - ran)
    assert "INCOMPLETE RUN" in (out / "report.html").read_text()
    assert "**INCOMPLETE**" in (out / "matrix.md").read_text()
    junit = ET.parse(out / "junit.xml").getroot()
    assert len(junit.findall(".//testcase/error[@type='not-run']")) == len(results["run"]["not_run"])
    assert "INCOMPLETE" in stdout


def test_a_killed_run_leaves_a_log_that_reports_can_still_be_built_from(tmp_path):
    out = tmp_path / "run"
    process = start_run(out)
    wait_for_cases(out / LOG_NAME, 40, process)
    process.kill()
    process.communicate(timeout=30)
    with (out / LOG_NAME).open("a", encoding="utf-8") as log:
        log.write('{"event":"case","case":{"id":"cut in the mid')  # a line the kill cut short
    run = read_run(out)
    assert not run.complete and run.info.not_run and run.summary.gate == "fail"
    assert "killed" in (run.info.interrupted or "")
    compared = subprocess.run(
        [sys.executable, "-m", "conformance", "compare", str(out), "--out", str(tmp_path / "cmp")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compared.returncode == 0, compared.stderr
    assert "**INCOMPLETE**" in (tmp_path / "cmp" / "matrix.md").read_text()
    assert "INCOMPLETE run" in (tmp_path / "cmp" / "matrix.html").read_text()


def test_a_complete_log_reads_back_as_its_results(tmp_path):
    out = tmp_path / "run"
    done = start_run(out, "-m", "count_tokens or models")
    stdout, stderr = done.communicate(timeout=120)
    assert done.returncode == 0, stdout + stderr
    events = lines_of(out / LOG_NAME)
    assert [event["event"] for event in (events[0], events[-1])] == ["header", "footer"]
    from_log = read_log(out / LOG_NAME).to_json()
    from_json = json.loads((out / "results.json").read_text())
    assert from_log["cases"] == from_json["cases"] and from_log["summary"] == from_json["summary"]
    assert from_json["run"]["complete"] is True and "not_run" not in from_json["run"]


def test_a_log_without_a_header_is_refused_in_one_line(tmp_path, capsys):
    from conformance.cli.main import main

    (tmp_path / LOG_NAME).write_text('{"event":"case","case":{}}\n')
    assert main(["diff", str(tmp_path), str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_the_pytest_route_writes_the_same_log_and_follows_the_gate(tmp_path):
    def pytest_route(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", str(REPO / "cases"), "-p", "no:cacheprovider", "-q", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
            env={key: value for key, value in os.environ.items() if not key.startswith("PYTEST")},
        )

    clean = pytest_route("-m", "gemini and text", "--out", str(tmp_path / "clean"))
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert "conformance summary" in clean.stdout and "gate: PASS" in clean.stdout
    run = read_run(tmp_path / "clean")
    assert run.complete and {case.feature for case in run.cases} == {"text"}
    broken = pytest_route(
        "-k",
        "max-output-tokens",
        "--reference",
        "--fault",
        "max-tokens-dropped",
        "--out",
        str(tmp_path / "broken"),
    )
    assert broken.returncode == 1, broken.stdout[-3000:]
    assert "FAILED gemini/generation-config/max-output-tokens [MUST]" in broken.stdout
    assert "expectation (step 0): json:" in broken.stdout  # the item's failure report is the case's evidence
    assert read_run(tmp_path / "broken").summary.gate == "fail"
    bad = tmp_path / "mine" / "gemini"
    bad.mkdir(parents=True)
    (bad / "x.yaml").write_text("protocol: gemini\nfeature: x\n  bad: [")
    refused = pytest_route(str(bad.parent), "--cases", str(bad.parent))
    assert refused.returncode == 2
    assert "x.yaml: line 3: not valid YAML" in refused.stdout and "Traceback" not in refused.stdout
