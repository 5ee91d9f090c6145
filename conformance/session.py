"""A run end to end: every target's wire phase, the judge's verdicts, the event logs, then every view of them.

A target is one provider tested with one model. ``run_sessions`` starts the targets (embedded reference
gateways when the profiles say so), sends every target's cases concurrently in one event loop, each
target under its own concurrency limit, retry policy, circuit breaker and time limit, turns each result
into its verdict and record as soon as it lands, appends the record to that target's ``results.jsonl``
and drops the exchanges. When a target's cases are done its log gets its footer; when every target is
done (or the run is interrupted) the reports of each are written from its log.

In a two-sided run (``--upstream``) the run's upstream starts before the gateways and every target shares
it, as a gateway configured with one upstream address does: tags are unique across the run, so each
forwarded request is still attributed to the case attempt that caused it.
"""

from __future__ import annotations

import asyncio
import platform
import re
import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from conformance import __version__
from conformance.engine.attempts import CaseResult
from conformance.engine.baseline import Baseline, default_baseline_path, load_baseline
from conformance.engine.runner import Runner
from conformance.engine.stopping import DEFAULT_BREAKER, Stopper
from conformance.errors import ConfigError, Terminated, key_from_env
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
from conformance.wire.target import ForwardTo, Target, open_targets, unreachable


@dataclass(frozen=True)
class UpstreamPlan:
    """A two-sided run's upstream: where it listens and the key the gateway must send it."""

    endpoint: Endpoint
    key: str


@dataclass(frozen=True)
class RunPlan:
    """What one target's run sends where, how it is judged, and where its reports go.

    ``provider`` is the target: the profile with the model under test as its ``default_model``.
    """

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
    """The run's upstream in a two-sided run; plans with equal upstreams share one upstream server."""


REPORTS_DIR = Path("reports")
"""Where reports go by default: relative to the working directory, never the install location."""


