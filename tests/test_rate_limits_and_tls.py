"""Rate limits (429 and 503 retried, honouring Retry-After, recorded) and TLS (verified; CA bundle)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.engine.runner import Runner
from conformance.errors import ConfigError
from conformance.reference.server import ReferenceServer
from conformance.report.evidence import record_of
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.wire.profiles import Provider, RetryPolicy, Timeouts, load_provider, with_overrides
from conformance.wire.profiles import Route as GatewayRoute
from conformance.wire.redact import Redactor
from conformance.wire.retry import retry_after_seconds, wait_before_retry

HITS: Counter[str] = Counter()


async def limited(request: Request) -> Response:
    """429 twice (Retry-After: 1), then 200."""
    HITS["limited"] += 1
    if HITS["limited"] <= 2:
        return JSONResponse(
            {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}},
            429,
            {"Retry-After": "1"},
        )
    return JSONResponse({"ok": True})


async def overloaded(request: Request) -> Response:
    """Always 503 without Retry-After."""
    HITS["overloaded"] += 1
    return JSONResponse({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}, 503)


APP = Starlette(
    routes=[
        Route("/v1beta/limited", limited, methods=["POST"]),
        Route("/v1beta/overloaded", overloaded, methods=["POST"]),
    ]
)


def provider(base_url: str, retry: RetryPolicy, ca_bundle: str | None = None) -> Provider:
    return Provider(
        name="t",
        gemini=GatewayRoute("/v1beta", "query"),
        openai=GatewayRoute("/v1", "bearer"),
        default_model="m",
        base_url=base_url,
        timeouts=Timeouts(connect=2, read=5, total=5),
        retry=retry,
        ca_bundle=ca_bundle,
    )


def case(path: str) -> Case:
    step = Step(RequestSpec("POST", path, body={}), (Expectation("status", 200),))
    return Case(
        id="gemini/t/c",
        protocol="gemini",
        feature="t",
        level="MUST",
        title="t",
        reference="r",
        steps=(step,),
        policy=Policy(),
        source=Path("t.yaml"),
    )


def test_429_is_retried_honouring_retry_after_and_recorded(schemas):
    HITS.clear()
    with ReferenceServer(APP) as server:
        result = Runner(
            provider(server.base_url, RetryPolicy(attempts=3, backoff=5, max_wait=0.05)), "k", schemas
        ).run([case("/limited")])
    result = result["gemini/t/c"]
    assert result.outcome == "passed" and HITS["limited"] == 3
    exchange = result.attempts[0].exchanges[0]
    assert exchange.retries == 2 and [r.status for r in exchange.retry_log] == [429, 429]
    assert all(
        r.retry_after == "1" and r.waited == 0.05 for r in exchange.retry_log
    )  # Retry-After capped by max_wait
    record = record_of(result, Redactor()).to_json()
    assert (
        record["evidence"]["exchanges"][0]["retries"]
        == [{"status": 429, "retry_after": "1", "waited_ms": 50.0}] * 2
    )


def test_retries_are_bounded_and_back_off(schemas):
    HITS.clear()
    with ReferenceServer(APP) as server:
        result = Runner(
            provider(server.base_url, RetryPolicy(attempts=2, backoff=0.01, max_wait=1)), "k", schemas
        ).run([case("/overloaded")])
    result = result["gemini/t/c"]
    assert result.outcome == "failed" and "got 503" in result.message
    assert HITS["overloaded"] == 3
    assert [r.waited for r in result.attempts[0].exchanges[0].retry_log] == [0.01, 0.02]


def test_no_retries_when_disabled(schemas):
    HITS.clear()
    with ReferenceServer(APP) as server:
        Runner(provider(server.base_url, RetryPolicy(attempts=0)), "k", schemas).run([case("/overloaded")])
    assert HITS["overloaded"] == 1


def test_retry_after_forms():
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    policy = RetryPolicy(attempts=3, backoff=0.5, max_wait=10)
    assert [wait_before_retry(policy, n, None) for n in range(3)] == [0.5, 1.0, 2.0]
    assert wait_before_retry(policy, 0, "60") == 10


def test_retry_and_ca_bundle_from_profile_and_flags(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used here")
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "name: p\nbase_url: https://gw.example\ngemini: {prefix: /v1beta, auth: query}\n"
        "openai: {prefix: /v1, auth: bearer}\nmodels: {default: m}\n"
        "retry: {attempts: 4, backoff: 0.25, max_wait: 5}\nca_bundle: ca.pem\nconcurrency: 3\n"
    )
    loaded = load_provider(str(profile))
    assert (
        loaded.retry == RetryPolicy(4, 0.25, 5)
        and loaded.ca_bundle == str(bundle.resolve())
        and loaded.concurrency == 3
    )
    changed = with_overrides(loaded, {"retries": 0, "retry_max_wait": 2.0})
    assert changed.retry == RetryPolicy(0, 0.25, 2.0)
    with pytest.raises(ConfigError, match="--ca-bundle"):
        with_overrides(loaded, {"ca_bundle": str(tmp_path / "missing.pem")})
    with pytest.raises(ConfigError, match="--retries"):
        with_overrides(loaded, {"retries": -1})


# --- TLS: a self-signed loopback HTTPS server -------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    x509 = pytest.importorskip(
        "cryptography.x509", reason="the cryptography package (test extra) makes the test certificate"
    )
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conformance test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture(scope="module")
def https_server(tls_files):
    import socket
    import threading
    import time

    import uvicorn

    from conformance.reference.app import create_app

    cert, key = tls_files
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(api_key="tls-key"),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        log_config=None,
        access_log=False,
        lifespan="off",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"https://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)
    sock.close()


def test_tls_is_verified_by_default_and_a_ca_bundle_makes_it_trusted(
    https_server, tls_files, schemas, all_cases
):
    single = [c for c in all_cases if c.id == "gemini/models/list"]
    base = dataclasses.replace(load_provider("reference"), embedded=False, base_url=https_server)
    untrusted = Runner(base, "tls-key", schemas).run(single)["gemini/models/list"]
    assert untrusted.outcome == "errored" and "CERTIFICATE_VERIFY_FAILED" in untrusted.message
    trusted = with_overrides(base, {"ca_bundle": str(tls_files[0])})
    assert Runner(trusted, "tls-key", schemas).run(single)["gemini/models/list"].outcome == "passed"
    assert json.dumps(record_of(untrusted, Redactor(["tls-key"])).to_json()).count("tls-key") == 0
