"""The package as users install it: built into a fresh venv (not editable), run from folders with no checkout.

The README's own lines are exercised as written: the main job's command in a copy of the checkout, and
the CI recipe's steps (its GitHub URL replaced by the copy, its gateway by `conformance serve`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
GITHUB_URL = "git+https://github.com/<org>/gateway-conformance"
KEY = "install-test-key-5c1d"

pytestmark = pytest.mark.slow


def _source_files() -> list[str]:
    """The checkout's files (committed or not, ignored ones left out)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).exists()]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of the checkout, a fresh venv, and an empty working directory."""
    root = tmp_path_factory.mktemp("install")
    source = root / "gateway-conformance"
    for name in _source_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_symlink():
            target.symlink_to(os.readlink(REPO / name))
        else:
            shutil.copy2(REPO / name, target)
    environment = root / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    work = root / "empty"
    work.mkdir()
    return {"source": source, "venv": environment, "work": work}


def shell(
    command: str, cwd: Path, sandbox: dict[str, Path], env: dict[str, str] | None = None, timeout: float = 400
):
    """Run a command line with the fresh venv first on PATH (as an activated venv would)."""
    bin_dir = sandbox["venv"] / "bin"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not key.startswith("PYTEST")
    }
    environment.update(
        PATH=f"{bin_dir}{os.pathsep}{environment.get('PATH', '')}", VIRTUAL_ENV=str(sandbox["venv"])
    )
    environment.update(env or {})
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )


def readme_block(after: str, language: str) -> str:
    """The first fenced block of ``language`` after the heading ``after``."""
    section = README.split(after, 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} block after {after!r} in the README"
    return match.group(1)


@pytest.fixture(scope="module")
def ci_recipe(sandbox: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    """The README's CI job, step by step, against a reference gateway served from the installed package."""
    workflow = yaml.safe_load(readme_block("### A CI job", "yaml"))
    steps = next(iter(workflow["jobs"].values()))["steps"]
    install = next(step["run"] for step in steps if "pip install" in step.get("run", ""))
    assert GITHUB_URL in install, "the CI recipe installs from the repository's URL"
    done = shell(install.replace(GITHUB_URL, f"file://{sandbox['source']}"), sandbox["work"], sandbox)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    port = _free_port()
    server = subprocess.Popen(
        [
            str(sandbox["venv"] / "bin" / "conformance"),
            "serve",
            "--port",
            str(port),
            "--profile",
            "new-api",
            "--api-key",
            KEY,
        ],  # fmt: skip
        cwd=sandbox["work"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/v1/models", server)
        values = {"vars.GATEWAY_URL": f"http://127.0.0.1:{port}", "secrets.GATEWAY_API_KEY": KEY}
        summary = sandbox["work"] / "step-summary.md"
        last = done
        for step in steps:
            if "run" not in step or step["run"] == install:
                continue
            env = {name: _expand(str(value), values) for name, value in (step.get("env") or {}).items()}
            env["GITHUB_STEP_SUMMARY"] = str(summary)
            last = shell(_expand(step["run"], values), sandbox["work"], sandbox, env)
            assert last.returncode == 0, (
                f"step {step.get('name')}: " + last.stdout[-3000:] + last.stderr[-2000:]
            )
        return last
    finally:
        server.terminate()
        server.wait(timeout=10)


def _expand(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: values[m.group(1)], text)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"conformance serve exited: {server.stderr.read() if server.stderr else ''}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def test_the_ci_recipe_runs_as_written(ci_recipe, sandbox):
    reports = sandbox["work"] / "reports" / "gateway"
    results = json.loads((reports / "results.json").read_text())
    assert results["summary"]["gate"] == "pass" and results["run"]["provider"] == "new-api"
    assert (sandbox["work"] / "step-summary.md").read_text().startswith("## Gateway conformance")
    assert not (Path(sys.prefix) / "reports").exists()


def test_the_main_job_command_runs_as_written(ci_recipe, sandbox):
    command = readme_block("## The two commands", "sh").strip()
    done = shell(command, sandbox["source"], sandbox)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    results = json.loads((sandbox["source"] / "reports" / "reference" / "results.json").read_text())
    assert results["summary"]["gate"] == "pass" and results["summary"]["failed"] == 0


def test_every_command_works_from_an_empty_folder(ci_recipe, sandbox):
    work = sandbox["work"] / "fresh"
    work.mkdir()
    run = shell("conformance run", work, sandbox)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    results = json.loads((work / "reports" / "reference" / "results.json").read_text())
    summary = results["summary"]
    assert summary["total"] == summary["passed"] + summary["skipped"] and summary["passed"] > 400
    # Installed without the sdk extra: the SDK probes are skipped with the install command; the two-sided
    # cases for want of an upstream; nothing else.
    skipped = [case for case in results["cases"] if case["outcome"] == "skipped"]
    sdk = [case for case in skipped if case["feature"] == "sdk"]
    assert sdk and all("pip install 'gateway-conformance[sdk]'" in case["message"] for case in sdk)
    others = [case for case in skipped if case["feature"] != "sdk"]
    assert others and all("--upstream" in case["message"] for case in others), "only two-sided cases skip"
    site = shell("python -c 'import conformance, sys; print(conformance.__file__)'", work, sandbox)
    assert str(sandbox["venv"]) in site.stdout, "the installed package, not a checkout, answered"
    listed = shell("conformance list", work, sandbox)
    assert listed.returncode == 0 and re.search(r"^\d+ cases$", listed.stdout, re.MULTILINE)
    faults = shell("conformance faults", work, sandbox)
    assert faults.returncode == 0 and "usage-misreported" in faults.stdout
    (work / "answer.json").write_text(json.dumps({"candidates": [{"content": {"parts": [{"text": "hi"}]}}]}))
    validated = shell("conformance validate answer.json", work, sandbox)
    assert validated.returncode == 0 and "valid" in validated.stdout
    for command in (
        "conformance compare reports/reference --out merged",
        "conformance diff reports/reference reports/reference",
        "conformance baseline reports/reference",
    ):
        done = shell(command, work, sandbox)
        assert done.returncode == 0, command + ": " + done.stdout[-2000:] + done.stderr[-2000:]
    assert (work / "merged" / "matrix.html").is_file() and (work / "baselines" / "reference.yaml").is_file()
    port = _free_port()
    server = subprocess.Popen(
        [str(sandbox["venv"] / "bin" / "conformance"), "serve", "--port", str(port)],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/v1beta/models", server)
        listed_models = httpx.get(f"http://127.0.0.1:{port}/v1beta/models?key=reference-key", timeout=5)
        assert listed_models.status_code == 200 and listed_models.json()["models"]
    finally:
        server.terminate()
        server.wait(timeout=10)
