"""The command line as a user meets it: full runs, artifacts, bad input, unreachable gateways and secrets."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conformance.cli.main import main

REPO = Path(__file__).resolve().parents[1]
RESULTS_SCHEMA = json.loads((REPO / "schemas" / "results.schema.json").read_text())


def conformance(
    *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def test_default_run_writes_valid_reports(tmp_path):
    done = conformance("run", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    Draft202012Validator(RESULTS_SCHEMA).validate(results)
    assert results["summary"]["gate"] == "pass"
    assert results["summary"]["failed"] == results["summary"]["errored"] == 0
    assert results["run"]["embedded_reference"] is True
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert len(junit.findall("testcase")) == results["summary"]["total"]
    assert sum(float(case.get("time", "0")) for case in junit.findall("testcase")) > 0  # real durations
    html = (tmp_path / "report.html").read_text()
    assert "gemini/text/single-turn" in html
    for fact in ("<th>provider</th><td>reference</td>", "<th>model</th><td>gemini-2.5-flash</td>",
                 "<th>mode</th><td>compat</td>", "gate PASS"):  # fmt: skip
        assert fact in html, fact
    durations = [float(ms) for ms in re.findall(r'<span class="ref">(\d+) ms</span>', html)]
    assert len(durations) == results["summary"]["total"] and max(durations) > 0
    last = done.stdout.strip().splitlines()[-2:]
    assert "gate: PASS" in last[0] and last[1].startswith(f"reports: {tmp_path}/"), (
        last
    )  # the verdict is last


def test_quiet_prints_little_more_than_the_verdict(tmp_path):
    done = conformance("run", "-q", "--out", str(tmp_path), "-m", "text")
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and len(lines) == 2, lines
    assert "gate: PASS" in lines[0] and lines[1].startswith("reports: ")


def test_a_run_that_selects_nothing_writes_nothing(tmp_path, capsys):
    assert main(["run", "-k", "no-such-case-anywhere", "--out", str(tmp_path / "out")]) == 2
    assert "no case matched the selection" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_closed_pipe_ends_quietly():
    done = subprocess.run(
        f"set -o pipefail; {sys.executable} -m conformance list | head -n 1",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


@pytest.mark.parametrize("port", ["99999", "0", "busy"])
def test_serve_refuses_a_bad_or_busy_port_before_announcing(port):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        number = str(taken.getsockname()[1]) if port == "busy" else port
        done = conformance("serve", "--port", number, timeout=30)
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert len(done.stderr.strip().splitlines()) == 1 and "--port" in done.stderr, done.stderr


def test_validate_names_the_known_schemas_for_a_bad_one(tmp_path, capsys):
    (tmp_path / "a.json").write_text("{}")
    assert main(["validate", str(tmp_path / "a.json"), "--schema", "gemini/Nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown schema 'gemini/Nope'; one of:" in err and "gemini/GenerateContentResponse" in err


def test_fault_run_fails_the_gate_with_evidence(tmp_path):
    done = conformance(
        "run", "--out", str(tmp_path), "--fault", "max-tokens-dropped", "-m", "generation_config"
    )
    assert done.returncode == 1
    results = json.loads((tmp_path / "results.json").read_text())
    record = next(c for c in results["cases"] if c["id"] == "gemini/generation-config/max-output-tokens")
    assert record["outcome"] == "failed"
    assert record["evidence"]["failures"][0]["pointer"] == "/candidates/0/finishReason"
    exchange = record["evidence"]["exchanges"][0]
    assert '"maxOutputTokens": 5' in exchange["request"]["body"]
    assert exchange["response"]["status"] == 200
    html = (tmp_path / "report.html").read_text()
    assert "step 0: <code>json: " in html and "finishReason" in html
    assert results["run"]["faults"] == ["max-tokens-dropped"]


def test_only_should_failures_keep_the_gate_green(tmp_path):
    done = conformance(
        "run", "--out", str(tmp_path), "--fault", "usage-misreported", "-k", "openai/chat/usage-total"
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"]["by_level"]["SHOULD"]["failed"] == 1
    assert results["summary"]["gate"] == "pass"
    assert done.returncode == 0


@pytest.mark.parametrize("style", ["query", "x-goog-api-key", "bearer"])
def test_canary_key_never_reaches_an_artifact(tmp_path, style):
    canary = "CANARY-k3y-" + style.replace("-", "") + "-9f8e7d6c5b4a"
    done = conformance(
        "run",
        "--out",
        str(tmp_path),
        "--api-key-env",
        "CANARY_KEY",
        "--gemini-auth",
        style,
        "--openai-auth",
        style,
        "--fault",
        "errors-as-500",
        env={"CANARY_KEY": canary},
    )
    assert done.returncode == 1, done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    sent = [ex for c in results["cases"] if c["evidence"] for ex in c["evidence"]["exchanges"]]
    assert any("[REDACTED]" in ex["request"]["url"] + json.dumps(ex["request"]["headers"]) for ex in sent)
    checked = {path.name for path in tmp_path.rglob("*") if path.is_file()}
    assert {"results.json", "junit.xml", "report.html", "matrix.html", "matrix.md"} <= checked
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert canary not in path.read_text(errors="replace"), f"key leaked into {path.name}"
    assert canary not in done.stdout and canary not in done.stderr


def test_canary_key_never_reaches_a_multi_provider_matrix_or_compare(tmp_path):
    canary = "CANARY-k3y-matrix-1a2b3c4d5e"
    done = conformance(
        "run",
        "--provider",
        "reference",
        "--provider",
        "rivus",
        "--reference",
        "--api-key-env",
        "CANARY_KEY",
        "--fault",
        "errors-as-500",
        "-m",
        "errors",
        "--out",
        str(tmp_path / "runs"),
        env={"CANARY_KEY": canary},
    )
    assert done.returncode == 1, done.stderr[-2000:]
    runs = [tmp_path / "runs" / name for name in ("reference+errors-as-500", "rivus@reference+errors-as-500")]
    compared = conformance("compare", *map(str, runs), "--out", str(tmp_path / "cmp"))
    differ = conformance("diff", *map(str, runs))
    assert compared.returncode == 0 and differ.returncode in (0, 1)
    assert (tmp_path / "runs" / "matrix.html").is_file() and (tmp_path / "cmp" / "matrix.md").is_file()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert canary not in path.read_text(errors="replace"), f"key leaked into {path}"
    for output in (done, compared, differ):
        assert canary not in output.stdout + output.stderr


def test_unreachable_gateway_is_one_line_and_every_case_errored_with_it(tmp_path):
    done = conformance(
        "run",
        "--provider",
        "google",
        "--base-url",
        "http://127.0.0.1:9",
        "--out",
        str(tmp_path),
        "-m",
        "gemini",
        env={"GEMINI_API_KEY": "k-unreachable-test"},
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    errored = [c for c in results["cases"] if c["outcome"] == "errored"]
    summary = results["summary"]
    assert len(errored) == summary["total"] - summary["unsupported"] - summary["skipped"]
    assert {c["message"] for c in errored} == {
        "gateway unreachable: cannot connect to 127.0.0.1:9: Connection refused"
    }
    assert results["run"]["base_url"] == "http://127.0.0.1:9"
    said = [line for line in done.stdout.splitlines() if "gateway unreachable" in line]
    assert len(said) == 1 and said[0].startswith(f"{len(errored)} cases errored"), done.stdout


def test_a_missing_key_variable_is_one_line_before_anything_is_sent(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    assert main(["run", "--provider", "google", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "GEMINI_API_KEY is not set" in err
    assert "google.yaml: api_key_env" in err
    assert not (tmp_path / "out").exists(), "a run that sends nothing writes nothing"


HEAD = "protocol: gemini\nfeature: x\nreference: r\ncases:\n"
BAD_CASE_FILES = {
    "yaml": ("protocol: gemini\nfeature: x\n  bad: [", "not valid YAML"),
    "field": (
        HEAD + "  - {id: gemini/x/a, level: MAYBE, title: t, request: {path: /m}, expect: [{status: 200}]}\n",
        "cases[0].level",
    ),
    "id": (
        HEAD + "  - {id: gemini/y/a, level: MUST, title: t, request: {path: /m}, expect: [{status: 200}]}\n",
        "must start with 'gemini/x/'",
    ),
    "check": (
        HEAD + "  - {id: gemini/x/a, level: MUST, title: t, request: {path: /m}, expect: [{stauts: 200}]}\n",
        "cases[0].expect[0]",
    ),
    "regex": (
        HEAD
        + "  - {id: gemini/x/a, level: MUST, title: t, request: {path: /m},\n"
        + "     expect: [{json: {at: /a, matches: '(('}}]}\n",
        "bad regular expression",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_CASE_FILES))
def test_broken_case_file_is_one_line_and_exit_2(tmp_path, capsys, kind):
    text, expected = BAD_CASE_FILES[kind]
    (tmp_path / "gemini").mkdir()
    (tmp_path / "gemini" / "x.yaml").write_text(text)
    assert main(["run", "--cases", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "x.yaml" in err and expected in err, err
    assert main(["list", "--cases", str(tmp_path)]) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--provider", "no-such-provider"], "--provider"),
        (["--base-url", "ftp://x"], "--base-url"),
        (["--base-url", "http://h/?key=1"], "--base-url"),
        (["--fault", "no-such-fault"], "--fault"),
        (["--provider", "theturbo"], "base_url"),
        (["--concurrency", "0"], "--concurrency"),
    ],
)
def test_bad_run_options_are_one_line_and_exit_2(tmp_path, capsys, args, expected):
    assert main(["run", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err


def test_broken_provider_profile_names_the_field(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "name: p\ngemini: {prefix: /v1beta, auth: cookie}\nopenai: {prefix: /v1, auth: bearer}\n"
        "models: {default: m}\n"
    )
    assert main(["run", "--provider", str(profile), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "p.yaml: gemini.auth:" in err and len(err.splitlines()) == 1


def test_list_prints_every_case(capsys, all_cases):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert f"{len(all_cases)} cases" in out
    assert "gemini/generation-config/stop-sequences" in out


def test_validate_captured_bodies(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "candidates": [
                    {"content": {"parts": [{"text": "hi"}], "role": "model"}, "finishReason": "STOP"}
                ]
            }
        )
    )
    assert main(["validate", str(good)]) == 0
    assert "gemini/GenerateContentResponse: valid" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"candidates": [{"finishReason": "stop"}]}))
    assert main(["validate", str(bad)]) == 1
    assert "/candidates/0/finishReason" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "missing.json")]) == 2
