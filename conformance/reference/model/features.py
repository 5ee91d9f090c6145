"""What a request asks beyond text: declared functions, tool modes, code execution, search and URL
context, JSON mode, safety thresholds, thinking, response modalities and speech, and logprobs, read from
either protocol into one ``Features`` value; and what a model cannot give of it (``unsupported``).

Native declarations are checked as Google does: a ``parameters`` or ``responseSchema`` Gemini Schema
with a field Schema does not have (``$schema``, ``additionalProperties``, ``$comment``...) is a 400
"Unknown name ... Cannot find field"; ``parametersJsonSchema`` and ``responseJsonSchema`` take any JSON
Schema. The OpenAI route takes JSON Schema ``parameters`` as they are (a gateway must sanitize or map
them, F23) and maps ``tool_choice`` to the native modes (F24).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from conformance.reference.model.catalogue import ModelInfo
from conformance.reference.protocols.errors import ProtocolError, invalid_argument, openai_invalid
from conformance.reference.protocols.gemini_request import API_PACKAGE, camel_to_snake
from conformance.validation.gemini_schema import SCHEMA_FIELDS, to_json_schema

Mode = Literal["AUTO", "ANY", "NONE", "VALIDATED"]
MODES: tuple[str, ...] = ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED")
TOOL_FIELDS: tuple[str, ...] = (
    "codeExecution",
    "computerUse",
    "fileSearch",
    "functionDeclarations",
    "googleMaps",
    "googleSearch",
    "googleSearchRetrieval",
    "mcpServers",
    "urlContext",
)
DECLARATION_FIELDS: tuple[str, ...] = (
    "behavior",
    "description",
    "name",
    "parameters",
    "parametersJsonSchema",
    "response",
    "responseJsonSchema",
)
FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$")
JSON_MIME = "application/json"
# The harm categories Gemini models rate (the PaLM-era ones are accepted but never rated).
HARM_CATEGORIES_ALL: tuple[str, ...] = (
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
)
ENUM_MIME = "text/x.enum"
# The prebuilt voices of Gemini's speech generation (https://ai.google.dev/gemini-api/docs/speech-generation).
VOICES: tuple[str, ...] = (
    "Zephyr",
    "Puck",
    "Charon",
    "Kore",
    "Fenrir",
    "Leda",
    "Orus",
    "Aoede",
    "Callirrhoe",
    "Autonoe",
    "Enceladus",
    "Iapetus",
    "Umbriel",
    "Algieba",
    "Despina",
    "Erinome",
    "Algenib",
    "Rasalgethi",
    "Laomedeia",
    "Achernar",
    "Alnilam",
    "Schedar",
    "Gacrux",
    "Pulcherrima",
    "Achird",
    "Zubenelgenubi",
    "Vindemiatrix",
    "Sadachbia",
    "Sadaltager",
    "Sulafat",
)
MAX_LOGPROBS = 20


@dataclass(frozen=True)
class Function:
    """A declared function and the JSON Schema of its parameters."""

    name: str
    parameters: Any = field(default_factory=lambda: {"type": "object"})


@dataclass(frozen=True)
class Thinking:
    """The thinking asked for: whether thoughts are shown, whether the model thinks at all (None: as the
    model does by default), the thinkingLevel and the thinkingBudget asked for."""

    include_thoughts: bool = False
    enabled: bool | None = None
    level: str | None = None
    budget: int | None = None

    def on(self, model: ModelInfo) -> bool:
        """Whether ``model`` thinks for this request."""
        return model.thinks_by_default if self.enabled is None else self.enabled


@dataclass(frozen=True)
class Features:
    """Everything beyond plain text that a request asks the model for."""

    functions: tuple[Function, ...] = ()
    mode: Mode = "AUTO"
    allowed: tuple[str, ...] = ()
    parallel: bool = True
    code_execution: bool = False
    response_mime: str | None = None
    response_schema: Any = None
    safety: Mapping[str, str] = field(default_factory=dict)
    thinking: Thinking = Thinking()
    google_search: bool = False
    url_context: bool = False
    modalities: tuple[str, ...] = ()
    voices: tuple[str, ...] = ()
    logprobs: int | None = None
    """None: no logprobs; N: the chosen tokens' logprobs and the top N candidates at each step."""

    @property
    def callable(self) -> tuple[Function, ...]:
        """The functions the model may call under the mode and the allowed names."""
        if self.mode == "NONE":
            return ()
        if not self.allowed:
            return self.functions
        return tuple(f for f in self.functions if f.name in self.allowed)

    def without_tools(self) -> Features:
        """The same features with every tool and tool setting dropped."""
        return replace(
            self,
            functions=(),
            mode="AUTO",
            allowed=(),
            code_execution=False,
            google_search=False,
            url_context=False,
        )


