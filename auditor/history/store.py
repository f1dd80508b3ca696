"""The history store: scans and per-finding status intervals in SQLite or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Row,
    Update,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, RowMapping
from sqlalchemy.exc import SQLAlchemyError

from auditor.drift import FindingState, ScanFindings
from auditor.history.ageing import FindingAge, Trend, TrendPoint, age_of, days_between, parse_time
from auditor.history.errors import HistoryError
from auditor.history.location import database_url, displayed
from auditor.history.schema import VERSION_TABLE, findings, intervals, scans
from auditor.model import GATING_STATUSES, ROLLUP_ORDER, Finding, Severity, Status
from auditor.results import ScanMetadata, ScanResult, posture_score

HEAD_REVISION = "0002"
# Finding ids per IN (...) query when reading back findings that return after being gone.
IN_BATCH = 500
GATING_VALUES = tuple(sorted(s.value for s in GATING_STATUSES))
# Buckets of the "open by age" chart: upper bounds in days, the last one open-ended.
AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-7", 7),
    ("8-30", 30),
    ("31-90", 90),
    ("91-180", 180),
    ("over 180", None),
)


@dataclass(frozen=True)
class ScanRow:
    """One recorded scan as the store keeps it."""

    id: int
    scope: str
    started_at: str
    finished_at: str
    as_of: str
    tool_version: str
    source: str
    baseline_name: str
    baseline_sha256: str
    summary: Mapping[str, Any]


@dataclass(frozen=True)
class RecordedScan:
    """What recording a scan returns: its id, the scan before it in the same scope, and every finding's age."""

    scan_id: int
    previous_scan_id: int | None
    ages: Mapping[str, FindingAge]
    # The findings of the previous scan, as --compare would read them; None for a scope's first scan.
    previous: ScanFindings | None = None


@dataclass(frozen=True)
class Run:
    """A span of consecutive fail or error scans of one finding."""

    finding_id: str
    severity: Severity
    start_scan: int
    start_at: str
    end_scan: int | None
    end_at: str | None


def scan_scope(result: ScanResult) -> str:
    """The scope a scan is filed under: its subscriptions, so scans of the same estate compare."""
    subscriptions = sorted({s.lower() for s in result.metadata.subscriptions if s})
    return "subscriptions:" + ",".join(subscriptions) if subscriptions else "subscriptions:none"


