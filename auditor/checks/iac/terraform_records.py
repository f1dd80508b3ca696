"""Terraform (azurerm) resources, as checkov parses them, turned into the records the live checks judge."""

from __future__ import annotations

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
from auditor.records.compute import Disk, DiskEncryption, DiskEncryptionSet
from auditor.records.keyvault import KeyVault
from auditor.records.network import SecurityRule
from auditor.records.sql import SqlDatabase
from auditor.records.storage import StorageAccount
from auditor.records.web import WebApp

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


# --- App Service sites (ENC-04 app_service_https_tls) --------------------------------------------------

# The attribute of the site_config block that holds the minimum TLS version, per resource type.
# azurerm documents both defaults: https_only "Defaults to false"; site_config minimum_tls_version
# (azurerm_linux_web_app, azurerm_windows_web_app) "Defaults to 1.2"; min_tls_version on the deprecated
# azurerm_app_service "Defaults to 1.2 for new app services".
WEB_APP_TLS_ATTRIBUTE = {
    "azurerm_linux_web_app": "minimum_tls_version",
    "azurerm_windows_web_app": "minimum_tls_version",
    "azurerm_app_service": "min_tls_version",
}
WEB_APP_DEFAULT_HTTPS_ONLY = False
WEB_APP_DEFAULT_MIN_TLS_VERSION = "1.2"


def web_app(resource_type: str, conf: Mapping[str, Any]) -> WebApp:
    """An App Service site with the provider's defaults; a value left to an expression is unknown (None)."""
    what = address(conf)
    try:
        https_only = tf_bool(conf, "https_only", what, default=WEB_APP_DEFAULT_HTTPS_ONLY)
    except UndecidableError:
        https_only = None
    configs = tf_blocks(conf, "site_config")
    attribute = WEB_APP_TLS_ATTRIBUTE[resource_type]
    version = tf_value(configs[0], attribute) if configs else None
    if version is None:
        min_tls: str | None = WEB_APP_DEFAULT_MIN_TLS_VERSION
    else:
        min_tls = None if is_terraform_expression(version) else str(version)
    return WebApp(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        kind="app,linux" if resource_type == "azurerm_linux_web_app" else "app",
        https_only=https_only,
        min_tls_version=min_tls,
    )
