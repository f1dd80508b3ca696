"""The history store on SQLite and a real PostgreSQL server: recording, ageing, atomicity, migrations, trends."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from auditor.history.ageing import DEFAULT_SLA_DAYS
from auditor.history.errors import HistoryError
from auditor.history.location import HistoryLocationError, database_url, displayed
from auditor.history.store import HistoryStore, scan_scope
from auditor.model import Severity, Status
from tests.history_support import finding, result, store_location

__all__ = ["store_location"]

DAY1, DAY11, DAY21 = "2026-11-01T06:00:00Z", "2026-11-11T06:00:00Z", "2026-11-21T06:00:00Z"
SLAS = dict(DEFAULT_SLA_DAYS)


def record(store: HistoryStore, as_of: str, findings: list) -> object:  # type: ignore[type-arg]
    scan = result(as_of, findings)
    return store.record(scan, scan_scope(scan), SLAS)


def test_a_new_store_is_created_at_the_newest_schema(store_location: str) -> None:
    with HistoryStore.open(store_location) as store:
        assert store.schema_version() == "0002"
        assert store.count("scans") == 0
        # Opening again upgrades nothing and loses nothing.
        record(store, DAY1, [finding("NET-01", "a", Status.FAIL)])
    with HistoryStore.open(store_location) as again:
        assert again.schema_version() == "0002"
        assert again.count("scans") == 1


def test_findings_age_from_the_scan_that_first_saw_them_fail(store_location: str) -> None:
    critical = finding("NET-01", "vm1", Status.FAIL, Severity.CRITICAL)
    fixed = finding("ENC-03", "st1", Status.FAIL)
    passing = finding("KV-01", "kv1", Status.PASS)
    with HistoryStore.open(store_location) as store:
        first = record(store, DAY1, [critical, fixed, passing])
        assert first.previous_scan_id is None  # type: ignore[attr-defined]
        age = first.ages[critical.id]  # type: ignore[attr-defined]
        assert (age.first_seen, age.open_since, age.days_open, age.overdue) == (DAY1, DAY1, 0, False)
        assert first.ages[passing.id].open_since is None  # type: ignore[attr-defined]

        regressed = finding("KV-01", "kv1", Status.FAIL)
        now_fixed = finding("ENC-03", "st1", Status.PASS)
        second = record(store, DAY11, [critical, now_fixed, regressed])
        ages = second.ages  # type: ignore[attr-defined]
        assert second.scan_id == first.scan_id + 1  # type: ignore[attr-defined]
        assert second.previous_scan_id == first.scan_id  # type: ignore[attr-defined]
        # Ten days open against a 7-day critical SLA: overdue since 2026-11-08.
        assert (ages[critical.id].days_open, ages[critical.id].overdue, ages[critical.id].due) == (
            10,
            True,
            "2026-11-08",
        )
        # The regression keeps its first-seen date but is open only from today.
        assert (ages[regressed.id].first_seen, ages[regressed.id].open_since) == (DAY1, DAY11)
        assert ages[regressed.id].days_open == 0
        assert ages[now_fixed.id].open_since is None

        # The critical one disappears, the fixed one fails again: resolved, and reopened.
        third = record(store, DAY21, [finding("ENC-03", "st1", Status.FAIL), regressed])
        assert critical.id not in third.ages  # type: ignore[attr-defined]
        reopened = third.ages[fixed.id]  # type: ignore[attr-defined]
        assert (reopened.reopened, reopened.open_since, reopened.first_seen) == (1, DAY21, DAY1)
        exported = {row["finding_id"]: row for row in store.export()["findings"]}
        assert exported[critical.id]["resolved_at"] == DAY21
        assert exported[critical.id]["last_seen_scan"] == second.scan_id  # type: ignore[attr-defined]
        summary = store.scans()[-1].summary
        assert (summary["new"], summary["resolved"], summary["open"]) == (1, 1, 2)


def test_only_changes_are_stored(store_location: str) -> None:
    findings = [finding("NET-01", f"vm{n}", Status.FAIL) for n in range(50)]
    with HistoryStore.open(store_location) as store:
        record(store, DAY1, findings)
        record(store, DAY11, findings)
        record(store, DAY21, [*findings[:49], finding("NET-01", "vm49", Status.PASS)])
        # 50 intervals opened by the first scan, none by the unchanged second, one closed and one opened by the third.
        assert store.count("intervals") == 51
        assert store.count("findings") == 50


def test_previous_findings_are_the_newest_scan_of_the_same_scope(store_location: str) -> None:
    with HistoryStore.open(store_location) as store:
        assert store.previous_findings("subscriptions:none") is None
        kept = finding("NET-01", "a", Status.FAIL)
        record(store, DAY1, [kept, finding("NET-01", "b", Status.FAIL)])
        record(store, DAY11, [kept])
        other = result(
            DAY11, [finding("NET-01", "c", Status.FAIL)], subscription="ffffffff-0000-0000-0000-000000000009"
        )
        store.record(other, scan_scope(other), SLAS)
        previous = store.previous_findings(scan_scope(result(DAY1, [kept])))
        assert previous is not None
        assert list(previous.states) == [kept.id]
        assert previous.states[kept.id].status is Status.FAIL
        assert previous.finished_at == DAY11


def _add_failing_trigger(store: HistoryStore, finding_id: str) -> None:
    with store.engine.begin() as connection:
        if store.engine.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER fail_write BEFORE INSERT ON intervals "
                f"WHEN NEW.finding_id = '{finding_id}' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION fail_write() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ "
                "LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER fail_write BEFORE INSERT ON intervals FOR EACH ROW "
                f"WHEN (NEW.finding_id = '{finding_id}') EXECUTE FUNCTION fail_write()"
            )


def test_a_failed_write_leaves_the_store_as_it_was(store_location: str) -> None:
    kept = finding("NET-01", "a", Status.FAIL)
    with HistoryStore.open(store_location) as store:
        record(store, DAY1, [kept])
        before = store.export()
        doomed = finding("NET-01", "b", Status.FAIL)
        _add_failing_trigger(store, doomed.id)
        with pytest.raises(HistoryError, match=r"scan not recorded, store unchanged: .*disk full"):
            record(store, DAY11, [finding("NET-01", "a", Status.PASS), doomed])
        assert store.export() == before


def test_migration_from_the_previous_schema_keeps_first_seen_dates(store_location: str) -> None:
    with HistoryStore.open(store_location, upgrade=False) as store:
        assert store.schema_version() is None
        store.upgrade("0001")
        assert store.schema_version() == "0001"
        columns = {c["name"] for c in sa.inspect(store.engine).get_columns("findings")}
        assert "reopened" not in columns
        assert "intervals" not in sa.inspect(store.engine).get_table_names()
        old = finding("NET-01", "vm1", Status.FAIL, Severity.CRITICAL)
        # A version-1 store as the previous release wrote it: one scan, one open finding.
        with store.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO scans (scope, started_at, finished_at, as_of, tool_version, source, baseline_name, "
                    "baseline_sha256, summary) VALUES (:scope, :t, :t, :t, '0.0.9', 'test', 'b', :sha, '{}')"
                ),
                {"scope": f"subscriptions:{old.subscription_id}", "t": DAY1, "sha": "0" * 64},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO findings (scope, finding_id, control_id, check_id, title, area, resource_id, "
                    "severity, status, first_seen_scan, first_seen_at, status_since_at, open_since_at) VALUES "
                    "(:scope, :id, 'NET-01', 'a_check', 't', 'NET', :rid, 'critical', 'fail', 1, :t, :t, :t)"
                ),
                {"scope": f"subscriptions:{old.subscription_id}", "id": old.id, "rid": old.resource_id, "t": DAY1},
            )
        store.upgrade()
        assert store.schema_version() == "0002"
        exported = store.export()
        assert [(i["finding_id"], i["status"], i["start_at"], i["end_at"]) for i in exported["intervals"]] == [
            (old.id, "fail", DAY1, None)
        ]
        assert exported["findings"][0]["reopened"] == 0
        later = record(store, DAY11, [old])
        assert later.ages[old.id].days_open == 10  # type: ignore[attr-defined]
        assert later.ages[old.id].overdue  # type: ignore[attr-defined]


def test_trend_counts_new_resolved_open_and_time_to_resolve(store_location: str) -> None:
    a = finding("NET-01", "a", Status.FAIL, Severity.CRITICAL)
    b = finding("ENC-03", "b", Status.FAIL, Severity.HIGH)
    with HistoryStore.open(store_location) as store:
        record(store, DAY1, [a, b])
        record(store, DAY11, [a, finding("ENC-03", "b", Status.PASS)])
        record(store, DAY21, [a, finding("ENC-03", "b", Status.PASS), finding("ENC-03", "c", Status.ERROR)])
        scope = store.scans()[0].scope
        trend = store.trend(scope, SLAS)
        assert [(p.new, p.resolved, p.open, p.overdue) for p in trend.points] == [
            (2, 0, 2, 0),
            (0, 1, 1, 1),
            (1, 0, 2, 1),
        ]
        assert trend.points[0].areas == {"NET": 0.0, "ENC": 0.0}
        assert trend.points[1].areas["ENC"] == 100.0
        assert trend.open_by_age == {"0-7": 1, "8-30": 1, "31-90": 0, "91-180": 0, "over 180": 0}
        assert trend.mean_days_to_resolve["high"] == pytest.approx(10.0)
        assert trend.mean_days_to_resolve["critical"] is None
        one = store.trend(scope, SLAS, control="NET-01", since="2026-11-10T00:00:00Z")
        assert [(p.at, p.new, p.open, p.overdue) for p in one.points] == [(DAY11, 0, 1, 1), (DAY21, 0, 1, 1)]


def test_locations_name_sqlite_files_and_postgresql_urls(tmp_path: Path) -> None:
    url = database_url("postgresql://auditor:hunter2@db.example.org:5432/history")
    assert url.drivername == "postgresql+psycopg"
    assert "hunter2" not in displayed(url)
    assert displayed(database_url(str(tmp_path / "h.db"))) == str(tmp_path / "h.db")
    with pytest.raises(HistoryLocationError, match="unsupported scheme 'mysql'"):
        database_url("mysql://x/y")
    with pytest.raises(HistoryLocationError, match="is a folder"):
        database_url(str(tmp_path))
    with pytest.raises(HistoryLocationError, match="does not exist"):
        database_url(str(tmp_path / "missing" / "h.db"))


def test_a_finding_that_comes_back_keeps_its_first_seen_date(store_location: str) -> None:
    back = finding("NET-01", "vm-back", Status.FAIL, Severity.CRITICAL)
    other = finding("NET-01", "vm-other", Status.FAIL)
    with HistoryStore.open(store_location) as store:
        record(store, DAY1, [back, other])
        gone = record(store, DAY11, [other])
        assert back.id not in gone.ages  # type: ignore[attr-defined]
        again = record(store, DAY21, [back, other])
        age = again.ages[back.id]  # type: ignore[attr-defined]
        assert (age.first_seen, age.open_since, age.days_open, age.reopened) == (DAY1, DAY21, 0, 1)
        assert again.previous is not None  # type: ignore[attr-defined]
        assert set(again.previous.states) == {other.id}  # type: ignore[attr-defined]
        intervals = [i for i in store.export()["intervals"] if i["finding_id"] == back.id]
        assert [(i["start_at"], i["end_at"]) for i in intervals] == [(DAY1, DAY11), (DAY21, None)]
