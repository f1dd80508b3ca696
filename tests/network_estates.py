"""Network estates for the NET-01 to NET-04 check tests: records of VNets, NICs, VMs, gateways, firewalls."""

from __future__ import annotations

from typing import Any

from auditor.checks.primitives import AZURE_DEFAULT_RULES
from auditor.model import CheckResult
from auditor.parameters import Params
from auditor.records.compute import ImageReference, VirtualMachine
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    IpConfiguration,
    NatRule,
    NetworkInterface,
    NetworkSecurityGroup,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    VirtualNetwork,
    VirtualNetworkGateway,
    VnetPeering,
)
from tests.builders import SUB, CheckFunction, make_inventory, results, rid

PARAMS = Params(
    {
        "allowed_rdp_sources": ("203.0.113.0/24",),
        "allowed_vpn_publishers": ("fortinet",),
        "vpn_source_prefixes": (),
        "exposed_ports": ("22", "5985", "5986", "1433", "1434", "3306", "5432"),
    }
)
POOL = "172.16.201.0/24"
FIREWALL_IP = "10.0.1.4"

# --- records -------------------------------------------------------------------------------------------

# The rules Azure adds to every NSG, as the collector reads them from defaultSecurityRules.
DEFAULT_RULES = AZURE_DEFAULT_RULES


def outbound(
    name: str = "deny-internet",
    *,
    priority: int = 4000,
    access: str = "Deny",
    protocol: str = "*",
    destinations: tuple[str, ...] = ("Internet",),
    ports: tuple[str, ...] = ("*",),
) -> SecurityRule:
    """An outbound NSG rule."""
    return SecurityRule(name, priority, "Outbound", access, protocol, ("*",), ports, (), destinations)


def nsg(name: str = "nsg", *rules: SecurityRule) -> NetworkSecurityGroup:
    """An NSG with the given custom rules and all of Azure's default rules, inbound and outbound."""
    return NetworkSecurityGroup(
        rid("Microsoft.Network/networkSecurityGroups", name), name, SUB, "rg-test", "eastus", rules + DEFAULT_RULES
    )


def vnet_id(name: str) -> str:
    """The id of a test VNet."""
    return rid("Microsoft.Network/virtualNetworks", name)


def subnet(
    vnet: str = "spoke",
    name: str = "servers",
    prefix: str = "10.1.1.0/24",
    *,
    nsg_id: str | None = None,
    route_table_id: str | None = None,
) -> Subnet:
    """A subnet of the named test VNet."""
    return Subnet(f"{vnet_id(vnet)}/subnets/{name}", name, (prefix,), nsg_id, route_table_id)


def peering(remote: str, *, state: str | None = "Connected", use_remote: bool | None = True) -> VnetPeering:
    """A peering to the named test VNet."""
    return VnetPeering(f"to-{remote}", vnet_id(remote), state, False, use_remote, True)


def vnet(name: str, *subnets: Subnet, peerings: tuple[VnetPeering, ...] = ()) -> VirtualNetwork:
    """A test VNet."""
    return VirtualNetwork(vnet_id(name), name, SUB, "rg-test", "eastus", ("10.0.0.0/8",), subnets, peerings)


def hub(*extra: Subnet, peerings: tuple[VnetPeering, ...] = ()) -> VirtualNetwork:
    """The hub VNet with a GatewaySubnet and an AzureFirewallSubnet."""
    return vnet(
        "hub",
        subnet("hub", "GatewaySubnet", "10.0.0.0/27"),
        subnet("hub", "AzureFirewallSubnet", "10.0.1.0/26"),
        *extra,
        peerings=peerings,
    )


