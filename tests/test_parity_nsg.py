"""NET-01 (nsg_rdp_exposure) and NET-04 (nsg_management_port_exposure) through the live door and the IaC doors.

One case table per rule: each NSG as ARM GET returns it (with Azure's default rules), as Terraform declares it
(inline security_rule blocks) and as an ARM template declares it, with the status all three doors must give.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.arm_ids import key
from auditor.checks import builtin_registry
from auditor.collect.network import network_security_group
from auditor.evaluate import result_of, with_unreadable
from auditor.model import Status
from auditor.records.network import NetworkSecurityGroup
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, iac_doors, params

NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
VPN_POOL = "172.16.201.0/24"

# The default rules ARM returns in properties.defaultSecurityRules of every NSG.
DEFAULT_RULES = (
    ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
    ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
    ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
)


def rule(
    name: str,
    priority: int,
    source: str | tuple[str, ...],
    port: str | tuple[str, ...] = "3389",
    *,
    access: str = "Allow",
    protocol: str = "Tcp",
) -> dict[str, Any]:
    """One custom inbound rule, in the words all three shapes share."""
    return {"name": name, "priority": priority, "source": source, "port": port, "access": access, "protocol": protocol}


def _plural(value: str | tuple[str, ...], singular: str, plural: str) -> dict[str, Any]:
    return {plural: list(value)} if isinstance(value, tuple) else {singular: value}


def arm_properties(r: Mapping[str, Any]) -> dict[str, Any]:
    """The properties object of a rule, as ARM returns it and as a template declares it."""
    return {
        "priority": r["priority"],
        "direction": "Inbound",
        "access": r["access"],
        "protocol": r["protocol"],
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        **_plural(r["source"], "sourceAddressPrefix", "sourceAddressPrefixes"),
        **_plural(r["port"], "destinationPortRange", "destinationPortRanges"),
    }


def nsg_json(name: str, *rules: Mapping[str, Any]) -> dict[str, Any]:
    """An NSG as ARM GET returns it (shape of Microsoft's NetworkSecurityGroups_Get example)."""
    nsg_id = arm_id(NSG_TYPE, name)
    defaults = [
        {
            "name": n,
            "id": f"{nsg_id}/defaultSecurityRules/{n}",
            "properties": {
                "priority": p,
                "direction": d,
                "access": a,
                "protocol": "*",
                "sourceAddressPrefix": s,
                "sourcePortRange": "*",
                "destinationAddressPrefix": dest,
                "destinationPortRange": "*",
                "provisioningState": "Succeeded",
            },
        }
        for n, p, d, a, s, dest in DEFAULT_RULES
    ]
    custom = [
        {"name": r["name"], "id": f"{nsg_id}/securityRules/{r['name']}", "properties": arm_properties(r)} for r in rules
    ]
    return {
        "id": nsg_id,
        "name": name,
        "type": NSG_TYPE,
        "location": "eastus",
        "properties": {"securityRules": custom, "defaultSecurityRules": defaults, "provisioningState": "Succeeded"},
    }


def _hcl(value: str | tuple[str, ...], singular: str, plural: str) -> str:
    if isinstance(value, tuple):
        items = ", ".join(f'"{v}"' for v in value)
        return f"    {plural} = [{items}]"
    return f'    {singular} = "{value}"' if not value.startswith("var.") else f"    {singular} = {value}"


def terraform(name: str, *rules: Mapping[str, Any]) -> str:
    """An azurerm_network_security_group declaring the same rules inline."""
    blocks = "".join(
        f'  security_rule {{\n    name = "{r["name"]}"\n    priority = {r["priority"]}\n    direction = "Inbound"\n'
        f'    access = "{r["access"]}"\n    protocol = "{r["protocol"]}"\n    source_port_range = "*"\n'
        f'    destination_address_prefix = "*"\n'
        f"{_hcl(r['source'], 'source_address_prefix', 'source_address_prefixes')}\n"
        f"{_hcl(r['port'], 'destination_port_range', 'destination_port_ranges')}\n  }}\n"
        for r in rules
    )
    variables = "".join(
        f'variable "{r["source"][4:]}" {{\n  type = string\n}}\n\n'
        for r in rules
        if isinstance(r["source"], str) and r["source"].startswith("var.")
    )
    return (
        f'{variables}resource "azurerm_network_security_group" "{name}" {{\n  name = "{name}"\n'
        f'  location = "eastus"\n  resource_group_name = "rg-parity"\n{blocks}}}\n'
    )


def template(name: str, *rules: Mapping[str, Any]) -> dict[str, Any]:
    """The ARM template resource of the same NSG (Azure adds the default rules itself)."""
    return {
        "type": NSG_TYPE,
        "apiVersion": "2023-09-01",
        "name": name,
        "location": "eastus",
        "properties": {"securityRules": [{"name": r["name"], "properties": arm_properties(r)} for r in rules]},
    }


def case(name: str, expected: Status, *rules: Mapping[str, Any], **overrides: str) -> Case:
    """One NSG in the three shapes."""
    return Case(name, expected, nsg_json(name, *rules), terraform(name, *rules), template(name, *rules), overrides)


RDP_CASES = (
    case("nsg-no-rules", Status.PASS),
    case("nsg-rdp-vpn-pool", Status.PASS, rule("allow-rdp-vpn", 100, VPN_POOL)),
    case("nsg-rdp-whitelisted", Status.PASS, rule("allow-rdp-office", 100, "203.0.113.0/24")),
    case("nsg-rdp-internet", Status.FAIL, rule("allow-rdp", 100, "Internet")),
    case("nsg-rdp-star-range", Status.FAIL, rule("allow-range", 200, "*", "3000-4000", protocol="*")),
    case("nsg-rdp-plural", Status.FAIL, rule("allow-some", 300, ("10.0.0.0/8", "198.51.100.7"), ("22", "3389"))),
    case(
        "nsg-rdp-shadowed",
        Status.PASS,
        rule("deny-rdp", 100, "Internet", access="Deny", protocol="*"),
        rule("allow-rdp", 200, "Internet"),
    ),
    case(
        "nsg-rdp-tcp-denied-udp-open",
        Status.FAIL,
        rule("deny-tcp", 100, "Internet", access="Deny"),
        rule("allow-any", 200, "Internet", protocol="*"),
    ),
    case("nsg-rdp-other-port", Status.PASS, rule("allow-web", 100, "Internet", ("80", "443"))),
    case("nsg-rdp-partner", Status.FAIL, rule("allow-partner", 100, "198.51.100.0/24")),
    case(
        "nsg-rdp-partner-whitelisted",
        Status.PASS,
        rule("allow-partner", 100, "198.51.100.0/24"),
        allowed_rdp_sources="198.51.100.0/24",
    ),
)

PORT_CASES = (
    case("nsg-ports-none", Status.PASS),
    case("nsg-ports-ssh-internet", Status.FAIL, rule("allow-ssh", 100, "Internet", "22")),
    case("nsg-ports-sql-range", Status.FAIL, rule("allow-db", 100, "*", "1000-2000")),
    case("nsg-ports-ssh-vpn", Status.PASS, rule("allow-ssh", 100, VPN_POOL, "22")),
    case("nsg-ports-rdp-only", Status.PASS, rule("allow-rdp", 100, "Internet")),
    case("nsg-ports-whitelist-ignored", Status.FAIL, rule("allow-ssh", 100, "203.0.113.0/24", "22")),
    case(
        "nsg-ports-shadowed",
        Status.PASS,
        rule("deny-all", 100, "Internet", "*", access="Deny", protocol="*"),
        rule("allow-admin", 200, "Internet", ("22", "1433")),
    ),
    case(
        "nsg-ports-winrm-range",
        Status.FAIL,
        rule("deny-5985", 100, "*", "5985", access="Deny", protocol="*"),
        rule("allow-winrm", 200, "Internet", "5985-5986"),
    ),
    case("nsg-ports-only-ssh", Status.PASS, rule("allow-sql", 100, "Internet", "1433"), exposed_ports="22"),
)


def build(raw: Mapping[str, Any]) -> NetworkSecurityGroup:
    """The record a live scan builds of the NSG."""
    return network_security_group(raw, SUBSCRIPTION)


def test_nsg_rdp_exposure_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("nsg_rdp_exposure", build, RDP_CASES, tmp_path)


def test_nsg_management_port_exposure_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("nsg_management_port_exposure", build, PORT_CASES, tmp_path)


def unreadable_source_json(name: str) -> dict[str, Any]:
    """An NSG whose one rule's source Azure returned as something other than a prefix."""
    raw = nsg_json(name, rule("allow-rdp", 100, "Internet"))
    raw["properties"]["securityRules"][0]["properties"]["sourceAddressPrefix"] = {"unexpected": "object"}
    return raw


# A source the code leaves to deployment (a Terraform variable, an ARM parameter) and a source Azure returned
# unreadable are both errors: no door passes what it cannot read. The messages name what each door could not
# read, so only the status is shared.
UNKNOWN_SOURCE = Case(
    "nsg-rdp-unknown-source",
    Status.ERROR,
    unreadable_source_json("nsg-rdp-unknown-source"),
    terraform("nsg-rdp-unknown-source", rule("allow-rdp", 100, "var.jump_source")),
    template("nsg-rdp-unknown-source", rule("allow-rdp", 100, "[parameters('jumpSource')]")),
)


@pytest.mark.parametrize("rule_id", ["nsg_rdp_exposure", "nsg_management_port_exposure"])
def test_a_source_no_door_can_read_is_an_error_in_every_door(rule_id: str, tmp_path: Path) -> None:
    pytest.importorskip("checkov")
    registered = builtin_registry()[rule_id]
    code = iac_doors(registered, [UNKNOWN_SOURCE], tmp_path)
    assert code[(UNKNOWN_SOURCE.name, "terraform")].status is Status.ERROR
    assert "var.jump_source" in code[(UNKNOWN_SOURCE.name, "terraform")].message
    assert code[(UNKNOWN_SOURCE.name, "arm")].status is Status.ERROR
    assert "parameters('jumpSource')" in code[(UNKNOWN_SOURCE.name, "arm")].message
    record = build(UNKNOWN_SOURCE.arm)
    assert record.unreadable
    verdict = registered.decide(record, params())
    assert verdict is not None
    live = with_unreadable(result_of(record, verdict), {key(record.id): record.unreadable})
    assert live.status is Status.ERROR
    assert live.message.startswith("cannot be judged: Azure returned unreadable values: ")
    assert "sourceAddressPrefix" in live.message
