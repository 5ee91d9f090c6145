"""Benchmark: the full suite against the reference gateway with a fixed added latency per response.

Starts ``conformance serve --latency L`` in its own process (so the gateway's CPU is not counted), then

1. runs ``conformance run`` against it as a user would and reports the wall time against the ideal
   (requests x latency / concurrency, where requests counts every step of every attempt and round; never
   less than the longest single case's chain of requests x latency), and that command's CPU and peak memory;
2. runs the suite in-process with the same settings (a fresh schema store, so validator building is counted)
   and reports the checker's CPU per case: the process CPU of the whole wire phase (HTTP client, event loop
   and checks) and, within it, the CPU spent in checks; then once more under tracemalloc for peak memory.

Usage: python benchmarks/run_benchmark.py [--latency 0.2] [--concurrency 8] [--repeat 1] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEY = "bench-key-0123456789"


@dataclass(frozen=True)
class Figures:
    """What one benchmark measured."""

    latency: float
    concurrency: int
    repeat: int
    cases: int
    requests: int
    longest_chain: int
    ideal_s: float
    wire_s: float
    command_s: float
    command_cpu_s: float
    command_peak_mib: float
    inproc_wire_s: float
    inproc_cpu_ms_per_case: float
    check_cpu_ms_per_case: float
    inproc_peak_mib: float
    gateway_cpu_s: float
    outcomes: dict[str, int]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gateway(latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance",
            "serve",
            "--port",
            str(port),
            "--api-key",
            KEY,
            "--latency",
            str(latency),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the reference gateway did not start")


def requests_of(document: dict, steps: dict[str, int]) -> tuple[int, int]:
    """Every request the run sent (steps x attempts, all rounds) and the longest chain one case needed."""
    total = longest = 0
    for record in document["cases"]:
        if record["outcome"] in ("unsupported", "skipped"):
            continue
        count = steps[record["id"]] * record["attempts"]
        total += count
        longest = max(longest, count)
    return total, longest


def run_command(base_url: str, concurrency: int, repeat: int, out: Path) -> tuple[float, float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--provider",
            "reference",
            "--base-url",
            base_url,
            "--api-key-env",
            "BENCH_KEY",
            "--concurrency",
            str(concurrency),
            "--repeat",
            str(repeat),
            "--out",
            str(out),
            "-q",
        ],
        cwd=REPO,
        env={**os.environ, "BENCH_KEY": KEY},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(
            f"the suite did not pass against the reference (exit {done.returncode}):\n{done.stdout[-3000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, json.loads((out / "results.json").read_text())


def run_in_process(base_url: str, concurrency: int, repeat: int) -> tuple[float, float, float, float, int]:
    """Wall, process CPU and time in checks of the wire phase, peak traced memory (MiB), and the cases."""
    import dataclasses

    import conformance.engine.runner as runner_module
    from conformance.engine.runner import Runner
    from conformance.suite.loader import load_cases
    from conformance.validation.store import SchemaStore
    from conformance.wire.profiles import load_provider

    cases = load_cases()
    provider = dataclasses.replace(
        load_provider("reference"), embedded=False, base_url=base_url, concurrency=concurrency
    )
    schemas = SchemaStore.load()
    in_checks = [0.0]
    original = runner_module.run_check

    def timed(ctx, expectation):  # type: ignore[no-untyped-def]
        started = time.thread_time()
        try:
            return original(ctx, expectation)
        finally:
            in_checks[0] += time.thread_time() - started

    runner_module.run_check = timed
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        results = Runner(provider, KEY, schemas, repeat=repeat).run(cases)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        runner_module.run_check = original
    tracemalloc.start()  # a second run for memory: tracing slows allocation, so it is kept out of the timings
    try:
        Runner(provider, KEY, schemas, repeat=repeat).run(cases)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    broken = [cid for cid, r in results.items() if r.outcome not in ("passed", "unsupported", "skipped")]
    if broken:
        raise SystemExit(f"cases did not pass in process: {broken}")
    return wall, cpu, in_checks[0], peak, len(cases)


def measure(latency: float, concurrency: int, repeat: int) -> Figures:
    from conformance.suite.loader import load_cases

    steps = {case.id: len(case.steps) for case in load_cases()}
    gateway, base_url = start_gateway(latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            command_s, command_cpu, command_peak, document = run_command(
                base_url, concurrency, repeat, Path(tmp)
            )
        wire_s = document["run"]["duration_ms"] / 1000
        requests, longest = requests_of(document, steps)
        inproc_wall, inproc_cpu, check_cpu, inproc_peak, cases = run_in_process(base_url, concurrency, repeat)
        gateway_cpu = cpu_seconds(gateway.pid)
    finally:
        gateway.terminate()
        gateway.wait(10)
    ideal = max(requests * latency / concurrency, longest * latency)
    outcomes = {k: v for k, v in document["summary"].items() if isinstance(v, int) and k != "total" and v}
    return Figures(
        latency,
        concurrency,
        repeat,
        cases,
        requests,
        longest,
        ideal,
        wire_s,
        command_s,
        command_cpu,
        command_peak,
        inproc_wall,
        inproc_cpu * 1000 / cases,
        check_cpu * 1000 / cases,
        inproc_peak,
        gateway_cpu,
        outcomes,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux /proc); 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def report(f: Figures) -> str:
    ratio = f.wire_s / f.ideal_s
    verdict_wall = "met" if ratio <= 1.3 else "MISSED"
    verdict_cpu = "met" if f.check_cpu_ms_per_case < 2 else "MISSED"
    return "\n".join(
        [
            "| setting | value |",
            "|---|---|",
            f"| added latency per response | {f.latency * 1000:.0f} ms |",
            f"| concurrency | {f.concurrency} |",
            f"| rounds (--repeat) | {f.repeat} |",
            f"| cases | {f.cases} ({', '.join(f'{v} {k}' for k, v in f.outcomes.items())}) |",
            f"| requests sent (steps x attempts x rounds) | {f.requests};"
            f" longest case chain {f.longest_chain} |",
            "",
            "| measure | value | target |",
            "|---|---|---|",
            "| ideal wall time: max(requests x latency / concurrency, longest chain x latency)"
            f" | {f.ideal_s:.2f} s | |",
            f"| wire phase wall time (`conformance run`, from results.json) | {f.wire_s:.2f} s"
            f" = **{ratio:.2f}x ideal** | <= 1.3x: {verdict_wall} |",
            "| whole `conformance run` command (start-up, collection, reports included)"
            f" | {f.command_s:.2f} s |  |",
            f"| whole command CPU | {f.command_cpu_s:.2f} s"
            f" ({f.command_cpu_s * 1000 / f.cases:.1f} ms per case) | |",
            f"| whole command peak RSS | {f.command_peak_mib:.0f} MiB | |",
            f"| in-process wire phase wall time | {f.inproc_wire_s:.2f} s"
            f" = {f.inproc_wire_s / f.ideal_s:.2f}x ideal | |",
            "| checker CPU per case, whole wire phase (HTTP client, event loop, checks)"
            f" | {f.inproc_cpu_ms_per_case:.2f} ms | |",
            "| checker CPU per case in checks (schema validation, predicates)"
            f" | **{f.check_cpu_ms_per_case:.2f} ms** | < 2 ms: {verdict_cpu} |",
            f"| peak traced Python memory during the wire phase | {f.inproc_peak_mib:.1f} MiB | |",
            f"| the reference gateway's own CPU (both runs, {f.requests * 2} requests)"
            f" | {f.gateway_cpu_s:.2f} s"
            f" ({f.gateway_cpu_s * 1000 / (f.requests * 2):.1f} ms per request, one uvicorn thread) | |",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--latency", type=float, default=0.2, help="seconds added before every response (default 0.2)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="cases in flight (default 8, the profile default)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds per case (--repeat)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON as well")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    figures = measure(args.latency, args.concurrency, args.repeat)
    print(report(figures))
    if args.json:
        print(json.dumps(figures.__dict__, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
