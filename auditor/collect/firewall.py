"""Network security layers collector: Azure Firewalls, firewall policies, route tables, VPN gateways."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.network import NetworkManagementClient

from auditor.arm_ids import name_of, parent_of, resource_group_of
from auditor.collect.base import Enrichment, Listing, PerParent, ref_id, text
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


def _client(session: AzureSession, subscription_id: str) -> NetworkManagementClient:
    return session.client(NetworkManagementClient, subscription_id)


def _strings(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(text(v) or "" for v in values or () if v is not None)


def nat_rule(rule: Any, collection: str, protocols: Iterable[Any] | None) -> NatRule:
    """A DNAT rule; the translated target is an address or, failing that, an FQDN."""
    return NatRule(
        name=rule.name or "",
        collection=collection,
        protocols=_strings(protocols),
        source_addresses=_strings(rule.source_addresses),
        destination_addresses=_strings(rule.destination_addresses),
        destination_ports=_strings(rule.destination_ports),
        translated_address=rule.translated_address or rule.translated_fqdn,
        translated_port=rule.translated_port,
        source_ip_groups=_strings(rule.source_ip_groups),
    )


def azure_firewall(firewall: Any, subscription_id: str) -> AzureFirewall:
    """An Azure Firewall record with its classic DNAT rules."""
    configs = firewall.ip_configurations or ()
    private_ips = [c.private_ip_address for c in configs if c.private_ip_address]
    # A firewall in a Virtual WAN hub has no IP configurations; its private address is the hub's.
    hub = firewall.hub_ip_addresses
    if hub is not None and hub.private_ip_address:
        private_ips.append(hub.private_ip_address)
    nat_rules = tuple(
        nat_rule(rule, collection.name or "", rule.protocols)
        for collection in firewall.nat_rule_collections or ()
        for rule in collection.rules or ()
    )
    return AzureFirewall(
        id=firewall.id,
        name=firewall.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(firewall.id),
        location=firewall.location or "",
        provisioning_state=text(firewall.provisioning_state),
        threat_intel_mode=text(firewall.threat_intel_mode),
        sku_tier=text(firewall.sku.tier) if firewall.sku else None,
        firewall_policy_id=ref_id(firewall.firewall_policy),
        private_ips=tuple(private_ips),
        subnet_ids=tuple(sid for c in configs if (sid := ref_id(c.subnet))),
        nat_rules=nat_rules,
    )


def firewall_policy(policy: Any, subscription_id: str) -> FirewallPolicy:
    """A firewall policy record; its DNAT rules come from its rule collection groups."""
    return FirewallPolicy(
        id=policy.id,
        name=policy.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(policy.id),
        location=policy.location or "",
        threat_intel_mode=text(policy.threat_intel_mode),
        rule_collection_group_ids=tuple(g.id for g in policy.rule_collection_groups or () if g.id),
        base_policy_id=ref_id(policy.base_policy),
    )


def policy_nat_rules(groups: Iterable[Any]) -> tuple[NatRule, ...]:
    """The DNAT rules of rule collection groups, in group, collection and rule order."""
    return tuple(
        nat_rule(rule, collection.name or "", rule.ip_protocols)
        for group in groups
        for collection in group.rule_collections or ()
        if text(collection.rule_collection_type) == NAT_RULE_COLLECTION
        for rule in collection.rules or ()
        if text(rule.rule_type) == NAT_RULE
    )


def with_rule_collection_groups(session: AzureSession, policy: FirewallPolicy) -> FirewallPolicy:
    """The policy with the DNAT rules of its rule collection groups (the policy list omits them)."""
    client = _client(session, policy.subscription_id)
    groups = list(client.firewall_policy_rule_collection_groups.list(policy.resource_group, policy.name))
    return dataclasses.replace(
        policy,
        nat_rules=policy_nat_rules(groups),
        rule_collection_group_ids=tuple(g.id for g in groups if g.id),
    )


def route_table(table: Any, subscription_id: str) -> RouteTable:
    """A route table record with its routes and the subnets it is attached to."""
    return RouteTable(
        id=table.id,
        name=table.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(table.id),
        location=table.location or "",
        routes=tuple(
            Route(
                name=r.name or "",
                address_prefix=r.address_prefix,
                next_hop_type=text(r.next_hop_type),
                next_hop_ip=r.next_hop_ip_address,
            )
            for r in table.routes or ()
        ),
        subnet_ids=tuple(s.id for s in table.subnets or () if s.id),
    )


def virtual_network_gateway(gateway: Any, subscription_id: str) -> VirtualNetworkGateway:
    """A virtual network gateway record; its VNet is the parent of the GatewaySubnet it sits in."""
    subnet_ids = [sid for c in gateway.ip_configurations or () if (sid := ref_id(c.subnet))]
    p2s = gateway.vpn_client_configuration
    pool = p2s.vpn_client_address_pool if p2s else None
    radius = p2s.radius_server_address if p2s else None
    if p2s and not radius:
        # Gateways with several RADIUS servers list them instead of the single address.
        radius = next((s.radius_server_address for s in p2s.radius_servers or () if s.radius_server_address), None)
    return VirtualNetworkGateway(
        id=gateway.id,
        name=gateway.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(gateway.id),
        location=gateway.location or "",
        gateway_type=text(gateway.gateway_type),
        vpn_type=text(gateway.vpn_type),
        sku=text(gateway.sku.name) if gateway.sku else None,
        vnet_id=parent_of(subnet_ids[0]) if subnet_ids else None,
        provisioning_state=text(gateway.provisioning_state),
        p2s_address_pools=tuple(pool.address_prefixes or ()) if pool else (),
        p2s_auth_types=_strings(p2s.vpn_authentication_types) if p2s else (),
        p2s_protocols=_strings(p2s.vpn_client_protocols) if p2s else (),
        p2s_root_certificates=len(p2s.vpn_client_root_certificates or ()) if p2s else 0,
        aad_tenant=p2s.aad_tenant if p2s else None,
        radius_server=radius,
    )


def resource_group(group: dict[str, Any], subscription_id: str) -> ResourceGroup:
    """A resource group record from ARM's raw group object."""
    group_id = str(group["id"])
    return ResourceGroup(
        id=group_id,
        name=str(group.get("name") or name_of(group_id)),
        subscription_id=subscription_id,
        location=str(group.get("location") or ""),
        resource_group=resource_group_of(group_id),
    )


