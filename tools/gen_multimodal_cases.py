"""Writer of the per-MIME-type multimodal case files, one case block per sample in media/manifest.yaml.

The 32 documented types x (Gemini ``inline_data``, Gemini ``inlineData``, OpenAI ``image_url`` data URI)
x (MUST accepted, SHOULD reaches the model, and for Gemini SHOULD modality) are repetitive, so they are
written by this script and committed as plain case data; nothing is generated at run time. Edit this
script, not the output files:

    python tools/gen_multimodal_cases.py           # rewrite the three files
    python tools/gen_multimodal_cases.py --check   # exit 1 if a committed file differs from the output
"""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "conformance" / "suite" / "media" / "manifest.yaml"
HEADER = (
    "# Written by tools/gen_multimodal_cases.py from media/manifest.yaml; edit the script, not this file.\n"
)

# What to call the medium in a prompt, and where Google documents the family's supported types.
NOUNS = {
    "image": "image",
    "audio": "audio clip",
    "video": "video",
    "document": "PDF document",
    "text": "file",
}
VERBS = {
    "image": "written in",
    "audio": "spoken in",
    "video": "named in",
    "document": "written in",
    "text": "named in",
}
DOCS = {
    "image": "https://ai.google.dev/gemini-api/docs/image-understanding#supported-formats",
    "audio": "https://ai.google.dev/gemini-api/docs/audio#supported-formats",
    "video": "https://ai.google.dev/gemini-api/docs/video-understanding#supported-formats",
    "document": "https://ai.google.dev/gemini-api/docs/document-processing",
    "text": "https://ai.google.dev/gemini-api/docs/document-processing",
}
OPENAI_DOCS = "https://ai.google.dev/gemini-api/docs/openai#image-understanding"
REPEAT = "{repeat: 3, require: 2}"


@dataclass(frozen=True)
class Sample:
    """One manifest entry, as the cases need it."""

    mime_type: str
    family: str
    modality: str
    word: str

    @property
    def slug(self) -> str:
        return self.mime_type.replace("/", "-")

    @property
    def question(self) -> str:
        medium = f"{VERBS[self.family]} this {NOUNS[self.family]}"
        return f"Which fruit is {medium}? Answer with the fruit's name only."


@dataclass(frozen=True)
class Spelling:
    """How a native request names the inline part: snake_case or lowerCamelCase."""

    segment: str
    blob: str
    mime: str
    label: str


SNAKE = Spelling("inline-data", "inline_data", "mime_type", "inline_data (snake_case)")
CAMEL = Spelling("inline-data-camel", "inlineData", "mimeType", "inlineData (camelCase)")


def load_samples() -> list[Sample]:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return [Sample(e["mime_type"], e["family"], e["modality"], e["word"]) for e in manifest["files"]]


