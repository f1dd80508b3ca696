"""NET-01 (firewall_rdp_dnat) through the live door and the IaC doors: one case table, the same verdicts.

A case is a firewall policy rule collection group: as ARM GET returns it (read into the policy record the
way a live scan reads a policy's groups), as an azurerm_firewall_policy_rule_collection_group and as a
Microsoft.Network/firewallPolicies/ruleCollectionGroups template resource. A second table holds firewalls with
classic NAT rule collections: ARM GET, azurerm_firewall_nat_rule_collection and the azureFirewalls resource.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.checks import builtin_registry
from auditor.collect.base import Reader
from auditor.collect.firewall import azure_firewall, firewall_policy, policy_nat_rules
from auditor.iac.doors import DOORS, judge_resource
from auditor.model import Status
from auditor.records.network import AzureFirewall, FirewallPolicy
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, params

POLICY = "afwp-parity"
GROUP_TYPE = "Microsoft.Network/firewallPolicies/ruleCollectionGroups"
FIREWALL_PUBLIC_IP = "192.0.2.10"


def nat(
    name: str,
    sources: tuple[str, ...],
    *,
    port: str = "3389",
    translated: str = "3389",
    protocols: tuple[str, ...] = ("TCP",),
    ip_groups: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One DNAT rule, in the words all three shapes share."""
    return {
        "name": name,
        "sources": sources,
        "port": port,
        "translated": translated,
        "protocols": protocols,
        "ip_groups": ip_groups,
    }


def arm_rule(r: Mapping[str, Any]) -> dict[str, Any]:
    """A NatRule as ARM returns it and a template declares it."""
    rule: dict[str, Any] = {
        "ruleType": "NatRule",
        "name": r["name"],
        "ipProtocols": list(r["protocols"]),
        "sourceAddresses": list(r["sources"]),
        "destinationAddresses": [FIREWALL_PUBLIC_IP],
        "destinationPorts": [r["port"]],
        "translatedAddress": "10.1.1.4",
        "translatedPort": r["translated"],
    }
    if r["ip_groups"]:
        rule["sourceIpGroups"] = list(r["ip_groups"])
    return rule


def collections(rules: tuple[Mapping[str, Any], ...]) -> list[dict[str, Any]]:
    """The group's one DNAT rule collection, and a network rule collection the rule never reads."""
    return [
        {
            "ruleCollectionType": "FirewallPolicyNatRuleCollection",
            "name": "dnat-inbound",
            "priority": 100,
            "action": {"type": "DNAT"},
            "rules": [arm_rule(r) for r in rules],
        },
        {
            "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "name": "allow-out",
            "priority": 200,
            "action": {"type": "Allow"},
            "rules": [
                {
                    "ruleType": "NetworkRule",
                    "name": "dns",
                    "ipProtocols": ["UDP"],
                    "sourceAddresses": ["10.0.0.0/8"],
                    "destinationAddresses": ["*"],
                    "destinationPorts": ["3389"],
                }
            ],
        },
    ]


def group_json(name: str, *rules: Mapping[str, Any]) -> dict[str, Any]:
    """A rule collection group as ARM GET returns it (shape of FirewallPolicyRuleCollectionGroups_Get)."""
    return {
        "id": arm_id("Microsoft.Network/firewallPolicies", f"{POLICY}/ruleCollectionGroups/{name}"),
        "name": name,
        "type": GROUP_TYPE,
        "properties": {"priority": 100, "ruleCollections": collections(rules), "provisioningState": "Succeeded"},
    }


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def terraform(name: str, *rules: Mapping[str, Any]) -> str:
    """An azurerm_firewall_policy_rule_collection_group declaring the same collections."""
    blocks = "".join(
        f'    rule {{\n      name = "{r["name"]}"\n      protocols = {_list(r["protocols"])}\n'
        + (f"      source_addresses = {_list(r['sources'])}\n" if r["sources"] else "")
        + (f"      source_ip_groups = {_list(r['ip_groups'])}\n" if r["ip_groups"] else "")
        + f'      destination_address = "{FIREWALL_PUBLIC_IP}"\n      destination_ports = ["{r["port"]}"]\n'
        f'      translated_address = "10.1.1.4"\n      translated_port = "{r["translated"]}"\n    }}\n'
        for r in rules
    )
    return (
        f'resource "azurerm_firewall_policy_rule_collection_group" "{name}" {{\n  name = "{name}"\n'
        f"  firewall_policy_id = azurerm_firewall_policy.parity.id\n  priority = 100\n"
        f'  nat_rule_collection {{\n    name = "dnat-inbound"\n    priority = 100\n    action = "Dnat"\n{blocks}  }}\n'
        f'  network_rule_collection {{\n    name = "allow-out"\n    priority = 200\n    action = "Allow"\n'
        f'    rule {{\n      name = "dns"\n      protocols = ["UDP"]\n      source_addresses = ["10.0.0.0/8"]\n'
        f'      destination_addresses = ["*"]\n      destination_ports = ["3389"]\n    }}\n  }}\n}}\n'
    )


