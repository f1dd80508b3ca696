"""Recovery rules: daily VM backups (BAK-01), database backup policies and retention (BAK-02), and
geo-replicated backup storage (BAK-04), each a judge of one VM, SQL VM, policy, database, account or vault."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from auditor.arm_ids import key, name_of
from auditor.checks.index import ById
from auditor.inventory import Inventory
from auditor.model import Severity, Status, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.backup import BackupPolicy, ProtectedItem, RecoveryVault, RetentionRule, SubPolicy
from auditor.records.compute import VirtualMachine
from auditor.records.sql import AutomatedBackup, SqlDatabase, SqlVirtualMachine
from auditor.records.storage import StorageAccount
from auditor.registry import Remediation, check

VAULTS_API = "Microsoft.RecoveryServices/vaults"
VAULT_STORAGE_CONFIG_API = "Microsoft.RecoveryServices/vaults/backupstorageconfig"
POLICIES_API = "Microsoft.RecoveryServices/vaults/backupPolicies"
PROTECTED_ITEMS_API = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"
SQL_VMS_API = "Microsoft.SqlVirtualMachine/sqlVirtualMachines"
SQL_VM_SETTINGS_API = "Microsoft.SqlVirtualMachine/sqlVirtualMachines/autoBackupSettings"

# What Azure Backup can do for SQL Server in Azure VMs, as Microsoft documents it: log backups every
# 15 minutes at best and kept at most 35 days, at most one differential backup a day.
AZURE_BACKUP_MIN_LOG_INTERVAL_MINUTES = 15
AZURE_BACKUP_MAX_LOG_RETENTION_DAYS = 35
AZURE_BACKUP_MAX_DIFFERENTIALS_PER_DAY = 1
# What the SQL IaaS Agent's Automated Backup can do, as Microsoft documents it: full and log backups only
# (no differentials), log backups every 5 to 60 minutes, retention 1 to 90 days.
AUTOMATED_BACKUP_MIN_LOG_INTERVAL_MINUTES = 5
AUTOMATED_BACKUP_MAX_RETENTION_DAYS = 90
# SQL Server 2014 gets Automated Backup v1 only (v2 needs SQL Server 2016): SQL Server managed backup, which
# picks backup times from the workload (a log backup at least every 2 hours) and keeps backups 30 days at most.
_SQL_2014_OFFER = re.compile(r"^sql2014", re.IGNORECASE)
SQL_2014_AUTOMATED_BACKUP_LIMIT = (
    "SQL Server 2014 gets Automated Backup v1 only, whose managed backup picks full and log backup times from "
    "the workload (log backups up to 2 hours apart) and keeps backups at most 30 days; a schedule of its own "
    "needs SQL Server 2016 or later"
)
# Azure SQL Database keeps point-in-time restore backups 1 to 35 days; longer needs long-term retention.
AZURE_SQL_MAX_SHORT_TERM_RETENTION_DAYS = 35

VM_ITEM_TYPES = frozenset({"microsoft.compute/virtualmachines", "microsoft.classiccompute/virtualmachines"})
SUCCESSFUL_BACKUP_STATUSES = frozenset({"completed", "succeeded"})
AT_LEAST_DAILY = frozenset({"daily", "hourly"})


# --- shared rules --------------------------------------------------------------------------------


_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def iso_duration_days(text: str) -> float | None:
    """An ISO 8601 duration (``P9W``, ``P60D``, ``P1Y``, ``PT0S``) in days; None when it does not parse.

    Months count as 30 days and years as 365, as backup retention rules count them.
    """
    match = _DURATION.match(text.strip().upper())
    if match is None or text.strip().upper() in {"P", "PT"}:
        return None
    part = {name: float(value) if value else 0.0 for name, value in match.groupdict().items()}
    hours = part["hours"] + part["minutes"] / 60 + part["seconds"] / 3600
    return part["years"] * 365 + part["months"] * 30 + part["weeks"] * 7 + part["days"] + hours / 24


def parse_time(text: str | None) -> datetime | None:
    """An ARM timestamp as an aware datetime; None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # ARM times without an offset are UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_vm_item(item: ProtectedItem) -> bool:
    """True for an Azure VM backup item (not a database inside the VM, which names the VM too)."""
    return (item.item_type or "").lower() in VM_ITEM_TYPES or (item.workload_type or "").lower() == "vm"


def retention_days(rules: Iterable[RetentionRule], kinds: frozenset[str]) -> tuple[int | None, bool]:
    """The longest retention in days among rules of the given kinds, and whether any such rule exists."""
    chosen = [rule for rule in rules if rule.kind.lower() in kinds]
    known = [days for days in (rule.days for rule in chosen) if days is not None]
    return (max(known) if known else None), bool(chosen)


def _retention_text(rules: Iterable[RetentionRule]) -> list[str]:
    return [f"{r.kind}: {r.count} {r.unit}" for r in rules]


DAILY_RETENTION_KINDS = frozenset({"daily", "simple"})


def vm_policy_shortfalls(policy: BackupPolicy, min_retention_days: int) -> list[str]:
    """Each way a VM backup policy misses a daily schedule with daily points kept long enough."""
    problems: list[str] = []
    frequency = policy.schedule_frequency
    if frequency is None:
        problems.append(f"policy {policy.name} schedule frequency not reported")
    elif frequency.lower() not in AT_LEAST_DAILY:
        problems.append(f"policy {policy.name} runs {frequency}, not daily")
    days, present = retention_days(policy.retention, DAILY_RETENTION_KINDS)
    if not present:
        problems.append(f"policy {policy.name} keeps no daily recovery points")
    elif days is None:
        problems.append(f"policy {policy.name} daily retention not reported")
    elif days < min_retention_days:
        problems.append(f"policy {policy.name} keeps daily recovery points {days} days < {min_retention_days}")
    return problems


@dataclass(frozen=True)
class VmBackupVerdict:
    """How one protected item measures up to the daily-backup promise.

    ``unknown`` names data that was not collected and without which the item cannot be shown compliant.
    """

    problems: tuple[str, ...]
    evidence: dict[str, object]
    unknown: str | None = None


def item_protection_problems(item: ProtectedItem) -> list[str]:
    """What a backup item says of itself: a protection state other than Protected, or no policy."""
    problems: list[str] = []
    state = item.protection_state
    if state is None:
        problems.append("protection state not reported")
    elif state.lower() != "protected":
        problems.append(f"protection state {state}")
    if not item.policy_id:
        problems.append("no backup policy assigned")
    return problems


