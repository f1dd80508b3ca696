"""NET-03 through the live door and the IaC door, one case table per rule: the threat-intelligence mode a firewall
or firewall policy sets (azure_firewall_protects_servers), the NSGs on the subnets a VNet declares
(vm_nics_have_nsg) and the default route a route table declares (server_egress_filtered).

Code declares one firewall, VNet or route table at a time, so both doors judge the layer that one resource is
(the rule's subject without the servers behind it): the live door on the record the collector builds of its
ARM JSON. Which server VNets, subnets and NICs each layer covers is judged live only
(tests/test_checks_firewall_layers.py). Code alone never shows a subnet without an NSG or a default route
elsewhere to be a failure (NIC NSGs or subnet NSGs elsewhere may cover it), so those cases are errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks.firewall_layers import FirewallLayer, NicCoverage, SubnetEgress
from auditor.checks.index import ById
from auditor.collect.firewall import azure_firewall, firewall_policy, route_table
from auditor.collect.network import virtual_network
from auditor.iac.doors import DOORS, judge_resource
from auditor.model import Status
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, params

FIREWALLS = "Microsoft.Network/azureFirewalls"
POLICIES = "Microsoft.Network/firewallPolicies"
FIREWALL_SUBNET = arm_id("Microsoft.Network/virtualNetworks", "vnet-hub") + "/subnets/AzureFirewallSubnet"


def firewall_json(name: str, mode: str) -> dict[str, Any]:
    """A firewall as ARM GET returns it (shape of Microsoft's AzureFirewallGet example): Azure reports the mode
    in force, Alert when the template left it out."""
    return {
        "id": arm_id(FIREWALLS, name),
        "name": name,
        "type": FIREWALLS,
        "location": "eastus",
        "properties": {
            "provisioningState": "Succeeded",
            "threatIntelMode": mode,
            "sku": {"name": "AZFW_VNet", "tier": "Standard"},
            "ipConfigurations": [
                {
                    "name": "ipconfig1",
                    "properties": {"privateIPAddress": "10.0.1.4", "subnet": {"id": FIREWALL_SUBNET}},
                }
            ],
        },
    }


def firewall_template(name: str, mode: str | None) -> dict[str, Any]:
    """The ARM template resource of the same firewall (None: the mode left out)."""
    properties: dict[str, Any] = {
        "sku": {"name": "AZFW_VNet", "tier": "Standard"},
        "ipConfigurations": [
            {
                "name": "ipconfig1",
                "properties": {
                    "subnet": {
                        "id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet-hub', "
                        "'AzureFirewallSubnet')]"
                    },
                    "publicIPAddress": {"id": "[resourceId('Microsoft.Network/publicIPAddresses', 'pip-afw')]"},
                },
            }
        ],
    }
    if mode is not None:
        properties["threatIntelMode"] = mode
    return {"type": FIREWALLS, "apiVersion": "2024-05-01", "name": name, "location": "eastus", "properties": properties}


def firewall_terraform(name: str, mode: str | None) -> str:
    """An azurerm_firewall with the given threat_intel_mode (None: left out)."""
    setting = f'  threat_intel_mode = "{mode}"\n' if mode is not None else ""
    return (
        f'resource "azurerm_firewall" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        '  resource_group_name = "rg-parity"\n  sku_name = "AZFW_VNet"\n  sku_tier = "Standard"\n'
        f'{setting}  ip_configuration {{\n    name = "ipconfig1"\n    subnet_id = azurerm_subnet.firewall.id\n'
        "    public_ip_address_id = azurerm_public_ip.firewall.id\n  }\n}\n"
    )


def policy_json(name: str, mode: str) -> dict[str, Any]:
    """A firewall policy as ARM GET returns it (shape of Microsoft's FirewallPolicyGet example)."""
    return {
        "id": arm_id(POLICIES, name),
        "name": name,
        "type": POLICIES,
        "location": "eastus",
        "properties": {"provisioningState": "Succeeded", "threatIntelMode": mode, "sku": {"tier": "Standard"}},
    }


def policy_template(name: str, mode: str | None) -> dict[str, Any]:
    """The ARM template resource of the same policy."""
    properties: dict[str, Any] = {"sku": {"tier": "Standard"}}
    if mode is not None:
        properties["threatIntelMode"] = mode
    return {"type": POLICIES, "apiVersion": "2024-05-01", "name": name, "location": "eastus", "properties": properties}


def policy_terraform(name: str, mode: str | None) -> str:
    """An azurerm_firewall_policy with the given threat_intelligence_mode (None: left out)."""
    setting = f'  threat_intelligence_mode = "{mode}"\n' if mode is not None else ""
    return (
        f'resource "azurerm_firewall_policy" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  sku = "Standard"\n{setting}}}\n'
    )


def firewall_case(name: str, expected: Status, reported: str, declared: str | None) -> Case:
    """A firewall Azure reports with one mode, declared in code with it (or without, for the default)."""
    return Case(
        name,
        expected,
        firewall_json(name, reported),
        firewall_terraform(name, declared),
        firewall_template(name, declared),
    )


def policy_case(name: str, expected: Status, reported: str, declared: str | None) -> Case:
    """A firewall policy Azure reports with one mode, declared in code with it (or without)."""
    return Case(
        name, expected, policy_json(name, reported), policy_terraform(name, declared), policy_template(name, declared)
    )


CASES = (
    firewall_case("afw-deny", Status.PASS, "Deny", "Deny"),
    firewall_case("afw-default", Status.PASS, "Alert", None),
    firewall_case("afw-off", Status.FAIL, "Off", "Off"),
    policy_case("afwp-deny", Status.PASS, "Deny", "Deny"),
    policy_case("afwp-default", Status.PASS, "Alert", None),
    policy_case("afwp-off", Status.FAIL, "Off", "Off"),
)


def build(raw: Mapping[str, Any]) -> FirewallLayer:
    """The firewall layer a live scan's record of the firewall or policy is, judged on its own."""
    if raw["type"] == FIREWALLS:
        return FirewallLayer(azure_firewall(raw, SUBSCRIPTION), None)
    return FirewallLayer(firewall_policy(raw, SUBSCRIPTION), None)


def test_firewall_threat_intelligence_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("azure_firewall_protects_servers", build, CASES, tmp_path)


# --- what the code alone cannot show ---------------------------------------------------------------


def judged(language: str, resource_type: str, conf: Mapping[str, Any]) -> Any:
    """The rule's verdict on one firewall or policy in code."""
    (door,) = [d for d in DOORS if d.rule == "azure_firewall_protects_servers" and d.language == language]
    return judge_resource(door, resource_type, conf, params())


@pytest.mark.parametrize(
    ("language", "resource_type", "conf"),
    [
        (
            "terraform",
            "azurerm_firewall",
            {"__address__": "azurerm_firewall.hub", "firewall_policy_id": ["azurerm_firewall_policy.hub.id"]},
        ),
        (
            "arm",
            FIREWALLS,
            {"name": "afw", "properties": {"firewallPolicy": {"id": "[resourceId('x', 'y')]"}}},
        ),
        ("arm", POLICIES, {"name": "child", "properties": {"basePolicy": {"id": "[resourceId('x', 'y')]"}}}),
    ],
    ids=["terraform firewall managed by a policy", "ARM firewall managed by a policy", "ARM policy inheriting"],
)
def test_a_mode_set_on_another_resource_is_judged_there(
    language: str, resource_type: str, conf: Mapping[str, Any]
) -> None:
    assert judged(language, resource_type, conf) is None


@pytest.mark.parametrize(
    ("language", "resource_type", "conf"),
    [
        ("terraform", "azurerm_firewall", {"__address__": "azurerm_firewall.hub", "threat_intel_mode": ["var.mode"]}),
        (
            "terraform",
            "azurerm_firewall_policy",
            {"__address__": "azurerm_firewall_policy.hub", "threat_intelligence_mode": ["${var.mode}"]},
        ),
        ("arm", POLICIES, {"name": "afwp", "properties": {"threatIntelMode": "[parameters('mode')]"}}),
    ],
    ids=["terraform firewall variable", "terraform policy variable", "ARM policy parameter"],
)
def test_a_mode_left_to_deployment_is_an_error(language: str, resource_type: str, conf: Mapping[str, Any]) -> None:
    verdict = judged(language, resource_type, conf)
    assert verdict.status is Status.ERROR
    assert "threat" in verdict.message.lower()


# --- vm_nics_have_nsg: the NSG on every subnet a virtual network declares ----------------------------

VNETS = "Microsoft.Network/virtualNetworks"
NSGS = "Microsoft.Network/networkSecurityGroups"
SUBNETS = {"snet-web": "10.1.1.0/24", "snet-data": "10.1.2.0/24", "GatewaySubnet": "10.1.0.0/27"}


def vnet_json(name: str, guarded: set[str]) -> dict[str, Any]:
    """The VNet as ARM GET returns it (shape of Microsoft's VirtualNetworkGet example): subnets inline."""
    vnet = arm_id(VNETS, name)
    return {
        "id": vnet,
        "name": name,
        "type": VNETS,
        "location": "eastus",
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "subnets": [
                {
                    "id": f"{vnet}/subnets/{subnet}",
                    "name": subnet,
                    "properties": {"addressPrefix": prefix}
                    | ({"networkSecurityGroup": {"id": arm_id(NSGS, f"nsg-{subnet}")}} if subnet in guarded else {}),
                }
                for subnet, prefix in SUBNETS.items()
            ],
        },
    }


def vnet_template(name: str, guarded: set[str]) -> dict[str, Any]:
    """The ARM template resource of the same VNet."""
    return {
        "type": VNETS,
        "apiVersion": "2024-05-01",
        "name": name,
        "location": "eastus",
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "subnets": [
                {
                    "name": subnet,
                    "properties": {"addressPrefix": prefix}
                    | (
                        {"networkSecurityGroup": {"id": f"[resourceId('{NSGS}', 'nsg-{subnet}')]"}}
                        if subnet in guarded
                        else {}
                    ),
                }
                for subnet, prefix in SUBNETS.items()
            ],
        },
    }