def unsupported(features: Features, model: ModelInfo, route: str = "gemini") -> str | None:
    """Why ``model`` cannot give what the request asks (an output modality, a thinking setting), or None.

    A request naming no modality asks for the model's own (text; text and images; audio). The OpenAI
    route answers in text only. ``thinkingLevel`` needs a Gemini 3 model; ``thinkingBudget: 0`` a model
    whose thinking can stop.
    """
    offered = ("TEXT",) if route == "openai" else model.outputs
    known = tuple(m for m in features.modalities if m in ("TEXT", "IMAGE", "AUDIO"))  # others fail validation
    asked = known or (offered if route == "openai" else model.outputs)
    if route == "openai" and "TEXT" not in model.outputs:
        return (
            f"models/{model.id} answers in {', '.join(model.outputs)}, which chat completions cannot carry."
        )
    if any(m not in offered for m in asked):
        wanted = ", ".join(asked)
        return (
            f"The requested combination of response modalities ({wanted}) is not supported by the model "
            f"models/{model.id}."
        )
    thinking = features.thinking
    if thinking.level is not None and not model.thinking_levels:
        return f"Thinking level is not supported for models/{model.id}."
    if thinking.budget == 0 and model.thinking_required:
        return "Budget 0 is invalid. This model only works in thinking mode."
    return None


def _get(mapping: Mapping[str, Any], camel: str) -> Any:
    """A field of a free-form (struct) value under its camelCase or snake_case name."""
    return mapping.get(camel, mapping.get(camel_to_snake(camel)))


def _native_error(path: str, message: str) -> ProtocolError:
    text = (
        f"* GenerateContentRequest.{path}: {message}" if not message.startswith("Invalid JSON") else message
    )
    return ProtocolError(invalid_argument(text, [(path, message)]))


def _unknown(path: str, key: str) -> ProtocolError:
    return _native_error(
        path, f"Invalid JSON payload received. Unknown name \"{key}\" at '{path}': Cannot find field."
    )


def check_gemini_schema(schema: Any, path: str) -> None:
    """Refuse a Gemini Schema holding a field that Schema does not have, as Google's parser does."""
    if not isinstance(schema, Mapping):
        raise _native_error(
            path,
            f"Invalid value at '{path}' (type.googleapis.com/{API_PACKAGE}.Schema), {json.dumps(schema)}",
        )
    for key, value in schema.items():
        if key not in SCHEMA_FIELDS:
            raise _unknown(path, key)
        if key == "properties" and isinstance(value, Mapping):
            for name, sub in value.items():
                check_gemini_schema(sub, f"{path}.properties[{json.dumps(name)}].value")
        elif key == "items":
            check_gemini_schema(value, f"{path}.items")
        elif key in ("anyOf", "any_of") and isinstance(value, list):
            for n, sub in enumerate(value):
                check_gemini_schema(sub, f"{path}.any_of[{n}]")


