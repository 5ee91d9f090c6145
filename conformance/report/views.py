"""Writing every view of a run record: results.json, junit.xml, report.html, matrix.html, matrix.md and the
badges (badge.svg, badge.json and badges/)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conformance.report.badges import write_badges
from conformance.report.history import build_history, render_history_markdown
from conformance.report.html import write_history_html, write_matrix_html, write_report_html
from conformance.report.junit import write_junit
from conformance.report.markdown import render_markdown
from conformance.report.matrix import build_matrix
from conformance.report.records import RunRecord
from conformance.report.results import RESULTS_NAME, write_results

JUNIT_NAME = "junit.xml"
REPORT_NAME = "report.html"
MATRIX_HTML = "matrix.html"
MATRIX_MD = "matrix.md"
HISTORY_HTML = "history.html"
HISTORY_MD = "history.md"


def write_matrix(runs: Sequence[RunRecord], out: Path) -> tuple[Path, Path]:
    """``matrix.html`` and ``matrix.md`` of some runs in ``out``."""
    matrix = build_matrix(runs)
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / MATRIX_HTML, out / MATRIX_MD
    write_matrix_html(matrix, html_path)
    md_path.write_text(render_markdown(matrix), encoding="utf-8")
    return html_path, md_path


def write_history(runs: Sequence[RunRecord], out: Path) -> tuple[Path, Path]:
    """``history.html`` and ``history.md`` of many runs in ``out``."""
    history = build_history(runs)
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / HISTORY_HTML, out / HISTORY_MD
    write_history_html(history, html_path)
    md_path.write_text(render_history_markdown(history), encoding="utf-8")
    return html_path, md_path


def write_views(run: RunRecord, out: Path) -> list[Path]:
    """Every view of one run in ``out`` (its one-column matrix included); returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    write_results(run, out / RESULTS_NAME)
    write_junit(run, out / JUNIT_NAME)
    write_report_html(run, out / REPORT_NAME)
    matrix_paths = write_matrix([run], out)
    badges = write_badges(run, out)
    return [out / RESULTS_NAME, out / JUNIT_NAME, out / REPORT_NAME, *matrix_paths, *badges]
