"""Start-up benchmark: how long ``auditor --help`` takes, and how long ``auditor demo`` takes to send its first request.

Each figure is the median of several runs in fresh interpreters. The demo's first request is timed from
the moment its process is started to the moment the local endpoint receives that request.

    python bench/startup.py [--runs 5] [--source arm|graph]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs the demo with the endpoint's request log reporting, on stderr, the wall-clock time of the first request.
DRIVER = """
import sys, time
import auditor.emulator.server as server
original = server._RequestLog.append
def append(self, request):
    if not getattr(server, "_first_seen", False):
        server._first_seen = True
        print(f"FIRST {time.time()}", file=sys.stderr, flush=True)
    original(self, request)
server._RequestLog.append = append
from auditor.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _environment() -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}


def help_seconds() -> float:
    """Wall time of one ``python -m auditor --help``."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "auditor", "--help"], stdout=subprocess.DEVNULL, check=True, env=_environment()
    )
    return time.perf_counter() - started


def first_request_seconds(source: str) -> float:
    """Seconds from starting ``auditor demo`` to its first request reaching the local endpoint."""
    with tempfile.TemporaryDirectory() as out:
        started = time.time()
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, "demo", "--out", out, "--quiet", "--format", "json", "--source", source],
            capture_output=True,
            text=True,
            check=True,
            env=_environment(),
        )
    first = next(line for line in done.stderr.splitlines() if line.startswith("FIRST "))
    return float(first.split()[1]) - started


def main() -> int:
    """Measure and print both figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", choices=("arm", "graph"), default="arm")
    args = parser.parse_args()
    bare = statistics.median(_timed([sys.executable, "-c", "pass"]) for _ in range(args.runs))
    helps = statistics.median(help_seconds() for _ in range(args.runs))
    firsts = statistics.median(first_request_seconds(args.source) for _ in range(args.runs))
    print(f"python -c pass:          {bare:.3f} s")
    print(f"auditor --help:          {helps:.3f} s")
    print(f"demo to first request:   {firsts:.3f} s   (--source {args.source})")
    return 0


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
