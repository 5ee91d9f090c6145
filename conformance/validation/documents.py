"""Reading YAML documents (case files, profiles, baselines) and checking them against their schema.

A document that breaks its schema is a ``ConfigError`` naming the file and the first offending field,
reported as one line with exit code 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.errors import ConfigError
from conformance.validation.store import SCHEMAS_DIR

# libyaml's safe loader when PyYAML was built with it (several times faster), else the pure-Python one.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _registry() -> Registry:
    """Every schema file by its ``$id``, so that one file may refer to definitions of another."""
    resources = []
    for path in sorted(SCHEMAS_DIR.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012))
        )
    return Registry().with_resources(resources)


@cache
def _schema_validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=_registry())


def validate_document(document: Any, schema_file: str, source: Path | str) -> None:
    """Raise a one-line ``ConfigError`` naming the first offending field of ``document``."""
    validator = _schema_validator(schema_file)
    errors = sorted(
        validator.iter_errors(document), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    if errors:
        error = errors[0]
        field = _field_path(error.absolute_path)
        raise ConfigError(_short_message(error), source=source, field=field or "(top level)")


def _field_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short_message(error: Any) -> str:
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    return message


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise ConfigError("file not found", source=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"not valid YAML: {problem}", source=path, field=where) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", source=path) from None