def _native_function(declaration: Any, path: str, unsanitized: bool) -> Function:
    if not isinstance(declaration, Mapping):
        raise _native_error(path, "a function declaration must be an object.")
    allowed = set(DECLARATION_FIELDS) | {camel_to_snake(name) for name in DECLARATION_FIELDS}
    for key in declaration:
        if key not in allowed:
            raise _unknown(path, key)
    name = declaration.get("name")
    if not isinstance(name, str) or not FUNCTION_NAME.match(name):
        raise _native_error(
            f"{path}.name",
            f"Invalid function name {json.dumps(name)}: it must start with a letter or an "
            "underscore and contain only a-z, A-Z, 0-9, underscores, dots, colons and dashes, at most 128.",
        )
    parameters = _get(declaration, "parameters")
    json_schema = _get(declaration, "parametersJsonSchema")
    if parameters is not None and json_schema is not None:
        raise _native_error(path, "parameters and parameters_json_schema are mutually exclusive.")
    if json_schema is not None and unsanitized:  # F23: the JSON Schema is forwarded as a Gemini Schema
        parameters, json_schema = json_schema, None
    if parameters is not None:
        check_gemini_schema(parameters, f"{path}.parameters")
        return Function(name, to_json_schema(parameters))
    return Function(name, json_schema if json_schema is not None else {"type": "object"})


def native_features(request: Mapping[str, Any], *, unsanitized: bool = False) -> Features:
    """The features of a canonical GenerateContentRequest; raises a native 400 on bad tools or config."""
    functions: list[Function] = []
    code = search = urls = False
    for t, tool in enumerate(request.get("tools") or []):
        path = f"tools[{t}]"
        allowed = set(TOOL_FIELDS) | {camel_to_snake(name) for name in TOOL_FIELDS}
        for key in tool:
            if key not in allowed:
                raise _unknown(path, key)
        code = code or _get(tool, "codeExecution") is not None
        search = search or _get(tool, "googleSearch") is not None
        urls = urls or _get(tool, "urlContext") is not None
        for d, declaration in enumerate(_get(tool, "functionDeclarations") or []):
            functions.append(_native_function(declaration, f"{path}.function_declarations[{d}]", unsanitized))
    names = [f.name for f in functions]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise _native_error("tools", f"Duplicate function declaration found: {duplicate}")
    mode, allowed_names = _native_tool_config(request.get("toolConfig") or {})
    config = request.get("generationConfig") or {}
    mime = config.get("responseMimeType")
    schema = config.get("responseSchema")
    json_schema = config.get("responseJsonSchema", config.get("_responseJsonSchema"))
    if schema is not None and json_schema is not None:
        raise _native_error(
            "generation_config", "response_schema and response_json_schema cannot both be set."
        )
    if schema is not None:
        check_gemini_schema(schema, "generation_config.response_schema")
        schema = to_json_schema(schema)
    if (schema is not None or json_schema is not None) and mime not in (JSON_MIME, ENUM_MIME):
        raise _native_error(
            "generation_config", "a response schema needs response_mime_type application/json or text/x.enum."
        )
    if mime == ENUM_MIME and not isinstance((schema or json_schema or {}).get("enum"), list):
        raise _native_error(
            "generation_config.response_schema",
            "text/x.enum needs a response schema of type STRING with an enum.",
        )
    safety = {
        s["category"]: s["threshold"]
        for s in request.get("safetySettings") or []
        if "category" in s and "threshold" in s
    }
    return Features(
        tuple(functions),
        mode,
        allowed_names,
        True,
        code,
        mime,
        schema if schema is not None else json_schema,
        safety,
        _native_thinking(config.get("thinkingConfig") or {}),
        google_search=search,
        url_context=urls,
        modalities=tuple(m for m in config.get("responseModalities") or () if m != "MODALITY_UNSPECIFIED"),
        voices=_voices(config.get("speechConfig")),
        logprobs=_native_logprobs(config),
    )


def _native_thinking(config: Mapping[str, Any]) -> Thinking:
    budget = config.get("thinkingBudget")
    level = config.get("thinkingLevel", "THINKING_LEVEL_UNSPECIFIED")
    level = None if level == "THINKING_LEVEL_UNSPECIFIED" else level
    if budget is not None and level is not None:
        raise _native_error(
            "generation_config.thinking_config",
            "You can only set one of thinking budget and thinking level.",
        )
    enabled: bool | None = None
    if budget == 0:
        enabled = False
    elif budget is not None or level is not None or config.get("includeThoughts"):
        enabled = True
    return Thinking(bool(config.get("includeThoughts")), enabled, level, budget)


