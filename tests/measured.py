"""Run a command in a child process and measure it: wall time, exit code, and the child's own peak RSS.

The peak resident set size comes from ``os.wait4``, which reaps exactly one child and returns the kernel's
accounting of it (``ru_maxrss``: the high-water mark of its resident memory, including its own reaped
children). Unlike ``getrusage(RUSAGE_CHILDREN)`` it is not mixed with other children of the caller, so
several commands can be measured at once from threads; unlike polling ``/proc/<pid>/status`` it cannot
miss the last moments before the child exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    """What a finished command did: exit code (negative: killed by that signal), wall time, peak RSS, CPU time
    (user and system), output."""

    returncode: int
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float
    stdout: str
    stderr: str
    timed_out: bool = False


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    logs: Path,
    deadline: float,
) -> Measured:
    """Run ``argv`` to its end (killed after ``deadline`` seconds), its output in files under ``logs``."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(list(argv), stdout=out, stderr=err, cwd=cwd, env=dict(env))
        timed_out = False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid == child.pid:
                break
            if time.perf_counter() - started > deadline and not timed_out:
                timed_out = True
                os.kill(child.pid, signal.SIGKILL)
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait for it
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is in bytes on macOS, KiB on Linux
    return Measured(
        child.returncode,
        seconds,
        usage.ru_maxrss * scale / 2**20,
        usage.ru_utime + usage.ru_stime,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        timed_out,
    )
