"""The pytest plugin: case files become items, judged by the same engine as ``conformance run``.

Registered through the ``pytest11`` entry point. ``pytest cases/ --provider google`` (in a checkout)
or ``pytest DIR --cases DIR`` collects the YAML case files under the built-in cases directory and under
every ``--cases`` directory; ``-k`` and ``-m`` select as usual (markers: the protocol, the level and the
feature). Before pytest runs the items, one wire phase sends every selected case and writes the
event log and its reports (``--out``, default ``reports/<provider>``); each item then reports the
judge's verdict, and pytest's exit status follows the gate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.errors import ConfigError
from conformance.options import RunSettings, add_to_parser
from conformance.report.console import Console
from conformance.report.records import CaseRecord
from conformance.report.text import case_text
from conformance.session import RunPlan, RunResult, plan_of, run_session
from conformance.suite.loader import DEFAULT_CASES_DIR, load_case_file
from conformance.suite.model import Case, feature_marker

RUN_KEY = pytest.StashKey[RunResult]()
VERDICTS_KEY = pytest.StashKey[dict[str, CaseRecord]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "gateway conformance (see `conformance run --help`)")
    add_to_parser(lambda title: group.addoption, "pytest")


def _settings(config: pytest.Config) -> RunSettings:
    return RunSettings.read(lambda dest: config.getoption(dest))


def _case_roots(config: pytest.Config) -> list[Path]:
    given = [Path(text).expanduser().resolve() for text in config.getoption("cases") or ()]
    return [DEFAULT_CASES_DIR.resolve(), *given]


def pytest_configure(config: pytest.Config) -> None:
    for name, text in (
        ("gemini", "Gemini native protocol cases"),
        ("openai", "OpenAI-compatible protocol cases"),
        ("must", "requirement level MUST"),
        ("should", "requirement level SHOULD"),
    ):
        config.addinivalue_line("markers", f"{name}: {text}")
    features: set[str] = set()
    for root in _case_roots(config):
        if root.is_dir():
            features.update(path.stem for path in root.rglob("*.yaml"))
    for feature in sorted(features):
        config.addinivalue_line("markers", f"{feature_marker(feature)}: cases of feature {feature}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    resolved = file_path.resolve()
    if any(resolved.is_relative_to(root) for root in _case_roots(parent.config)):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    """A YAML file of cases."""

    def collect(self) -> list[pytest.Item]:
        cases = load_case_file(self.path)  # a broken file raises ConfigError, reported in one line below
        items: list[pytest.Item] = []
        for case in cases:
            item = CaseItem.from_parent(self, name=case.id, case=case)
            for marker in case.marker_names:
                item.add_marker(marker)
            items.append(item)
        return items

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """A broken case file is one line naming the file and the field, not a traceback."""
        if isinstance(excinfo.value, ConfigError):
            return excinfo.value.one_line()
        return super().repr_failure(excinfo)


class CaseFailed(Exception):
    """The gateway answered wrongly (or a baselined case broke its baseline)."""


class CaseErrored(Exception):
    """The answer could not be judged: transport error, timeout or undecodable body."""


class CaseItem(pytest.Item):
    """One case; its verdict was reached in the wire phase and is reported here."""

    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.user_properties.extend(
            [("level", case.level), ("feature", case.feature), ("protocol", case.protocol)]
        )

    def runtest(self) -> None:
        record = self.config.stash.get(VERDICTS_KEY, {}).get(self.case.id)
        if record is None:
            pytest.skip("not run: the wire phase did not reach this case")
        if record.outcome in ("unsupported", "skipped"):
            pytest.skip(f"{record.outcome}: {record.message}")
        if record.expected_failure:
            pytest.xfail(f"baselined: {record.message}")
        if not record.breaks_gate and record.outcome == "passed":
            return
        if record.outcome == "errored":
            raise CaseErrored(record.message)
        raise CaseFailed(record.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFailed | CaseErrored):
            result = self.config.stash.get(RUN_KEY, None)
            record = result.log.read_case(self.case.id) if result is not None else None
            return case_text(record) if record is not None else str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.case.id} [{self.case.level}]"


def _plan(config: pytest.Config, cases: list[Case]) -> RunPlan:
    from conformance.wire.target import resolve_provider

    settings = _settings(config)
    if len(settings.providers) > 1 or len(settings.models) > 1 or settings.all_models:
        raise ConfigError(
            "the pytest route runs one target (one provider, one model); use `conformance run` for several",
            field="--provider/--model",
        )
    provider = resolve_provider(
        settings.providers[0],
        settings.overrides,
        reference=settings.reference,
        faults=settings.faults,
        upstream=settings.upstream is not None,
    )
    return plan_of(settings, provider, cases, model=settings.models[0] if settings.models else None)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    items = [item for item in session.items if isinstance(item, CaseItem)]
    if not items or session.config.option.collectonly:
        return (yield)
    try:
        plan = _plan(session.config, [item.case for item in items])
    except ConfigError as exc:
        raise pytest.UsageError(exc.one_line()) from None
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"conformance: sending {len(items)} cases to {plan.provider.name}"
            f" (concurrency {plan.provider.concurrency})"
        )
    result = run_session(plan)
    session.config.stash[RUN_KEY] = result
    session.config.stash[VERDICTS_KEY] = {record.id: record for record in result.log.verdicts}
    if result.stopped_by:
        raise KeyboardInterrupt
    return (yield)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    result = session.config.stash.get(RUN_KEY, None)
    if result is None:
        return
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        passed = result.run.summary.gate == "pass"
        session.exitstatus = pytest.ExitCode.OK if passed else pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    result = config.stash.get(RUN_KEY, None)
    if result is None:
        return
    terminalreporter.section("conformance summary")
    console = Console(write=terminalreporter.write_line)
    console.features(result.run)
    console.gate(result.run)
    console.line(f"reports: {result.log.path.parent}/")
