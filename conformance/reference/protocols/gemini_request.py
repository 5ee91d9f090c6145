"""The native request model: Google's field tables, proto-JSON parsing and validation.

Every field is accepted under its lowerCamelCase JSON name and under its snake_case proto name,
in any mix, as Google's proto-JSON parser does; a repeated message field given one object instead of a
list is that one object (Google's own examples send ``"contents": {"parts": {"text": ...}}``). Parsing yields
the request with canonical (camelCase) keys; a request that Google would refuse raises a 400
INVALID_ARGUMENT whose message names the field as Google does ("Invalid JSON payload received. Unknown
name ...", "Invalid value at '...' (TYPE_...)", "* GenerateContentRequest.contents: contents is not
specified").

Only the messages that the reference models are checked field by field (the request itself,
Content, Part, Blob, FileData, FunctionCall, FunctionResponse, GenerationConfig, ThinkingConfig,
SafetySetting, CachedContent); tools, toolConfig, schemas and other free-form values are accepted as JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

from conformance.reference.model.engine import Media, Prompt, Role, Sampling, Turn
from conformance.reference.protocols.errors import ProtocolError, invalid_argument
from conformance.reference.protocols.media_input import MediaError, read_native_part

Kind = Literal["string", "int", "number", "bool", "bytes", "enum", "message", "struct", "value"]

API_PACKAGE = "google.ai.generativelanguage.v1beta"
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_STOP_SEQUENCES = 5
PENALTY_RANGE = (-2.0, 2.0)
# What an image, video or document part counts at each mediaResolution (unset: the highest).
RESOLUTION_TOKENS: dict[str, int] = {
    "MEDIA_RESOLUTION_LOW": 64,
    "MEDIA_RESOLUTION_MEDIUM": 256,
    "MEDIA_RESOLUTION_HIGH": 258,
}
RESPONSE_MIME_TYPES: tuple[str, ...] = ("text/plain", "application/json", "text/x.enum")
RESPONSE_MODALITIES: tuple[str, ...] = ("TEXT", "IMAGE", "AUDIO")
PART_DATA_FIELDS: tuple[str, ...] = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "toolCall",
    "toolResponse",
)


@dataclass(frozen=True)
class FieldSpec:
    """How one field of a message is read: its kind, whether it repeats, and its type name."""

    kind: Kind
    repeated: bool = False
    type_name: str = ""
    values: tuple[str, ...] = ()


def _message(type_name: str, repeated: bool = False) -> FieldSpec:
    return FieldSpec("message", repeated, type_name)


def _enum(type_name: str, *values: str) -> FieldSpec:
    return FieldSpec("enum", False, type_name, values)


STRING = FieldSpec("string")
INT = FieldSpec("int")
NUMBER = FieldSpec("number")
BOOL = FieldSpec("bool")
BYTES = FieldSpec("bytes")
STRUCT = FieldSpec("struct")
VALUE = FieldSpec("value")

HARM_CATEGORIES: tuple[str, ...] = (
    "HARM_CATEGORY_UNSPECIFIED",
    "HARM_CATEGORY_DEROGATORY",
    "HARM_CATEGORY_TOXICITY",
    "HARM_CATEGORY_VIOLENCE",
    "HARM_CATEGORY_SEXUAL",
    "HARM_CATEGORY_MEDICAL",
    "HARM_CATEGORY_DANGEROUS",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
)
HARM_THRESHOLDS: tuple[str, ...] = (
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
    "BLOCK_LOW_AND_ABOVE",
    "BLOCK_MEDIUM_AND_ABOVE",
    "BLOCK_ONLY_HIGH",
    "BLOCK_NONE",
    "OFF",
)

MESSAGES: dict[str, dict[str, FieldSpec]] = {
    "GenerateContentRequest": {
        "model": STRING,
        "contents": _message("Content", repeated=True),
        "systemInstruction": _message("Content"),
        "generationConfig": _message("GenerationConfig"),
        "safetySettings": _message("SafetySetting", repeated=True),
        "tools": FieldSpec("struct", repeated=True),
        "toolConfig": STRUCT,
        "cachedContent": STRING,
        "labels": STRUCT,
        "serviceTier": _enum("ServiceTier", "unspecified", "standard", "flex", "priority"),
        "store": BOOL,
    },
    "CachedContent": {
        "name": STRING,
        "displayName": STRING,
        "model": STRING,
        "contents": _message("Content", repeated=True),
        "systemInstruction": _message("Content"),
        "tools": FieldSpec("struct", repeated=True),
        "toolConfig": STRUCT,
        "ttl": STRING,
        "expireTime": STRING,
    },
    "CountTokensRequest": {
        "contents": _message("Content", repeated=True),
        "generateContentRequest": _message("GenerateContentRequest"),
    },
    "Content": {"role": STRING, "parts": _message("Part", repeated=True)},
    "Part": {
        "text": STRING,
        "inlineData": _message("Blob"),
        "fileData": _message("FileData"),
        "functionCall": _message("FunctionCall"),
        "functionResponse": _message("FunctionResponse"),
        "executableCode": STRUCT,
        "codeExecutionResult": STRUCT,
        "toolCall": STRUCT,
        "toolResponse": STRUCT,
        "thought": BOOL,
        "thoughtSignature": BYTES,
        "videoMetadata": STRUCT,
        "partMetadata": STRUCT,
        "mediaResolution": STRUCT,
    },
    "Blob": {"mimeType": STRING, "data": BYTES},
    "FileData": {"mimeType": STRING, "fileUri": STRING},
    "FunctionCall": {"id": STRING, "name": STRING, "args": STRUCT},
    "FunctionResponse": {
        "id": STRING,
        "name": STRING,
        "response": STRUCT,
        "parts": FieldSpec("struct", repeated=True),
        "willContinue": BOOL,
        "scheduling": _enum(
            "FunctionResponse.Scheduling", "SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"
        ),
    },
    "GenerationConfig": {
        "stopSequences": FieldSpec("string", repeated=True),
        "responseMimeType": STRING,
        "responseSchema": STRUCT,
        "responseJsonSchema": VALUE,
        "_responseJsonSchema": VALUE,
        "responseModalities": FieldSpec(
            "enum", True, "GenerationConfig.Modality", ("MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO")
        ),
        "candidateCount": INT,
        "maxOutputTokens": INT,
        "temperature": NUMBER,
        "topP": NUMBER,
        "topK": INT,
        "seed": INT,
        "presencePenalty": NUMBER,
        "frequencyPenalty": NUMBER,
        "responseLogprobs": BOOL,
        "logprobs": INT,
        "enableEnhancedCivicAnswers": BOOL,
        "speechConfig": STRUCT,
        "thinkingConfig": _message("ThinkingConfig"),
        "imageConfig": STRUCT,
        "mediaResolution": _enum(
            "GenerationConfig.MediaResolution",
            "MEDIA_RESOLUTION_UNSPECIFIED",
            "MEDIA_RESOLUTION_LOW",
            "MEDIA_RESOLUTION_MEDIUM",
            "MEDIA_RESOLUTION_HIGH",
        ),
        "responseFormat": STRUCT,
        "translationConfig": STRUCT,
    },
    "ThinkingConfig": {
        "includeThoughts": BOOL,
        "thinkingBudget": INT,
        "thinkingLevel": _enum(
            "ThinkingConfig.ThinkingLevel", "THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"
        ),
    },
    "SafetySetting": {
        "category": _enum("HarmCategory", *HARM_CATEGORIES),
        "threshold": _enum("SafetySetting.HarmBlockThreshold", *HARM_THRESHOLDS),
        "method": STRING,
    },
}

_TYPE_LABELS: dict[Kind, str] = {
    "string": "TYPE_STRING",
    "int": "TYPE_INT32",
    "number": "TYPE_FLOAT",
    "bool": "TYPE_BOOL",
    "bytes": "TYPE_BYTES",
    "struct": "type.googleapis.com/google.protobuf.Struct",
    "value": "type.googleapis.com/google.protobuf.Value",
}
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_INTEGER_TEXT = re.compile(r"[-+]?\d+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


def camel_to_snake(name: str) -> str:
    """A field's proto name from its JSON name: ``maxOutputTokens`` -> ``max_output_tokens``."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


