"""Terraform (azurerm) resources, as checkov parses them, turned into the records the live checks judge."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from auditor.arm_ids import name_of
from auditor.checks.disks import KeyedDisk, KeyedSnapshot
from auditor.checks.index import ById
from auditor.checks.key_vault import ProtectingKey
from auditor.checks.primitives import AZURE_DEFAULT_RULES
from auditor.checks.recovery import BackupAccount
from auditor.checks.roles import (
    BUILTIN_PRIVILEGED_ROLE_IDS_BY_NAME,
    BUILTIN_PRIVILEGED_ROLES,
    DeclaredAssignment,
    scope_level,
    subscription_of,
)
from auditor.checks.storage import BackupAwareAccount
from auditor.iac.conf_values import (
    UndecidableError,
    is_terraform_expression,
    tf_blocks,
    tf_bool,
    tf_int,
    tf_literal,
    tf_strings,
    tf_value,
)
from auditor.iac.region_pairs import declared_backup_account
from auditor.records.backup import BackupPolicy, RecoveryVault, RetentionRule, SubPolicy
from auditor.records.compute import (
    Disk,
    DiskEncryption,
    DiskEncryptionSet,
    ImageReference,
    Snapshot,
    VirtualMachine,
    VmExtension,
)
from auditor.records.identity import RoleAssignment
from auditor.records.keyvault import KeyVault, KeyVaultKey
from auditor.records.monitor import ActionGroup, AlertRule, DefenderPlan, SecurityContact
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    NatRule,
    NetworkSecurityGroup,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    VirtualNetwork,
    VirtualNetworkGateway,
)
from auditor.records.sql import AutomatedBackup, SqlDatabase, SqlVirtualMachine
from auditor.records.storage import StorageAccount
from auditor.records.web import WebApp

NSG = "azurerm_network_security_group"
NSG_RULE = "azurerm_network_security_rule"
RULE_COLLECTION_GROUP = "azurerm_firewall_policy_rule_collection_group"
FIREWALL_NAT_RULE_COLLECTION = "azurerm_firewall_nat_rule_collection"

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
                name=set_name(str(chosen)),
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


def set_name(set_id: str) -> str:
    """The name of a disk encryption set named by id in code: the id's last segment, or the expression itself."""
    return name_of(set_id) if set_id.startswith("/") else set_id


def keyed_disk(conf: Mapping[str, Any]) -> KeyedDisk:
    """An ``azurerm_managed_disk`` with the disk encryption set it names, as ENC-01 judges it."""
    disk, sets = managed_disk(conf)
    return KeyedDisk(disk, ById(sets))


def snapshot(conf: Mapping[str, Any]) -> KeyedSnapshot:
    """An ``azurerm_snapshot``: its Azure Disk Encryption settings and network access, provider defaults applied.

    azurerm_snapshot names no disk encryption set (its key at rest follows the source it copies), so the key
    is not known from the code unless Azure Disk Encryption settings name a Key Vault secret. The provider
    documents network_access_policy as defaulting to AllowAll and public_network_access_enabled to true.
    """
    what = address(conf)
    disk, _ = managed_disk(conf)
    public = tf_bool(conf, "public_network_access_enabled", what, default=True)
    source = tf_value(conf, "source_resource_id") or tf_value(conf, "source_uri")
    record = Snapshot(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        encryption=replace(disk.encryption, encryption_type=None, disk_encryption_set_id=None),
        source_resource_id=str(source) if source else None,
        public_network_access="Enabled" if public else "Disabled",
        network_access_policy=str(tf_literal(conf, "network_access_policy", what) or "AllowAll"),
    )
    return KeyedSnapshot(record, ById(()))


