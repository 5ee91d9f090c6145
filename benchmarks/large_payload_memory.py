"""Peak memory of the checker while it sends the large-payload cases (about 15 MB of video inline).

The reference gateway runs in a child process (``conformance serve``), so only the checker is measured:
building the request, streaming its body, receiving and judging the answer, and keeping the evidence.
Two figures: tracemalloc's peak of Python allocations during the run, and the growth of the process's
peak resident set size (``resource.getrusage``) over what it was before the run. For contrast, it also
shows what merely holding the same body whole would cost.

    python benchmarks/large_payload_memory.py [CASE_ID ...]
"""

from __future__ import annotations

import dataclasses
import os
import resource
import socket
import subprocess
import sys
import time
import tracemalloc

import httpx

from conformance.engine.runner import Runner
from conformance.suite.bodies import build_body
from conformance.suite.loader import load_cases
from conformance.validation.store import SchemaStore
from conformance.wire.profiles import load_provider

DEFAULT_CASES = ("gemini/multimodal/inline-limit", "openai/multimodal/inline-limit")
KEY = "benchmark-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"error: the reference gateway did not come up at {url}")


def main(argv: list[str]) -> int:
    wanted = tuple(argv) or DEFAULT_CASES
    cases = [case for case in load_cases() if case.id in wanted]
    if len(cases) != len(wanted):
        print(f"error: unknown case id among {', '.join(wanted)}", file=sys.stderr)
        return 2
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "conformance", "serve", "--port", str(port), "--api-key", KEY],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url + "/v1/models")
        os.environ["CONFORMANCE_REFERENCE_KEY"] = KEY
        provider = dataclasses.replace(
            load_provider("reference"), embedded=False, base_url=base_url, concurrency=1
        )
        schemas = SchemaStore.load()
        for case in cases:
            runner = Runner(provider, KEY, schemas)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            tracemalloc.start()
            started = time.perf_counter()
            result = runner.run([case])[case.id]
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            sent = result.attempts[-1].exchanges[-1].request
            print(
                f"{case.id}: {result.outcome}; body {sent.size / 1e6:.2f} MB sent in {elapsed:.2f} s;"
                f" evidence keeps {len(sent.body) / 1024:.0f} KiB of it;"
                f" tracemalloc peak {peak / 2**20:.2f} MiB;"
                f" peak RSS growth {(rss_after - rss_before) / 1024:.1f} MiB"
                f" (peak RSS {rss_after / 1024:.1f} MiB)"
            )
            tracemalloc.start()
            whole = build_body(case.steps[0].request.body).materialize()
            _, held = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"  for contrast, holding that body whole ({len(whole) / 1e6:.2f} MB)"
                f" peaks at {held / 2**20:.1f} MiB"
            )
            del whole
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