def _q(text: str) -> str:
    """A double-quoted YAML scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gemini_file(samples: list[Sample], spelling: Spelling) -> str:
    out = [
        HEADER,
        "protocol: gemini\n",
        "feature: multimodal\n",
        "reference: https://ai.google.dev/api/caching#Blob\n",
        f"description: Every documented media type sent as {spelling.label} with a real sample"
        " (media/), and what the answer shows of it.\n",
        "group: per-type\n",
        "cases:\n",
    ]
    for s in samples:
        base = f"gemini/multimodal/{spelling.segment}/{s.slug}"
        part = f"{{{spelling.blob}: {{{spelling.mime}: {s.mime_type}, data: {{$media: {s.mime_type}}}}}}}"
        body = f"{{contents: [{{role: user, parts: [{part}, {{text: {_q(s.question)}}}]}}]}}"
        bugs = "[F27, F34]" if spelling is SNAKE else "[F34]"
        out.append(
            f"""
  - id: {base}
    level: MUST
    title: {s.mime_type} sent as {spelling.label} is accepted with a schema-valid GenerateContentResponse
    reference: {DOCS[s.family]}
    bug_classes: {bugs}
    request:
      path: /models/{{model}}:generateContent
      body: {body}
    expect:
      - status: 200
      - content_type: application/json
      - schema: gemini/GenerateContentResponse
      - text: {{length: {{min: 1}}}}

  - id: {base}/reaches-model
    level: SHOULD
    title: the {s.mime_type} {NOUNS[s.family]} reaches the model, which names the fruit it carries ({s.word})
    reference: {DOCS[s.family]}
    bug_classes: [F35]
    policy: {REPEAT}
    request:
      path: /models/{{model}}:generateContent
      body: {body}
    expect:
      - status: 200
      - schema: gemini/GenerateContentResponse
      - text: {{matches: "(?i){s.word.lower()}"}}

  - id: {base}/modality
    level: SHOULD
    title: promptTokensDetails, where reported, counts the {s.mime_type} part as {s.modality}
    reference: https://ai.google.dev/api/generate-content#UsageMetadata
    bug_classes: [F34]
    request:
      path: /models/{{model}}:generateContent
      body: {body}
    expect:
      - status: 200
      - schema: gemini/GenerateContentResponse
      - any_of:
          - [{{json: {{at: /usageMetadata/promptTokensDetails, exists: false}}}}]
          - - json: {{at: /usageMetadata/promptTokensDetails/*/modality, some: true, equals: {s.modality}}}
"""
        )
    return "".join(out)


def openai_file(samples: list[Sample]) -> str:
    out = [
        HEADER,
        "protocol: openai\n",
        "feature: multimodal\n",
        f"reference: {OPENAI_DOCS}\n",
        "description: Every documented media type sent as an image_url base64 data URI with a real sample"
        " (media/), and what the answer shows of it.\n",
        "group: per-type\n",
        "cases:\n",
    ]
    for s in samples:
        base = f"openai/multimodal/image-url/{s.slug}"
        content = (
            f"[{{type: image_url, image_url: {{url: {{$media: {s.mime_type}, as: data-uri}}}}}}, "
            f"{{type: text, text: {_q(s.question)}}}]"
        )
        body = f'{{model: "{{model}}", messages: [{{role: user, content: {content}}}]}}'
        out.append(
            f"""
  - id: {base}
    level: MUST
    title: {s.mime_type} sent as an image_url data URI is accepted with a schema-valid chat.completion
    bug_classes: [F34]
    request:
      path: /chat/completions
      body: {body}
    expect:
      - status: 200
      - content_type: application/json
      - schema: openai/ChatCompletion
      - text: {{length: {{min: 1}}}}

  - id: {base}/reaches-model
    level: SHOULD
    title: the {s.mime_type} {NOUNS[s.family]} reaches the model, which names the fruit it carries ({s.word})
    bug_classes: [F35]
    policy: {REPEAT}
    request:
      path: /chat/completions
      body: {body}
    expect:
      - status: 200
      - schema: openai/ChatCompletion
      - text: {{matches: "(?i){s.word.lower()}"}}
"""
        )
    return "".join(out)


def outputs() -> dict[Path, str]:
    samples = load_samples()
    return {
        REPO / "conformance" / "suite" / "cases" / "gemini" / "multimodal-inline-data.yaml": gemini_file(
            samples, SNAKE
        ),
        REPO
        / "conformance"
        / "suite"
        / "cases"
        / "gemini"
        / "multimodal-inline-data-camel.yaml": gemini_file(samples, CAMEL),
        REPO / "conformance" / "suite" / "cases" / "openai" / "multimodal-image-url.yaml": openai_file(
            samples
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="report drift instead of writing; exit 1 on drift"
    )
    args = parser.parse_args(argv)
    drift = False
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if args.check:
            if current != text:
                drift = True
                diff = difflib.unified_diff(
                    current.splitlines(), text.splitlines(), str(path), "generated", lineterm="", n=1
                )
                print("\n".join(list(diff)[:40]))
        elif current != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    if drift:
        print(
            "error: case files differ from tools/gen_multimodal_cases.py output; run it without --check",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
