"""Command-line wiring of the history: run options, the ``history`` command, and the steps a run takes."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import sys
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from auditor.drift import Changes, ScanFindings
from auditor.history.ageing import HistoryView, sla_days
from auditor.history.errors import HistoryError
from auditor.history.location import HistoryLocationError
from auditor.history.options import HistoryCommandOptions, HistoryOptions
from auditor.model import Severity
from auditor.notify.notice import build_notice
from auditor.notify.targets import Target, TargetError, parse_target
from auditor.parameters import Params
from auditor.results import ScanResult

if TYPE_CHECKING:
    from auditor.history.store import HistoryStore

# An exit status of its own, so a pipeline can tell "the findings gate" from "nobody was told".
EXIT_NOTIFY_FAILED = 3


class HistoryUsageError(ValueError):
    """A history option that makes no sense with the others."""


# Bad history or notification input: one line on stderr and exit 2, like every other input error.
ERRORS = (HistoryError, HistoryLocationError, TargetError, HistoryUsageError)


@dataclass
class HistoryRun:
    """The history and notification side of one run, prepared before collection so bad input fails fast."""

    store: HistoryStore | None
    targets: tuple[Target, ...]
    # The previous scan of the same scope, found when the scan is recorded.
    previous: ScanFindings | None = None


def add_run_options(parser: argparse.ArgumentParser, *, gate: bool) -> None:
    """--history, --notify, --notify-digest, --notify-required and, for gating commands, --fail-on-overdue."""
    parser.add_argument(
        "--history",
        metavar="PATH|URL",
        help="keep the scan history in this SQLite file or postgresql:// URL (default: $AUDITOR_HISTORY); "
        "reports gain first-seen dates, days open, overdue marks and a trend, and --compare defaults to the "
        "previous scan of the same scope",
    )
    parser.add_argument(
        "--notify",
        action="append",
        default=[],
        metavar="TARGET",
        help="tell email:ADDRESS, teams:URL, slack:URL or webhook:URL (URL may be env:NAME) of new or "
        "regressed gated findings (repeatable)",
    )
    parser.add_argument(
        "--notify-digest", action="store_true", help="notify every run with the totals, even when nothing is new"
    )
    parser.add_argument(
        "--notify-required",
        action="store_true",
        help=f"exit {EXIT_NOTIFY_FAILED} when a notification could not be delivered",
    )
    if gate:
        parser.add_argument(
            "--fail-on-overdue",
            type=Severity,
            choices=list(Severity),
            metavar="SEVERITY",
            help="exit 1 when a finding at or above SEVERITY is past its remediation SLA; needs --history",
        )
    else:
        parser.set_defaults(fail_on_overdue=None)


def prepare(options: HistoryOptions) -> HistoryRun | None:
    """Open (and upgrade) the store and parse the notify targets; None when the run uses neither."""
    location = options.location
    if options.fail_on_overdue is not None and location is None:
        raise HistoryUsageError("--fail-on-overdue needs --history: overdue is judged from first-seen dates")
    targets = tuple(parse_target(text) for text in options.notify)
    if location is None and not targets:
        return None
    if location is None:
        return HistoryRun(None, targets)
    from auditor.history.store import HistoryStore  # noqa: PLC0415 - SQLAlchemy and Alembic, only with a history

    return HistoryRun(HistoryStore.open(location), targets)


def record(result: ScanResult, run: HistoryRun | None, params: Params) -> ScanResult:
    """Record the scan in the history, in one transaction, and attach ages, SLAs and the trend."""
    if run is None or run.store is None:
        return result
    slas = sla_days(params)
    negative = [s.value for s, days in slas.items() if days < 0]
    if negative:
        raise HistoryUsageError(f"--param sla_{negative[0]}_days: expected 0 or more days")
    from auditor.history.store import scan_scope  # noqa: PLC0415 - loaded with the store

    scope = scan_scope(result)
    try:
        recorded = run.store.record(result, scope, slas)
        run.previous = recorded.previous
        trend = run.store.trend(scope, slas)
    finally:
        run.store.close()
    view = HistoryView(
        store=run.store.shown,
        scope=scope,
        scan_id=recorded.scan_id,
        previous_scan_id=recorded.previous_scan_id,
        slas=slas,
        ages=recorded.ages,
        trend=trend,
    )
    return dataclasses.replace(result, history=view)


def notify(
    result: ScanResult,
    options: HistoryOptions,
    run: HistoryRun | None,
    threshold: Severity,
    changes: Changes | None = None,
) -> ScanResult:
    """Send the notice of new gated findings to every target; failures become warnings, never errors."""
    if run is None or not run.targets:
        return result
    notice = build_notice(result, threshold, digest=options.notify_digest, changes=changes)
    if notice is None:
        print(f"no new findings at or above {threshold.value}: no notification sent")
        return result
    from auditor.notify.deliver import deliver  # noqa: PLC0415 - SMTP and HTTP, only when notifying

    deliveries = deliver(run.targets, notice)
    warnings = list(result.warnings)
    for delivery in deliveries:
        if delivery.ok:
            print(f"notified {delivery.target} of {delivery.findings} new finding(s)")
        else:
            warnings.append(f"notification to {delivery.target} failed: {delivery.detail}")
    return dataclasses.replace(result, notifications=deliveries, warnings=tuple(warnings))


def exit_status(result: ScanResult, options: HistoryOptions, status: int) -> int:
    """The run's exit status after the overdue gate and a failed required notification."""
    fail_on_overdue = options.fail_on_overdue
    if fail_on_overdue is not None and result.history is not None:
        overdue = [f for f in result.history.overdue(result.findings) if f.severity.rank >= fail_on_overdue.rank]
        if overdue:
            print(f"{len(overdue)} finding(s) at or above {fail_on_overdue.value} are past their SLA: exit 1")
            status = max(status, 1)
    if options.notify_required and any(not d.ok for d in result.notifications):
        print(f"a required notification was not delivered: exit {EXIT_NOTIFY_FAILED}", file=sys.stderr)
        return EXIT_NOTIFY_FAILED
    return status