def encrypted_recovery_vault(conf: Mapping[str, Any]) -> RecoveryVault:
    """An ``azurerm_recovery_services_vault`` with its public access and ``encryption`` block.

    public_network_access_enabled defaults to true; key_id is required inside an encryption block, so a block
    names a Key Vault key (a reference to an azurerm_key_vault_key stands for it, as its id is the key URL).
    """
    what = address(conf)
    public = tf_bool(conf, "public_network_access_enabled", what, default=True)
    blocks = tf_blocks(conf, "encryption")
    key_id = tf_value(blocks[0], "key_id") if blocks else None
    infrastructure = tf_bool(blocks[0], "infrastructure_encryption_enabled", what, default=None) if blocks else None
    return RecoveryVault(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        storage_redundancy=str(tf_value(conf, "storage_mode_type") or "GeoRedundant"),
        cross_region_restore=None,
        public_network_access="Enabled" if public else "Disabled",
        cmk_key_uri=str(key_id) if key_id else None,
        infrastructure_encryption=None if infrastructure is None else ("Enabled" if infrastructure else "Disabled"),
    )


def _key_parts(key_id: str) -> tuple[str, str]:
    """A Key Vault key id split into the vault URI and the key name; an expression stands for both."""
    parsed = urlsplit(key_id)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.scheme == "https" and parsed.hostname and len(parts) >= 2 and parts[0] == "keys":
        return f"https://{parsed.hostname}/", parts[1]
    return f"the vault of {key_id}", key_id


def protected_storage_account(conf: Mapping[str, Any]) -> BackupAwareAccount:
    """An ``azurerm_storage_account`` with every setting ENC-03 reads, provider defaults applied.

    Defaults (azurerm 3.x and 4.x): allow_nested_items_to_be_public true, public_network_access_enabled true,
    https_traffic_only_enabled (3.x enable_https_traffic_only) true, min_tls_version TLS1_2; no network_rules
    block is Azure's default action Allow, and no customer_managed_key block is Microsoft-managed keys. Settings
    made by separate azurerm_storage_account_network_rules or _customer_managed_key resources are not this
    resource's, so they are not seen here. Which SQL VMs back up to the account is not in the account's code.
    """
    what = address(conf)
    https = tf_bool(conf, "https_traffic_only_enabled", what, default=None)
    if https is None:
        https = tf_bool(conf, "enable_https_traffic_only", what, default=True)
    rules = tf_blocks(conf, "network_rules")
    keys = tf_blocks(conf, "customer_managed_key")
    key_id = (tf_value(keys[0], "key_vault_key_id") or tf_value(keys[0], "managed_hsm_key_id")) if keys else None
    vault_uri, key_name = _key_parts(str(key_id)) if key_id else (None, None)
    public = tf_bool(conf, "public_network_access_enabled", what, default=True)
    action = (str(tf_literal(rules[0], "default_action", what) or "") or None) if rules else "Allow"
    tier, replication = tf_value(conf, "account_tier"), tf_value(conf, "account_replication_type")
    return BackupAwareAccount(
        StorageAccount(
            id=what,
            name=_name(conf),
            subscription_id="",
            resource_group=str(tf_value(conf, "resource_group_name") or ""),
            location=str(tf_value(conf, "location") or ""),
            sku=f"{tier}_{replication}" if tier and replication else None,
            kind=str(tf_value(conf, "account_kind") or "StorageV2"),
            allow_blob_public_access=tf_bool(conf, "allow_nested_items_to_be_public", what, default=True),
            public_network_access="Enabled" if public else "Disabled",
            network_default_action=action,
            https_only=https,
            minimum_tls_version=str(tf_literal(conf, "min_tls_version", what) or "TLS1_2"),
            key_source="Microsoft.Keyvault" if keys else "Microsoft.Storage",
            key_vault_uri=vault_uri,
            key_name=key_name,
        )
    )


# --- Defender for Cloud, Azure Monitor and Key Vault keys (MON-01, MON-02, MON-03, KV-02) ------------------

DEFENDER_TIERS = ("Free", "Standard")


def _on_off(value: bool | None) -> str | None:
    return None if value is None else "On" if value else "Off"


def _addresses(text: object) -> tuple[str, ...]:
    """E-mail addresses of a field that may list several, separated by ``;`` or ``,`` as Defender accepts."""
    return tuple(a.strip() for a in str(text or "").replace(",", ";").split(";") if a.strip())


