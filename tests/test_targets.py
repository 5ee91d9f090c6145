"""One run, many targets: every provider x model, each with its own folder, log, limits and breaker, all at
once; an interrupt closes every target's log."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.cli.main import main
from conformance.errors import ConfigError
from conformance.options import RunSettings
from conformance.report.log import LOG_NAME
from conformance.session import models_of, plans_of, report_dir
from conformance.wire.profiles import PROVIDERS_DIR, load_provider
from tests.fixtures import read_results

REPO = Path(__file__).resolve().parents[1]


def settings(**given: Any) -> RunSettings:
    values = {"provider": None, "model": None, "all_models": False, "repeat": 1, "breaker": 5, **given}
    return RunSettings.read(lambda dest: values.get(dest))


def test_every_provider_is_tested_with_every_model(all_cases):
    chosen = settings(provider=["google", "rivus"], model=["gemini-2.5-flash", "gemini-2.5-pro"])
    providers = [load_provider(name) for name in chosen.providers]
    plans = plans_of(chosen, providers, all_cases[:3])
    assert [(plan.provider.name, plan.provider.default_model, plan.out.as_posix()) for plan in plans] == [
        ("google", "gemini-2.5-flash", "reports/google"),
        ("google", "gemini-2.5-pro", "reports/google~gemini-2.5-pro"),
        ("rivus", "gemini-2.5-flash", "reports/rivus"),
        ("rivus", "gemini-2.5-pro", "reports/rivus~gemini-2.5-pro"),
    ]


def test_other_models_only_when_asked(tmp_path):
    google = load_provider("google")
    assert google.other_models, "the google profile lists other models"
    assert models_of(settings(), google) == (google.default_model,)
    assert models_of(settings(all_models=True), google) == (google.default_model, *google.other_models)
    assert models_of(settings(model=["x"], all_models=True), google) == ("x", *google.other_models)
    (single,) = plans_of(settings(model=["gemini-2.5-pro"], out=str(tmp_path)), [google], [])
    assert single.out == tmp_path and single.provider.default_model == "gemini-2.5-pro"


def test_folder_names_say_the_model_when_it_is_not_the_default():
    reference = load_provider("reference")
    faulted = settings(fault=["errors-as-500"])
    assert report_dir(faulted, reference, "models/gemini 3?") == "reference~models_gemini_3_+errors-as-500"
    assert report_dir(faulted, reference, reference.default_model) == "reference+errors-as-500"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"model": ["a", "a"]}, "model 'a' given twice"),
        ({"model": ["two words"]}, "not a model id"),
    ],
)
def test_bad_models_are_one_line(given, message):
    with pytest.raises(ConfigError, match=message):
        settings(**given)


def test_two_profiles_of_one_name_cannot_share_a_folder(tmp_path, all_cases):
    copy = tmp_path / "google.yaml"
    copy.write_text((PROVIDERS_DIR / "google.yaml").read_text())
    with pytest.raises(ConfigError, match="two targets would write their reports to"):
        plans_of(settings(), [load_provider("google"), load_provider(str(copy))], all_cases[:1])


def test_a_run_of_two_models_writes_each_and_one_matrix(tmp_path, capsys):
    code = main(["run", "--all-models", "-m", "text", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    for folder, model in (("reference", "gemini-2.5-flash"), ("reference~gemini-2.5-pro", "gemini-2.5-pro")):
        results = read_results(tmp_path / folder / "results.json")
        assert results["run"]["model"] == model and results["summary"]["gate"] == "pass"
        assert f"conformance: {results['summary']['total']} cases -> reference · {model}" in out
    assert (
        "| protocol | feature | reference · gemini-2.5-flash | reference · gemini-2.5-pro |"
        in (tmp_path / "matrix.md").read_text()
    )
    assert "matrix of 2 targets" in out


def test_each_target_has_its_own_breaker(tmp_path, capsys):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    dead = tmp_path / "dead.yaml"
    dead.write_text(
        (PROVIDERS_DIR / "rivus.yaml")
        .read_text()
        .replace("name: rivus", "name: dead")
        .replace("api_key_env: RIVUS_API_KEY\n", "")
        + f"base_url: http://127.0.0.1:{closed}\n"
    )
    code = main(
        ["run", "--provider", "reference", "--provider", str(dead), "-m", "text", "--out", str(tmp_path)]
    )
    assert code == 1
    alive = read_results(tmp_path / "reference" / "results.json")
    gone = read_results(tmp_path / "dead" / "results.json")
    assert alive["summary"]["gate"] == "pass"
    assert {case["outcome"] for case in gone["cases"]} == {"errored"}
    assert all("gateway unreachable" in case["message"] for case in gone["cases"])
    assert "dead · gemini-2.5-flash: gate: FAIL" in capsys.readouterr().out


def test_an_interrupt_closes_every_target_log(tmp_path):
    out = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--all-models", "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    logs = [out / "reference" / LOG_NAME, out / "reference~gemini-2.5-pro" / LOG_NAME]
    deadline = time.monotonic() + 120
    while not all(log.is_file() and log.read_text().count('"event":"case"') >= 20 for log in logs):
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before the interrupt"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout[-2000:] + stderr[-2000:]
    for log in logs:
        footer = json.loads(log.read_text().splitlines()[-1])
        assert footer["event"] == "footer" and footer["interrupted"] == "stopped by SIGINT"
        assert not footer["complete"] and (log.parent / "report.html").is_file()
    assert (out / "matrix.md").read_text().count("**INCOMPLETE**") == 2
