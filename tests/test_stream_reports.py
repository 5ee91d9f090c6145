"""Stream evidence in the reports: timings per exchange in results.json and the HTML, the bad event named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[1]
RESULTS_SCHEMA = json.loads((REPO / "schemas" / "results.schema.json").read_text())


def test_failed_stream_case_names_the_event_and_reports_timings(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--out",
            str(tmp_path),
            "--fault",
            "done-on-native-stream",
            "-m",
            "streaming_sse or streaming",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
        env=dict(os.environ),
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    Draft202012Validator(RESULTS_SCHEMA).validate(results)
    record = next(c for c in results["cases"] if c["id"] == "gemini/streaming-sse/framing")
    assert record["outcome"] == "failed"
    message = record["evidence"]["failures"][0]["message"]
    assert (
        message.startswith("event 6 (byte ")
        and "[done-sentinel]" in message
        and "raw: 'data: [DONE]" in message
    )
    timings = record["evidence"]["exchanges"][0]["timings"]
    assert timings["stream"] == "sse" and timings["events"] == 7
    assert 0 < timings["first_event_ms"] < timings["last_event_ms"] <= timings["total_ms"]
    assert timings["largest_gap_ms"] > 0
    passed = next(c for c in results["cases"] if c["id"] == "openai/streaming/include-usage")
    assert passed["outcome"] == "passed"
    assert passed["evidence"]["exchanges"][0]["timings"]["stream"] == "sse"
    error_case = next(c for c in results["cases"] if c["id"] == "gemini/streaming-sse/unknown-model")
    assert "stream" not in error_case["evidence"]["exchanges"][0]["timings"]  # an error response is no stream
    html = (tmp_path / "report.html").read_text()
    assert "stream (sse): 7 event(s); ttfb" in html and "largest gap" in html
