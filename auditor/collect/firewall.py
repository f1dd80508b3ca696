"""Network security layers collector: Azure Firewalls, firewall policies, route tables, VPN gateways."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import name_of, parent_of, resource_group_of
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
    list_objects,
    path,
    resource_id,
    resource_path,
    tags_of,
)
from auditor.collect.clients import NETWORK_CLIENT
from auditor.collect.network import API_VERSION
from auditor.collect.session import AzureSession
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    NatRule,
    ResourceGroup,
    Route,
    RouteTable,
    VirtualNetworkGateway,
)

# azure-mgmt-network has no resource-group operations and azure-mgmt-resource-subscriptions has none
# either, so groups are listed through the network client's pipeline at ARM's stable version.
RESOURCE_GROUPS_API_VERSION = "2021-04-01"
NAT_RULE_COLLECTION = "FirewallPolicyNatRuleCollection"
NAT_RULE = "NatRule"
FIREWALLS_API = "Microsoft.Network/azureFirewalls"
POLICIES_API = "Microsoft.Network/firewallPolicies"
ROUTE_TABLES_API = "Microsoft.Network/routeTables"
GATEWAYS_API = "Microsoft.Network/virtualNetworkGateways"
RESOURCE_GROUPS_API = "Microsoft.Resources/resourceGroups"

# A DNAT rule (AzureFirewallNatRule and the policy's NatRule): it has a source (addresses or IP
# groups), a destination port and a translated target; none has a default.
NAT_RULE_CONTRACT = (
    Field("name", True),
    Field("protocols | ipProtocols", True),
    Field("sourceAddresses | sourceIpGroups", True),
    Field("destinationAddresses", False, "no destination restriction"),
    Field("destinationPorts", True),
    Field("translatedAddress | translatedFqdn", True),
    Field("translatedPort", True),
)
# https://learn.microsoft.com/rest/api/firewall/azure-firewalls/list-all
FIREWALL_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.provisioningState", True),
    # AzureFirewallThreatIntelMode: the firewall's own setting is ignored when it has a policy.
    Field("properties.threatIntelMode", False, UNKNOWN),
    Field("properties.sku.tier", False, UNKNOWN),
    Field("properties.firewallPolicy", False, "no firewall policy (classic rules)"),
    Field("properties.ipConfigurations", False, "a Virtual WAN hub firewall: addresses in hubIPAddresses"),
    Field("properties.hubIPAddresses.privateIPAddress", False, "not a hub firewall"),
    Field("properties.natRuleCollections", False, "no classic DNAT rules"),
    TAGS_FIELD,
)
# https://learn.microsoft.com/rest/api/firewall/firewall-policies/list-all
POLICY_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.threatIntelMode", False, UNKNOWN),
    Field("properties.ruleCollectionGroups", False, "no rule collection groups"),
    Field("properties.basePolicy", False, "no parent policy"),
    TAGS_FIELD,
)
RULE_COLLECTION_GROUP_CONTRACT = (
    Field("id", True),
    Field("properties.ruleCollections", False, "no rule collections"),
    Field("properties.ruleCollections[].ruleCollectionType", True),
    Field("properties.ruleCollections[].rules[].ruleType", True),
)
ROUTE_TABLE_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.routes", False, "no routes"),
    Field("properties.routes[].properties.addressPrefix", True),
    Field("properties.routes[].properties.nextHopType", True),
    Field(
        "properties.routes[].properties.nextHopIpAddress", False, "no next-hop address (not a VirtualAppliance route)"
    ),
    Field("properties.subnets", False, "not associated with any subnet"),
    TAGS_FIELD,
)
# https://learn.microsoft.com/rest/api/network-gateway/virtual-network-gateways/list
GATEWAY_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.gatewayType", True),
    Field("properties.vpnType", False, UNKNOWN),
    Field("properties.sku.name", False, UNKNOWN),
    Field("properties.ipConfigurations", True),
    Field("properties.provisioningState", True),
    Field("properties.vpnClientConfiguration", False, "no point-to-site configuration"),
    TAGS_FIELD,
)
RESOURCE_GROUP_CONTRACT = (Field("id", True), Field("name", True), Field("location", True), TAGS_FIELD)


def _pipeline(session: AzureSession, subscription_id: str) -> Any:
    return arm_pipeline(session, NETWORK_CLIENT, subscription_id)


def nat_rule(rule: Reader, collection: str, protocols_field: str) -> NatRule | None:
    """A DNAT rule; the translated target is an address or, failing that, an FQDN. None when unreadable."""
    before = len(rule.problems)
    sources = rule.strings("sourceAddresses")
    groups = rule.strings("sourceIpGroups")
    ports = rule.strings("destinationPorts")
    if not sources and not groups:
        rule.missing("sourceAddresses")
    if not ports:
        rule.missing("destinationPorts")
    if len(rule.problems) > before:
        # Judging without this rule could pass what it forwards; the resource carries the problem.
        return None
    return NatRule(
        name=rule.text("name") or "",
        collection=collection,
        protocols=rule.strings(protocols_field),
        source_addresses=sources,
        destination_addresses=rule.strings("destinationAddresses"),
        destination_ports=ports,
        translated_address=rule.text("translatedAddress") or rule.text("translatedFqdn"),
        translated_port=rule.text("translatedPort"),
        source_ip_groups=groups,
    )


def azure_firewall(raw: Mapping[str, Any], subscription_id: str) -> AzureFirewall:
    """An Azure Firewall record with its classic DNAT rules."""
    firewall = Reader(raw)
    firewall_id = resource_id(firewall, f"/subscriptions/{subscription_id}", FIREWALLS_API)
    props = firewall.part("properties")
    configs = props.items("ipConfigurations")
    private_ips = [ip for c in configs if (ip := c.text("properties.privateIPAddress"))]
    # A firewall in a Virtual WAN hub has no IP configurations; its private address is the hub's.
    hub_ip = props.text("hubIPAddresses.privateIPAddress")
    if hub_ip:
        private_ips.append(hub_ip)
    found = (
        nat_rule(rule, collection.text("name") or "", "protocols")
        for collection in props.items("natRuleCollections")
        for rule in collection.items("properties.rules")
    )
    return AzureFirewall(
        id=firewall_id,
        name=firewall.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(firewall_id),
        location=firewall.text("location") or "",
        provisioning_state=props.text("provisioningState"),
        threat_intel_mode=props.choice("threatIntelMode", ("Alert", "Deny", "Off")),
        sku_tier=props.text("sku.tier"),
        firewall_policy_id=props.ref("firewallPolicy"),
        private_ips=tuple(private_ips),
        subnet_ids=tuple(sid for c in configs if (sid := c.ref("properties.subnet"))),
        nat_rules=tuple(r for r in found if r is not None),
        tags=tags_of(raw),
        unreadable=firewall.found(),
    )


def firewall_policy(raw: Mapping[str, Any], subscription_id: str) -> FirewallPolicy:
    """A firewall policy record; its DNAT rules come from its rule collection groups."""
    policy = Reader(raw)
    policy_id = resource_id(policy, f"/subscriptions/{subscription_id}", POLICIES_API)
    return FirewallPolicy(
        id=policy_id,
        name=policy.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(policy_id),
        location=policy.text("location") or "",
        threat_intel_mode=policy.choice("properties.threatIntelMode", ("Alert", "Deny", "Off")),
        rule_collection_group_ids=policy.ref_ids("properties.ruleCollectionGroups"),
        base_policy_id=policy.ref("properties.basePolicy"),
        tags=tags_of(raw),
        unreadable=policy.found(),
    )


def policy_nat_rules(groups: list[Reader]) -> tuple[NatRule, ...]:
    """The DNAT rules of rule collection groups, in group, collection and rule order."""
    found: list[NatRule | None] = []
    for group in groups:
        for collection in group.items("properties.ruleCollections"):
            kind = collection.text("ruleCollectionType", required=True) or ""
            if kind.lower() != NAT_RULE_COLLECTION.lower():
                continue
            for rule in collection.items("rules"):
                if (rule.text("ruleType", required=True) or "").lower() == NAT_RULE.lower():
                    found.append(nat_rule(rule, collection.text("name") or "", "ipProtocols"))
    return tuple(r for r in found if r is not None)


def with_rule_collection_groups(session: AzureSession, policy: FirewallPolicy) -> FirewallPolicy:
    """The policy with the DNAT rules of its rule collection groups (the policy list omits them)."""
    url = resource_path(policy.id) + path("/ruleCollectionGroups", api_version=API_VERSION)
    items = list(list_objects(_pipeline(session, policy.subscription_id), session.arm_url, url))
    problems = list(policy.unreadable)
    groups = [Reader(item, f"ruleCollectionGroups[{i}]", problems) for i, item in enumerate(items)]
    return dataclasses.replace(
        policy,
        nat_rules=policy_nat_rules(groups),
        rule_collection_group_ids=tuple(i for g in groups if (i := g.text("id"))),
        unreadable=tuple(problems),
    )


def route_table(raw: Mapping[str, Any], subscription_id: str) -> RouteTable:
    """A route table record with its routes and the subnets it is attached to."""
    table = Reader(raw)
    table_id = resource_id(table, f"/subscriptions/{subscription_id}", ROUTE_TABLES_API)
    return RouteTable(
        id=table_id,
        name=table.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(table_id),
        location=table.text("location") or "",
        routes=tuple(
            Route(
                name=r.text("name") or "",
                address_prefix=r.text("properties.addressPrefix", required=True),
                next_hop_type=r.text("properties.nextHopType", required=True),
                next_hop_ip=r.text("properties.nextHopIpAddress"),
            )
            for r in table.items("properties.routes")
        ),
        subnet_ids=table.ref_ids("properties.subnets"),
        tags=tags_of(raw),
        unreadable=table.found(),
    )


def virtual_network_gateway(raw: Mapping[str, Any], subscription_id: str) -> VirtualNetworkGateway:
    """A virtual network gateway record; its VNet is the parent of the GatewaySubnet it sits in."""
    gateway = Reader(raw)
    gateway_id = resource_id(gateway, f"/subscriptions/{subscription_id}", GATEWAYS_API)
    props = gateway.part("properties")
    subnet_ids = [sid for c in props.items("ipConfigurations") if (sid := c.ref("properties.subnet"))]
    has_p2s = props.present("vpnClientConfiguration")
    p2s = props.part("vpnClientConfiguration")
    radius = p2s.text("radiusServerAddress")
    if has_p2s and not radius:
        # Gateways with several RADIUS servers list them instead of the single address.
        radius = next((a for s in p2s.items("radiusServers") if (a := s.text("radiusServerAddress"))), None)
    return VirtualNetworkGateway(
        id=gateway_id,
        name=gateway.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(gateway_id),
        location=gateway.text("location") or "",
        gateway_type=props.text("gatewayType"),
        vpn_type=props.text("vpnType"),
        sku=props.text("sku.name"),
        vnet_id=parent_of(subnet_ids[0]) if subnet_ids else None,
        provisioning_state=props.text("provisioningState"),
        p2s_address_pools=p2s.strings("vpnClientAddressPool.addressPrefixes"),
        p2s_auth_types=p2s.strings("vpnAuthenticationTypes"),
        p2s_protocols=p2s.strings("vpnClientProtocols"),
        p2s_root_certificates=len(p2s.items("vpnClientRootCertificates")),
        aad_tenant=p2s.text("aadTenant"),
        radius_server=radius,
        tags=tags_of(raw),
        unreadable=gateway.found(),
    )


def resource_group(raw: Mapping[str, Any], subscription_id: str) -> ResourceGroup:
    """A resource group record from ARM's raw group object."""
    group = Reader(raw)
    group_id = resource_id(group, f"/subscriptions/{subscription_id}", RESOURCE_GROUPS_API)
    return ResourceGroup(
        id=group_id,
        name=group.text("name") or name_of(group_id),
        subscription_id=subscription_id,
        location=group.text("location") or "",
        resource_group=resource_group_of(group_id),
        tags=tags_of(raw),
        unreadable=group.found(),
    )


