"""Native rendering of what a candidate holds beyond text: thoughts, code runs, function calls,
safety ratings, and the body of a prompt blocked for safety."""

from __future__ import annotations

from typing import Any

from conformance.reference.model.engine import Completion, Generation, SafetyRating

FUNCTION_CALL_MESSAGE = "Model generated function call(s)."


def render_ratings(ratings: tuple[SafetyRating, ...]) -> list[dict[str, Any]]:
    """``safetyRatings``: ``blocked`` only where it is true, as Google writes it."""
    rendered = []
    for rating in ratings:
        item: dict[str, Any] = {"category": rating.category, "probability": rating.probability}
        if rating.blocked:
            item["blocked"] = True
        rendered.append(item)
    return rendered


def render_parts(completion: Completion) -> list[dict[str, Any]]:
    """Thought parts first, then code and its result, the answer text, and function calls last."""
    parts: list[dict[str, Any]] = [{"text": thought, "thought": True} for thought in completion.thoughts]
    for run in completion.code:
        parts.append(
            {"executableCode": {"language": "PYTHON", "code": run.code, **({"id": run.id} if run.id else {})}}
        )
        parts.append(
            {
                "codeExecutionResult": {
                    "outcome": "OUTCOME_OK",
                    "output": run.output,
                    **({"id": run.id} if run.id else {}),
                }
            }
        )
    if completion.text or not (completion.calls or completion.code):
        parts.append({"text": completion.text})
    for call in completion.calls:
        body: dict[str, Any] = {"id": call.id} if call.id else {}
        body.update({"name": call.name, "args": dict(call.args)})
        part: dict[str, Any] = {"functionCall": body}
        if call.signature:
            part["thoughtSignature"] = call.signature
        parts.append(part)
    return parts


def render_candidate_body(completion: Completion, index: int, finish: str) -> dict[str, Any]:
    """One candidate ending with ``finish``: a blocked one has ``content: {}`` and its ratings."""
    if completion.blocked:
        return {
            "content": {},
            "finishReason": "SAFETY",
            "index": index,
            "safetyRatings": render_ratings(completion.safety_ratings),
        }
    candidate: dict[str, Any] = {
        "content": {"parts": render_parts(completion), "role": "model"},
        "finishReason": finish,
        "index": index,
    }
    if completion.calls:
        candidate["finishMessage"] = FUNCTION_CALL_MESSAGE
    if completion.safety_ratings:
        candidate["safetyRatings"] = render_ratings(completion.safety_ratings)
    return candidate


def render_blocked_prompt(generation: Generation, usage: dict[str, Any]) -> dict[str, Any]:
    """The body of a prompt blocked before generation: no candidates, ``promptFeedback.blockReason``."""
    feedback: dict[str, Any] = {"blockReason": generation.block_reason}
    if generation.prompt_safety_ratings:
        feedback["safetyRatings"] = render_ratings(generation.prompt_safety_ratings)
    return {"promptFeedback": feedback, "usageMetadata": usage}
