"""One run against one target: the wire phase, the judge's verdicts, the event log, then every view of it.

``run_session`` starts the target (the embedded reference when the profile says so), sends the
cases, turns each result into its verdict and record as soon as it lands, appends the record to
``results.jsonl`` and drops the exchanges. When the cases are done (or the run is interrupted) it
closes the log and writes the reports from it.
"""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from conformance import __version__
from conformance.engine.attempts import CaseResult
from conformance.engine.baseline import Baseline, default_baseline_path, load_baseline
from conformance.engine.runner import Runner
from conformance.engine.stopping import DEFAULT_BREAKER, Stopper
from conformance.errors import ConfigError, Terminated
from conformance.options import RunSettings
from conformance.report.evidence import record_of
from conformance.report.log import LOG_NAME, EventLog, read_log
from conformance.report.records import (
    CaseRecord,
    RunInfo,
    RunRecord,
    UnattributedRequest,
    UpstreamInfo,
    iso,
)
from conformance.report.views import write_views
from conformance.suite.model import Case
from conformance.upstream.endpoint import Endpoint
from conformance.upstream.ledger import Ledger, UpstreamFacts, UpstreamLink
from conformance.validation.store import SchemaStore
from conformance.wire.profiles import Provider
from conformance.wire.redact import Redactor
from conformance.wire.target import ForwardTo, open_target, unreachable


@dataclass(frozen=True)
class UpstreamPlan:
    """A two-sided run's upstream: where it listens and the key the gateway must send it."""

    endpoint: Endpoint
    key: str


@dataclass(frozen=True)
class RunPlan:
    """What one run sends where, how it is judged, and where its reports go."""

    provider: Provider
    cases: tuple[Case, ...]
    out: Path
    faults: tuple[str, ...] = ()
    strict: bool = False
    repeat: int = 1
    baseline: Baseline | None = None
    breaker: int = DEFAULT_BREAKER
    max_duration: float | None = None
    upstream: UpstreamPlan | None = None


REPORTS_DIR = Path("reports")
"""Where reports go by default: relative to the working directory, never the install location."""


def report_dir(settings: RunSettings, provider: Provider) -> str:
    """The name of a run's report directory, saying what was run, so that different runs do not overwrite
    each other: the profile; ``@<host>`` when ``--base-url`` points it elsewhere, ``@reference`` when the
    embedded reference serves another profile; ``+<fault>`` for each injected fault."""
    name = provider.name
    if settings.overrides.get("base_url") and provider.base_url:
        parts = urlsplit(provider.base_url)
        name += "@" + (parts.hostname or "host") + (f"_{parts.port}" if parts.port else "")
    elif provider.embedded and provider.name != "reference":
        name += "@reference"
    if settings.upstream is not None:
        name += "+upstream"
    return name + "".join(f"+{fault}" for fault in settings.faults)


def baseline_for(settings: RunSettings, provider: str) -> Baseline | None:
    """The baseline in force: ``--baseline FILE``, else ``baselines/<provider>.yaml`` when present."""
    if settings.no_baseline:
        return None
    if settings.baseline:
        if not Path(settings.baseline).is_file():
            raise ConfigError("baseline file not found", source=settings.baseline, field="--baseline")
        return load_baseline(settings.baseline)
    default = default_baseline_path(provider)
    return load_baseline(default) if default.is_file() else None


def upstream_plan(settings: RunSettings, provider: Provider) -> UpstreamPlan | None:
    """The run's upstream under ``--upstream`` and ``--upstream-key-env``, checked before anything is sent.

    A gateway must be configured with the upstream's port and key beforehand, so it needs a fixed port and
    the variable holding the key; the embedded reference is pointed at the upstream by the run itself.
    """
    endpoint = settings.upstream
    if endpoint is None:
        return None
    variable = settings.upstream_key_env
    if variable:
        key = os.environ.get(variable)
        if not key:
            raise ConfigError(f"environment variable {variable} is not set", field="--upstream-key-env")
        return UpstreamPlan(endpoint, key)
    if not provider.embedded:
        raise ConfigError(
            "a gateway sends the upstream the key it was configured with: pass --upstream-key-env VAR",
            field="--upstream-key-env",
        )
    from conformance.upstream.server import new_key

    return UpstreamPlan(endpoint, new_key())


def plan_of(
    settings: RunSettings, provider: Provider, cases: Sequence[Case], out: Path | None = None
) -> RunPlan:
    """The plan of one provider's run under the settings (reports in ``out``, else the default directory)."""
    upstream = upstream_plan(settings, provider)
    if upstream is not None and upstream.endpoint.port == 0 and not provider.embedded:
        raise ConfigError(
            "a gateway is configured with the upstream's address beforehand: give a port, not 0",
            field="--upstream",
        )
    return RunPlan(
        provider,
        tuple(cases),
        out or settings.out or REPORTS_DIR / report_dir(settings, provider),
        settings.faults,
        settings.strict,
        settings.repeat,
        baseline_for(settings, provider.name),
        settings.breaker,
        settings.max_duration,
        upstream,
    )


@dataclass(frozen=True)
class RunResult:
    """A finished (or interrupted) run: its record read back from the log, the log, and the files written."""

    run: RunRecord
    log: EventLog
    files: tuple[Path, ...]
    stopped_by: str | None = None
    """``SIGINT`` or ``SIGTERM`` when the run was interrupted."""
    stop_reason: str | None = None
    """Why the run stopped sending early (breaker, time limit, unreachable target), if it did."""


