"""ARM template and Bicep resources, as checkov parses them, turned into the records the live checks judge.

checkov runs ARM checks on Bicep too, handing them the resource body with the same property names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from auditor.checks.iac.conf_values import (
    UndecidableError,
    arm_bool,
    arm_get,
    arm_int,
    arm_literal,
    arm_strings,
    is_arm_expression,
)
from auditor.checks.iac.region_pairs import declared_backup_account
from auditor.checks.recovery import BackupAccount
from auditor.collect.backup import backup_policy as collected_backup_policy
from auditor.collect.sql import sql_virtual_machine as collected_sql_virtual_machine
from auditor.collect.sql import with_auto_backup_settings, with_long_term_retention_body
from auditor.records.backup import BackupPolicy, RecoveryVault
from auditor.records.compute import Disk, DiskEncryption, DiskEncryptionSet
from auditor.records.keyvault import KeyVault
from auditor.records.network import SecurityRule
from auditor.records.sql import SqlDatabase, SqlVirtualMachine
from auditor.records.storage import StorageAccount

NSG = "Microsoft.Network/networkSecurityGroups"
NSG_RULE = "Microsoft.Network/networkSecurityGroups/securityRules"
CUSTOMER_KEY = "EncryptionAtRestWithCustomerKey"
PLATFORM_KEY = "EncryptionAtRestWithPlatformKey"


def _name(conf: Mapping[str, Any]) -> str:
    return str(conf.get("name") or "")


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def security_rule(rule: Mapping[str, Any], what: str) -> SecurityRule:
    """One rule: an element of ``properties.securityRules`` or a ``securityRules`` child resource."""
    if not isinstance(rule, dict):
        raise UndecidableError(f"{what} has a security rule that is not an object ({rule!r})")
    name = _name(rule) or "unnamed"
    here = f"{what} rule {name}"
    priority = arm_int(rule, "properties/priority", here)
    direction = arm_literal(rule, "properties/direction", here)
    access = arm_literal(rule, "properties/access", here)
    protocol = arm_literal(rule, "properties/protocol", here)
    if priority is None or direction is None or access is None or protocol is None:
        raise UndecidableError(f"{here} lacks priority, direction, access or protocol")
    groups = arm_get(rule, "properties/sourceApplicationSecurityGroups") or []
    return SecurityRule(
        name=name,
        priority=priority,
        direction=str(direction),
        access=str(access),
        protocol=str(protocol),
        source_prefixes=arm_strings(rule, "properties/sourceAddressPrefix", here)
        + arm_strings(rule, "properties/sourceAddressPrefixes", here),
        destination_ports=arm_strings(rule, "properties/destinationPortRange", here)
        + arm_strings(rule, "properties/destinationPortRanges", here),
        source_asg_ids=tuple(str(g.get("id")) for g in groups if isinstance(g, dict)),
        destination_prefixes=arm_strings(rule, "properties/destinationAddressPrefix", here)
        + arm_strings(rule, "properties/destinationAddressPrefixes", here),
        description=str(arm_get(rule, "properties/description") or ""),
    )


def security_rules(resource_type: str, conf: Mapping[str, Any]) -> tuple[SecurityRule, ...]:
    """The rules an NSG declares in ``properties.securityRules``, or the one rule a child resource is."""
    what = _name(conf)
    if resource_type == NSG_RULE:
        return (security_rule(conf, what),)
    rules = arm_literal(conf, "properties/securityRules", what) or []
    if not isinstance(rules, list):
        raise UndecidableError(f"{what} properties.securityRules is {rules!r}, not a list of rules")
    return tuple(security_rule(rule, what) for rule in rules)


def key_vault(conf: Mapping[str, Any]) -> KeyVault:
    """A ``Microsoft.KeyVault/vaults`` resource with the platform defaults for what it leaves out."""
    what = _name(conf)
    soft_delete = arm_bool(conf, "properties/enableSoftDelete", what)
    retention = arm_int(conf, "properties/softDeleteRetentionInDays", what)
    return KeyVault(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        # Soft delete is on unless the template turns it off, with 90 days' retention.
        soft_delete_enabled=True if soft_delete is None else soft_delete,
        soft_delete_retention_days=90 if retention is None else retention,
        purge_protection_enabled=arm_bool(conf, "properties/enablePurgeProtection", what),
        rbac_authorization_enabled=arm_bool(conf, "properties/enableRbacAuthorization", what),
        public_network_access=_text(arm_literal(conf, "properties/publicNetworkAccess", what)),
        network_default_action=_text(arm_literal(conf, "properties/networkAcls/defaultAction", what)),
    )


def managed_disk(conf: Mapping[str, Any]) -> tuple[Disk, tuple[DiskEncryptionSet, ...]]:
    """A ``Microsoft.Compute/disks`` resource and the disk encryption set it names, if any."""
    what = _name(conf)
    set_id = _text(arm_get(conf, "properties/encryption/diskEncryptionSetId"))
    kind = _text(arm_literal(conf, "properties/encryption/type", what)) or (CUSTOMER_KEY if set_id else PLATFORM_KEY)
    collection = arm_get(conf, "properties/encryptionSettingsCollection") or {}
    settings = [s for s in (arm_get(collection, "encryptionSettings") or []) if isinstance(s, dict)]
    ade = arm_bool(collection, "enabled", what) if collection else False
    disk = Disk(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        os_type=_text(arm_get(conf, "properties/osType")),
        encryption=DiskEncryption(
            encryption_type=kind,
            disk_encryption_set_id=set_id,
            ade_enabled=ade,
            ade_secret_urls=tuple(str(url) for s in settings if (url := arm_get(s, "diskEncryptionKey/secretUrl"))),
            ade_key_urls=tuple(str(url) for s in settings if (url := arm_get(s, "keyEncryptionKey/keyUrl"))),
        ),
    )
    # A disk encryption set always names its Key Vault key (activeKey), so one named here stands for it.
    sets = (
        (
            DiskEncryptionSet(
                id=set_id,
                name=set_id,
                subscription_id="",
                resource_group="",
                location="",
                encryption_type=kind,
                active_key_url=f"the activeKey of {set_id}",
            ),
        )
        if set_id
        else ()
    )
    return disk, sets


def storage_account(conf: Mapping[str, Any]) -> tuple[StorageAccount, bool]:
    """A ``Microsoft.Storage/storageAccounts`` resource, and whether its location is known from the code."""
    what = _name(conf)
    location = conf.get("location")
    known = isinstance(location, str) and bool(location) and not is_arm_expression(location)
    return (
        StorageAccount(
            id=what,
            name=what,
            subscription_id="",
            resource_group="",
            location=str(location) if known else "",
            sku=_text(arm_literal(conf, "sku/name", what)),
            kind=_text(conf.get("kind")),
            allow_blob_public_access=None,
            public_network_access=None,
            network_default_action=None,
            https_only=None,
            minimum_tls_version=None,
            key_source=None,
        ),
        known,
    )


def recovery_vault(conf: Mapping[str, Any]) -> RecoveryVault:
    """A ``Microsoft.RecoveryServices/vaults`` resource; its storage is geo-redundant unless it says otherwise."""
    what = _name(conf)
    redundancy = arm_literal(conf, "properties/redundancySettings/standardTierStorageRedundancy", what)
    return RecoveryVault(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        public_network_access=_text(arm_get(conf, "properties/publicNetworkAccess")),
        cmk_key_uri=None,
        infrastructure_encryption=None,
        storage_redundancy=_text(redundancy) or "GeoRedundant",
        cross_region_restore=None,
    )


# --- recovery (BAK-01, BAK-02, BAK-04) -------------------------------------------------------------
BACKUP_POLICY = "Microsoft.RecoveryServices/vaults/backupPolicies"
RECOVERY_VAULT = "Microsoft.RecoveryServices/vaults"
VAULT_STORAGE_CONFIG = "Microsoft.RecoveryServices/vaults/backupstorageconfig"
STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
SQL_VIRTUAL_MACHINE = "Microsoft.SqlVirtualMachine/sqlVirtualMachines"
LONG_TERM_RETENTION = "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies"
# A template resource's body is the body ARM GET returns, so the live collectors' builders read it; only the
# id (which ARM assigns) is stood in for, and an expression anywhere in the properties is not known.


def _no_expressions(value: object, where: str, what: str) -> None:
    """UndecidableError naming the first template expression in a body, which only deployment resolves."""
    if is_arm_expression(value):
        raise UndecidableError(f"{what} {where} is the expression {value!r}, resolved only at deployment")
    if isinstance(value, dict):
        for name, item in value.items():
            _no_expressions(item, f"{where}/{name}", what)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_expressions(item, f"{where}/{index}", what)


def _leaf_name(conf: Mapping[str, Any]) -> str:
    """The resource's own name: a child's last segment (``vault/policy`` -> ``policy``)."""
    return _name(conf).rsplit("/", 1)[-1]


def _as_got(conf: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    """The template resource as ARM GET would return it: its own name, and an id standing in for ARM's."""
    name = _name(conf)
    return dict(conf) | {"name": _leaf_name(conf), "id": f"/template/providers/{resource_type}/{name}"}


