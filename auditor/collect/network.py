"""Network collector: NSGs, virtual networks and subnets, NICs and public IPs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.mgmt.network import NetworkManagementClient

from auditor.arm_ids import resource_group_of
from auditor.collect.base import Listing, merged, ref_id, text
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


def _client(session: AzureSession, subscription_id: str) -> NetworkManagementClient:
    return session.client(NetworkManagementClient, subscription_id)


def security_rule(rule: Any, *, is_default: bool) -> SecurityRule:
    """An NSG rule with singular and plural prefix and port fields merged."""
    return SecurityRule(
        name=rule.name or "",
        priority=int(rule.priority) if rule.priority is not None else 0,
        direction=text(rule.direction) or "",
        access=text(rule.access) or "",
        protocol=text(rule.protocol) or "",
        source_prefixes=merged(rule.source_address_prefix, rule.source_address_prefixes),
        destination_ports=merged(rule.destination_port_range, rule.destination_port_ranges),
        source_asg_ids=tuple(a.id for a in rule.source_application_security_groups or () if a.id),
        destination_prefixes=merged(rule.destination_address_prefix, rule.destination_address_prefixes),
        is_default=is_default,
        description=rule.description or "",
    )


def network_security_group(nsg: Any, subscription_id: str) -> NetworkSecurityGroup:
    """An NSG record from the SDK model."""
    rules = tuple(security_rule(r, is_default=False) for r in nsg.security_rules or ())
    defaults = tuple(security_rule(r, is_default=True) for r in nsg.default_security_rules or ())
    return NetworkSecurityGroup(
        id=nsg.id,
        name=nsg.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(nsg.id),
        location=nsg.location or "",
        rules=rules + defaults,
        subnet_ids=tuple(s.id for s in nsg.subnets or () if s.id),
        nic_ids=tuple(n.id for n in nsg.network_interfaces or () if n.id),
    )


def virtual_network(vnet: Any, subscription_id: str) -> VirtualNetwork:
    """A VNet record with its subnets and peerings."""
    subnets = tuple(
        Subnet(
            id=s.id,
            name=s.name or "",
            address_prefixes=merged(s.address_prefix, s.address_prefixes),
            nsg_id=ref_id(s.network_security_group),
            route_table_id=ref_id(s.route_table),
        )
        for s in vnet.subnets or ()
    )
    peerings = tuple(
        VnetPeering(
            name=p.name or "",
            remote_vnet_id=ref_id(p.remote_virtual_network),
            peering_state=text(p.peering_state),
            allow_gateway_transit=p.allow_gateway_transit,
            use_remote_gateways=p.use_remote_gateways,
            allow_forwarded_traffic=p.allow_forwarded_traffic,
        )
        for p in vnet.virtual_network_peerings or ()
    )
    space = vnet.address_space.address_prefixes if vnet.address_space else None
    return VirtualNetwork(
        id=vnet.id,
        name=vnet.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(vnet.id),
        location=vnet.location or "",
        address_prefixes=tuple(space or ()),
        subnets=subnets,
        peerings=peerings,
    )


def network_interface(nic: Any, subscription_id: str) -> NetworkInterface:
    """A NIC record with its IP configurations."""
    configs = tuple(
        IpConfiguration(
            name=c.name or "",
            subnet_id=ref_id(c.subnet),
            private_ip=c.private_ip_address,
            public_ip_id=ref_id(c.public_ip_address),
        )
        for c in nic.ip_configurations or ()
    )
    return NetworkInterface(
        id=nic.id,
        name=nic.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(nic.id),
        location=nic.location or "",
        ip_configurations=configs,
        nsg_id=ref_id(nic.network_security_group),
        vm_id=ref_id(nic.virtual_machine),
    )


def public_ip_address(pip: Any, subscription_id: str) -> PublicIpAddress:
    """A public IP record; the SKU decides whether it is open without an NSG."""
    return PublicIpAddress(
        id=pip.id,
        name=pip.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(pip.id),
        location=pip.location or "",
        sku=text(pip.sku.name) if pip.sku else None,
        ip_address=pip.ip_address,
        attached_to=ref_id(pip.ip_configuration),
    )


def list_nsgs(session: AzureSession, subscription_id: str) -> Iterator[NetworkSecurityGroup]:
    """Every NSG of the subscription."""
    for nsg in _client(session, subscription_id).network_security_groups.list_all():
        yield network_security_group(nsg, subscription_id)


def list_vnets(session: AzureSession, subscription_id: str) -> Iterator[VirtualNetwork]:
    """Every virtual network of the subscription."""
    for vnet in _client(session, subscription_id).virtual_networks.list_all():
        yield virtual_network(vnet, subscription_id)


def list_nics(session: AzureSession, subscription_id: str) -> Iterator[NetworkInterface]:
    """Every network interface of the subscription."""
    for nic in _client(session, subscription_id).network_interfaces.list_all():
        yield network_interface(nic, subscription_id)


def list_public_ips(session: AzureSession, subscription_id: str) -> Iterator[PublicIpAddress]:
    """Every public IP address of the subscription."""
    for pip in _client(session, subscription_id).public_ip_addresses.list_all():
        yield public_ip_address(pip, subscription_id)


STEPS = (
    Listing("Microsoft.Network/networkSecurityGroups", "network_security_groups", list_nsgs),
    Listing("Microsoft.Network/virtualNetworks", "virtual_networks", list_vnets),
    Listing("Microsoft.Network/networkInterfaces", "network_interfaces", list_nics),
    Listing("Microsoft.Network/publicIPAddresses", "public_ip_addresses", list_public_ips),
)