def template(name: str, *rules: Mapping[str, Any]) -> dict[str, Any]:
    """The ARM template resource of the same group."""
    return {
        "type": GROUP_TYPE,
        "apiVersion": "2023-09-01",
        "name": f"{POLICY}/{name}",
        "properties": {"priority": 100, "ruleCollections": collections(rules)},
    }


def case(name: str, expected: Status, *rules: Mapping[str, Any], **overrides: str) -> Case:
    """One rule collection group in the three shapes."""
    return Case(name, expected, group_json(name, *rules), terraform(name, *rules), template(name, *rules), overrides)


ADMINS = arm_id("Microsoft.Network/ipGroups", "ipg-admins")

CASES = (
    case("rcg-whitelisted", Status.PASS, nat("rdp-office", ("203.0.113.0/24",))),
    case("rcg-private", Status.PASS, nat("rdp-vpn", ("10.0.0.0/8", "172.16.201.0/24"))),
    case("rcg-elsewhere", Status.PASS, nat("web", ("*",), port="443", translated="443")),
    case("rcg-no-dnat", Status.PASS),
    case("rcg-star", Status.FAIL, nat("rdp-any", ("*",))),
    case("rcg-vendor", Status.FAIL, nat("rdp-vendor", ("198.51.100.77",), port="53389")),
    case("rcg-range", Status.FAIL, nat("rdp-range", ("198.51.100.1-198.51.100.9",), protocols=("TCP", "UDP"))),
    case("rcg-ip-group", Status.ERROR, nat("rdp-admins", (), ip_groups=(ADMINS,))),
    case("rcg-partner", Status.PASS, nat("rdp-partner", ("198.51.100.0/24",)), allowed_rdp_sources="198.51.100.0/24"),
)


def build(raw: Mapping[str, Any]) -> FirewallPolicy:
    """The policy record a live scan builds when the policy's only rule collection group is this one."""
    policy = firewall_policy(
        {"id": arm_id("Microsoft.Network/firewallPolicies", POLICY), "name": POLICY, "location": "eastus"},
        SUBSCRIPTION,
    )
    problems = list(policy.unreadable)
    groups = [Reader(raw, "ruleCollectionGroups[0]", problems)]
    return dataclasses.replace(
        policy,
        nat_rules=policy_nat_rules(groups),
        rule_collection_group_ids=(str(raw["id"]),),
        unreadable=tuple(problems),
    )


def test_firewall_rdp_dnat_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("firewall_rdp_dnat", build, CASES, tmp_path)


def test_sources_left_to_deployment_are_errors_naming_them() -> None:
    [terraform_door] = [d for d in DOORS if d.rule == "firewall_rdp_dnat" and d.language == "terraform"]
    [arm_door] = [d for d in DOORS if d.rule == "firewall_rdp_dnat" and d.language == "arm"]
    rule = {"name": ["rdp"], "protocols": [["TCP"]], "source_addresses": ["${var.admins}"]}
    rule |= {"destination_ports": [["3389"]], "translated_port": ["3389"]}
    conf = {
        "__address__": "azurerm_firewall_policy_rule_collection_group.g",
        "nat_rule_collection": [{"name": ["n"], "rule": [rule]}],
    }
    verdict = judge_resource(terraform_door, "azurerm_firewall_policy_rule_collection_group", conf, params())
    assert verdict is not None and verdict.status is Status.ERROR and "var.admins" in verdict.message
    body = template("g", nat("rdp", ("[parameters('admins')]",)))
    verdict = judge_resource(arm_door, GROUP_TYPE, body, params())
    assert verdict is not None and verdict.status is Status.ERROR and "parameters('admins')" in verdict.message


# --- classic rules: an Azure Firewall's own NAT rule collections ----------------------------------------------

FIREWALL = "afw-parity"


def firewall_json(name: str, *rules: Mapping[str, Any], policy: str | None = None) -> dict[str, Any]:
    """A firewall with classic rules as ARM GET returns it (shape of Microsoft's AzureFirewalls_Get example)."""
    properties: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "threatIntelMode": "Deny",
        "sku": {"name": "AZFW_VNet", "tier": "Standard"},
        "ipConfigurations": [
            {
                "name": "ipconfig",
                "properties": {
                    "privateIPAddress": "10.0.1.4",
                    "subnet": {"id": arm_id("Microsoft.Network/virtualNetworks", "hub/subnets/AzureFirewallSubnet")},
                },
            }
        ],
        "natRuleCollections": [classic_collection(rules)] if rules else [],
    }
    if policy:
        properties["firewallPolicy"] = {"id": arm_id("Microsoft.Network/firewallPolicies", policy)}
    return {
        "id": arm_id("Microsoft.Network/azureFirewalls", name),
        "name": name,
        "type": "Microsoft.Network/azureFirewalls",
        "location": "eastus",
        "properties": properties,
    }


