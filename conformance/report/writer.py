"""Writing the matrix reports (matrix.html and matrix.md) of one or more run records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.report.markdown import render_markdown
from conformance.report.matrix import build_matrix
from conformance.report.matrix_html import render_html


def write_matrix(documents: list[dict[str, Any]], out: Path) -> tuple[Path, Path]:
    """Write ``matrix.html`` and ``matrix.md`` of the runs into ``out``; return both paths."""
    matrix = build_matrix(documents)
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / "matrix.html", out / "matrix.md"
    html_path.write_text(render_html(matrix), encoding="utf-8")
    md_path.write_text(render_markdown(matrix), encoding="utf-8")
    return html_path, md_path