def vnet_terraform(name: str, guarded: set[str]) -> str:
    """An azurerm_virtual_network with the same subnets inline."""
    blocks = "".join(
        f'  subnet {{\n    name = "{subnet}"\n    address_prefixes = ["{prefix}"]\n'
        + (
            f"    security_group = azurerm_network_security_group.{subnet.replace('-', '_')}.id\n"
            if subnet in guarded
            else ""
        )
        + "  }\n"
        for subnet, prefix in SUBNETS.items()
    )
    return (
        f'resource "azurerm_virtual_network" "{name.replace("-", "_")}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  address_space = ["10.1.0.0/16"]\n{blocks}}}\n'
    )


def vnet_case(name: str, expected: Status, guarded: set[str]) -> Case:
    """A VNet whose named subnets have an NSG, written three ways."""
    code = (vnet_terraform(name, guarded), vnet_template(name, guarded))
    return Case(name, expected, vnet_json(name, guarded), *code)


VNET_CASES = (
    vnet_case("vnet-guarded", Status.PASS, {"snet-web", "snet-data"}),
    vnet_case("vnet-bare-data", Status.ERROR, {"snet-web"}),
    vnet_case("vnet-bare", Status.ERROR, set()),
)


def build_vnet(raw: Mapping[str, Any]) -> NicCoverage:
    """The VM firewall layer a live scan's record of the VNet declares: its subnets and their NSGs."""
    vnet = virtual_network(raw, SUBSCRIPTION)
    return NicCoverage(vnet, None, vnet.subnets)


