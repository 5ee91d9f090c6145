"""Every real recorded response body passes the response schemas (compat and strict mode).

The bodies come from ``shared/corpus/bodies`` (see its README.md and manifest.json). A body that fails
here is a bug in ``schemas/choices.yaml`` or ``tools/gen_schemas.py``, not in this test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.validation.store import SchemaStore, detect_schema

SHARED = Path(os.environ.get("CONFORMANCE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
BODIES = SHARED / "corpus" / "bodies"
MANIFEST = BODIES / "manifest.json"

# Schema of a successful body, by (protocol, endpoint); streams use the same per-chunk schema.
ENDPOINT_SCHEMAS: dict[tuple[str, str], str] = {
    ("gemini", "generateContent"): "gemini/GenerateContentResponse",
    ("gemini", "streamGenerateContent"): "gemini/GenerateContentResponse",
    ("gemini", "countTokens"): "gemini/CountTokensResponse",
    ("gemini", "models.list"): "gemini/ListModelsResponse",
    ("gemini", "models.get"): "gemini/Model",
    ("openai", "models.list"): "openai/ModelList",
}
MISSING_REQUIRED = "missing required property"


@dataclass(frozen=True)
class CorpusBody:
    """One entry of the corpus manifest: a recorded response body and what is known about it."""

    file: str
    protocol: str
    endpoint: str
    kind: str
    is_error: bool
    complete: bool
    note: str

    @property
    def path(self) -> Path:
        """Where the raw bytes are."""
        return BODIES / self.file

    def documents(self) -> Iterator[tuple[str, object]]:
        """Every JSON document of the body with a label: the body, each event, element or line."""
        text = self.path.read_bytes().decode("utf-8")
        if self.kind == "json":
            yield "body", json.loads(text)
        elif self.kind == "jsonarray":
            for index, element in enumerate(json.loads(text)):
                yield f"element {index}", element
        elif self.kind == "jsonl":
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    yield f"line {number}", json.loads(line)
        elif self.kind == "sse":
            for index, data in enumerate(_sse_data(text)):
                if data.strip() != "[DONE]":
                    yield f"event {index}", json.loads(data)
        else:
            raise ValueError(f"{self.file}: unknown kind {self.kind!r}")

    def expected_schema(self) -> str | None:
        """The schema the manifest implies, or None where only detection can tell."""
        if self.is_error:
            return f"{self.protocol}/Error"
        if self.protocol == "openai" and self.endpoint == "chat.completions":
            return "openai/ChatCompletionChunk" if self.kind in ("sse", "jsonl") else "openai/ChatCompletion"
        return ENDPOINT_SCHEMAS.get((self.protocol, self.endpoint))

    def not_a_response(self) -> str | None:
        """Why the body is no API response at all (a recorded side call), or None."""
        if "not an API response" in self.note:
            return f"{self.file} is not an API response: {self.note.split(';')[0]}"
        return None


def _sse_data(text: str) -> Iterator[str]:
    """The data of each server-sent event (lines joined), whatever the line endings."""
    for block in text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        lines = [line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")]
        if lines:
            yield "\n".join(lines)


def _load() -> list[CorpusBody]:
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [
        CorpusBody(
            file=entry["file"],
            protocol=entry["protocol"],
            endpoint=entry["endpoint"],
            kind=entry["kind"],
            is_error=entry["is_error"],
            complete=entry.get("complete", True),
            note=entry.get("note") or "",
        )
        for entry in entries
    ]


def _params() -> list[object]:
    if not MANIFEST.is_file():
        reason = f"corpus manifest not found at {MANIFEST} (set CONFORMANCE_SHARED to the shared/ folder)"
        return [pytest.param(None, id="corpus-absent", marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(body, id=body.file) for body in _load()]


PARAMS = _params()


@pytest.fixture(scope="module")
def store() -> SchemaStore:
    """The schema store over the repository's schemas/."""
    return SchemaStore.load()


def _failures(store: SchemaStore, body: CorpusBody, *, strict: bool) -> list[str]:
    """Every violation of every document of ``body``, as ``<label> <pointer>: <message>`` lines."""
    if (reason := body.not_a_response()) is not None:
        pytest.skip(reason)
    failures: list[str] = []
    expected = body.expected_schema()
    for label, document in body.documents():
        name = expected or detect_schema(document)
        if name is None:
            failures.append(f"{label}: no schema applies (endpoint {body.endpoint!r}, detection found none)")
            continue
        for violation in store.validate(name, document, strict=strict):
            # An incomplete body is a fragment quoted in an issue: the manifest says fields are missing,
            # so only the fields that are there are checked.
            if not body.complete and violation.message.startswith(MISSING_REQUIRED):
                continue
            failures.append(f"{label} ({name}) {violation.pointer or '<root>'}: {violation.message}")
    return failures


@pytest.mark.parametrize("body", PARAMS)
def test_body_matches_schema(store: SchemaStore, body: CorpusBody) -> None:
    failures = _failures(store, body, strict=False)
    assert not failures, f"{body.file} breaks its schema:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("body", PARAMS)
def test_body_matches_schema_strict(store: SchemaStore, body: CorpusBody) -> None:
    failures = _failures(store, body, strict=True)
    assert not failures, f"{body.file} breaks its schema in strict mode:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("body", PARAMS)
def test_detect_schema_agrees_with_manifest(body: CorpusBody) -> None:
    if (reason := body.not_a_response()) is not None:
        assert all(detect_schema(document) is None for _, document in body.documents())
        pytest.skip(reason)
    expected = body.expected_schema()
    for label, document in body.documents():
        detected = detect_schema(document)
        assert detected is not None, f"{body.file} {label}: no schema detected"
        if expected is not None:
            assert detected == expected, (
                f"{body.file} {label}: detected {detected}, manifest implies {expected}"
            )
