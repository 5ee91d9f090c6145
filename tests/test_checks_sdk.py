"""The sdk check on probe exchanges: what the SDK returned or raised, by class."""

from __future__ import annotations

import json
from typing import Any

from conformance.wire.exchange import Exchange, ProbeExchange, SentRequest
from tests.test_checks import exchange, verdict

CLIENT_ERROR = ("google.genai.errors.ClientError", "google.genai.errors.APIError", "builtins.Exception")


def probe(outcome: str, classes: tuple[str, ...], body: Any) -> ProbeExchange:
    return ProbeExchange(
        request=SentRequest("SDK", "google-genai 3: models.generate_content", (), b"{}"),
        status=400 if outcome == "raised" else 200,
        headers=(("content-type", "application/json"),),
        body=json.dumps(body).encode(),
        sdk="google-genai 3",
        outcome=outcome,  # type: ignore[arg-type]
        classes=classes,
    )


RETURNED = probe("returned", ("google.genai.types.GenerateContentResponse",), {"text": "PINEAPPLE"})
RAISED = probe(
    "raised", CLIENT_ERROR, {"exception": CLIENT_ERROR[0], "code": 400, "message": "API key not valid."}
)

GOOD_AND_BAD: list[tuple[str, Any, Exchange, Exchange, str]] = [
    (
        "sdk",
        {"returns": "GenerateContentResponse"},
        RETURNED,
        RAISED,
        "raised google.genai.errors.ClientError (HTTP 400): API key not valid.; expected it to return",
    ),
    ("sdk", {"raises": "ClientError"}, RAISED, RETURNED, "expected it to raise ClientError"),
    ("sdk", {"raises": "errors.APIError"}, RAISED, exchange({}), "this step sent a raw HTTP request"),
    (
        "sdk",
        {"returns": "GenerateContentResponse"},
        RETURNED,
        probe("returned", (), []),
        "returned an empty stream or listing",
    ),
]


def test_another_class_is_named(schemas) -> None:
    (problem,) = verdict(schemas, "sdk", {"raises": "ServerError"}, RAISED)
    assert (
        "raised google.genai.errors.ClientError (HTTP 400): API key not valid.; expected ServerError"
        in problem
    )
