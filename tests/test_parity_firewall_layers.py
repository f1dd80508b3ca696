"""NET-03 (azure_firewall_protects_servers) through the live door and the IaC door: the threat-intelligence mode
a firewall or firewall policy sets, one case table, the same verdicts.

Code declares one firewall or policy at a time, so both doors judge the firewall layer that one resource is
(``FirewallLayer`` without subnets): the live door on the record the collector builds of its ARM JSON. Which
server VNets a firewall filters for is judged live only (tests/test_checks_firewall_layers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks.firewall_layers import FirewallLayer
from auditor.checks.iac.doors import DOORS, judge_resource
from auditor.collect.firewall import azure_firewall, firewall_policy
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