def stamp(text: str) -> str:
    """An ISO 8601 time in the one form the store keeps, so stored times sort as text."""
    return parse_time(text).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HistoryStore:
    """An open history store; use as a context manager, or call close()."""

    def __init__(self, engine: Engine, shown: str) -> None:
        self.engine = engine
        self.shown = shown

    @classmethod
    def open(cls, location: str, *, upgrade: bool = True) -> HistoryStore:
        """Open (creating it if needed) the store at a file path or PostgreSQL URL, upgraded to the newest schema."""
        url = database_url(location)
        store = cls(_engine(url), displayed(url))
        if upgrade:
            store.upgrade()
        return store

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    def upgrade(self, revision: str = "head") -> None:
        """Apply every migration up to the revision, in place, in one transaction."""
        try:
            with self.engine.begin() as connection:
                config = Config()
                config.set_main_option("script_location", "auditor.history:migrations")
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except SQLAlchemyError as exc:
            raise HistoryError(f"history {self.shown}: cannot upgrade the schema: {_reason(exc)}") from None

    def schema_version(self) -> str | None:
        """The schema revision the store is at; None for an empty database."""
        with self.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()

    # --- writing -------------------------------------------------------------------------------------------

    def record(self, result: ScanResult, scope: str, slas: Mapping[Severity, int]) -> RecordedScan:
        """Record one scan in one transaction: a failure leaves the store exactly as it was."""
        try:
            with self.engine.begin() as connection:
                return _record(connection, result, scope, slas, self.shown)
        except SQLAlchemyError as exc:
            raise HistoryError(f"history {self.shown}: scan not recorded, store unchanged: {_reason(exc)}") from None

    # --- reading -------------------------------------------------------------------------------------------

    def scans(self, scope: str | None = None, since: str | None = None) -> list[ScanRow]:
        """Recorded scans, oldest first, of one scope or all, from a date on."""
        query = select(scans).order_by(scans.c.id)
        if scope is not None:
            query = query.where(scans.c.scope == scope)
        if since is not None:
            query = query.where(scans.c.as_of >= since)
        with self._reading() as connection:
            return [_scan_row(row) for row in connection.execute(query).mappings()]

    def scan(self, scan_id: int) -> ScanRow | None:
        """One recorded scan by id."""
        with self._reading() as connection:
            row = connection.execute(select(scans).where(scans.c.id == scan_id)).mappings().first()
        return _scan_row(row) if row is not None else None

    def latest_scan(self, scope: str) -> ScanRow | None:
        """The newest scan of a scope."""
        query = select(scans).where(scans.c.scope == scope).order_by(scans.c.id.desc()).limit(1)
        with self._reading() as connection:
            row = connection.execute(query).mappings().first()
        return _scan_row(row) if row is not None else None

    def previous_findings(self, scope: str) -> ScanFindings | None:
        """The findings of the newest scan of a scope, as ``--compare`` reads a findings.json."""
        latest = self.latest_scan(scope)
        if latest is None:
            return None
        query = select(findings).where(findings.c.scope == scope, findings.c.last_seen_scan.is_(None))
        with self._reading() as connection:
            states = [
                FindingState(r.finding_id, r.control_id, r.title, Status(r.status), Severity(r.severity), r.resource_id)
                for r in connection.execute(query)
            ]
        return ScanFindings(f"{self.shown} scan {latest.id}", latest.finished_at, {s.id: s for s in states})

    def findings_at(self, scan_id: int) -> list[dict[str, Any]]:
        """Every finding of one scan with its status then, from the intervals covering that scan."""
        row = self.scan(scan_id)
        if row is None:
            return []
        query = (
            select(intervals, findings.c.control_id, findings.c.resource_id, findings.c.first_seen_at)
            .join(
                findings,
                (findings.c.scope == intervals.c.scope) & (findings.c.finding_id == intervals.c.finding_id),
            )
            .where(
                intervals.c.scope == row.scope,
                intervals.c.start_scan <= scan_id,
                (intervals.c.end_scan.is_(None)) | (intervals.c.end_scan > scan_id),
            )
            .order_by(findings.c.control_id, findings.c.resource_id)
        )
        with self._reading() as connection:
            return [dict(r) for r in connection.execute(query).mappings()]

    def trend(
        self,
        scope: str,
        slas: Mapping[Severity, int],
        *,
        control: str | None = None,
        since: str | None = None,
    ) -> Trend:
        """Scores, new, resolved, open and overdue per scan; open by age and mean time to resolve."""
        rows = self.scans(scope)
        runs = self.runs(scope, control)
        points = _points(rows, runs, slas, recount=control is not None)
        if since is not None:
            points = [p for p in points if p.at >= since]
        latest = rows[-1].as_of if rows else None
        return Trend(tuple(points), _open_by_age(runs, latest), _mean_days_to_resolve(runs))

    def runs(self, scope: str, control: str | None = None) -> list[Run]:
        """Every run of fail or error of every finding in a scope (optionally of one control)."""
        columns = intervals.c
        query = (
            select(
                columns.finding_id,
                columns.severity,
                columns.start_scan,
                columns.start_at,
                columns.end_scan,
                columns.end_at,
            )
            .where(intervals.c.scope == scope, intervals.c.status.in_(GATING_VALUES))
            .order_by(intervals.c.finding_id, intervals.c.start_scan)
        )
        if control is not None:
            wanted = select(findings.c.finding_id).where(findings.c.scope == scope, findings.c.control_id == control)
            query = query.where(intervals.c.finding_id.in_(wanted))
        with self._reading() as connection:
            return list(_merge_runs(connection.execute(query).all()))

    def export(self, scope: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Scans, findings and intervals as plain rows, for ``auditor history export``."""
        tables = {"scans": scans, "findings": findings, "intervals": intervals}
        exported: dict[str, list[dict[str, Any]]] = {}
        with self._reading() as connection:
            for name, table in tables.items():
                query = select(table).order_by(*table.primary_key.columns)
                if scope is not None:
                    query = query.where(table.c.scope == scope)
                exported[name] = [dict(r) for r in connection.execute(query).mappings()]
        for scan in exported["scans"]:
            scan["summary"] = json.loads(scan["summary"])
        return exported

    def count(self, table: str) -> int:
        """Number of rows of one of the store's tables."""
        chosen = {"scans": scans, "findings": findings, "intervals": intervals}[table]
        with self._reading() as connection:
            return int(connection.execute(select(func.count()).select_from(chosen)).scalar_one())

    def _reading(self) -> Connection:
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise HistoryError(f"history {self.shown}: cannot read: {_reason(exc)}") from None


def _engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    # pysqlite opens transactions lazily and not before reads; take the write lock at BEGIN instead, so a
    # scan's read of the current state and its writes are one transaction (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _reason(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    return str(original if original is not None else exc).strip().splitlines()[0]


def _scan_row(row: RowMapping) -> ScanRow:
    values = dict(row)
    return ScanRow(**{**values, "summary": json.loads(values["summary"])})


# --- recording -------------------------------------------------------------------------------------------


def _record(
    connection: Connection, result: ScanResult, scope: str, slas: Mapping[Severity, int], shown: str
) -> RecordedScan:
    meta = result.metadata
    at = stamp(meta.as_of or meta.finished_at)
    current, details = _states(result.findings)
    latest, existing = _stored_state(connection, scope, current)
    previous = latest.id if latest is not None else None
    before = _previous_states(existing, latest, shown)
    areas = {control.id: control.area for control in result.controls}
    scan_id = _insert_scan(connection, scope, meta, at)
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    opened: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    newly_open = resolved = 0
    ages: dict[str, FindingAge] = {}
    for finding_id, state in current.items():
        gates = state.status in GATING_STATUSES
        row = existing.get(finding_id)
        if row is None:
            detail = details[finding_id]
            new_rows.append(
                {
                    "scope": scope,
                    "finding_id": finding_id,
                    "control_id": state.control_id,
                    "check_id": detail.check_id,
                    "title": state.title,
                    "area": areas.get(state.control_id, ""),
                    "resource_id": state.resource_id,
                    "severity": state.severity.value,
                    "status": state.status.value,
                    "first_seen_scan": scan_id,
                    "first_seen_at": at,
                    "status_since_at": at,
                    "open_since_at": at if gates else None,
                    "last_seen_scan": None,
                    "resolved_at": None,
                    "reopened": 0,
                }
            )
            opened.append(_interval(scope, finding_id, state, scan_id, at))
            newly_open += gates
            ages[finding_id] = age_of(state.severity, at, at if gates else None, at, slas)
            continue
        present = row.last_seen_scan is None
        was_gating = present and row.status in GATING_VALUES
        open_since, resolved_at, reopened = row.open_since_at, row.resolved_at, row.reopened
        if present and (row.status, row.severity) == (state.status.value, state.severity.value):
            ages[finding_id] = age_of(
                state.severity, row.first_seen_at, open_since if gates else None, at, slas, reopened=reopened
            )
            continue
        if present:
            closed.append({"k_scope": scope, "k_id": finding_id, "v_scan": scan_id, "v_at": at})
        opened.append(_interval(scope, finding_id, state, scan_id, at))
        if gates and not was_gating:
            open_since, newly_open = at, newly_open + 1
            if resolved_at is not None:
                reopened += 1
            resolved_at = None
        elif was_gating and not gates:
            resolved_at, resolved = at, resolved + 1
        changed_rows.append(
            {
                "k_scope": scope,
                "k_id": finding_id,
                "v_status": state.status.value,
                "v_severity": state.severity.value,
                "v_since": at,
                "v_open": open_since,
                "v_last": None,
                "v_resolved": resolved_at,
                "v_reopened": reopened,
            }
        )
        ages[finding_id] = age_of(
            state.severity, row.first_seen_at, open_since if gates else None, at, slas, reopened=reopened
        )
    for finding_id, row in existing.items():
        if row.last_seen_scan is not None or finding_id in current:
            continue
        # Gone from this scan (the resource was deleted, or the check no longer reports it): resolved.
        gating = row.status in GATING_VALUES
        resolved += gating
        closed.append({"k_scope": scope, "k_id": finding_id, "v_scan": scan_id, "v_at": at})
        changed_rows.append(
            {
                "k_scope": scope,
                "k_id": finding_id,
                "v_status": row.status,
                "v_severity": row.severity,
                "v_since": row.status_since_at,
                "v_open": row.open_since_at,
                "v_last": previous,
                "v_resolved": at if gating else row.resolved_at,
                "v_reopened": row.reopened,
            }
        )
    _write(connection, new_rows, closed, changed_rows, opened)
    summary = _summary(result, areas, ages, newly_open, resolved)
    connection.execute(update(scans).where(scans.c.id == scan_id).values(summary=json.dumps(summary, sort_keys=True)))
    return RecordedScan(scan_id, previous, ages, before)


def _stored_state(
    connection: Connection, scope: str, wanted: Iterable[str]
) -> tuple[Row[Any] | None, dict[str, Row[Any]]]:
    """The newest scan of the scope, and the finding rows this scan touches, read inside its transaction.

    That is every finding present in the newest scan, and those of the wanted ids that were seen before and
    are back; findings gone for good are never read again, so recording stays as fast in a year as today.
    """
    if connection.dialect.name == "postgresql":
        # Two scans of one scope recorded at once would both read the same state; the second waits here.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:scope))"), {"scope": scope})
    previous = connection.execute(
        select(scans.c.id, scans.c.finished_at).where(scans.c.scope == scope).order_by(scans.c.id.desc()).limit(1)
    ).first()
    if previous is None:
        return None, {}
    present = connection.execute(
        select(findings).where(findings.c.scope == scope, findings.c.last_seen_scan.is_(None))
    ).all()
    existing = {row.finding_id: row for row in present}
    returning = [key for key in wanted if key not in existing]
    for start in range(0, len(returning), IN_BATCH):
        batch = returning[start : start + IN_BATCH]
        query = select(findings).where(findings.c.scope == scope, findings.c.finding_id.in_(batch))
        existing.update((row.finding_id, row) for row in connection.execute(query))
    return previous, existing


def _previous_states(existing: Mapping[str, Row[Any]], latest: Row[Any] | None, shown: str) -> ScanFindings | None:
    """The findings present in the previous scan, from the rows recording read anyway."""
    if latest is None:
        return None
    states = {
        key: FindingState(key, r.control_id, r.title, Status(r.status), Severity(r.severity), r.resource_id)
        for key, r in existing.items()
        if r.last_seen_scan is None
    }
    return ScanFindings(f"{shown} scan {latest.id}", latest.finished_at, states)


def _insert_scan(connection: Connection, scope: str, meta: ScanMetadata, at: str) -> int:
    """The new scan's row, its summary filled in once its findings are recorded."""
    inserted = connection.execute(
        insert(scans).values(
            scope=scope,
            started_at=stamp(meta.started_at),
            finished_at=stamp(meta.finished_at),
            as_of=at,
            tool_version=meta.tool_version,
            source=meta.source,
            baseline_name=meta.baseline_name,
            baseline_sha256=meta.baseline_sha256,
            summary="{}",
        )
    ).inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def _write(
    connection: Connection,
    new_rows: list[dict[str, Any]],
    closed: list[dict[str, Any]],
    changed_rows: list[dict[str, Any]],
    opened: list[dict[str, Any]],
) -> None:
    """Insert new findings, close ended intervals, update changed findings and open new intervals, in bulk."""
    if new_rows:
        _executemany(connection, insert(findings), new_rows)
    if closed:
        _executemany(
            connection,
            update(intervals)
            .where(
                intervals.c.scope == bindparam("k_scope"),
                intervals.c.finding_id == bindparam("k_id"),
                intervals.c.end_scan.is_(None),
            )
            .values(end_scan=bindparam("v_scan"), end_at=bindparam("v_at")),
            closed,
        )
    if changed_rows:
        _executemany(
            connection,
            update(findings)
            .where(findings.c.scope == bindparam("k_scope"), findings.c.finding_id == bindparam("k_id"))
            .values(
                status=bindparam("v_status"),
                severity=bindparam("v_severity"),
                status_since_at=bindparam("v_since"),
                open_since_at=bindparam("v_open"),
                last_seen_scan=bindparam("v_last"),
                resolved_at=bindparam("v_resolved"),
                reopened=bindparam("v_reopened"),
            ),
            changed_rows,
        )
    if opened:
        _executemany(connection, insert(intervals), opened)


def _interval(scope: str, finding_id: str, state: FindingState, scan_id: int, at: str) -> dict[str, Any]:
    return {
        "scope": scope,
        "finding_id": finding_id,
        "status": state.status.value,
        "severity": state.severity.value,
        "start_scan": scan_id,
        "start_at": at,
        "end_scan": None,
        "end_at": None,
    }


def _executemany(connection: Connection, statement: Insert | Update, rows: list[dict[str, Any]]) -> None:
    """Run one statement over many rows through the driver's executemany, compiled once.

    SQLAlchemy's own executemany builds every row's parameters through the compiler, which is most of the
    cost of recording a scan of tens of thousands of findings.
    """
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(rows[0]))
    names = compiled.positiontup
    parameters: list[Any] = [tuple(row[n] for n in names) for row in rows] if names is not None else rows
    connection.exec_driver_sql(str(compiled), parameters)