def nic(
    name: str = "nic",
    at: Subnet | None = None,
    *,
    vm: str | None = "vm",
    nsg_id: str | None = None,
    ip: str = "10.1.1.4",
    extra: tuple[Subnet, ...] = (),
) -> NetworkInterface:
    """A NIC attached to the named VM (None for a NIC of no VM), in the given subnet(s)."""
    configs = tuple(
        IpConfiguration(f"ipconfig{i}", s.id if s else None, ip) for i, s in enumerate((at, *extra), start=1)
    )
    return NetworkInterface(
        rid("Microsoft.Network/networkInterfaces", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        configs,
        nsg_id,
        rid("Microsoft.Compute/virtualMachines", vm) if vm else None,
    )


def vm(
    name: str = "vm", *, publisher: str | None = "MicrosoftWindowsServer", nics: tuple[str, ...] = ()
) -> VirtualMachine:
    """A VM from an image of the given publisher."""
    return VirtualMachine(
        rid("Microsoft.Compute/virtualMachines", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        "Windows",
        ImageReference(publisher, "offer", "sku", "latest"),
        None,
        nic_ids=nics,
    )


def gateway(name: str = "vgw", vnet: str = "hub", **fields: Any) -> VirtualNetworkGateway:
    """A provisioned route-based VPN gateway with Entra ID point-to-site unless fields say otherwise."""
    values: dict[str, Any] = {
        "gateway_type": "Vpn",
        "vpn_type": "RouteBased",
        "sku": "VpnGw1",
        "vnet_id": vnet_id(vnet),
        "provisioning_state": "Succeeded",
        "p2s_address_pools": (POOL,),
        "p2s_auth_types": ("AAD",),
        "p2s_protocols": ("OpenVPN",),
    } | fields
    return VirtualNetworkGateway(
        rid("Microsoft.Network/virtualNetworkGateways", name), name, SUB, "rg-test", "eastus", **values
    )


def firewall(name: str = "afw", vnet: str = "hub", **fields: Any) -> AzureFirewall:
    """A provisioned Azure Firewall with threat intelligence Deny unless fields say otherwise."""
    values: dict[str, Any] = {
        "provisioning_state": "Succeeded",
        "threat_intel_mode": "Deny",
        "sku_tier": "Standard",
        "firewall_policy_id": None,
        "private_ips": (FIREWALL_IP,),
        "subnet_ids": (f"{vnet_id(vnet)}/subnets/AzureFirewallSubnet",),
    } | fields
    return AzureFirewall(rid("Microsoft.Network/azureFirewalls", name), name, SUB, "rg-test", "eastus", **values)


def policy(name: str = "afwp", *, mode: str | None = "Deny", **fields: Any) -> FirewallPolicy:
    """A firewall policy."""
    return FirewallPolicy(
        rid("Microsoft.Network/firewallPolicies", name), name, SUB, "rg-test", "eastus", mode, **fields
    )


def nat(
    name: str = "rdp",
    *,
    sources: tuple[str, ...] = ("203.0.113.0/24",),
    port: str = "3389",
    translated: str | None = "3389",
    protocols: tuple[str, ...] = ("TCP",),
    ip_groups: tuple[str, ...] = (),
) -> NatRule:
    """A DNAT rule on the firewall's public address."""
    return NatRule(name, "dnat", protocols, sources, ("192.0.2.10",), (port,), "10.1.1.4", translated, ip_groups)


def route_table(
    name: str = "rt", *, next_hop: str = FIREWALL_IP, kind: str = "VirtualAppliance", subnets: tuple[str, ...] = ()
) -> RouteTable:
    """A route table sending 0.0.0.0/0 to the given next hop."""
    return RouteTable(
        rid("Microsoft.Network/routeTables", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        (Route("default", "0.0.0.0/0", kind, next_hop if kind == "VirtualAppliance" else None),),
        subnets,
    )


def run(check: CheckFunction, params: Params = PARAMS, **records: Any) -> list[CheckResult]:
    """The check's results over an inventory holding the records."""
    return results(check, make_inventory(**records), params)


def only(check: CheckFunction, params: Params = PARAMS, **records: Any) -> CheckResult:
    """The single result of the check over an inventory holding the records."""
    (result,) = run(check, params, **records)
    return result


# --- a spoke with one server, peered to the hub ------------------------------------------------------

SPOKE_SERVERS = subnet("spoke", "servers", "10.1.1.0/24")
HUB_SERVERS = subnet("hub", "servers", "10.0.2.0/24")
FGT = subnet("hub", "fgt", "10.0.4.0/24")
SERVER_NIC = nic("nic-web", SPOKE_SERVERS, vm="web")
SERVER_VM = vm("web", nics=(SERVER_NIC.id,))
APPLIANCE_NIC = nic("nic-fgt", FGT, vm="fgt", ip="10.0.4.4")
APPLIANCE_VM = vm("fgt", publisher="Fortinet", nics=(APPLIANCE_NIC.id,))


def spoke_estate(
    *,
    spoke_peerings: tuple[VnetPeering, ...] = (peering("hub"),),
    gateways: tuple[VirtualNetworkGateway, ...] = (gateway(),),
    appliance: bool = False,
    hub_collected: bool = True,
    **records: Any,
) -> dict[str, Any]:
    """A spoke VNet with one server, peered to a hub holding the given gateways (and an appliance)."""
    vnets = [vnet("spoke", SPOKE_SERVERS, peerings=spoke_peerings)]
    if hub_collected:
        vnets.append(hub(FGT))
    nics = [SERVER_NIC, *([APPLIANCE_NIC] if appliance else [])]
    vms = [SERVER_VM, *([APPLIANCE_VM] if appliance else [])]
    return {
        "virtual_networks": vnets,
        "network_interfaces": nics,
        "virtual_machines": vms,
        "virtual_network_gateways": list(gateways),
    } | records