def _list(session: AzureSession, subscription_id: str, resource_type: str) -> Iterator[dict[str, Any]]:
    url = path("/subscriptions/{}/providers/" + resource_type, subscription_id, api_version=API_VERSION)
    return list_objects(_pipeline(session, subscription_id), session.arm_url, url)


def list_resource_groups(session: AzureSession, subscription_id: str) -> Iterator[ResourceGroup]:
    """Every resource group of the subscription."""
    url = path("/subscriptions/{}/resourcegroups", subscription_id, api_version=RESOURCE_GROUPS_API_VERSION)
    items = list_objects(_pipeline(session, subscription_id), session.arm_url, url)
    return build_all(items, resource_group, subscription_id)


def list_firewalls(session: AzureSession, subscription_id: str) -> Iterator[AzureFirewall]:
    """Every Azure Firewall of the subscription."""
    return build_all(_list(session, subscription_id, FIREWALLS_API), azure_firewall, subscription_id)


def list_firewall_policies(session: AzureSession, subscription_id: str) -> Iterator[FirewallPolicy]:
    """Every firewall policy of the subscription (without rules)."""
    return build_all(_list(session, subscription_id, POLICIES_API), firewall_policy, subscription_id)


def list_route_tables(session: AzureSession, subscription_id: str) -> Iterator[RouteTable]:
    """Every route table of the subscription."""
    return build_all(_list(session, subscription_id, ROUTE_TABLES_API), route_table, subscription_id)


def list_gateways(session: AzureSession, group: ResourceGroup) -> Iterator[VirtualNetworkGateway]:
    """The virtual network gateways of one resource group (ARM lists them only per group)."""
    url = resource_path(group.id) + path("/providers/" + GATEWAYS_API, api_version=API_VERSION)
    for item in list_objects(_pipeline(session, group.subscription_id), session.arm_url, url):
        yield virtual_network_gateway(item, group.subscription_id)


STEPS = (
    Listing(FIREWALLS_API, "azure_firewalls", list_firewalls),
    Listing(POLICIES_API, "firewall_policies", list_firewall_policies),
    Listing(ROUTE_TABLES_API, "route_tables", list_route_tables),
    Listing(RESOURCE_GROUPS_API, "resource_group_records", list_resource_groups),
    Enrichment(
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "firewall_policies", with_rule_collection_groups
    ),
    PerParent(GATEWAYS_API, "resource_group_records", "virtual_network_gateways", list_gateways),
)
