"""Badges of a run, for vendors to publish: an SVG badge and its shields.io endpoint JSON.

``badge.svg`` / ``badge.json`` carry the MUST pass ratio and the gate (``MUST 248/248 · pass``); one more
pair per feature in ``badges/<protocol>-<feature>.svg`` / ``.json`` carries the feature's passed/judged,
coloured as the matrix colours its cell. The JSON is what ``https://img.shields.io/endpoint?url=...``
reads (``{"schemaVersion": 1, "label", "message", "color"}``); the SVG is the same badge drawn in the
flat style, with no external asset. Both are views of the run record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from conformance.report.html import environment
from conformance.report.matrix import cell_of
from conformance.report.records import RunRecord, feature_groups
from conformance.suite.model import NOT_JUDGED

Colour = Literal["brightgreen", "yellow", "red", "lightgrey"]
HEX: dict[Colour, str] = {
    "brightgreen": "#4c1",
    "yellow": "#dfb317",
    "red": "#e05d44",
    "lightgrey": "#9f9f9f",
}
OF_CELL: dict[str, Colour] = {"green": "brightgreen", "yellow": "yellow", "red": "red", "grey": "lightgrey"}

BADGE_SVG = "badge.svg"
BADGE_JSON = "badge.json"
BADGES_DIR = "badges"

_WIDTHS = (
    # Advance widths in pixels of the printable ASCII characters (space to ~) at 11 px in DejaVu Sans, whose
    # metrics are close to Verdana's (the badge's first font); measured once with Pillow.
    (3.5, 4.4, 5.1, 9.2, 7.0, 10.5, 8.6, 3.0, 4.3, 4.3, 5.5, 9.2, 3.5, 4.0, 3.5, 3.7, 7.0, 7.0, 7.0, 7.0)
    + (7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 3.7, 3.7, 9.2, 9.2, 9.2, 5.8, 11.0, 7.5, 7.5, 7.7, 8.5, 7.0, 6.3, 8.5)
    + (8.3, 3.2, 3.2, 7.2, 6.1, 9.5, 8.2, 8.7, 6.6, 8.7, 7.6, 7.0, 6.7, 8.1, 7.5, 10.9, 7.5, 6.7, 7.5, 4.3)
    + (3.7, 4.3, 9.2, 5.5, 5.5, 6.7, 7.0, 6.0, 7.0, 6.8, 3.9, 7.0, 7.0, 3.1, 3.1, 6.4, 3.1, 10.7, 7.0, 6.7)
    + (7.0, 7.0, 4.5, 5.7, 4.3, 7.0, 6.5, 9.0, 6.5, 6.5, 5.8, 7.0, 3.7, 7.0, 9.2)
)
_SYMBOLS = {"·": 3.5, "✗": 9.2}
_OTHER_WIDTH = 9.2
"""Any other character; the text is fitted to the estimate with ``textLength``, whatever the font."""
_PADDING = 6


def text_width(text: str) -> float:
    """The width of ``text`` at 11 px, estimated from per-character advance widths."""
    return sum(_WIDTHS[ord(c) - 32] if 32 <= ord(c) < 127 else _SYMBOLS.get(c, _OTHER_WIDTH) for c in text)


@dataclass(frozen=True)
class Badge:
    """A label, a message and a colour (a shields.io colour name)."""

    label: str
    message: str
    color: Colour

    def endpoint(self) -> dict[str, object]:
        """The shields.io endpoint JSON."""
        return {"schemaVersion": 1, "label": self.label, "message": self.message, "color": self.color}

    @property
    def hex(self) -> str:
        return HEX[self.color]

    @property
    def label_text(self) -> float:
        return round(text_width(self.label), 1)

    @property
    def message_text(self) -> float:
        return round(text_width(self.message), 1)

    @property
    def label_width(self) -> float:
        return round(self.label_text + 2 * _PADDING)

    @property
    def message_width(self) -> float:
        return round(self.message_text + 2 * _PADDING)

    @property
    def width(self) -> float:
        return self.label_width + self.message_width

    def svg(self) -> str:
        return environment().get_template("badge.svg.j2").render(badge=self) + "\n"


def run_badge(run: RunRecord) -> Badge:
    """The MUST pass ratio and the gate: red when the gate fails (an incomplete run fails it), yellow when it
    passes with SHOULD, flaky or baselined failures, else bright green."""
    must = run.summary.by_level["MUST"]
    judged = sum(count for outcome, count in must.items() if outcome not in NOT_JUDGED)
    gate = run.summary.gate
    message = f"MUST {must['passed']}/{judged} · {gate}"
    if not run.complete:
        message += " (incomplete)"
    if gate == "fail":
        colour: Colour = "red"
    elif any(case.broken for case in run.cases):
        colour = "yellow"
    else:
        colour = "brightgreen"
    label = f"{run.info.model} conformance"
    if run.info.mode == "strict":
        label += " (strict)"
    return Badge(label, message, colour)


def feature_badges(run: RunRecord) -> Iterator[tuple[str, Badge]]:
    """Each feature's badge, by file stem (``<protocol>-<feature>``, and ``-<group>`` for a folded group such
    as the per-type multimodal cases): passed/judged, the matrix's colours."""
    for group in feature_groups(run):
        cell = cell_of(group.cases)
        message = cell.text if not cell.judged else f"{cell.passed}/{cell.judged} passed"
        if cell.gate_broken:
            message += f" · MUST ✗{cell.gate_broken}"
        yield (
            group.anchor.removeprefix("f-"),
            Badge(f"{group.protocol} {group.label}", message, OF_CELL[cell.colour]),
        )


def _write(badge: Badge, stem: Path) -> list[Path]:
    svg, endpoint = stem.with_suffix(".svg"), stem.with_suffix(".json")
    svg.write_text(badge.svg(), encoding="utf-8")
    endpoint.write_text(json.dumps(badge.endpoint(), ensure_ascii=False) + "\n", encoding="utf-8")
    return [svg, endpoint]


def write_badges(run: RunRecord, out: Path) -> list[Path]:
    """``badge.svg`` and ``badge.json`` in ``out``, and each feature's pair in ``out/badges/``."""
    folder = out / BADGES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files = _write(run_badge(run), out / "badge")
    for stem, badge in feature_badges(run):
        files += _write(badge, folder / stem)
    return files
