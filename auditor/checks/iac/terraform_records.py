"""Terraform (azurerm) resources, as checkov parses them, turned into the records the live checks judge."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from typing import Any

from auditor.checks.iac.conf_values import (
    UndecidableError,
    is_terraform_expression,
    tf_blocks,
    tf_bool,
    tf_int,
    tf_literal,
    tf_strings,
    tf_value,
)
from auditor.records.backup import BackupPolicy, RecoveryVault, RetentionRule, SubPolicy
from auditor.records.compute import Disk, DiskEncryption, DiskEncryptionSet, ImageReference, VirtualMachine, VmExtension
from auditor.records.keyvault import KeyVault
from auditor.records.network import SecurityRule
from auditor.records.sql import SqlDatabase
from auditor.records.storage import StorageAccount

NSG = "azurerm_network_security_group"
NSG_RULE = "azurerm_network_security_rule"

# Retention blocks of azurerm backup policies: block name -> (kind as the live records name it, unit).
_RETENTION_BLOCKS = {
    "retention_daily": ("daily", "Days"),
    "retention_weekly": ("weekly", "Weeks"),
    "retention_monthly": ("monthly", "Months"),
    "retention_yearly": ("yearly", "Years"),
    "simple_retention": ("simple", "Days"),
}
# Azure SQL Database keeps point-in-time backups 7 days unless short_term_retention_policy says otherwise.
AZURE_SQL_DEFAULT_SHORT_TERM_DAYS = 7


def address(conf: Mapping[str, Any]) -> str:
    """The resource address checkov gives the configuration (``module.net.azurerm_x.y``)."""
    value = conf.get("__address__")
    return str(value) if value else str(tf_value(conf, "name") or "")


def _name(conf: Mapping[str, Any]) -> str:
    value = tf_value(conf, "name")
    return str(value) if value is not None else address(conf)


def security_rule(conf: Mapping[str, Any], what: str) -> SecurityRule:
    """One security rule (an inline ``security_rule`` block or an ``azurerm_network_security_rule``)."""
    name = str(tf_literal(conf, "name", what) or "unnamed")
    here = f"{what} rule {name}"
    priority = tf_int(conf, "priority", here)
    direction = tf_literal(conf, "direction", here)
    access = tf_literal(conf, "access", here)
    protocol = tf_literal(conf, "protocol", here)
    if priority is None or direction is None or access is None or protocol is None:
        raise UndecidableError(f"{here} lacks priority, direction, access or protocol")
    return SecurityRule(
        name=name,
        priority=priority,
        direction=str(direction),
        access=str(access),
        protocol=str(protocol),
        source_prefixes=tf_strings(conf, "source_address_prefix", here)
        + tf_strings(conf, "source_address_prefixes", here),
        destination_ports=tf_strings(conf, "destination_port_range", here)
        + tf_strings(conf, "destination_port_ranges", here),
        source_asg_ids=tf_strings(conf, "source_application_security_group_ids", here),
        destination_prefixes=tf_strings(conf, "destination_address_prefix", here)
        + tf_strings(conf, "destination_address_prefixes", here),
        description=str(tf_value(conf, "description") or ""),
    )


def security_rules(resource_type: str, conf: Mapping[str, Any]) -> tuple[SecurityRule, ...]:
    """The rules an NSG declares inline, or the one rule an ``azurerm_network_security_rule`` is."""
    what = address(conf)
    if resource_type == NSG_RULE:
        return (security_rule(conf, what),)
    for dynamic in tf_blocks(conf, "dynamic"):
        if "security_rule" in dynamic:
            raise UndecidableError(f"{what} builds security_rule blocks dynamically from values not known in the code")
    return tuple(security_rule(block, what) for block in tf_blocks(conf, "security_rule"))


def key_vault(conf: Mapping[str, Any]) -> KeyVault:
    """An ``azurerm_key_vault`` with the provider's defaults for what the code leaves out."""
    what = address(conf)
    acls = tf_blocks(conf, "network_acls")
    public = tf_bool(conf, "public_network_access_enabled", what, default=True)
    rbac = tf_bool(conf, "rbac_authorization_enabled", what, default=None)
    if rbac is None:
        # azurerm 3.x names it enable_rbac_authorization; 4.x rbac_authorization_enabled.
        rbac = tf_bool(conf, "enable_rbac_authorization", what, default=False)
    retention = tf_int(conf, "soft_delete_retention_days", what)
    return KeyVault(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        # Soft delete cannot be turned off since azurerm 3.0; older configurations may still say so.
        soft_delete_enabled=tf_bool(conf, "soft_delete_enabled", what, default=True),
        soft_delete_retention_days=90 if retention is None else retention,
        purge_protection_enabled=tf_bool(conf, "purge_protection_enabled", what, default=False),
        rbac_authorization_enabled=rbac,
        public_network_access="Enabled" if public else "Disabled",
        network_default_action=str(tf_literal(acls[0], "default_action", what) or "") or None if acls else None,
    )