def _native_logprobs(config: Mapping[str, Any]) -> int | None:
    count = config.get("logprobs")
    if count is not None and not 0 <= count <= MAX_LOGPROBS:
        raise _native_error(
            "generation_config.logprobs", f"logprobs must be in the range [0, {MAX_LOGPROBS}], got {count}."
        )
    if not config.get("responseLogprobs"):
        return None
    return int(count or 0)


def _voices(speech: Any) -> tuple[str, ...]:
    """The voices a speechConfig asks for (one, or one per speaker); a 400 for anything else."""
    if speech is None:
        return ()
    path = "generation_config.speech_config"
    if not isinstance(speech, Mapping):
        raise _native_error(path, "must be an object.")
    single = _get(speech, "voiceConfig")
    multi = _get(speech, "multiSpeakerVoiceConfig")
    if single is not None and multi is not None:
        raise _native_error(path, "voice_config and multi_speaker_voice_config are mutually exclusive.")
    if multi is not None:
        speakers = _get(multi, "speakerVoiceConfigs") if isinstance(multi, Mapping) else None
        if not isinstance(speakers, list) or len(speakers) != 2:
            count = len(speakers) if isinstance(speakers, list) else 0
            raise _native_error(
                f"{path}.multi_speaker_voice_config.speaker_voice_configs",
                f"Exactly two speaker voice configurations must be provided, got {count}.",
            )
        voices = []
        for n, speaker in enumerate(speakers):
            where = f"{path}.multi_speaker_voice_config.speaker_voice_configs[{n}]"
            if not isinstance(speaker, Mapping) or not isinstance(speaker.get("speaker"), str):
                raise _native_error(where, "each speaker voice configuration names its speaker.")
            voices.append(_voice(_get(speaker, "voiceConfig"), f"{where}.voice_config"))
        return tuple(voices)
    return (_voice(single, f"{path}.voice_config"),) if single is not None else ()


def _voice(config: Any, path: str) -> str:
    prebuilt = _get(config, "prebuiltVoiceConfig") if isinstance(config, Mapping) else None
    name = _get(prebuilt, "voiceName") if isinstance(prebuilt, Mapping) else None
    if name not in VOICES:
        raise _native_error(
            f"{path}.prebuilt_voice_config.voice_name",
            f"Voice name {json.dumps(name, ensure_ascii=False)} is not supported; use one of the prebuilt "
            "voices (Kore, Puck, ...).",
        )
    return str(name)


def _native_tool_config(config: Mapping[str, Any]) -> tuple[Mode, tuple[str, ...]]:
    for key in config:
        if key not in (
            "functionCallingConfig",
            "function_calling_config",
            "retrievalConfig",
            "retrieval_config",
            "includeServerSideToolInvocations",
            "include_server_side_tool_invocations",
        ):
            raise _unknown("tool_config", key)
    calling = _get(config, "functionCallingConfig") or {}
    if not isinstance(calling, Mapping):
        raise _native_error("tool_config.function_calling_config", "must be an object.")
    raw_mode = calling.get("mode", "AUTO")
    mode = next((m for m in MODES if isinstance(raw_mode, str) and m == raw_mode.upper()), None)
    if mode is None:
        raise _native_error(
            "tool_config.function_calling_config.mode",
            f"Invalid value at 'tool_config.function_calling_config.mode' "
            f"(type.googleapis.com/{API_PACKAGE}.FunctionCallingConfig.Mode), {json.dumps(raw_mode)}",
        )
    names = _get(calling, "allowedFunctionNames") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _native_error(
            "tool_config.function_calling_config.allowed_function_names", "must be a list of strings."
        )
    return ("AUTO" if mode == "MODE_UNSPECIFIED" else mode), tuple(names)  # type: ignore[return-value]


# -- OpenAI --------------------------------------------------------------------------------------


def _openai_error(message: str, param: str) -> ProtocolError:
    return ProtocolError(openai_invalid(message, param))


