"""Backup collector: Recovery Services vaults, backup policies and protected items."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import name_of, resource_group_of
from auditor.collect.base import (
    TAGS_FIELD,
    UNKNOWN,
    Enrichment,
    Field,
    Listing,
    PerParent,
    Reader,
    arm_pipeline,
    build_all,
    child_reader,
    get_object,
    list_objects,
    path,
    resource_id,
    resource_path,
    tags_of,
)
from auditor.collect.clients import BACKUP_CLIENT, RECOVERY_SERVICES_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.backup import BackupPolicy, ProtectedItem, RecoveryVault, RetentionRule, SubPolicy

# The schedules of a LongTermRetentionPolicy, by the RetentionRule kind they become.
_LONG_TERM_SCHEDULES = (
    ("daily", "dailySchedule"),
    ("weekly", "weeklySchedule"),
    ("monthly", "monthlySchedule"),
    ("yearly", "yearlySchedule"),
)


# The api-versions azure-mgmt-recoveryservices 4.3 and azure-mgmt-recoveryservicesbackup 11.2 send.
VAULTS_API_VERSION = "2026-11-01"
BACKUP_API_VERSION = "2026-10-01"
VAULTS_API = "Microsoft.RecoveryServices/vaults"

# https://learn.microsoft.com/rest/api/recoveryservices/vaults/get
VAULT_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.publicNetworkAccess", False, UNKNOWN),
    Field("properties.encryption.keyVaultProperties.keyUri", False, "platform-managed keys"),
    Field("properties.encryption.infrastructureEncryption", False, UNKNOWN),
    # Older api-versions omit redundancySettings; then the backup storage configuration is read.
    Field("properties.redundancySettings.standardTierStorageRedundancy", False, "read from backupstorageconfig"),
    Field("properties.redundancySettings.crossRegionRestore", False, "read from backupstorageconfig"),
    Field("properties.securitySettings.immutabilitySettings.state", False, UNKNOWN),
    Field("properties.securitySettings.softDeleteSettings.softDeleteState", False, UNKNOWN),
    TAGS_FIELD,
)
STORAGE_CONFIG_CONTRACT = (
    Field("properties.storageModelType | storageType", True),
    Field("properties.crossRegionRestoreFlag", False, UNKNOWN),
)
# https://learn.microsoft.com/rest/api/backup/protection-policies/get: policies are polymorphic by
# backupManagementType; every schedule and retention field is read where the type has it.
POLICY_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.backupManagementType", True),
    # Returned for AzureWorkload policies (required there), absent for the others.
    Field("properties.workLoadType", False, UNKNOWN),
    Field("properties.schedulePolicy", False, "a workload policy: schedules are in subProtectionPolicy"),
    Field("properties.retentionPolicy", False, "a workload policy: retention is in subProtectionPolicy"),
    Field("properties.subProtectionPolicy", False, "not a workload policy"),
    Field("properties.instantRpRetentionRangeInDays", False, UNKNOWN),
    Field("properties.protectedItemsCount", False, UNKNOWN),
)
PROTECTED_ITEM_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.protectedItemType", True),
    Field("properties.sourceResourceId | virtualMachineId", True),
    Field("properties.policyId", False, "no policy (protection stopped)"),
    Field("properties.protectionState", True),
    Field("properties.healthStatus | protectedItemHealthStatus", False, UNKNOWN),
    Field("properties.lastBackupStatus", False, "never backed up"),
    Field("properties.lastBackupTime", False, "never backed up"),
)


def _vaults(session: AzureSession, subscription_id: str) -> Any:
    return arm_pipeline(session, RECOVERY_SERVICES_CLIENT, subscription_id)


def _backup(session: AzureSession, subscription_id: str) -> Any:
    return arm_pipeline(session, BACKUP_CLIENT, subscription_id)


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


def recovery_vault(raw: Mapping[str, Any], subscription_id: str) -> RecoveryVault:
    """A Recovery Services vault record; settings the vault does not report stay None."""
    vault = Reader(raw)
    vault_id = resource_id(vault, f"/subscriptions/{subscription_id}", VAULTS_API)
    props = vault.part("properties")
    restore = props.choice("redundancySettings.crossRegionRestore", ("Enabled", "Disabled"))
    return RecoveryVault(
        id=vault_id,
        name=vault.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(vault_id),
        location=vault.text("location") or "",
        public_network_access=props.text("publicNetworkAccess"),
        cmk_key_uri=props.text("encryption.keyVaultProperties.keyUri"),
        infrastructure_encryption=props.text("encryption.infrastructureEncryption"),
        storage_redundancy=props.text("redundancySettings.standardTierStorageRedundancy"),
        cross_region_restore=None if restore is None else restore == "Enabled",
        immutability=props.text("securitySettings.immutabilitySettings.state"),
        soft_delete=props.text("securitySettings.softDeleteSettings.softDeleteState"),
        tags=tags_of(raw),
        unreadable=vault.found(),
    )


def list_recovery_vaults(session: AzureSession, subscription_id: str) -> Iterator[RecoveryVault]:
    """Every Recovery Services vault of the subscription."""
    url = path("/subscriptions/{}/providers/" + VAULTS_API, subscription_id, api_version=VAULTS_API_VERSION)
    return build_all(
        list_objects(_vaults(session, subscription_id), session.arm_url, url), recovery_vault, subscription_id
    )


def with_storage_config(session: AzureSession, vault: RecoveryVault) -> RecoveryVault:
    """The vault with redundancy and cross-region restore read from its backup storage configuration.

    Vaults listed through older API versions carry no ``redundancySettings``; the storage configuration
    has said the same thing since the first backup API. Values the vault listing reported are kept.
    """
    url = (
        session.arm_url
        + resource_path(vault.id)
        + path("/backupstorageconfig/vaultstorageconfig", api_version=BACKUP_API_VERSION)
    )
    config = child_reader(vault, "backupstorageconfig", get_object(_backup(session, vault.subscription_id), url))
    redundancy = config.text("properties.storageModelType") or config.text("properties.storageType")
    restore = config.flag("properties.crossRegionRestoreFlag")
    return dataclasses.replace(
        vault,
        storage_redundancy=vault.storage_redundancy or redundancy,
        cross_region_restore=vault.cross_region_restore if vault.cross_region_restore is not None else restore,
        unreadable=config.found(),
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


def backup_policy(raw: Mapping[str, Any], vault: RecoveryVault) -> BackupPolicy:
    """A backup policy record, read from the raw properties so every policy type has one shape."""
    policy = Reader(raw)
    policy_id = resource_id(policy, vault.id, "backupPolicies")
    props = _object(raw, "properties")
    # The policy type decides which schedule and retention fields exist: without it nothing can be judged.
    kind = policy.text("properties.backupManagementType", required=True)
    if (kind or "").lower() == "azureworkload":
        # A workload policy names its workload (SQLDataBase, SAPHanaDatabase...); the checks select by it.
        policy.text("properties.workLoadType", required=True)
    schedule = _object(props, "schedulePolicy")
    subs = props.get("subProtectionPolicy")
    return BackupPolicy(
        id=policy_id,
        name=policy.text("name") or name_of(policy_id),
        subscription_id=vault.subscription_id,
        resource_group=resource_group_of(policy_id),
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
        location=policy.text("location") or "",
        unreadable=policy.found(),
    )


def list_backup_policies(session: AzureSession, vault: RecoveryVault) -> Iterator[BackupPolicy]:
    """Every backup policy of one vault."""
    url = resource_path(vault.id) + path("/backupPolicies", api_version=BACKUP_API_VERSION)
    for item in list_objects(_backup(session, vault.subscription_id), session.arm_url, url):
        yield backup_policy(item, vault)


def protected_item(raw: Mapping[str, Any], vault: RecoveryVault) -> ProtectedItem:
    """A protected item record from raw properties."""
    item = Reader(raw)
    item_id = resource_id(item, vault.id, "backupProtectedItems")
    props = _object(raw, "properties")
    return ProtectedItem(
        id=item_id,
        name=item.text("name") or name_of(item_id),
        subscription_id=vault.subscription_id,
        resource_group=resource_group_of(item_id),
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
        location=item.text("location") or "",
        unreadable=item.found(),
    )


def list_protected_items(session: AzureSession, vault: RecoveryVault) -> Iterator[ProtectedItem]:
    """Every item one vault protects, across all its fabrics and containers."""
    url = resource_path(vault.id) + path("/backupProtectedItems", api_version=BACKUP_API_VERSION)
    for item in list_objects(_backup(session, vault.subscription_id), session.arm_url, url):
        yield protected_item(item, vault)


STEPS = (
    Listing(VAULTS_API, "recovery_vaults", list_recovery_vaults),
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
