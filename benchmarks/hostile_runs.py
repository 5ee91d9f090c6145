"""Whole-suite runs against each hostile behaviour: wall time, the run's peak RSS, exit code and outcomes.

Each behaviour of ``tests/hostile_server.py`` answers every request of a run; the script runs the full
suite (``conformance run --provider google``, no selection) against each in turn, one at a time, and
prints a Markdown table. The peak RSS is the ``conformance run`` process's own high-water mark
(``os.wait4``; see ``tests/measured.py``); the hostile server runs in this process and is not counted.

    python benchmarks/hostile_runs.py [--timeout 5] [--concurrency 16] [--breaker N] [BEHAVIOUR ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hostile_server import BEHAVIOURS, HostileServer, second_host  # noqa: E402
from tests.measured import run_measured  # noqa: E402

KEY = "HOSTILE-benchmark-key"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--breaker", type=int, help="passed on to conformance run (default: its own, 5)")
    parser.add_argument("behaviours", nargs="*", default=[name for name in BEHAVIOURS if name != "good"])
    args = parser.parse_args(argv)
    rows = []
    with HostileServer(host=second_host()) as other, HostileServer() as hostile:
        hostile.redirect_to = other.base_url
        with tempfile.TemporaryDirectory() as scratch:
            for name in args.behaviours:
                out = Path(scratch) / name
                done = run_measured(
                    [
                        sys.executable,
                        "-m",
                        "conformance",
                        "run",
                        "--provider",
                        "google",
                        "--base-url",
                        hostile.url(name),
                        "--api-key-env",
                        "HOSTILE_KEY",
                        "--timeout",
                        f"{args.timeout:g}",
                        "--concurrency",
                        str(args.concurrency),
                        "--out",
                        str(out),
                        *(["--breaker", str(args.breaker)] if args.breaker is not None else []),
                    ],
                    env={**os.environ, "HOSTILE_KEY": KEY},
                    cwd=Path(scratch),
                    logs=out / "console",
                    deadline=600,
                )
                summary = json.loads((out / "results.json").read_text())["summary"]
                sent = sum(seen.target.startswith(f"/{name}/") for seen in hostile.seen)
                rows.append((name, done, summary, sent))
                print(f"{name}: {done.seconds:.1f} s, {done.peak_rss_mib:.0f} MiB", file=sys.stderr)
        leaked = [seen for seen in other.seen if KEY in seen.target or KEY in json.dumps(seen.headers)]
    breaker = f" --breaker {args.breaker}" if args.breaker is not None else ""
    print(f"Full suite, `--timeout {args.timeout:g} --concurrency {args.concurrency}{breaker}`:\n")
    print(
        "| behaviour | wall time (s) | peak RSS (MiB) | CPU (s) | exit | requests sent"
        " | passed | failed | errored | unsupported + skipped |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, done, counts, sent in rows:
        rest = counts["total"] - counts["passed"] - counts["failed"] - counts["errored"]
        print(
            f"| {name} | {done.seconds:.1f} | {done.peak_rss_mib:.0f} | {done.cpu_seconds:.1f}"
            f" | {done.returncode} | {sent} | {counts['passed']} | {counts['failed']} | {counts['errored']}"
            f" | {rest} |"
        )
    print(
        f"\nRequests that reached the redirect's other host: {len(other.seen)}; with the key: {len(leaked)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
