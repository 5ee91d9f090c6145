"""Native rendering of what a candidate holds beyond text: thoughts, code runs, function calls,
generated images and audio, safety ratings, citations, logprobs, grounding and retrieved URLs, and the
body of a prompt blocked for safety."""

from __future__ import annotations

import base64
import html
from typing import Any

from conformance.reference.model.engine import Completion, Generation, SafetyRating, TokenLogprob

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
                    "outcome": run.outcome,
                    "output": run.output,
                    **({"id": run.id} if run.id else {}),
                }
            }
        )
    if completion.text or not (completion.calls or completion.code or completion.media):
        parts.append({"text": completion.text})
    for media in completion.media:
        data = base64.b64encode(media.data).decode("ascii")
        parts.append({"inlineData": {"mimeType": media.mime_type, "data": data}})
    for call in completion.calls:
        body: dict[str, Any] = {"id": call.id} if call.id else {}
        body.update({"name": call.name, "args": dict(call.args)})
        part: dict[str, Any] = {"functionCall": body}
        if call.signature:
            part["thoughtSignature"] = call.signature
        parts.append(part)
    return parts


def render_candidate(completion: Completion, index: int) -> dict[str, Any]:
    """One candidate of a generateContent response (thoughts, code and calls are parts too); a blocked one
    has ``content: {}`` and its ratings."""
    if completion.blocked:
        return {
            "content": {},
            "finishReason": "SAFETY",
            "index": index,
            "safetyRatings": render_ratings(completion.safety_ratings),
        }
    candidate: dict[str, Any] = {
        "content": {"parts": render_parts(completion), "role": "model"},
        "finishReason": completion.finish_reason,
        "index": index,
    }
    if completion.calls:
        candidate["finishMessage"] = FUNCTION_CALL_MESSAGE
    if completion.safety_ratings:
        candidate["safetyRatings"] = render_ratings(completion.safety_ratings)
    candidate.update(render_metadata(completion))
    return candidate


def render_logprobs(logprobs: tuple[TokenLogprob, ...]) -> dict[str, Any]:
    """``avgLogprobs`` and ``logprobsResult`` of a candidate's tokens."""

    def candidate(token: str, token_id: int, logprob: float) -> dict[str, Any]:
        return {"token": token, "tokenId": token_id, "logProbability": logprob}

    total = sum(item.logprob for item in logprobs)
    result: dict[str, Any] = {}
    if any(item.top for item in logprobs):
        result["topCandidates"] = [{"candidates": [candidate(*top) for top in item.top]} for item in logprobs]
    result["chosenCandidates"] = [candidate(item.token, item.token_id, item.logprob) for item in logprobs]
    result["logProbabilitySum"] = round(total, 6)
    return {"avgLogprobs": round(total / len(logprobs), 6) if logprobs else 0.0, "logprobsResult": result}


def render_metadata(completion: Completion) -> dict[str, Any]:
    """A candidate's metadata: citations, logprobs, search grounding and retrieved URLs."""
    rendered: dict[str, Any] = {}
    if completion.citations:
        rendered["citationMetadata"] = {
            "citationSources": [
                {
                    "startIndex": c.start,
                    "endIndex": c.end,
                    "uri": c.uri,
                    **({"license": c.license} if c.license else {}),
                }
                for c in completion.citations
            ]
        }
    if completion.logprobs is not None:
        rendered.update(render_logprobs(completion.logprobs))
    if completion.grounding is not None:
        grounding = completion.grounding
        end = len(completion.text.encode("utf-8"))
        rendered["groundingMetadata"] = {
            "searchEntryPoint": {
                "renderedContent": '<div class="container"><div class="chip">'
                + "".join(f"<span>{html.escape(query)}</span>" for query in grounding.queries)
                + "</div></div>"
            },
            "groundingChunks": [{"web": {"uri": uri, "title": title}} for uri, title in grounding.sources],
            "groundingSupports": [
                {
                    "segment": {"startIndex": 0, "endIndex": end, "text": completion.text},
                    "groundingChunkIndices": list(range(len(grounding.sources))),
                }
            ],
            "webSearchQueries": list(grounding.queries),
        }
    if completion.urls:
        rendered["urlContextMetadata"] = {
            "urlMetadata": [{"retrievedUrl": u.url, "urlRetrievalStatus": u.status} for u in completion.urls]
        }
    return rendered


def render_blocked_prompt(generation: Generation, usage: dict[str, Any]) -> dict[str, Any]:
    """The body of a prompt blocked before generation: no candidates, ``promptFeedback.blockReason``."""
    feedback: dict[str, Any] = {"blockReason": generation.block_reason}
    if generation.prompt_safety_ratings:
        feedback["safetyRatings"] = render_ratings(generation.prompt_safety_ratings)
    return {"promptFeedback": feedback, "usageMetadata": usage}
