"""The views of a run record, from typed records with every kind of verdict: JUnit, report.html, Markdown."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import unescape

import pytest

from conformance.engine.baseline import BaselineMark
from conformance.report.html import environment, feature_groups, write_report_html
from conformance.report.junit import junit_tree
from conformance.report.markdown import render_markdown
from conformance.report.matrix import build_matrix
from conformance.report.records import (
    CaseRecord,
    Evidence,
    ExchangeRecord,
    FailureRecord,
    RequestRecord,
    ResponseRecord,
    RunInfo,
    RunRecord,
    Timings,
)


def record(case_id: str, outcome: str, *, level: str = "MUST", breaks: bool = False, **extra) -> CaseRecord:
    return CaseRecord(
        id=case_id,
        protocol="gemini",
        feature=case_id.split("/")[1],
        level=level,  # type: ignore[arg-type]
        title=f"title of {case_id}",
        reference="https://ai.google.dev/api",
        outcome=outcome,  # type: ignore[arg-type]
        message=f"message <of> {case_id}",
        breaks_gate=breaks,
        duration_ms=12.6,
        **extra,
    )


EVIDENCE = Evidence(
    exchanges=(
        ExchangeRecord(
            0,
            RequestRecord(
                "POST",
                "http://gw/v1beta/models/m:generateContent?key=[REDACTED]",
                (("content-type", "application/json"),),
                '{"contents": []}\n{"second": "line"}',
                False,
            ),
            ResponseRecord(
                400,
                (("content-type", "application/json"),),
                '{\n  "error": {\n    "code": 400\n  }\n}',
                40,
                False,
            ),
            Timings(3.0, 7.5),
        ),
    ),
    failures=(FailureRecord(0, "status: 200", "expected HTTP 200, got 400", None),),
)

RUN = RunRecord.of(
    RunInfo(
        provider="gw",
        base_url="https://gw.example",
        model="gemini-2.5-flash",
        concurrency=4,
        started_at="2026-12-07T10:00:00.000Z",
        suite_version="0.1.0",
        finished_at="2026-12-07T10:00:01.000Z",
        duration_ms=1000,
        complete=False,
        interrupted="stopped by SIGINT",
        not_run=("gemini/never/ran",),
    ),
    [
        record("gemini/text/passed", "passed"),
        record("gemini/text/failed", "failed", breaks=True, evidence=EVIDENCE),
        record("gemini/text/errored", "errored", breaks=True),
        record("gemini/text/flaky", "flaky", level="SHOULD", rounds=("passed", "failed")),
        record("gemini/text/unsupported", "unsupported"),
        record("gemini/other/skipped", "skipped"),
        record(
            "gemini/other/baselined",
            "failed",
            baseline=BaselineMark("failed", "known", "https://x/1", "expected"),
        ),
        record(
            "gemini/other/fixed",
            "passed",
            breaks=True,
            baseline=BaselineMark("failed", "known", None, "unexpected-pass"),
        ),
    ],
)


def test_junit_marks_each_kind_of_verdict():
    suite = junit_tree(RUN).getroot()
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    kinds = {name: [child.tag for child in case if child.tag != "properties"] for name, case in cases.items()}
    assert kinds["gemini/text/passed"] == []
    assert kinds["gemini/text/failed"] == ["failure"] and kinds["gemini/text/flaky"] == ["failure"]
    assert kinds["gemini/text/errored"] == ["error"]
    assert kinds["gemini/text/unsupported"] == ["skipped"] and kinds["gemini/other/skipped"] == ["skipped"]
    assert cases["gemini/other/baselined"].find("skipped").get("type") == "xfail"
    assert cases["gemini/other/fixed"].find("failure").get("type") == "unexpected-pass"
    assert cases["gemini/never/ran"].find("error").get("type") == "not-run"
    assert all(case.get("time") == "0.013" for name, case in cases.items() if name != "gemini/never/ran")
    counts = tuple(suite.get(name) for name in ("tests", "failures", "errors", "skipped"))
    assert counts == ("9", "3", "2", "3")
    failure = cases["gemini/text/failed"].find("failure")
    assert "expected HTTP 200, got 400" in failure.text and '"code": 400' in failure.text
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["gate"] == "fail" and properties["complete"] == "false"


def test_report_html_shows_the_run_and_whole_evidence():
    html = (
        environment()
        .get_template("report.html.j2")
        .render(info=RUN.info, summary=RUN.summary, groups=feature_groups(RUN), billing=RUN.billing)
    )
    assert "INCOMPLETE RUN: stopped by SIGINT" in html and "<code>gemini/never/ran</code>" in html
    assert "<th>base URL</th><td>https://gw.example</td>" in html
    assert "message &lt;of&gt; gemini/text/failed" in html  # escaped
    assert '{"contents": []}\n{"second": "line"}' in unescape(html)  # every line of the request body
    assert '"error": {\n    "code": 400\n  }' in unescape(html)  # and of the response
    assert "content-type: application/json" in html
    assert html.count("13 ms</span>") == len(RUN.cases)


def test_markdown_says_the_run_is_incomplete_and_escapes_tables():
    text = render_markdown(build_matrix([RUN]))
    assert "**INCOMPLETE**: 1 case(s) never ran" in text
    assert "message <of> gemini/text/failed" in text  # Markdown is not HTML: the message stays readable


@pytest.mark.parametrize("case", RUN.cases, ids=lambda c: c.id)
def test_records_read_back_as_written(case):
    assert CaseRecord.from_json(case.to_json()) == case


def test_a_run_record_reads_back_as_written():
    again = RunRecord.from_json(RUN.to_json())
    assert again.cases == RUN.cases and again.info == RUN.info and again.summary == RUN.summary
    ET.fromstring(ET.tostring(junit_tree(RUN).getroot()))


def test_folded_groups_stand_apart_in_the_console_the_matrix_and_the_report(tmp_path):
    """The per-type multimodal cases fold into one row per protocol after the features, so that they do not
    drown the others; the matrix adds a total without them."""
    import io

    from conformance.report.console import Console

    cases = (
        record("gemini/multimodal/base64url", "failed", breaks=True),
        *(record(f"gemini/multimodal/inline-data/t{n}", "passed", group="per-type") for n in range(40)),
        record("gemini/text/basic", "passed"),
    )
    run = RunRecord.of(RUN.info, cases)
    assert CaseRecord.from_json(cases[1].to_json()).group == "per-type"
    buffer = io.StringIO()
    Console(buffer).features(run)
    lines = buffer.getvalue().splitlines()
    assert lines[-1].split() == [
        "gemini/multimodal",
        "(per-type,",
        "40",
        "cases)",
        "40",
        "0",
        "0",
        "0",
        "0",
        "0",
    ]
    assert lines[1].split()[:3] == ["gemini/multimodal", "0", "1"]
    matrix = build_matrix([run])
    assert [row.label for row in matrix.rows] == ["multimodal", "text", "multimodal (per-type)"]
    assert matrix.totals[0].text == "41/42" and matrix.ungrouped_totals is not None
    assert matrix.ungrouped_totals[0].text == "1/2"
    markdown = render_markdown(matrix)
    assert "| gemini | multimodal (per-type) |" in markdown and "all but the folded groups" in markdown
    groups = feature_groups(run)
    assert [(g.label, len(g.cases)) for g in groups][-1] == ("multimodal (per-type)", 40)
    write_report_html(run, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="f-gemini-multimodal-per-type"' in page and "gemini / multimodal (per-type) (40 cases" in page
