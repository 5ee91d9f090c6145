"""One run against one target: the wire phase, the judge's verdicts, the event log, then every view of it.

``run_session`` starts the target (the embedded reference when the profile says so), sends the
cases, turns each result into its verdict and record as soon as it lands, appends the record to
``results.jsonl`` and drops the exchanges. When the cases are done (or the run is interrupted) it
closes the log and writes the reports from it.
"""

from __future__ import annotations

import asyncio
import platform
import signal
import time
from collections.abc import Callable, Sequence
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
from conformance.report.records import CaseRecord, RunInfo, RunRecord, iso
from conformance.report.views import write_views
from conformance.suite.model import Case
from conformance.validation.store import SchemaStore
from conformance.wire.profiles import Provider
from conformance.wire.redact import Redactor
from conformance.wire.target import open_target, unreachable


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


def plan_of(
    settings: RunSettings, provider: Provider, cases: Sequence[Case], out: Path | None = None
) -> RunPlan:
    """The plan of one provider's run under the settings (reports in ``out``, else the default directory)."""
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


def run_session(
    plan: RunPlan, on_case: CaseCallback | None = None, schemas: SchemaStore | None = None
) -> RunResult:
    """Run the plan; ``on_case`` sees each case's record (without evidence) as it is written.

    An interrupt (Ctrl-C, or SIGTERM raised as ``Terminated``) ends the wire phase; the log is still
    closed and the reports written, marked incomplete, and the result says which signal stopped it.
    """
    started = time.perf_counter()
    stopped_by: str | None = None
    with open_target(plan.provider, plan.faults) as target:
        provider = target.provider
        redactor = Redactor([target.api_key])
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
    reason = f"stopped by {stopped_by}" if stopped_by else None
    log.close(iso(datetime.now(UTC)), (time.perf_counter() - started) * 1000, reason)
    run = read_log(log.path, validate_cases=False)
    files = (log.path, *write_views(run, plan.out))
    return RunResult(run, log, files, stopped_by, stopper.reason)