def test_subnet_nsgs_are_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("vm_nics_have_nsg", build_vnet, VNET_CASES, tmp_path)


def test_standalone_subnets_are_not_judged_on_their_network() -> None:
    conf = {"__address__": "azurerm_virtual_network.spoke", "name": ["spoke"], "address_space": [["10.1.0.0/16"]]}
    (door,) = [d for d in DOORS if d.rule == "vm_nics_have_nsg" and d.language == "terraform"]
    assert judge_resource(door, "azurerm_virtual_network", conf, params()) is None


# --- server_egress_filtered: the default route a route table declares ---------------------------------

ROUTE_TABLES = "Microsoft.Network/routeTables"
FIREWALL_IP = "10.0.1.4"
TF_FIREWALL = "azurerm_firewall.hub.ip_configuration[0].private_ip_address"
ARM_FIREWALL = (
    "[reference(resourceId('Microsoft.Network/azureFirewalls', 'afw-hub'), '2024-05-01')"
    ".ipConfigurations[0].properties.privateIPAddress]"
)


def route_json(name: str, kind: str, hop: str | None) -> dict[str, Any]:
    """A route table as ARM GET returns it (shape of Microsoft's RouteTableGet example)."""
    return {
        "id": arm_id(ROUTE_TABLES, name),
        "name": name,
        "type": ROUTE_TABLES,
        "location": "eastus",
        "properties": {
            "routes": [
                {
                    "name": "default",
                    "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": kind}
                    | ({"nextHopIpAddress": hop} if hop else {}),
                }
            ]
        },
    }


