"""How the active faults degrade what the engine is asked (shared by both protocols)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace

from conformance.reference.model.engine import Prompt, Sampling


def degrade_input(prompt: Prompt, sampling: Sampling, faults: Set[str]) -> tuple[Prompt, Sampling]:
    """The prompt and sampling a faulty gateway would forward upstream."""
    if "system-instruction-dropped" in faults:
        prompt = prompt.without_system()
    if "history-dropped" in faults:
        prompt = prompt.only_last_user_turn()
    if "stop-sequences-dropped" in faults:
        sampling = replace(sampling, stop_sequences=())
    if "max-tokens-dropped" in faults:
        sampling = replace(sampling, max_output_tokens=None)
    if "candidate-count-ignored" in faults:
        sampling = replace(sampling, candidate_count=1)
    return prompt, sampling
