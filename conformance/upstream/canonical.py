"""A forwarded body as Google reads it: the form upstream expectations judge.

Google's proto-JSON parser takes every field under its lowerCamelCase JSON name or its snake_case proto
name, so a gateway may forward either. Upstream expectations are written once, against lowerCamelCase
pointers (``/generationConfig/seed``); this module renames the fields of a forwarded
GenerateContentRequest or CountTokensRequest to lowerCamelCase, following the reference's field tables,
and keeps everything else as it came:

* a field the tables do not know stays under the name it was sent with (an invented or misspelt field is
  still there to be judged);
* a field given under both names keeps both (the camelCase one canonical, the other under its own name);
* user data is never renamed: function arguments and responses, schemas (``parameters``,
  ``responseSchema``, ``responseJsonSchema``...), labels.

Tools and the tool config are free-form in the reference's tables; their known fields (``Tool``,
``FunctionDeclaration``, ``ToolConfig``, ``FunctionCallingConfig``) are renamed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.reference.model.features import DECLARATION_FIELDS, TOOL_FIELDS
from conformance.reference.protocols.gemini_request import LOOKUPS, MESSAGES, FieldSpec, lookup_table

_TOOL = lookup_table(TOOL_FIELDS)
_DECLARATION = lookup_table(DECLARATION_FIELDS)
_TOOL_CONFIG = lookup_table(("functionCallingConfig", "retrievalConfig", "includeServerSideToolInvocations"))
_CALLING = lookup_table(("mode", "allowedFunctionNames"))


def _rename(value: Mapping[str, Any], table: Mapping[str, str]) -> dict[str, Any]:
    """The members of an object under their canonical names; a name given twice keeps its second form."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = table.get(key, key)
        out[key if name in out else name] = item
    return out


def _tools(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    tools = []
    for tool in value:
        if not isinstance(tool, Mapping):
            tools.append(tool)
            continue
        renamed = _rename(tool, _TOOL)
        declarations = renamed.get("functionDeclarations")
        if isinstance(declarations, list):
            renamed["functionDeclarations"] = [
                _rename(d, _DECLARATION) if isinstance(d, Mapping) else d for d in declarations
            ]
        tools.append(renamed)
    return tools


def _tool_config(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    renamed = _rename(value, _TOOL_CONFIG)
    calling = renamed.get("functionCallingConfig")
    if isinstance(calling, Mapping):
        renamed["functionCallingConfig"] = _rename(calling, _CALLING)
    return renamed


_STRUCTS = {"tools": _tools, "toolConfig": _tool_config}
"""Free-form fields of GenerateContentRequest whose known members are renamed all the same."""


def _message(value: Any, type_name: str) -> Any:
    if not isinstance(value, Mapping):
        return value
    fields = MESSAGES[type_name]
    renamed = _rename(value, LOOKUPS[type_name])
    for name, item in renamed.items():
        spec = fields.get(name)
        if spec is not None:
            renamed[name] = _field(item, spec, name, type_name)
    return renamed


def _field(value: Any, spec: FieldSpec, name: str, type_name: str) -> Any:
    if type_name == "GenerateContentRequest" and name in _STRUCTS:
        return _STRUCTS[name](value)
    if spec.kind != "message":
        return value
    if spec.repeated:
        return [_message(item, spec.type_name) for item in value] if isinstance(value, list) else value
    return _message(value, spec.type_name)


def request_type(path: str) -> str | None:
    """The message a native method's body is (``GenerateContentRequest``...), or None for other paths."""
    method = path.rpartition(":")[2] if ":" in path.rpartition("/")[2] else ""
    if method in ("generateContent", "streamGenerateContent"):
        return "GenerateContentRequest"
    if method == "countTokens":
        return "CountTokensRequest"
    return None


def canonical(body: Any, path: str) -> Any:
    """The body of a request to ``path`` with its fields under lowerCamelCase names (see the module)."""
    type_name = request_type(path)
    return _message(body, type_name) if type_name is not None else body
