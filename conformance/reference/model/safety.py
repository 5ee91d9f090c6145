"""The reference's safety filter: the two safety trigger prompts, harm ratings and block thresholds.

A real model cannot be made to block on demand, so the reference answers to two trigger phrases
(``triggers.TRIGGERS``; cases use them as ``{trigger:prompt-block}`` and ``{trigger:answer-block}``, and
a provider profile may name prompts that its real target blocks):

* ``prompt-block``: the prompt is refused before generation, whatever the settings
  (``promptFeedback.blockReason: PROHIBITED_CONTENT``, as Google does for content no threshold can
  allow).
* ``answer-block``: the answer rates MEDIUM for harassment (NEGLIGIBLE elsewhere) and is withheld
  unless the HARASSMENT threshold allows MEDIUM (``BLOCK_ONLY_HIGH``, ``BLOCK_NONE``, ``OFF``);
  unset and ``HARM_BLOCK_THRESHOLD_UNSPECIFIED`` mean ``BLOCK_MEDIUM_AND_ABOVE``.
"""

from __future__ import annotations

from collections.abc import Mapping

from conformance.reference.model.engine import Prompt, SafetyRating
from conformance.reference.model.triggers import ANSWER_BLOCK_WORD, PROMPT_BLOCK_WORD, user_text

PROMPT_BLOCK_REASON = "PROHIBITED_CONTENT"
RATED_CATEGORIES: tuple[str, ...] = (
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
)
TRIGGERED_CATEGORY = "HARM_CATEGORY_HARASSMENT"
_PROBABILITY_ORDER = ("NEGLIGIBLE", "LOW", "MEDIUM", "HIGH")
# The lowest probability each threshold blocks (None: never blocks).
_BLOCKS_FROM: dict[str, str | None] = {
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED": "MEDIUM",
    "BLOCK_LOW_AND_ABOVE": "LOW",
    "BLOCK_MEDIUM_AND_ABOVE": "MEDIUM",
    "BLOCK_ONLY_HIGH": "HIGH",
    "BLOCK_NONE": None,
    "OFF": None,
}


def prompt_block(prompt: Prompt) -> str | None:
    """The block reason when the prompt is refused outright, else None."""
    return PROMPT_BLOCK_REASON if PROMPT_BLOCK_WORD in user_text(prompt) else None


def blocks(threshold: str | None, probability: str) -> bool:
    """Whether a threshold (None: unset) blocks content of a probability."""
    start = _BLOCKS_FROM.get(threshold or "HARM_BLOCK_THRESHOLD_UNSPECIFIED", "MEDIUM")
    return start is not None and _PROBABILITY_ORDER.index(probability) >= _PROBABILITY_ORDER.index(start)


def answer_ratings(prompt: Prompt, thresholds: Mapping[str, str]) -> tuple[SafetyRating, ...]:
    """The answer's ratings when the answer trigger is present (empty otherwise), with blocked marked."""
    if ANSWER_BLOCK_WORD not in user_text(prompt):
        return ()
    ratings = []
    for category in RATED_CATEGORIES:
        probability = "MEDIUM" if category == TRIGGERED_CATEGORY else "NEGLIGIBLE"
        ratings.append(SafetyRating(category, probability, blocks(thresholds.get(category), probability)))
    return tuple(ratings)
