"""The runner against broken gateways: bad bodies and slow answers are errored cases, never crashes."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from conformance.engine.runner import Runner
from conformance.reference.server import ReferenceServer
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.wire.profiles import Provider, Timeouts
from conformance.wire.profiles import Route as GatewayRoute


async def html(_request) -> Response:
    return Response("<html>gateway error</html>", media_type="text/html")


async def slow(_request) -> Response:
    await asyncio.sleep(1.5)
    return Response("{}", media_type="application/json")


APP = Starlette(
    routes=[Route("/v1beta/html", html, methods=["POST"]), Route("/v1beta/slow", slow, methods=["POST"])]
)


def provider(base_url: str, total: float = 30.0) -> Provider:
    return Provider(
        name="t",
        gemini=GatewayRoute("/v1beta", "query"),
        openai=GatewayRoute("/v1", "bearer"),
        default_model="m",
        base_url=base_url,
        timeouts=Timeouts(connect=2, read=total, total=total),
    )


def case(path: str, policy: Policy | None = None) -> Case:
    step = Step(
        RequestSpec("POST", path, body={"contents": []}),
        (Expectation("status", 200), Expectation("json", {"at": "/x", "exists": True})),
    )
    return Case(
        id="gemini/t/c",
        protocol="gemini",
        feature="t",
        level="MUST",
        title="t",
        reference="r",
        steps=(step,),
        policy=policy or Policy(),
        source=Path("t.yaml"),
    )


def test_non_json_body_is_errored_with_a_clear_message(schemas):
    with ReferenceServer(APP) as server:
        result = Runner(provider(server.base_url), "k", schemas).run([case("/html")])["gemini/t/c"]
    assert result.outcome == "errored"
    assert "body is not JSON" in result.message and "<html>" in result.message


def test_slow_gateway_times_out_as_errored(schemas):
    with ReferenceServer(APP) as server:
        result = Runner(provider(server.base_url, total=0.5), "k", schemas).run([case("/slow")])["gemini/t/c"]
    assert result.outcome == "errored"
    assert "timed out" in result.message or "timeout" in result.message
    assert result.duration_ms < 3000


def test_repeat_policy_stops_once_enough_attempts_passed(schemas):
    from conformance.reference.app import create_app

    with ReferenceServer(create_app(api_key="k")) as server:
        good = dataclasses.replace(
            case("/models/gemini-2.5-flash:countTokens", Policy(repeat=3, require=2)),
            steps=(
                Step(
                    RequestSpec(
                        "POST",
                        "/models/gemini-2.5-flash:countTokens",
                        body={"contents": [{"parts": [{"text": "hi"}]}]},
                    ),
                    (Expectation("status", 200),),
                ),
            ),
        )
        result = Runner(provider(server.base_url), "k", schemas).run([good])["gemini/t/c"]
    assert result.outcome == "passed" and len(result.attempts) == 2 and result.passes == 2


def test_only_attempts_that_can_be_shown_keep_their_exchanges(schemas):
    # Repeated attempts must not each hold a response body until the case ends: a gateway answering every
    # request with a capped 8 MiB body would otherwise cost rounds x attempts x 8 MiB per case in flight.
    calls = []

    async def flip(_request) -> Response:
        calls.append(1)
        return Response('{"x": 1}' if len(calls) % 2 else "{}", media_type="application/json")

    app = Starlette(routes=[Route("/v1beta/flip", flip, methods=["POST"])])
    with ReferenceServer(app) as server:
        runner = Runner(provider(server.base_url), "k", schemas, repeat=3)
        result = runner.run([case("/flip", Policy(repeat=3, require=2))])["gemini/t/c"]
    assert len(result.attempts) == len(calls) >= 6, result.message
    shown = result.evidence_attempt
    assert shown is not None and not shown.passed and len(shown.exchanges) == 1
    kept = [attempt for attempt in result.attempts if attempt.exchanges]
    assert kept == [shown, result.attempts[-1]] or kept == [shown] == [result.attempts[-1]]
    assert all(attempt.failures for attempt in result.attempts if not attempt.passed), "failures stay"
