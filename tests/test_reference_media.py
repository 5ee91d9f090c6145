"""The reference gateway's media reading, its answers from media, and its multimodal faults."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.reference.app import create_app
from conformance.reference.faults.media import NGINX_413
from conformance.reference.faults.registry import FAULTS, activate
from conformance.reference.faults.seams import REQUEST, Call
from conformance.reference.model.catalogue import Catalogue
from conformance.reference.model.engine import Prompt, Turn, answer
from conformance.reference.protocols.media_input import (
    SUPPORTED_MIME_TYPES,
    MediaError,
    decode_base64,
    read_data_uri,
    read_inline,
    read_url,
)
from conformance.reference.server import ReferenceServer
from conformance.suite.samples import load_media, sample_for

REPO = Path(__file__).resolve().parent.parent
KEY = "media-test-key"
SAMPLES = load_media()


def b64(mime_type: str) -> str:
    return base64.b64encode(sample_for(mime_type).read()).decode()


def test_the_documented_types_are_exactly_the_samples() -> None:
    assert sorted(SUPPORTED_MIME_TYPES) == sorted(s.mime_type for s in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.mime_type for s in SAMPLES])
def test_every_sample_is_read_with_its_modality_and_word(sample) -> None:
    media = read_inline(sample.mime_type, sample.read())
    assert media.modality == sample.modality
    assert media.word == sample.word
    assert media.tokens > 0


def test_text_is_read_from_the_text_itself_not_only_known_files() -> None:
    media = read_inline("text/csv", b"id,fruit\n7,papaya\n")
    assert (media.modality, media.word, media.tokens) == ("TEXT", "PAPAYA", 6)
    assert read_inline("text/plain", b"nothing to see").word is None


@pytest.mark.parametrize(
    ("mime_type", "data", "message"),
    [
        ("image/gif", b"GIF89a", "Unsupported MIME type: image/gif"),
        ("application/x-msdownload", b"MZ", "Unsupported MIME type"),
        ("image/jpg", sample_for("image/jpeg").read(), "Unsupported MIME type: image/jpg"),
        ("image/png", sample_for("image/jpeg").read(), "looks like image/jpeg, not image/png"),
        ("audio/wav", sample_for("image/png").read(), "Unable to process input audio"),
        ("text/plain", sample_for("image/png").read(), "Unable to process input text"),
        ("video/mp4", b"\x00" * 64, "is not recognised"),
    ],
)
def test_unsupported_or_mislabelled_media_is_refused(mime_type: str, data: bytes, message: str) -> None:
    with pytest.raises(MediaError, match=message.replace("(", "\\(")):
        read_inline(mime_type, data)


def test_container_aliases_agree() -> None:
    assert read_inline("video/mpg", sample_for("video/mpeg").read()).modality == "VIDEO"
    assert read_inline("video/mov", sample_for("video/mp4").read()).word == "LEMON"
    assert read_inline("image/heif", sample_for("image/heic").read()).word == "APPLE"
    assert read_inline("IMAGE/PNG; charset=binary", sample_for("image/png").read()).word == "APPLE"


def test_base64_in_both_alphabets_with_or_without_padding() -> None:
    data = sample_for("image/png").read()
    url = base64.urlsafe_b64encode(data).decode()
    assert decode_base64(base64.b64encode(data).decode()) == data
    assert decode_base64(url) == data and decode_base64(url.rstrip("=")) == data
    assert decode_base64(url[:40] + "\n" + url[40:]) == data
    for bad in ("ab!c", "a", "abc=d", "====="):
        assert decode_base64(bad) is None, bad


def test_urls() -> None:
    assert read_url("data:image/png;base64," + b64("image/png")).word == "APPLE"
    remote = read_url("https://example.com/x.jpg")
    assert (remote.modality, remote.word) == ("IMAGE", None)
    for bad in ("ftp://example.com/x.jpg", "data:image/png," + b64("image/png"), "data:image/png;base64,@@"):
        with pytest.raises(MediaError):
            read_url(bad)
    with pytest.raises(MediaError, match="Invalid data URI"):
        read_data_uri("image/png;base64,AAAA")


def test_engine_names_the_fruits_of_the_latest_media() -> None:
    image, audio = (
        read_inline("image/png", sample_for("image/png").read()),
        read_inline("audio/wav", sample_for("audio/wav").read()),
    )
    ask = Turn("user", ("Which fruit is it?",))
    assert (
        answer(Prompt((Turn("user", ("Which fruits are they?",), media=(image, audio, image)),)))
        == "APPLE, BANANA"
    )
    history = (Turn("user", ("keep",), media=(audio,)), Turn("model", ("OK",)), ask)
    assert answer(Prompt(history)) == "BANANA"
    assert answer(Prompt((Turn("user", ("Which fruit?",), media=("IMAGE",)),))) == "I cannot tell."
    assert answer(Prompt((ask,))) == "I see no media."


# -- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    app = create_app(api_key=KEY)
    with ReferenceServer(app) as running:
        yield running


def post(server: Any, path: str, body: Any, faults: tuple[str, ...] = ()) -> httpx.Response:
    server.app.state.faults = set(faults)
    try:
        return httpx.post(
            server.base_url + path,
            json=body,
            headers={"x-goog-api-key": KEY, "authorization": f"Bearer {KEY}"},
        )
    finally:
        server.app.state.faults = set()


def native(mime_type: str, question: str = "Which fruit is it?", data: str | None = None) -> dict[str, Any]:
    blob = {"mimeType": mime_type, "data": b64(mime_type) if data is None else data}
    return {"contents": [{"role": "user", "parts": [{"inlineData": blob}, {"text": question}]}]}


def chat(url: str) -> dict[str, Any]:
    content = [
        {"type": "image_url", "image_url": {"url": url}},
        {"type": "text", "text": "Which fruit is it?"},
    ]
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": content}]}


def test_native_answer_usage_and_count_tokens_agree(server) -> None:
    response = post(server, "/v1beta/models/gemini-2.5-flash:generateContent", native("application/pdf"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["candidates"][0]["content"]["parts"][0]["text"] == "PAPAYA"
    details = body["usageMetadata"]["promptTokensDetails"]
    assert details == [{"modality": "TEXT", "tokenCount": 5}, {"modality": "DOCUMENT", "tokenCount": 258}]
    counted = post(server, "/v1beta/models/gemini-2.5-flash:countTokens", native("application/pdf")).json()
    assert counted == {
        "totalTokens": body["usageMetadata"]["promptTokenCount"],
        "promptTokensDetails": details,
    }


def test_native_errors_are_google_400s(server) -> None:
    for body, words in (
        (native("image/png", data="not*base64!"), "Base64 decoding failed"),
        (native("image/png", data=b64("audio/wav")), "Unable to process input image"),
    ):
        response = post(server, "/v1beta/models/gemini-2.5-flash:generateContent", body)
        assert response.status_code == 400
        assert (
            response.json()["error"]["status"] == "INVALID_ARGUMENT"
            and words in response.json()["error"]["message"]
        )


def test_openai_answers_from_a_data_uri_and_refuses_bad_ones(server) -> None:
    ok = post(server, "/v1/chat/completions", chat("data:video/webm;base64," + b64("video/webm")))
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == "LEMON"
    bad = post(server, "/v1/chat/completions", chat("data:image/png;base64,@@@"))
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    assert bad.json()["error"]["param"] == "messages[0].content[0].image_url"


@pytest.mark.parametrize(
    ("fault", "mime_type", "status", "text"),
    [
        ("media-audio-rejected", "audio/ogg", 400, None),
        ("media-audio-rejected", "image/png", 200, "APPLE"),
        ("media-text-rejected", "application/x-python", 400, None),
        ("media-dropped", "image/png", 200, "I see no media."),
        ("mime-jpg-alias", "image/jpeg", 400, None),
        ("mime-jpg-alias", "image/png", 200, "APPLE"),
        ("mime-forced-png", "image/webp", 400, None),
        ("mime-forced-png", "image/png", 200, "APPLE"),
    ],
)
def test_media_faults_on_both_routes(
    server, fault: str, mime_type: str, status: int, text: str | None
) -> None:
    gemini = post(
        server, "/v1beta/models/gemini-2.5-flash:generateContent", native(mime_type), faults=(fault,)
    )
    openai = post(
        server, "/v1/chat/completions", chat(f"data:{mime_type};base64,{b64(mime_type)}"), faults=(fault,)
    )
    assert (gemini.status_code, openai.status_code) == (status, status), (gemini.text, openai.text)
    if text is not None:
        assert gemini.json()["candidates"][0]["content"]["parts"][0]["text"] == text
        assert openai.json()["choices"][0]["message"]["content"] == text


def test_invalid_base64_accepted_fault(server) -> None:
    data = b64("image/png")
    broken = data[:40] + "!*@#" + data[40:]
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    assert post(server, path, native("image/png", data=broken)).status_code == 400
    fooled = post(server, path, native("image/png", data=broken), faults=("invalid-base64-accepted",))
    assert (
        fooled.status_code == 200 and fooled.json()["candidates"][0]["content"]["parts"][0]["text"] == "APPLE"
    )


def test_remote_image_url_dropped_fault(server) -> None:
    body = chat("https://example.com/x.jpg")
    kept = post(server, "/v1/chat/completions", body).json()["usage"]["prompt_tokens"]
    dropped = post(server, "/v1/chat/completions", body, faults=("remote-image-url-dropped",)).json()[
        "usage"
    ]["prompt_tokens"]
    assert kept == dropped + 258


def test_body_limit_fault_answers_nginx_413(server) -> None:
    big = native("video/mpeg", data=base64.b64encode(sample_for("video/mpeg").read() * 60).decode())
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    assert post(server, path, big).status_code == 200
    limited = post(server, path, big, faults=("request-body-limit",))
    assert (limited.status_code, limited.content) == (413, NGINX_413)
    assert post(server, path, native("image/png"), faults=("request-body-limit",)).status_code == 200


def rewrite(body: Any, protocol: Any, *faults: str) -> Any:
    """A request body as the given faults forward it (the ``request`` seam)."""
    return activate(faults).apply(REQUEST, body, Call(protocol, Catalogue.of()))


def test_rewrites_leave_the_original_body_alone() -> None:
    body = native("image/jpeg")
    assert rewrite(body, "gemini") is body
    changed = rewrite(body, "gemini", "mime-jpg-alias")
    assert changed["contents"][0]["parts"][0]["inlineData"]["mimeType"] == "image/jpg"
    assert body["contents"][0]["parts"][0]["inlineData"]["mimeType"] == "image/jpeg"
    snake = {"contents": [{"parts": [{"inline_data": {"mime_type": "image/jpeg", "data": "AAAA"}}]}]}
    forced = rewrite(snake, "gemini", "mime-forced-png")
    assert forced["contents"][0]["parts"][0]["inline_data"]["mime_type"] == "image/png"
    openai = chat("data:image/jpeg;base64,AAAA")
    aliased = rewrite(openai, "openai", "mime-jpg-alias")
    assert aliased["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/jpg;")
    assert openai["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/jpeg;")


def test_every_media_fault_is_registered_with_cases() -> None:
    names = {"media-image-rejected", "media-audio-rejected", "media-video-rejected",
             "media-document-rejected", "media-text-rejected", "media-dropped", "mime-jpg-alias",
             "mime-forced-png", "invalid-base64-accepted", "remote-image-url-dropped",
             "request-body-limit"}  # fmt: skip
    assert names <= FAULTS.keys()
    assert len(FAULTS["media-video-rejected"].caught_by) == 3 * 9


def test_generated_case_files_are_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_multimodal_cases.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_openai_input_audio_and_file_parts(server) -> None:
    def ask(part: dict[str, Any]) -> httpx.Response:
        content = [part, {"type": "text", "text": "Which fruit is it?"}]
        return post(
            server,
            "/v1/chat/completions",
            {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": content}]},
        )

    audio = ask({"type": "input_audio", "input_audio": {"data": b64("audio/mp3"), "format": "mp3"}})
    assert audio.status_code == 200 and audio.json()["choices"][0]["message"]["content"] == "BANANA"
    pdf = ask(
        {
            "type": "file",
            "file": {
                "file_data": "data:application/pdf;base64," + b64("application/pdf"),
                "filename": "a.pdf",
            },
        }
    )
    assert pdf.status_code == 200 and pdf.json()["choices"][0]["message"]["content"] == "PAPAYA"
    flac = ask({"type": "input_audio", "input_audio": {"data": b64("audio/flac"), "format": "flac"}})
    assert flac.status_code == 400 and flac.json()["error"]["param"] == "messages[0].content[0].input_audio"
    missing = ask({"type": "image_url", "image_url": {}})
    assert missing.status_code == 400 and "image_url.url" in missing.json()["error"]["message"]
