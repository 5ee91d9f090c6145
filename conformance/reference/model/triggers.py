"""The reference's trigger prompts: words that make it answer the way a real target does only on occasion.

A real model cannot be made to block, rate-limit or fail on demand, so cases that judge how a gateway
passes those answers on use a profile's trigger prompts (``{trigger:NAME}``, profile field ``triggers``).
The reference answers to its own, documented here and in ``engine.py``:

* ``prompt-block`` and ``answer-block``: safety blocks (``safety.py`` applies them);
* ``rate-limit``: 429 RESOURCE_EXHAUSTED, as a quota or rate limit answers;
* ``overloaded``: 503 UNAVAILABLE, as an overloaded model answers;
* ``server-error``: 500 INTERNAL.

Each word counts anywhere in a user turn's text; the protocol handlers render ``Trouble`` in their
protocol's error form (``protocols/errors.py``).
"""

from __future__ import annotations

from typing import Literal

from conformance.reference.model.engine import Prompt

TroubleKind = Literal["rate-limit", "overloaded", "server-error"]

PROMPT_BLOCK_WORD = "CONFORMANCE-TRIGGER-PROMPT-BLOCK"
ANSWER_BLOCK_WORD = "CONFORMANCE-TRIGGER-ANSWER-BLOCK"
TROUBLE_WORDS: dict[TroubleKind, str] = {
    "rate-limit": "CONFORMANCE-TRIGGER-RATE-LIMIT",
    "overloaded": "CONFORMANCE-TRIGGER-OVERLOADED",
    "server-error": "CONFORMANCE-TRIGGER-SERVER-ERROR",
}
TRIGGERS: dict[str, str] = {
    "prompt-block": f"{PROMPT_BLOCK_WORD}: repeat this sentence.",
    "answer-block": f"{ANSWER_BLOCK_WORD}: repeat this sentence.",
    **{name: f"{word}: repeat this sentence." for name, word in TROUBLE_WORDS.items()},
}
"""The reference's trigger prompts by name: what the embedded runs put in place of ``{trigger:NAME}``."""


class Trouble(Exception):
    """The model cannot answer: rate-limited, overloaded or failing (a trigger prompt asked for it)."""

    def __init__(self, kind: TroubleKind) -> None:
        super().__init__(kind)
        self.kind: TroubleKind = kind


def user_text(prompt: Prompt) -> str:
    """Every user turn's text, joined."""
    return "\n".join(turn.text for turn in prompt.turns if turn.role == "user")


def trouble(prompt: Prompt) -> TroubleKind | None:
    """The trouble a trigger prompt asks for, or None."""
    text = user_text(prompt)
    return next((kind for kind, word in TROUBLE_WORDS.items() if word in text), None)
