"""The CI gate with a baseline (strict expected failures), the switch that ignores it, run-to-run diffs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from conformance.cli.main import main

REPO = Path(__file__).resolve().parents[1]
SELECT = ("-m", "count_tokens")


def conformance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=dict(os.environ),
    )


def results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def test_baseline_turns_known_failures_into_strict_expected_failures(tmp_path):
    broken = conformance("run", "--fault", "count-tokens-zero", *SELECT, "--out", str(tmp_path / "broken"))
    assert broken.returncode == 1
    failing = {
        c["id"] for c in results(tmp_path / "broken")["cases"] if c["outcome"] in ("failed", "errored")
    }
    assert failing

    baseline = tmp_path / "reference.yaml"
    made = conformance(
        "baseline", str(tmp_path / "broken"), "--out", str(baseline), "--reason", "countTokens answers 0"
    )
    assert made.returncode == 0 and f"{len(failing)} known failures" in made.stdout
    document = yaml.safe_load(baseline.read_text())
    document["entries"][0]["issue"] = "https://example.com/issues/1"
    baseline.write_text(yaml.safe_dump(document))

    # the same failures with the baseline: the gate passes, JUnit shows them as expected failures
    known = conformance(
        "run",
        "--fault",
        "count-tokens-zero",
        *SELECT,
        "--baseline",
        str(baseline),
        "--out",
        str(tmp_path / "known"),
    )
    assert known.returncode == 0, known.stdout[-3000:]
    run = results(tmp_path / "known")
    assert run["summary"]["gate"] == "pass"
    assert run["summary"]["baseline"] == {
        "expected_failures": len(failing),
        "unexpected_passes": 0,
        "changed": 0,
    }
    assert run["run"]["baseline"] == str(baseline)
    record = next(c for c in run["cases"] if c["id"] in failing and c["baseline"]["issue"])
    assert record["baseline"]["status"] == "expected" and record["outcome"] == "failed"
    junit = ET.parse(tmp_path / "known" / "junit.xml").getroot()
    assert len(junit.findall(".//testcase/skipped")) == len(failing)  # pytest's xfail
    assert "baselined" in (tmp_path / "known" / "matrix.md").read_text()

    # fixed gateway, baseline not updated: the gate fails until the entries are removed
    fixed = conformance("run", *SELECT, "--baseline", str(baseline), "--out", str(tmp_path / "fixed"))
    assert fixed.returncode == 1
    assert "now passes: remove it from" in fixed.stdout
    assert results(tmp_path / "fixed")["summary"]["baseline"]["unexpected_passes"] == len(failing)

    # --no-baseline: baselined cases are plain cases again
    plain = conformance(
        "run",
        "--fault",
        "count-tokens-zero",
        *SELECT,
        "--baseline",
        str(baseline),
        "--no-baseline",
        "--out",
        str(tmp_path / "plain"),
    )
    assert plain.returncode == 1
    assert "baseline" not in results(tmp_path / "plain")["summary"]

    # diff: the broken run against the fixed one and back
    regress = conformance("diff", str(tmp_path / "fixed" / "results.json"), str(tmp_path / "broken"))
    assert regress.returncode == 1
    assert f"new failures: {len(failing)}" in regress.stdout and "passed -> failed" in regress.stdout
    recover = conformance("diff", str(tmp_path / "broken"), str(tmp_path / "fixed"))
    assert recover.returncode == 0 and f"fixed: {len(failing)}" in recover.stdout


def test_the_judge_applies_a_baseline(all_cases):
    from conformance.engine.baseline import Baseline, BaselineEntry
    from conformance.engine.judge import verdict

    must = next(case for case in all_cases if case.level == "MUST")
    should = next(case for case in all_cases if case.level == "SHOULD")
    baseline = Baseline("p", {must.id: BaselineEntry(must.id, "failed", "why", "https://x/1")}, "b.yaml")
    expected = verdict(must, "failed", "broke", baseline)
    assert expected.baseline is not None and expected.baseline.status == "expected"
    assert not expected.breaks_gate and expected.message == "broke"
    changed = verdict(must, "errored", "timeout", baseline)
    assert changed.baseline is not None and changed.baseline.status == "changed" and changed.breaks_gate
    fixed = verdict(must, "passed", "passed", baseline)
    assert fixed.baseline is not None and fixed.baseline.status == "unexpected-pass" and fixed.breaks_gate
    assert "now passes: remove it from b.yaml" in fixed.message
    unsupported = verdict(must, "unsupported", "declared", baseline)
    assert unsupported.baseline is None and not unsupported.breaks_gate
    assert verdict(must, "failed", "x").breaks_gate and not verdict(should, "failed", "x").breaks_gate
    assert verdict(must, "flaky", "x").breaks_gate and not verdict(must, "skipped", "x").breaks_gate


def test_bad_baseline_and_results_files_are_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "b.yaml"
    bad.write_text("provider: p\nentries:\n  - {case: gemini/a/b, expect: passed, reason: r}\n")
    assert main(["run", "--baseline", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "b.yaml: entries[0].expect" in capsys.readouterr().err
    assert main(["run", "--baseline", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")]) == 2
    (tmp_path / "r.json").write_text("{}")
    assert main(["diff", str(tmp_path / "r.json"), str(tmp_path / "r.json")]) == 2
    assert main(["compare", str(tmp_path / "nope.json")]) == 2
    for line in capsys.readouterr().err.strip().splitlines():
        assert line.startswith("error: ")
