"""The Markdown summary of a compatibility matrix, for CI step summaries and pull-request comments."""

from __future__ import annotations

from conformance.report.matrix import Cell, Matrix

ICONS = {"green": "✅", "yellow": "⚠️", "red": "❌", "grey": "➖"}
MAX_LISTED = 60


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _cell(cell: Cell) -> str:
    text = f"{ICONS[cell.colour]} {cell.text}"
    if cell.must_broken:
        text += f" **MUST ✗{cell.must_broken}**"
    if cell.flaky:
        text += f" flaky {cell.flaky}"
    if cell.expected:
        text += f" (baselined {cell.expected})"
    return text


def render_markdown(matrix: Matrix) -> str:
    """A table of features by providers (passed/judged, MUST failures in bold), then the cases that broke or differ."""
    labels = [column.label for column in matrix.columns]
    lines = ["## Gateway conformance", ""]
    for column, total in zip(matrix.columns, matrix.totals, strict=True):
        run = column.run
        gate = column.document["summary"]["gate"].upper()
        lines.append(
            f"- **{_escape(column.label)}**: gate {gate}, {total.passed}/{total.judged} passed"
            f" ({run['mode']} mode, model `{_escape(run['model'])}`, {run['finished_at']})"
        )
    lines += [
        "",
        "| protocol | feature | " + " | ".join(_escape(label) for label in labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for row in matrix.rows:
        lines.append(
            f"| {row.protocol} | {row.feature} | " + " | ".join(_cell(cell) for cell in row.cells) + " |"
        )
    lines.append("| **all** | | " + " | ".join(_cell(cell) for cell in matrix.totals) + " |")
    notable = [
        case
        for row in matrix.rows
        for case in row.cases
        if case.differs or any(r and r["outcome"] in ("failed", "errored", "flaky") for r in case.records)
    ]
    if notable:
        lines += ["", "### Cases that broke or differ", ""]
        for case in notable[:MAX_LISTED]:
            parts = []
            for label, record in zip(labels, case.records, strict=True):
                if record is None:
                    parts.append(f"{_escape(label)}: absent")
                elif record["outcome"] == "passed":
                    parts.append(f"{_escape(label)}: passed")
                else:
                    mark = (
                        " (baselined)" if (record.get("baseline") or {}).get("status") == "expected" else ""
                    )
                    parts.append(
                        f"{_escape(label)}: **{record['outcome']}**{mark}: {_escape(record['message'][:160])}"
                    )
            lines.append(f"- `{case.id}` [{case.level}]: " + "; ".join(parts))
        if len(notable) > MAX_LISTED:
            lines.append(f"- ... and {len(notable) - MAX_LISTED} more (see matrix.html)")
    lines.append("")
    return "\n".join(lines)
