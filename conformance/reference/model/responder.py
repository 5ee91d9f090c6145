"""The reference model's answer to a request with features: triggers, safety, thinking, function calls,
replies to function results, code execution, JSON mode, recitation, generated images and speech,
logprobs, search grounding and URL context, on top of the text engine.

The rules are the prompt vocabulary documented in ``engine.py``; both protocols call ``respond``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace

from conformance.reference.model import outputs, safety, triggers
from conformance.reference.model.catalogue import ModelInfo
from conformance.reference.model.engine import (
    Citation,
    CodeRun,
    Completion,
    FunctionCall,
    Generation,
    Prompt,
    PromptCount,
    Sampling,
    answer,
    calculation,
    compact_json,
    complete,
    count_prompt,
    execution,
    recitation,
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
    prompt: Prompt,
    sampling: Sampling,
    features: Features,
    replies: tuple[Reply, ...],
    fingerprint: str,
    model: ModelInfo,
) -> Completion:
    text = _last_user_text(prompt)
    thoughts: tuple[str, ...] = ()
    thinking_tokens = 0
    if features.thinking.on(model):
        thought = THOUGHT_PREFIX + (text or "the function results")
        thinking_tokens = len(tokenize(thought))
        thoughts = (thought,) if features.thinking.include_thoughts else ()
    ratings = safety.answer_ratings(prompt, features.safety)
    if any(rating.blocked for rating in ratings):
        return Completion((), "SAFETY", safety_ratings=ratings, thinking_tokens=thinking_tokens)

    def dressed(completion: Completion) -> Completion:
        """The completion with the thoughts, ratings, thinking tokens, media and metadata of this answer."""
        return _extras(
            replace(completion, thoughts=thoughts, safety_ratings=ratings, thinking_tokens=thinking_tokens),
            text,
            features,
            model,
            fingerprint,
        )

    calls = choose_calls(text, features, replies, fingerprint)
    if calls:
        return dressed(Completion((), "STOP", calls=calls))
    if replies:
        said = "; ".join(f"{reply.name} returned {compact_json(reply.response)}" for reply in replies)
        return dressed(complete(said, sampling))
    expression = calculation(text) if features.code_execution else None
    ran = execution(expression) if expression is not None else None
    if expression is not None and ran is not None:
        outcome, output = ran
        run = CodeRun(f"print({expression})\n", output, call_id(fingerprint + "code", 0), outcome)
        said = output.strip() if outcome == "OUTCOME_OK" else "The code failed: " + output.splitlines()[-1]
        return dressed(replace(complete(said, sampling), code=(run,)))
    plain = answer(prompt)
    structured = _json_answer(features, plain)
    if structured is not None:
        return dressed(Completion(tuple([structured]), "STOP"))
    completion = complete(plain, sampling)
    recited = recitation(text)
    if recited is not None and completion.text:
        end = len(completion.text.encode("utf-8"))
        completion = replace(completion, citations=(Citation(0, end, recited[1]),))
    return dressed(completion)


def _extras(
    completion: Completion, question: str, features: Features, model: ModelInfo, fingerprint: str
) -> Completion:
    """A completion with what the features add: generated media, logprobs, grounding, retrieved URLs."""
    asked = features.modalities or model.outputs
    if "AUDIO" in asked:  # a speech model answers with the audio of its answer, and no text
        spoken = completion.text or "OK"
        completion = replace(completion, pieces=(), media=(outputs.speech(spoken, features.voices),))
    elif "IMAGE" in asked:
        completion = replace(completion, media=(*completion.media, outputs.generated_image()))
    if features.logprobs is not None and completion.pieces:
        completion = replace(completion, logprobs=outputs.logprobs_of(completion.pieces, features.logprobs))
    if features.google_search and completion.pieces:
        completion = replace(completion, grounding=outputs.grounding_of(question, fingerprint))
    if features.url_context:
        completion = replace(completion, urls=outputs.retrieved_urls(question))
    return completion


def tool_use_tokens(features: Features, completion: Completion | None) -> int:
    """The prompt tokens tools fetched for the model: search results and retrieved URLs."""
    if completion is None:
        return 0
    searched = outputs.SEARCH_RESULT_TOKENS if completion.grounding is not None else 0
    return searched + outputs.URL_CONTENT_TOKENS * len(completion.urls)


def respond(
    prompt: Prompt,
    sampling: Sampling,
    features: Features,
    replies: tuple[Reply, ...],
    fingerprint: str,
    model: ModelInfo,
    cached: Prompt | None = None,
) -> Generation:
    """The generation for a request: trouble a trigger asks for (raised), a prompt-level block, or the
    candidates. ``cached`` is what a cache adds before the prompt (already part of ``prompt``)."""
    kind = triggers.trouble(prompt)
    if kind is not None:
        raise triggers.Trouble(kind)
    count = count_prompt(prompt)
    cached_count: PromptCount | None = count_prompt(cached) if cached is not None else None
    reason = safety.prompt_block(prompt)
    if reason is not None:
        return Generation((), count, block_reason=reason, cached=cached_count)
    completion = _one(prompt, sampling, features, replies, fingerprint, model)
    return Generation(
        (completion,) * max(1, sampling.candidate_count),
        count,
        cached=cached_count,
        tool_use_tokens=tool_use_tokens(features, completion),
    )
