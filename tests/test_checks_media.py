"""The json check's ``some`` mode and cross-step comparisons (``gt_at`` and friends) of multimodal cases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_checks import exchange, verdict

DETAILS = {
    "usageMetadata": {
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 9},
            {"modality": "IMAGE", "tokenCount": 258},
        ]
    }
}
TEXT_ONLY = {"usageMetadata": {"promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}]}}

GOOD_AND_BAD: list[tuple[str, Any, Any, Any, str]] = [
    (
        "json",
        {"at": "/usageMetadata/promptTokensDetails/*/modality", "some": True, "equals": "IMAGE"},
        exchange(DETAILS),
        exchange(TEXT_ONLY),
        'satisfies {"equals": "IMAGE"} (found "TEXT")',
    ),
]


def test_some_passes_when_one_value_holds_and_every_otherwise(schemas) -> None:
    at = "/usageMetadata/promptTokensDetails/*/modality"
    assert verdict(schemas, "json", {"at": at, "some": True, "equals": "IMAGE"}, exchange(DETAILS)) == []
    assert verdict(schemas, "json", {"at": at, "equals": "IMAGE"}, exchange(DETAILS)) == [
        '/usageMetadata/promptTokensDetails/0/modality: expected "IMAGE", got "TEXT"'
    ]
    assert verdict(schemas, "json", {"at": at, "some": True, "equals": "IMAGE"}, exchange({})) == [
        f"expected a value at {at}, found none"
    ]


@pytest.mark.parametrize(
    ("predicate", "first", "second", "ok"),
    [
        ("gt_at", 5, 6, True), ("gt_at", 5, 5, False), ("gte_at", 5, 5, True), ("gte_at", 6, 5, False),
        ("lt_at", 6, 5, True), ("lt_at", 5, 5, False), ("lte_at", 5, 5, True), ("lte_at", 5, 6, False),
        ("equals_at", 5, 5, True), ("equals_at", 5, 6, False),
    ],
)  # fmt: skip
def test_cross_step_comparisons(schemas, predicate: str, first: int, second: int, ok: bool) -> None:
    args = {"at": "/usage/prompt_tokens", predicate: "0#/usage/prompt_tokens"}
    problems = verdict(
        schemas,
        "json",
        args,
        exchange({"usage": {"prompt_tokens": first}}),
        exchange({"usage": {"prompt_tokens": second}}),
    )
    assert (problems == []) is ok, problems


def test_cross_step_comparison_names_a_missing_value(schemas) -> None:
    args = {"at": "/usage/prompt_tokens", "gt_at": "0#/usage/prompt_tokens"}
    problems = verdict(schemas, "json", args, exchange({}), exchange({"usage": {"prompt_tokens": 1}}))
    assert problems == ["nothing at 0#/usage/prompt_tokens to compare /usage/prompt_tokens with"]


@pytest.mark.parametrize(
    ("check", "args", "good", "bad", "message"),
    GOOD_AND_BAD,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(GOOD_AND_BAD)],
)
def test_check_passes_good_and_fails_bad(schemas, check, args, good, bad, message) -> None:
    assert verdict(schemas, check, args, good) == []
    problems = verdict(schemas, check, args, bad)
    assert any(message in problem for problem in problems), problems
