"""Backup records: Recovery Services vaults, their policies and protected items."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.records.tags import NO_TAGS, Tags
from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class RecoveryVault:
    """A Recovery Services vault's encryption, exposure and redundancy."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    public_network_access: str | None
    cmk_key_uri: str | None
    infrastructure_encryption: str | None
    storage_redundancy: str | None
    cross_region_restore: bool | None
    immutability: str | None = None
    soft_delete: str | None = None
    type: str = "Microsoft.RecoveryServices/vaults"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class RetentionRule:
    """How long one kind of recovery point is kept: count times unit (Days, Weeks, Months, Years)."""

    kind: str
    count: int | None
    unit: str | None

    @property
    def days(self) -> int | None:
        """The duration in days (weeks as 7, months as 30, years as 365), or None when unknown."""
        factor = {"days": 1, "weeks": 7, "months": 30, "years": 365}.get((self.unit or "").lower())
        return None if self.count is None or factor is None else self.count * factor


@dataclass(frozen=True)
class SubPolicy:
    """One schedule of a workload policy: Full, Differential, Incremental or Log."""

    policy_type: str
    schedule_frequency: str | None
    schedule_days: tuple[str, ...] = ()
    schedule_times: tuple[str, ...] = ()
    frequency_minutes: int | None = None
    retention: tuple[RetentionRule, ...] = ()


@dataclass(frozen=True)
class BackupPolicy:
    """A backup policy of a vault (Azure VM or SQL-in-VM workload)."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    vault_id: str
    management_type: str | None
    workload_type: str | None = None
    schedule_frequency: str | None = None
    schedule_times: tuple[str, ...] = ()
    hourly_interval: int | None = None
    retention: tuple[RetentionRule, ...] = ()
    sub_policies: tuple[SubPolicy, ...] = ()
    instant_rp_retention_days: int | None = None
    protected_items: int | None = None
    location: str = ""
    type: str = "Microsoft.RecoveryServices/vaults/backupPolicies"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()


@dataclass(frozen=True)
class ProtectedItem:
    """An item a vault backs up (a VM or a SQL database), read from raw properties."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    vault_id: str
    item_type: str | None
    source_resource_id: str | None
    policy_id: str | None
    protection_state: str | None
    protection_status: str | None = None
    health_status: str | None = None
    last_backup_status: str | None = None
    last_backup_time: str | None = None
    workload_type: str | None = None
    friendly_name: str | None = None
    location: str = ""
    type: str = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