def security_contact(conf: Mapping[str, Any]) -> SecurityContact:
    """An ``azurerm_security_center_contact``.

    The provider writes the 2017-08-01-preview contact: one ``email``, ``alertNotifications`` and
    ``alertsToAdmins`` On or Off. That contact e-mails high-severity alerts only, when on (its portal setting read
    "Send email notification for high severity alerts"), and alertsToAdmins e-mails the subscription owners
    ("Also send email notification to subscription owners"). ``name`` is required since azurerm 4.0 and
    defaulted to ``default1`` before.
    """
    what = address(conf)
    alerts = tf_bool(conf, "alert_notifications", what, default=None)
    admins = tf_bool(conf, "alerts_to_admins", what, default=None)
    phone = tf_value(conf, "phone")
    return SecurityContact(
        id=what,
        name=str(tf_literal(conf, "name", what) or "default1"),
        subscription_id="",
        emails=_addresses(tf_literal(conf, "email", what)),
        phone=str(phone) if phone else None,
        alert_notifications=_on_off(alerts),
        alert_minimal_severity="High" if alerts else None,
        notify_roles_state=_on_off(admins),
        notify_roles=("Owner",) if admins else (),
    )


def defender_plan(conf: Mapping[str, Any]) -> DefenderPlan:
    """An ``azurerm_security_center_subscription_pricing``; resource_type defaults to VirtualMachines."""
    what = address(conf)
    tier = tf_literal(conf, "tier", what)
    canonical = next((t for t in DEFENDER_TIERS if str(tier).lower() == t.lower()), None)
    if tier is not None and canonical is None:
        raise UndecidableError(f"{what} tier is {tier!r}, not Free or Standard")
    subplan = tf_literal(conf, "subplan", what)
    return DefenderPlan(
        id=what,
        name=str(tf_literal(conf, "resource_type", what) or "VirtualMachines"),
        subscription_id="",
        pricing_tier=canonical,
        sub_plan=str(subplan) if subplan else None,
    )


def _no_dynamic(conf: Mapping[str, Any], block: str, what: str) -> None:
    """UndecidableError when the blocks are built by a ``dynamic`` block from values not in the code."""
    if any(block in dynamic for dynamic in tf_blocks(conf, "dynamic")):
        raise UndecidableError(f"{what} builds {block} blocks dynamically from values not known in the code")


def action_group(conf: Mapping[str, Any]) -> ActionGroup:
    """An ``azurerm_monitor_action_group`` with its receivers; enabled defaults to true."""
    what = address(conf)
    _no_dynamic(conf, "email_receiver", what)
    emails: list[str] = []
    for receiver in tf_blocks(conf, "email_receiver"):
        found = tf_literal(receiver, "email_address", f"{what} email_receiver")
        if found:
            emails.append(str(found))
    return ActionGroup(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        enabled=tf_bool(conf, "enabled", what, default=True),
        email_receivers=tuple(emails),
        sms_receivers=len(tf_blocks(conf, "sms_receiver")),
        webhook_receivers=len(tf_blocks(conf, "webhook_receiver")),
    )


def alert_rule(resource_type: str, conf: Mapping[str, Any]) -> AlertRule:
    """An ``azurerm_monitor_activity_log_alert`` or ``azurerm_monitor_metric_alert``; enabled defaults to true.

    The action group ids stay as written (usually a reference to another resource): the rule's judge never
    follows them, so they are counted, not resolved. Plan JSON leaves out an id known only after apply.
    """
    what = address(conf)
    _no_dynamic(conf, "action", what)
    metric = resource_type == "azurerm_monitor_metric_alert"
    groups = tuple(str(tf_value(a, "action_group_id") or "(known after apply)") for a in tf_blocks(conf, "action"))
    return AlertRule(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        kind="metric" if metric else "activityLog",
        enabled=tf_bool(conf, "enabled", what, default=True),
        action_group_ids=groups,
        type="Microsoft.Insights/metricAlerts" if metric else "Microsoft.Insights/activityLogAlerts",
    )