CaseCallback = Callable[[CaseRecord], None]


STOP_SIGNALS = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


async def _wire_phase(
    runner: Runner, cases: Sequence[Case], record: Callable[[CaseResult], None]
) -> str | None:
    """Run the cases; Ctrl-C or SIGTERM cancels what is in flight and returns the signal's name."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    stopped: list[str] = []

    def stop(name: str) -> None:
        stopped.append(name)
        if task is not None:
            task.cancel()

    installed = []
    for number, name in STOP_SIGNALS.items():
        try:
            loop.add_signal_handler(number, stop, name)
            installed.append(number)
        except (RuntimeError, ValueError):  # not the main thread: the caller's own handling applies
            pass
    try:
        await runner.run_each(cases, record)
    except asyncio.CancelledError:
        if not stopped:
            raise
    finally:
        for number in installed:
            loop.remove_signal_handler(number)
    return stopped[0] if stopped else None


@contextmanager
def _serve_upstream(plan: UpstreamPlan, ledger: Ledger) -> Iterator[ForwardTo]:
    """The run's upstream, serving until the block ends: its base URL and key."""
    from conformance.upstream.server import serve_upstream

    with serve_upstream(plan.endpoint, plan.key, ledger) as endpoint:
        yield ForwardTo(endpoint.base_url, plan.key)


MAX_UNATTRIBUTED = 200
"""Unattributed requests listed in the run record (the count covers all)."""


def upstream_summary(info: UpstreamInfo | None, ledger: Ledger, redactor: Redactor) -> UpstreamInfo | None:
    """What reached the upstream, for the log's footer: the count, and the requests no case accounts for."""
    if info is None:
        return None
    unattributed = tuple(
        UnattributedRequest(request.method, redactor.text(request.target), reason)
        for request, reason in ledger.unattributed()[:MAX_UNATTRIBUTED]
    )
    return UpstreamInfo(info.base_url, ledger.count, unattributed)


def run_session(
    plan: RunPlan, on_case: CaseCallback | None = None, schemas: SchemaStore | None = None
) -> RunResult:
    """Run the plan; ``on_case`` sees each case's record (without evidence) as it is written.

    An interrupt (Ctrl-C, or SIGTERM raised as ``Terminated``) ends the wire phase; the log is still
    closed and the reports written, marked incomplete, and the result says which signal stopped it.
    """
    started = time.perf_counter()
    stopped_by: str | None = None
    ledger = Ledger()
    with ExitStack() as stack:
        forward_to = None
        if plan.upstream is not None:  # before the gateway: a bad or busy port is exit 2 before anything
            forward_to = stack.enter_context(_serve_upstream(plan.upstream, ledger))
        target = stack.enter_context(open_target(plan.provider, plan.faults, forward_to=forward_to))
        provider = target.provider
        redactor = Redactor([target.api_key, forward_to.key if forward_to is not None else None])
        link = None
        if forward_to is not None:
            keys = (target.api_key,) if target.api_key else ()
            link = UpstreamLink(ledger, UpstreamFacts(forward_to.base_url, forward_to.key, keys))
        base_url = provider.safe_base_url()
        info = RunInfo(
            provider=provider.name,
            base_url=redactor.text(base_url) if base_url else None,
            model=provider.default_model,
            concurrency=provider.concurrency,
            started_at=iso(datetime.now(UTC)),
            suite_version=__version__,
            embedded_reference=provider.embedded,
            faults=plan.faults,
            mode="strict" if plan.strict else "compat",
            python=platform.python_version(),
            repeat=plan.repeat,
            retry=asdict(provider.retry),
            baseline=redactor.text(plan.baseline.source) if plan.baseline else None,
            upstream=UpstreamInfo(forward_to.base_url) if forward_to is not None else None,
        )
        log = EventLog(plan.out / LOG_NAME, info, [case.id for case in plan.cases])
        stopper = Stopper(plan.breaker)
        if not provider.embedded and provider.base_url:
            problem = unreachable(provider.base_url, provider.timeouts.connect)
            if problem is not None:
                stopper.stop(f"gateway unreachable: {problem}")
        runner = Runner(
            provider,
            target.api_key,
            schemas or SchemaStore.load(),
            strict=plan.strict,
            repeat=plan.repeat,
            stopper=stopper,
            max_duration=plan.max_duration,
            upstream=link,
        )

        def record(result: CaseResult) -> None:
            log.append(record_of(result, redactor, plan.baseline))
            if on_case is not None:
                on_case(log.verdicts[-1])

        try:
            stopped_by = asyncio.run(_wire_phase(runner, plan.cases, record))
        except KeyboardInterrupt:
            stopped_by = "SIGINT"
        except Terminated:
            stopped_by = "SIGTERM"
        summary = upstream_summary(info.upstream, ledger, redactor)
    reason = f"stopped by {stopped_by}" if stopped_by else None
    log.close(iso(datetime.now(UTC)), (time.perf_counter() - started) * 1000, reason, summary)
    run = read_log(log.path, validate_cases=False)
    files = (log.path, *write_views(run, plan.out))
    return RunResult(run, log, files, stopped_by, stopper.reason)
