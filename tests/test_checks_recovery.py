"""BAK-01 daily VM backups, BAK-02 database backups (Azure Backup, Automated Backup, Azure SQL retention) and
BAK-04 geo-redundant backup storage: judges on records built here, and their joins over inventories."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from auditor.baseline import Baseline, Control
from auditor.checks import builtin_registry
from auditor.checks.recovery import (
    POLICY_RESOURCE_ID,
    BackupAccount,
    BackupEstate,
    SqlVmBackup,
    VmBackup,
    backup_geo_redundancy,
    backup_policy_contradiction,
    iso_duration_days,
    sql_backup_policy,
    sql_database_retention,
    vm_daily_backup,
)
from auditor.evaluate import evaluate
from auditor.inventory import Collection, Inventory, Subscription
from auditor.model import CheckResult, Severity, Status, Verdict
from auditor.parameters import Params
from auditor.records.backup import BackupPolicy, ProtectedItem, RetentionRule, SubPolicy
from auditor.records.compute import VirtualMachine
from auditor.records.sql import AutomatedBackup, SqlDatabase, SqlVirtualMachine
from auditor.records.storage import StorageAccount
from tests.builders import SUB, CheckFunction, make_account, make_inventory, make_recovery_vault, make_vm, results, rid

REFERENCE = "2026-11-28T12:00:00+00:00"
ONE_DAY = timedelta(days=1)

PARAMS = Params(
    {
        "vm_backup_retention_days": 30,
        "max_backup_age_hours": 26,
        "db_backup_retention_days": 60,
        "log_backup_interval_minutes": 5,
        "differential_backups_per_day": 3,
        "backup_storage_accounts": (),
        "primary_region": "eastus",
        "secondary_region": "westus",
    }
)
SUBSCRIPTION = Subscription(SUB, "Test subscription", "Enabled")


def inventory(**records: Any) -> Inventory:
    """An inventory of the records, judged at the reference time, in the test subscription."""
    return dataclasses.replace(make_inventory(**records), as_of=REFERENCE, subscriptions=(SUBSCRIPTION,))


def run(check: CheckFunction, params: Params = PARAMS, **records: Any) -> list[CheckResult]:
    """Every result of one rule over an inventory of the records, its subjects joined as evaluation joins them."""
    return results(check, inventory(**records), params)


def only(check: CheckFunction, params: Params = PARAMS, **records: Any) -> CheckResult:
    """The one result of a rule over an inventory of the records."""
    (result,) = run(check, params, **records)
    return result


def with_params(**changes: Any) -> Params:
    """The test parameters with some values changed."""
    return Params(dict(PARAMS.values) | changes)


def judged(params: Params = PARAMS) -> Params:
    """The parameters as a judge gets them: as of the reference time."""
    return params.at(inventory().reference_time)


# --- builders -------------------------------------------------------------------------------------


VAULT_ID = rid("Microsoft.RecoveryServices/vaults", "rsv")
RUN_TIME = "2026-01-20T02:00:00Z"


def make_vm_policy(
    name: str = "pol-vm-daily-30d",
    *,
    frequency: str | None = "Daily",
    retention: tuple[RetentionRule, ...] = (RetentionRule("daily", 30, "Days"),),
) -> BackupPolicy:
    """An Azure VM backup policy."""
    return BackupPolicy(
        f"{VAULT_ID}/backupPolicies/{name}",
        name,
        SUB,
        "rg-test",
        VAULT_ID,
        "AzureIaasVM",
        schedule_frequency=frequency,
        schedule_times=(RUN_TIME,),
        retention=retention,
    )


def make_item(
    vm: VirtualMachine,
    policy: BackupPolicy | None,
    *,
    state: str | None = "Protected",
    status: str | None = "Completed",
    time: str | None = "2026-11-28T07:03:14.4412193Z",
    item_type: str = "Microsoft.Compute/virtualMachines",
    workload: str = "VM",
    source: str | None = None,
    policy_id: str | None = None,
) -> ProtectedItem:
    """A protected item of the test vault backing up the VM."""
    container = f"{VAULT_ID}/backupFabrics/Azure/protectionContainers/iaasvmcontainerv2;rg-test;{vm.name}"
    return ProtectedItem(
        f"{container}/protectedItems/VM;iaasvmcontainerv2;rg-test;{vm.name}",
        f"VM;iaasvmcontainerv2;rg-test;{vm.name}",
        SUB,
        "rg-test",
        VAULT_ID,
        item_type,
        source or vm.id,
        policy_id or (policy.id if policy else None),
        state,
        last_backup_status=status,
        last_backup_time=time,
        workload_type=workload,
    )


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def full(frequency: str | None = "Weekly", days: tuple[str, ...] = ("Sunday",), weeks: int | None = 9) -> SubPolicy:
    """A full-backup schedule kept the given weeks."""
    return SubPolicy(
        "Full", frequency, days, ("2026-01-18T01:00:00Z",), None, (RetentionRule("weekly", weeks, "Weeks"),)
    )


def differential(days: int | None = 60, times: tuple[str, ...] = ("2026-01-18T13:00:00Z",)) -> SubPolicy:
    """A differential schedule on the six days without a full backup."""
    return SubPolicy("Differential", "Weekly", WEEKDAYS, times, None, (RetentionRule("simple", days, "Days"),))


def log(minutes: int | None = 5, days: int | None = 60) -> SubPolicy:
    """A transaction log schedule."""
    return SubPolicy("Log", None, frequency_minutes=minutes, retention=(RetentionRule("simple", days, "Days"),))


def make_sql_policy(
    *subs: SubPolicy, name: str = "pol-sql", protected: int | None = 1, workload: str = "SQLDataBase"
) -> BackupPolicy:
    """A SQL-in-VM workload policy of the test vault."""
    return BackupPolicy(
        f"{VAULT_ID}/backupPolicies/{name}",
        name,
        SUB,
        "rg-test",
        VAULT_ID,
        "AzureWorkload",
        workload_type=workload,
        sub_policies=subs,
        protected_items=protected,
    )


def make_database(
    name: str = "sqldb", *, short: int | None = 35, weekly: str | None = "P9W", monthly: str | None = "PT0S"
) -> SqlDatabase:
    """An Azure SQL database with its retention policies."""
    server = rid("Microsoft.Sql/servers", "sql")
    return SqlDatabase(
        f"{server}/databases/{name}",
        name,
        SUB,
        "rg-test",
        "eastus",
        server,
        "S2",
        short_term_retention_days=short,
        ltr_weekly=weekly,
        ltr_monthly=monthly,
        ltr_yearly="PT0S",
    )


# --- BAK-01 ---------------------------------------------------------------------------------------

VM = make_vm("vm-web01")
POLICY = make_vm_policy()


def vm_verdict(*items: ProtectedItem, policies: tuple[BackupPolicy, ...] = (POLICY,)) -> CheckResult:
    """The verdict on the test VM."""
    return only(vm_daily_backup, virtual_machines=[VM], protected_items=items, backup_policies=policies)


@pytest.mark.parametrize(
    ("items", "policies"),
    [
        ((make_item(VM, POLICY),), (POLICY,)),
        ((make_item(VM, POLICY, time="2026-11-27T10:01:00Z", status="Succeeded"),), (POLICY,)),
        ((make_item(VM, p := make_vm_policy("hourly", frequency="Hourly")),), (p,)),
        ((make_item(VM, POLICY, source=VM.id.upper()),), (POLICY,)),
        ((make_item(VM, POLICY, status="Failed"), make_item(VM, POLICY)), (POLICY,)),
    ],
    ids=["daily-30d", "25-hours-old", "hourly", "id-case", "one-of-two-items-good"],
)
def test_daily_backup_with_retention_and_recent_success_passes(
    items: tuple[ProtectedItem, ...], policies: tuple[BackupPolicy, ...]
) -> None:
    result = vm_verdict(*items, policies=policies)
    assert result.status is Status.PASS
    assert result.evidence["vault"] == "rsv"
    assert result.evidence["daily_retention_days"] == 30
    assert result.evidence["reference_time"] == REFERENCE


WEEKLY = make_vm_policy("weekly", frequency="Weekly")
SHORT = make_vm_policy("daily-7d", retention=(RetentionRule("daily", 7, "Days"),))
NO_DAILY = make_vm_policy("weekly-only", retention=(RetentionRule("weekly", 8, "Weeks"),))


@pytest.mark.parametrize(
    ("items", "policies", "reason"),
    [
        ((), (POLICY,), "not a protected item in any Recovery Services vault"),
        ((make_item(VM, WEEKLY),), (WEEKLY,), "runs Weekly, not daily"),
        ((make_item(VM, SHORT),), (SHORT,), "keeps daily recovery points 7 days < 30"),
        ((make_item(VM, NO_DAILY),), (NO_DAILY,), "keeps no daily recovery points"),
        ((make_item(VM, POLICY, status="Failed"),), (POLICY,), "last backup status Failed"),
        ((make_item(VM, POLICY, time="2026-11-27T08:00:00Z"),), (POLICY,), "older than 26 hours"),
        ((make_item(VM, POLICY, state="ProtectionStopped"),), (POLICY,), "protection state ProtectionStopped"),
        ((make_item(VM, None),), (), "no backup policy assigned"),
        ((make_item(VM, POLICY, time="0001-01-01T00:00:00Z"),), (POLICY,), "no backup has run"),
        ((make_item(VM, POLICY, status=None, time=None),), (POLICY,), "last backup status not reported"),
        ((make_item(VM, POLICY, state=None),), (POLICY,), "protection state not reported"),
        (
            (make_item(VM, POLICY, item_type="AzureVmWorkloadSQLDatabase", workload="SQLDataBase"),),
            (POLICY,),
            "not a protected item",
        ),
    ],
    ids=[
        "unprotected",
        "weekly",
        "short-retention",
        "no-daily-rule",
        "failed",
        "stale",
        "stopped",
        "no-policy",
        "never-ran",
        "status-missing",
        "state-missing",
        "only-a-database-in-it",
    ],
)
def test_vm_without_daily_recent_backup_fails(
    items: tuple[ProtectedItem, ...], policies: tuple[BackupPolicy, ...], reason: str
) -> None:
    result = vm_verdict(*items, policies=policies)
    assert result.status is Status.FAIL
    assert reason.lower() in result.message.lower()


def test_failure_evidence_names_vault_policy_schedule_retention_and_last_backup() -> None:
    result = vm_verdict(make_item(VM, SHORT), policies=(SHORT,))
    assert {k: result.evidence[k] for k in ("vault", "policy", "schedule_frequency", "daily_retention_days")} == {
        "vault": "rsv",
        "policy": "daily-7d",
        "schedule_frequency": "Daily",
        "daily_retention_days": 7,
    }
    assert result.evidence["last_backup_status"] == "Completed"
    assert result.evidence["last_backup_age_hours"] == 4.9


def test_policy_that_was_not_collected_is_an_error() -> None:
    result = vm_verdict(make_item(VM, None, policy_id=f"{VAULT_ID}/backupPolicies/gone"), policies=())
    assert result.status is Status.ERROR
    assert "backupPolicies/gone was not collected" in result.message


def test_backup_age_is_judged_against_the_reference_time() -> None:
    later = dataclasses.replace(
        inventory(virtual_machines=[VM], protected_items=[make_item(VM, POLICY)], backup_policies=[POLICY]),
        as_of="2026-12-01T00:00:00+00:00",
    )
    assert [r.status for r in results(vm_daily_backup, later, PARAMS)] == [Status.FAIL]


def test_the_judge_reads_the_moment_from_its_parameters() -> None:
    subject = VmBackup(VM, ((make_item(VM, POLICY), POLICY),))
    verdict = vm_daily_backup(subject, judged())
    assert verdict is not None and verdict.status is Status.PASS
    later = vm_daily_backup(subject, PARAMS.at(judged().moment + ONE_DAY))
    assert later is not None and later.status is Status.FAIL
    assert "older than 26 hours" in later.message


@pytest.mark.parametrize(
    ("policy", "status", "message"),
    [
        (POLICY, Status.PASS, "Policy pol-vm-daily-30d backs up Daily with enough daily retention"),
        (SHORT, Status.FAIL, "VM backup policy falls short: policy daily-7d keeps daily recovery points 7 days < 30"),
        (WEEKLY, Status.FAIL, "VM backup policy falls short: policy weekly runs Weekly, not daily"),
    ],
    ids=["daily-30d", "short", "weekly"],
)
def test_a_vm_policy_on_its_own_is_judged_by_schedule_and_retention(
    policy: BackupPolicy, status: Status, message: str
) -> None:
    verdict = vm_daily_backup(policy, judged())
    assert verdict is not None
    assert (verdict.status, verdict.message) == (status, message)
    assert verdict.evidence["policy"] == policy.name


def test_a_workload_policy_is_not_a_vm_policy() -> None:
    assert vm_daily_backup(make_sql_policy(full(), differential(), log()), judged()) is None


# --- BAK-02 ---------------------------------------------------------------------------------------

AZURE_LIKE = make_sql_policy(full(), differential(days=30), log(minutes=15, days=35))
KEPT_AS_PROMISED = make_sql_policy(full(), differential(times=("01:00", "09:00", "17:00")), log())


def test_policy_that_azure_backup_cannot_make_keep_the_promise_fails_and_names_the_limits() -> None:
    result = only(sql_backup_policy, backup_policies=[AZURE_LIKE])
    assert result.status is Status.FAIL
    assert "log backups every 15 minutes, policy promises every 5" in result.message
    assert "shortest SQL log backup interval is 15 minutes" in result.message
    assert "at most 1 differential backup a day" in result.message
    assert "keeps SQL log backups at most 35 days" in result.message
    assert "differential backups kept 30 days < 60" in result.message
    assert "native SQL Server backups or log shipping" in result.message
    assert len(result.evidence["platform_limits"]) == 3
    assert result.evidence["log"]["frequency_minutes"] == 15


@pytest.mark.parametrize(
    ("policy", "params"),
    [
        (KEPT_AS_PROMISED, PARAMS),
        (
            AZURE_LIKE,
            with_params(log_backup_interval_minutes=15, differential_backups_per_day=1, db_backup_retention_days=30),
        ),
        (
            make_sql_policy(full(frequency="Daily", days=()), differential(), log()),
            with_params(differential_backups_per_day=1),
        ),
    ],
    ids=["as-promised", "relaxed-to-azure-backup", "daily-full"],
)
def test_policy_meeting_the_parameters_passes(policy: BackupPolicy, params: Params) -> None:
    result = only(sql_backup_policy, params, backup_policies=[policy])
    assert result.status is Status.PASS
    assert result.evidence["platform_limits"] == []


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        (make_sql_policy(differential(), log()), "no full backup schedule"),
        (make_sql_policy(full(), log()), "no differential backup schedule"),
        (make_sql_policy(full(), differential()), "no transaction log backup schedule"),
        (make_sql_policy(full(weeks=8), differential(), log()), "full backups kept 56 days < 60"),
        (make_sql_policy(full(frequency="Monthly"), differential(), log()), "less often than weekly"),
        (make_sql_policy(full(days=()), differential(), log()), "weekly full backup names no day"),
        (make_sql_policy(full(), differential(), log(minutes=None)), "log backup interval not reported"),
        (make_sql_policy(full(weeks=None), differential(), log()), "full backup retention not reported"),
    ],
    ids=["no-full", "no-differential", "no-log", "short-full", "monthly-full", "no-day", "interval", "retention"],
)
def test_policy_missing_a_schedule_or_retention_fails(policy: BackupPolicy, reason: str) -> None:
    result = only(sql_backup_policy, backup_policies=[policy])
    assert result.status is Status.FAIL
    assert reason in result.message


def test_unused_and_non_sql_policies_are_not_judged() -> None:
    unused = make_sql_policy(full(), name="HourlyLogBackup", protected=0)
    hana = make_sql_policy(full(), name="hana", workload="SAPHanaDatabase")
    assert run(sql_backup_policy, backup_policies=[unused, hana, POLICY]) == []


def test_policy_assigned_to_an_item_is_judged_even_without_a_count() -> None:
    policy = make_sql_policy(full(), differential(), log(), protected=None)
    item = dataclasses.replace(make_item(VM, None), policy_id=policy.id.upper(), item_type="AzureVmWorkloadSQLDatabase")
    assert only(sql_backup_policy, backup_policies=[policy], protected_items=[item]).status is Status.FAIL


# --- BAK-02: SQL Server on VMs, by either way Azure backs it up ----------------------------------------

SQL_HOST = make_vm("sqlvm-01")
AUTOMATED_AS_PROMISED = AutomatedBackup(
    enabled=True,
    schedule_type="Manual",
    full_frequency="Weekly",
    full_days=("Sunday",),
    full_start_hour=1,
    log_interval_minutes=5,
    retention_days=60,
    encryption=True,
    storage_account_url="https://stbackup.blob.core.windows.net/",
    system_databases=True,
)
# The policy's promise with differentials dropped: what Automated Backup can keep.
NO_DIFFERENTIALS = with_params(differential_backups_per_day=0)


def make_sql_vm(auto_backup: AutomatedBackup | None = None, name: str = "sqlvm-01") -> SqlVirtualMachine:
    """A SQL IaaS Agent registration of the test SQL host."""
    return SqlVirtualMachine(
        rid("Microsoft.SqlVirtualMachine/sqlVirtualMachines", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        SQL_HOST.id,
        "SQL2014SP3-WS2012R2",
        "Enterprise",
        auto_backup=auto_backup,
    )


def sql_item(policy: BackupPolicy | None, *, state: str = "Protected", policy_id: str | None = None) -> ProtectedItem:
    """Azure Backup of database MUL2 on the test SQL host."""
    item = make_item(
        SQL_HOST,
        policy,
        state=state,
        item_type="AzureVmWorkloadSQLDatabase",
        workload="SQLDataBase",
        policy_id=policy_id,
    )
    return dataclasses.replace(item, name="SQLDataBase;mssqlserver;mul2", friendly_name="MUL2")


def sql_vm_verdict(params: Params = PARAMS, **records: Any) -> CheckResult:
    """The one verdict on the test SQL VM."""
    results = run(sql_backup_policy, params, **records)
    (result,) = [r for r in results if r.resource_type == "Microsoft.SqlVirtualMachine/sqlVirtualMachines"]
    return result


@pytest.mark.parametrize(
    "machine",
    [make_sql_vm(), make_sql_vm(AutomatedBackup(enabled=False))],
    ids=["not-configured", "off"],
)
def test_sql_vm_that_nothing_backs_up_fails_rather_than_not_applicable(machine: SqlVirtualMachine) -> None:
    result = sql_vm_verdict(sql_virtual_machines=[machine])
    assert result.status is Status.FAIL
    assert "Nothing backs up the databases of this SQL Server" in result.message
    assert result.evidence["azure_backup"] == []


def test_sql_vm_whose_vm_is_not_reported_is_an_error_not_unprotected() -> None:
    machine = dataclasses.replace(make_sql_vm(), vm_id=None)
    result = sql_vm_verdict(
        sql_virtual_machines=[machine], protected_items=[sql_item(KEPT_AS_PROMISED)], backup_policies=[KEPT_AS_PROMISED]
    )
    assert result.status is Status.ERROR
    assert "Azure Backup of its databases cannot be shown" in result.message


def test_sql_vm_backed_up_by_azure_backup_as_promised_passes() -> None:
    result = sql_vm_verdict(
        sql_virtual_machines=[make_sql_vm()],
        protected_items=[sql_item(KEPT_AS_PROMISED)],
        backup_policies=[KEPT_AS_PROMISED],
    )
    assert result.status is Status.PASS
    assert "Azure Backup policy pol-sql" in result.message
    assert result.evidence["azure_backup"][0]["database"] == "MUL2"


def test_sql_vm_under_an_azure_backup_policy_it_cannot_keep_fails_with_the_limits() -> None:
    result = sql_vm_verdict(
        sql_virtual_machines=[make_sql_vm(AutomatedBackup(enabled=False))],
        protected_items=[sql_item(AZURE_LIKE)],
        backup_policies=[AZURE_LIKE],
    )
    assert result.status is Status.FAIL
    assert "Azure Backup of MUL2: " in result.message
    assert "shortest SQL log backup interval is 15 minutes" in result.message
    assert "Automated Backup is off" in result.message
    assert len(result.evidence["platform_limits"]) == 3


def test_sql_vm_whose_database_backup_is_stopped_fails() -> None:
    result = sql_vm_verdict(
        sql_virtual_machines=[make_sql_vm()],
        protected_items=[sql_item(KEPT_AS_PROMISED, state="ProtectionStopped")],
        backup_policies=[KEPT_AS_PROMISED],
    )
    assert result.status is Status.FAIL
    assert "protection state ProtectionStopped" in result.message


def test_sql_vm_whose_backup_policy_was_not_collected_is_an_error() -> None:
    result = sql_vm_verdict(
        sql_virtual_machines=[make_sql_vm()],
        protected_items=[sql_item(None, policy_id=f"{VAULT_ID}/backupPolicies/gone")],
    )
    assert result.status is Status.ERROR
    assert "backupPolicies/gone was not collected" in result.message


def test_policy_judged_through_its_sql_vm_is_not_judged_again() -> None:
    results = run(
        sql_backup_policy,
        sql_virtual_machines=[make_sql_vm()],
        protected_items=[sql_item(AZURE_LIKE)],
        backup_policies=[AZURE_LIKE],
    )
    assert [r.resource_type for r in results] == ["Microsoft.SqlVirtualMachine/sqlVirtualMachines"]


def test_automated_backup_as_promised_fails_on_differentials_and_names_the_limit() -> None:
    result = sql_vm_verdict(sql_virtual_machines=[make_sql_vm(AUTOMATED_AS_PROMISED)])
    assert result.status is Status.FAIL
    assert result.message.startswith("Database backups fall short: Automated Backup: no differential backups")
    assert "Automated Backup takes full and log backups only, never differentials" in result.message
    assert result.evidence["automated_backup"]["logBackupFrequency"] == 5


def test_automated_backup_passes_once_differentials_are_not_promised() -> None:
    result = sql_vm_verdict(NO_DIFFERENTIALS, sql_virtual_machines=[make_sql_vm(AUTOMATED_AS_PROMISED)])
    assert result.status is Status.PASS
    assert result.message == (
        "Automated Backup to storage account stbackup: Weekly full backups, log backups every 5 minutes, "
        "kept 60 days, encrypted"
    )


def test_either_way_passing_is_enough() -> None:
    result = sql_vm_verdict(
        NO_DIFFERENTIALS,
        sql_virtual_machines=[make_sql_vm(AUTOMATED_AS_PROMISED)],
        protected_items=[sql_item(AZURE_LIKE)],
        backup_policies=[AZURE_LIKE],
    )
    assert result.status is Status.PASS
    assert result.message.startswith("Automated Backup to storage account stbackup")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"log_interval_minutes": 60}, "log backups every 60 minutes, policy promises every 5"),
        ({"retention_days": 30}, "backups kept 30 days < 60"),
        ({"encryption": False}, "backups are not encrypted (enableEncryption off)"),
        ({"storage_account_url": None}, "no target storage account reported"),
        ({"schedule_type": "Automated"}, "schedule type Automated"),
        ({"schedule_type": None}, "backup schedule type not reported"),
        ({"full_frequency": None}, "full backup frequency not reported"),
        ({"log_interval_minutes": None}, "log backup interval not reported"),
        ({"retention_days": None}, "retention period not reported"),
    ],
    ids=["hourly-log", "short", "clear", "no-target", "automated", "no-type", "no-full", "no-log", "no-retention"],
)
def test_automated_backup_short_of_the_promise_fails(change: dict[str, Any], reason: str) -> None:
    backup = dataclasses.replace(AUTOMATED_AS_PROMISED, **change)
    result = sql_vm_verdict(NO_DIFFERENTIALS, sql_virtual_machines=[make_sql_vm(backup)])
    assert result.status is Status.FAIL
    assert reason in result.message


@pytest.mark.parametrize(
    ("params", "limit"),
    [
        (with_params(differential_backups_per_day=0, log_backup_interval_minutes=1), "shortest log backup interval"),
        (with_params(differential_backups_per_day=0, db_backup_retention_days=120), "at most 90 days"),
    ],
    ids=["one-minute-log", "120-days"],
)
def test_promises_beyond_automated_backup_name_its_limits(params: Params, limit: str) -> None:
    backup = dataclasses.replace(AUTOMATED_AS_PROMISED, log_interval_minutes=5, retention_days=90)
    result = sql_vm_verdict(params, sql_virtual_machines=[make_sql_vm(backup)])
    assert result.status is Status.FAIL
    assert limit in result.message


@pytest.mark.parametrize(("offer", "named"), [("SQL2014SP3-WS2012R2", True), ("sql2019-ws2022", False)])
def test_automated_backup_on_sql_server_2014_names_its_v1_limits(offer: str, named: bool) -> None:
    v1 = AutomatedBackup(
        enabled=True, retention_days=30, encryption=True, storage_account_url=AUTOMATED_AS_PROMISED.storage_account_url
    )
    machine = dataclasses.replace(make_sql_vm(v1), image_offer=offer)
    result = sql_vm_verdict(sql_virtual_machines=[machine])
    assert result.status is Status.FAIL
    assert "backup schedule type not reported" in result.message
    assert ("SQL Server 2014 gets Automated Backup v1 only" in result.message) is named


def test_automated_backup_target_joins_the_backup_storage_of_bak_04() -> None:
    listed = with_params(backup_storage_accounts=("stother",))
    machine = make_sql_vm(AUTOMATED_AS_PROMISED)
    lrs = make_account("stbackup", sku="Standard_LRS", secondary=None)
    results = run(
        backup_geo_redundancy, listed, sql_virtual_machines=[machine], storage_accounts=[lrs, make_account("stother")]
    )
    by_name = {r.resource_id.rsplit("/", 1)[-1]: r for r in results}
    assert by_name["stbackup"].status is Status.FAIL
    assert by_name["stbackup"].evidence["automated_backup_of"] == ["sqlvm-01"]
    assert by_name["stother"].status is Status.PASS


def test_automated_backup_target_outside_the_scan_is_an_error() -> None:
    (result,) = run(backup_geo_redundancy, sql_virtual_machines=[make_sql_vm(AUTOMATED_AS_PROMISED)])
    assert result.status is Status.ERROR
    assert result.message == (
        "Storage account stbackup, the Automated Backup target of SQL VM sqlvm-01, was not found in the scanned "
        "subscriptions, so its replication cannot be shown"
    )


def test_disabled_automated_backup_names_no_backup_storage() -> None:
    off = dataclasses.replace(AUTOMATED_AS_PROMISED, enabled=False)
    listed = with_params(backup_storage_accounts=("stother",))
    results = run(
        backup_geo_redundancy,
        listed,
        sql_virtual_machines=[make_sql_vm(off)],
        storage_accounts=[make_account("stbackup", sku="Standard_LRS"), make_account("stother")],
    )
    assert [(r.resource_id.rsplit("/", 1)[-1], r.status) for r in results] == [("stother", Status.PASS)]


@pytest.mark.parametrize(
    ("text", "days"),
    [("P9W", 63), ("P60D", 60), ("P2M", 60), ("P1Y", 365), ("PT0S", 0), ("P1DT12H", 1.5), ("p8w", 56)],
)
def test_iso_durations_count_in_days(text: str, days: float) -> None:
    assert iso_duration_days(text) == days


@pytest.mark.parametrize("text", ["9W", "P", "PT", "P1.5W", "weekly"])
def test_malformed_durations_are_none(text: str) -> None:
    assert iso_duration_days(text) is None


@pytest.mark.parametrize(
    ("database", "status", "message"),
    [
        (make_database(), Status.PASS, "kept P9W (63 days)"),
        (make_database(weekly="P60D", short=7), Status.PASS, "P60D"),
        (make_database(weekly="PT0S", short=60), Status.PASS, "Point-in-time restore backups kept 60 days"),
        (make_database(weekly="PT0S", short=7), Status.FAIL, "point-in-time backups at most 35 days"),
        (make_database(weekly="P8W", short=35), Status.FAIL, "at least P9W"),
        (make_database(weekly="PT0S", monthly="P12M"), Status.FAIL, "monthly/yearly retention keeps one backup"),
        (make_database(weekly="PT0S", short=None), Status.FAIL, "point-in-time retention not reported"),
        (make_database(weekly=None), Status.ERROR, "weeklyRetention"),
        (make_database(weekly="nine weeks"), Status.ERROR, "not an ISO 8601 duration"),
    ],
    ids=["p9w", "p60d", "short-term", "ltr-off", "p8w", "monthly-only", "short-missing", "ltr-missing", "malformed"],
)
def test_sql_database_retention(database: SqlDatabase, status: Status, message: str) -> None:
    result = only(sql_database_retention, sql_databases=[database])
    assert result.status is status
    assert message in result.message
    assert result.evidence["ltr_weekly"] == database.ltr_weekly


def test_master_database_is_not_judged() -> None:
    assert run(sql_database_retention, sql_databases=[make_database("master", weekly=None)]) == []


# --- BAK-04 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sku", ["Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"])
def test_geo_replicated_account_east_to_west_passes(sku: str) -> None:
    result = only(backup_geo_redundancy, storage_accounts=[make_account(sku=sku)])
    assert result.status is Status.PASS
    assert result.evidence["sku"] == sku


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        (make_account(sku="Standard_LRS", secondary=None), "SKU Standard_LRS is not geo-redundant"),
        (make_account(sku="Standard_ZRS", secondary=None), "SKU Standard_ZRS is not geo-redundant"),
        (make_account(primary="westus", secondary="eastus"), "primary location westus, not eastus"),
        (make_account(secondary="centralus"), "secondary location centralus, not westus"),
        (make_account(sku=None), "replication SKU not reported"),
    ],
    ids=["lrs", "zrs", "swapped", "wrong-secondary", "sku-missing"],
)
def test_account_not_replicated_east_to_west_fails(account: StorageAccount, reason: str) -> None:
    result = only(backup_geo_redundancy, storage_accounts=[account])
    assert result.status is Status.FAIL
    assert reason in result.message


def test_only_listed_backup_accounts_are_judged_and_missing_ones_are_errors() -> None:
    params = with_params(backup_storage_accounts=("STBackup", "stgone"))
    results = run(backup_geo_redundancy, params, storage_accounts=[make_account(), make_account("stdiag", sku="LRS")])
    assert [(r.resource_id.rsplit("/", 1)[-1], r.status) for r in results] == [
        ("parameter:backup_storage_accounts", Status.ERROR),
        ("stbackup", Status.PASS),
    ]
    assert results[0].message == (
        "Backup storage account stgone named in backup_storage_accounts was not found in the scanned "
        "subscriptions, so its replication cannot be shown"
    )
    several = with_params(backup_storage_accounts=("stgone", "stlost"))
    (error,) = run(backup_geo_redundancy, several)
    assert error.message.startswith("Backup storage accounts stgone, stlost named in backup_storage_accounts were")
    assert error.evidence["missing"] == ["stgone", "stlost"]


@pytest.mark.parametrize(
    ("redundancy", "status"),
    [
        ("GeoRedundant", Status.PASS),
        ("LocallyRedundant", Status.FAIL),
        ("ZoneRedundant", Status.FAIL),
        (None, Status.FAIL),
    ],
)
def test_vault_must_be_geo_redundant(redundancy: str | None, status: Status) -> None:
    result = only(backup_geo_redundancy, recovery_vaults=[make_recovery_vault(redundancy=redundancy)])
    assert result.status is status
    assert result.evidence["storage_redundancy"] == redundancy


def test_policy_contradiction_is_one_informational_finding_naming_what_the_estate_does() -> None:
    records: dict[str, Any] = {
        "storage_accounts": [make_account(), make_account("stlocal", sku="Standard_LRS")],
        "recovery_vaults": [make_recovery_vault(redundancy="LocallyRedundant")],
    }
    (result,) = run(backup_policy_contradiction, **records)
    assert (result.status, result.severity, result.resource_id) == (Status.FAIL, Severity.INFO, POLICY_RESOURCE_ID)
    assert "East US (Primary) and West US (Secondary)" in result.message
    assert "locally redundant storage (LRS)" in result.message
    assert result.evidence["geo_redundant"] == ["stbackup (Standard_RAGRS)"]
    assert result.evidence["not_geo_redundant"] == ["stlocal (Standard_LRS)", "rsv (LocallyRedundant)"]


def test_policy_contradiction_is_reported_even_with_nothing_in_scope() -> None:
    (result,) = run(backup_policy_contradiction)
    assert result.status is Status.FAIL
    assert "geo-redundant: none; not geo-redundant: none" in result.message


# --- records as code declares them -----------------------------------------------------------------


@pytest.mark.parametrize(
    "machine",
    [make_sql_vm(), make_sql_vm(AutomatedBackup(enabled=False))],
    ids=["not-configured", "off"],
)
def test_a_declared_sql_vm_without_automated_backup_is_an_error_not_a_failure(machine: SqlVirtualMachine) -> None:
    verdict = sql_backup_policy(machine, judged())
    assert verdict is not None and verdict.status is Status.ERROR
    assert "Azure Backup of the databases of a SQL Server on a VM is not part of this resource" in verdict.message


def test_a_declared_sql_vm_is_judged_by_its_automated_backup() -> None:
    passing = sql_backup_policy(make_sql_vm(AUTOMATED_AS_PROMISED), judged(NO_DIFFERENTIALS))
    assert passing is not None and passing.status is Status.PASS
    assert passing.message.startswith("Automated Backup to storage account stbackup")
    failing = sql_backup_policy(make_sql_vm(AUTOMATED_AS_PROMISED), judged())
    assert failing is not None and failing.status is Status.FAIL
    assert "never differentials" in failing.message


def test_a_joined_sql_vm_judged_directly_keeps_the_live_verdict() -> None:
    subject = SqlVmBackup(make_sql_vm(), ((sql_item(KEPT_AS_PROMISED), KEPT_AS_PROMISED),))
    verdict = sql_backup_policy(subject, judged())
    assert verdict is not None and verdict.status is Status.PASS
    assert verdict.evidence["azure_backup"][0]["policy"] == "pol-sql"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (KEPT_AS_PROMISED, Status.PASS),
        (AZURE_LIKE, Status.FAIL),
        (make_sql_policy(full(), name="hana", workload="SAPHanaDatabase"), None),
        (POLICY, None),
    ],
    ids=["as-promised", "azure-like", "hana", "vm-policy"],
)
def test_a_policy_on_its_own_is_judged_only_when_it_is_a_sql_workload_policy(
    policy: BackupPolicy, expected: Status | None
) -> None:
    verdict = sql_backup_policy(policy, judged())
    assert (verdict.status if verdict else None) is expected


def test_short_term_retention_not_reported_is_an_error_when_it_alone_could_keep_the_days() -> None:
    database = make_database(weekly="PT0S", short=None)
    verdict = sql_database_retention(database, judged(with_params(db_backup_retention_days=30)))
    assert verdict is not None and verdict.status is Status.ERROR
    assert "point-in-time retention is not reported" in verdict.message
    beyond = sql_database_retention(database, judged())
    assert beyond is not None and beyond.status is Status.FAIL


def test_a_system_database_is_not_a_subject() -> None:
    assert sql_database_retention(make_database("master"), judged()) is None
    verdict = sql_database_retention(make_database(), judged())
    assert verdict is not None and verdict.status is Status.PASS


def test_an_account_that_holds_no_backups_is_not_judged_unless_automated_backup_writes_to_it() -> None:
    listed = judged(with_params(backup_storage_accounts=("stother",)))
    account = make_account("stdiag", sku="Standard_LRS", secondary=None)
    assert backup_geo_redundancy(BackupAccount(account), listed) is None
    verdict = backup_geo_redundancy(BackupAccount(account, ("sqlvm-01",)), listed)
    assert verdict is not None and verdict.status is Status.FAIL
    assert verdict.evidence["automated_backup_of"] == ["sqlvm-01"]


def test_a_geo_redundant_account_whose_location_is_unknown_is_an_error() -> None:
    account = dataclasses.replace(make_account(), location="", primary_location=None, secondary_location=None)
    verdict = backup_geo_redundancy(BackupAccount(account), judged())
    assert verdict is not None and verdict.status is Status.ERROR
    assert verdict.message.startswith("Standard_RAGRS is geo-redundant, but the location is not known")
    local = dataclasses.replace(account, sku="Standard_LRS")
    failed = backup_geo_redundancy(BackupAccount(local), judged())
    assert failed is not None and failed.status is Status.FAIL


def test_a_vault_is_judged_on_its_own() -> None:
    verdict = backup_geo_redundancy(make_recovery_vault(redundancy="LocallyRedundant"), judged())
    assert verdict == Verdict(
        Status.FAIL,
        "Vault stores backups LocallyRedundant, not GeoRedundant",
        {"storage_redundancy": "LocallyRedundant", "cross_region_restore": True, "location": "eastus"},
    )


def test_the_contradiction_note_is_informational_and_never_passes() -> None:
    for estate in (BackupEstate((), ()), BackupEstate((BackupAccount(make_account()),), (make_recovery_vault(),))):
        verdict = backup_policy_contradiction(estate, judged())
        assert (verdict.status, verdict.severity) == (Status.FAIL, Severity.INFO)
        assert "The policy contradicts itself" in verdict.message


# --- error: a required listing that failed -------------------------------------------------------


def _scan(check_id: str, records: dict[str, Any], failed_api: str) -> list[tuple[Status, str]]:
    """Statuses and resource ids of the findings one check yields when one of its listings failed."""
    denied = Collection(failed_api, SUB, f"/subscriptions/{SUB}", ok=False, status_code=403, reason="denied")
    registry = builtin_registry()
    control = Control("T-01", "test", "test", Severity.MEDIUM, "automated", "quote", "desc", checks=(check_id,))
    baseline = Baseline("test", "", "test", "1", "policy", {}, (control,))
    inv = inventory(collections=[denied], **records)
    return [(f.status, f.resource_id) for f in evaluate(inv, baseline, registry, PARAMS).findings]


ERROR_CASES = {
    "vm_daily_backup": (
        {"virtual_machines": [VM]},
        "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
    ),
    "sql_backup_policy": ({"backup_policies": [KEPT_AS_PROMISED]}, "Microsoft.RecoveryServices/vaults/backupPolicies"),
    "sql_database_retention": (
        {"sql_databases": [make_database()]},
        "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies",
    ),
    "backup_geo_redundancy": (
        {"recovery_vaults": [make_recovery_vault()]},
        "Microsoft.RecoveryServices/vaults/backupstorageconfig",
    ),
}


def test_failed_listing_leaves_the_contradiction_and_adds_the_error() -> None:
    statuses = _scan("backup_policy_contradiction", {}, "Microsoft.Storage/storageAccounts")
    assert statuses == [(Status.ERROR, f"/subscriptions/{SUB}"), (Status.FAIL, POLICY_RESOURCE_ID)]


@pytest.mark.parametrize(("check_id", "case"), ERROR_CASES.items(), ids=ERROR_CASES.keys())
def test_failed_listing_makes_the_subscription_an_error_and_nothing_else(
    check_id: str, case: tuple[dict[str, Any], str]
) -> None:
    records, api = case
    assert _scan(check_id, records, api) == [(Status.ERROR, f"/subscriptions/{SUB}")]


def test_nothing_in_scope_names_the_subject() -> None:
    for check_id, subject in (
        ("vm_daily_backup", "virtual machines"),
        ("sql_database_retention", "Azure SQL user databases"),
    ):
        control = Control("T-01", "test", "test", Severity.MEDIUM, "automated", "quote", "desc", checks=(check_id,))
        baseline = Baseline("test", "", "test", "1", "policy", {}, (control,))
        (finding,) = evaluate(inventory(), baseline, builtin_registry(), PARAMS).findings
        assert (finding.status, finding.message) == (Status.NOT_APPLICABLE, f"No {subject} in scope")


# --- the demo estate: both ways of backing up SQL Server on VMs ------------------------------------


def test_demo_shows_both_ways_of_backing_up_sql_vms_passing_and_failing(demo_inventory: Inventory) -> None:
    relaxed = with_params(differential_backups_per_day=0)
    by_name = {r.resource_id.rsplit("/", 1)[-1]: r for r in results(sql_backup_policy, demo_inventory, relaxed)}
    assert {n: r.status for n, r in by_name.items()} == {
        "sqlvm-mul2-01": Status.FAIL,
        "sqlvm-mul2-stg-01": Status.PASS,
    }
    assert by_name["sqlvm-mul2-stg-01"].message.startswith("Automated Backup to storage account stmul2stgbackup")
    assert "log backups every 15 minutes" in by_name["sqlvm-mul2-01"].message
    as_written = {r.resource_id.rsplit("/", 1)[-1]: r for r in results(sql_backup_policy, demo_inventory, PARAMS)}
    assert "Azure Backup's shortest SQL log backup interval is 15 minutes" in as_written["sqlvm-mul2-01"].message
    assert "never differentials" in as_written["sqlvm-mul2-stg-01"].message
    # The account Automated Backup writes to is backup storage even when the list names others.
    listed = with_params(backup_storage_accounts=("stmul2prodbackup",))
    geo = {r.resource_id.rsplit("/", 1)[-1]: r.status for r in results(backup_geo_redundancy, demo_inventory, listed)}
    assert geo["stmul2stgbackup"] is Status.FAIL
    assert "stmul2proddiag" not in geo