def _epoch(text: object, what: str) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise UndecidableError(f"{what} expiration_date is {text!r}, not an RFC 3339 date") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def key_vault_key(conf: Mapping[str, Any]) -> ProtectingKey:
    """An ``azurerm_key_vault_key`` as the key KV-02 judges, with no uses: the resources it protects name it.

    The resource has no enabled argument, and Key Vault creates keys enabled. A ``rotation_policy`` rotates
    when it has an ``automatic`` block, and notifies when it sets ``notify_before_expiry``.
    """
    what = address(conf)
    policies = tf_blocks(conf, "rotation_policy")
    policy = policies[0] if policies else {}
    actions = (("Rotate",) if tf_blocks(policy, "automatic") else ()) + (
        ("Notify",) if tf_value(policy, "notify_before_expiry") else ()
    )
    expire_after = tf_literal(policy, "expire_after", what) if policies else None
    curve = tf_literal(conf, "curve", what)
    return ProtectingKey(
        KeyVaultKey(
            id=what,
            name=_name(conf),
            subscription_id="",
            resource_group="",
            vault_id=str(tf_value(conf, "key_vault_id") or ""),
            kty=str(tf_literal(conf, "key_type", what) or "") or None,
            key_size=tf_int(conf, "key_size", what),
            curve=str(curve) if curve else None,
            enabled=True,
            expires=_epoch(tf_literal(conf, "expiration_date", what), what),
            key_uri=None,
            rotation_policy=bool(policies),
            rotation_expiry_time=str(expire_after) if expire_after else None,
            rotation_actions=actions,
        ),
        (),
    )


def network_security_group(resource_type: str, conf: Mapping[str, Any]) -> NetworkSecurityGroup:
    """An NSG declared in code, with the default rules Azure adds to every NSG.

    An ``azurerm_network_security_rule`` stands for its NSG as far as that one rule shows it: the rule is
    judged on its own, since the other rules of its NSG may be declared elsewhere.
    """
    what = address(conf)
    return NetworkSecurityGroup(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        rules=security_rules(resource_type, conf) + AZURE_DEFAULT_RULES,
    )