def vm_backup_verdict(
    item: ProtectedItem,
    policy: BackupPolicy | None,
    reference: datetime,
    min_retention_days: int,
    max_age_hours: int,
) -> VmBackupVerdict:
    """Each way a VM backup item misses daily backups with the retention and freshness required."""
    problems: list[str] = []
    unknown: str | None = None
    last = parse_time(item.last_backup_time)
    evidence: dict[str, object] = {
        "vault": name_of(item.vault_id),
        "vault_id": item.vault_id,
        "protected_item": item.name,
        "protection_state": item.protection_state,
        "policy_id": item.policy_id,
        "last_backup_status": item.last_backup_status,
        "last_backup_time": item.last_backup_time,
    }
    problems += item_protection_problems(item)
    if item.policy_id and policy is None:
        unknown = f"backup policy {item.policy_id} was not collected, so the schedule and retention cannot be shown"
    elif policy is not None and item.policy_id:
        evidence |= _policy_evidence(policy)
        problems += vm_policy_shortfalls(policy, min_retention_days)
    status = item.last_backup_status
    if status is None:
        problems.append("last backup status not reported")
    elif status.lower() not in SUCCESSFUL_BACKUP_STATUSES:
        problems.append(f"last backup status {status}")
    # Azure reports a never-run backup as 0001-01-01.
    if last is None or last.year <= 1:
        problems.append("no backup time reported" if item.last_backup_time is None else "no backup has run")
    else:
        age = reference - last
        evidence["last_backup_age_hours"] = round(age / timedelta(hours=1), 1)
        if age > timedelta(hours=max_age_hours):
            problems.append(f"last backup {item.last_backup_time} is older than {max_age_hours} hours")
    return VmBackupVerdict(tuple(problems), evidence, unknown)


class Addressable(Protocol):
    """What a finding is addressed to: a record's id, type and subscription."""

    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def subscription_id(self) -> str: ...


class AddressedAsRecord:
    """A subject joined from several records, addressed as the one record it is about."""

    def record(self) -> Addressable:
        """The record findings about this subject are addressed to."""
        raise NotImplementedError

    @property
    def id(self) -> str:
        """The record's id."""
        return self.record().id

    @property
    def type(self) -> str:
        """The record's type."""
        return self.record().type

    @property
    def subscription_id(self) -> str:
        """The record's subscription."""
        return self.record().subscription_id


# --- BAK-01 --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VmBackup(AddressedAsRecord):
    """A VM with every Azure Backup item that backs it up, each with its policy (None: not collected)."""

    vm: VirtualMachine
    items: tuple[tuple[ProtectedItem, BackupPolicy | None], ...]

    def record(self) -> Addressable:
        """The record findings about this subject are addressed to."""
        return self.vm


def vms_with_backups(inventory: Inventory) -> Iterator[VmBackup]:
    """Every VM joined with the Azure Backup items that name it as their source, and their policies."""
    policies = ById(inventory.backup_policies)
    items_by_vm: dict[str, list[ProtectedItem]] = {}
    for item in inventory.protected_items:
        if item.source_resource_id and is_vm_item(item):
            items_by_vm.setdefault(key(item.source_resource_id), []).append(item)
    for vm in inventory.virtual_machines:
        items = items_by_vm.get(key(vm.id), [])
        yield VmBackup(vm, tuple((i, policies.get(i.policy_id)) for i in items))


def _policy_evidence(policy: BackupPolicy) -> dict[str, object]:
    return {
        "policy": policy.name,
        "schedule_frequency": policy.schedule_frequency,
        "schedule_times": list(policy.schedule_times),
        "hourly_interval": policy.hourly_interval,
        "retention": _retention_text(policy.retention),
        "daily_retention_days": retention_days(policy.retention, DAILY_RETENTION_KINDS)[0],
    }


def vm_policy_verdict(policy: BackupPolicy, min_retention_days: int) -> Verdict | None:
    """A VM backup policy on its own, as code declares it (which VMs it protects is not in the policy)."""
    if (policy.management_type or "").lower() != "azureiaasvm":
        return None
    evidence = _policy_evidence(policy)
    problems = vm_policy_shortfalls(policy, min_retention_days)
    if problems:
        return failing("VM backup policy falls short: " + "; ".join(problems), **evidence)
    return passing(f"Policy {policy.name} backs up {policy.schedule_frequency} with enough daily retention", **evidence)


@check(
    id="vm_daily_backup",
    title="Every VM is backed up daily to a Recovery Services vault, kept 30 days, last backup recent",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Compute/virtualMachines",),
    requires=("Microsoft.Compute/virtualMachines", VAULTS_API, POLICIES_API, PROTECTED_ITEMS_API),
    over=vms_with_backups,
    subject="virtual machines",
    parameters=("vm_backup_retention_days", "max_backup_age_hours"),
    rationale="A VM that is not backed up, or whose last backup is stale or expires too soon, cannot be "
    "restored to the state the policy promises after deletion, corruption or ransomware.",
    remediation=Remediation(
        summary="Protect the VM in a Recovery Services vault with a policy that backs up daily and keeps "
        "daily recovery points at least 30 days; investigate failed or stale backup jobs.",
        portal="Recovery Services vaults > (vault) > Backup > Azure Virtual Machine > choose a daily policy "
        "with 30-day retention > add the VM; Backup items > (VM) > Backup now to verify",
        cli="az backup protection enable-for-vm -g RG --vault-name VAULT --vm VM_ID --policy-name POLICY",
        terraform='resource "azurerm_backup_policy_vm" "daily" {\n  backup { frequency = "Daily"  time = "23:00" }\n'
        "  retention_daily { count = 30 }\n}\n"
        'resource "azurerm_backup_protected_vm" "vm" { source_vm_id = VM_ID  backup_policy_id = '
        "azurerm_backup_policy_vm.daily.id }",
        bicep="schedulePolicy: { schedulePolicyType: 'SimpleSchedulePolicy', scheduleRunFrequency: 'Daily', "
        "scheduleRunTimes: [ '2026-01-01T23:00:00Z' ] }\nretentionPolicy: { retentionPolicyType: "
        "'LongTermRetentionPolicy', dailySchedule: { retentionTimes: [ '2026-01-01T23:00:00Z' ], "
        "retentionDuration: { count: 30, durationType: 'Days' } } }",
    ),
)
def vm_daily_backup(subject: VmBackup | BackupPolicy, params: Params) -> Verdict | None:
    """Pass a VM protected by a daily policy with enough retention and a recent successful backup; in code,
    where a policy is declared apart from the VMs it protects, judge the policy's schedule and retention."""
    retention = params.get_int("vm_backup_retention_days")
    if isinstance(subject, BackupPolicy):
        return vm_policy_verdict(subject, retention)
    max_age = params.get_int("max_backup_age_hours")
    reference = params.moment
    moment = reference.isoformat()
    if not subject.items:
        return failing(
            "Not a protected item in any Recovery Services vault: the VM is not backed up",
            protected_items=[],
            reference_time=moment,
        )
    verdicts = [vm_backup_verdict(item, policy, reference, retention, max_age) for item, policy in subject.items]
    good = next((v for v in verdicts if not v.problems and v.unknown is None), None)
    if good is not None:
        e = good.evidence
        return passing(
            f"Backed up by vault {e['vault']} under policy {e['policy']} ({e['schedule_frequency']}, daily "
            f"retention {e['daily_retention_days']} days); last backup {e['last_backup_status']} at "
            f"{e['last_backup_time']}",
            reference_time=moment,
            **e,
        )
    worst = next((v for v in verdicts if v.problems), None)
    if worst is None:
        return erroring(
            f"Vault {verdicts[0].evidence['vault']}: {verdicts[0].unknown}",
            reference_time=moment,
            **verdicts[0].evidence,
        )
    return failing(
        f"Backup in vault {worst.evidence['vault']} falls short: " + "; ".join(worst.problems),
        reference_time=moment,
        problems=list(worst.problems),
        other_items=[{"vault": v.evidence["vault"], "problems": list(v.problems)} for v in verdicts if v is not worst],
        **worst.evidence,
    )


# --- BAK-02: SQL workload backup policies ----------------------------------------------------------


def _sub_policy(policy: BackupPolicy, kind: str) -> SubPolicy | None:
    return next((s for s in policy.sub_policies if s.policy_type.lower() == kind), None)


def _sub_policy_evidence(sub: SubPolicy | None) -> dict[str, object] | None:
    if sub is None:
        return None
    return {
        "schedule_frequency": sub.schedule_frequency,
        "schedule_days": list(sub.schedule_days),
        "schedule_times": list(sub.schedule_times),
        "frequency_minutes": sub.frequency_minutes,
        "retention": _retention_text(sub.retention),
    }


def _retention_problem(label: str, days: int | None, present: bool, minimum: int) -> str | None:
    if not present:
        return f"{label} backups have no retention rule"
    if days is None:
        return f"{label} backup retention not reported"
    if days < minimum:
        return f"{label} backups kept {days} days < {minimum}"
    return None


def sql_policy_shortfalls(
    policy: BackupPolicy, min_retention_days: int, max_log_interval_minutes: int, differentials_per_day: int
) -> tuple[list[str], list[str]]:
    """Shortfalls of a SQL workload policy, and which of them Azure Backup itself cannot close."""
    problems: list[str] = []
    platform: list[str] = []
    full = _sub_policy(policy, "full")
    if full is None:
        problems.append("no full backup schedule")
    else:
        frequency = (full.schedule_frequency or "").lower()
        if not frequency:
            problems.append("full backup frequency not reported")
        elif frequency == "weekly" and not full.schedule_days:
            problems.append("weekly full backup names no day")
        elif frequency not in {"daily", "weekly"}:
            problems.append(f"full backups run {full.schedule_frequency}, less often than weekly")
        # Monthly and yearly points do not keep the weekly full backups for the whole period.
        days, present = retention_days(full.retention, frozenset({"daily", "weekly", "simple"}))
        problem = _retention_problem("full", days, present, min_retention_days)
        problems += [problem] if problem else []

    differential = _sub_policy(policy, "differential")
    if differential is None:
        if differentials_per_day > 0:
            problems.append("no differential backup schedule")
    else:
        per_day = max(1, len(differential.schedule_times))
        if per_day < differentials_per_day:
            problems.append(
                f"differential backups {per_day} a day on {len(differential.schedule_days) or 'unreported'} day(s) "
                f"a week, policy promises {differentials_per_day} a day"
            )
            if differentials_per_day > AZURE_BACKUP_MAX_DIFFERENTIALS_PER_DAY:
                platform.append(
                    f"Azure Backup takes at most {AZURE_BACKUP_MAX_DIFFERENTIALS_PER_DAY} differential backup a day "
                    f"(never on the day of the full backup), so {differentials_per_day} a day cannot be met with it"
                )
        days, present = retention_days(differential.retention, frozenset({"simple", "daily", "weekly"}))
        problem = _retention_problem("differential", days, present, min_retention_days)
        problems += [problem] if problem else []

    log = _sub_policy(policy, "log")
    if log is None:
        problems.append("no transaction log backup schedule")
    else:
        interval = log.frequency_minutes
        if interval is None:
            problems.append("log backup interval not reported")
        elif interval > max_log_interval_minutes:
            problems.append(f"log backups every {interval} minutes, policy promises every {max_log_interval_minutes}")
            if max_log_interval_minutes < AZURE_BACKUP_MIN_LOG_INTERVAL_MINUTES:
                platform.append(
                    f"Azure Backup's shortest SQL log backup interval is {AZURE_BACKUP_MIN_LOG_INTERVAL_MINUTES} "
                    f"minutes, so a {max_log_interval_minutes}-minute promise cannot be met with it"
                )
        days, present = retention_days(log.retention, frozenset({"simple", "daily"}))
        problem = _retention_problem("log", days, present, min_retention_days)
        problems += [problem] if problem else []
        if problem and days is not None and min_retention_days > AZURE_BACKUP_MAX_LOG_RETENTION_DAYS:
            platform.append(
                f"Azure Backup keeps SQL log backups at most {AZURE_BACKUP_MAX_LOG_RETENTION_DAYS} days, so "
                f"{min_retention_days}-day log retention cannot be met with it"
            )
    return problems, platform


def is_sql_policy(policy: BackupPolicy) -> bool:
    """True for an Azure Backup policy of SQL Server databases in Azure VMs."""
    return (policy.management_type or "").lower() == "azureworkload" and (
        policy.workload_type or ""
    ).lower() == "sqldatabase"


def is_sql_item(item: ProtectedItem) -> bool:
    """True for a SQL Server database that a vault backs up inside an Azure VM."""
    return (item.workload_type or "").lower() == "sqldatabase" or "sqldatabase" in (item.item_type or "").lower()


def automated_backup_shortfalls(
    backup: AutomatedBackup, min_retention_days: int, max_log_interval_minutes: int, differentials_per_day: int
) -> tuple[list[str], list[str]]:
    """Shortfalls of an enabled Automated Backup, and which of them Automated Backup itself cannot close."""
    problems: list[str] = []
    platform: list[str] = []
    schedule = backup.schedule_type
    if schedule is None:
        problems.append("backup schedule type not reported")
    elif schedule == "Automated":
        problems.append(
            "schedule type Automated: SQL Server picks backup times from log growth, so neither weekly full "
            "backups nor a log interval is set"
        )
    else:
        if backup.full_frequency is None:
            problems.append("full backup frequency not reported")
        interval = backup.log_interval_minutes
        if interval is None:
            problems.append("log backup interval not reported")
        elif interval > max_log_interval_minutes:
            problems.append(f"log backups every {interval} minutes, policy promises every {max_log_interval_minutes}")
        if max_log_interval_minutes < AUTOMATED_BACKUP_MIN_LOG_INTERVAL_MINUTES:
            platform.append(
                f"Automated Backup's shortest log backup interval is {AUTOMATED_BACKUP_MIN_LOG_INTERVAL_MINUTES} "
                f"minutes, so a {max_log_interval_minutes}-minute promise cannot be met with it"
            )
    if differentials_per_day > 0:
        problems.append(f"no differential backups, policy promises {differentials_per_day} a day")
        platform.append(
            "Automated Backup takes full and log backups only, never differentials, so "
            f"{differentials_per_day} differential backups a day cannot be met with it"
        )
    days = backup.retention_days
    if days is None:
        problems.append("retention period not reported")
    elif days < min_retention_days:
        problems.append(f"backups kept {days} days < {min_retention_days}")
        if min_retention_days > AUTOMATED_BACKUP_MAX_RETENTION_DAYS:
            platform.append(
                f"Automated Backup keeps backups at most {AUTOMATED_BACKUP_MAX_RETENTION_DAYS} days, so "
                f"{min_retention_days}-day retention cannot be met with it"
            )
    if not backup.encryption:
        problems.append("backups are not encrypted (enableEncryption off), the policy says all backups are")
    if backup.storage_account is None:
        problems.append("no target storage account reported")
    return problems, platform


def _automated_backup_evidence(backup: AutomatedBackup | None) -> dict[str, object] | None:
    if backup is None:
        return None
    return {
        "enable": backup.enabled,
        "backupScheduleType": backup.schedule_type,
        "fullBackupFrequency": backup.full_frequency,
        "daysOfWeek": list(backup.full_days),
        "fullBackupStartTime": backup.full_start_hour,
        "logBackupFrequency": backup.log_interval_minutes,
        "retentionPeriod": backup.retention_days,
        "enableEncryption": backup.encryption,
        "storageAccountUrl": backup.storage_account_url,
        "backupSystemDbs": backup.system_databases,
    }


@dataclass(frozen=True)
class WorkloadItemVerdict:
    """How one SQL database backed up by Azure Backup measures up; ``unknown`` names data not collected."""

    database: str
    problems: tuple[str, ...]
    platform: tuple[str, ...]
    evidence: dict[str, object]
    unknown: str | None = None


def workload_item_verdict(
    item: ProtectedItem, policy: BackupPolicy | None, retention: int, interval: int, per_day: int
) -> WorkloadItemVerdict:
    """Each way one Azure Backup SQL database item misses the written schedule."""
    database = item.friendly_name or item.name
    problems: list[str] = []
    platform: list[str] = []
    unknown: str | None = None
    evidence: dict[str, object] = {
        "database": database,
        "vault": name_of(item.vault_id),
        "protection_state": item.protection_state,
        "policy_id": item.policy_id,
    }
    problems += item_protection_problems(item)
    if item.policy_id and policy is None:
        unknown = f"backup policy {item.policy_id} was not collected, so its schedule cannot be shown"
    elif policy is not None and item.policy_id:
        found, platform = sql_policy_shortfalls(policy, retention, interval, per_day)
        problems += found
        evidence |= {
            "policy": policy.name,
            "full": _sub_policy_evidence(_sub_policy(policy, "full")),
            "differential": _sub_policy_evidence(_sub_policy(policy, "differential")),
            "log": _sub_policy_evidence(_sub_policy(policy, "log")),
        }
    return WorkloadItemVerdict(database, tuple(problems), tuple(platform), evidence, unknown)


def _with_platform_limits(message: str, platform: Iterable[str]) -> str:
    limits = list(dict.fromkeys(platform))
    if not limits:
        return message
    return (
        message
        + ". Platform limits: "
        + "; ".join(limits)
        + ". Use native SQL Server backups or log shipping for these, or revise the policy"
    )


@dataclass(frozen=True)
class SqlVmBackup(AddressedAsRecord):
    """A SQL Server on a VM with the Azure Backup items of its databases, each with its policy.

    ``declared`` marks a SQL VM as code declares it: Azure Backup of its databases is not part of that
    resource, so its absence shows nothing.
    """

    machine: SqlVirtualMachine
    items: tuple[tuple[ProtectedItem, BackupPolicy | None], ...] = ()
    declared: bool = False

    def record(self) -> Addressable:
        """The record findings about this subject are addressed to."""
        return self.machine


def sql_backup_subjects(inventory: Inventory) -> Iterator[SqlVmBackup | BackupPolicy]:
    """Every SQL Server on a VM with the Azure Backup items of its databases, then the SQL workload policies
    in use that no SQL VM's item names (databases of instances not registered with the SQL IaaS Agent).

    Unused policies (e.g. the default HourlyLogBackup) are not subjects.
    """
    policies = ById(inventory.backup_policies)
    items_by_vm: dict[str, list[ProtectedItem]] = {}
    for item in inventory.protected_items:
        if item.source_resource_id and is_sql_item(item):
            items_by_vm.setdefault(key(item.source_resource_id), []).append(item)
    judged: set[str] = set()
    for machine in inventory.sql_virtual_machines:
        items = items_by_vm.get(key(machine.vm_id), []) if machine.vm_id else []
        judged |= {key(i.policy_id) for i in items if i.policy_id}
        yield SqlVmBackup(machine, tuple((i, policies.get(i.policy_id)) for i in items))
    assigned = {key(i.policy_id) for i in inventory.protected_items if i.policy_id}
    for policy in inventory.backup_policies:
        if not is_sql_policy(policy) or key(policy.id) in judged:
            continue
        if key(policy.id) in assigned or (policy.protected_items or 0) > 0:
            yield policy