def openai_features(body: Mapping[str, Any], *, unsanitized: bool = False) -> Features:
    """The features of a chat completion body; raises an OpenAI 400 on bad tools or formats."""
    functions: list[Function] = []
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _openai_error(
            f"Invalid type for 'tools': expected an array, but got {type(tools).__name__} instead.", "tools"
        )
    for n, tool in enumerate(tools or []):
        param = f"tools[{n}]"
        if (
            not isinstance(tool, Mapping)
            or tool.get("type") != "function"
            or not isinstance(tool.get("function"), Mapping)
        ):
            raise _openai_error(
                f"Invalid value for '{param}': expected an object with type 'function' and a"
                " 'function' object.",
                param,
            )
        function = tool["function"]
        name = function.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise _openai_error(
                f"Invalid '{param}.function.name': string does not match pattern. Expected a string that "
                "matches the pattern '^[a-zA-Z0-9_-]+$'.",
                f"{param}.function.name",
            )
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(parameters, Mapping):
            raise _openai_error(
                f"Invalid type for '{param}.function.parameters': expected an object.",
                f"{param}.function.parameters",
            )
        if unsanitized:  # F23: forwarded into Gemini's parameters as is; Google refuses JSON Schema keywords
            try:
                check_gemini_schema(
                    {
                        k: (v.upper() if k == "type" and isinstance(v, str) else v)
                        for k, v in parameters.items()
                    },
                    f"tools[0].function_declarations[{n}].parameters",
                )
            except ProtocolError as refused:
                raise _openai_error(
                    str(getattr(refused.error, "message", "Invalid tool schema")),
                    f"{param}.function.parameters",
                ) from None
        functions.append(Function(name, parameters))
    mode, allowed = _tool_choice(body.get("tool_choice"), [f.name for f in functions])
    parallel = body.get("parallel_tool_calls", True) is not False
    mime, schema = _response_format(body.get("response_format"))
    effort = body.get("reasoning_effort")
    thinking = Thinking(enabled=None if effort is None else effort != "none")
    modalities = body.get("modalities")
    return Features(
        tuple(functions),
        mode,
        allowed,
        parallel,
        False,
        mime,
        schema,
        thinking=thinking,
        modalities=tuple(str(m).upper() for m in modalities) if isinstance(modalities, list) else (),
        logprobs=_openai_logprobs(body),
    )


def _openai_logprobs(body: Mapping[str, Any]) -> int | None:
    wanted, top = body.get("logprobs"), body.get("top_logprobs")
    if wanted is not None and not isinstance(wanted, bool):
        raise _openai_error(
            f"Invalid type for 'logprobs': expected a boolean, but got {json.dumps(wanted)} instead.",
            "logprobs",
        )
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= MAX_LOGPROBS:
            raise _openai_error(
                f"Invalid 'top_logprobs': expected an integer from 0 to {MAX_LOGPROBS}, "
                f"got {json.dumps(top)}.",
                "top_logprobs",
            )
        if not wanted:
            raise _openai_error("'logprobs' must be set to true to use 'top_logprobs'.", "top_logprobs")
    return int(top or 0) if wanted else None


def _tool_choice(choice: Any, names: list[str]) -> tuple[Mode, tuple[str, ...]]:
    if choice is None:
        return "AUTO", ()
    if choice is not None and not names:
        raise _openai_error(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
        )
    if isinstance(choice, str):
        modes: dict[str, Mode] = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
        if choice not in modes:
            raise _openai_error(
                f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.",
                "tool_choice",
            )
        return modes[choice], ()
    function = choice.get("function") if isinstance(choice, Mapping) else None
    name = function.get("name") if isinstance(function, Mapping) else None
    if not isinstance(choice, Mapping) or choice.get("type") != "function" or not isinstance(name, str):
        raise _openai_error(
            "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or "
            '{"type": "function", "function": {"name": ...}}.',
            "tool_choice",
        )
    if name not in names:
        raise _openai_error(
            f"Invalid value for 'tool_choice': function '{name}' not found in 'tools'.",
            "tool_choice.function.name",
        )
    return "ANY", (name,)


def _response_format(value: Any) -> tuple[str | None, Any]:
    if value is None:
        return None, None
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "text":
        return None, None
    if kind == "json_object":
        return JSON_MIME, None
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
            raise _openai_error(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
            )
        return JSON_MIME, spec.get("schema", {})
    raise _openai_error(
        f"Invalid value: {json.dumps(kind)}. Supported values are: 'text', 'json_object', and 'json_schema'.",
        "response_format.type",
    )
