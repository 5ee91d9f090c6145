"""The HTML views: ``report.html`` of one run, ``matrix.html`` and ``history.html`` of several, from jinja2
templates.

Both pages are self-contained (inline CSS and JavaScript, no external asset) and work offline from a
file. Templates live in ``conformance/report/templates`` and every value is escaped by jinja2.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from conformance.report.history import History
from conformance.report.matrix import Matrix
from conformance.report.records import RunRecord, feature_groups

BODY_SHOWN = 8 * 1024
"""Bytes of a body shown in a page (the run record keeps up to 16 KiB)."""


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("conformance.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(zip=zip, body_shown=BODY_SHOWN)
    return env


def _write(chunks: Iterator[str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as file:
        for chunk in chunks:
            file.write(chunk)
        file.write("\n")


def render_matrix(matrix: Matrix) -> str:
    """``matrix.html`` as a string."""
    return environment().get_template("matrix.html.j2").render(matrix=matrix)


def write_matrix_html(matrix: Matrix, path: Path) -> None:
    _write(environment().get_template("matrix.html.j2").generate(matrix=matrix), path)


def write_history_html(history: History, path: Path) -> None:
    """``history.html``: the trend of every target's runs."""
    _write(environment().get_template("history.html.j2").generate(history=history), path)


def write_report_html(run: RunRecord, path: Path) -> None:
    """``report.html`` of one run, written as it is rendered."""
    template = environment().get_template("report.html.j2")
    groups = feature_groups(run)
    _write(template.generate(info=run.info, summary=run.summary, groups=groups, billing=run.billing), path)
