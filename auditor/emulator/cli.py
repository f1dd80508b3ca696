"""``auditor emulator``: serve an estate file over HTTPS until interrupted."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

from auditor.emulator.estate import EstateError, load_estate
from auditor.emulator.faults import FaultError, parse_fault
from auditor.options import EmulatorOptions
from auditor.terminal import printable

# How often the main thread looks for a stop signal; the handlers only record it (see run()).
_STOP_POLL_SECONDS = 0.1


def run(options: EmulatorOptions) -> int:
    """Serve the estate until SIGINT or SIGTERM; 2 if the estate or a fault is invalid."""
    from auditor.emulator.server import Emulator  # noqa: PLC0415 - the TLS stack, only when serving

    try:
        estate = load_estate(options.estate)
        faults = [parse_fault(text) for text in options.faults]
        emulator = Emulator(
            estate,
            port=options.port,
            page_size=options.page_size,
            token=options.token,
            faults=faults,
            latency_ms=options.latency_ms,
            graph_quota=options.graph_quota,
        )
    except (EstateError, FaultError, ValueError) as exc:
        print(f"auditor: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    received: list[int] = []

    # The handler only records the signal: taking a lock (Event.set does) inside a signal handler can
    # deadlock the main thread if the signal lands while it holds that same lock.
    def request_stop(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            emulator.start()
        except OSError as exc:
            print(f"auditor: error: cannot listen on 127.0.0.1:{options.port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        try:
            print(f"url: {emulator.url}")
            print(f"ca-file: {emulator.ca_file}")
            print(f"token: {emulator.token}")
            sys.stdout.flush()
            while not received:
                time.sleep(_STOP_POLL_SECONDS)
        finally:
            emulator.stop()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
