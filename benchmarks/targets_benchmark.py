"""Benchmark: close to the wire, one target and many, against reference gateways with 500 ms added latency.

Each gateway is ``conformance serve --latency L --profile P`` in a process of its own (so its CPU is not the
checker's); each run is ``conformance run`` as a user types it, with a profile file pointing at the gateway.

1. **One target, full suite, against the ideal.** The wire phase's wall time (``duration_ms`` of
   results.json) next to the ideal: requests x latency / concurrency, where requests counts every step of
   every attempt, never less than the longest chain of requests one case had to send one after the other.
   Then the same suite in process, instrumented: the checker's CPU per case (the whole wire phase: HTTP
   client, event loop, checks, the event log; and within it the checks alone), and where the wall time
   beyond the ideal goes: slots left idle (start, gaps, tail) and exchanges slower than the latency (the
   gateway's own time, queueing on a loaded machine).
2. **Many targets in one run.** Every provider x model alone, one after the other, then all of them in one
   ``conformance run`` (4 providers x 2 models by default, a gateway process per provider); the run over
   all targets against the slowest single target.

Every ``conformance run`` is a child process measured with ``os.wait4`` (``tests/measured.py``): its wall
time, CPU time and peak RSS, its own and not the gateways'.

Usage: python benchmarks/targets_benchmark.py [--latency 0.5] [--concurrency 16] [--part single|many|both]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.measured import run_measured  # noqa: E402

KEY = "bench-key-0123456789"
PROVIDERS = ("reference", "rivus", "theturbo", "new-api")
MODELS = ("gemini-2.5-flash", "gemini-2.5-pro")


def load() -> str:
    """The machine's load averages (1, 5 and 15 minutes) and its CPU count."""
    return f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])} on {os.cpu_count()} CPUs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Gateway:
    """A reference gateway in its own process, serving one profile's prefixes."""

    profile: str
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def serve(profile: str, latency: float) -> Gateway:
    port = free_port()
    command = [sys.executable, "-m", "conformance", "serve", "--port", str(port), "--api-key", KEY]
    command += ["--profile", profile, "--latency", str(latency)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Gateway(profile, process, f"http://127.0.0.1:{port}")
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"the reference gateway for {profile} did not start")


def profile_file(folder: Path, gateway: Gateway, concurrency: int) -> Path:
    """The shipped profile of the gateway, pointed at it, as a user's own profile file."""
    from conformance.wire.profiles import PROVIDERS_DIR

    text = (PROVIDERS_DIR / f"{gateway.profile}.yaml").read_text(encoding="utf-8")
    lines = [
        line for line in text.splitlines() if not line.startswith(("base_url:", "api_key_env:", "embedded:"))
    ]
    lines += [f"base_url: {gateway.url}", "api_key_env: BENCH_KEY", f"concurrency: {concurrency}"]
    path = folder / f"{gateway.profile}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Command:
    """One ``conformance run``: its wall and CPU time, its peak RSS, and each target's run record."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    records: dict[str, dict[str, Any]]

    @property
    def wire_s(self) -> float:
        """The wire phase: every target starts at once, so the longest target's duration."""
        return max(record["run"]["duration_ms"] for record in self.records.values()) / 1000