@dataclass(frozen=True)
class ParseMode:
    """How leniently a request is read (both protocols): snake_case field names accepted, values and
    unknown fields validated, JSON Schema tool parameters sanitized into Gemini Schemas as a gateway must."""

    accept_snake_case: bool = True
    strict: bool = True
    sanitize_schemas: bool = True


@dataclass(frozen=True)
class NativeRequest:
    """A parsed GenerateContentRequest: what the engine is asked, plus the canonical body."""

    prompt: Prompt
    sampling: Sampling
    canonical: Mapping[str, Any]

    @cached_property
    def fingerprint(self) -> str:
        """A stable text of the canonical request, for deriving ids (made once: it holds the whole body,
        inline media included)."""
        return json.dumps(self.canonical, sort_keys=True, ensure_ascii=False)


def lookup_table(fields: Iterable[str]) -> dict[str, str]:
    """Each field's canonical (lowerCamelCase) name, by that name and by its snake_case name."""
    table: dict[str, str] = {}
    for name in fields:
        table[name] = name
        table[camel_to_snake(name)] = name
    return table


LOOKUPS: dict[str, dict[str, str]] = {name: lookup_table(fields) for name, fields in MESSAGES.items()}
"""The lookup table of each message type's fields."""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _invalid_value(path: str, label: str, value: Any) -> ProtocolError:
    message = f"Invalid value at '{path}' ({label}), {_show(value)}"
    return ProtocolError(invalid_argument(message, [(path, message)]))


