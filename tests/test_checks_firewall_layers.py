"""NET-03: an Azure Firewall in front of every server VNet, an NSG over every VM NIC, server egress filtered."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.firewall_layers import (
    FirewallLayer,
    NicCoverage,
    SubnetEgress,
    azure_firewall_protects_servers,
    internet_egress,
    server_egress_filtered,
    vm_nics_have_nsg,
)
from auditor.checks.index import ById
from auditor.model import CheckResult, Status
from auditor.records.network import (
    AzureFirewall,
    NetworkInterface,
    NetworkSecurityGroup,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    VnetPeering,
)
from tests.builders import SUB, rid
from tests.network_estates import (
    APPLIANCE_NIC,
    APPLIANCE_VM,
    DEFAULT_RULES,
    FGT,
    FIREWALL_IP,
    PARAMS,
    SERVER_VM,
    firewall,
    hub,
    nic,
    nsg,
    only,
    outbound,
    peering,
    policy,
    route_table,
    run,
    spoke_estate,
    subnet,
    vm,
    vnet,
    vnet_id,
)

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


# --- one firewall, VNet or route table as code declares it ---------------------------------------------


def test_a_declared_firewall_or_policy_is_judged_by_its_own_mode() -> None:
    on = azure_firewall_protects_servers(FirewallLayer(firewall(threat_intel_mode="Alert"), None), PARAMS)
    assert on is not None and on.status is Status.PASS
    assert "Threat intelligence Alert on firewall afw" in on.message
    off = azure_firewall_protects_servers(FirewallLayer(policy(mode="Off"), None), PARAMS)
    assert off is not None and off.status is Status.FAIL
    assert off.evidence == {"threat_intel_mode": "Off", "threat_intel_set_on": "firewall policy afwp"}


def test_a_declared_vnet_passes_only_when_every_vm_subnet_has_an_nsg() -> None:
    guarded = vnet("spoke", GUARDED, subnet("spoke", "GatewaySubnet", "10.1.0.0/27"))
    verdict = vm_nics_have_nsg(NicCoverage(guarded, None, guarded.subnets), PARAMS)
    assert verdict is not None and verdict.status is Status.PASS
    bare = vnet("spoke", GUARDED, BARE)
    verdict = vm_nics_have_nsg(NicCoverage(bare, None, bare.subnets), PARAMS)
    assert verdict is not None and verdict.status is Status.ERROR
    assert "Subnet bare of spoke has no NSG" in verdict.message
    platform = vnet("hub", subnet("hub", "AzureFirewallSubnet", "10.0.1.0/26"))
    assert vm_nics_have_nsg(NicCoverage(platform, None, platform.subnets), PARAMS) is None


def test_a_declared_route_table_passes_only_through_the_firewall_it_names() -> None:
    to_firewall = server_egress_filtered(SubnetEgress(None, RT, frozenset({FIREWALL_IP}), ById(())), PARAMS)
    assert to_firewall is not None and to_firewall.status is Status.PASS
    assert to_firewall.message == "Route rt/default sends 0.0.0.0/0 to the Azure Firewall"
    elsewhere = server_egress_filtered(SubnetEgress(None, RT, frozenset(), ById(())), PARAMS)
    assert elsewhere is not None and elsewhere.status is Status.ERROR
    assert "not stated by its code" in elsewhere.message
    no_default = RouteTable(RT.id, "rt", SUB, "rg-test", "eastus", (Route("onprem", "192.168.0.0/16", "VnetLocal"),))
    assert server_egress_filtered(SubnetEgress(None, no_default, frozenset(), ById(())), PARAMS) is None
