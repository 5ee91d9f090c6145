"""``results.json``: the whole run record as one JSON document, built from the event log.

``read_run`` reads either form (``results.json`` or ``results.jsonl``, or a report directory holding
one), so every command that takes a run accepts both.
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance.errors import ConfigError
from conformance.report.log import LOG_NAME, read_log
from conformance.report.records import RunRecord
from conformance.validation.documents import validate_document

RESULTS_NAME = "results.json"
RESULTS_SCHEMA = "results.schema.json"


def write_results(run: RunRecord, path: Path) -> None:
    """Write ``results.json``. What is written is built from typed records, whose shape the project's tests
    check against the schema; what is read (``read_run``) is checked here. Validating a whole run as it is
    written cost 0.4-0.6 s per target, more than every other view together."""
    document = run.to_json()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def run_file(given: Path | str) -> Path:
    """The run record a path names: the file itself, or in a directory its log, else its results.json."""
    path = Path(given)
    if path.is_dir():
        log = path / LOG_NAME
        return log if log.is_file() else path / RESULTS_NAME
    return path


def _is_log_header(line: str) -> bool:
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(event, dict) and event.get("event") == "header"


def read_run(given: Path | str) -> RunRecord:
    """A run record from ``results.json``, ``results.jsonl`` or a directory of one; bad input: one line."""
    path = run_file(given)
    try:
        with path.open("r", encoding="utf-8") as file:
            first = file.readline()
    except FileNotFoundError:
        raise ConfigError("file not found", source=path) from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise ConfigError(f"not a run record: {exc}", source=path) from None
    if _is_log_header(first):
        return read_log(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not a results.json file: {exc}", source=path) from None
    validate_document(document, RESULTS_SCHEMA, path)
    return RunRecord.from_json(document, str(path))
