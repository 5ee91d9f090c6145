"""The event log of a run (``results.jsonl``): the run record written while the run goes on.

One JSON object per line, flushed as it is written, each checked by ``schemas/results-log.schema.json``:

1. ``{"event": "header", "format": ..., "format_version": 1, "run": {...}, "plan": [case ids]}``, before
   anything is sent: what the run is pointed at and every case it means to judge, in suite order;
2. ``{"event": "case", "case": {...}}`` for each case, as soon as its verdict is known, in the order
   verdicts arrive;
3. ``{"event": "footer", "finished_at": ..., "duration_ms": ..., "complete": true|false,
   "interrupted": null|"why", "summary": {...}}`` last; a two-sided run's footer also holds ``upstream``
   (the requests that reached the suite's upstream, and those no case accounts for).

A run that is killed leaves a log without a footer, perhaps with a cut last line; ``read_log`` reads
it as an incomplete run and names the cases that never ran. Every report is built from this file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from conformance.errors import ConfigError
from conformance.report.records import CaseRecord, RunInfo, RunRecord, Summary, UpstreamInfo, iso, parse_iso
from conformance.validation.documents import validate_document

LOG_FORMAT = "gateway-conformance/results-log"
LOG_FORMAT_VERSION = 1
LOG_NAME = "results.jsonl"
LOG_SCHEMA = "results-log.schema.json"


def _line(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"


class EventLog:
    """Appends a run's events to ``results.jsonl``; keeps only each case's verdict, not its evidence."""

    def __init__(self, path: Path, info: RunInfo, plan: Sequence[str]) -> None:
        self.path = path
        self.info = info
        self.plan = tuple(plan)
        self.verdicts: list[CaseRecord] = []
        """Each written case's record without its evidence, for summaries and the console."""
        self.offsets: dict[str, int] = {}
        """Where each case's line starts in the file."""
        self.footer: dict[str, Any] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n")
        header = {
            "event": "header",
            "format": LOG_FORMAT,
            "format_version": LOG_FORMAT_VERSION,
            "run": replace(info, complete=False).to_json(),
            "plan": list(self.plan),
        }
        self._write(header)

    def _write(self, event: dict[str, Any]) -> int:
        offset = self._file.tell()
        self._file.write(_line(event))
        self._file.flush()
        return offset

    def append(self, record: CaseRecord) -> None:
        """Write one case's record; only its verdict stays in memory."""
        self.offsets[record.id] = self._write({"event": "case", "case": record.to_json()})
        self.verdicts.append(replace(record, evidence=None))

    def close(
        self,
        finished_at: str,
        duration_ms: float,
        interrupted: str | None = None,
        upstream: UpstreamInfo | None = None,
    ) -> Summary:
        """Write the footer and close the file; the run is complete when every planned case was written."""
        written = set(self.offsets)
        complete = interrupted is None and all(case_id in written for case_id in self.plan)
        summary = Summary.of(self.verdicts, complete)
        self.footer = {
            "event": "footer",
            "finished_at": finished_at,
            "duration_ms": round(duration_ms, 3),
            "complete": complete,
            "interrupted": interrupted,
            "summary": summary.to_json(),
        }
        if upstream is not None:
            self.footer["upstream"] = upstream.to_json()
        self._write(self.footer)
        self._file.close()
        return summary

    def read_case(self, case_id: str) -> CaseRecord | None:
        """A written case's whole record, read back from the file."""
        offset = self.offsets.get(case_id)
        if offset is None:
            return None
        with self.path.open("r", encoding="utf-8") as file:
            file.seek(offset)
            return CaseRecord.from_json(json.loads(file.readline())["case"])


def _events(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, event) of each line; a cut last line of a killed run is left out."""
    with path.open("r", encoding="utf-8") as file:
        previous: tuple[int, str] | None = None
        for number, line in enumerate(file, start=1):
            if previous is not None:
                yield previous[0], _decode(path, previous[0], previous[1])
            previous = (number, line)
        if previous is not None:
            number, line = previous
            try:
                yield number, _decode(path, number, line)
            except ConfigError:
                if line.endswith("\n"):
                    raise


def _decode(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not a JSON line: {exc.msg}", source=path, field=f"line {number}") from None
    if not isinstance(event, dict):
        raise ConfigError("not a JSON object", source=path, field=f"line {number}")
    return event


def read_log(path: Path, validate_cases: bool = True) -> RunRecord:
    """The run record of an event log, complete or not; cases are in plan order.

    Every line is checked against the log's schema; ``validate_cases=False`` skips the case lines (for a
    log this process has just written, whose records the results.json schema checks again).
    """
    try:
        events = list(_events(path))
    except FileNotFoundError:
        raise ConfigError("file not found", source=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", source=path) from None
    if not events or events[0][1].get("event") != "header":
        raise ConfigError("not an event log of a run: the first line is no header", source=path)
    for number, event in events:
        if validate_cases or event.get("event") != "case":
            validate_document(event, LOG_SCHEMA, f"{path}: line {number}")
    header = events[0][1]
    info = RunInfo.from_json(header["run"])
    plan: list[str] = header["plan"]
    cases: dict[str, CaseRecord] = {}
    footer: dict[str, Any] | None = None
    for number, event in events[1:]:
        kind = event["event"]
        if kind == "case":
            record = CaseRecord.from_json(event["case"])
            cases[record.id] = record
        elif kind == "footer":
            footer = event
        else:
            raise ConfigError(f"a second {kind} event", source=path, field=f"line {number}")
    order = {case_id: n for n, case_id in enumerate(plan)}
    ordered = sorted(cases.values(), key=lambda c: order.get(c.id, len(order)))
    not_run = tuple(case_id for case_id in plan if case_id not in cases)
    if footer is None:
        last_write = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        info = replace(
            info,
            finished_at=iso(last_write),
            duration_ms=max(0.0, (last_write - parse_iso(info.started_at)).total_seconds() * 1000),
            complete=False,
            interrupted="the log has no footer: the run was killed before it could finish",
            not_run=not_run,
        )
    else:
        complete = bool(footer["complete"]) and not not_run
        info = replace(
            info,
            finished_at=footer["finished_at"],
            duration_ms=footer["duration_ms"],
            complete=complete,
            interrupted=footer.get("interrupted"),
            not_run=not_run,
            upstream=UpstreamInfo.from_json(footer["upstream"]) if footer.get("upstream") else info.upstream,
        )
    return RunRecord.of(info, ordered, str(path))
