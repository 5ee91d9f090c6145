"""The README's CI-matrix recipe, run as written: one job per target uploading its run record, then a job
merging every record into one matrix with ``conformance compare``; and the merged matrix pivoted.

Jobs are simulated: each runs its ``run:`` lines in a folder of its own (the suite installed in this venv,
so the install step is left out), ``upload-artifact`` copies its path to an artifact store and
``download-artifact`` copies the artifacts matching its pattern into a folder each. The profiles the
recipe expects in the repository are the shipped ones served by the embedded reference, and each job's
selection is narrowed to one feature to keep the test short.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.wire.profiles import PROVIDERS_DIR
from tests.fixtures import chromium, needs_chromium

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
SELECTION = "-m text"


def recipe() -> dict[str, Any]:
    section = README.split("### Split by target: a CI matrix", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match, "no workflow in the README's CI-matrix section"
    workflow: dict[str, Any] = yaml.safe_load(match.group(1))
    return workflow


def _expand(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: values[m.group(1)], text)


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update(env, PATH=f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}")
    return subprocess.Popen(
        ["bash", "-c", command],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class Jobs:
    """Runs a workflow's jobs the way GitHub Actions would, as far as the recipe needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = root / "artifacts"
        self.summary = root / "step-summary.md"

    def checkout(self, name: str) -> Path:
        """A fresh checkout of the user's repository: its profiles (the shipped ones, served embedded)."""
        folder = self.root / name
        (folder / "profiles").mkdir(parents=True)
        for provider in ("new-api", "rivus"):
            text = (PROVIDERS_DIR / f"{provider}.yaml").read_text(encoding="utf-8")
            (folder / "profiles" / f"{provider}.yaml").write_text(text + "embedded: true\n", encoding="utf-8")
        return folder

    def step(
        self, step: dict[str, Any], folder: Path, values: dict[str, str]
    ) -> subprocess.Popen[str] | None:
        uses = step.get("uses", "")
        given = {key: _expand(str(value), values) for key, value in (step.get("with") or {}).items()}
        if uses.startswith("actions/upload-artifact@"):
            shutil.copytree(folder / given["path"], self.store / given["name"])
        elif uses.startswith("actions/download-artifact@"):
            for artifact in sorted(self.store.iterdir()):
                if fnmatch.fnmatch(artifact.name, given["pattern"]):
                    shutil.copytree(artifact, folder / given["path"] / artifact.name)
        elif "run" in step and "pip install" not in step["run"]:
            command = _expand(step["run"], values).replace(
                "conformance run ", f"conformance run {SELECTION} "
            )
            env = {name: _expand(str(value), values) for name, value in (step.get("env") or {}).items()}
            return _shell(command, folder, {**env, "GITHUB_STEP_SUMMARY": str(self.summary)})
        return None


@pytest.fixture(scope="module")
def merged(tmp_path_factory) -> Path:
    """The workflow's target jobs (at once, as the matrix runs them), then its merging job."""
    workflow = recipe()
    target, merge = workflow["jobs"]["target"], workflow["jobs"]["matrix"]
    assert merge["needs"] == "target" and merge["if"] == "always()"
    jobs = Jobs(tmp_path_factory.mktemp("ci"))
    axes = target["strategy"]["matrix"]
    secrets = {
        f"secrets.{name}": "unused-by-the-embedded-reference" for name in ("NEW_API_KEY", "RIVUS_API_KEY")
    }
    running: list[tuple[subprocess.Popen[str], list[dict[str, Any]], Path, dict[str, str]]] = []
    for number, combination in enumerate(itertools.product(*axes.values())):
        values = {
            **secrets,
            **{f"matrix.{axis}": value for axis, value in zip(axes, combination, strict=True)},
        }
        folder = jobs.checkout(f"target-{number}")
        steps = list(target["steps"])
        while steps:  # every step up to the first command, which runs while the other jobs run theirs
            process = jobs.step(steps.pop(0), folder, values)
            if process is not None:
                running.append((process, steps, folder, values))
                break
    for process, steps, folder, values in running:
        output, _ = process.communicate(timeout=240)
        assert process.returncode == 0, output[-3000:]
        for step in steps:
            later = jobs.step(step, folder, values)
            assert later is None or later.wait(timeout=60) == 0
    folder = jobs.root / "merge"
    folder.mkdir()
    for step in merge["steps"]:
        process = jobs.step(step, folder, {})
        if process is not None:
            output, _ = process.communicate(timeout=120)
            assert process.returncode == 0, f"{step.get('name')}: {output[-3000:]}"
    assert jobs.summary.read_text(encoding="utf-8").startswith("## Gateway conformance")
    return folder


def test_the_merging_job_makes_one_matrix_of_every_target(merged):
    runs = sorted(path.name for path in (merged / "runs").iterdir())
    assert runs == [
        "run-new-api-gemini-2.5-flash",
        "run-new-api-gemini-2.5-pro",
        "run-rivus-gemini-2.5-flash",
        "run-rivus-gemini-2.5-pro",
    ]
    text = (merged / "merged" / "matrix.md").read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| protocol | feature |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")][2:]
    assert sorted(columns) == [
        "new-api · gemini-2.5-flash",
        "new-api · gemini-2.5-pro",
        "rivus · gemini-2.5-flash",
        "rivus · gemini-2.5-pro",
    ]
    assert re.search(r"\| gemini \| text \|( ✅ \d+/\d+ \|){4}", text), text
    page = (merged / "merged" / "matrix.html").read_text(encoding="utf-8")
    assert 'data-providers="4"' in page and 'id="pivot-model"' in page and 'id="pivot-provider"' in page


@pytest.mark.parametrize(
    ("option", "value", "labels"),
    [
        ("--model", "gemini-2.5-pro", ["new-api", "rivus"]),
        ("--provider", "rivus", ["rivus · gemini-2.5-flash", "rivus · gemini-2.5-pro"]),
    ],
)
def test_compare_pivots_the_merged_runs(merged, tmp_path, option, value, labels):
    done = _shell(f"conformance compare runs/ {option} {value} --out {tmp_path}", merged, {})
    output, _ = done.communicate(timeout=60)
    assert done.returncode == 0, output
    header = next(
        line for line in (tmp_path / "matrix.md").read_text().splitlines() if line.startswith("| protocol |")
    )
    assert [cell.strip() for cell in header.strip("|").split("|")][2:] == labels


def test_compare_of_a_model_no_run_has_is_one_line(merged, tmp_path):
    done = _shell(f"conformance compare runs/ --model no-such-model --out {tmp_path}", merged, {})
    output, _ = done.communicate(timeout=60)
    assert done.returncode == 2 and output.count("\n") == 1, output
    assert "no run of model no-such-model" in output and "rivus · gemini-2.5-pro" in output


@needs_chromium
def test_chromium_pivots_the_merged_matrix(merged):
    page = (merged / "merged" / "matrix.html").as_uri()
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium(
            "--virtual-time-budget=3000", "--dump-dom", f"{page}#model=gemini-2.5-pro", profile=profile
        )
    assert dom.returncode == 0 and 'data-ready="1"' in dom.stdout, dom.stderr[-2000:]
    assert re.search(r"\d+ features x 2 providers of model gemini-2.5-pro", dom.stdout)
    hidden = re.findall(
        r'<th class="col off" data-col="c\d" data-provider="[^"]+" data-model="([^"]+)"', dom.stdout
    )
    assert hidden == ["gemini-2.5-flash", "gemini-2.5-flash"]
