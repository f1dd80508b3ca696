"""An interrupt during collection ends the run within about one request, in threads and in worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditor.collect.base import Listing
from auditor.collect.scan import STEPS
from auditor.emulator import Emulator, Fault
from auditor.emulator.estate import demo_estate_path, load_estate
from auditor.interrupts import EXIT_INTERRUPTED, EXIT_TERMINATED

ROOT = Path(__file__).resolve().parent.parent
# The first subscription's listings answer this late, so those still queued at the interrupt take seconds;
# the second subscription is fast, so with worker processes its worker is idle (waiting for work, where
# Python used to print a KeyboardInterrupt trace) when the interrupt comes.
LATENCY_SECONDS = 1.0
MAX_WORKERS = 2
EXPECTED_EXIT: dict[int, int] = {signal.SIGINT: EXIT_INTERRUPTED, signal.SIGTERM: EXIT_TERMINATED}

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def listings_of(endpoint: Emulator, subscription_id: str) -> int:
    """Listings and other calls the endpoint has received under one subscription."""
    return sum(r.path.startswith(f"/subscriptions/{subscription_id}/") for r in endpoint.requests)


def wait_until_still(endpoint: Emulator, subscription_id: str, run: subprocess.Popen[str]) -> None:
    """Wait until no call under the subscription has come for a second: its collection is over."""
    count, since = -1, time.monotonic()
    deadline = since + 120
    while time.monotonic() - since < 1:
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "the fast subscription never finished"
        now = listings_of(endpoint, subscription_id)
        if now != count:
            count, since = now, time.monotonic()
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("processes", [1, 2], ids=["threads", "processes"])
def test_an_interrupt_during_collection_ends_the_run_at_once(processes: int, signum: int, tmp_path: Path) -> None:
    estate = load_estate(demo_estate_path())
    slow, fast = (s.subscription_id for s in estate.subscriptions)
    fault = Fault(pattern=f"^/subscriptions/{slow}/providers/", latency_ms=int(LATENCY_SECONDS * 1000))
    out = tmp_path / "report"
    with Emulator(estate, faults=(fault,)) as endpoint:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "AUDITOR_BEARER_TOKEN": endpoint.token,
        }
        argv = [sys.executable, "-m", "auditor", "scan", "--all-subscriptions", "--arm-endpoint", endpoint.url]
        argv += ["--ca-bundle", str(endpoint.ca_file), "--out", str(out), "--quiet"]
        argv += ["--max-workers", str(MAX_WORKERS), "--processes", str(processes)]
        # A session of its own, so the signal reaches the whole process group, as Ctrl-C at a terminal does.
        pipe = subprocess.PIPE
        with subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=pipe, stderr=pipe, text=True, start_new_session=True
        ) as run:
            deadline = time.monotonic() + 120
            while listings_of(endpoint, slow) < 2:
                assert run.poll() is None, run.communicate()
                assert time.monotonic() < deadline, "the scan never started its listings"
                time.sleep(0.02)
            if processes > 1:
                wait_until_still(endpoint, fast, run)
            received = listings_of(endpoint, slow)
            interrupted = time.monotonic()
            os.killpg(run.pid, signum)
            _, stderr = run.communicate(timeout=120)
            took = time.monotonic() - interrupted
    # The slow listings not yet received, as many at a time as threads serve that subscription: what the
    # run used to wait for before it stopped.
    threads = MAX_WORKERS // processes
    listings = sum(isinstance(step, Listing) for step in STEPS)
    remaining = (listings - received - threads) * LATENCY_SECONDS / threads
    assert remaining > 6 * LATENCY_SECONDS, received  # so the bound below means something
    assert took < remaining / 3, (took, remaining, stderr)
    assert run.returncode == EXPECTED_EXIT[signum], stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("auditor: "), stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # --out never created, no staging folder
