"""The Markdown twin of the matrix, for CI step summaries and pull-request comments."""

from __future__ import annotations

from conformance.report.matrix import Cell, Matrix

ICONS = {"green": "✅", "yellow": "⚠️", "red": "❌", "grey": "➖"}
MAX_LISTED = 60


def escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _cell(cell: Cell) -> str:
    text = f"{ICONS[cell.colour]} {cell.text}"
    if cell.gate_broken:
        text += f" **MUST ✗{cell.gate_broken}**"
    if cell.flaky:
        text += f" flaky {cell.flaky}"
    if cell.expected:
        text += f" (baselined {cell.expected})"
    if cell.forwarded:
        text += f" forwarded wrongly {cell.forwarded}"
    return text


def render_markdown(matrix: Matrix) -> str:
    """Features by runs (passed/judged, gate failures in bold), then the cases that broke or differ."""
    labels = [column.label for column in matrix.columns]
    lines = ["## Gateway conformance", ""]
    for column, total in zip(matrix.columns, matrix.totals, strict=True):
        info = column.run.info
        state = "" if info.complete else f" **INCOMPLETE**: {len(info.not_run)} case(s) never ran"
        two_sided = f", upstream {escape(info.upstream.base_url)}" if info.upstream is not None else ""
        lines.append(
            f"- **{escape(column.label)}**: gate {column.run.summary.gate.upper()},"
            f" {total.passed}/{total.judged} passed"
            f" ({info.mode} mode, model `{escape(info.model)}`{two_sided}, {info.finished_at}){state}"
        )
    lines += [
        "",
        "| protocol | feature | " + " | ".join(escape(label) for label in labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for row in matrix.rows:
        cells = " | ".join(_cell(cell) for cell in row.cells)
        lines.append(f"| {row.protocol} | {escape(row.label)} | {cells} |")
    if matrix.ungrouped_totals is not None:
        lines.append(
            "| **all but the folded groups** | | "
            + " | ".join(_cell(cell) for cell in matrix.ungrouped_totals)
            + " |"
        )
    lines.append("| **all** | | " + " | ".join(_cell(cell) for cell in matrix.totals) + " |")
    if matrix.billing:
        lines += [
            "",
            "### Billing audit",
            "",
            "Billed count / the same thing counted another way (the ratio farthest from 1), and the verdict"
            " against the invariant's tolerance.",
            "",
            "| invariant | tolerance | " + " | ".join(escape(label) for label in labels) + " |",
            "|---|---|" + "---|" * len(labels),
        ]
        for bill in matrix.billing:
            cells = " | ".join(f"{ICONS[cell.colour]} {cell.text}" for cell in bill.cells)
            lines.append(f"| {escape(bill.invariant)} | {escape(bill.tolerance)} | {cells} |")
    notable = [case for row in matrix.rows for case in row.cases if case.notable]
    if notable:
        lines += ["", "### Cases that broke or differ", ""]
        for case in notable[:MAX_LISTED]:
            parts = []
            for label, record in zip(labels, case.records, strict=True):
                if record is None:
                    parts.append(f"{escape(label)}: absent")
                elif record.outcome == "passed" and not record.breaks_gate:
                    parts.append(f"{escape(label)}: passed")
                else:
                    mark = " (baselined)" if record.expected_failure else ""
                    mark += " (forwarded wrongly)" if record.forwarded_wrongly else ""
                    parts.append(
                        f"{escape(label)}: **{record.outcome}**{mark}: {escape(record.message[:160])}"
                    )
            lines.append(f"- `{case.id}` [{case.level}]: " + "; ".join(parts))
        if len(notable) > MAX_LISTED:
            lines.append(f"- ... and {len(notable) - MAX_LISTED} more (see matrix.html)")
    lines.append("")
    return "\n".join(lines)
