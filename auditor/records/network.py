"""Network records: NSGs and their rules, virtual networks, NICs, public IPs."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.records.tags import NO_TAGS, Tags
from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class SecurityRule:
    """One NSG rule with singular and plural fields merged into tuples."""

    name: str
    priority: int
    direction: str
    access: str
    protocol: str
    source_prefixes: tuple[str, ...]
    destination_ports: tuple[str, ...]
    source_asg_ids: tuple[str, ...] = ()
    destination_prefixes: tuple[str, ...] = ()
    is_default: bool = False
    description: str = ""


@dataclass(frozen=True)
class NetworkSecurityGroup:
    """A network security group with its custom and default rules."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    rules: tuple[SecurityRule, ...]
    subnet_ids: tuple[str, ...] = ()
    nic_ids: tuple[str, ...] = ()
    type: str = "Microsoft.Network/networkSecurityGroups"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class Subnet:
    """A subnet of a virtual network."""

    id: str
    name: str
    address_prefixes: tuple[str, ...]
    nsg_id: str | None = None
    route_table_id: str | None = None


@dataclass(frozen=True)
class VirtualNetwork:
    """A virtual network and its subnets."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    address_prefixes: tuple[str, ...]
    subnets: tuple[Subnet, ...]
    peerings: tuple[VnetPeering, ...] = ()
    type: str = "Microsoft.Network/virtualNetworks"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class PublicIpAddress:
    """A public IP address resource."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    sku: str | None
    ip_address: str | None = None
    attached_to: str | None = None
    type: str = "Microsoft.Network/publicIPAddresses"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class IpConfiguration:
    """One IP configuration of a NIC."""

    name: str
    subnet_id: str | None
    private_ip: str | None = None
    public_ip_id: str | None = None


@dataclass(frozen=True)
class NetworkInterface:
    """A network interface, the unit Azure applies NSGs to."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    ip_configurations: tuple[IpConfiguration, ...]
    nsg_id: str | None = None
    vm_id: str | None = None
    type: str = "Microsoft.Network/networkInterfaces"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class VnetPeering:
    """A peering from one virtual network to another."""

    name: str
    remote_vnet_id: str | None
    peering_state: str | None
    allow_gateway_transit: bool | None = None
    use_remote_gateways: bool | None = None
    allow_forwarded_traffic: bool | None = None


@dataclass(frozen=True)
class Route:
    """One user-defined route."""

    name: str
    address_prefix: str | None
    next_hop_type: str | None
    next_hop_ip: str | None = None


@dataclass(frozen=True)
class RouteTable:
    """A route table and the subnets it is attached to."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    routes: tuple[Route, ...]
    subnet_ids: tuple[str, ...] = ()
    type: str = "Microsoft.Network/routeTables"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class NatRule:
    """A DNAT rule of an Azure Firewall (classic rules) or a firewall policy rule collection."""

    name: str
    collection: str
    protocols: tuple[str, ...]
    source_addresses: tuple[str, ...]
    destination_addresses: tuple[str, ...]
    destination_ports: tuple[str, ...]
    translated_address: str | None
    translated_port: str | None
    source_ip_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class AzureFirewall:
    """An Azure Firewall."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    provisioning_state: str | None
    threat_intel_mode: str | None
    sku_tier: str | None
    firewall_policy_id: str | None
    private_ips: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    nat_rules: tuple[NatRule, ...] = ()
    type: str = "Microsoft.Network/azureFirewalls"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class FirewallPolicy:
    """A firewall policy with its DNAT rules (from its rule collection groups)."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    threat_intel_mode: str | None
    nat_rules: tuple[NatRule, ...] = ()
    rule_collection_group_ids: tuple[str, ...] = ()
    type: str = "Microsoft.Network/firewallPolicies"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS
    # The parent policy whose rule collection groups this policy inherits.
    base_policy_id: str | None = None


@dataclass(frozen=True)
class VirtualNetworkGateway:
    """A virtual network gateway (VPN or ExpressRoute) and its point-to-site settings."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    gateway_type: str | None
    vpn_type: str | None
    sku: str | None
    vnet_id: str | None
    provisioning_state: str | None = None
    p2s_address_pools: tuple[str, ...] = ()
    p2s_auth_types: tuple[str, ...] = ()
    p2s_protocols: tuple[str, ...] = ()
    p2s_root_certificates: int = 0
    aad_tenant: str | None = None
    radius_server: str | None = None
    type: str = "Microsoft.Network/virtualNetworkGateways"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class ResourceGroup:
    """A resource group: the parent of listings that ARM offers only per group."""

    id: str
    name: str
    subscription_id: str
    location: str
    resource_group: str = ""
    type: str = "Microsoft.Resources/resourceGroups"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS
