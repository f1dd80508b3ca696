"""NET-02 (vpn_p2s_authentication, remote_admin_sources_via_vpn) through the live door and the IaC door: one
case table per rule, the same verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import builtin_registry
from auditor.checks.vpn import NsgAdminSources, VpnEstate
from auditor.collect.firewall import virtual_network_gateway
from auditor.collect.network import network_security_group
from auditor.iac.doors import DOORS, judge_resource
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.network import VirtualNetworkGateway
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, params

GATEWAYS = "Microsoft.Network/virtualNetworkGateways"
NSGS = "Microsoft.Network/networkSecurityGroups"
POOL = "172.16.201.0/24"
HUB_SUBNET = arm_id("Microsoft.Network/virtualNetworks", "vnet-hub") + "/subnets/GatewaySubnet"


# --- point-to-site authentication -----------------------------------------------------------------


def gateway_properties(p2s: Mapping[str, Any] | None) -> dict[str, Any]:
    """A route-based VPN gateway's properties with the given vpnClientConfiguration (None: site-to-site only)."""
    found: dict[str, Any] = {
        "gatewayType": "Vpn",
        "vpnType": "RouteBased",
        "sku": {"name": "VpnGw1", "tier": "VpnGw1"},
    }
    return found | ({"vpnClientConfiguration": dict(p2s)} if p2s is not None else {})


def gateway_json(name: str, p2s: Mapping[str, Any] | None) -> dict[str, Any]:
    """The gateway as ARM GET returns it (shape of Microsoft's VirtualNetworkGatewayGet example)."""
    return {
        "id": arm_id(GATEWAYS, name),
        "name": name,
        "type": GATEWAYS,
        "location": "eastus",
        "properties": {
            "provisioningState": "Succeeded",
            "ipConfigurations": [{"name": "gwipconfig1", "properties": {"subnet": {"id": HUB_SUBNET}}}],
        }
        | gateway_properties(p2s),
    }


