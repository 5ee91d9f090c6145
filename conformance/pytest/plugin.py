"""The pytest plugin: case files become items; one concurrent wire phase; verdicts and reports per item.

Registered through the ``pytest11`` entry point, so ``pytest cases/`` and ``conformance run`` both use it.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.baseline import Baseline
from conformance.engine.runner import CaseResult
from conformance.errors import ConfigError
from conformance.report.results import RunInfo, build_results, case_record, now, write_results
from conformance.suite.loader import DEFAULT_CASES_DIR, load_case_file
from conformance.suite.model import Case, feature_marker
from conformance.wire.redact import Redactor

RESULTS_KEY = pytest.StashKey[dict[str, CaseResult]]()
STATE_KEY = pytest.StashKey["RunState"]()


class RunState:
    """What the session knows about the run: target, redactor, results and the run record."""

    def __init__(self) -> None:
        self.info: RunInfo | None = None
        self.redactor = Redactor()
        self.results: dict[str, CaseResult] = {}
        self.cases: list[Case] = []
        self.document: dict[str, Any] | None = None
        self.out: Path | None = None
        self.baseline: Baseline | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "gateway conformance")
    group.addoption(
        "--provider", default="reference", help="provider profile name or path (default: reference)"
    )
    group.addoption("--base-url", default=None, help="gateway base URL, overriding the profile")
    group.addoption("--api-key-env", default=None, help="environment variable holding the key")
    group.addoption(
        "--gemini-prefix", default=None, help="path prefix of the Gemini native API, e.g. /v1beta"
    )
    group.addoption("--gemini-auth", default=None, help="query | x-goog-api-key | bearer")
    group.addoption(
        "--openai-prefix", default=None, help="path prefix of the OpenAI-compatible API, e.g. /v1"
    )
    group.addoption("--openai-auth", default=None, help="query | x-goog-api-key | bearer")
    group.addoption("--model", default=None, help="model id to test, overriding the profile's default")
    group.addoption("--concurrency", type=int, default=None, help="cases in flight at once")
    group.addoption("--timeout", type=float, default=None, help="total seconds allowed per request")
    group.addoption("--out", default=None, help="report directory (default: reports/<provider>)")
    group.addoption(
        "--reference", action="store_true", help="serve the profile from the embedded reference gateway"
    )
    group.addoption(
        "--fault",
        action="append",
        default=[],
        help="fault to inject into the embedded reference (repeatable)",
    )
    group.addoption(
        "--mode",
        choices=("compat", "strict"),
        default="compat",
        help="strict: byte-faithful to Google (no extra fields, exact status pairs, framing); compat: what the SDKs tolerate",
    )
    group.addoption(
        "--repeat", type=int, default=1, help="run every case N times; passed in some rounds only is flaky"
    )
    group.addoption(
        "--retries", type=int, default=None, help="retries of a 429 or 503 answer (profile retry.attempts)"
    )
    group.addoption(
        "--retry-backoff", type=float, default=None, help="seconds before the first retry without Retry-After"
    )
    group.addoption(
        "--retry-max-wait",
        type=float,
        default=None,
        help="longest single wait between retries, Retry-After included",
    )
    group.addoption(
        "--ca-bundle", default=None, help="PEM CA bundle to verify the gateway's TLS certificate with"
    )
    group.addoption(
        "--baseline",
        default=None,
        help="baseline file of known failures (default: baselines/<provider>.yaml if present)",
    )
    group.addoption("--no-baseline", action="store_true", help="run baselined cases as plain cases")
    group.addoption(
        "--cases-root", default=None, help=f"directory of case files (default: {DEFAULT_CASES_DIR})"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STATE_KEY] = RunState()
    for name, text in (
        ("gemini", "Gemini native protocol cases"),
        ("openai", "OpenAI-compatible protocol cases"),
        ("must", "requirement level MUST"),
        ("should", "requirement level SHOULD"),
    ):
        config.addinivalue_line("markers", f"{name}: {text}")
    root = _cases_root(config)
    if root.is_dir():
        features = set()
        for path in root.rglob("*.yaml"):
            parts = path.relative_to(root).parts
            if len(parts) >= 2:
                features.add(path.stem)
        for feature in sorted(features):
            config.addinivalue_line("markers", f"{feature_marker(feature)}: cases of feature {feature}")


def _cases_root(config: pytest.Config) -> Path:
    given = config.getoption("--cases-root", None)
    return Path(given).resolve() if given else DEFAULT_CASES_DIR


def _is_case_file(config: pytest.Config, file_path: Path) -> bool:
    if file_path.suffix not in (".yaml", ".yml"):
        return False
    root = _cases_root(config)
    return file_path.resolve().is_relative_to(root) or "cases" in file_path.parent.parts


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_case_file(parent.config, file_path):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    """A YAML file of cases."""

    def collect(self):  # type: ignore[override]
        try:
            cases = load_case_file(self.path)
        except ConfigError as exc:
            pytest.exit(exc.one_line(), returncode=2)
        for case in cases:
            item = CaseItem.from_parent(self, name=case.id, case=case)
            for marker in case.marker_names:
                item.add_marker(marker)
            yield item


class CaseFailed(Exception):
    """The gateway answered wrongly."""


class CaseErrored(Exception):
    """The exchange could not be judged: transport error, timeout or undecodable body."""


class CaseItem(pytest.Item):
    """One case; its verdict was reached in the wire phase and is reported here."""

    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.user_properties.extend(
            [("level", case.level), ("feature", case.feature), ("protocol", case.protocol)]
        )

    def runtest(self) -> None:
        results = self.session.stash.get(RESULTS_KEY, {})
        result = results.get(self.case.id)
        if result is None:
            pytest.skip("not run: the wire phase did not reach this case")
        if result.outcome == "passed":
            state = self.config.stash[STATE_KEY]
            judged = state.baseline.judge(self.case.id, "passed") if state.baseline else None
            if judged is not None:
                entry = judged[0]
                raise CaseFailed(
                    f"baselined as {entry.expect} ({entry.reason}) but now passes: remove it from {state.baseline.source}"
                )
            return
        if result.outcome in ("unsupported", "skipped"):
            pytest.skip(f"{result.outcome}: {result.message}")
        state = self.config.stash[STATE_KEY]
        judged = state.baseline.judge(self.case.id, result.outcome) if state.baseline else None
        if judged is not None:
            entry, status = judged
            if status == "expected":
                pytest.xfail(state.redactor.text(f"baselined ({entry.reason}): {result.message}"))
            raise CaseFailed(
                f"baselined as {entry.expect} ({entry.reason}) but {status}: {result.outcome}: {result.message}"
            )
        raise (CaseFailed if result.outcome in ("failed", "flaky") else CaseErrored)(result.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (CaseFailed, CaseErrored)):
            state = self.config.stash[STATE_KEY]
            result = self.session.stash.get(RESULTS_KEY, {}).get(self.case.id)
            text = format_failure(case_record(self.case, result, state.redactor, state.baseline))
            if result is not None and result.outcome == "passed":
                text = f"{excinfo.value}\n{text}"
            return text
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.case.id} [{self.case.level}]"


def format_failure(record: dict[str, Any]) -> str:
    """A failed case for a person: verdict, broken expectations, then each request and response."""
    lines = [
        f"{record['outcome'].upper()} {record['id']} [{record['level']}]: {record['message']}",
        f"reference: {record['reference']}",
    ]
    evidence = record.get("evidence") or {}
    for failure in evidence.get("failures", []):
        lines.append(f"  expectation (step {failure['step']}): {failure['expectation']}")
        lines.append(f"    -> {failure['message']}")
    if evidence.get("error"):
        lines.append(f"  error: {evidence['error']}")
    for exchange in evidence.get("exchanges", []):
        request = exchange["request"]
        lines.append(f"--- step {exchange['step']} request: {request['method']} {request['url']}")
        lines.extend(f"    {name}: {value}" for name, value in request["headers"])
        if request["body"]:
            lines.append(_indent(request["body"], 2000))
        response = exchange["response"]
        if response is None:
            lines.append(f"--- step {exchange['step']} no response: {exchange['error']}")
            continue
        timing = exchange["timings"]
        lines.append(
            f"--- step {exchange['step']} response: HTTP {response['status']} ({response['body_bytes']} bytes, {timing['total_ms']:.0f} ms)"
        )
        if "stream" in timing:
            lines.append(f"    {_stream_line(timing)}")
        lines.extend(f"    {name}: {value}" for name, value in response["headers"])
        lines.append(_indent(response["body"], 4000) + (" [truncated]" if response["body_truncated"] else ""))
    return "\n".join(lines)


def _stream_line(timing: dict[str, Any]) -> str:
    """The stream timings of an exchange, for a person."""

    def ms(key: str) -> str:
        value = timing.get(key)
        return "-" if value is None else f"{value:.0f} ms"

    return (
        f"stream ({timing['stream']}): {timing['events']} event(s); ttfb {ms('ttfb_ms')}, first event {ms('first_event_ms')},"
        f" last event {ms('last_event_ms')}, total {ms('total_ms')}, largest gap {ms('largest_gap_ms')}"
    )


def _indent(text: str, limit: int) -> str:
    if len(text) > limit:
        text = text[:limit] + " ..."
    return "\n".join("    " + line for line in text.splitlines() or [""])


def _overrides(config: pytest.Config) -> dict[str, Any]:
    names = (
        "base_url",
        "api_key_env",
        "gemini_prefix",
        "gemini_auth",
        "openai_prefix",
        "openai_auth",
        "model",
        "concurrency",
        "timeout",
        "retries",
        "retry_backoff",
        "retry_max_wait",
        "ca_bundle",
    )
    return {name: config.getoption("--" + name.replace("_", "-")) for name in names}


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    items = [item for item in session.items if isinstance(item, CaseItem)]
    if not items or session.config.option.collectonly:
        return (yield)
    config = session.config
    state = config.stash[STATE_KEY]
    from conformance.engine.runner import Runner
    from conformance.validation.store import SchemaStore
    from conformance.wire.profiles import load_provider, with_overrides
    from conformance.wire.target import open_target

    try:
        provider = with_overrides(load_provider(config.getoption("--provider")), _overrides(config))
        if config.getoption("--reference"):
            provider = dataclasses.replace(provider, embedded=True, base_url=None)
        faults = tuple(config.getoption("--fault"))
        state.baseline = _baseline(config, provider.name)
        if config.getoption("--repeat") < 1:
            raise ConfigError("must be at least 1", field="--repeat")
        target_cm = open_target(provider, faults)
        target = target_cm.__enter__()
    except ConfigError as exc:
        pytest.exit(exc.one_line(), returncode=2)
    try:
        provider = target.provider
        state.redactor = Redactor([target.api_key])
        state.cases = [item.case for item in items]
        out = config.getoption("--out")
        state.out = Path(out) if out else Path("reports") / provider.name
        state.info = RunInfo(
            provider=provider.name,
            base_url=provider.safe_base_url(),
            model=provider.default_model,
            concurrency=provider.concurrency,
            mode=config.getoption("--mode"),
            embedded=provider.embedded,
            faults=list(faults),
            repeat=config.getoption("--repeat"),
            retry=dataclasses.asdict(provider.retry),
            baseline=state.baseline.source if state.baseline else None,
        )
        runner = Runner(
            provider,
            target.api_key,
            SchemaStore.load(),
            strict=config.getoption("--mode") == "strict",
            repeat=config.getoption("--repeat"),
        )
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        progress = _Progress(reporter, len(items), provider.name, provider.concurrency)
        session.stash[RESULTS_KEY] = state.results = runner.run(state.cases, progress.update)
        progress.finish()
        state.info.finished_at = now()
        return (yield)
    finally:
        target_cm.__exit__(None, None, None)


def _baseline(config: pytest.Config, provider: str) -> Baseline | None:
    """The baseline in force: --baseline FILE, else baselines/<provider>.yaml when present; none with --no-baseline."""
    from conformance.engine.baseline import default_baseline_path, load_baseline

    if config.getoption("--no-baseline"):
        return None
    given = config.getoption("--baseline")
    if given:
        return load_baseline(given)
    default = default_baseline_path(provider)
    return load_baseline(default) if default.exists() else None


class _Progress:
    """A one-line counter of finished cases during the wire phase."""

    def __init__(self, reporter: Any, total: int, provider: str, concurrency: int) -> None:
        self.reporter = reporter
        self.total = total
        self.done = 0
        self.started = time.perf_counter()
        self.tty = bool(reporter) and sys.stdout.isatty()
        if reporter is not None:
            reporter.write_line(
                f"conformance: sending {total} cases to {provider} (concurrency {concurrency})"
            )

    def update(self, _: CaseResult) -> None:
        self.done += 1
        if self.tty:
            self.reporter.write(f"\r  {self.done}/{self.total} cases answered", flush=True)

    def finish(self) -> None:
        if self.reporter is not None:
            if self.tty:
                self.reporter.write("\r")
            self.reporter.write_line(
                f"conformance: wire phase done in {time.perf_counter() - self.started:.2f} s"
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE_KEY, None)
    if state is None or state.info is None:
        return
    document = build_results(state.info, state.cases, state.results, state.redactor, state.baseline)
    state.document = document
    assert state.out is not None
    write_results(document, state.out / "results.json")
    from conformance.report.writer import write_matrix

    write_matrix([document], state.out)
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = (
            pytest.ExitCode.OK if document["summary"]["gate"] == "pass" else pytest.ExitCode.TESTS_FAILED
        )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.document is None:
        return
    document = state.document
    per_feature: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for record in document["cases"]:
        per_feature[(record["protocol"], record["feature"])][record["outcome"]] += 1
    write = terminalreporter.write_line
    terminalreporter.section("conformance summary")
    header = f"{'protocol/feature':40} {'passed':>6} {'failed':>6} {'errored':>7} {'flaky':>5} {'unsupp.':>7} {'skipped':>7}"
    write(header)
    for (protocol, feature), counts in sorted(per_feature.items()):
        write(
            f"{protocol + '/' + feature:40} {counts['passed']:>6} {counts['failed']:>6} {counts['errored']:>7} {counts['flaky']:>5}"
            f" {counts['unsupported']:>7} {counts['skipped']:>7}"
        )
    summary = document["summary"]
    must = summary["by_level"]["MUST"]
    should = summary["by_level"]["SHOULD"]
    write(
        f"gate: {summary['gate'].upper()}  (MUST: {must['passed']} passed, {must['failed']} failed, {must['errored']} errored;"
        f"{' flaky ' + str(must['flaky']) + ';' if must['flaky'] else ''}"
        f" SHOULD: {should['passed']} passed, {should['failed'] + should['errored'] + should['flaky']} not passed)"
    )
    if "baseline" in summary:
        known = summary["baseline"]
        write(
            f"baseline: {known['expected_failures']} expected failures, {known['unexpected_passes']} unexpected passes,"
            f" {known['changed']} changed outcomes"
        )
    write(f"reports: {state.out}")