def classic_rule(r: Mapping[str, Any]) -> dict[str, Any]:
    """A classic AzureFirewallNatRule."""
    rule = arm_rule(r)
    del rule["ruleType"]
    rule["protocols"] = rule.pop("ipProtocols")
    return rule


def classic_collection(rules: tuple[Mapping[str, Any], ...]) -> dict[str, Any]:
    return {
        "name": "dnat-inbound",
        "properties": {"priority": 100, "action": {"type": "Dnat"}, "rules": [classic_rule(r) for r in rules]},
    }


def classic_terraform(name: str, *rules: Mapping[str, Any]) -> str:
    """An azurerm_firewall_nat_rule_collection holding the same rules."""
    blocks = "".join(
        f'  rule {{\n    name = "{r["name"]}"\n    protocols = {_list(r["protocols"])}\n'
        + (f"    source_addresses = {_list(r['sources'])}\n" if r["sources"] else "")
        + (f"    source_ip_groups = {_list(r['ip_groups'])}\n" if r["ip_groups"] else "")
        + f'    destination_addresses = ["{FIREWALL_PUBLIC_IP}"]\n    destination_ports = ["{r["port"]}"]\n'
        f'    translated_address = "10.1.1.4"\n    translated_port = "{r["translated"]}"\n  }}\n'
        for r in rules
    )
    return (
        f'resource "azurerm_firewall_nat_rule_collection" "{name}" {{\n  name = "dnat-inbound"\n'
        f'  azure_firewall_name = "{name}"\n  resource_group_name = "rg-parity"\n  priority = 100\n'
        f'  action = "Dnat"\n{blocks}}}\n'
    )


def classic_template(name: str, *rules: Mapping[str, Any], policy: str | None = None) -> dict[str, Any]:
    """The ARM template resource of the same firewall."""
    properties: dict[str, Any] = {
        "sku": {"name": "AZFW_VNet", "tier": "Standard"},
        "threatIntelMode": "Deny",
        "natRuleCollections": [classic_collection(rules)] if rules else [],
    }
    if policy:
        properties["firewallPolicy"] = {"id": f"[resourceId('Microsoft.Network/firewallPolicies', '{policy}')]"}
    return {
        "type": "Microsoft.Network/azureFirewalls",
        "apiVersion": "2023-09-01",
        "name": name,
        "location": "eastus",
        "properties": properties,
    }


def classic(name: str, expected: Status, *rules: Mapping[str, Any], **overrides: str) -> Case:
    """One firewall with classic rules in the three shapes."""
    return Case(
        name,
        expected,
        firewall_json(name, *rules),
        classic_terraform(name, *rules),
        classic_template(name, *rules),
        overrides,
    )


CLASSIC_CASES = (
    classic("afw-whitelisted", Status.PASS, nat("rdp-office", ("203.0.113.0/24",))),
    classic("afw-elsewhere", Status.PASS, nat("web", ("*",), port="443", translated="443")),
    classic("afw-star", Status.FAIL, nat("rdp-any", ("*",), protocols=("TCP", "UDP"))),
    classic("afw-vendor", Status.FAIL, nat("rdp-vendor", ("198.51.100.77",), port="53389")),
    classic("afw-ip-group", Status.ERROR, nat("rdp-admins", (), ip_groups=(ADMINS,))),
    classic(
        "afw-partner", Status.PASS, nat("rdp-partner", ("198.51.100.0/24",)), allowed_rdp_sources="198.51.100.0/24"
    ),
)


def build_firewall(raw: Mapping[str, Any]) -> AzureFirewall:
    """The record a live scan builds of the firewall."""
    return azure_firewall(raw, SUBSCRIPTION)


def test_classic_dnat_rules_are_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("firewall_rdp_dnat", build_firewall, CLASSIC_CASES, tmp_path)


def test_a_policy_managed_firewall_in_a_template_points_at_its_policy() -> None:
    [arm_door] = [d for d in DOORS if d.rule == "firewall_rdp_dnat" and d.language == "arm"]
    live = builtin_registry()["firewall_rdp_dnat"].decide(build_firewall(firewall_json("afw", policy=POLICY)), params())
    code = judge_resource(
        arm_door, "Microsoft.Network/azureFirewalls", classic_template("afw", policy=POLICY), params()
    )
    assert live is not None and code is not None
    assert (code.status, code.message) == (live.status, live.message)
    assert live.message == f"No classic DNAT rules; the DNAT rules of its firewall policy {POLICY} are judged there"