def gateway_template(name: str, p2s: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ARM template resource of the same gateway."""
    return {
        "type": GATEWAYS,
        "apiVersion": "2024-05-01",
        "name": name,
        "location": "eastus",
        "properties": {
            "ipConfigurations": [
                {
                    "name": "gwipconfig1",
                    "properties": {
                        "subnet": {
                            "id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', "
                            "'vnet-hub', 'GatewaySubnet')]"
                        }
                    },
                }
            ],
        }
        | gateway_properties(p2s),
    }


def gateway_terraform(name: str, p2s: str | None) -> str:
    """An azurerm_virtual_network_gateway with the given vpn_client_configuration body (None: none)."""
    block = f"  vpn_client_configuration {{\n{p2s}  }}\n" if p2s is not None else ""
    return (
        f'resource "azurerm_virtual_network_gateway" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        '  resource_group_name = "rg-parity"\n  type = "Vpn"\n  vpn_type = "RouteBased"\n  sku = "VpnGw1"\n'
        "  ip_configuration {\n    public_ip_address_id = azurerm_public_ip.gw.id\n"
        "    subnet_id = azurerm_subnet.gateway.id\n  }\n"
        f"{block}}}\n"
    )


CERTIFICATE = "MIIC5zCCAc+gAwIBAgIQ"
P2S_CASES = (
    Case(
        "gw-entra",
        Status.PASS,
        gateway_json(
            "gw-entra",
            {
                "vpnClientAddressPool": {"addressPrefixes": [POOL]},
                "vpnClientProtocols": ["OpenVPN"],
                "vpnAuthenticationTypes": ["AAD"],
                "aadTenant": "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000bb/",
            },
        ),
        gateway_terraform(
            "gw-entra",
            f'    address_space = ["{POOL}"]\n    vpn_client_protocols = ["OpenVPN"]\n    vpn_auth_types = ["AAD"]\n'
            '    aad_tenant = "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000bb/"\n'
            '    aad_audience = "41b23e61-6c1e-4545-b367-cd054e0ed4b4"\n'
            '    aad_issuer = "https://sts.windows.net/00000000-0000-0000-0000-0000000000bb/"\n',
        ),
        gateway_template(
            "gw-entra",
            {
                "vpnClientAddressPool": {"addressPrefixes": [POOL]},
                "vpnClientProtocols": ["OpenVPN"],
                "vpnAuthenticationTypes": ["AAD"],
                "aadTenant": "[concat('https://login.microsoftonline.com/', subscription().tenantId, '/')]",
            },
        ),
    ),
    Case(
        "gw-certificate-inferred",
        Status.PASS,
        gateway_json(
            "gw-certificate-inferred",
            {
                "vpnClientAddressPool": {"addressPrefixes": [POOL]},
                "vpnClientRootCertificates": [{"name": "root", "properties": {"publicCertData": CERTIFICATE}}],
            },
        ),
        gateway_terraform(
            "gw-certificate-inferred",
            f'    address_space = ["{POOL}"]\n'
            f'    root_certificate {{\n      name = "root"\n      public_cert_data = "{CERTIFICATE}"\n    }}\n',
        ),
        gateway_template(
            "gw-certificate-inferred",
            {
                "vpnClientAddressPool": {"addressPrefixes": [POOL]},
                "vpnClientRootCertificates": [{"name": "root", "properties": {"publicCertData": CERTIFICATE}}],
            },
        ),
    ),
    Case(
        "gw-site-to-site",
        Status.PASS,
        gateway_json("gw-site-to-site", None),
        gateway_terraform("gw-site-to-site", None),
        gateway_template("gw-site-to-site", None),
    ),
    Case(
        "gw-radius",
        Status.FAIL,
        gateway_json(
            "gw-radius",
            {
                "vpnClientAddressPool": {"addressPrefixes": [POOL]},
                "vpnAuthenticationTypes": ["Radius"],
                "radiusServerAddress": "10.0.9.9",
            },
        ),
        gateway_terraform(
            "gw-radius",
            f'    address_space = ["{POOL}"]\n    vpn_auth_types = ["Radius"]\n'
            '    radius_server_address = "10.0.9.9"\n    radius_server_secret = "not-a-real-secret"\n',
        ),
        gateway_template(
            "gw-radius",
            {
                "vpnClientAddressPool": {"addressPrefixes": [POOL]},
                "vpnAuthenticationTypes": ["Radius"],
                "radiusServerAddress": "10.0.9.9",
                "radiusServerSecret": "[parameters('radiusSecret')]",
            },
        ),
    ),
    Case(
        "gw-pool-only",
        Status.FAIL,
        gateway_json("gw-pool-only", {"vpnClientAddressPool": {"addressPrefixes": [POOL]}}),
        gateway_terraform("gw-pool-only", f'    address_space = ["{POOL}"]\n'),
        gateway_template("gw-pool-only", {"vpnClientAddressPool": {"addressPrefixes": [POOL]}}),
    ),
)


def build_gateway(raw: Mapping[str, Any]) -> VirtualNetworkGateway:
    """The record a live scan builds of the gateway."""
    return virtual_network_gateway(raw, SUBSCRIPTION)


def test_vpn_p2s_authentication_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("vpn_p2s_authentication", build_gateway, P2S_CASES, tmp_path)


# --- remote administration only from VPN sources ---------------------------------------------------

DEFAULT_RULES = [
    {
        "name": "AllowVnetInBound",
        "properties": {
            "priority": 65000,
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "*",
            "sourceAddressPrefix": "VirtualNetwork",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "VirtualNetwork",
            "destinationPortRange": "*",
        },
    },
    {
        "name": "DenyAllInBound",
        "properties": {
            "priority": 65500,
            "direction": "Inbound",
            "access": "Deny",
            "protocol": "*",
            "sourceAddressPrefix": "*",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": "*",
        },
    },
]


def rule_json(name: str, source: str, port: str, *, priority: int = 100, access: str = "Allow") -> dict[str, Any]:
    """An inbound TCP rule as ARM returns it in securityRules (and as a template declares it)."""
    return {
        "name": name,
        "properties": {
            "priority": priority,
            "direction": "Inbound",
            "access": access,
            "protocol": "Tcp",
            "sourceAddressPrefix": source,
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": port,
        },
    }


def nsg_json(name: str, *rules: Mapping[str, Any]) -> dict[str, Any]:
    """The NSG as ARM GET returns it, Azure's default rules included."""
    return {
        "id": arm_id(NSGS, name),
        "name": name,
        "type": NSGS,
        "location": "eastus",
        "properties": {"securityRules": [dict(r) for r in rules], "defaultSecurityRules": DEFAULT_RULES},
    }


def nsg_template(name: str, *rules: Mapping[str, Any]) -> dict[str, Any]:
    """The ARM template resource of the same NSG."""
    return {
        "type": NSGS,
        "apiVersion": "2024-05-01",
        "name": name,
        "location": "eastus",
        "properties": {"securityRules": [dict(r) for r in rules]},
    }


def hcl_rule(rule: Mapping[str, Any], indent: str = "    ") -> str:
    """The body of an HCL security rule for a rule_json rule."""
    props = rule["properties"]
    lines = {
        "name": rule["name"],
        "priority": props["priority"],
        "direction": props["direction"],
        "access": props["access"],
        "protocol": props["protocol"],
        "source_port_range": "*",
        "destination_port_range": props["destinationPortRange"],
        "source_address_prefix": props["sourceAddressPrefix"],
        "destination_address_prefix": "*",
    }
    return "".join(f"{indent}{k} = {v if isinstance(v, int) else chr(34) + v + chr(34)}\n" for k, v in lines.items())


def nsg_terraform(name: str, *rules: Mapping[str, Any]) -> str:
    """An azurerm_network_security_group with the rules inline."""
    blocks = "".join(f"  security_rule {{\n{hcl_rule(r)}  }}\n" for r in rules)
    return (
        f'resource "azurerm_network_security_group" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n{blocks}}}\n'
    )


def admin_case(name: str, expected: Status, *rules: Mapping[str, Any], **overrides: str) -> Case:
    """One NSG written three ways."""
    return Case(
        name,
        expected,
        nsg_json(name, *rules),
        nsg_terraform(name, *rules),
        nsg_template(name, *rules),
        params=overrides,
    )


RDP_WHITELISTED = rule_json("rdp-office", "203.0.113.0/24", "3389")
RDP_INTERNET = rule_json("rdp-internet", "Internet", "3389")
SSH_ANY = rule_json("ssh-any", "*", "22", priority=200)
PARTNER = rule_json("rdp-partner", "198.51.100.0/24", "3389")
ADMIN_CASES = (
    admin_case("nsg-whitelisted", Status.PASS, RDP_WHITELISTED),
    admin_case("nsg-web-only", Status.PASS, rule_json("https", "*", "443")),
    admin_case(
        "nsg-shadowed",
        Status.PASS,
        rule_json("deny-internet", "Internet", "3389", priority=100, access="Deny"),
        rule_json("rdp-legacy", "Internet", "3389", priority=300),
    ),
    admin_case("nsg-rdp-internet", Status.FAIL, RDP_WHITELISTED, RDP_INTERNET),
    admin_case("nsg-ssh-any", Status.FAIL, SSH_ANY),
    admin_case("nsg-partner-whitelisted", Status.PASS, PARTNER, allowed_rdp_sources="198.51.100.0/24"),
    admin_case("nsg-pool-stated", Status.PASS, rule_json("rdp-vpn", POOL, "3389"), vpn_source_prefixes=POOL),
    admin_case(
        "nsg-private-not-the-pool", Status.FAIL, rule_json("rdp-lan", "10.0.0.0/8", "3389"), vpn_source_prefixes=POOL
    ),
)


def build_nsg(raw: Mapping[str, Any]) -> NsgAdminSources:
    """The record a live scan builds of the NSG, in an estate with no VPN gateway or appliance."""
    return NsgAdminSources(network_security_group(raw, SUBSCRIPTION), VpnEstate((), (), ()))


def test_remote_admin_sources_via_vpn_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("remote_admin_sources_via_vpn", build_nsg, ADMIN_CASES, tmp_path)


# --- what the code alone cannot show ---------------------------------------------------------------


def door(rule: str, language: str) -> Any:
    """The door of a rule for one language."""
    (found,) = [d for d in DOORS if d.rule == rule and d.language == language]
    return found


def judged(rule: str, language: str, resource_type: str, conf: Mapping[str, Any], **overrides: str) -> Any:
    """The rule's verdict on one resource configuration in code."""
    chosen: Params = params(overrides)
    return judge_resource(door(rule, language), resource_type, conf, chosen)


def test_partner_sources_left_out_of_the_whitelist_are_errors_in_code() -> None:
    # Live, the estate shows no VPN pool holds 198.51.100.0/24; the code of one NSG cannot show it.
    conf = nsg_template("nsg-partner", PARTNER, SSH_ANY)
    verdict = judged("remote_admin_sources_via_vpn", "arm", NSGS, conf)
    assert verdict.status is Status.FAIL
    assert "ssh-any (22)" in verdict.message
    assert "rdp-partner" not in verdict.message
    only_partner = judged("remote_admin_sources_via_vpn", "arm", NSGS, nsg_template("nsg-partner", PARTNER))
    assert only_partner.status is Status.ERROR
    whitelisted = judged(
        "remote_admin_sources_via_vpn",
        "arm",
        NSGS,
        nsg_template("nsg-partner", PARTNER),
        allowed_rdp_sources=("198.51.100.0/24"),
    )
    assert whitelisted.status is Status.PASS


def test_admin_sources_that_may_be_the_vpn_pool_are_errors_in_code_and_failures_live() -> None:
    conf = nsg_template("nsg-private", rule_json("rdp-private", "10.0.0.0/8", "3389"))
    verdict = judged("remote_admin_sources_via_vpn", "arm", NSGS, conf)
    assert verdict.status is Status.ERROR
    assert "rdp-private (3389)" in verdict.message
    assert "not stated by the code of this NSG" in verdict.message
    live = build_nsg(nsg_json("nsg-private", rule_json("rdp-private", "10.0.0.0/8", "3389")))
    ruled = builtin_registry()["remote_admin_sources_via_vpn"].decide(live, params())
    assert ruled is not None and ruled.status is Status.FAIL


def test_a_standalone_terraform_rule_is_judged_as_its_nsg() -> None:
    conf = {
        "__address__": "azurerm_network_security_rule.rdp",
        "name": ["rdp"],
        "network_security_group_name": ["nsg-web"],
        "priority": [100],
        "direction": ["Inbound"],
        "access": ["Allow"],
        "protocol": ["Tcp"],
        "source_address_prefix": ["*"],
        "destination_port_range": ["3389"],
    }
    verdict = judged("remote_admin_sources_via_vpn", "terraform", "azurerm_network_security_rule", conf)
    assert verdict.status is Status.FAIL
    assert "rdp (3389)" in verdict.message


@pytest.mark.parametrize(
    ("language", "resource_type", "conf", "words"),
    [
        (
            "terraform",
            "azurerm_virtual_network_gateway",
            {"__address__": "azurerm_virtual_network_gateway.gw", "type": ["${var.gateway_type}"]},
            "unresolved",
        ),
        (
            "terraform",
            "azurerm_virtual_network_gateway",
            {
                "__address__": "azurerm_virtual_network_gateway.gw",
                "type": ["Vpn"],
                "vpn_client_configuration": [{"address_space": [[POOL]], "vpn_auth_types": ["${var.auth}"]}],
            },
            "vpn_auth_types",
        ),
        (
            "arm",
            GATEWAYS,
            {"name": "gw", "properties": {"gatewayType": "[parameters('kind')]"}},
            "resolved only at deployment",
        ),
        (
            "arm",
            GATEWAYS,
            {
                "name": "gw",
                "properties": {
                    "gatewayType": "Vpn",
                    "vpnClientConfiguration": {"vpnClientRootCertificates": "[parameters('roots')]"},
                },
            },
            "vpnClientRootCertificates",
        ),
    ],
    ids=["gateway type from a variable", "auth types from a variable", "gateway type parameter", "roots parameter"],
)
def test_gateway_settings_left_to_deployment_are_errors(
    language: str, resource_type: str, conf: Mapping[str, Any], words: str
) -> None:
    verdict = judged("vpn_p2s_authentication", language, resource_type, conf)
    assert verdict.status is Status.ERROR
    assert words in verdict.message


def test_expressroute_gateways_in_code_are_not_judged() -> None:
    conf = {"name": "er", "properties": {"gatewayType": "ExpressRoute"}}
    assert judged("vpn_p2s_authentication", "arm", GATEWAYS, conf) is None
