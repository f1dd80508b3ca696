"""Backup collector: Recovery Services vaults, backup policies and protected items."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient

from auditor.arm_ids import name_of, resource_group_of
from auditor.collect.base import Enrichment, Listing, PerParent, text
from auditor.collect.session import AzureSession
from auditor.records.backup import BackupPolicy, ProtectedItem, RecoveryVault, RetentionRule, SubPolicy

# The schedules of a LongTermRetentionPolicy, by the RetentionRule kind they become.
_LONG_TERM_SCHEDULES = (
    ("daily", "dailySchedule"),
    ("weekly", "weeklySchedule"),
    ("monthly", "monthlySchedule"),
    ("yearly", "yearlySchedule"),
)


def _vaults(session: AzureSession, subscription_id: str) -> RecoveryServicesClient:
    return session.client(RecoveryServicesClient, subscription_id)


def _backup(session: AzureSession, subscription_id: str) -> RecoveryServicesBackupClient:
    return session.client(RecoveryServicesBackupClient, subscription_id)


def _raw(model: Any) -> dict[str, Any]:
    """The wire-shaped properties of an SDK model, including fields its class does not declare."""
    if model is None:
        return {}
    result: dict[str, Any] = model.as_dict()
    return result


def _object(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    return value if isinstance(value, Mapping) else {}


def _strings(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name)
    return tuple(str(v) for v in value if v is not None) if isinstance(value, list) else ()


def _string(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else str(value)


def _int(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _enabled(value: Any) -> bool | None:
    """``Enabled``/``Disabled`` as a bool; any other value (or none) is unknown."""
    state = (text(value) or "").lower()
    return {"enabled": True, "disabled": False}.get(state)


def recovery_vault(vault: Any, subscription_id: str) -> RecoveryVault:
    """A Recovery Services vault record; settings the vault does not report stay None."""
    props = vault.properties
    encryption = props.encryption if props else None
    redundancy = props.redundancy_settings if props else None
    security = props.security_settings if props else None
    immutability = security.immutability_settings if security else None
    soft_delete = security.soft_delete_settings if security else None
    key = encryption.key_vault_properties if encryption else None
    return RecoveryVault(
        id=vault.id,
        name=vault.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(vault.id),
        location=vault.location or "",
        public_network_access=text(props.public_network_access) if props else None,
        cmk_key_uri=key.key_uri if key else None,
        infrastructure_encryption=text(encryption.infrastructure_encryption) if encryption else None,
        storage_redundancy=text(redundancy.standard_tier_storage_redundancy) if redundancy else None,
        cross_region_restore=_enabled(redundancy.cross_region_restore) if redundancy else None,
        immutability=text(immutability.state) if immutability else None,
        soft_delete=text(soft_delete.soft_delete_state) if soft_delete else None,
    )


def list_recovery_vaults(session: AzureSession, subscription_id: str) -> Iterator[RecoveryVault]:
    """Every Recovery Services vault of the subscription."""
    for vault in _vaults(session, subscription_id).vaults.list_by_subscription_id():
        yield recovery_vault(vault, subscription_id)


def with_storage_config(session: AzureSession, vault: RecoveryVault) -> RecoveryVault:
    """The vault with redundancy and cross-region restore read from its backup storage configuration.

    Vaults listed through older API versions carry no ``redundancySettings``; the storage configuration
    has said the same thing since the first backup API. Values the vault listing reported are kept.
    """
    config = _backup(session, vault.subscription_id).backup_resource_storage_configs_non_crr.get(
        vault.name, vault.resource_group
    )
    props = config.properties
    redundancy = (text(props.storage_model_type) or text(props.storage_type)) if props else None
    return dataclasses.replace(
        vault,
        storage_redundancy=vault.storage_redundancy or redundancy,
        cross_region_restore=(
            vault.cross_region_restore
            if vault.cross_region_restore is not None
            else (props.cross_region_restore_flag if props else None)
        ),
    )


def _retention_rule(kind: str, duration: Mapping[str, Any]) -> RetentionRule:
    return RetentionRule(kind=kind, count=_int(duration, "count"), unit=_string(duration, "durationType"))


def retention_rules(policy: Mapping[str, Any]) -> tuple[RetentionRule, ...]:
    """Retention of a raw retention policy.

    A LongTermRetentionPolicy yields one rule per schedule (kind ``daily``, ``weekly``, ``monthly``,
    ``yearly``); a SimpleRetentionPolicy yields one rule of kind ``simple``.
    """
    if "retentionDuration" in policy:
        return (_retention_rule("simple", _object(policy, "retentionDuration")),)
    return tuple(
        _retention_rule(kind, _object(_object(policy, schedule), "retentionDuration"))
        for kind, schedule in _LONG_TERM_SCHEDULES
        if isinstance(policy.get(schedule), Mapping)
    )


def _schedule_times(schedule: Mapping[str, Any]) -> tuple[str, ...]:
    """Run times of a SimpleSchedulePolicy, or of the daily/weekly part of a SimpleSchedulePolicyV2."""
    times = _strings(schedule, "scheduleRunTimes")
    for part in ("dailySchedule", "weeklySchedule"):
        times = times or _strings(_object(schedule, part), "scheduleRunTimes")
    return times


def _schedule_days(schedule: Mapping[str, Any]) -> tuple[str, ...]:
    return _strings(schedule, "scheduleRunDays") or _strings(_object(schedule, "weeklySchedule"), "scheduleRunDays")


def sub_policy(raw: Mapping[str, Any]) -> SubPolicy:
    """One schedule of a workload policy (Full, Differential, Incremental or Log)."""
    schedule = _object(raw, "schedulePolicy")
    return SubPolicy(
        policy_type=_string(raw, "policyType") or "",
        schedule_frequency=_string(schedule, "scheduleRunFrequency"),
        schedule_days=_schedule_days(schedule),
        schedule_times=_schedule_times(schedule),
        frequency_minutes=_int(schedule, "scheduleFrequencyInMins"),
        retention=retention_rules(_object(raw, "retentionPolicy")),
    )


def backup_policy(policy: Any, vault: RecoveryVault) -> BackupPolicy:
    """A backup policy record, read from the raw properties so every policy type has one shape."""
    props = _raw(policy.properties)
    schedule = _object(props, "schedulePolicy")
    subs = props.get("subProtectionPolicy")
    return BackupPolicy(
        id=policy.id,
        name=policy.name,
        subscription_id=vault.subscription_id,
        resource_group=resource_group_of(policy.id),
        vault_id=vault.id,
        management_type=_string(props, "backupManagementType"),
        workload_type=_string(props, "workLoadType"),
        schedule_frequency=_string(schedule, "scheduleRunFrequency"),
        schedule_times=_schedule_times(schedule),
        hourly_interval=_int(_object(schedule, "hourlySchedule"), "interval"),
        retention=retention_rules(_object(props, "retentionPolicy")),
        sub_policies=tuple(sub_policy(s) for s in subs if isinstance(s, Mapping)) if isinstance(subs, list) else (),
        instant_rp_retention_days=_int(props, "instantRpRetentionRangeInDays"),
        protected_items=_int(props, "protectedItemsCount"),
        location=policy.location or "",
    )


def list_backup_policies(session: AzureSession, vault: RecoveryVault) -> Iterator[BackupPolicy]:
    """Every backup policy of one vault."""
    for policy in _backup(session, vault.subscription_id).backup_policies.list(vault.name, vault.resource_group):
        yield backup_policy(policy, vault)


def protected_item(item: Any, vault: RecoveryVault) -> ProtectedItem:
    """A protected item record from raw properties: SDK 11.2 drops the typed fields of VM items."""
    props = _raw(item.properties)
    return ProtectedItem(
        id=item.id,
        name=item.name or name_of(item.id),
        subscription_id=vault.subscription_id,
        resource_group=resource_group_of(item.id),
        vault_id=vault.id,
        item_type=_string(props, "protectedItemType"),
        # VM items report the VM twice; older ones only as virtualMachineId.
        source_resource_id=_string(props, "sourceResourceId") or _string(props, "virtualMachineId"),
        policy_id=_string(props, "policyId"),
        protection_state=_string(props, "protectionState"),
        protection_status=_string(props, "protectionStatus"),
        # Workload items (SQL in a VM) report their health under another name.
        health_status=_string(props, "healthStatus") or _string(props, "protectedItemHealthStatus"),
        last_backup_status=_string(props, "lastBackupStatus"),
        last_backup_time=_string(props, "lastBackupTime"),
        workload_type=_string(props, "workloadType"),
        friendly_name=_string(props, "friendlyName"),
        location=item.location or "",
    )


def list_protected_items(session: AzureSession, vault: RecoveryVault) -> Iterator[ProtectedItem]:
    """Every item one vault protects, across all its fabrics and containers."""
    client = _backup(session, vault.subscription_id)
    for item in client.backup_protected_items.list(vault.name, vault.resource_group):
        yield protected_item(item, vault)


STEPS = (
    Listing("Microsoft.RecoveryServices/vaults", "recovery_vaults", list_recovery_vaults),
    Enrichment(
        "Microsoft.RecoveryServices/vaults/backupstorageconfig",
        "recovery_vaults",
        with_storage_config,
        applies=lambda vault: vault.storage_redundancy is None or vault.cross_region_restore is None,
    ),
    PerParent(
        "Microsoft.RecoveryServices/vaults/backupPolicies", "recovery_vaults", "backup_policies", list_backup_policies
    ),
    PerParent(
        "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        "recovery_vaults",
        "protected_items",
        list_protected_items,
    ),
)