def safe_name(text: str) -> str:
    """A model id as a part of a folder name: characters other than letters, digits, ``.``, ``_`` and ``-``
    become ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def report_dir(settings: RunSettings, provider: Provider, model: str | None = None) -> str:
    """The name of a target's report directory, saying what was run, so that different runs do not
    overwrite each other: the profile; ``@<host>`` when ``--base-url`` points it elsewhere, ``@reference``
    when the embedded reference serves another profile; ``~<model>`` for a model other than the profile's
    default; ``+upstream`` in a two-sided run; ``+<fault>`` for each injected fault."""
    name = provider.name
    if settings.overrides.get("base_url") and provider.base_url:
        parts = urlsplit(provider.base_url)
        name += "@" + (parts.hostname or "host") + (f"_{parts.port}" if parts.port else "")
    elif provider.embedded and provider.name != "reference":
        name += "@reference"
    if model and model != provider.default_model:
        name += "~" + safe_name(model)
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


def upstream_plan(settings: RunSettings, *providers: Provider) -> UpstreamPlan | None:
    """The run's upstream under ``--upstream`` and ``--upstream-key-env``, one for all the providers,
    checked before anything is sent.

    A gateway must be configured with the upstream's port and key beforehand, so it needs a fixed port and
    the variable holding the key; the embedded reference is pointed at the upstream by the run itself.
    """
    endpoint = settings.upstream
    if endpoint is None:
        return None
    gateways = [provider for provider in providers if not provider.embedded]
    variable = settings.upstream_key_env
    if variable:
        key = key_from_env(variable, "--upstream-key-env")
    elif gateways:
        raise ConfigError(
            "a gateway sends the upstream the key it was configured with: pass --upstream-key-env VAR",
            field="--upstream-key-env",
        )
    else:
        from conformance.upstream.server import new_key

        key = new_key()
    if endpoint.port == 0 and gateways:
        raise ConfigError(
            "a gateway is configured with the upstream's address beforehand: give a port, not 0",
            field="--upstream",
        )
    return UpstreamPlan(endpoint, key)


def models_of(settings: RunSettings, provider: Provider) -> tuple[str, ...]:
    """The models a provider is tested with: the ``--model`` values (else the profile's default model),
    then, with ``--all-models``, the profile's ``models.others``."""
    models = settings.models or (provider.default_model,)
    if settings.all_models:
        models = (*models, *provider.other_models)
    return tuple(dict.fromkeys(models))


def plan_of(
    settings: RunSettings,
    provider: Provider,
    cases: Sequence[Case],
    out: Path | None = None,
    model: str | None = None,
    upstream: UpstreamPlan | None = None,
) -> RunPlan:
    """The plan of one target's run under the settings: the provider tested with ``model`` (default: the
    profile's), reports in ``out``, else the default directory; in a two-sided run, the ``upstream`` given
    (shared by the run's targets), else the settings' own."""
    upstream = upstream or upstream_plan(settings, provider)
    target = provider
    if model is not None and model != provider.default_model:
        target = replace(provider, default_model=model)
    return RunPlan(
        target,
        tuple(cases),
        out or settings.out or REPORTS_DIR / report_dir(settings, provider, model),
        settings.faults,
        settings.strict,
        settings.repeat,
        baseline_for(settings, provider.name),
        settings.breaker,
        settings.max_duration,
        upstream,
    )


def plans_of(
    settings: RunSettings,
    providers: Sequence[Provider],
    cases: Sequence[Case],
    upstream: UpstreamPlan | None = None,
) -> list[RunPlan]:
    """A plan per target (every provider x each of its models); with several targets, each target's
    reports go to a folder of its own under ``--out`` (default ``reports/``). A two-sided run has one
    upstream (``upstream``, else the settings' own), which every target shares."""
    upstream = upstream or upstream_plan(settings, *providers)
    targets = [(provider, model) for provider in providers for model in models_of(settings, provider)]
    if len(targets) == 1:
        provider, model = targets[0]
        return [plan_of(settings, provider, cases, model=model, upstream=upstream)]
    parent = settings.out or REPORTS_DIR
    plans = []
    seen: dict[Path, str] = {}
    for provider, model in targets:
        out = parent / report_dir(settings, provider, model)
        if out in seen:
            raise ConfigError(
                f"two targets would write their reports to {out} ({seen[out]} and {provider.source})",
                field="--provider",
            )
        seen[out] = provider.source
        plans.append(plan_of(settings, provider, cases, out, model, upstream))
    return plans


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


@dataclass(frozen=True)
class _Upstream:
    """A running upstream: where the gateway forwards (its base URL and key), and its ledger."""

    forward_to: ForwardTo
    ledger: Ledger


@contextmanager
def _serve_upstream(plan: UpstreamPlan) -> Iterator[_Upstream]:
    """The run's upstream, serving until the block ends."""
    from conformance.upstream.server import serve_upstream

    ledger = Ledger()
    with serve_upstream(plan.endpoint, plan.key, ledger) as endpoint:
        yield _Upstream(ForwardTo(endpoint.base_url, plan.key), ledger)


Views = tuple[RunRecord, tuple[Path, ...]]


class _TargetRun:
    """One target's run while it goes on: its event log, stopper and runner. Once its cases are done its
    views are written on the run's writer thread, while the other targets go on."""

    def __init__(
        self,
        plan: RunPlan,
        target: Target,
        schemas: SchemaStore,
        on_case: CaseCallback | None,
        started: float,
        writer: ThreadPoolExecutor,
        upstream: _Upstream | None = None,
    ) -> None:
        provider = target.provider
        self.plan = plan
        self.started = started
        forward_to = upstream.forward_to if upstream is not None else None
        self.redactor = Redactor([target.api_key, forward_to.key if forward_to is not None else None])
        self.on_case = on_case
        self.ledger = upstream.ledger if upstream is not None else None
        link = None
        if upstream is not None:
            keys = (target.api_key,) if target.api_key else ()
            facts = UpstreamFacts(upstream.forward_to.base_url, upstream.forward_to.key, keys)
            link = UpstreamLink(upstream.ledger, facts)
        base_url = provider.safe_base_url()
        info = RunInfo(
            provider=provider.name,
            base_url=self.redactor.text(base_url) if base_url else None,
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
            baseline=self.redactor.text(plan.baseline.source) if plan.baseline else None,
            upstream=UpstreamInfo(forward_to.base_url) if forward_to is not None else None,
        )
        self.info = info
        self.log = EventLog(plan.out / LOG_NAME, info, [case.id for case in plan.cases])
        self.stopper = Stopper(plan.breaker)
        self.runner = Runner(
            provider,
            target.api_key,
            schemas,
            strict=plan.strict,
            repeat=plan.repeat,
            stopper=self.stopper,
            max_duration=plan.max_duration,
            upstream=link,
        )
        self.closed = False
        self.writer = writer
        self.views: Future[Views] | None = None

    def record(self, result: CaseResult) -> None:
        self.log.append(record_of(result, self.redactor, self.plan.baseline))
        if self.on_case is not None:
            self.on_case(self.log.verdicts[-1])

    def close(self, interrupted: str | None = None) -> None:
        """Write the log's footer (once): the target's cases are done, or the run was interrupted. In a
        two-sided run it says what had reached the upstream by then (the upstream is the run's: shared by
        its targets)."""
        if not self.closed:
            self.closed = True
            summary = None
            if self.ledger is not None:
                summary = upstream_summary(self.info.upstream, self.ledger, self.redactor)
            elapsed = (time.perf_counter() - self.started) * 1000
            self.log.close(iso(datetime.now(UTC)), elapsed, interrupted, summary)

    async def wire_phase(self) -> None:
        await self.runner.run_each(self.plan.cases, self.record)
        self.close()
        self.views = self.writer.submit(views_of, self.log.path, self.plan.out)

    def written(self) -> Views:
        """The target's record and view files: written when its cases were done, or now (an interrupted
        target's, from its log as it was closed)."""
        return self.views.result() if self.views is not None else views_of(self.log.path, self.plan.out)


def views_of(log: Path, out: Path) -> Views:
    """Read a closed event log back and write every view of it in ``out``: the record and the files."""
    run = read_log(log, validate_cases=False)
    return run, (log, *write_views(run, out))


async def _wire_phase(jobs: Sequence[Callable[[], Awaitable[None]]]) -> str | None:
    """Run every target's wire phase concurrently; Ctrl-C or SIGTERM cancels what is in flight and returns
    the signal's name."""
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
        await asyncio.gather(*(job() for job in jobs))
    except asyncio.CancelledError:
        if not stopped:
            raise
    finally:
        for number in installed:
            loop.remove_signal_handler(number)
    return stopped[0] if stopped else None


def _check_reachable(runs: Sequence[_TargetRun], targets: Sequence[Target]) -> None:
    """Stop, before anything is sent, each target whose gateway cannot be reached at all (checked at once)."""
    checks = {
        (target.provider.base_url, target.provider.timeouts.connect): index
        for index, target in enumerate(targets)
        if not target.provider.embedded and target.provider.base_url
    }
    if not checks:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(checks))) as pool:
        problems = dict(zip(checks, pool.map(lambda key: unreachable(*key), checks), strict=True))
    for run, target in zip(runs, targets, strict=True):
        provider = target.provider
        problem = problems.get((provider.base_url, provider.timeouts.connect)) if provider.base_url else None
        if not provider.embedded and problem is not None:
            run.stopper.stop(f"gateway unreachable: {problem}")


