"""Microsoft's network examples (Microsoft.Network 2025-05-01) through the real clients.

The NSG example allows HTTP (80) from any source: not RDP and not a management port, so NET-01, NET-02 and
NET-04 pass, and none of the six default rules (AllowVnetInBound ... DenyAllOutBound) is flagged. The same
rule moved to 3389 fails NET-01, as an inbound Allow from ``*`` to RDP is what the control forbids.

The NIC, public IP, route table and VPN gateway examples are served beside it. The NIC names an NSG and
subnets that are not in the estate, so what reads them is an error naming the missing resource, never a pass;
the gateway's point-to-site clients authenticate with RADIUS only, which NET-02 fails.

The VNet example hosts a VM (the compute VM example, through the NIC example) and gets the peering example as
its one peering, pointed at the gateway's VNet: as published the peering is ``Initiated`` and does not use the
remote gateway, so no VPN path reaches the VM and NET-02 fails; ``Connected`` with ``useRemoteGateways`` passes.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.collect import compute, firewall, network, sql
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_examples_compute import VMS, rehome
from tests.test_collect_integration import judge

NETWORK = "network/resource-manager/Microsoft.Network/Network/stable/2025-05-01/examples/"


def nsg_example() -> dict[str, Any]:
    """The NSG Get example, re-homed into the test subscription."""
    return rehome(example_body(NETWORK + "NetworkSecurityGroupGet.json"), network.NSGS_API)


def others() -> list[dict[str, Any]]:
    """The NIC, public IP, route table and VPN gateway examples, re-homed (each carries its own type)."""
    names = (
        "NetworkInterfaceGet.json",
        "PublicIpAddressGet.json",
        "RouteTableGet.json",
        "VirtualNetworkGatewayGet.json",
    )
    return [rehome(example_body(NETWORK + name), "") for name in names]


def scan_served(served: dict[str, Any]) -> Inventory:
    """Collect network and what the network checks also read from an estate document."""
    with serve(served) as (_, session):
        return collect_inventory(session, steps=network.STEPS + compute.STEPS + firewall.STEPS + sql.STEPS)


def scan(*resources: dict[str, Any]) -> Inventory:
    """Collect network and what the network checks also read (VMs, gateways, SQL) from an estate of these."""
    with serve(e.estate(*resources)) as (_, session):
        return collect_inventory(session, steps=network.STEPS + compute.STEPS + firewall.STEPS + sql.STEPS)


def verdicts(inventory: Inventory) -> dict[str, Status]:
    """Each NSG finding's status by control, for the one NSG."""
    return {f.control_id: f.status for f in judge(inventory).findings if f.resource_name == "testnsg"}


def test_the_nsg_example_is_collected_whole() -> None:
    inventory = scan(nsg_example())
    assert not [c for c in inventory.collections if not c.ok]
    (collected,) = inventory.network_security_groups
    assert collected.unreadable == ()
    (custom,) = [r for r in collected.rules if not r.is_default]
    assert custom.name == "rule1" and custom.destination_ports == ("80",) and custom.priority == 130
    assert sorted(r.name for r in collected.rules if r.is_default) == [
        "AllowAzureLoadBalancerInBound",
        "AllowInternetOutBound",
        "AllowVnetInBound",
        "AllowVnetOutBound",
        "DenyAllInBound",
        "DenyAllOutBound",
    ]


def test_http_open_to_any_source_is_neither_rdp_nor_a_management_port() -> None:
    found = verdicts(scan(nsg_example()))
    assert found["NET-01"] is Status.PASS
    assert found["NET-02"] is Status.PASS
    assert found["NET-04"] is Status.PASS


def test_the_same_rule_on_rdp_fails_net01() -> None:
    body = nsg_example()
    body["properties"]["securityRules"][0]["properties"]["destinationPortRange"] = "3389"
    found = verdicts(scan(body))
    assert found["NET-01"] is Status.FAIL
    assert found["NET-02"] is Status.FAIL


def by_check(inventory: Inventory, name: str) -> dict[str, tuple[Status, str]]:
    """Verdict and message by check for one resource name."""
    return {f.check_id: (f.status, f.message) for f in judge(inventory).findings if f.resource_name == name}


def test_the_nic_public_ip_route_table_and_gateway_examples_are_collected_whole() -> None:
    inventory = scan(nsg_example(), *others())
    assert not [c for c in inventory.collections if not c.ok]
    (nic,) = inventory.network_interfaces
    assert nic.unreadable == () and nic.nsg_id is not None and nic.nsg_id.endswith("/networkSecurityGroups/nsg")
    assert [(c.name, c.private_ip) for c in nic.ip_configurations] == [
        ("ipconfig1", "172.20.2.4"),
        ("ipconfig2", "172.20.2.16/28"),
    ]
    (pip,) = inventory.public_ip_addresses
    # A dynamic address not yet allocated and no sku: both stay unknown.
    assert pip.unreadable == () and (pip.ip_address, pip.sku) == (None, None)
    (table,) = inventory.route_tables
    assert table.unreadable == () and [(r.address_prefix, r.next_hop_type) for r in table.routes] == [
        ("10.0.3.0/24", "VirtualNetworkGateway")
    ]
    (gateway,) = inventory.virtual_network_gateways
    assert gateway.unreadable == ()
    assert (gateway.gateway_type, gateway.vpn_type, gateway.sku) == ("Vpn", "RouteBased", "VpnGw1")
    assert (gateway.p2s_protocols, gateway.radius_server, gateway.p2s_auth_types) == (("OpenVPN",), "10.1.0.0", ())


