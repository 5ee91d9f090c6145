"""How the tool, JSON-mode, safety and thinking faults distort a request or a generation.

Each function applies only the faults named in ``faults`` and is the identity on a clean gateway;
the faults themselves are registered (with their bug classes) in ``faults.py``.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace
from typing import Any

from conformance.reference.model.engine import Completion, Generation
from conformance.reference.model.features import HARM_CATEGORIES_ALL, Features


def distort_native_body(body: Any, faults: Set[str]) -> Any:
    """The raw native body as a faulty gateway forwards it (before parsing)."""
    if "thinking-config-snake-case-ignored" not in faults or not isinstance(body, dict):
        return body
    out = dict(body)
    for key in ("generationConfig", "generation_config"):
        config = out.get(key)
        if not isinstance(config, dict):
            continue
        config = {k: v for k, v in config.items() if k != "thinking_config"}
        thinking = config.get("thinkingConfig")
        if isinstance(thinking, dict):
            config["thinkingConfig"] = {k: v for k, v in thinking.items() if "_" not in k}
        out[key] = config
    return out


def degrade_features(features: Features, faults: Set[str]) -> Features:
    """The features a faulty gateway forwards upstream."""
    if "tools-dropped" in faults:
        features = features.without_tools()
    if "tool-choice-ignored" in faults:
        features = replace(features, mode="AUTO", allowed=())
    if "json-mode-dropped" in faults:
        features = replace(features, response_mime=None, response_schema=None)
    if "response-json-schema-ignored" in faults and features.response_mime == "application/json":
        features = replace(features, response_schema=None)
    if "safety-settings-overridden" in faults:
        features = replace(features, safety={category: "BLOCK_NONE" for category in HARM_CATEGORIES_ALL})
    return features


def _distort(completion: Completion, faults: Set[str]) -> Completion:
    calls = completion.calls
    if "parallel-calls-collapsed" in faults:
        calls = calls[:1]
    if "function-args-emptied" in faults:
        calls = tuple(replace(call, args={}) for call in calls)
    if "function-call-id-is-name" in faults:
        calls = tuple(replace(call, id=call.name) for call in calls)
    if "thought-signature-dropped" in faults:
        calls = tuple(replace(call, signature=None) for call in calls)
    completion = replace(completion, calls=calls)
    if "non-text-parts-dropped" in faults:
        completion = replace(completion, calls=(), code=())
    if "thought-parts-merged" in faults and completion.thoughts and completion.pieces:
        merged = "\n".join(completion.thoughts) + "\n"
        completion = replace(completion, pieces=(merged + completion.pieces[0], *completion.pieces[1:]))
    return completion


def distort_generation(generation: Generation, faults: Set[str]) -> Generation:
    """The generation as a faulty gateway passes it back (both protocols)."""
    return replace(generation, candidates=tuple(_distort(c, faults) for c in generation.candidates))