def sql_vm_backup_verdict(subject: SqlVmBackup, retention: int, interval: int, per_day: int) -> Verdict:
    """A SQL Server on a VM judged by Azure Backup of its databases and by the agent's Automated Backup."""
    machine = subject.machine
    verdicts = [workload_item_verdict(i, policy, retention, interval, per_day) for i, policy in subject.items]
    auto = machine.auto_backup
    auto_on = auto is not None and bool(auto.enabled)
    auto_problems, auto_platform = (
        automated_backup_shortfalls(auto, retention, interval, per_day) if auto is not None and auto_on else ([], [])
    )
    if auto_on and auto_problems and _SQL_2014_OFFER.match(machine.image_offer or ""):
        auto_platform.append(SQL_2014_AUTOMATED_BACKUP_LIMIT)
    evidence: dict[str, object] = {
        "vm_id": machine.vm_id,
        "azure_backup": [v.evidence | {"problems": list(v.problems)} for v in verdicts],
        "automated_backup": _automated_backup_evidence(auto),
    }
    if not verdicts and not auto_on and subject.declared:
        state = "off" if auto is not None else "not configured"
        return erroring(
            f"Automated Backup is {state} in the code, and Azure Backup of the databases of a SQL Server on a VM "
            "is not part of this resource, so whether anything backs them up cannot be shown",
            **evidence,
        )
    if not verdicts and not auto_on and machine.vm_id is None:
        # Azure Backup items name the VM, so without its id they cannot be matched: unknown, not unprotected.
        return erroring(
            "The VM of this SQL Server is not reported, so Azure Backup of its databases cannot "
            "be shown, and Automated Backup is not on",
            **evidence,
        )
    if not verdicts and not auto_on:
        state = "off" if auto is not None else "not configured"
        return failing(
            "Nothing backs up the databases of this SQL Server: no Azure Backup workload item protects them "
            f"and the SQL IaaS Agent's Automated Backup is {state}",
            **evidence,
        )
    if verdicts and all(not v.problems and v.unknown is None for v in verdicts):
        named = sorted({str(v.evidence.get("policy")) for v in verdicts})
        return passing(
            f"Azure Backup policy {', '.join(named)} meets the database backup schedule and retention for "
            f"{', '.join(v.database for v in verdicts)}",
            **evidence,
        )
    if auto is not None and auto_on and not auto_problems:
        return passing(
            f"Automated Backup to storage account {auto.storage_account}: {auto.full_frequency} full backups, log "
            f"backups every {auto.log_interval_minutes} minutes, kept {auto.retention_days} days, encrypted",
            **evidence,
        )
    unknown = next((v for v in verdicts if v.unknown is not None and not v.problems), None)
    if unknown is not None:
        return erroring(
            f"Database {unknown.database} in vault {unknown.evidence['vault']}: {unknown.unknown}", **evidence
        )
    parts = [f"Azure Backup of {v.database}: " + "; ".join(v.problems) for v in verdicts if v.problems]
    if auto_on:
        parts.append("Automated Backup: " + "; ".join(auto_problems))
    elif auto is not None or verdicts:
        parts.append("Automated Backup is off")
    platform = [p for v in verdicts for p in v.platform] + auto_platform
    evidence["platform_limits"] = list(dict.fromkeys(platform))
    return failing(_with_platform_limits("Database backups fall short: " + ". ".join(parts), platform), **evidence)


def sql_policy_verdict(policy: BackupPolicy, retention: int, interval: int, per_day: int) -> Verdict | None:
    """A SQL workload policy judged as such; None for a policy of another workload."""
    if not is_sql_policy(policy):
        return None
    problems, platform = sql_policy_shortfalls(policy, retention, interval, per_day)
    evidence: dict[str, object] = {
        "vault": name_of(policy.vault_id),
        "policy": policy.name,
        "protected_items": policy.protected_items,
        "full": _sub_policy_evidence(_sub_policy(policy, "full")),
        "differential": _sub_policy_evidence(_sub_policy(policy, "differential")),
        "log": _sub_policy_evidence(_sub_policy(policy, "log")),
        "platform_limits": platform,
    }
    if not problems:
        return passing(f"Policy {policy.name} meets the database backup schedule and retention", **evidence)
    message = _with_platform_limits(f"Policy {policy.name} falls short: " + "; ".join(problems), platform)
    return failing(message, problems=problems, **evidence)


SQL_POLICY_REMEDIATION = Remediation(
    summary="Azure Backup cannot take log backups more often than every 15 minutes, keep them longer than 35 "
    "days, or take more than one differential a day. To keep the written promise, run native SQL Server "
    "backups (SQL Agent jobs: BACKUP LOG every 5 minutes and BACKUP DATABASE WITH DIFFERENTIAL every 8 hours, "
    "WITH CHECKSUM, TO URL on the geo-replicated backup storage account, kept 60 days) or native log shipping; "
    "otherwise revise the policy to what Azure Backup offers. In Azure Backup keep weekly full backups at "
    "least 9 weeks and differentials at least 60 days.",
    portal="Recovery Services vaults > (vault) > Backup policies > (SQL Server in Azure VM policy) > "
    "Full backup: Weekly, retain 9 weeks; Differential: retain 60 days; Log backup: every 15 minutes, 35 days",
    cli="az backup policy set -g RG --vault-name VAULT --name POLICY --policy @sql-policy.json",
    terraform='resource "azurerm_backup_policy_vm_workload" "sql" {\n  workload_type = "SQLDataBase"\n'
    '  settings { time_zone = "UTC" }\n  protection_policy {\n    policy_type = "Full"\n'
    '    backup { frequency = "Weekly"  weekdays = ["Sunday"]  time = "01:00" }\n'
    '    retention_weekly { count = 9  weekdays = ["Sunday"] }\n  }\n  protection_policy {\n'
    '    policy_type = "Differential"\n    backup { frequency = "Weekly"  weekdays = ["Monday", "Tuesday", '
    '"Wednesday", "Thursday", "Friday", "Saturday"]  time = "13:00" }\n    simple_retention { count = 60 }\n  }\n'
    '  protection_policy {\n    policy_type = "Log"\n    backup { frequency_in_minutes = 15 }\n'
    "    simple_retention { count = 35 }\n  }\n}",
    bicep="subProtectionPolicy: [ { policyType: 'Full', schedulePolicy: { schedulePolicyType: "
    "'SimpleSchedulePolicy', scheduleRunFrequency: 'Weekly', scheduleRunDays: [ 'Sunday' ] }, retentionPolicy: "
    "{ retentionPolicyType: 'LongTermRetentionPolicy', weeklySchedule: { daysOfTheWeek: [ 'Sunday' ], "
    "retentionDuration: { count: 9, durationType: 'Weeks' } } } }, { policyType: 'Differential', ... "
    "retentionDuration: { count: 60, durationType: 'Days' } }, { policyType: 'Log', schedulePolicy: { "
    "schedulePolicyType: 'LogSchedulePolicy', scheduleFrequencyInMins: 15 } } ]",
)