def run_sessions(
    plans: Sequence[RunPlan], on_case: CaseCallback | None = None, schemas: SchemaStore | None = None
) -> list[RunResult]:
    """Run every plan concurrently in one event loop; ``on_case`` sees each case's record (without
    evidence) as it is written. The results are in the plans' order.

    An interrupt (Ctrl-C, or SIGTERM raised as ``Terminated``) ends every wire phase; each log is still
    closed and its reports written, marked incomplete, and the results say which signal stopped them.
    """
    started = time.perf_counter()
    stopped_by: str | None = None
    store = schemas or SchemaStore.load()
    with ExitStack() as stack:
        writer = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="views"))
        upstreams: dict[UpstreamPlan, _Upstream] = {}
        for plan in plans:  # before the gateways: a bad or busy port is exit 2 before anything is sent
            if plan.upstream is not None and plan.upstream not in upstreams:
                upstreams[plan.upstream] = stack.enter_context(_serve_upstream(plan.upstream))
        served = [upstreams[plan.upstream] if plan.upstream is not None else None for plan in plans]
        wanted = [
            (plan.provider, plan.faults, upstream.forward_to if upstream is not None else None)
            for plan, upstream in zip(plans, served, strict=True)
        ]
        targets = stack.enter_context(open_targets(wanted))
        runs = [
            _TargetRun(plan, target, store, on_case, started, writer, upstream)
            for plan, target, upstream in zip(plans, targets, served, strict=True)
        ]
        _check_reachable(runs, targets)
        try:
            stopped_by = asyncio.run(_wire_phase([run.wire_phase for run in runs]))
        except KeyboardInterrupt:
            stopped_by = "SIGINT"
        except Terminated:
            stopped_by = "SIGTERM"
        results = []
        for run in runs:
            run.close(f"stopped by {stopped_by}" if stopped_by else None)
        for run in runs:
            record, files = run.written()
            results.append(RunResult(record, run.log, files, stopped_by, run.stopper.reason))
    return results


def run_session(
    plan: RunPlan, on_case: CaseCallback | None = None, schemas: SchemaStore | None = None
) -> RunResult:
    """Run one plan; ``on_case`` sees each case's record (without evidence) as it is written."""
    return run_sessions([plan], on_case, schemas)[0]