def _vault(vault_id: str, name: str, conf: Mapping[str, Any]) -> RecoveryVault:
    """The vault a child resource belongs to, as far as the child names it."""
    return RecoveryVault(
        id=vault_id,
        name=name,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        public_network_access=None,
        cmk_key_uri=None,
        infrastructure_encryption=None,
        storage_redundancy=None,
        cross_region_restore=None,
    )


def backup_storage_account(conf: Mapping[str, Any]) -> BackupAccount:
    """A ``Microsoft.Storage/storageAccounts`` resource as backup storage, with the regions Azure will report."""
    account, _ = storage_account(conf)
    return declared_backup_account(account)


def vault_storage_config(conf: Mapping[str, Any]) -> RecoveryVault:
    """A vault's ``backupstorageconfig`` child: the vault's storage redundancy as that resource sets it."""
    what = _name(conf)
    _no_expressions(conf.get("properties"), "properties", what)
    vault = what.split("/", 1)[0]
    redundancy = _text(arm_get(conf, "properties/storageModelType")) or _text(arm_get(conf, "properties/storageType"))
    return dataclasses.replace(
        _vault(vault, vault, conf),
        storage_redundancy=redundancy,
        cross_region_restore=arm_bool(conf, "properties/crossRegionRestoreFlag", what),
    )


