"""ARM template and Bicep resources, as checkov parses them, turned into the records the live checks judge.

checkov runs ARM checks on Bicep too, handing them the resource body with the same property names.
"""

from __future__ import annotations

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
from auditor.records.backup import RecoveryVault
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


def network_security_group(resource_type: str, conf: Mapping[str, Any]) -> NetworkSecurityGroup:
    """An NSG with its ``properties.securityRules``, or a ``securityRules`` child resource as its NSG's one rule.

    Azure's default rules are left out: they rank last and no NSG rule check judges them.
    """
    what = _name(conf)
    return NetworkSecurityGroup(
        id=what,
        # A child rule is named NSG/RULE.
        name=what.split("/", 1)[0] if resource_type == NSG_RULE else what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        rules=security_rules(resource_type, conf),
    )


P2S = "properties/vpnClientConfiguration"


def _radius_server(conf: Mapping[str, Any]) -> str | None:
    single = _text(arm_get(conf, f"{P2S}/radiusServerAddress"))
    if single:
        return single
    # Gateways with several RADIUS servers list them instead of the single address.
    servers = arm_get(conf, f"{P2S}/radiusServers")
    listed = servers if isinstance(servers, list) else []
    return next((str(a) for s in listed if isinstance(s, dict) and (a := s.get("radiusServerAddress"))), None)


def virtual_network_gateway(conf: Mapping[str, Any]) -> VirtualNetworkGateway:
    """A ``Microsoft.Network/virtualNetworkGateways`` resource with its point-to-site settings.

    Without vpnAuthenticationTypes Azure infers the types from the settings given (root certificates, RADIUS
    server, AAD tenant), and so does the rule. Settings that only need to be present (the tenant, the RADIUS
    address) may be expressions; the authentication types, the gateway type and the root certificates may not.
    """
    what = _name(conf)
    kind = arm_literal(conf, "properties/gatewayType", what)
    if kind is None:
        raise UndecidableError(f"{what} states no gatewayType")
    roots = arm_literal(conf, f"{P2S}/vpnClientRootCertificates", what)
    if roots is not None and not isinstance(roots, list):
        raise UndecidableError(f"{what} {P2S}/vpnClientRootCertificates is {roots!r}, not a list")
    return VirtualNetworkGateway(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        gateway_type=str(kind),
        vpn_type=_text(arm_literal(conf, "properties/vpnType", what)),
        sku=_text(arm_get(conf, "properties/sku/name")),
        vnet_id=None,
        p2s_address_pools=arm_strings(conf, f"{P2S}/vpnClientAddressPool/addressPrefixes", what),
        p2s_auth_types=arm_strings(conf, f"{P2S}/vpnAuthenticationTypes", what),
        p2s_protocols=arm_strings(conf, f"{P2S}/vpnClientProtocols", what),
        p2s_root_certificates=len(roots or []),
        aad_tenant=_text(arm_get(conf, f"{P2S}/aadTenant")),
        radius_server=_radius_server(conf),
    )


# Threat-intelligence-based filtering is on in Alert mode unless a firewall or policy says otherwise
# (Azure Firewall documentation, "Threat intelligence-based filtering").
ARM_DEFAULT_THREAT_INTEL = "Alert"


def azure_firewall(conf: Mapping[str, Any]) -> AzureFirewall | None:
    """A ``Microsoft.Network/azureFirewalls`` resource and its threat-intelligence mode; None when a firewall
    policy manages it (the mode in force is then judged on the policy)."""
    what = _name(conf)
    if arm_get(conf, "properties/firewallPolicy"):
        return None
    mode = arm_literal(conf, "properties/threatIntelMode", what)
    return AzureFirewall(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        provisioning_state=None,
        threat_intel_mode=_text(mode) or ARM_DEFAULT_THREAT_INTEL,
        sku_tier=_text(arm_get(conf, "properties/sku/tier")),
        firewall_policy_id=None,
    )