@check(
    id="sql_backup_policy",
    title="SQL Server databases get weekly full, thrice-daily differential, 5-minute log backups kept 60 days",
    severity=Severity.HIGH,
    resource_types=(SQL_VMS_API, POLICIES_API),
    requires=(VAULTS_API, POLICIES_API, PROTECTED_ITEMS_API, SQL_VMS_API, SQL_VM_SETTINGS_API),
    over=sql_backup_subjects,
    subject="SQL Servers on VMs or SQL workload backup policies in use",
    parameters=("db_backup_retention_days", "log_backup_interval_minutes", "differential_backups_per_day"),
    rationale="The log backup interval bounds how much committed data is lost in a restore, and the retention "
    "bounds how far back a corruption can be undone; the policy promises 5 minutes and 60 days.",
    remediation=SQL_POLICY_REMEDIATION,
)
def sql_backup_policy(subject: SqlVmBackup | SqlVirtualMachine | BackupPolicy, params: Params) -> Verdict | None:
    """Judge a SQL Server on a VM by either of its backups, and a SQL workload policy of other instances; in
    code, a SQL VM by its Automated Backup and a workload policy by its schedules."""
    retention = params.get_int("db_backup_retention_days")
    interval = params.get_int("log_backup_interval_minutes")
    per_day = params.get_int("differential_backups_per_day")
    if isinstance(subject, BackupPolicy):
        return sql_policy_verdict(subject, retention, interval, per_day)
    if isinstance(subject, SqlVirtualMachine):
        subject = SqlVmBackup(subject, declared=True)
    return sql_vm_backup_verdict(subject, retention, interval, per_day)


# --- BAK-02: Azure SQL Database retention ----------------------------------------------------------


def database_retention_shortfall(database: SqlDatabase, min_retention_days: int) -> tuple[Status, str]:
    """Whether point-in-time or weekly long-term retention keeps backups for the required days, and why."""
    short = database.short_term_retention_days
    weekly_text = database.ltr_weekly
    if weekly_text is None:
        return Status.ERROR, "Long-term retention not reported (weeklyRetention), so 60-day retention cannot be shown"
    weekly = iso_duration_days(weekly_text)
    if weekly is None:
        return Status.ERROR, f"Long-term weekly retention {weekly_text!r} is not an ISO 8601 duration"
    if weekly >= min_retention_days:
        return Status.PASS, (
            f"Weekly full backups kept {weekly_text} ({weekly:g} days) by long-term retention, "
            f"at least {min_retention_days} days"
        )
    if short is not None and short >= min_retention_days:
        return Status.PASS, f"Point-in-time restore backups kept {short} days, at least {min_retention_days} days"
    if short is None and min_retention_days <= AZURE_SQL_MAX_SHORT_TERM_RETENTION_DAYS:
        # Point-in-time retention alone could keep the days asked for, and it is not known.
        return Status.ERROR, (
            f"Long-term weekly retention {weekly_text} is short of {min_retention_days} days and point-in-time "
            "retention is not reported, so the retention cannot be shown"
        )
    weeks = math.ceil(min_retention_days / 7)
    point_in_time = "not reported" if short is None else f"{short} days"
    others = [f"{n} {t}" for n, t in (("monthly", database.ltr_monthly), ("yearly", database.ltr_yearly)) if t]
    message = (
        f"Backups are not kept {min_retention_days} days: long-term weekly retention {weekly_text}, point-in-time "
        f"retention {point_in_time}. Azure SQL Database keeps point-in-time backups at most "
        f"{AZURE_SQL_MAX_SHORT_TERM_RETENTION_DAYS} days, so {min_retention_days} days needs long-term retention "
        f"of the weekly full backups for at least P{weeks}W"
    )
    if any((iso_duration_days(t) or 0) > 0 for t in (database.ltr_monthly, database.ltr_yearly) if t):
        message += f" (monthly/yearly retention keeps one backup a month or year only: {', '.join(others)})"
    return Status.FAIL, message


@check(
    id="sql_database_retention",
    title="Azure SQL databases keep backups 60 days through long-term retention",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Sql/servers/databases",),
    requires=(
        "Microsoft.Sql/servers",
        "Microsoft.Sql/servers/databases",
        "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies",
        "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies",
    ),
    over="sql_databases",
    subject="Azure SQL user databases",
    parameters=("db_backup_retention_days",),
    rationale="Azure SQL Database takes its own full, differential and log backups, but keeps them at most 35 "
    "days for point-in-time restore; the policy's 60 days needs a long-term retention policy.",
    remediation=Remediation(
        summary="Set a long-term retention policy that keeps weekly full backups at least 9 weeks (P9W), and "
        "raise point-in-time retention to the 35-day maximum.",
        portal="SQL servers > (server) > Backups > Retention policies > (database) > Configure policies: "
        "Weekly LTR backups, keep for 9 weeks; Point-in-time restore: 35 days",
        cli="az sql db ltr-policy set -g RG --server SERVER --name DB --weekly-retention P9W\n"
        "az sql db str-policy set -g RG --server SERVER --name DB --retention-days 35",
        terraform='long_term_retention_policy { weekly_retention = "P9W" }\n'
        "short_term_retention_policy { retention_days = 35 }  # azurerm_mssql_database",
        bicep="resource ltr 'Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies@2023-05-01-preview' = "
        "{ parent: db, name: 'default', properties: { weeklyRetention: 'P9W' } }",
    ),
)
def sql_database_retention(database: SqlDatabase, params: Params) -> Verdict | None:
    """Pass a user database whose backups are kept at least the required days; system databases are not judged."""
    if database.is_system:
        return None
    status, message = database_retention_shortfall(database, params.get_int("db_backup_retention_days"))
    evidence = {
        "server": name_of(database.server_id),
        "short_term_retention_days": database.short_term_retention_days,
        "ltr_weekly": database.ltr_weekly,
        "ltr_monthly": database.ltr_monthly,
        "ltr_yearly": database.ltr_yearly,
        "azure_sql_max_point_in_time_days": AZURE_SQL_MAX_SHORT_TERM_RETENTION_DAYS,
    }
    return Verdict(status, message, evidence)