def _tf_texts(conf: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A string or list attribute as written, expressions included: for values the verdict only reports."""
    value = tf_value(conf, key)
    items = value if isinstance(value, list) else [] if value is None else [value]
    return tuple(str(item) for item in items if item not in (None, ""))


def nat_rule(block: Mapping[str, Any], collection: str, what: str) -> NatRule:
    """One DNAT ``rule`` block, of a policy's nat_rule_collection or of a classic NAT rule collection.

    Sources, protocols and ports decide the verdict and must be literal; the destination and translated
    addresses (often references to other resources) and IP group ids are only reported, so stay as written.
    """
    here = f"{what} collection {collection} rule {tf_value(block, 'name') or 'unnamed'}"
    translated = tf_literal(block, "translated_port", here)
    target = _tf_texts(block, "translated_address") or _tf_texts(block, "translated_fqdn")
    return NatRule(
        name=str(tf_value(block, "name") or ""),
        collection=collection,
        protocols=tf_strings(block, "protocols", here),
        source_addresses=tf_strings(block, "source_addresses", here),
        # Policies name one destination_address, classic collections destination_addresses.
        destination_addresses=_tf_texts(block, "destination_address") + _tf_texts(block, "destination_addresses"),
        destination_ports=tf_strings(block, "destination_ports", here),
        translated_address=target[0] if target else None,
        translated_port=None if translated is None else str(translated),
        source_ip_groups=_tf_texts(block, "source_ip_groups"),
    )


def firewall_rule_collection_group(conf: Mapping[str, Any]) -> FirewallPolicy:
    """An ``azurerm_firewall_policy_rule_collection_group``: the policy as far as this group's DNAT rules show it."""
    what = address(conf)
    rules: list[NatRule] = []
    for collection in tf_blocks(conf, "nat_rule_collection"):
        name = str(tf_literal(collection, "name", what) or "")
        rules.extend(nat_rule(block, name, what) for block in tf_blocks(collection, "rule"))
    return FirewallPolicy(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group="",
        location="",
        threat_intel_mode=None,
        nat_rules=tuple(rules),
        rule_collection_group_ids=(what,),
    )


def firewall_nat_rule_collection(conf: Mapping[str, Any]) -> AzureFirewall:
    """An ``azurerm_firewall_nat_rule_collection``: the firewall's classic DNAT rules as far as this collection
    shows them (azurerm forbids classic rule collections on a firewall managed by a policy)."""
    what = address(conf)
    name = str(tf_literal(conf, "name", what) or "")
    return AzureFirewall(
        id=what,
        name=str(tf_value(conf, "azure_firewall_name") or _name(conf)),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location="",
        provisioning_state=None,
        threat_intel_mode=None,
        sku_tier=None,
        firewall_policy_id=None,
        nat_rules=tuple(nat_rule(block, name, what) for block in tf_blocks(conf, "rule")),
    )


# Which scope a Terraform reference names, by the type of what it references: a role assignment's scope is
# almost always another resource's id. Any other azurerm type is a single resource (IAM-02 does not count it).
_SCOPE_REFERENCE = re.compile(r"^(data\.)?(azurerm_\w+)\.[\w-]+\.id$")
_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SCOPE_LEVEL_OF_REFERENCE = {
    "azurerm_resource_group": "resource group",
    "azurerm_management_group": "management group",
}


def _role_assignment_scope(conf: Mapping[str, Any], what: str) -> tuple[str, str | None]:
    """The scope as the code gives it, and its level (None: one resource)."""
    value = tf_value(conf, "scope")
    if value is None or isinstance(value, list):
        raise UndecidableError(f"{what} has no scope the code states")
    text = str(value).strip()
    if not is_terraform_expression(text):
        return text, scope_level(text, subscription_of(text))
    reference = _SCOPE_REFERENCE.match(text.removeprefix("${").removesuffix("}").strip())
    if reference is None:
        raise UndecidableError(f"{what} scope is the expression {text!r}, unresolved in the code")
    data, kind = reference.group(1), reference.group(2)
    if data and kind == "azurerm_subscription":
        # data.azurerm_subscription's id is /subscriptions/<id>; the azurerm_subscription resource's is an alias.
        return text, "subscription"
    if kind == "azurerm_subscription":
        raise UndecidableError(f"{what} scope is the expression {text!r}, unresolved in the code")
    return text, _SCOPE_LEVEL_OF_REFERENCE.get(kind)


def role_assignment(conf: Mapping[str, Any]) -> DeclaredAssignment | None:
    """An ``azurerm_role_assignment`` of a privileged built-in role; None for any other role.

    The role is named by role_definition_name or role_definition_id; principal_type is optional (the provider
    leaves it to Azure, so the code does not state it).
    """
    what = address(conf)
    name = tf_literal(conf, "role_definition_name", what)
    role_id = tf_literal(conf, "role_definition_id", what)
    if name is not None:
        guid = BUILTIN_PRIVILEGED_ROLE_IDS_BY_NAME.get(str(name).strip().lower())
        role = f"/providers/Microsoft.Authorization/roleDefinitions/{guid}" if guid else str(name)
    elif role_id is not None:
        role = str(role_id)
    else:
        raise UndecidableError(f"{what} names no role (role_definition_name or role_definition_id)")
    if role.rstrip("/").rsplit("/", 1)[-1].lower() not in BUILTIN_PRIVILEGED_ROLES:
        return None
    scope, level = _role_assignment_scope(conf, what)
    if level is None:
        return None
    principal = tf_literal(conf, "principal_id", what)
    # Object ids are GUIDs: anything else is a reference checkov left in a form the check cannot read.
    if principal is None:
        # A plan leaves a value computed at apply out of its planned values.
        raise UndecidableError(f"{what} principal_id is not stated in the code (known only once applied)")
    if not isinstance(principal, str) or not _OBJECT_ID.match(principal.strip()):
        raise UndecidableError(f"{what} principal_id is {principal!r}, not an object id the code states")
    principal_type = tf_literal(conf, "principal_type", what)
    assignment = RoleAssignment(
        id=what,
        name=_name(conf),
        subscription_id=subscription_of(scope) if not is_terraform_expression(scope) else "",
        scope=scope,
        role_definition_id=role,
        principal_id=principal.strip(),
        principal_type=str(principal_type) if principal_type else None,
    )
    return DeclaredAssignment(assignment, level)


# --- recovery (BAK-01, BAK-02, BAK-04) -------------------------------------------------------------


def backup_storage_account(conf: Mapping[str, Any]) -> BackupAccount:
    """An ``azurerm_storage_account`` as backup storage, with the regions Azure will report for it."""
    account, _ = storage_account(conf)
    return declared_backup_account(account)


def mssql_virtual_machine(conf: Mapping[str, Any]) -> SqlVirtualMachine:
    """An ``azurerm_mssql_virtual_machine`` with its Automated Backup (the ``auto_backup`` block).

    Per the provider's documentation: without ``auto_backup`` Automated Backup is off; without
    ``manual_schedule`` the schedule type is Automated; setting ``encryption_password`` (or, before azurerm
    3.0, ``encryption_enabled = true``) encrypts the backups.
    """
    what = address(conf)
    blocks = tf_blocks(conf, "auto_backup")
    backup: AutomatedBackup | None = None
    if blocks:
        block = blocks[0]
        here = f"{what} auto_backup"
        schedules = tf_blocks(block, "manual_schedule")
        schedule = schedules[0] if schedules else {}
        encrypted = tf_value(block, "encryption_password") is not None or bool(
            tf_bool(block, "encryption_enabled", here, default=False)
        )
        backup = AutomatedBackup(
            enabled=True,
            schedule_type="Manual" if schedules else "Automated",
            full_frequency=str(tf_literal(schedule, "full_backup_frequency", here) or "") or None,
            full_days=tf_strings(schedule, "days_of_week", here),
            full_start_hour=tf_int(schedule, "full_backup_start_hour", here),
            log_interval_minutes=tf_int(schedule, "log_backup_frequency_in_minutes", here),
            retention_days=tf_int(block, "retention_period_in_days", here),
            encryption=encrypted,
            storage_account_url=str(tf_literal(block, "storage_blob_endpoint", here) or "") or None,
            system_databases=tf_bool(block, "system_databases_backup_enabled", here, default=False),
        )
    vm_id = tf_value(conf, "virtual_machine_id")
    return SqlVirtualMachine(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group="",
        location="",
        vm_id=None if vm_id is None or is_terraform_expression(vm_id) else str(vm_id),
        image_offer=None,
        image_sku=None,
        license_type=str(tf_value(conf, "sql_license_type") or "") or None,
        auto_backup=backup,
    )


def _radius_server(p2s: Mapping[str, Any]) -> str | None:
    single = tf_value(p2s, "radius_server_address")
    if single:
        return str(single)
    # azurerm 3.9+ lists several RADIUS servers in radius_server blocks instead.
    return next((str(a) for s in tf_blocks(p2s, "radius_server") if (a := tf_value(s, "address"))), None)


def virtual_network_gateway(conf: Mapping[str, Any]) -> VirtualNetworkGateway:
    """An ``azurerm_virtual_network_gateway`` with its point-to-site settings (vpn_client_configuration).

    When vpn_auth_types is left out Azure infers the types from the settings given (root certificates, RADIUS
    server, AAD tenant), as it does for gateways configured before the attribute existed, so the record leaves
    them empty and the rule infers them the same way. Settings that only need to be present (the tenant, the
    RADIUS address) may be expressions; the authentication types, the gateway type and the root certificates
    the inference counts may not.
    """
    what = address(conf)
    kind = tf_literal(conf, "type", what)
    if kind is None:
        raise UndecidableError(f"{what} states no gateway type")
    blocks = tf_blocks(conf, "vpn_client_configuration")
    p2s = blocks[0] if blocks else {}
    here = f"{what} vpn_client_configuration"
    auth_types = tf_strings(p2s, "vpn_auth_types", here)
    if not auth_types and any("root_certificate" in d for d in tf_blocks(p2s, "dynamic")):
        raise UndecidableError(f"{here} builds root_certificate blocks dynamically and names no vpn_auth_types")
    return VirtualNetworkGateway(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        gateway_type=str(kind),
        # azurerm's default vpn_type is RouteBased.
        vpn_type=str(tf_literal(conf, "vpn_type", what) or "RouteBased"),
        sku=str(tf_value(conf, "sku") or "") or None,
        vnet_id=None,
        p2s_address_pools=tf_strings(p2s, "address_space", here),
        p2s_auth_types=auth_types,
        p2s_protocols=tf_strings(p2s, "vpn_client_protocols", here),
        p2s_root_certificates=len(tf_blocks(p2s, "root_certificate")),
        aad_tenant=str(tf_value(p2s, "aad_tenant") or "") or None,
        radius_server=_radius_server(p2s),
    )


# azurerm_firewall's threat_intel_mode and azurerm_firewall_policy's threat_intelligence_mode default to Alert.
AZURERM_DEFAULT_THREAT_INTEL = "Alert"


def azure_firewall(conf: Mapping[str, Any]) -> AzureFirewall | None:
    """An ``azurerm_firewall`` and the threat-intelligence mode it sets; None when a firewall policy manages it.

    A policy-managed firewall follows its policy's mode, so the mode in force is judged on the
    ``azurerm_firewall_policy`` resource.
    """
    what = address(conf)
    if tf_value(conf, "firewall_policy_id"):
        return None
    return AzureFirewall(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        provisioning_state=None,
        threat_intel_mode=str(tf_literal(conf, "threat_intel_mode", what) or AZURERM_DEFAULT_THREAT_INTEL),
        sku_tier=str(tf_value(conf, "sku_tier") or "") or None,
        firewall_policy_id=None,
    )


def firewall_policy(conf: Mapping[str, Any]) -> FirewallPolicy:
    """An ``azurerm_firewall_policy`` and the threat-intelligence mode it sets."""
    what = address(conf)
    mode = tf_literal(conf, "threat_intelligence_mode", what) or AZURERM_DEFAULT_THREAT_INTEL
    return FirewallPolicy(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        threat_intel_mode=str(mode),
    )


def virtual_network(conf: Mapping[str, Any]) -> VirtualNetwork | None:
    """An ``azurerm_virtual_network`` with the subnets it declares inline and the NSG each names.

    None when it declares none: its subnets are ``azurerm_subnet`` resources, whose NSG is associated by yet
    another resource (``azurerm_subnet_network_security_group_association``) that a check of one resource
    cannot see, so no verdict is given rather than a pass.
    """
    what = address(conf)
    for dynamic in tf_blocks(conf, "dynamic"):
        if "subnet" in dynamic:
            raise UndecidableError(f"{what} builds subnet blocks dynamically from values not known in the code")
    blocks = tf_blocks(conf, "subnet")
    if not blocks:
        return None
    subnets = tuple(
        Subnet(
            id=f"{what}/subnets/{name}",
            name=name,
            # azurerm 4.x names it address_prefixes; 3.x address_prefix.
            address_prefixes=tf_strings(block, "address_prefixes", what) or tf_strings(block, "address_prefix", what),
            nsg_id=str(nsg) if (nsg := tf_value(block, "security_group")) else None,
        )
        for block in blocks
        for name in [str(tf_literal(block, "name", what) or "unnamed")]
    )
    return VirtualNetwork(
        id=what,
        name=_name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        address_prefixes=tf_strings(conf, "address_space", what),
        subnets=subnets,
    )


ROUTE_TABLE = "azurerm_route_table"
ROUTE = "azurerm_route"


def _route(conf: Mapping[str, Any], what: str) -> Route:
    name = str(tf_literal(conf, "name", what) or "unnamed")
    here = f"{what} route {name}"
    hop = tf_value(conf, "next_hop_in_ip_address")
    return Route(
        name=name,
        address_prefix=str(tf_literal(conf, "address_prefix", here) or "") or None,
        next_hop_type=str(tf_literal(conf, "next_hop_type", here) or "") or None,
        next_hop_ip=str(hop) if hop else None,
    )


def route_table(resource_type: str, conf: Mapping[str, Any]) -> RouteTable:
    """An ``azurerm_route_table`` with its inline routes, or an ``azurerm_route`` as its table's one route."""
    what = address(conf)
    if resource_type == ROUTE:
        routes: tuple[Route, ...] = (_route(conf, what),)
        name = str(tf_value(conf, "route_table_name") or _name(conf))
    else:
        for dynamic in tf_blocks(conf, "dynamic"):
            if "route" in dynamic:
                raise UndecidableError(f"{what} builds route blocks dynamically from values not known in the code")
        routes = tuple(_route(block, what) for block in tf_blocks(conf, "route"))
        name = _name(conf)
    return RouteTable(
        id=what,
        name=name,
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        routes=routes,
    )


def names_a_firewall(value: str) -> bool:
    """True for a next hop that is an attribute of an ``azurerm_firewall`` (its private address)."""
    return "azurerm_firewall." in value


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