def backup_policy(conf: Mapping[str, Any]) -> BackupPolicy:
    """A ``Microsoft.RecoveryServices/vaults/backupPolicies`` resource (Azure VM or SQL workload policy),
    read by the live collector's own builder."""
    what = _name(conf)
    _no_expressions(conf.get("properties"), "properties", what)
    vault_name = what.split("/", 1)[0] if "/" in what else ""
    vault = _vault(f"/template/providers/{RECOVERY_VAULT}/{vault_name}", vault_name, conf)
    return collected_backup_policy(_as_got(conf, "Microsoft.RecoveryServices/vaults/backupPolicies"), vault)


def long_term_retention(conf: Mapping[str, Any]) -> SqlDatabase:
    """A database's ``backupLongTermRetentionPolicies`` child, read by the live collector's own builder: the
    database's long-term retention as that resource sets it.

    A weekly retention the resource leaves out is none, which Azure reports as ``PT0S``; point-in-time
    retention is another resource's, so it is not known here.
    """
    what = _name(conf)
    _no_expressions(conf.get("properties"), "properties", what)
    parts = what.split("/")
    database = SqlDatabase(
        id=what,
        name=parts[1] if len(parts) >= 2 else what,
        subscription_id="",
        resource_group="",
        location="",
        server_id=parts[0] if len(parts) >= 2 else "",
        sku=None,
    )
    read = with_long_term_retention_body(conf, database)
    return dataclasses.replace(read, ltr_weekly=read.ltr_weekly or "PT0S")


def sql_virtual_machine(conf: Mapping[str, Any]) -> SqlVirtualMachine:
    """A ``Microsoft.SqlVirtualMachine/sqlVirtualMachines`` resource with its ``autoBackupSettings``, read by
    the live collector's own builders."""
    what = _name(conf)
    _no_expressions(arm_get(conf, "properties/autoBackupSettings"), "properties/autoBackupSettings", what)
    body = _as_got(conf, "Microsoft.SqlVirtualMachine/sqlVirtualMachines")
    return with_auto_backup_settings(body, collected_sql_virtual_machine(body, ""))
