"""The reference's features of issue 12, over HTTP: generated images and speech, logprobs, search grounding
and URL context, citations, failing code runs, context caches, mediaResolution, the trigger prompts, and the
spellings Google accepts; and how a rate-limited case is retried and judged."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import httpx

from conformance.engine.runner import Runner
from conformance.reference.model.engine import tokenize
from conformance.reference.model.outputs import AUDIO_RATE, IMAGE_TOKENS, SECONDS_PER_TOKEN
from conformance.suite.loader import load_cases
from conformance.suite.samples import sample_for
from conformance.validation.store import SchemaStore
from conformance.wire.profiles import load_provider
from conformance.wire.target import open_target
from tests.test_reference import (
    KEY,
    assert_google_error,
    chat,
    chat_body,
    gen,
    gen_ok,
    msg,
    native,
    text_of,
    user,
)

Json = dict[str, Any]
IMAGE = "gemini-2.5-flash-image"
TTS = "gemini-2.5-flash-preview-tts"


def parts_of(body: Json) -> list[Json]:
    parts: list[Json] = body["candidates"][0]["content"]["parts"]
    return parts


def config(**settings: Any) -> Json:
    return {"contents": [user("Reply with exactly: A B")], "generationConfig": settings}


def test_image_and_speech_output(client: httpx.Client) -> None:
    drawn = gen_ok(client, config(responseModalities=["TEXT", "IMAGE"]), model=IMAGE)
    image = parts_of(drawn)[-1]["inlineData"]
    assert image["mimeType"] == "image/png"
    assert base64.b64decode(image["data"]) == sample_for("image/png").read()
    usage = drawn["usageMetadata"]
    assert usage["candidatesTokensDetails"] == [
        {"modality": "TEXT", "tokenCount": 2},
        {"modality": "IMAGE", "tokenCount": IMAGE_TOKENS},
    ]
    assert usage["candidatesTokenCount"] == 2 + IMAGE_TOKENS
    assert gen(client, config(responseModalities=["TEXT", "IMAGE"])).status_code == 400  # a text model
    speech = {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}
    spoken = gen_ok(client, config(responseModalities=["AUDIO"], speechConfig=speech), model=TTS)
    (audio,) = parts_of(spoken)
    assert audio["inlineData"]["mimeType"] == "audio/L16;codec=pcm;rate=24000"
    samples = len(base64.b64decode(audio["inlineData"]["data"])) // 2
    assert samples == int(2 * SECONDS_PER_TOKEN * AUDIO_RATE)  # "A B": two tokens, 16-bit PCM
    assert spoken["usageMetadata"]["candidatesTokensDetails"][0]["modality"] == "AUDIO"
    assert gen(client, config(responseModalities=["TEXT"]), model=TTS).status_code == 400
    unknown = {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Nobody"}}}
    assert_google_error(
        gen(client, config(responseModalities=["AUDIO"], speechConfig=unknown), model=TTS),
        400,
        "INVALID_ARGUMENT",
        "Voice name",
    )
    three = {
        "multiSpeakerVoiceConfig": {
            "speakerVoiceConfigs": [
                {"speaker": s, "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}} for s in "abc"
            ]
        }
    }
    assert_google_error(
        gen(client, config(responseModalities=["AUDIO"], speechConfig=three), model=TTS),
        400,
        "INVALID_ARGUMENT",
        "Exactly two",
    )
    refused = chat(client, chat_body(msg("user", "hi"), model=TTS))
    assert refused.status_code == 400 and "chat completions cannot carry" in refused.text


def test_logprobs(client: httpx.Client) -> None:
    candidate = gen_ok(client, config(responseLogprobs=True, logprobs=3))["candidates"][0]
    chosen = candidate["logprobsResult"]["chosenCandidates"]
    assert [c["token"] for c in chosen] == ["A", " B"]
    assert all(len(step["candidates"]) == 3 for step in candidate["logprobsResult"]["topCandidates"])
    assert candidate["avgLogprobs"] == round(sum(c["logProbability"] for c in chosen) / 2, 6)
    assert "logprobsResult" not in gen_ok(client, config(logprobs=3))["candidates"][0]
    assert_google_error(gen(client, config(responseLogprobs=True, logprobs=21)), 400, "INVALID_ARGUMENT")
    body = chat_body(msg("user", "Reply with exactly: A B"), logprobs=True, top_logprobs=2)
    content = chat(client, body).json()["choices"][0]["logprobs"]["content"]
    assert [(c["token"], len(c["top_logprobs"])) for c in content] == [("A", 2), (" B", 2)]
    assert chat(client, chat_body(msg("user", "hi"), top_logprobs=2)).status_code == 400  # logprobs not true


def test_grounding_url_context_and_citations(client: httpx.Client) -> None:
    asked = {"contents": [user("Who won? Read https://example.com/a.")], "tools": [{"googleSearch": {}}]}
    grounded = gen_ok(client, asked)
    metadata = grounded["candidates"][0]["groundingMetadata"]
    answer = text_of(grounded)
    assert metadata["webSearchQueries"] == ["Who won? Read https://example.com/a."]
    assert metadata["groundingSupports"][0]["segment"]["endIndex"] == len(answer.encode("utf-8"))
    usage = grounded["usageMetadata"]
    assert usage["totalTokenCount"] == sum(
        usage.get(k, 0)
        for k in ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount")
    )
    urls = gen_ok(client, {**asked, "tools": [{"urlContext": {}}]})["candidates"][0]["urlContextMetadata"]
    assert urls == {
        "urlMetadata": [
            {"retrievedUrl": "https://example.com/a", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}
        ]
    }
    recited = gen_ok(client, {"contents": [user("Recite the Declaration of Independence")]})
    (source,) = recited["candidates"][0]["citationMetadata"]["citationSources"]
    assert source["endIndex"] == len(text_of(recited).encode("utf-8")) and source["uri"].startswith(
        "https://"
    )
    failed = gen_ok(client, {"contents": [user("Calculate 7 // 0")], "tools": [{"codeExecution": {}}]})
    result = parts_of(failed)[1]["codeExecutionResult"]
    assert result["outcome"] == "OUTCOME_FAILED" and "ZeroDivisionError" in result["output"]


def test_context_caches(client: httpx.Client) -> None:
    text = base64.b64encode(("MANGO grows on trees. " * 300).encode()).decode()
    cached = [
        user("The code word is QUINCE."),
        {"role": "user", "parts": [{"inlineData": {"mimeType": "text/plain", "data": text}}]},
    ]
    made = client.post(
        "/v1beta/cachedContents",
        params={"key": KEY},
        json={"model": "models/gemini-2.5-flash", "contents": cached},
    )
    assert made.status_code == 200, made.text
    name, tokens = made.json()["name"], made.json()["usageMetadata"]["totalTokenCount"]
    assert tokens >= 1024 and client.get(f"/v1beta/{name}", params={"key": KEY}).json()["name"] == name
    ask = {"cachedContent": name, "contents": [user("What is the code word?")]}
    answered = gen_ok(client, ask)
    assert text_of(answered) == "QUINCE"
    usage = answered["usageMetadata"]
    assert usage["cachedContentTokenCount"] == tokens
    assert usage["promptTokenCount"] == tokens + len(tokenize("What is the code word?"))
    assert_google_error(
        gen(client, ask, model="gemini-2.5-pro"), 400, "INVALID_ARGUMENT", "has to be the same"
    )
    assert client.delete(f"/v1beta/{name}", params={"key": KEY}).status_code == 200
    assert_google_error(gen(client, ask), 403, "PERMISSION_DENIED", "CachedContent not found")
    small = client.post(
        "/v1beta/cachedContents",
        params={"key": KEY},
        json={"model": "models/gemini-2.5-flash", "contents": [user("hi")]},
    )
    assert_google_error(small, 400, "INVALID_ARGUMENT", "too small")


def test_media_resolution_and_spellings(client: httpx.Client) -> None:
    png = base64.b64encode(sample_for("image/png").read()).decode()

    def image_tokens(generation: Json, part: Json | None = None) -> int:
        blob = {"inlineData": {"mimeType": "image/png", "data": png}, **(part or {})}
        body = {"contents": [{"parts": [blob]}], "generationConfig": generation}
        return int(
            native(client, "countTokens", {"generateContentRequest": {"model": "x", **body}}).json()[
                "totalTokens"
            ]
        )

    assert image_tokens({}) == 258
    assert image_tokens({"mediaResolution": "MEDIA_RESOLUTION_LOW"}) == 64
    assert image_tokens({}, {"mediaResolution": {"level": "MEDIA_RESOLUTION_MEDIUM"}}) == 256
    singular = {
        "system_instruction": {"parts": {"text": "Reply with exactly: S"}},
        "contents": {"parts": {"text": "x"}},
    }
    assert text_of(gen_ok(client, singular)) == "S"
    assert gen(client, config(stopSequences="B")).status_code == 400  # a scalar list is still a list
    mpeg = base64.b64encode(sample_for("audio/mp3").read()).decode()
    heard = gen_ok(
        client,
        {
            "contents": [
                {
                    "parts": [
                        {"inlineData": {"mimeType": "audio/mpeg", "data": mpeg}},
                        {"text": "Which fruit?"},
                    ]
                }
            ]
        },
    )
    assert text_of(heard) == "BANANA"


def test_trigger_prompts_answer_with_their_errors(client: httpx.Client) -> None:
    limited = gen(client, {"contents": [user("CONFORMANCE-TRIGGER-RATE-LIMIT")]})
    body = assert_google_error(limited, 429, "RESOURCE_EXHAUSTED")
    assert limited.headers["retry-after"] == "1"
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"} in body["details"]
    assert_google_error(
        gen(client, {"contents": [user("CONFORMANCE-TRIGGER-OVERLOADED")]}), 503, "UNAVAILABLE"
    )
    assert_google_error(
        gen(client, {"contents": [user("CONFORMANCE-TRIGGER-SERVER-ERROR")]}), 500, "INTERNAL"
    )
    streamed = client.post(
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        params={"key": KEY, "alt": "sse"},
        json={"contents": [user("CONFORMANCE-TRIGGER-RATE-LIMIT")]},
    )
    assert streamed.status_code == 429 and streamed.headers["content-type"].startswith("text/event-stream")
    arrayed = client.post(  # a streamed error without alt=sse comes in an array, its Retry-After kept
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        params={"key": KEY},
        json={"contents": [user("CONFORMANCE-TRIGGER-RATE-LIMIT")]},
    )
    assert arrayed.status_code == 429 and arrayed.headers["retry-after"] == "1"
    assert arrayed.json()[0]["error"]["status"] == "RESOURCE_EXHAUSTED"
    openai = chat(client, chat_body(msg("user", "CONFORMANCE-TRIGGER-RATE-LIMIT")))
    assert openai.status_code == 429 and openai.json()["error"]["code"] == "rate_limit_exceeded"
    assert chat(client, chat_body(msg("user", "CONFORMANCE-TRIGGER-OVERLOADED"))).status_code == 503
    blocked = chat(client, chat_body(msg("user", "CONFORMANCE-TRIGGER-PROMPT-BLOCK"))).json()
    assert blocked["choices"][0]["finish_reason"] == "content_filter"


def test_a_rate_limited_case_is_retried_and_judged_on_the_last_answer(schemas: SchemaStore) -> None:
    """The trigger answers 429 every time: the transport retries it (the embedded reference asks for no
    wait), and the case judges the answer after the last retry."""
    cases = [case for case in load_cases() if case.id == "gemini/errors/rate-limit"]
    provider = dataclasses.replace(load_provider("reference"), embedded=True, base_url=None)
    with open_target(provider) as target:
        result = Runner(target.provider, target.api_key, schemas).run(cases)["gemini/errors/rate-limit"]
    assert result.outcome == "passed", result.message
    (exchange,) = result.attempts[0].exchanges
    assert exchange.status == 429 and exchange.retries == provider.retry.attempts == 2
    assert [(r.status, r.retry_after, r.waited) for r in exchange.retry_log] == [(429, "0", 0.0)] * 2