def conformance_run(args: list[str], out: Path) -> Command:
    done = run_measured(
        [sys.executable, "-m", "conformance", "run", *args, "--out", str(out), "-q"],
        env={**os.environ, "BENCH_KEY": KEY},
        cwd=REPO,
        logs=out.with_name(out.name + ".logs"),
        deadline=1800,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"the suite did not pass (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    records = {path.parent.name: json.loads(path.read_text()) for path in sorted(out.rglob("results.json"))}
    return Command(done.seconds, done.cpu_seconds, done.peak_rss_mib, records)


def requests_of(record: dict[str, Any], cases: dict[str, Any]) -> tuple[int, int]:
    """Every request a run sent (steps x attempts) and the longest chain one case sent one after another:
    a policy's attempts go out side by side, so a chain is the steps times the batches of attempts (one,
    plus one for each attempt that did not pass while more were possible)."""
    total = longest = 0
    for case in record["cases"]:
        if case["outcome"] in ("unsupported", "skipped"):
            continue
        steps = len(cases[case["id"]].steps)
        total += steps * case["attempts"]
        rounds = max(1, record["run"].get("repeat", 1))
        per_round = case["attempts"] / rounds
        batches = 1 + max(0, round(per_round) - cases[case["id"]].policy.require)
        longest = max(longest, steps * batches)
    return total, longest


# -- part 1 -----------------------------------------------------------------------------------------


def in_process(url: str, concurrency: int) -> dict[str, float]:
    """The suite in process against the gateway, through the session as ``conformance run`` runs it, with
    every exchange and every check timed."""
    import conformance.engine.runner as runner_module
    import conformance.wire.transport as transport_module
    from conformance.session import RunPlan, run_sessions
    from conformance.suite.loader import load_cases
    from conformance.validation.store import SchemaStore
    from conformance.wire.profiles import load_provider

    os.environ["BENCH_KEY"] = KEY
    cases = tuple(load_cases())
    provider = dataclasses.replace(
        load_provider("reference"),
        embedded=False,
        base_url=url,
        concurrency=concurrency,
        api_key_env="BENCH_KEY",
    )
    exchanges: list[tuple[float, float]] = []
    in_checks = [0.0]
    send_once, run_check = transport_module.Transport.send_once, runner_module.run_check

    async def timed_send(self: Any, request: Any) -> Any:
        started = time.perf_counter()
        try:
            return await send_once(self, request)
        finally:
            exchanges.append((started, time.perf_counter()))

    def timed_check(context: Any, expectation: Any) -> Any:
        started = time.thread_time()
        try:
            return run_check(context, expectation)
        finally:
            in_checks[0] += time.thread_time() - started

    transport_module.Transport.send_once = timed_send  # type: ignore[method-assign]
    runner_module.run_check = timed_check
    try:
        with tempfile.TemporaryDirectory() as tmp:
            schemas = SchemaStore.load()
            cpu, wall = time.process_time(), time.perf_counter()
            (result,) = run_sessions([RunPlan(provider, cases, Path(tmp))], schemas=schemas)
            cpu, finished = time.process_time() - cpu, time.perf_counter()
    finally:
        transport_module.Transport.send_once = send_once  # type: ignore[method-assign]
        runner_module.run_check = run_check
    if result.run.summary.gate != "pass":
        raise SystemExit("the suite did not pass in process")
    started = min(start for start, _ in exchanges)
    ended = max(end for _, end in exchanges)
    busy = sum(end - start for start, end in exchanges)
    return {
        "wall_s": result.run.info.duration_ms / 1000,
        "cpu_ms_per_case": cpu * 1000 / len(cases),
        "checks_ms_per_case": in_checks[0] * 1000 / len(cases),
        "requests": len(exchanges),
        "first_request_s": started - wall,
        "last_answer_s": ended - wall,
        "after_last_answer_s": finished - ended,
        "busy_slot_s": busy,
        "mean_exchange_s": busy / len(exchanges),
    }


def part_single(latency: float, concurrency: int) -> str:
    from conformance.suite.loader import load_cases

    cases = {case.id: case for case in load_cases()}
    gateway = serve("reference", latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            profile = profile_file(Path(tmp), gateway, concurrency)
            load_before = load()
            command = conformance_run(["--provider", str(profile)], Path(tmp) / "run")
            (record,) = command.records.values()
            measured = in_process(gateway.url, concurrency)
            load_after = load()
        gateway_cpu = gateway.cpu_seconds()
    finally:
        gateway.stop()
    requests, longest = requests_of(record, cases)
    ideal = max(requests * latency / concurrency, longest * latency)
    wire = command.wire_s
    slots = concurrency * measured["wall_s"]
    idle = slots - measured["busy_slot_s"]
    over = measured["busy_slot_s"] - measured["requests"] * latency
    verdict = "met" if wire <= 1.1 * ideal else "MISSED"
    n = len(record["cases"])
    rows = [
        "| measure | value | target |",
        "|---|---|---|",
        f"| cases; requests sent (steps x attempts); longest chain | {n}; {requests}; {longest} | |",
        f"| ideal: max(requests x latency / concurrency, longest chain x latency) | {ideal:.2f} s | |",
        f"| wire phase (`conformance run`, results.json) | {wire:.2f} s = **{wire / ideal:.3f}x ideal** |"
        f" <= 1.1x: {verdict} |",
        f"| whole command (start-up, loading, reports) | {command.wall_s:.2f} s | |",
        f"| whole command CPU | {command.cpu_s:.2f} s ({command.cpu_s * 1000 / n:.1f} ms per case) | |",
        f"| whole command peak RSS | {command.peak_rss_mib:.0f} MiB | |",
        f"| in process: wire phase | {measured['wall_s']:.2f} s"
        f" = {measured['wall_s'] / ideal:.3f}x ideal | |",
        f"| in process: checker CPU per case (HTTP client, event loop, checks, event log, reports)"
        f" | {measured['cpu_ms_per_case']:.2f} ms | |",
        "| in process: of which in checks (schemas, predicates)"
        f" | {measured['checks_ms_per_case']:.2f} ms | |",
        f"| where the slots went: busy on the wire | {100 * measured['busy_slot_s'] / slots:.1f}% | |",
        f"| idle slot time: before the first request ({measured['first_request_s']:.2f} s), between"
        f" attempts, at the tail | {idle:.1f} slot-s = {idle / concurrency:.2f} s of wall | |",
        f"| exchanges beyond the latency (gateway CPU, stream pacing, queueing) | mean"
        f" {1000 * measured['mean_exchange_s']:.0f} ms for {1000 * latency:.0f} ms; {over:.1f} slot-s ="
        f" {over / concurrency:.2f} s of wall | |",
        f"| reports written after the wire phase (in process) | {measured['after_last_answer_s']:.2f} s | |",
        f"| the gateway's own CPU (both runs) | {gateway_cpu:.2f} s | |",
        f"| machine | {load_before} before, {load_after} after | |",
    ]
    return "\n".join(rows)


# -- part 2 -----------------------------------------------------------------------------------------


def part_many(latency: float, concurrency: int, providers: tuple[str, ...], models: tuple[str, ...]) -> str:
    gateways = [serve(profile, latency) for profile in providers]
    rows = [
        "| target | run alone: wire phase | command | in the run of all targets: wire phase |",
        "|---|---|---|---|",
    ]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            profiles = [profile_file(folder, gateway, concurrency) for gateway in gateways]
            load_before = load()
            singles: dict[tuple[str, str], Command] = {}
            for gateway, profile in zip(gateways, profiles, strict=True):
                for model in models:
                    out = folder / "single" / f"{gateway.profile}~{model}"
                    singles[(gateway.profile, model)] = conformance_run(
                        ["--provider", str(profile), "--model", model], out
                    )
            args = [arg for profile in profiles for arg in ("--provider", str(profile))]
            args += [arg for model in models for arg in ("--model", model)]
            together = conformance_run(args, folder / "many")
            load_after = load()
        gateway_cpu = sum(gateway.cpu_seconds() for gateway in gateways)
    finally:
        for gateway in gateways:
            gateway.stop()
    by_target = {
        (record["run"]["provider"], record["run"]["model"]): record["run"]["duration_ms"] / 1000
        for record in together.records.values()
    }
    for (provider, model), command in singles.items():
        rows.append(
            f"| {provider} · {model} | {command.wire_s:.2f} s | {command.wall_s:.2f} s |"
            f" {by_target[(provider, model)]:.2f} s |"
        )
    slowest = max(command.wire_s for command in singles.values())
    slowest_command = max(command.wall_s for command in singles.values())
    ratio = together.wire_s / slowest
    verdict = "met" if ratio <= 1.2 else "MISSED"
    cases = sum(len(record["cases"]) for record in together.records.values())
    rows += [
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| targets | {len(singles)} ({len(providers)} providers x {len(models)} models), concurrency"
        f" {concurrency} each, one gateway process per provider | |",
        f"| slowest single target: wire phase (command) | {slowest:.2f} s ({slowest_command:.2f} s) | |",
        f"| every target in one run: wire phase | {together.wire_s:.2f} s = **{ratio:.3f}x the slowest"
        f" single target** | <= 1.2x: {verdict} |",
        f"| every target in one run: whole command | {together.wall_s:.2f} s"
        f" = {together.wall_s / slowest_command:.3f}x the slowest single command | |",
        f"| every target in one run: command CPU | {together.cpu_s:.2f} s"
        f" ({together.cpu_s * 1000 / cases:.1f} ms per case, {cases} cases) | |",
        f"| every target in one run: peak RSS (one target alone: at most) | {together.peak_rss_mib:.0f} MiB"
        f" ({max(command.peak_rss_mib for command in singles.values()):.0f} MiB) | |",
        f"| the gateways' own CPU (all runs) | {gateway_cpu:.2f} s | |",
        f"| machine | {load_before} before, {load_after} after | |",
    ]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.5, help="seconds added before every response")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per target")
    parser.add_argument("--part", choices=("single", "many", "both"), default="both")
    parser.add_argument("--providers", default=",".join(PROVIDERS), help="comma-separated profiles")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model ids")
    args = parser.parse_args()
    header = f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}"
    if args.part in ("single", "both"):
        print(f"### One target, full suite ({header})\n")
        print(part_single(args.latency, args.concurrency), flush=True)
    if args.part in ("many", "both"):
        providers, models = tuple(args.providers.split(",")), tuple(args.models.split(","))
        print(f"\n### {len(providers)} providers x {len(models)} models ({header})\n")
        print(part_many(args.latency, args.concurrency, providers, models), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