def _type_label(spec: FieldSpec) -> str:
    if spec.kind in ("message", "enum"):
        return f"type.googleapis.com/{API_PACKAGE}.{spec.type_name}"
    return _TYPE_LABELS[spec.kind]


class _Parser:
    """Reads a JSON body into canonical camelCase form, following the field tables."""

    def __init__(self, mode: ParseMode) -> None:
        self.mode = mode

    def message(self, value: Any, type_name: str, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _invalid_value(path, f"type.googleapis.com/{API_PACKAGE}.{type_name}", value)
        fields = MESSAGES[type_name]
        lookup = LOOKUPS[type_name]
        result: dict[str, Any] = {}
        given_as: dict[str, str] = {}
        for key, item in value.items():
            if "_" in key.lstrip("_") and not self.mode.accept_snake_case:
                continue
            name = lookup.get(key)
            if name is None:
                if not self.mode.strict:
                    continue
                where = f" at '{path}'" if path else ""
                message = f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.'
                raise ProtocolError(invalid_argument(message, [(path, message)]))
            if name in given_as:
                field_path = _join(path, camel_to_snake(name))
                message = (
                    f'Invalid JSON payload received. Field "{field_path}" is set twice '
                    f'(as "{given_as[name]}" and as "{key}").'
                )
                raise ProtocolError(invalid_argument(message, [(field_path, message)]))
            given_as[name] = key
            if item is None:
                continue
            result[name] = self.field(item, fields[name], _join(path, camel_to_snake(name)))
        return result

    def field(self, value: Any, spec: FieldSpec, path: str) -> Any:
        if not spec.repeated:
            return self.single(value, spec, path)
        if isinstance(value, dict) and spec.kind == "message":  # one message for a repeated message field
            value = [value]
        if not isinstance(value, list):
            raise _invalid_value(path, _type_label(spec), value)
        return [self.single(item, spec, f"{path}[{index}]") for index, item in enumerate(value)]

    def single(self, value: Any, spec: FieldSpec, path: str) -> Any:
        kind = spec.kind
        if kind == "message":
            return self.message(value, spec.type_name, path)
        if kind == "struct":
            if not isinstance(value, dict):
                raise _invalid_value(path, _type_label(spec), value)
            return value
        if kind == "value":
            return value
        if kind == "string":
            if not isinstance(value, str):
                raise _invalid_value(path, _type_label(spec), value)
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise _invalid_value(path, _type_label(spec), value)
            return value
        if kind == "int":
            return self.integer(value, spec, path)
        if kind == "number":
            return self.number(value, spec, path)
        if kind == "bytes":
            if not isinstance(value, str):
                raise _invalid_value(path, _type_label(spec), value)
            if not _is_base64(value):
                message = f"Invalid value at '{path}' (TYPE_BYTES), Base64 decoding failed for {_show(value)}"
                raise ProtocolError(invalid_argument(message, [(path, message)]))
            return value
        return self.enum(value, spec, path)

    def integer(self, value: Any, spec: FieldSpec, path: str) -> int:
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
            number = int(value.strip())
        if number is None or not INT32_MIN <= number <= INT32_MAX:
            raise _invalid_value(path, _type_label(spec), value)
        return number

    def number(self, value: Any, spec: FieldSpec, path: str) -> float | int:
        if isinstance(value, bool):
            raise _invalid_value(path, _type_label(spec), value)
        if isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                raise _invalid_value(path, _type_label(spec), value)
            return value
        if isinstance(value, str):
            try:
                parsed = float(value)
            except ValueError:
                parsed = math.nan
            if math.isfinite(parsed):
                return parsed
        raise _invalid_value(path, _type_label(spec), value)

    def enum(self, value: Any, spec: FieldSpec, path: str) -> str:
        if isinstance(value, str):
            for allowed in spec.values:
                if allowed.lower() == value.lower():
                    return allowed
            if not self.mode.strict:
                return value
        raise _invalid_value(path, _type_label(spec), value)


def _is_base64(text: str) -> bool:
    try:  # the common case, fast: canonical standard base64
        binascii.a2b_base64(text, strict_mode=True)
        return True
    except (binascii.Error, ValueError):
        pass
    compact = "".join(text.split())
    if not _BASE64.fullmatch(compact):
        return False
    core = compact.rstrip("=")
    try:
        base64.urlsafe_b64decode(core.replace("+", "-").replace("/", "_") + "=" * (-len(core) % 4))
    except (binascii.Error, ValueError):
        return False
    return True


def parse_json_body(raw: bytes) -> Any:
    """The request body as JSON (an empty body is ``{}``), or a native 400."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        message = "Invalid JSON payload received. Invalid UTF-8 in the request body."
    except json.JSONDecodeError as error:
        message = (
            f"Invalid JSON payload received. Unexpected token at line {error.lineno} column {error.colno}: "
            f"{error.msg}."
        )
    raise ProtocolError(invalid_argument(message, [("", message)]))


def parse_message(body: Any, type_name: str, mode: ParseMode) -> dict[str, Any]:
    """A JSON body read as the named message, with canonical camelCase keys."""
    if not isinstance(body, dict):
        message = 'Invalid JSON payload received. Unknown name "": Root element must be a message.'
        raise ProtocolError(invalid_argument(message, [("", message)]))
    return _Parser(mode).message(body, type_name, "")


Violation = tuple[str, str]


def _content_violations(
    content: Mapping[str, Any], path: str, strict: bool, check_role: bool
) -> list[Violation]:
    found: list[Violation] = []
    role = content.get("role", "")
    if check_role and strict and role not in ("", "user", "model"):
        found.append((f"{path}.role", "Please use a valid role: user, model."))
    parts = content.get("parts") or []
    if not parts:
        found.append((f"{path}.parts", "contents.parts must not be empty."))
    for index, part in enumerate(parts):
        present = [name for name in PART_DATA_FIELDS if name in part]
        part_path = f"{path}.parts[{index}]"
        if not present:
            found.append((f"{part_path}.data", "required oneof field 'data' must have one initialized field"))
        elif len(present) > 1:
            found.append(
                (
                    part_path,
                    f"Oneof field 'data' is already set. Cannot set '{present[1]}' next to '{present[0]}'.",
                )
            )
    return found


def _range_violations(config: Mapping[str, Any]) -> list[Violation]:
    found: list[Violation] = []
    base = "generation_config"

    def check(name: str, ok: bool, rule: str) -> None:
        if name in config and not ok:
            found.append((f"{base}.{camel_to_snake(name)}", f"{rule}, got {config[name]!r}."))

    check(
        "temperature", 0 <= config.get("temperature", 0) <= 2, "temperature must be in the range [0.0, 2.0]"
    )
    check("topP", 0 <= config.get("topP", 0) <= 1, "top_p must be in the range [0.0, 1.0]")
    check("topK", config.get("topK", 1) >= 1, "top_k must be at least 1")
    low, high = PENALTY_RANGE
    for penalty in ("presencePenalty", "frequencyPenalty"):
        name = camel_to_snake(penalty)
        check(penalty, low <= config.get(penalty, 0) < high, f"{name} must be in the range [{low}, {high})")
    check("maxOutputTokens", config.get("maxOutputTokens", 1) >= 1, "max_output_tokens must be at least 1")
    check(
        "candidateCount",
        1 <= config.get("candidateCount", 1) <= 8,
        "candidate_count must be in the range [1, 8]",
    )
    stops = config.get("stopSequences", [])
    if len(stops) > MAX_STOP_SEQUENCES:
        found.append(
            (
                f"{base}.stop_sequences",
                f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed, got {len(stops)}.",
            )
        )
    for index, modality in enumerate(config.get("responseModalities", [])):
        if modality not in RESPONSE_MODALITIES:
            found.append(
                (
                    f"{base}.response_modalities[{index}]",
                    f"response modality must be one of TEXT, IMAGE, AUDIO, got {modality!r}.",
                )
            )
    mime = config.get("responseMimeType")
    if mime is not None and mime not in RESPONSE_MIME_TYPES:
        found.append(
            (
                f"{base}.response_mime_type",
                f"allowed mimetypes are `text/plain`, `application/json` and `text/x.enum`, got {mime!r}.",
            )
        )
    return found


def check_request(request: Mapping[str, Any], root: str, strict: bool) -> None:
    """Raise a native 400 listing every semantic violation of a canonical GenerateContentRequest."""
    found: list[Violation] = []
    contents = request.get("contents") or []
    if not contents:
        found.append(("contents", "contents is not specified"))
    for index, content in enumerate(contents):
        found.extend(_content_violations(content, f"contents[{index}]", strict, check_role=True))
    system = request.get("systemInstruction")
    if system is not None:
        found.extend(_content_violations(system, "system_instruction", strict, check_role=False))
    if strict:
        found.extend(_range_violations(request.get("generationConfig", {})))
    if found:
        message = "\n".join(f"* {root}.{field}: {text}" for field, text in found)
        raise ProtocolError(invalid_argument(message, found))


def _resolution(part: Mapping[str, Any], default: str | None) -> str | None:
    """The mediaResolution a part is read at: its own ``mediaResolution.level``, else the request's."""
    own = part.get("mediaResolution")
    level = own.get("level", own.get("mediaResolution")) if isinstance(own, Mapping) else None
    return str(level).upper() if isinstance(level, str) else default


def _turn(content: Mapping[str, Any], role: Role, resolution: str | None = None) -> Turn:
    texts: list[str] = []
    structured: list[str] = []
    media: list[Media] = []
    for part in content.get("parts") or []:
        if "text" in part:
            (structured if part.get("thought") else texts).append(part["text"])
        elif "inlineData" in part or "fileData" in part:
            try:
                read = read_native_part(part)
            except MediaError as error:
                raise ProtocolError(invalid_argument(str(error))) from None
            tokens = RESOLUTION_TOKENS.get(_resolution(part, resolution) or "")
            if tokens is not None and read.modality in ("IMAGE", "VIDEO", "DOCUMENT"):
                read = replace(read, tokens=tokens)
            media.append(read)
        else:
            for name in PART_DATA_FIELDS:
                if name in part:
                    structured.append(json.dumps(part[name], sort_keys=True, ensure_ascii=False))
    return Turn(role=role, texts=tuple(texts), structured=tuple(structured), media=tuple(media))


def to_prompt(
    contents: Sequence[Mapping[str, Any]], system: Mapping[str, Any] | None, resolution: str | None = None
) -> Prompt:
    """The engine's view of canonical contents and a system instruction."""
    turns = tuple(
        _turn(content, "model" if content.get("role") == "model" else "user", resolution)
        for content in contents
    )
    return Prompt(turns=turns, system=_turn(system, "user", resolution) if system is not None else None)


def to_native_request(request: Mapping[str, Any]) -> NativeRequest:
    """The engine's view of a checked, canonical GenerateContentRequest."""
    config = request.get("generationConfig", {})
    prompt = to_prompt(request["contents"], request.get("systemInstruction"), config.get("mediaResolution"))
    stops = config.get("stopSequences", [])
    sampling = Sampling(
        max_output_tokens=config.get("maxOutputTokens"),
        stop_sequences=tuple(stops),
        candidate_count=max(1, int(config.get("candidateCount", 1))),
    )
    return NativeRequest(prompt=prompt, sampling=sampling, canonical=request)


def read_generate_request(body: Any, mode: ParseMode, root: str = "GenerateContentRequest") -> NativeRequest:
    """Parse, check and translate a GenerateContentRequest body."""
    request = parse_message(body, "GenerateContentRequest", mode)
    check_request(request, root, mode.strict)
    return to_native_request(request)


def read_count_tokens_request(body: Any, mode: ParseMode) -> NativeRequest:
    """Parse, check and translate a CountTokensRequest: ``{contents}`` or ``{generateContentRequest}``."""
    request = parse_message(body, "CountTokensRequest", mode)
    inner = request.get("generateContentRequest")
    if inner is not None and request.get("contents"):
        message = "* CountTokensRequest: only one of contents or generate_content_request may be set."
        raise ProtocolError(invalid_argument(message, [("generate_content_request", message)]))
    if inner is not None:
        check_request(inner, "CountTokensRequest.generate_content_request", mode.strict)
        return to_native_request(inner)
    plain = {"contents": request.get("contents", [])}
    check_request(plain, "CountTokensRequest", mode.strict)
    return to_native_request(plain)
