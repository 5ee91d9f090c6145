"""The side-by-side matrix: built from run records alone, one self-contained page, rendered by Chromium."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html import unescape
from pathlib import Path

import pytest

from conformance.cli.main import main
from conformance.report.markdown import render_markdown
from conformance.report.matrix import build_matrix
from conformance.report.records import RunRecord
from conformance.report.results import read_run
from conformance.session import RunPlan, run_sessions
from conformance.wire.profiles import load_provider
from tests.fixtures import chromium, needs_chromium

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "reports" / "test-artifacts"
# Four stand-ins for real gateways: the reference under two profiles and with two sets of faults.
RUNS = (
    ("reference", ()),
    ("rivus", ()),
    ("theturbo", ("errors-as-500",)),
    ("new-api", ("usage-misreported", "max-tokens-dropped")),
)


@pytest.fixture(scope="module")
def run_files(all_cases, schemas, tmp_path_factory) -> list[Path]:
    """Each stand-in's whole run, written by the session as `conformance run` writes it (all at once)."""
    folder = tmp_path_factory.mktemp("runs")
    plans = [
        RunPlan(
            dataclasses.replace(load_provider(profile), embedded=True, base_url=None),
            tuple(all_cases),
            folder / profile,
            faults,
        )
        for profile, faults in RUNS
    ]
    return [
        result.files[1] for result in run_sessions(plans, schemas=schemas)
    ]  # results.json (files[0]: log)


@pytest.fixture(scope="module")
def matrix_dir(run_files, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("matrix")
    assert main(["compare", *map(str, run_files), "--out", str(out)]) == 0
    return out


def test_matrix_cells_count_mark_and_colour(run_files):
    matrix = build_matrix([read_run(path) for path in run_files])
    assert [c.label for c in matrix.columns] == [
        "reference",
        "rivus",
        "theturbo +errors-as-500",
        "new-api +usage-misreported,max-tokens-dropped",
    ]
    assert matrix.protocols() == ["gemini", "openai"]
    errors = next(row for row in matrix.rows if (row.protocol, row.feature) == ("gemini", "errors"))
    assert [cell.colour for cell in errors.cells] == ["green", "green", "red", "green"]
    assert (
        errors.cells[2].gate_broken > 0 and errors.cells[0].text == f"{len(errors.cases)}/{len(errors.cases)}"
    )
    unsupported = load_provider("new-api").unsupported
    if unsupported:
        assert matrix.totals[3].not_judged > 0
    assert any(case.differs for row in matrix.rows for case in row.cases)


def test_page_is_self_contained_and_shows_evidence_side_by_side(matrix_dir):
    html = (matrix_dir / "matrix.html").read_text()
    assert "<style>" in html and "<script>" in html
    assert not re.search(r"<link\b|<script[^>]+src=|<img\b|@import|url\(", html), "external asset in the page"
    assert not re.search(r"""src=["']https?://""", html)
    assert re.search(r"""<a href="https://ai\.google\.dev/""", html), (
        "case references link to the public documents"
    )
    assert "providers differ" in html and 'class="sides"' in html
    assert "errors-as-500" in html and "MUST &#10007;" in html
    assert '"status": "INTERNAL"' in unescape(html)  # the fault's response body, in the drill-down


def test_markdown_summary(matrix_dir):
    text = (matrix_dir / "matrix.md").read_text()
    assert "| protocol | feature | reference | rivus | theturbo +errors-as-500 |" in text
    # under errors-as-500 every native error case fails but gemini/errors/server-error, whose answer is a 500
    assert re.search(r"\| gemini \| errors \| ✅ \d+/\d+ \| ✅ \d+/\d+ \| ❌ 1/\d+ \*\*MUST ✗\d+\*\*", text)
    assert "### Cases that broke or differ" in text and "`gemini/errors/bad-key` [MUST]" in text


@needs_chromium
def test_chromium_renders_the_matrix_and_a_drill_down(matrix_dir):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTIFACTS / "matrix.html"
    shutil.copy(matrix_dir / "matrix.html", page)
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium(
            "--virtual-time-budget=3000",
            "--dump-dom",
            f"{page.as_uri()}#open=f-gemini-errors",
            profile=profile,
        )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-ready="1"' in dom.stdout, "the page's script did not run"
    features = len(re.findall(r'<tr class="feature[ "]', dom.stdout))
    assert f"{features} features x 4 providers" in dom.stdout
    assert re.search(r'<details class="feature" id="f-gemini-errors" open="">', dom.stdout), (
        "the drill-down did not open"
    )
    with tempfile.TemporaryDirectory() as profile:
        shot = chromium(
            f"--screenshot={ARTIFACTS / 'matrix.png'}",
            "--window-size=1400,1000",
            page.as_uri(),
            profile=profile,
        )
    assert shot.returncode == 0 and (ARTIFACTS / "matrix.png").stat().st_size > 20_000, shot.stderr[-2000:]
    with tempfile.TemporaryDirectory() as profile:
        chromium(
            f"--screenshot={ARTIFACTS / 'matrix-drill-down.png'}",
            "--window-size=1400,2400",
            f"{page.as_uri()}#open=f-gemini-errors",
            profile=profile,
        )
    assert (ARTIFACTS / "matrix-drill-down.png").stat().st_size > 20_000


def test_run_with_several_providers_writes_each_and_the_matrix(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--provider",
            "reference",
            "--provider",
            "rivus",
            "--provider",
            "theturbo",
            "--reference",
            "-m",
            "text",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for name in ("reference", "rivus@reference", "theturbo@reference"):  # the folder says what was run
        assert (tmp_path / name / "results.json").is_file() and (tmp_path / name / "junit.xml").is_file()
    text = (tmp_path / "matrix.md").read_text()
    assert "| protocol | feature | reference | rivus | theturbo |" in text
    assert 'data-providers="3"' in (tmp_path / "matrix.html").read_text()


def test_markdown_escapes_pipes_in_messages(run_files):
    document = json.loads(run_files[2].read_text())
    document["cases"][0]["outcome"] = "failed"
    document["cases"][0]["message"] = "a | b"
    assert "a \\| b" in render_markdown(build_matrix([RunRecord.from_json(document)]))