# --- BAK-04 --------------------------------------------------------------------------------------

GEO_SKU_MARKERS = ("GRS", "GZRS")


def _region(name: str | None) -> str:
    return (name or "").replace(" ", "").lower()


def geo_replication_shortfalls(account: StorageAccount, primary_region: str, secondary_region: str) -> list[str]:
    """Each way a storage account misses geo-replication from the primary to the secondary region."""
    problems: list[str] = []
    sku = account.sku
    if sku is None:
        problems.append("replication SKU not reported")
    elif not any(marker in sku.upper() for marker in GEO_SKU_MARKERS):
        problems.append(f"SKU {sku} is not geo-redundant (GRS, RA-GRS, GZRS or RA-GZRS)")
    primary = account.primary_location or account.location
    if _region(primary) != _region(primary_region):
        problems.append(f"primary location {primary or 'not reported'}, not {primary_region}")
    secondary = account.secondary_location
    if _region(secondary) != _region(secondary_region):
        problems.append(f"secondary location {secondary or 'none'}, not {secondary_region}")
    return problems


def automated_backup_targets(inventory: Inventory) -> dict[str, list[str]]:
    """The storage accounts (by lower-case name) that Automated Backup writes to, each with its SQL VMs."""
    targets: dict[str, list[str]] = {}
    for machine in inventory.sql_virtual_machines:
        backup = machine.auto_backup
        if backup is not None and backup.enabled and backup.storage_account:
            targets.setdefault(backup.storage_account.lower(), []).append(machine.name)
    return targets


@dataclass(frozen=True)
class BackupAccount(AddressedAsRecord):
    """A storage account that may hold backups, with the SQL VMs whose Automated Backup writes to it."""

    account: StorageAccount
    automated_backup_of: tuple[str, ...] = ()

    def record(self) -> Addressable:
        """The record findings about this subject are addressed to."""
        return self.account

    def holds_backups(self, listed: frozenset[str]) -> bool:
        """True when the baseline names it (an empty list names every account) or Automated Backup writes to it."""
        return not listed or self.account.name.lower() in listed or bool(self.automated_backup_of)


@dataclass(frozen=True)
class MissingTarget:
    """A storage account Automated Backup writes to that is not among the scanned accounts."""

    name: str
    machines: tuple[str, ...]
    type: str = "Microsoft.Storage/storageAccounts"
    subscription_id: str = ""

    @property
    def id(self) -> str:
        """The account's name: its id is not known."""
        return self.name


@dataclass(frozen=True)
class ScannedAccounts:
    """The names of the scanned storage accounts, against which the baseline's backup accounts are looked up."""

    names: frozenset[str]
    id: str = "parameter:backup_storage_accounts"
    type: str = "Microsoft.Storage/storageAccounts"
    subscription_id: str = ""


def backup_storage(inventory: Inventory) -> Iterator[ScannedAccounts | MissingTarget | BackupAccount | RecoveryVault]:
    """Where backups are kept: every storage account (the judge keeps those that hold backups), each
    Automated Backup target not scanned, the names looked up for the baseline's list, and every vault."""
    targets = automated_backup_targets(inventory)
    found = {a.name.lower() for a in inventory.storage_accounts}
    yield ScannedAccounts(frozenset(found))
    for name, machines in targets.items():
        if name not in found:
            yield MissingTarget(name, tuple(machines))
    for account in inventory.storage_accounts:
        yield BackupAccount(account, tuple(targets.get(account.name.lower(), [])))
    yield from inventory.recovery_vaults


def _listed(params: Params) -> frozenset[str]:
    return frozenset(name.lower() for name in params.get_list("backup_storage_accounts"))


def vault_redundancy_shortfall(vault: RecoveryVault) -> str | None:
    """Why a Recovery Services vault's backup storage is not geo-redundant; None when it is."""
    redundancy = vault.storage_redundancy
    if redundancy is None:
        return "Vault backup storage redundancy not reported"
    if redundancy.lower() != "georedundant":
        return f"Vault stores backups {redundancy}, not GeoRedundant"
    return None


def vault_geo_verdict(vault: RecoveryVault) -> Verdict:
    """A Recovery Services vault's backup storage is geo-redundant."""
    evidence: dict[str, object] = {
        "storage_redundancy": vault.storage_redundancy,
        "cross_region_restore": vault.cross_region_restore,
        "location": vault.location,
    }
    shortfall = vault_redundancy_shortfall(vault)
    if shortfall:
        return failing(shortfall, **evidence)
    return passing("Vault stores backups GeoRedundant (replicated to the paired region)", **evidence)


def account_geo_verdict(subject: BackupAccount, primary: str, secondary: str) -> Verdict:
    """A backup storage account replicates from the primary region to the secondary one."""
    account = subject.account
    evidence: dict[str, object] = {
        "automated_backup_of": list(subject.automated_backup_of),
        "sku": account.sku,
        "primary_location": account.primary_location or account.location,
        "secondary_location": account.secondary_location,
        "required_primary": primary,
        "required_secondary": secondary,
    }
    geo = any(marker in (account.sku or "").upper() for marker in GEO_SKU_MARKERS)
    if geo and not evidence["primary_location"]:
        return erroring(
            f"{account.sku} is geo-redundant, but the location is not known (not reported, or an expression "
            f"decided at deployment), so replication from {primary} to {secondary} cannot be shown",
            **evidence,
        )
    problems = geo_replication_shortfalls(account, primary, secondary)
    if problems:
        return failing("Backup storage is not geo-replicated as required: " + "; ".join(problems), **evidence)
    return passing(
        f"{account.sku} replicates from {evidence['primary_location']} to {account.secondary_location}", **evidence
    )


