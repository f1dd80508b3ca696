"""NET-02 VPN path, authentication and sources, NET-03 firewall layers."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.checks.network_layers import (
    azure_firewall_protects_servers,
    internet_egress,
    remote_admin_sources_via_vpn,
    server_egress_filtered,
    vm_nics_have_nsg,
    vpn_p2s_authentication,
    vpn_path_to_servers,
)
from auditor.inventory import Inventory
from auditor.model import CheckResult, Status
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
from tests.builders import SUB, CheckFunction, make_inventory, make_rule, results, rid

PARAMS = Params(
    {
        "allowed_rdp_sources": ("203.0.113.0/24",),
        "allowed_vpn_publishers": ("fortinet",),
        "exposed_ports": ("22", "5985", "5986", "1433", "1434", "3306", "5432"),
    }
)
POOL = "172.16.201.0/24"
FIREWALL_IP = "10.0.1.4"

# --- builders -------------------------------------------------------------------------------------------

DEFAULT_RULES = (
    SecurityRule("AllowVnetInBound", 65000, "Inbound", "Allow", "*", ("VirtualNetwork",), ("*",), is_default=True),
    SecurityRule(
        "AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "*", ("AzureLoadBalancer",), ("*",), is_default=True
    ),
    SecurityRule("DenyAllInBound", 65500, "Inbound", "Deny", "*", ("*",), ("*",), is_default=True),
    SecurityRule(
        "AllowVnetOutBound",
        65000,
        "Outbound",
        "Allow",
        "*",
        ("VirtualNetwork",),
        ("*",),
        destination_prefixes=("VirtualNetwork",),
        is_default=True,
    ),
    SecurityRule(
        "AllowInternetOutBound",
        65001,
        "Outbound",
        "Allow",
        "*",
        ("*",),
        ("*",),
        destination_prefixes=("Internet",),
        is_default=True,
    ),
    SecurityRule(
        "DenyAllOutBound", 65500, "Outbound", "Deny", "*", ("*",), ("*",), destination_prefixes=("*",), is_default=True
    ),
)


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


# --- NET-02: a VPN path into every server VNet ----------------------------------------------------------

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


@pytest.mark.parametrize(
    ("estate", "expected", "words"),
    [
        (spoke_estate(), Status.PASS, "vgw in peered hub hub"),
        (spoke_estate(gateways=(), appliance=True), Status.PASS, "VPN appliance fgt in peered VNet hub"),
        (spoke_estate(spoke_peerings=(), gateways=(gateway(vnet="spoke"),)), Status.PASS, "in this VNet"),
        (spoke_estate(gateways=()), Status.FAIL, "No VPN gateway"),
        (spoke_estate(spoke_peerings=(peering("hub", use_remote=False),)), Status.FAIL, "does not use remote"),
        (spoke_estate(spoke_peerings=(peering("hub", state="Disconnected"),)), Status.FAIL, "is Disconnected"),
        (spoke_estate(gateways=(gateway(gateway_type="ExpressRoute"),)), Status.FAIL, "No VPN gateway"),
        (spoke_estate(gateways=(gateway(provisioning_state="Failed"),)), Status.FAIL, "in state Failed"),
        (spoke_estate(gateways=(gateway(gateway_type=None),)), Status.ERROR, "no gateway type"),
        (spoke_estate(gateways=(), hub_collected=False), Status.ERROR, "was not collected"),
        (spoke_estate(spoke_peerings=(peering("hub", use_remote=None),)), Status.ERROR, "useRemoteGateways"),
    ],
    ids=[
        "hub gateway used through the peering",
        "appliance in the peered hub",
        "gateway in the VNet",
        "no gateway",
        "peering does not use remote gateways",
        "peering disconnected",
        "ExpressRoute gateway only",
        "gateway failed to provision",
        "gateway type unknown",
        "peered hub not collected",
        "peering without useRemoteGateways",
    ],
)
def test_vpn_path_to_server_vnet(estate: dict[str, Any], expected: Status, words: str) -> None:
    result = only(vpn_path_to_servers, **estate)
    assert result.status is expected
    assert result.resource_id == vnet_id("spoke")
    assert words in result.message
    assert result.evidence["servers"] == ["web"]


def test_appliance_publisher_comes_from_the_parameter() -> None:
    estate = spoke_estate(gateways=(), appliance=True)
    assert only(vpn_path_to_servers, **estate).status is Status.PASS
    other = Params(dict(PARAMS.values) | {"allowed_vpn_publishers": ("paloaltonetworks",)})
    results = run(vpn_path_to_servers, other, **estate)
    # The Fortinet VM now counts as a server in the hub, and neither VNet has a VPN path.
    assert {(r.resource_id, r.status) for r in results} == {
        (vnet_id("spoke"), Status.FAIL),
        (vnet_id("hub"), Status.FAIL),
    }


def test_vnets_without_servers_are_not_judged() -> None:
    estate = spoke_estate(network_interfaces=[nic("pe", SPOKE_SERVERS, vm=None)], virtual_machines=[])
    assert run(vpn_path_to_servers, **estate) == []


@pytest.mark.parametrize(
    ("records", "words"),
    [
        ({"virtual_machines": [vm("web", nics=(rid("Microsoft.Network/networkInterfaces", "gone"),))]}, "gone"),
        ({"virtual_networks": [hub()]}, "subnets/servers"),
    ],
    ids=["VM NIC not collected", "NIC subnet not collected"],
)
def test_unfollowable_vm_references_are_errors(records: dict[str, Any], words: str) -> None:
    estate = spoke_estate(**records)
    errors = [r for r in run(vpn_path_to_servers, **estate) if r.status is Status.ERROR]
    assert len(errors) == 1
    assert words in errors[0].message
    assert "not collected" in errors[0].message


# --- NET-02: point-to-site authentication ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, Status.PASS),
        ({"p2s_auth_types": ("Certificate",), "p2s_root_certificates": 1}, Status.PASS),
        ({"p2s_auth_types": ("AAD", "Radius")}, Status.PASS),
        ({"p2s_auth_types": (), "p2s_root_certificates": 2}, Status.PASS),
        (
            {"p2s_address_pools": (), "p2s_auth_types": (), "p2s_protocols": ()},
            Status.PASS,
        ),
        ({"p2s_auth_types": ("Radius",), "radius_server": "10.0.9.9"}, Status.FAIL),
        ({"p2s_auth_types": (), "radius_server": "10.0.9.9"}, Status.FAIL),
        ({"p2s_auth_types": ()}, Status.FAIL),
        ({"gateway_type": None}, Status.ERROR),
    ],
    ids=[
        "Entra ID",
        "certificate",
        "Entra ID and RADIUS",
        "certificate inferred from root certificates",
        "site-to-site only",
        "RADIUS only",
        "RADIUS inferred",
        "pool without authentication",
        "gateway type unknown",
    ],
)
def test_point_to_site_authentication(fields: dict[str, Any], expected: Status) -> None:
    result = only(vpn_p2s_authentication, virtual_network_gateways=[gateway(**fields)])
    assert result.status is expected
    if expected is Status.FAIL:
        assert "not Entra ID" in result.message or "no authentication type" in result.message


def test_point_to_site_evidence_and_scope() -> None:
    results = run(
        vpn_p2s_authentication,
        virtual_network_gateways=[
            gateway(p2s_auth_types=(), p2s_root_certificates=2),
            gateway("er", gateway_type="ExpressRoute"),
        ],
    )
    (result,) = results
    assert result.evidence["p2s_auth_types"] == ["Certificate"]
    assert result.evidence["auth_types_inferred"] is True
    assert result.evidence["p2s_address_pools"] == [POOL]


# --- NET-02: remote administration only from VPN sources ------------------------------------------------

ADMIN_FAILING = {
    "RDP from Internet": (make_rule(sources=("Internet",)),),
    "SSH from star": (make_rule(sources=("*",), ports=("22",)),),
    "private range outside the pool": (make_rule(sources=("10.0.0.0/8",)),),
    "pool plus another private range": (make_rule(sources=(POOL, "10.1.0.0/16"), ports=("22",)),),
    "VirtualNetwork tag": (make_rule(protocol="*", sources=("VirtualNetwork",), ports=("*",)),),
    "application security group": (
        SecurityRule("asg", 100, "Inbound", "Allow", "Tcp", (), ("3389",), source_asg_ids=("/asg/admins",)),
    ),
    "public prefix not whitelisted": (make_rule(sources=("198.51.100.0/24",), ports=("3380-3390",)),),
    "deny of Internet does not shadow a tag": (
        make_rule("deny", priority=100, access="Deny", protocol="*", sources=("Internet",)),
        make_rule("allow-vnet", priority=200, sources=("VirtualNetwork",)),
    ),
    "RDP over UDP": (make_rule(protocol="Udp", sources=("Internet",)),),
}

ADMIN_PASSING = {
    "no custom rules (defaults are not judged)": (),
    "VPN client pool": (make_rule(sources=(POOL,)),),
    "address in the pool": (make_rule(sources=("172.16.201.10",), ports=("22",)),),
    "gateway subnet": (make_rule(sources=("10.0.0.0/27",)),),
    "whitelisted public prefix": (make_rule(sources=("203.0.113.0/24",)),),
    "VPN appliance address": (make_rule(sources=("10.0.4.4",)),),
    "shadowed by a higher-priority deny": (
        make_rule("deny", priority=200, access="Deny", protocol="*", sources=("Internet",)),
        make_rule("legacy", priority=300, sources=("Internet",)),
    ),
    "deny star shadows a tag": (
        make_rule("deny", priority=100, access="Deny", protocol="*", sources=("*",)),
        make_rule("allow-vnet", priority=200, sources=("VirtualNetwork",)),
    ),
    "other ports from anywhere": (make_rule(sources=("*",), ports=("443",)),),
    "deny only": (make_rule(access="Deny", sources=("*",)),),
}


def admin_result(*rules: SecurityRule, params: Params = PARAMS, **records: Any) -> CheckResult:
    """The verdict on one NSG, with the hub gateway and the Fortinet appliance in the estate."""
    estate: dict[str, Any] = {
        "virtual_networks": [hub(FGT)],
        "network_interfaces": [APPLIANCE_NIC],
        "virtual_machines": [APPLIANCE_VM],
        "virtual_network_gateways": [gateway()],
    } | records
    return only(remote_admin_sources_via_vpn, params, network_security_groups=[nsg("nsg", *rules)], **estate)


@pytest.mark.parametrize("rules", ADMIN_FAILING.values(), ids=ADMIN_FAILING.keys())
def test_remote_admin_from_outside_the_vpn_fails(rules: tuple[SecurityRule, ...]) -> None:
    result = admin_result(*rules)
    assert result.status is Status.FAIL
    assert result.evidence["violations"]


@pytest.mark.parametrize("rules", ADMIN_PASSING.values(), ids=ADMIN_PASSING.keys())
def test_remote_admin_from_vpn_sources_passes(rules: tuple[SecurityRule, ...]) -> None:
    assert admin_result(*rules).status is Status.PASS


def test_vpn_sources_come_from_vpn_gateways_only() -> None:
    rule = make_rule(sources=(POOL,))
    express = gateway(gateway_type="ExpressRoute")
    assert admin_result(rule, virtual_network_gateways=[express]).status is Status.FAIL
    assert admin_result(rule, virtual_network_gateways=[]).status is Status.FAIL


def test_remote_admin_evidence_names_rule_port_and_pools() -> None:
    result = admin_result(make_rule("partner", priority=120, sources=("198.51.100.0/24", "10.1.0.0/16"), ports=("22",)))
    (violation,) = result.evidence["violations"]
    assert (violation["rule"], violation["priority"], violation["port"]) == ("partner", 120, 22)
    assert "198.51.100.0/24" in violation["sources_outside_vpn_example"]
    assert result.evidence["vpn_sources"]["vpn_client_pools"] == [POOL]
    assert result.evidence["vpn_sources"]["gateway_subnets"] == ["10.0.0.0/27"]
    assert result.evidence["vpn_sources"]["vpn_appliance_addresses"] == ["10.0.4.4"]
    assert "partner (22)" in result.message


# --- NET-03: an Azure Firewall in front of every server VNet --------------------------------------------


def firewall_estate(
    *firewalls: AzureFirewall, peerings: tuple[VnetPeering, ...] = (peering("hub"),), **records: Any
) -> dict[str, Any]:
    """The spoke with one server, peered to the hub holding the firewalls."""
    return spoke_estate(spoke_peerings=peerings, gateways=(), azure_firewalls=list(firewalls)) | records


@pytest.mark.parametrize(
    ("estate", "expected", "words"),
    [
        (firewall_estate(firewall()), Status.PASS, "afw"),
        (firewall_estate(firewall(vnet="spoke"), peerings=()), Status.PASS, "afw"),
        (firewall_estate(firewall(threat_intel_mode="Alert")), Status.PASS, "afw"),
        (
            firewall_estate(
                firewall(threat_intel_mode="Off", firewall_policy_id=policy().id), firewall_policies=[policy()]
            ),
            Status.PASS,
            "afw",
        ),
        (
            firewall_estate(
                firewall(firewall_policy_id=policy().id),
                firewall_policies=[policy(mode=None, base_policy_id=policy("parent").id), policy("parent")],
            ),
            Status.PASS,
            "afw",
        ),
        (firewall_estate(), Status.FAIL, "No Azure Firewall"),
        (firewall_estate(firewall(provisioning_state="Failed")), Status.FAIL, "provisioning Failed"),
        (firewall_estate(firewall(threat_intel_mode="Off")), Status.FAIL, "threat intelligence Off"),
        (firewall_estate(firewall(threat_intel_mode=None)), Status.FAIL, "threat intelligence None"),
        (
            firewall_estate(firewall(firewall_policy_id=policy().id), firewall_policies=[policy(mode="Off")]),
            Status.FAIL,
            "threat intelligence Off (firewall policy afwp)",
        ),
        (firewall_estate(firewall(), peerings=(peering("hub", state="Disconnected"),)), Status.FAIL, "No Azure"),
        (firewall_estate(firewall(firewall_policy_id=policy().id)), Status.ERROR, "was not collected"),
    ],
    ids=[
        "firewall in the peered hub",
        "firewall in the VNet",
        "threat intelligence Alert",
        "policy Deny overrides the firewall's own Off",
        "policy inherits Deny from its parent",
        "no firewall",
        "failed provisioning",
        "threat intelligence off",
        "threat intelligence not reported",
        "policy Off overrides the firewall's own Deny",
        "peering disconnected",
        "policy not collected",
    ],
)
def test_azure_firewall_protects_server_vnets(estate: dict[str, Any], expected: Status, words: str) -> None:
    result = only(azure_firewall_protects_servers, **estate)
    assert result.status is expected
    assert result.resource_id == vnet_id("spoke")
    assert words in result.message


def test_firewall_evidence_names_state_and_mode() -> None:
    result = only(azure_firewall_protects_servers, **firewall_estate(firewall()))
    (evidence,) = result.evidence["firewalls"]
    assert evidence["provisioning_state"] == "Succeeded"
    assert evidence["threat_intel_mode"] == "Deny"
    assert evidence["threat_intel_set_on"] == "firewall afw"


def test_firewall_check_reports_unfollowable_vm_references() -> None:
    gone = vm("ghost", nics=(rid("Microsoft.Network/networkInterfaces", "gone"),))
    results = run(azure_firewall_protects_servers, **firewall_estate(firewall(), virtual_machines=[SERVER_VM, gone]))
    assert sorted(r.status for r in results) == [Status.ERROR, Status.PASS]


# --- NET-03: every VM NIC behind an NSG -----------------------------------------------------------------

GUARDED = subnet("spoke", "guarded", "10.1.2.0/24", nsg_id=nsg("subnet-nsg").id)
BARE = subnet("spoke", "bare", "10.1.3.0/24")


@pytest.mark.parametrize(
    ("interface", "expected", "words"),
    [
        (nic("n", GUARDED), Status.PASS, "subnet NSG subnet-nsg"),
        (nic("n", BARE, nsg_id=nsg("nic-nsg").id), Status.PASS, "NIC NSG nic-nsg"),
        (nic("n", GUARDED, nsg_id=nsg("nic-nsg").id), Status.PASS, "NIC NSG nic-nsg"),
        (nic("n", BARE), Status.FAIL, "subnet bare has an NSG"),
        (nic("n", GUARDED, extra=(BARE,)), Status.FAIL, "subnet bare has an NSG"),
        (nic("n", subnet("gone", "missing")), Status.ERROR, "was not collected"),
        (nic("n", None), Status.ERROR, "reports no subnet"),
        (nic("n", subnet("gone", "missing"), nsg_id=nsg("nic-nsg").id), Status.PASS, "NIC NSG"),
    ],
    ids=[
        "subnet NSG",
        "NIC NSG",
        "both",
        "neither",
        "second IP configuration in a bare subnet",
        "subnet not collected",
        "IP configuration without subnet",
        "NIC NSG covers an unknown subnet",
    ],
)
def test_vm_nics_have_nsg(interface: NetworkInterface, expected: Status, words: str) -> None:
    result = only(vm_nics_have_nsg, virtual_networks=[vnet("spoke", GUARDED, BARE)], network_interfaces=[interface])
    assert result.status is expected
    assert words in result.message
    assert result.evidence["vm"] == "vm"


def test_nics_of_no_vm_are_not_judged_and_missing_vm_nics_are_errors() -> None:
    missing = vm("ghost", nics=(rid("Microsoft.Network/networkInterfaces", "gone"),))
    results = run(
        vm_nics_have_nsg,
        virtual_networks=[vnet("spoke", BARE)],
        network_interfaces=[nic("endpoint", BARE, vm=None)],
        virtual_machines=[missing],
    )
    assert [(r.status, r.resource_id) for r in results] == [(Status.ERROR, missing.id)]


# --- NET-03: server egress ------------------------------------------------------------------------------

RT = route_table()
EGRESS_NSG = nsg("egress", outbound())


def egress_result(server_subnet: Subnet, *, nic_nsg: NetworkSecurityGroup | None = None, **records: Any) -> CheckResult:
    """The verdict on the one server subnet, with the hub firewall, the route table and both NSGs collected."""
    estate: dict[str, Any] = {
        "virtual_networks": [vnet("spoke", server_subnet)],
        "network_interfaces": [nic("nic-web", server_subnet, vm="web", nsg_id=nic_nsg.id if nic_nsg else None)],
        "virtual_machines": [vm("web")],
        "azure_firewalls": [firewall()],
        "route_tables": [RT, route_table("rt-fgt", next_hop="10.0.5.4"), route_table("rt-inet", kind="Internet")],
        "network_security_groups": [EGRESS_NSG, nsg("open"), *([nic_nsg] if nic_nsg else [])],
    } | records
    return only(server_egress_filtered, **estate)


def with_nsg(*rules: SecurityRule) -> Subnet:
    """The server subnet with an NSG holding the rules (the NSG is named 'custom')."""
    return subnet(nsg_id=nsg("custom", *rules).id)


@pytest.mark.parametrize(
    ("server_subnet", "custom", "expected"),
    [
        (subnet(route_table_id=RT.id), (), Status.PASS),
        (subnet(nsg_id=EGRESS_NSG.id), (), Status.PASS),
        (with_nsg(outbound(destinations=("*",))), (outbound(destinations=("*",)),), Status.PASS),
        (
            with_nsg(outbound(), outbound("allow-azure", priority=100, access="Allow", destinations=("AzureCloud",))),
            (outbound(), outbound("allow-azure", priority=100, access="Allow", destinations=("AzureCloud",))),
            Status.PASS,
        ),
        (
            with_nsg(outbound(ports=("0-1000", "1001-65535"))),
            (outbound(ports=("0-1000", "1001-65535")),),
            Status.PASS,
        ),
        (subnet(), (), Status.FAIL),
        (subnet(nsg_id=nsg("open").id), (), Status.FAIL),
        (subnet(route_table_id=route_table("rt-fgt").id), (), Status.FAIL),
        (subnet(route_table_id=route_table("rt-inet").id), (), Status.FAIL),
        (with_nsg(outbound(protocol="Tcp")), (outbound(protocol="Tcp"),), Status.FAIL),
        (with_nsg(outbound(ports=("1-1000",))), (outbound(ports=("1-1000",)),), Status.FAIL),
        (
            with_nsg(outbound(), outbound("allow-https", priority=100, access="Allow", ports=("443",))),
            (outbound(), outbound("allow-https", priority=100, access="Allow", ports=("443",))),
            Status.FAIL,
        ),
        (subnet(route_table_id=route_table("rt-gone").id), (), Status.ERROR),
        (subnet(nsg_id=nsg("nsg-gone").id), (), Status.ERROR),
    ],
    ids=[
        "default route to the firewall",
        "subnet NSG denies Internet",
        "subnet NSG denies everything",
        "Azure service tags are not the Internet",
        "deny split over port ranges",
        "nothing",
        "default NSG rules only",
        "default route to another appliance",
        "default route to Internet",
        "deny TCP only",
        "deny some ports only",
        "allow 443 to Internet before the deny",
        "route table not collected",
        "subnet NSG not collected",
    ],
)
def test_server_egress(server_subnet: Subnet, custom: tuple[SecurityRule, ...], expected: Status) -> None:
    records: dict[str, Any] = {}
    if custom:
        records["network_security_groups"] = [EGRESS_NSG, nsg("open"), nsg("custom", *custom)]
    result = egress_result(server_subnet, **records)
    assert result.status is expected, result.message
    assert result.resource_id == server_subnet.id
    assert result.resource_type == "Microsoft.Network/virtualNetworks/subnets"


def test_route_table_attached_through_its_subnet_list_counts() -> None:
    server_subnet = subnet()
    attached = route_table("rt-listed", subnets=(server_subnet.id,))
    result = egress_result(server_subnet, route_tables=[attached])
    assert result.status is Status.PASS
    assert "rt-listed/default" in result.message


def test_every_server_nic_nsg_must_deny_without_a_subnet_nsg() -> None:
    assert egress_result(subnet(), nic_nsg=nsg("nic-deny", outbound())).status is Status.PASS
    two = subnet()
    estate: dict[str, Any] = {
        "network_interfaces": [
            nic("nic-a", two, vm="a", nsg_id=EGRESS_NSG.id),
            nic("nic-b", two, vm="b"),
        ],
        "virtual_machines": [vm("a"), vm("b")],
    }
    result = egress_result(two, **estate)
    assert result.status is Status.FAIL
    assert "nic-b" in result.message


def test_egress_failure_names_the_allowing_rule() -> None:
    result = egress_result(subnet(nsg_id=nsg("open").id))
    assert "AllowInternetOutBound (priority 65001)" in result.message
    assert result.evidence["subnet_nsg_egress"][0]["rule"] == "AllowInternetOutBound"


def test_appliance_subnets_are_not_server_subnets() -> None:
    estate: dict[str, Any] = {
        "virtual_networks": [hub(FGT)],
        "network_interfaces": [APPLIANCE_NIC],
        "virtual_machines": [APPLIANCE_VM],
    }
    assert run(server_egress_filtered, **estate) == []
    assert run(azure_firewall_protects_servers, **estate) == []


def test_internet_egress_is_judged_per_protocol() -> None:
    rules = (outbound(protocol="Tcp"), outbound("deny-udp", protocol="Udp"), *DEFAULT_RULES)
    assert [e.protocol for e in internet_egress(rules)] == ["Icmp"]


# --- the demo estate ------------------------------------------------------------------------------------

AS_OF = "2026-11-28T12:00:00+00:00"


@pytest.fixture(scope="module")
def demo(demo_inventory: Inventory) -> Inventory:
    """The demo estate collected through the local endpoint, judged at its pinned moment."""
    return demo_inventory


def verdicts(check: CheckFunction, inventory: Inventory) -> dict[Status, set[str]]:
    """Resource names by status, under the shipped baseline's parameter defaults."""
    params = load_baseline(default_baseline_path(), builtin_registry()).resolve_params()
    found: dict[Status, set[str]] = {}
    for result in results(check, inventory, params):
        found.setdefault(result.status, set()).add(result.resource_id.rsplit("/", 1)[-1])
    return found


