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
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    NetworkSecurityGroup,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    VirtualNetwork,
    VirtualNetworkGateway,
)
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


def network_security_group(resource_type: str, conf: Mapping[str, Any]) -> NetworkSecurityGroup:
    """An NSG with its inline rules, or an ``azurerm_network_security_rule`` as the one rule of its NSG.

    Azure's default rules are left out: they rank last and no NSG rule check judges them.
    """
    what = address(conf)
    return NetworkSecurityGroup(
        id=what,
        name=str(tf_value(conf, "network_security_group_name") or _name(conf))
        if resource_type == NSG_RULE
        else _name(conf),
        subscription_id="",
        resource_group=str(tf_value(conf, "resource_group_name") or ""),
        location=str(tf_value(conf, "location") or ""),
        rules=security_rules(resource_type, conf),
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