def _states(items: Iterable[Finding]) -> tuple[dict[str, FindingState], dict[str, Finding]]:
    """One state per finding id (merged as drift merges them) and the first finding of each id."""
    findings_by_id: dict[str, Finding] = {}
    states: dict[str, FindingState] = {}
    for finding in items:
        key = finding.id
        state = FindingState(
            key, finding.control_id, finding.title, finding.status, finding.severity, finding.resource_id
        )
        seen = states.get(key)
        if seen is None:
            findings_by_id[key] = finding
            states[key] = state
            continue
        # One check reporting on one scope twice: the most serious verdict stands for it, as in a comparison.
        status = min(seen.status, state.status, key=ROLLUP_ORDER.index)
        severity = max(seen.severity, state.severity, key=lambda s: s.rank)
        states[key] = FindingState(key, seen.control_id, seen.title, status, severity, seen.resource_id)
    return states, findings_by_id


def _summary(
    result: ScanResult, areas: Mapping[str, str], ages: Mapping[str, FindingAge], new: int, resolved: int
) -> dict[str, Any]:
    by_area: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_area[areas.get(finding.control_id, "")].append(finding)
    return {
        "by_status": result.counts_by_status(),
        "by_severity": result.counts_by_severity(),
        "score": result.posture_score().percent,
        "areas": {area: posture_score(items).percent for area, items in by_area.items() if area},
        "new": new,
        "resolved": resolved,
        "open": sum(1 for age in ages.values() if age.open_since is not None),
        "overdue": sum(1 for age in ages.values() if age.overdue),
    }


