"""The reference model's answer to a request with features: safety, thinking, function calls,
replies to function results, code execution and JSON mode, on top of the text engine.

The rules are the prompt vocabulary documented in ``engine.py``; both protocols call ``respond``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace

from conformance.reference.model import safety
from conformance.reference.model.engine import (
    CodeRun,
    Completion,
    FunctionCall,
    Generation,
    Prompt,
    Sampling,
    answer,
    calculation,
    compact_json,
    complete,
    count_prompt,
    evaluate,
    tokenize,
)
from conformance.reference.model.features import ENUM_MIME, JSON_MIME, Features, Function
from conformance.reference.model.function_turns import Reply
from conformance.reference.model.instances import instance_of

MAX_PARALLEL_CALLS = 8
_USE_TOOL = re.compile(r"\buse the ([A-Za-z_][\w.:-]*) (?:tool|function)\b", re.IGNORECASE)
_PLACE = re.compile(r"\bin ((?:[A-Z][\w'-]*)(?: [A-Z][\w'-]*)*)")
THOUGHT_PREFIX = "Thinking about the request: "


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def call_id(fingerprint: str, index: int) -> str:
    """A Gemini 3 style call id: 8 lowercase letters and digits."""
    return _digest("functionCall", fingerprint, str(index)).hex()[:8]


def thought_signature(fingerprint: str, call: FunctionCall) -> str:
    """An opaque standard-base64 signature bound to the request and the call."""
    raw = _digest("thoughtSignature", fingerprint, call.name, compact_json(dict(call.args)))
    return base64.b64encode(raw + _digest("more", raw.hex())[:16]).decode("ascii")


def _last_user_text(prompt: Prompt) -> str:
    index = prompt.last_user_index()
    return "" if index is None else prompt.turns[index].text


def choose_calls(
    text: str, features: Features, replies: tuple[Reply, ...], fingerprint: str
) -> tuple[FunctionCall, ...]:
    """The function calls the model makes, or none."""
    candidates = features.callable
    if not candidates:
        return ()
    named = [match.group(1) for match in _USE_TOOL.finditer(text)]
    chosen: Function | None = next((f for name in named for f in candidates if f.name == name), None)
    if features.mode == "AUTO" and (chosen is None or replies):
        return ()
    if chosen is None:
        chosen = candidates[0]
    places: list[str | None] = list(_PLACE.findall(text)[:MAX_PARALLEL_CALLS]) or [None]
    if not features.parallel:
        places = places[:1]
    calls = []
    for index, place in enumerate(places):
        call = FunctionCall(
            chosen.name, instance_of(chosen.parameters, hint=place), call_id(fingerprint, index)
        )
        if index == 0:
            call = replace(call, signature=thought_signature(fingerprint, call))
        calls.append(call)
    return tuple(calls)


def _json_answer(features: Features, text: str) -> str | None:
    if features.response_mime == ENUM_MIME and isinstance(features.response_schema, dict):
        values = [str(v) for v in features.response_schema.get("enum", [])]
        return text if text in values else (values[0] if values else text)
    if features.response_mime != JSON_MIME:
        return None
    if features.response_schema is None:
        return json.dumps({"answer": text}, ensure_ascii=False)
    return json.dumps(instance_of(features.response_schema), ensure_ascii=False)


def _one(
    prompt: Prompt, sampling: Sampling, features: Features, replies: tuple[Reply, ...], fingerprint: str
) -> Completion:
    text = _last_user_text(prompt)
    thoughts: tuple[str, ...] = ()
    thinking_tokens = 0
    if features.thinking.enabled:
        thought = THOUGHT_PREFIX + (text or "the function results")
        thinking_tokens = len(tokenize(thought))
        thoughts = (thought,) if features.thinking.include_thoughts else ()
    ratings = safety.answer_ratings(prompt, features.safety)
    if any(rating.blocked for rating in ratings):
        return Completion((), "SAFETY", safety_ratings=ratings, thinking_tokens=thinking_tokens)

    def dressed(completion: Completion) -> Completion:
        """The completion with the thoughts, the ratings and the thinking tokens of this answer."""
        return replace(completion, thoughts=thoughts, safety_ratings=ratings, thinking_tokens=thinking_tokens)

    calls = choose_calls(text, features, replies, fingerprint)
    if calls:
        return dressed(Completion((), "STOP", calls=calls))
    if replies:
        said = "; ".join(f"{reply.name} returned {compact_json(reply.response)}" for reply in replies)
        return dressed(complete(said, sampling))
    expression = calculation(text) if features.code_execution else None
    value = evaluate(expression) if expression is not None else None
    if expression is not None and value is not None:
        run = CodeRun(f"print({expression})\n", f"{value}\n", call_id(fingerprint + "code", 0))
        return dressed(replace(complete(value, sampling), code=(run,)))
    plain = answer(prompt)
    structured = _json_answer(features, plain)
    if structured is not None:
        return dressed(Completion(tuple([structured]), "STOP"))
    return dressed(complete(plain, sampling))


def respond(
    prompt: Prompt, sampling: Sampling, features: Features, replies: tuple[Reply, ...], fingerprint: str
) -> Generation:
    """The generation for a request: a prompt-level block, or the candidates."""
    count = count_prompt(prompt)
    reason = safety.prompt_block(prompt)
    if reason is not None:
        return Generation((), count, block_reason=reason)
    completion = _one(prompt, sampling, features, replies, fingerprint)
    return Generation((completion,) * max(1, sampling.candidate_count), count)