# --- auditor history ... ---------------------------------------------------------------------------------


def add_command(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``history`` command: list, show, trend and export."""
    history = commands.add_parser("history", help="list, show, trend and export the scan history")
    history.add_argument("--history", metavar="PATH|URL", help="the store (default: $AUDITOR_HISTORY)")
    verbs = history.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("list", help="every recorded scan, oldest first")
    show = verbs.add_parser("show", help="one scan and its fail and error findings")
    show.add_argument("scan", type=int, metavar="SCAN", help="scan id, as list shows it")
    trend = verbs.add_parser("trend", help="score, new, resolved, open and overdue per scan")
    trend.add_argument("--control", metavar="ID", help="only the findings of this control")
    trend.add_argument("--since", type=date.fromisoformat, metavar="DATE", help="only scans from this day on")
    trend.add_argument("--scope", help="the scope to trend (default: the scope of the newest scan)")
    trend.add_argument("--json", action="store_true", help="print the trend as JSON")
    export = verbs.add_parser("export", help="the whole history as CSV (intervals) or JSON (everything)")
    export.add_argument("--format", choices=["csv", "json"], default="json", help="csv or json (default json)")


def run_history(options: HistoryCommandOptions) -> int:
    """Read the history store and print what the verb asks for."""
    location = options.location
    if location is None:
        raise HistoryUsageError("auditor history needs --history PATH|URL or AUDITOR_HISTORY")
    from auditor.history.store import HistoryStore  # noqa: PLC0415 - SQLAlchemy and Alembic

    with HistoryStore.open(location) as store:
        if options.verb == "list":
            print("\n".join(_list_lines(store)))
        elif options.verb == "show":
            print("\n".join(_show_lines(store, options.scan)))
        elif options.verb == "trend":
            print(_trend_text(store, options))
        else:
            print(_export_text(store, options.format), end="")
    return 0


def _list_lines(store: HistoryStore) -> list[str]:
    rows = store.scans()
    lines = [f"{'scan':>5}  {'as of':20}  {'score':>6}  {'fail':>5}  {'error':>5}  {'new':>4}  {'resolved':>8}  scope"]
    for row in rows:
        by_status = row.summary.get("by_status", {})
        lines.append(
            f"{row.id:>5}  {row.as_of:20}  {_percent(row.summary.get('score')):>6}  {by_status.get('fail', 0):>5}  "
            f"{by_status.get('error', 0):>5}  {row.summary.get('new', 0):>4}  {row.summary.get('resolved', 0):>8}  "
            f"{row.scope}"
        )
    if not rows:
        lines.append("(no scans recorded)")
    return lines


def _show_lines(store: HistoryStore, scan_id: int) -> list[str]:
    row = store.scan(scan_id)
    if row is None:
        raise HistoryUsageError(f"auditor history show {scan_id}: no such scan")
    summary = row.summary
    lines = [
        f"scan {row.id} of {row.scope}",
        f"  as of {row.as_of}, finished {row.finished_at}, {row.source}",
        f"  baseline {row.baseline_name} (sha256 {row.baseline_sha256[:12]}), auditor {row.tool_version}",
        f"  score {_percent(summary.get('score'))}, new {summary.get('new', 0)}, resolved "
        f"{summary.get('resolved', 0)}, open {summary.get('open', 0)}, overdue {summary.get('overdue', 0)}",
        "",
    ]
    for finding in store.findings_at(scan_id):
        if finding["status"] in ("fail", "error"):
            lines.append(
                f"{finding['severity']:>8}  {finding['status']:5}  {finding['control_id']:8}  since "
                f"{finding['start_at']}  first seen {finding['first_seen_at']}  {finding['resource_id'] or '(control)'}"
            )
    return lines


def _trend_text(store: HistoryStore, options: HistoryCommandOptions) -> str:
    scope = options.scope
    if scope is None:
        newest = store.scans()
        if not newest:
            return "(no scans recorded)"
        scope = newest[-1].scope
    from auditor.history.store import stamp  # noqa: PLC0415 - loaded with the store

    since = stamp(f"{options.since.isoformat()}T00:00:00Z") if options.since else None
    trend = store.trend(scope, _default_slas(), control=options.control, since=since)
    if options.json:
        return json.dumps(dataclasses.asdict(trend), indent=2)
    label = f" of {options.control}" if options.control else ""
    lines = [
        f"trend{label} for {scope}",
        f"{'scan':>5}  {'as of':20}  {'score':>6}  {'new':>4}  {'resolved':>8}  {'open':>5}  {'overdue':>7}",
    ]
    for p in trend.points:
        lines.append(
            f"{p.scan_id:>5}  {p.at:20}  {_percent(p.score):>6}  {p.new:>4}  {p.resolved:>8}  {p.open:>5}  "
            f"{p.overdue:>7}"
        )
    lines.append("open by age (days): " + ", ".join(f"{k} {v}" for k, v in trend.open_by_age.items()))
    lines.append(
        "mean days to resolve: "
        + ", ".join(f"{k} {'-' if v is None else f'{v:.1f}'}" for k, v in trend.mean_days_to_resolve.items())
    )
    return "\n".join(lines)


def _default_slas() -> dict[Severity, int]:
    from auditor.baseline import default_baseline_path, load_baseline  # noqa: PLC0415 - only for trend
    from auditor.checks import builtin_registry  # noqa: PLC0415

    return sla_days(load_baseline(default_baseline_path(), builtin_registry()).resolve_params({}))


EXPORT_COLUMNS = (
    "scope",
    "finding_id",
    "control_id",
    "check_id",
    "resource_id",
    "severity",
    "status",
    "start_scan",
    "start_at",
    "end_scan",
    "end_at",
    "first_seen_at",
)


def _export_text(store: HistoryStore, form: str) -> str:
    exported = store.export()
    if form == "json":
        return json.dumps(exported, indent=2, ensure_ascii=False) + "\n"
    details = {(f["scope"], f["finding_id"]): f for f in exported["findings"]}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for interval in exported["intervals"]:
        finding = details.get((interval["scope"], interval["finding_id"]), {})
        row = {**finding, **interval}
        writer.writerow([_cell(row.get(column)) for column in EXPORT_COLUMNS])
    return buffer.getvalue()


def _cell(value: object) -> str:
    from auditor.reports.csv import safe_cell  # noqa: PLC0415 - the reports' own formula guard

    return safe_cell("" if value is None else str(value))


def _percent(value: object) -> str:
    return f"{value:.1f}%" if isinstance(value, int | float) else "-"