# --- trends ----------------------------------------------------------------------------------------------


def _merge_runs(rows: Iterable[Any]) -> Iterator[Run]:
    """Consecutive gating intervals of one finding (fail then error, a severity change) as one run."""
    run: Run | None = None
    for row in rows:
        if run is not None and run.finding_id == row.finding_id and run.end_scan == row.start_scan:
            run = Run(run.finding_id, Severity(row.severity), run.start_scan, run.start_at, row.end_scan, row.end_at)
            continue
        if run is not None:
            yield run
        run = Run(row.finding_id, Severity(row.severity), row.start_scan, row.start_at, row.end_scan, row.end_at)
    if run is not None:
        yield run


def _points(
    rows: Sequence[ScanRow], runs: Sequence[Run], slas: Mapping[Severity, int], *, recount: bool
) -> list[TrendPoint]:
    """One point per scan; new, resolved and open are counted from the runs when filtered to a control."""
    starts: dict[int, int] = defaultdict(int)
    ends: dict[int, int] = defaultdict(int)
    for run in runs:
        starts[run.start_scan] += 1
        if run.end_scan is not None:
            ends[run.end_scan] += 1
    points: list[TrendPoint] = []
    open_count = 0
    for row in rows:
        open_count += starts[row.id] - ends[row.id]
        summary = row.summary
        if recount:
            overdue = sum(
                1
                for run in runs
                if run.start_scan <= row.id
                and (run.end_scan is None or run.end_scan > row.id)
                and days_between(run.start_at, row.as_of) > slas.get(run.severity, 10**9)
            )
            new, resolved, opened = starts[row.id], ends[row.id], open_count
        else:
            new, resolved, opened, overdue = (
                int(summary.get("new", 0)),
                int(summary.get("resolved", 0)),
                int(summary.get("open", open_count)),
                int(summary.get("overdue", 0)),
            )
        points.append(
            TrendPoint(
                scan_id=row.id,
                at=row.as_of,
                score=summary.get("score"),
                areas=dict(summary.get("areas", {})),
                new=new,
                resolved=resolved,
                open=opened,
                overdue=overdue,
            )
        )
    return points


def _open_by_age(runs: Sequence[Run], latest: str | None) -> dict[str, int]:
    buckets = {label: 0 for label, _ in AGE_BUCKETS}
    if latest is None:
        return buckets
    for run in runs:
        if run.end_scan is not None:
            continue
        days = days_between(run.start_at, latest)
        label = next(label for label, bound in AGE_BUCKETS if bound is None or days <= bound)
        buckets[label] += 1
    return buckets


def _mean_days_to_resolve(runs: Sequence[Run]) -> dict[str, float | None]:
    durations: dict[Severity, list[float]] = defaultdict(list)
    for run in runs:
        if run.end_at is not None:
            seconds = (parse_time(run.end_at) - parse_time(run.start_at)).total_seconds()
            durations[run.severity].append(max(0.0, seconds) / 86400)
    return {
        severity.value: (sum(durations[severity]) / len(durations[severity]) if durations[severity] else None)
        for severity in sorted(Severity, key=lambda s: -s.rank)
    }