def route_template(name: str, kind: str, hop: str | None) -> dict[str, Any]:
    """The ARM template resource of the same route table."""
    body = route_json(name, kind, hop)
    return {
        "type": ROUTE_TABLES,
        "apiVersion": "2024-05-01",
        "name": name,
        "location": "eastus",
        "properties": body["properties"],
    }


def route_terraform(name: str, kind: str, hop: str | None) -> str:
    """An azurerm_route_table with the same route inline (a reference is written bare, a literal quoted)."""
    hop_line = ""
    if hop:
        hop_line = f"    next_hop_in_ip_address = {hop if hop.startswith('azurerm_') else chr(34) + hop + chr(34)}\n"
    return (
        f'resource "azurerm_route_table" "{name.replace("-", "_")}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  route {{\n    name = "default"\n    address_prefix = "0.0.0.0/0"\n'
        f'    next_hop_type = "{kind}"\n{hop_line}  }}\n}}\n'
    )


ROUTE_CASES = (
    Case(
        "rt-to-firewall",
        Status.PASS,
        route_json("rt-to-firewall", "VirtualAppliance", FIREWALL_IP),
        route_terraform("rt-to-firewall", "VirtualAppliance", TF_FIREWALL),
        route_template("rt-to-firewall", "VirtualAppliance", ARM_FIREWALL),
    ),
    Case(
        "rt-to-internet",
        Status.ERROR,
        route_json("rt-to-internet", "Internet", None),
        route_terraform("rt-to-internet", "Internet", None),
        route_template("rt-to-internet", "Internet", None),
    ),
    Case(
        "rt-to-other-appliance",
        Status.ERROR,
        route_json("rt-to-other-appliance", "VirtualAppliance", "10.0.5.4"),
        route_terraform("rt-to-other-appliance", "VirtualAppliance", "10.0.5.4"),
        route_template("rt-to-other-appliance", "VirtualAppliance", "10.0.5.4"),
    ),
)


def build_route_table(raw: Mapping[str, Any]) -> SubnetEgress:
    """The outbound layer a live scan's record of the route table is, with the estate's firewall at 10.0.1.4."""
    return SubnetEgress(None, route_table(raw, SUBSCRIPTION), frozenset({FIREWALL_IP}), ById(()))


def test_default_routes_are_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("server_egress_filtered", build_route_table, ROUTE_CASES, tmp_path)


def test_route_tables_without_a_default_route_are_not_judged_in_code() -> None:
    conf = {
        "name": "rt-onprem",
        "properties": {
            "routes": [
                {
                    "name": "onprem",
                    "properties": {"addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualNetworkGateway"},
                }
            ]
        },
    }
    (door,) = [d for d in DOORS if d.rule == "server_egress_filtered" and d.language == "arm"]
    assert judge_resource(door, ROUTE_TABLES, conf, params()) is None