DEMO_EXPECTED: dict[str, tuple[CheckFunction, dict[Status, set[str]]]] = {
    "NET-02 VPN path": (
        vpn_path_to_servers,
        {Status.PASS: {"vnet-mul2-prod-hub", "vnet-mul2-prod-spoke"}, Status.FAIL: {"vnet-mul2-stg"}},
    ),
    "NET-02 point-to-site": (
        vpn_p2s_authentication,
        {Status.PASS: {"vgw-mul2-prod-hub"}, Status.FAIL: {"vgw-mul2-stg-partner"}},
    ),
    "NET-02 sources": (
        remote_admin_sources_via_vpn,
        {
            Status.PASS: {
                "nsg-vm-mul2-web02-nic",
                "nsg-mul2-prod-data",
                "nsg-mul2-prod-fgt-ext",
                "nsg-mul2-prod-servers",
            },
            Status.FAIL: {
                "nsg-mul2-prod-web",
                "nsg-mul2-prod-fgt-int",
                "nsg-mul2-stg-web",
                "nsg-sqlvm-mul2-stg-01-nic",
                "nsg-vm-mul2-stg-jump01-nic",
            },
        },
    ),
    "NET-03 firewall": (
        azure_firewall_protects_servers,
        {Status.PASS: {"vnet-mul2-prod-hub", "vnet-mul2-prod-spoke"}, Status.FAIL: {"vnet-mul2-stg"}},
    ),
    "NET-03 NIC NSGs": (
        vm_nics_have_nsg,
        {
            Status.PASS: {
                "nic-vm-mul2-web01",
                "nic-vm-mul2-web02",
                "nic-sqlvm-mul2-01",
                "nic-vm-mul2-fgt01-port1",
                "nic-vm-mul2-fgt01-port2",
                "nic-sqlvm-mul2-stg-01",
                "nic-vm-mul2-stg-jump01",
                "nic-vm-mul2-stg-web01",
            },
            Status.FAIL: {"nic-vm-mul2-stg-build01", "nic-vm-mul2-stg-web02"},
        },
    ),
    "NET-03 egress": (
        server_egress_filtered,
        {
            Status.PASS: {"snet-mul2-prod-web", "snet-mul2-prod-data", "snet-mul2-prod-servers"},
            Status.FAIL: {"snet-mul2-stg-data", "snet-mul2-stg-dmz", "snet-mul2-stg-mgmt", "snet-mul2-stg-web"},
        },
    ),
}


@pytest.mark.parametrize("case", DEMO_EXPECTED.values(), ids=DEMO_EXPECTED.keys())
def test_demo_estate_verdicts(demo: Inventory, case: tuple[CheckFunction, dict[Status, set[str]]]) -> None:
    check, expected = case
    assert verdicts(check, demo) == expected