def list_resource_groups(session: AzureSession, subscription_id: str) -> Iterator[ResourceGroup]:
    """Every resource group of the subscription, paging through ``nextLink`` as ARM gives it."""
    client = _client(session, subscription_id)
    url: str | None = f"/subscriptions/{subscription_id}/resourcegroups?api-version={RESOURCE_GROUPS_API_VERSION}"
    while url:
        # send_request joins a relative link to the client's endpoint; the host-bound policy refuses others.
        response = client.send_request(HttpRequest("GET", url))
        if response.status_code != 200:
            raise HttpResponseError(response=response)
        page = response.json()
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise ValueError("resource group list without a 'value' array")
        for group in page["value"]:
            yield resource_group(group, subscription_id)
        next_link = page.get("nextLink")
        url = str(next_link) if next_link else None


def list_firewalls(session: AzureSession, subscription_id: str) -> Iterator[AzureFirewall]:
    """Every Azure Firewall of the subscription."""
    for firewall in _client(session, subscription_id).azure_firewalls.list_all():
        yield azure_firewall(firewall, subscription_id)


def list_firewall_policies(session: AzureSession, subscription_id: str) -> Iterator[FirewallPolicy]:
    """Every firewall policy of the subscription (without rules)."""
    for policy in _client(session, subscription_id).firewall_policies.list_all():
        yield firewall_policy(policy, subscription_id)


def list_route_tables(session: AzureSession, subscription_id: str) -> Iterator[RouteTable]:
    """Every route table of the subscription."""
    for table in _client(session, subscription_id).route_tables.list_all():
        yield route_table(table, subscription_id)


def list_gateways(session: AzureSession, group: ResourceGroup) -> Iterator[VirtualNetworkGateway]:
    """The virtual network gateways of one resource group (ARM lists them only per group)."""
    for gateway in _client(session, group.subscription_id).virtual_network_gateways.list(group.name):
        yield virtual_network_gateway(gateway, group.subscription_id)


STEPS = (
    Listing("Microsoft.Network/azureFirewalls", "azure_firewalls", list_firewalls),
    Listing("Microsoft.Network/firewallPolicies", "firewall_policies", list_firewall_policies),
    Listing("Microsoft.Network/routeTables", "route_tables", list_route_tables),
    Listing("Microsoft.Resources/resourceGroups", "resource_group_records", list_resource_groups),
    Enrichment(
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "firewall_policies", with_rule_collection_groups
    ),
    PerParent(
        "Microsoft.Network/virtualNetworkGateways", "resource_group_records", "virtual_network_gateways", list_gateways
    ),
)