@check(
    id="backup_geo_redundancy",
    title="Backup storage accounts geo-replicate from the primary to the secondary region; vaults are geo-redundant",
    severity=Severity.MEDIUM,
    resource_types=("Microsoft.Storage/storageAccounts", VAULTS_API),
    requires=(
        "Microsoft.Storage/storageAccounts",
        VAULTS_API,
        VAULT_STORAGE_CONFIG_API,
        SQL_VMS_API,
        SQL_VM_SETTINGS_API,
    ),
    over=backup_storage,
    subject="backup storage accounts or Recovery Services vaults",
    parameters=("backup_storage_accounts", "primary_region", "secondary_region"),
    rationale="Backups held in one region are lost with that region; the policy promises copies replicated "
    "from East US to West US.",
    remediation=Remediation(
        summary="Make backup storage accounts RA-GRS (or GRS/GZRS) in the primary region, whose paired secondary "
        "is the required secondary region, and use geo-redundant storage for Recovery Services vaults (a "
        "vault's redundancy can only be changed before it protects any item: otherwise create a new vault).",
        portal="Storage accounts > (account) > Redundancy: Read-access geo-redundant storage (RA-GRS); "
        "Recovery Services vaults > (vault) > Properties > Backup Configuration: Geo-redundant",
        cli="az storage account update -g RG -n ACCOUNT --sku Standard_RAGRS\n"
        "az backup vault backup-properties set -g RG -n VAULT --backup-storage-redundancy GeoRedundant "
        "--cross-region-restore-flag true",
        terraform='account_replication_type = "RAGRS"  # azurerm_storage_account, location = "eastus"\n'
        'storage_mode_type = "GeoRedundant"  # azurerm_recovery_services_vault\ncross_region_restore_enabled = true',
        bicep="sku: { name: 'Standard_RAGRS' }  // storage account in eastus\n"
        "redundancySettings: { standardTierStorageRedundancy: 'GeoRedundant', crossRegionRestore: 'Enabled' }",
    ),
)
def backup_geo_redundancy(
    subject: ScannedAccounts | MissingTarget | BackupAccount | RecoveryVault, params: Params
) -> Verdict | None:
    """Judge a backup storage account's replication and regions, and a vault's storage redundancy; a backup
    account that cannot be found is an error. Accounts that hold no backups are not judged."""
    listed = _listed(params)
    if isinstance(subject, RecoveryVault):
        return vault_geo_verdict(subject)
    if isinstance(subject, BackupAccount):
        if not subject.holds_backups(listed):
            return None
        return account_geo_verdict(subject, params.get_str("primary_region"), params.get_str("secondary_region"))
    named = {"backup_storage_accounts": list(params.get_list("backup_storage_accounts"))}
    if isinstance(subject, MissingTarget):
        return erroring(
            f"Storage account {subject.name}, the Automated Backup target of SQL VM {', '.join(subject.machines)}, "
            "was not found in the scanned subscriptions, so its replication cannot be shown",
            **named,
        )
    missing = [n for n in params.get_list("backup_storage_accounts") if n.lower() not in subject.names]
    if not missing:
        return None
    if len(missing) == 1:
        return erroring(
            f"Backup storage account {missing[0]} named in backup_storage_accounts was not found in the scanned "
            "subscriptions, so its replication cannot be shown",
            missing=missing,
            **named,
        )
    return erroring(
        f"Backup storage accounts {', '.join(missing)} named in backup_storage_accounts were not found in the "
        "scanned subscriptions, so their replication cannot be shown",
        missing=missing,
        **named,
    )


GEO_STATEMENT = (
    "The backup files are stored in an account with Azure Geo-Replication on East US (Primary) and West US (Secondary)."
)
LRS_STATEMENT = "The MUL2 solution uses the Azure locally redundant storage (LRS) method."
POLICY_RESOURCE_ID = "policy:BAK-04"


@dataclass(frozen=True)
class BackupEstate:
    """The policy's own backup statements, with the estate's backup storage to say which one it follows."""

    accounts: tuple[BackupAccount, ...]
    vaults: tuple[RecoveryVault, ...]
    id: str = POLICY_RESOURCE_ID
    type: str = "policy"
    subscription_id: str = ""


def backup_estate(inventory: Inventory) -> Iterator[BackupEstate]:
    """The one subject of the policy's contradiction: present whatever the estate holds."""
    targets = automated_backup_targets(inventory)
    accounts = tuple(BackupAccount(a, tuple(targets.get(a.name.lower(), []))) for a in inventory.storage_accounts)
    yield BackupEstate(accounts, inventory.recovery_vaults)


def redundancy_in_estate(estate: BackupEstate, listed: frozenset[str]) -> tuple[list[str], list[str]]:
    """Names of backup storage accounts and vaults that are geo-redundant, and of those that are not."""
    geo: list[str] = []
    local: list[str] = []
    for subject in estate.accounts:
        if not subject.holds_backups(listed):
            continue
        account = subject.account
        is_geo = any(marker in (account.sku or "").upper() for marker in GEO_SKU_MARKERS)
        (geo if is_geo else local).append(f"{account.name} ({account.sku or 'SKU not reported'})")
    for vault in estate.vaults:
        redundancy = vault.storage_redundancy or "redundancy not reported"
        (geo if redundancy.lower() == "georedundant" else local).append(f"{vault.name} ({redundancy})")
    return geo, local


@check(
    id="backup_policy_contradiction",
    title="The policy states both geo-replicated backup storage and locally redundant storage (LRS)",
    severity=Severity.INFO,
    resource_types=("policy",),
    requires=(
        "Microsoft.Storage/storageAccounts",
        VAULTS_API,
        VAULT_STORAGE_CONFIG_API,
        SQL_VMS_API,
        SQL_VM_SETTINGS_API,
    ),
    over=backup_estate,
    subject="backup policy statements",
    parameters=("backup_storage_accounts",),
    rationale="A policy that promises two incompatible redundancy levels cannot be audited as written; the "
    "automated check holds the estate to geo-replication, the stronger statement.",
    remediation=Remediation(
        summary="Revise the policy so it states one redundancy level for backup storage: geo-replication from "
        "East US to West US (what backup_geo_redundancy tests), and remove or qualify the LRS sentence (e.g. LRS "
        "for non-backup data only).",
        portal="No Azure setting: amend the backup section of the Data Handling and Privacy Policy and publish it "
        "with a new revision date",
    ),
)
def backup_policy_contradiction(estate: BackupEstate, params: Params) -> Verdict:
    """One informational note naming the policy's own contradiction and which statement the estate follows.

    The note is the policy text's, not the estate's: it is given whatever the estate holds (so it is never a
    pass), and only the estate's summary in it changes.
    """
    geo, local = redundancy_in_estate(estate, _listed(params))
    summary = (
        f"In the estate, geo-redundant: {', '.join(geo) or 'none'}; not geo-redundant: {', '.join(local) or 'none'}."
    )
    return Verdict(
        Status.FAIL,
        f'The policy contradicts itself: "{GEO_STATEMENT}" versus "{LRS_STATEMENT}" Backups are judged '
        f"against geo-replication; the policy text should be corrected. {summary}",
        {
            "geo_replication_statement": GEO_STATEMENT,
            "lrs_statement": LRS_STATEMENT,
            "geo_redundant": geo,
            "not_geo_redundant": local,
        },
        severity=Severity.INFO,
    )