def test_a_nic_whose_nsg_and_subnet_were_not_collected_is_an_error() -> None:
    found = by_check(scan(nsg_example(), *others()), "test-nic")
    status, message = found["nic_rdp_exposure"]
    assert status is Status.ERROR and "was not collected" in message
    assert found["vpn_path_to_servers"][0] is Status.ERROR
    assert found["azure_firewall_protects_servers"][0] is Status.ERROR


def test_radius_only_point_to_site_authentication_fails_net02() -> None:
    status, message = by_check(scan(nsg_example(), *others()), "vpngw")["vpn_p2s_authentication"]
    assert status is Status.FAIL and "Radius only" in message


def hosted_vnet(**peering_properties: Any) -> list[dict[str, Any]]:
    """The VNet example with the peering example as its peering (to the gateway's VNet), the gateway, and a
    VM whose NIC (the NIC example) sits in the VNet's subnet; ``peering_properties`` replace the peering's."""
    vnet = rehome(example_body(NETWORK + "VirtualNetworkGet.json"), "")
    peering = rehome(example_body(NETWORK + "VirtualNetworkPeeringGet.json"), "")
    gateway = rehome(example_body(NETWORK + "VirtualNetworkGatewayGet.json"), "")
    hub_id = gateway["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"].rsplit("/subnets/", 1)[0]
    peering["properties"] |= {"remoteVirtualNetwork": {"id": hub_id}} | peering_properties
    vnet["properties"]["virtualNetworkPeerings"] = [peering]
    vm = rehome(example_body(VMS + "VirtualMachine_Create_WithEncryptionAtHost.json"), compute.VMS_API)
    nic = rehome(example_body(NETWORK + "NetworkInterfaceGet.json"), "")
    nic["id"] = vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
    nic["properties"]["virtualMachine"]["id"] = vm["id"]
    for configuration in nic["properties"]["ipConfigurations"]:
        configuration["properties"]["subnet"]["id"] = vnet["properties"]["subnets"][0]["id"]
    return [vnet, gateway, vm, nic]


def vpn_path(inventory: Inventory) -> tuple[Status, str]:
    """The VNet's NET-02 VPN path verdict."""
    (found,) = [f for f in judge(inventory).findings if f.check_id == "vpn_path_to_servers"]
    return found.status, found.message


def test_the_vnet_and_its_peering_are_collected_whole() -> None:
    inventory = scan(*hosted_vnet())
    assert not [c for c in inventory.collections if not c.ok]
    (vnet,) = inventory.virtual_networks
    assert vnet.unreadable == () and vnet.address_prefixes == ("10.0.0.0/16",)
    assert [s.name for s in vnet.subnets] == ["subnet1"]
    (peering,) = vnet.peerings
    assert (peering.name, peering.peering_state, peering.use_remote_gateways, peering.allow_forwarded_traffic) == (
        "peer",
        "Initiated",
        False,
        True,
    )


def test_an_initiated_peering_gives_no_vpn_path_and_fails_net02() -> None:
    status, message = vpn_path(scan(*hosted_vnet()))
    assert status is Status.FAIL and "peering peer to vnet1 is Initiated" in message


def test_a_connected_peering_using_the_hub_gateway_passes_net02() -> None:
    status, message = vpn_path(scan(*hosted_vnet(peeringState="Connected", useRemoteGateways=True)))
    assert status is Status.PASS and "VPN gateway vpngw in peered hub vnet1" in message


def test_the_nsg_list_example_is_collected_whole_and_passes() -> None:
    # Served as published at the subscription's NSG list: two NSGs in two resource groups, default rules only.
    listing = rehome(example_body(NETWORK + "NetworkSecurityGroupListAll.json"), "")
    del listing["type"]  # Added by rehome; a list body has none.
    served = e.estate()
    served["raw"] = [
        {"path": f"/subscriptions/{e.SUB}/providers/{network.NSGS_API}", "status": 200, "body": json.dumps(listing)}
    ]
    inventory = scan_served(served)
    assert not [c for c in inventory.collections if not c.ok]
    groups = {g.name: g for g in inventory.network_security_groups}
    assert sorted(groups) == ["nsg1", "nsg3"]
    assert {g.resource_group for g in groups.values()} == {"rg1", "rg2"}
    for group in groups.values():
        assert group.unreadable == () and len(group.rules) == 6 and all(r.is_default for r in group.rules)
    verdicts = [f for f in judge(inventory).findings if f.resource_name in groups]
    # Default rules alone never expose RDP or management ports: both controls pass for both NSGs.
    assert {(f.resource_name, f.control_id, f.status) for f in verdicts if f.control_id in ("NET-01", "NET-04")} == {
        (name, control, Status.PASS) for name in groups for control in ("NET-01", "NET-04")
    }