def firewall_policy(conf: Mapping[str, Any]) -> FirewallPolicy | None:
    """A ``Microsoft.Network/firewallPolicies`` resource and its threat-intelligence mode; None when it leaves
    the mode to its base policy (judged on that policy)."""
    what = _name(conf)
    mode = _text(arm_literal(conf, "properties/threatIntelMode", what))
    if mode is None and arm_get(conf, "properties/basePolicy"):
        return None
    return FirewallPolicy(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        threat_intel_mode=mode or ARM_DEFAULT_THREAT_INTEL,
    )


VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"


def _subnet(body: Mapping[str, Any], vnet: str, what: str) -> Subnet:
    if not isinstance(body, dict):
        raise UndecidableError(f"{what} has a subnet that is not an object ({body!r})")
    name = _name(body).rsplit("/", 1)[-1] or "unnamed"
    nsg = arm_get(body, "properties/networkSecurityGroup")
    nsg_id = nsg.get("id") if isinstance(nsg, dict) else nsg
    return Subnet(
        id=f"{vnet}/subnets/{name}",
        name=name,
        address_prefixes=arm_strings(body, "properties/addressPrefix", what)
        + arm_strings(body, "properties/addressPrefixes", what),
        nsg_id=str(nsg_id) if nsg_id else None,
    )


def virtual_network(resource_type: str, conf: Mapping[str, Any]) -> VirtualNetwork | None:
    """A ``Microsoft.Network/virtualNetworks`` resource with its inline subnets, or a ``subnets`` child resource
    as its network's one subnet; each with the NSG it names. None for a network declaring no subnet inline
    (its subnets are judged as their own child resources)."""
    what = _name(conf)
    if resource_type == SUBNET:
        vnet = what.split("/", 1)[0]
        subnets: tuple[Subnet, ...] = (_subnet(conf, vnet, what),)
    else:
        vnet = what
        listed = arm_literal(conf, "properties/subnets", what)
        if listed is None or listed == []:
            return None
        if not isinstance(listed, list):
            raise UndecidableError(f"{what} properties.subnets is {listed!r}, not a list of subnets")
        subnets = tuple(_subnet(body, vnet, what) for body in listed)
    return VirtualNetwork(
        id=what,
        name=vnet,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        address_prefixes=(),
        subnets=subnets,
    )


ROUTE_TABLE = "Microsoft.Network/routeTables"
ROUTE = "Microsoft.Network/routeTables/routes"


def _route(body: Mapping[str, Any], what: str) -> Route:
    if not isinstance(body, dict):
        raise UndecidableError(f"{what} has a route that is not an object ({body!r})")
    name = _name(body).rsplit("/", 1)[-1] or "unnamed"
    here = f"{what} route {name}"
    return Route(
        name=name,
        address_prefix=_text(arm_literal(body, "properties/addressPrefix", here)),
        next_hop_type=_text(arm_literal(body, "properties/nextHopType", here)),
        next_hop_ip=_text(arm_get(body, "properties/nextHopIpAddress")),
    )


def route_table(resource_type: str, conf: Mapping[str, Any]) -> RouteTable:
    """A ``Microsoft.Network/routeTables`` resource with its routes, or a ``routes`` child as its table's route."""
    what = _name(conf)
    if resource_type == ROUTE:
        routes: tuple[Route, ...] = (_route(conf, what),)
        name = what.split("/", 1)[0]
    else:
        listed = arm_literal(conf, "properties/routes", what) or []
        if not isinstance(listed, list):
            raise UndecidableError(f"{what} properties.routes is {listed!r}, not a list of routes")
        routes = tuple(_route(body, what) for body in listed)
        name = what
    return RouteTable(
        id=what,
        name=name,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        routes=routes,
    )


def names_a_firewall(value: str) -> bool:
    """True for a next hop that is an expression reading an Azure Firewall's (private) address."""
    return is_arm_expression(value) and "microsoft.network/azurefirewalls" in value.lower()
