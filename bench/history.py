"""History benchmark: a year of daily scans of a large estate with realistic churn, recorded in a SQLite file.

Each day about 1 % of the findings change: most flip between pass and fail (a setting changed, a fix
landed), the rest are resources replaced (one finding id resolved, a new one first seen). Prints the time
to record each scan (mean, 95th percentile, max; wall and CPU), the time of the trend query and of the previous-scan
lookup after the last day, and the file size. Targets: recording <= 2 s, trend <= 1 s, file <= 200 MB.

    python bench/history.py [--days 365] [--findings 20000] [--churn 0.01] [--store FILE]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditor.history.ageing import DEFAULT_SLA_DAYS
from auditor.history.store import HistoryStore, scan_scope
from auditor.model import Finding, Severity, Status
from auditor.results import ControlSummary, ScanMetadata, ScanResult

CONTROLS = ("IAM-01", "NET-01", "NET-04", "ENC-01", "ENC-03", "KV-01", "BAK-01", "MON-02")
SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
SUBSCRIPTION = "5e1b0c9d-0000-4000-8000-00000000beef"
RECORD_TARGET_S, TREND_TARGET_S, SIZE_TARGET_MB = 2.0, 1.0, 200.0
# Of each day's changes, this share are resources replaced rather than settings flipped.
REPLACED_SHARE = 0.25


def make_finding(number: int, status: Status, rng: random.Random) -> Finding:
    """One finding of a generated resource; its control and severity follow from its number."""
    control = CONTROLS[number % len(CONTROLS)]
    return Finding(
        control_id=control,
        check_id=f"check_{control.lower().replace('-', '_')}",
        title=f"{control} promise",
        status=status,
        severity=SEVERITIES[number % len(SEVERITIES)],
        resource_id=f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-{number % 50}/providers/Microsoft.Compute/"
        f"virtualMachines/vm-{number:06d}",
        resource_type="Microsoft.Compute/virtualMachines",
        subscription_id=SUBSCRIPTION,
        message=f"generated finding {number}",
    )


def scan_result(day: datetime, findings: list[Finding]) -> ScanResult:
    """A scan result of the generated estate on one day."""
    stamp = day.isoformat()
    return ScanResult(
        metadata=ScanMetadata(
            tool_version="bench",
            started_at=stamp,
            finished_at=stamp,
            source="bench/history.py",
            subscriptions=(SUBSCRIPTION,),
            baseline_path="baseline.toml",
            baseline_sha256="0" * 64,
            baseline_name="benchmark baseline",
            as_of=stamp,
        ),
        controls=tuple(
            ControlSummary(c, c, c.split("-")[0], Severity.HIGH, "automated", "", "", Status.FAIL, {}) for c in CONTROLS
        ),
        findings=tuple(findings),
    )


def main() -> int:
    """Run the benchmark and print its figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--store", type=Path, help="SQLite file to fill (default: a temporary one, removed after)")
    args = parser.parse_args()
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as scratch:
        path = args.store or Path(scratch) / "history.db"
        path.unlink(missing_ok=True)
        store = HistoryStore.open(str(path))
        statuses = {n: (Status.FAIL if rng.random() < 0.3 else Status.PASS) for n in range(args.findings)}
        estate = {n: make_finding(n, status, rng) for n, status in statuses.items()}
        next_number = args.findings
        day = datetime(2026, 1, 1, 6, tzinfo=UTC)
        timings: list[float] = []
        cpu: list[float] = []
        scope = ""
        for index in range(args.days):
            if index:
                next_number = churn(estate, args.churn, next_number, rng)
            result = scan_result(day + timedelta(days=index), list(estate.values()))
            scope = scan_scope(result)
            started, started_cpu = time.perf_counter(), time.process_time()
            store.record(result, scope, DEFAULT_SLA_DAYS)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            if (index + 1) % 50 == 0:
                print(f"  day {index + 1}: recorded in {timings[-1]:.2f} s", file=sys.stderr)
        started, started_cpu = time.perf_counter(), time.process_time()
        trend = store.trend(scope, DEFAULT_SLA_DAYS)
        trend_s, trend_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        started = time.perf_counter()
        store.previous_findings(scope)
        previous_s = time.perf_counter() - started
        counts = {table: store.count(table) for table in ("scans", "findings", "intervals")}
        store.close()
        size_mb = path.stat().st_size / 1e6
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 20 else max(timings)
    print(f"scans recorded:        {args.days} x {args.findings} findings, churn {args.churn:.1%} a day")
    slowest = timings.index(max(timings)) + 1
    print(
        f"record a scan:         mean {statistics.mean(timings):.2f} s, p95 {p95:.2f} s, "
        f"max {max(timings):.2f} s (day {slowest})"
    )
    # On a shared machine wall time includes waiting for a core; CPU time is what the work itself took.
    print(f"  of which CPU:        mean {statistics.mean(cpu):.2f} s, max {max(cpu):.2f} s")
    print(f"trend query:           {trend_s:.2f} s ({len(trend.points)} points; CPU {trend_cpu:.2f} s)")
    print(f"previous-scan lookup:  {previous_s:.2f} s")
    print(f"rows:                  {counts}")
    print(f"SQLite file:           {size_mb:.1f} MB")
    missed = [
        name
        for name, ok in (
            ("record", max(timings) <= RECORD_TARGET_S),
            ("trend", trend_s <= TREND_TARGET_S),
            ("size", size_mb <= SIZE_TARGET_MB),
        )
        if not ok
    ]
    print("targets: " + ("all met" if not missed else "missed " + ", ".join(missed)))
    return 1 if missed else 0


def churn(estate: dict[int, Finding], rate: float, next_number: int, rng: random.Random) -> int:
    """Change about ``rate`` of the findings in place; returns the next unused resource number."""
    changes = max(1, round(len(estate) * rate))
    chosen = rng.sample(sorted(estate), changes)
    for number in chosen[: round(changes * REPLACED_SHARE)]:
        del estate[number]
        estate[next_number] = make_finding(next_number, Status.FAIL if rng.random() < 0.5 else Status.PASS, rng)
        next_number += 1
    for number in chosen[round(changes * REPLACED_SHARE) :]:
        old = estate[number]
        flipped = Status.PASS if old.status is Status.FAIL else Status.FAIL
        estate[number] = make_finding(number, flipped, rng)
    return next_number


if __name__ == "__main__":
    sys.exit(main())
