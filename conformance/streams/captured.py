"""A captured stream file judged: its framing and each event against a schema (``conformance validate``)."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.streams.framing import SseDialect, array_problems, sse_problems
from conformance.streams.view import StreamKind, StreamView, view_of
from conformance.validation.store import SchemaStore, detect_schema
from conformance.wire.exchange import Exchange, SentRequest

_CAPTURE = SentRequest("POST", "file:///captured", (), b"")


@dataclass(frozen=True)
class StreamReport:
    """What a captured stream looks like and everything wrong with it, one line each."""

    kind: StreamKind
    events: int
    schema: str | None
    dialect: SseDialect | None
    problems: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def summary(self) -> str:
        """One line: kind, event count, schema and verdict."""
        noun = "event" if self.kind == "sse" else "element"
        what = f"{self.kind} stream of {self.events} {noun}(s)"
        if self.dialect:
            what += f", {self.dialect} framing"
        verdict = "valid" if not self.problems else f"{len(self.problems)} problem(s)"
        return f"{what}, {self.schema or 'no schema'}: {verdict}"


def validate_stream(
    data: bytes, kind: StreamKind, store: SchemaStore, *, schema: str | None = None, strict: bool = False
) -> StreamReport:
    """Decode a captured stream, judge its framing and validate each event's JSON.

    The schema is ``schema`` or the one detected from the first JSON event; an SSE stream of
    OpenAI chunks is judged by OpenAI's framing, any other by Google's.
    """
    view = view_of(Exchange(request=_CAPTURE, status=200, body=data), kind)
    items = view.json_items
    name = schema or (detect_schema(items[0].value) if items else None)
    dialect: SseDialect | None = None
    if kind == "sse":
        dialect = "openai" if name is not None and name.startswith("openai/") else "gemini"
        problems = sse_problems(view, data, dialect, strict=strict)
    else:
        problems = array_problems(view, data, strict=strict)
    problems += _schema_problems(view, store, name, strict)
    facts = [f"{f.message} [{f.code}]" for f in view.findings]
    notes = [fact for fact in facts if not any(problem.startswith(fact) for problem in problems)]
    return StreamReport(kind, len(view.items), name, dialect, tuple(problems), tuple(notes))


def _schema_problems(view: StreamView, store: SchemaStore, name: str | None, strict: bool) -> list[str]:
    if name is None:
        return []
    problems = []
    for item in view.json_items:
        for violation in store.validate(name, item.value, strict=strict):
            problems.append(f"{view.where(item)}: {violation.pointer or '/'}: {violation.message}")
    return problems
