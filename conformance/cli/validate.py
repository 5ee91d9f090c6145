"""``conformance validate``: a body or stream you captured, judged by the suite's schemas and framing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conformance.cli.help import Help, Subcommands
from conformance.errors import ConfigError
from conformance.streams.view import StreamKind, sniff_bytes
from conformance.validation.store import SchemaStore, detect_schema

HELP = Help(
    summary="check a captured response body or stream against the suite's schemas",
    examples=(
        ("conformance validate answer.json", "a JSON body, its schema detected"),
        (
            "conformance validate stream.sse --strict",
            "a captured SSE stream, byte-faithful to Google's framing",
        ),
        ("conformance validate error.json --schema gemini/Error", "a body against a named schema"),
    ),
    exit_codes=(
        ("0", "valid"),
        ("1", "the body breaks its schema or the stream its framing (each problem printed)"),
        ("2", "the file cannot be read, is neither JSON nor a stream, or the schema name is unknown"),
    ),
)


def add_parser(commands: Subcommands) -> None:
    parser = HELP.parser(commands, "validate")
    parser.add_argument(
        "file", help="the captured body: JSON, an SSE stream (.sse) or a JSON-array stream (.jsonarray)"
    )
    parser.add_argument(
        "--schema",
        metavar="NAME",
        help="schema name, e.g. gemini/GenerateContentResponse (default: detected)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="no fields beyond the spec; Google's exact framing"
    )


def _schema_name(store: SchemaStore, name: str, path: Path) -> str:
    if name not in store.names():
        known = ", ".join(store.names())
        raise ConfigError(f"unknown schema {name!r}; one of: {known}", source=path, field="--schema")
    return name


def _stream_kind(path: Path, data: bytes, document: object) -> StreamKind | None:
    """A captured stream by extension (.sse, .jsonarray) or by content: a JSON array, or SSE lines."""
    by_suffix: dict[str, StreamKind] = {".sse": "sse", ".jsonarray": "json-array"}
    if path.suffix.lower() in by_suffix:
        return by_suffix[path.suffix.lower()]
    if isinstance(document, list):
        return "json-array"
    return sniff_bytes(data) if isinstance(document, Exception) else None


def command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=path) from None
    store = SchemaStore.load()
    schema = _schema_name(store, args.schema, path) if args.schema else None
    document: object
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        document = exc
    kind = _stream_kind(path, data, document)
    if kind is not None:
        return _stream(path, data, kind, store, schema, args.strict)
    if isinstance(document, Exception):
        raise ConfigError(f"not a JSON body or a stream: {document}", source=path)
    name = schema or detect_schema(document)
    if name is None:
        raise ConfigError("cannot tell which schema applies; pass --schema", source=path)
    violations = store.validate(name, document, strict=args.strict)
    for violation in violations:
        print(f"{path}: {violation.pointer or '/'}: {violation.message}")
    print(f"{path}: {name}: {'valid' if not violations else f'{len(violations)} violation(s)'}")
    return 0 if not violations else 1


def _stream(
    path: Path, data: bytes, kind: StreamKind, store: SchemaStore, schema: str | None, strict: bool
) -> int:
    from conformance.streams.captured import validate_stream

    report = validate_stream(data, kind, store, schema=schema, strict=strict)
    for note in report.notes:
        print(f"{path}: note: {note}")
    for problem in report.problems:
        print(f"{path}: {problem}")
    print(f"{path}: {report.summary}")
    return 0 if not report.problems else 1