def managed_disk(conf: Mapping[str, Any]) -> tuple[Disk, tuple[DiskEncryptionSet, ...]]:
    """An ``azurerm_managed_disk`` and the disk encryption set it names, if any.

    azurerm_disk_encryption_set requires a Key Vault key (key_vault_key_id), so a set named in the code
    stands for a customer-managed key held in Key Vault.
    """
    what = address(conf)
    set_id = tf_value(conf, "disk_encryption_set_id")
    confidential_set_id = tf_value(conf, "secure_vm_disk_encryption_set_id")
    chosen = set_id or confidential_set_id
    if set_id:
        kind = "EncryptionAtRestWithCustomerKey"
    elif confidential_set_id:
        kind = "ConfidentialVmEncryptedWithCustomerKey"
    else:
        kind = "EncryptionAtRestWithPlatformKey"
    settings = tf_blocks(conf, "encryption_settings")
    secret_urls: tuple[str, ...] = ()
    key_urls: tuple[str, ...] = ()
    ade: bool | None = False
    if settings:
        block = settings[0]
        ade = tf_bool(block, "enabled", what, default=True)
        secret_urls = tuple(str(u) for k in tf_blocks(block, "disk_encryption_key") if (u := tf_value(k, "secret_url")))
        key_urls = tuple(str(u) for k in tf_blocks(block, "key_encryption_key") if (u := tf_value(k, "key_url")))
    disk = Disk(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        os_type=str(tf_value(conf, "os_type") or "") or None,
        encryption=DiskEncryption(
            encryption_type=kind,
            disk_encryption_set_id=str(chosen) if chosen else None,
            ade_enabled=ade,
            ade_secret_urls=secret_urls,
            ade_key_urls=key_urls,
        ),
    )
    sets = (
        (
            DiskEncryptionSet(
                id=str(chosen),
                name=str(chosen),
                subscription_id="",
                resource_group="",
                location="",
                encryption_type=kind,
                active_key_url=f"the key_vault_key_id of {chosen}",
            ),
        )
        if chosen
        else ()
    )
    return disk, sets


