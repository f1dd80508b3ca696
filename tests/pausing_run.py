"""Runs of the auditor command that pause at one named point until the test says go on.

``python -m tests.pausing_run`` imports the auditor once, then serves requests read from stdin, one JSON
line each: ``{"point": ..., "control": DIR, "cwd": DIR, "argv": [...]}``. For each it forks a process
that runs the command (stdout and stderr into DIR/stdout and DIR/stderr), prints that process's pid, and
prints ``exit N`` when it ends. When the run reaches the point it creates DIR/paused and waits for
DIR/release, so the test can deliver a signal at exactly that point. The points wrap the project's own
functions; nothing else of the run changes. Forking spares each run the seconds the Azure SDK takes to
import.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Point name -> (module, function, which call pauses), in the order a demo run reaches them.
POINTS: dict[str, tuple[str, str, int]] = {
    "estate-loaded": ("auditor.cli", "load_estate", 1),
    "collecting": ("auditor.demo", "collect_inventory", 1),
    "probing-tls": ("auditor.demo", "with_tls_probe", 1),
    "evaluating": ("auditor.cli", "evaluate", 1),
    "first-report": ("auditor.reports", "write_atomically", 1),
    "second-report": ("auditor.reports", "write_atomically", 2),
    "inventory": ("auditor.snapshot", "write_atomically", 1),
    "sealing": ("auditor.manifest", "write_atomically", 1),
    "swapping": ("auditor.staging", "_discard", 1),
    "summary": ("auditor.cli", "print_summary", 1),
}
WAIT_SECONDS = 60.0


def pause(control: Path) -> None:
    """Say where the run is and wait for the release; a signal arriving meanwhile acts right here."""
    (control / "paused").touch()
    deadline = time.monotonic() + WAIT_SECONDS
    while not (control / "release").exists():
        if time.monotonic() > deadline:
            sys.exit("pausing_run: never released")
        time.sleep(0.01)


def pausing(function: Callable[..., Any], call: int, control: Path) -> Callable[..., Any]:
    """The function, pausing before its call-th call."""
    calls = 0

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == call:
            pause(control)
        return function(*args, **kwargs)

    return wrapper


def run(point: str, control: Path, argv: list[str]) -> int:
    """Install the pause, then run the command in this process."""
    module_name, attribute, call = POINTS[point]
    module = importlib.import_module(module_name)
    setattr(module, attribute, pausing(getattr(module, attribute), call, control))
    from auditor.cli import main  # noqa: PLC0415 - imported by serve() already; named here for the run

    return main(argv)


def child(request: dict[str, Any]) -> None:
    """The forked process: one run, its output into the control folder; never returns."""
    control = Path(request["control"])
    for fd, name in ((1, "stdout"), (2, "stderr")):
        os.dup2(os.open(control / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
    os.chdir(request["cwd"])
    try:
        code = run(request["point"], control, request["argv"])
    except BaseException:  # noqa: BLE001 - what escapes main is printed as the interpreter would, then exit 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    """Import everything a run needs once, then fork one run per request line."""
    for name in {module for module, _, _ in POINTS.values()} | {"auditor.collect.scan", "auditor.emulator"}:
        importlib.import_module(name)
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    serve()
