"""History of many runs and the badges of one: views of run records, rendered by headless Chromium.

The runs are real: the reference with and without a fault that turns its errors into 500s, over the error
cases. Four nights of one target are made from them (a fault-injected run stands for a bad night of the
same gateway: its record says the fault, the history is told it is the same target), plus a night of a
second target.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.cli.main import main
from conformance.report.badges import run_badge, write_badges
from conformance.report.history import build_history
from conformance.report.records import RunRecord
from conformance.report.results import read_run, write_results
from conformance.session import RunPlan, run_sessions
from conformance.suite.selection import select
from conformance.wire.profiles import load_provider
from tests.fixtures import chromium, needs_chromium

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "reports" / "test-artifacts"
NIGHTS = ("clean", "fault", "clean", "fault")


@pytest.fixture(scope="module")
def runs(all_cases, schemas, tmp_path_factory) -> dict[str, RunRecord]:
    """A clean run, a run with errors-as-500, and a clean run of another profile, all at once."""
    folder = tmp_path_factory.mktemp("runs")
    # errors-as-500 breaks every error case but server-error, whose answer is a 500: without it the feature's
    # pass rate swings from 100% to 0% and back
    cases = tuple(select(all_cases, "errors and not server-error"))
    reference = dataclasses.replace(load_provider("reference"), embedded=True)
    rivus = dataclasses.replace(load_provider("rivus"), embedded=True, base_url=None)
    plans = [
        RunPlan(reference, cases, folder / "clean"),
        RunPlan(reference, cases, folder / "fault", ("errors-as-500",)),
        RunPlan(rivus, cases, folder / "rivus"),
    ]
    results = run_sessions(plans, schemas=schemas)
    return {plan.out.name: read_run(result.log.path) for plan, result in zip(plans, results, strict=True)}


@pytest.fixture(scope="module")
def nightly(runs, tmp_path_factory) -> Path:
    """Four nights of the reference (clean, bad, clean, bad) and one night of rivus, a folder each."""
    folder = tmp_path_factory.mktemp("nightly")
    for night, kind in enumerate(NIGHTS, start=1):
        run = runs[kind].with_info(faults=(), started_at=f"2026-05-0{night}T02:00:00.000Z")
        write_results(run, folder / f"night-{night}" / "reference" / "results.json")
    rivus = runs["rivus"].with_info(started_at="2026-05-04T02:00:00.000Z")
    write_results(rivus, folder / "night-4" / "rivus" / "results.json")
    return folder


@pytest.fixture(scope="module")
def history_dir(nightly, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("history")
    assert main(["history", str(nightly), "--out", str(out)]) == 0
    return out


def test_history_follows_each_case_and_feature(nightly):
    runs = [read_run(path.parent) for path in sorted(nightly.rglob("results.json"))]
    history = build_history(runs)
    assert [series.label for series in history.series] == [
        "reference · gemini-2.5-flash",
        "rivus · gemini-2.5-flash",
    ]
    reference = history.series[0]
    assert [run.info.started_at[:10] for run in reference.runs] == [f"2026-05-0{n}" for n in range(1, 5)]
    errors = next(t for t in reference.features if (t.protocol, t.feature) == ("gemini", "errors"))
    assert errors.rates == (1.0, 0.0, 1.0, 0.0) and errors.changed
    assert [cell.colour for cell in errors.cells if cell] == ["green", "red", "green", "red"]
    bad_key = next(case for case in reference.cases if case.id == "gemini/errors/bad-key")
    assert bad_key.outcomes == ("passed", "failed", "passed", "failed")
    broke, recovered = bad_key.first("broke"), bad_key.first("recovered")
    assert broke is not None and broke.run == 1 and "500" in broke.message
    assert recovered is not None and recovered.run == 2
    assert [t.kind for t in bad_key.transitions] == ["broke", "recovered", "broke"] and bad_key.broken_now
    assert reference.must[0][0] == reference.must[0][1] > 0 and reference.must[1][0] == 0
    assert len(history.series[1].runs) == 1 and history.series[1].cases == ()


def test_history_markdown_twin(history_dir):
    text = (history_dir / "history.md").read_text(encoding="utf-8")
    assert (
        "### reference · gemini-2.5-flash: 4 run(s)" in text
        and "### rivus · gemini-2.5-flash: 1 run(s)" in text
    )
    assert re.search(r"\| gemini/errors \| `█▁█▁` \| 100% \| 0% ❌ \| 100% \| 0% ❌ \|", text), text
    assert "| **gate** | | PASS | FAIL | PASS | FAIL |" in text
    assert re.search(
        r"- `gemini/errors/bad-key` \[MUST\]: broke in #2 2026-05-02 02:00 \(failed\); recovered in #3"
        r" 2026-05-03 02:00 \(passed\); broke in #4 [^;]+; broken now",
        text,
    )


def test_history_of_nothing_readable_is_one_line(tmp_path, capsys):
    assert main(["history", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_badges_say_the_must_ratio_and_the_gate(runs, tmp_path):
    clean, fault = runs["clean"], runs["fault"]
    must = sum(1 for case in clean.cases if case.level == "MUST" and case.judged)
    files = write_badges(clean, tmp_path / "clean")
    endpoint = json.loads((tmp_path / "clean" / "badge.json").read_text())
    assert endpoint == {
        "schemaVersion": 1,
        "label": "gemini-2.5-flash conformance",
        "message": f"MUST {must}/{must} · pass",
        "color": "brightgreen",
    }
    assert (tmp_path / "clean" / "badges" / "gemini-errors.json") in files
    feature = json.loads((tmp_path / "clean" / "badges" / "openai-errors.json").read_text())
    assert feature["label"] == "openai errors" and re.fullmatch(r"(\d+)/\1 passed", feature["message"])
    svg = ET.parse(tmp_path / "clean" / "badge.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and float(svg.get("width", "0")) > 100
    assert f"MUST {must}/{must} · pass" in "".join(svg.itertext())
    assert run_badge(fault).color == "red" and run_badge(fault).message == f"MUST 0/{must} · fail"
    should = next(case for case in clean.cases if case.level == "SHOULD")
    softer = RunRecord.of(
        clean.info,
        [dataclasses.replace(case, outcome="failed") if case is should else case for case in clean.cases],
    )
    assert run_badge(softer).color == "yellow" and run_badge(softer).message.endswith("· pass")
    cut = RunRecord.of(dataclasses.replace(clean.info, complete=False), clean.cases[:-1])
    assert run_badge(cut).color == "red" and run_badge(cut).message.endswith("· fail (incomplete)")


def test_a_folded_group_has_a_badge_of_its_own(runs, tmp_path):
    # A feature with a folded group (multimodal's per-type cases) has two badges, not one written twice.
    clean = runs["clean"]
    folded = tuple(
        dataclasses.replace(case, id=f"{case.id}/folded", group="per-type")
        for case in clean.cases
        if case.protocol == "gemini"
    )
    files = write_badges(dataclasses.replace(clean, cases=clean.cases + folded), tmp_path)
    assert len(files) == len(set(files)), "two badges written to one file"
    grouped = json.loads((tmp_path / "badges" / "gemini-errors-per-type.json").read_text())
    assert grouped["label"] == "gemini errors (per-type)"
    assert json.loads((tmp_path / "badges" / "gemini-errors.json").read_text())["label"] == "gemini errors"


def test_every_run_writes_its_badges(runs):
    folder = Path(runs["fault"].source).parent
    assert (folder / "badge.svg").is_file() and (folder / "badge.json").is_file()
    assert sorted(path.name for path in (folder / "badges").iterdir()) == [
        "gemini-errors.json",
        "gemini-errors.svg",
        "openai-errors.json",
        "openai-errors.svg",
    ]


@needs_chromium
def test_chromium_renders_the_history(history_dir):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = history_dir / "history.html"
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<link\b|<script[^>]+src=|<img\b|@import|url\(", html), "external asset in the page"
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri(), profile=profile)
    assert dom.returncode == 0 and 'data-ready="1"' in dom.stdout, dom.stderr[-2000:]
    changes = len(re.findall(r'<tr class="case"', dom.stdout))
    assert changes > 5 and f"5 runs of 2 target(s); {changes} case change(s)" in dom.stdout
    assert len(re.findall(r"<polyline points=\"[^\"]+\"", dom.stdout)) >= 4, "a trend line per feature"
    with tempfile.TemporaryDirectory() as profile:
        shot = chromium(
            f"--screenshot={ARTIFACTS / 'history.png'}",
            "--window-size=1300,1000",
            page.as_uri(),
            profile=profile,
        )
    assert shot.returncode == 0 and (ARTIFACTS / "history.png").stat().st_size > 20_000, shot.stderr[-2000:]


@needs_chromium
@pytest.mark.parametrize(("kind", "channel"), [("clean", 1), ("fault", 0)])
def test_chromium_draws_the_badges(runs, tmp_path, kind, channel):
    from PIL import Image

    folder = Path(runs[kind].source).parent
    badges = [folder / "badge.svg", *sorted((folder / "badges").glob("*.svg"))]
    gallery = tmp_path / "badges.html"
    gallery.write_text(
        "<!DOCTYPE html><html><body>"
        + "".join(f'<p><img src="{badge.as_uri()}"></p>' for badge in badges)
        + "<script>addEventListener('load',function(){document.body.setAttribute('data-widths',"
        "[].map.call(document.images,function(i){return i.naturalWidth}).join(','))})</script></body></html>"
    )
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium("--virtual-time-budget=3000", "--dump-dom", gallery.as_uri(), profile=profile)
    widths = re.search(r'data-widths="([\d,]+)"', dom.stdout)
    assert widths, dom.stdout[-2000:]
    assert len(widths.group(1).split(",")) == len(badges) and all(
        int(w) > 60 for w in widths.group(1).split(",")
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"badge-{kind}.png"
    with tempfile.TemporaryDirectory() as profile:
        done = chromium(f"--screenshot={shot}", "--window-size=400,40", badges[0].as_uri(), profile=profile)
    assert done.returncode == 0, done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    width = int(float(ET.parse(badges[0]).getroot().get("width", "0")))
    pixel = image.getpixel((width - 4, 3))  # the message's background, above its text
    assert isinstance(pixel, tuple)
    assert pixel[channel] > 150 and pixel[channel] - min(pixel) > 80, f"{kind} badge drawn as {pixel}"
