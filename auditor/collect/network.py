"""Network collector: NSGs, virtual networks and subnets, NICs and public IPs, from raw ARM JSON."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import resource_group_of
from auditor.collect.base import (
    TAGS_FIELD,
    UNKNOWN,
    Field,
    Listing,
    Reader,
    arm_pipeline,
    build_all,
    list_objects,
    path,
    resource_id,
    tags_of,
)
from auditor.collect.clients import NETWORK_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.network import (
    IpConfiguration,
    NetworkInterface,
    NetworkSecurityGroup,
    PublicIpAddress,
    SecurityRule,
    Subnet,
    VirtualNetwork,
    VnetPeering,
)

# The api-version azure-mgmt-network 33.1 sends for every Microsoft.Network operation read here.
API_VERSION = "2026-03-01"
NSGS_API = "Microsoft.Network/networkSecurityGroups"
VNETS_API = "Microsoft.Network/virtualNetworks"
NICS_API = "Microsoft.Network/networkInterfaces"
PUBLIC_IPS_API = "Microsoft.Network/publicIPAddresses"

ACCESS = ("Allow", "Deny")
DIRECTIONS = ("Inbound", "Outbound")
# securityRules protocol values (network 2026-03-01 SecurityRuleProtocol).
PROTOCOLS = ("Tcp", "Udp", "Icmp", "Esp", "Ah", "*")

# Security rules: https://learn.microsoft.com/rest/api/virtualnetwork/network-security-groups/get
# (SecurityRulePropertiesFormat). ARM always returns access, direction, priority and protocol; a rule
# has a destination port and a source either singular or plural; nothing here has a default.
SECURITY_RULE_CONTRACT = (
    Field("name", True),
    Field("properties.access", True),
    Field("properties.direction", True),
    Field("properties.priority", True),
    Field("properties.protocol", True),
    Field("properties.sourceAddressPrefix | sourceAddressPrefixes | sourceApplicationSecurityGroups", True),
    Field("properties.destinationPortRange | destinationPortRanges", True),
    Field("properties.destinationAddressPrefix | destinationAddressPrefixes", False, "no destination restriction"),
    Field("properties.description", False, "no description"),
)
NSG_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    # Always returned ([] when the NSG has no custom rules); absence is unknown, never "no rules".
    Field("properties.securityRules", True),
    Field("properties.defaultSecurityRules", True),
    Field("properties.subnets", False, "not associated with any subnet (the property is omitted when empty)"),
    Field("properties.networkInterfaces", False, "not associated with any NIC (the property is omitted when empty)"),
    TAGS_FIELD,
)
VNET_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.addressSpace.addressPrefixes", False, "unknown"),
    Field("properties.subnets", False, "no subnets"),
    Field("properties.subnets[].properties.addressPrefix | addressPrefixes", True),
    Field("properties.subnets[].properties.networkSecurityGroup", False, "no NSG on the subnet"),
    Field("properties.subnets[].properties.routeTable", False, "no route table on the subnet"),
    Field("properties.virtualNetworkPeerings", False, "no peerings"),
    Field("properties.virtualNetworkPeerings[].properties.remoteVirtualNetwork", True),
    Field("properties.virtualNetworkPeerings[].properties.peeringState", True),
    Field("properties.virtualNetworkPeerings[].properties.allowGatewayTransit", False, UNKNOWN),
    Field("properties.virtualNetworkPeerings[].properties.useRemoteGateways", False, UNKNOWN),
    Field("properties.virtualNetworkPeerings[].properties.allowForwardedTraffic", False, UNKNOWN),
    TAGS_FIELD,
)
NIC_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.ipConfigurations", True),
    Field("properties.ipConfigurations[].properties", True),
    Field("properties.ipConfigurations[].properties.subnet", False, "not in a subnet"),
    Field("properties.ipConfigurations[].properties.publicIPAddress", False, "no public IP address"),
    Field("properties.ipConfigurations[].properties.privateIPAddress", False, UNKNOWN),
    Field("properties.networkSecurityGroup", False, "no NSG on the NIC"),
    Field("properties.virtualMachine", False, "not attached to a VM"),
    TAGS_FIELD,
)
PUBLIC_IP_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("sku.name", False, UNKNOWN),
    Field("properties.ipAddress", False, "no address allocated"),
    Field("properties.ipConfiguration", False, "not associated with any resource"),
    TAGS_FIELD,
)


def security_rule(rule: Reader, *, is_default: bool) -> SecurityRule | None:
    """An NSG rule with singular and plural prefix and port fields merged; None when it cannot be read."""
    before = len(rule.problems)
    access = rule.choice("properties.access", ACCESS, required=True)
    direction = rule.choice("properties.direction", DIRECTIONS, required=True)
    protocol = rule.choice("properties.protocol", PROTOCOLS, required=True)
    priority = rule.integer("properties.priority", required=True)
    sources = rule.merged("properties.sourceAddressPrefix", "properties.sourceAddressPrefixes")
    source_asgs = rule.ref_ids("properties.sourceApplicationSecurityGroups")
    ports = rule.merged("properties.destinationPortRange", "properties.destinationPortRanges")
    if not sources and not source_asgs:
        rule.missing("properties.sourceAddressPrefix")
    if not ports:
        rule.missing("properties.destinationPortRange")
    if len(rule.problems) > before or access is None or direction is None or protocol is None or priority is None:
        # Judging the NSG without this rule could pass what the rule opens; the NSG carries the problem.
        return None
    return SecurityRule(
        name=rule.text("name") or "",
        priority=priority,
        direction=direction,
        access=access,
        protocol=protocol,
        source_prefixes=sources,
        destination_ports=ports,
        source_asg_ids=source_asgs,
        destination_prefixes=rule.merged(
            "properties.destinationAddressPrefix", "properties.destinationAddressPrefixes"
        ),
        is_default=is_default,
        description=rule.text("properties.description") or "",
    )


def _rules(nsg: Reader, field: str, *, is_default: bool) -> tuple[SecurityRule, ...]:
    found = (security_rule(r, is_default=is_default) for r in nsg.items(field, required=True))
    return tuple(r for r in found if r is not None)


def network_security_group(raw: Mapping[str, Any], subscription_id: str) -> NetworkSecurityGroup:
    """An NSG record from a raw ARM resource."""
    nsg = Reader(raw)
    nsg_id = resource_id(nsg, f"/subscriptions/{subscription_id}", NSGS_API)
    rules = _rules(nsg, "properties.securityRules", is_default=False)
    defaults = _rules(nsg, "properties.defaultSecurityRules", is_default=True)
    return NetworkSecurityGroup(
        id=nsg_id,
        name=nsg.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(nsg_id),
        location=nsg.text("location") or "",
        rules=rules + defaults,
        subnet_ids=nsg.ref_ids("properties.subnets"),
        nic_ids=nsg.ref_ids("properties.networkInterfaces"),
        tags=tags_of(raw),
        unreadable=nsg.found(),
    )


def _subnet(subnet: Reader) -> Subnet:
    prefixes = subnet.merged("properties.addressPrefix", "properties.addressPrefixes")
    if not prefixes:
        subnet.missing("properties.addressPrefix")
    return Subnet(
        id=subnet.text("id", required=True) or "",
        name=subnet.text("name") or "",
        address_prefixes=prefixes,
        nsg_id=subnet.ref("properties.networkSecurityGroup"),
        route_table_id=subnet.ref("properties.routeTable"),
    )


def _ip_configuration(config: Reader) -> IpConfiguration:
    if not config.present("properties"):
        config.missing("properties")
    return IpConfiguration(
        name=config.text("name") or "",
        subnet_id=config.ref("properties.subnet"),
        private_ip=config.text("properties.privateIPAddress"),
        public_ip_id=config.ref("properties.publicIPAddress"),
    )


def virtual_network(raw: Mapping[str, Any], subscription_id: str) -> VirtualNetwork:
    """A VNet record with its subnets and peerings."""
    vnet = Reader(raw)
    vnet_id = resource_id(vnet, f"/subscriptions/{subscription_id}", VNETS_API)
    subnets = tuple(_subnet(s) for s in vnet.items("properties.subnets"))
    peerings = tuple(
        VnetPeering(
            name=p.text("name") or "",
            remote_vnet_id=p.ref("properties.remoteVirtualNetwork"),
            peering_state=p.text("properties.peeringState"),
            allow_gateway_transit=p.flag("properties.allowGatewayTransit"),
            use_remote_gateways=p.flag("properties.useRemoteGateways"),
            allow_forwarded_traffic=p.flag("properties.allowForwardedTraffic"),
        )
        for p in vnet.items("properties.virtualNetworkPeerings")
    )
    return VirtualNetwork(
        id=vnet_id,
        name=vnet.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(vnet_id),
        location=vnet.text("location") or "",
        address_prefixes=vnet.strings("properties.addressSpace.addressPrefixes"),
        subnets=tuple(s for s in subnets if s.id),
        peerings=peerings,
        tags=tags_of(raw),
        unreadable=vnet.found(),
    )


def network_interface(raw: Mapping[str, Any], subscription_id: str) -> NetworkInterface:
    """A NIC record with its IP configurations."""
    nic = Reader(raw)
    nic_id = resource_id(nic, f"/subscriptions/{subscription_id}", NICS_API)
    configs = tuple(_ip_configuration(c) for c in nic.items("properties.ipConfigurations", required=True))
    return NetworkInterface(
        id=nic_id,
        name=nic.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(nic_id),
        location=nic.text("location") or "",
        ip_configurations=configs,
        nsg_id=nic.ref("properties.networkSecurityGroup"),
        vm_id=nic.ref("properties.virtualMachine"),
        tags=tags_of(raw),
        unreadable=nic.found(),
    )


def public_ip_address(raw: Mapping[str, Any], subscription_id: str) -> PublicIpAddress:
    """A public IP record; the SKU decides whether it is open without an NSG."""
    pip = Reader(raw)
    pip_id = resource_id(pip, f"/subscriptions/{subscription_id}", PUBLIC_IPS_API)
    return PublicIpAddress(
        id=pip_id,
        name=pip.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(pip_id),
        location=pip.text("location") or "",
        sku=pip.choice("sku.name", ("Basic", "Standard")),
        ip_address=pip.text("properties.ipAddress"),
        attached_to=pip.ref("properties.ipConfiguration"),
        tags=tags_of(raw),
        unreadable=pip.found(),
    )


def _list(session: AzureSession, subscription_id: str, resource_type: str) -> Iterator[dict[str, Any]]:
    """A subscription-wide Microsoft.Network list through the network client's pipeline."""
    pipeline = arm_pipeline(session, NETWORK_CLIENT, subscription_id)
    url = path("/subscriptions/{}/providers/" + resource_type, subscription_id, api_version=API_VERSION)
    return list_objects(pipeline, session.arm_url, url)


def list_nsgs(session: AzureSession, subscription_id: str) -> Iterator[NetworkSecurityGroup]:
    """Every NSG of the subscription."""
    return build_all(_list(session, subscription_id, NSGS_API), network_security_group, subscription_id)


def list_vnets(session: AzureSession, subscription_id: str) -> Iterator[VirtualNetwork]:
    """Every virtual network of the subscription."""
    return build_all(_list(session, subscription_id, VNETS_API), virtual_network, subscription_id)


def list_nics(session: AzureSession, subscription_id: str) -> Iterator[NetworkInterface]:
    """Every network interface of the subscription."""
    return build_all(_list(session, subscription_id, NICS_API), network_interface, subscription_id)


def list_public_ips(session: AzureSession, subscription_id: str) -> Iterator[PublicIpAddress]:
    """Every public IP address of the subscription."""
    return build_all(_list(session, subscription_id, PUBLIC_IPS_API), public_ip_address, subscription_id)


STEPS = (
    Listing(NSGS_API, "network_security_groups", list_nsgs),
    Listing(VNETS_API, "virtual_networks", list_vnets),
    Listing(NICS_API, "network_interfaces", list_nics),
    Listing(PUBLIC_IPS_API, "public_ip_addresses", list_public_ips),
)