def storage_account(conf: Mapping[str, Any]) -> tuple[StorageAccount, bool]:
    """An ``azurerm_storage_account``, and whether its location is known from the code."""
    what = address(conf)
    tier = tf_literal(conf, "account_tier", what) or "Standard"
    replication = tf_literal(conf, "account_replication_type", what)
    location = tf_value(conf, "location")
    known = location is not None and not isinstance(location, list) and not is_terraform_expression(location)
    return (
        StorageAccount(
            id=what,
            name=_name(conf),
            subscription_id="",
            resource_group=str(tf_value(conf, "resource_group_name") or ""),
            location=str(location) if known else "",
            sku=f"{tier}_{replication}" if replication else None,
            kind=str(tf_value(conf, "account_kind") or "StorageV2"),
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
    """An ``azurerm_recovery_services_vault``; storage_mode_type defaults to GeoRedundant."""
    what = address(conf)
    return RecoveryVault(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        public_network_access=None,
        cmk_key_uri=None,
        infrastructure_encryption=None,
        storage_redundancy=str(tf_literal(conf, "storage_mode_type", what) or "GeoRedundant"),
        cross_region_restore=tf_bool(conf, "cross_region_restore_enabled", what, default=False),
    )


def _retention(conf: Mapping[str, Any], what: str) -> tuple[RetentionRule, ...]:
    rules: list[RetentionRule] = []
    for block_name, (kind, unit) in _RETENTION_BLOCKS.items():
        for block in tf_blocks(conf, block_name):
            rules.append(RetentionRule(kind, tf_int(block, "count", f"{what} {block_name}"), unit))
    return tuple(rules)


def vm_backup_policy(conf: Mapping[str, Any]) -> BackupPolicy:
    """An ``azurerm_backup_policy_vm``: its schedule and retention."""
    what = address(conf)
    backup = tf_blocks(conf, "backup")
    schedule = backup[0] if backup else {}
    time = tf_value(schedule, "time")
    return BackupPolicy(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        vault_id=str(tf_value(conf, "recovery_vault_name") or ""),
        management_type="AzureIaasVM",
        schedule_frequency=str(tf_literal(schedule, "frequency", what)) if backup else None,
        schedule_times=(str(time),) if time else (),
        hourly_interval=tf_int(schedule, "hour_interval", what),
        retention=_retention(conf, what),
        instant_rp_retention_days=tf_int(conf, "instant_restore_retention_days", what),
    )


def workload_backup_policy(conf: Mapping[str, Any]) -> BackupPolicy:
    """An ``azurerm_backup_policy_vm_workload`` with one sub-policy per protection_policy block."""
    what = address(conf)
    subs: list[SubPolicy] = []
    for block in tf_blocks(conf, "protection_policy"):
        kind = str(tf_literal(block, "policy_type", what) or "")
        here = f"{what} {kind} protection_policy"
        backup = tf_blocks(block, "backup")
        schedule = backup[0] if backup else {}
        time = tf_value(schedule, "time")
        subs.append(
            SubPolicy(
                policy_type=kind,
                schedule_frequency=str(tf_literal(schedule, "frequency", here) or "") or None,
                schedule_days=tf_strings(schedule, "weekdays", here),
                schedule_times=(str(time),) if time else (),
                frequency_minutes=tf_int(schedule, "frequency_in_minutes", here),
                retention=_retention(block, here),
            )
        )
    return BackupPolicy(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        vault_id=str(tf_value(conf, "recovery_vault_name") or ""),
        management_type="AzureWorkload",
        workload_type=str(tf_literal(conf, "workload_type", what) or "") or None,
        sub_policies=tuple(subs),
    )


def sql_database(conf: Mapping[str, Any]) -> SqlDatabase:
    """An ``azurerm_mssql_database`` with its point-in-time and long-term retention."""
    what = address(conf)
    long_term = tf_blocks(conf, "long_term_retention_policy")
    short_term = tf_blocks(conf, "short_term_retention_policy")
    ltr = long_term[0] if long_term else {}
    short_days = tf_int(short_term[0], "retention_days", what) if short_term else None
    return SqlDatabase(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group="",
        location="",
        server_id=str(tf_value(conf, "server_id") or ""),
        sku=str(tf_value(conf, "sku_name") or "") or None,
        short_term_retention_days=AZURE_SQL_DEFAULT_SHORT_TERM_DAYS if short_days is None else short_days,
        # No long-term retention policy is what Azure reports as PT0S.
        ltr_weekly=str(tf_literal(ltr, "weekly_retention", what) or "PT0S"),
        ltr_monthly=str(tf_literal(ltr, "monthly_retention", what) or "") or None,
        ltr_yearly=str(tf_literal(ltr, "yearly_retention", what) or "") or None,
    )


# --- ENC-05, ENC-06, EP-01: databases, VM images and VM extensions -----------------------------------------

WINDOWS_VM = "azurerm_windows_virtual_machine"
LINUX_VM = "azurerm_linux_virtual_machine"
LEGACY_VM = "azurerm_virtual_machine"
# terraform apply fails when an extension does not provision, so an extension in applied code has provisioned.
APPLIED = "Succeeded"
# The extension whose public settings say whether its protection is on (AntimalwareEnabled).
MICROSOFT_ANTIMALWARE = ("microsoft.azure.security", "iaasantimalware")
_JSONENCODE = re.compile(r"^\$\{jsonencode\((?P<body>.*)\)\}$", re.DOTALL)


def mssql_database_tde(conf: Mapping[str, Any]) -> SqlDatabase:
    """An ``azurerm_mssql_database`` with its TDE state.

    transparent_data_encryption_enabled "Defaults to true" (azurerm provider docs, mssql_database), as
    Azure SQL enables TDE on every new database (Microsoft's TDE overview).
    """
    what = address(conf)
    enabled = tf_bool(conf, "transparent_data_encryption_enabled", what, default=True)
    return SqlDatabase(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group="",
        location="",
        server_id=str(tf_value(conf, "server_id") or ""),
        sku=str(tf_value(conf, "sku_name") or "") or None,
        tde_state="Enabled" if enabled else "Disabled",
    )


def _image_reference(conf: Mapping[str, Any], block: str, what: str) -> ImageReference:
    """A marketplace image reference block; empty for a custom or gallery image (source_image_id, or id)."""
    blocks = tf_blocks(conf, block)
    if not blocks or tf_value(blocks[0], "id"):
        return ImageReference()
    reference = blocks[0]
    here = f"{what} {block}"
    parts = [tf_literal(reference, part, here) for part in ("publisher", "offer", "sku", "version")]
    publisher, offer, sku, version = (str(p) if p is not None else None for p in parts)
    return ImageReference(publisher, offer, sku, version)


def _vm_os_type(resource_type: str, conf: Mapping[str, Any], what: str) -> str | None:
    if resource_type == WINDOWS_VM:
        return "Windows"
    if resource_type == LINUX_VM:
        return "Linux"
    disks = tf_blocks(conf, "storage_os_disk")
    declared = tf_literal(disks[0], "os_type", what) if disks else None
    if declared:
        return str(declared)
    if tf_blocks(conf, "os_profile_windows_config"):
        return "Windows"
    return "Linux" if tf_blocks(conf, "os_profile_linux_config") else None


def image_vm(resource_type: str, conf: Mapping[str, Any]) -> VirtualMachine:
    """A VM resource (Windows, Linux or the legacy azurerm_virtual_machine) with the image it is built from."""
    what = address(conf)
    block = "storage_image_reference" if resource_type == LEGACY_VM else "source_image_reference"
    return VirtualMachine(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        os_type=_vm_os_type(resource_type, conf, what),
        image=_image_reference(conf, block, what),
        os_disk=None,
    )


def json_object(conf: Mapping[str, Any], key: str, what: str) -> Mapping[str, Any] | None:
    """A JSON object attribute (a heredoc, a string or ``jsonencode({...})`` of literals); None when absent."""
    value = tf_value(conf, key)
    if value is None or isinstance(value, dict):
        return value
    text = str(value).strip()
    encoded = _JSONENCODE.match(text)
    try:
        parsed = ast.literal_eval(encoded["body"]) if encoded else json.loads(text)
    except (ValueError, SyntaxError):
        raise UndecidableError(f"{what} {key} is {text!r}, not a JSON object known in the code") from None
    if not isinstance(parsed, dict):
        raise UndecidableError(f"{what} {key} is {text!r}, not a JSON object")
    return parsed


def vm_extension(conf: Mapping[str, Any]) -> VmExtension:
    """An ``azurerm_virtual_machine_extension`` as the VM it is declared on would list it, once applied."""
    what = address(conf)
    publisher = tf_literal(conf, "publisher", what)
    kind = tf_literal(conf, "type", what)
    enabled: bool | None = None
    if (str(publisher).lower(), str(kind).lower()) == MICROSOFT_ANTIMALWARE:
        settings = json_object(conf, "settings", what) or {}
        enabled = tf_bool(settings, "AntimalwareEnabled", f"{what} settings", default=None)
    return VmExtension(
        name=_name(conf),
        publisher=str(publisher) if publisher is not None else None,
        extension_type=str(kind) if kind is not None else None,
        provisioning_state=APPLIED,
        type_handler_version=str(tf_value(conf, "type_handler_version") or "") or None,
        antimalware_enabled=enabled,
    )


def extension_vm(conf: Mapping[str, Any]) -> VirtualMachine:
    """The VM an extension resource is declared on, as far as the extension shows it: with that one extension."""
    what = address(conf)
    return VirtualMachine(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group="",
        location="",
        os_type=None,
        image=ImageReference(),
        os_disk=None,
        extensions=(vm_extension(conf),),
        extensions_known=True,
    )
