"""NET-01: RDP exposure of NSGs and NICs, with every source, port and protocol form."""

from __future__ import annotations

import pytest

from auditor.checks.network import nic_rdp_exposure, nsg_rdp_exposure
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.network import SecurityRule
from tests.builders import (
    make_inventory,
    make_nic,
    make_nsg,
    make_pip,
    make_rule,
    make_subnet,
    make_vnet,
)

PARAMS = Params({"allowed_rdp_sources": ("203.0.113.0/24",)})


def nsg_status(*rules: SecurityRule, params: Params = PARAMS) -> Status:
    """The verdict of nsg_rdp_exposure on one NSG holding the rules."""
    (result,) = nsg_rdp_exposure(make_inventory(network_security_groups=[make_nsg(rules=rules)]), params)
    return result.status


FAILING_RULE_SETS = {
    "star source": (make_rule(sources=("*",)),),
    "Internet tag": (make_rule(sources=("Internet",)),),
    "internet tag lower case": (make_rule(sources=("internet",)),),
    "Any keyword": (make_rule(sources=("Any",)),),
    "0.0.0.0/0": (make_rule(sources=("0.0.0.0/0",)),),
    "IPv6 ::/0": (make_rule(sources=("::/0",)),),
    "public CIDR not whitelisted": (make_rule(sources=("198.51.100.0/24",)),),
    "single public address": (make_rule(sources=("198.51.100.7",)),),
    "plural sources with one public": (make_rule(sources=("10.0.0.0/8", "198.51.100.7/32")),),
    "wider than the whitelist": (make_rule(sources=("203.0.112.0/23",)),),
    "port range covering 3389": (make_rule(ports=("3000-4000",)),),
    "star port": (make_rule(ports=("*",)),),
    "plural ports": (make_rule(ports=("22", "3380-3390")),),
    "UDP": (make_rule(protocol="Udp", sources=("Internet",)),),
    "star protocol": (make_rule(protocol="*", sources=("Internet",)),),
    "TCP denied but UDP still allowed by *": (
        make_rule("deny-tcp", priority=100, access="Deny", protocol="Tcp", sources=("Internet",)),
        make_rule("allow-all", priority=200, protocol="*", sources=("Internet",)),
    ),
    "deny after the allow does not help": (
        make_rule("allow", priority=100, sources=("Internet",)),
        make_rule("deny", priority=200, access="Deny", sources=("Internet",)),
    ),
    "deny covers only part of the allow": (
        make_rule("deny", priority=100, access="Deny", sources=("198.51.100.0/25",)),
        make_rule("allow", priority=200, sources=("198.51.100.0/24",)),
    ),
}

PASSING_RULE_SETS = {
    "no custom rules": (),
    "VirtualNetwork tag": (make_rule(sources=("VirtualNetwork",)),),
    "AzureLoadBalancer tag": (make_rule(sources=("AzureLoadBalancer",)),),
    "private range": (make_rule(sources=("10.0.0.0/8", "172.16.201.0/24", "192.168.0.0/16")),),
    "whitelisted prefix": (make_rule(sources=("203.0.113.0/24",)),),
    "address inside the whitelist": (make_rule(sources=("203.0.113.7/32",)),),
    "other port from anywhere": (make_rule(sources=("*",), ports=("80", "443")),),
    "range stopping before 3389": (make_rule(ports=("3390-4000", "1-3388")),),
    "ICMP": (make_rule(protocol="Icmp", ports=("*",)),),
    "outbound rule": (make_rule(direction="Outbound"),),
    "deny only": (make_rule(access="Deny", sources=("Internet",)),),
    "shadowed by a higher-priority deny": (
        make_rule("deny-rdp", priority=200, access="Deny", protocol="*", sources=("Internet",)),
        make_rule("allow-rdp", priority=300, protocol="*", sources=("Internet",)),
    ),
    "deny star shadows allow star": (
        make_rule("deny", priority=100, access="Deny", protocol="*", sources=("*",)),
        make_rule("allow", priority=110, protocol="*", sources=("*",)),
    ),
    "application security group source": (
        SecurityRule("asg", 100, "Inbound", "Allow", "Tcp", (), ("3389",), source_asg_ids=("/asg",)),
    ),
}


@pytest.mark.parametrize("rules", FAILING_RULE_SETS.values(), ids=FAILING_RULE_SETS.keys())
def test_nsg_fails_when_rdp_reaches_public_sources(rules: tuple[SecurityRule, ...]) -> None:
    assert nsg_status(*rules) is Status.FAIL


@pytest.mark.parametrize("rules", PASSING_RULE_SETS.values(), ids=PASSING_RULE_SETS.keys())
def test_nsg_passes_when_rdp_is_closed_to_public_sources(rules: tuple[SecurityRule, ...]) -> None:
    assert nsg_status(*rules) is Status.PASS


def test_whitelist_comes_from_the_parameter() -> None:
    rule = make_rule(sources=("198.51.100.0/24",))
    assert nsg_status(rule) is Status.FAIL
    assert nsg_status(rule, params=Params({"allowed_rdp_sources": ("198.51.100.0/24",)})) is Status.PASS


def test_failure_evidence_names_the_rule_and_priority() -> None:
    rules = (make_rule("open-rdp", priority=310, sources=("Internet",)),)
    (result,) = nsg_rdp_exposure(make_inventory(network_security_groups=[make_nsg(rules=rules)]), PARAMS)
    (exposure,) = result.evidence["exposures"]
    assert exposure["rule"] == "open-rdp"
    assert exposure["priority"] == 310
    assert exposure["over"] == "Tcp"
    assert "open-rdp" in result.message


ALLOW_INTERNET = make_rule("allow-internet-rdp", priority=100, protocol="*", sources=("Internet",))
DENY_INTERNET = make_rule("deny-internet-rdp", priority=100, access="Deny", protocol="*", sources=("Internet",))


def nic_status(
    *,
    subnet_rules: tuple[SecurityRule, ...] | None = None,
    nic_rules: tuple[SecurityRule, ...] | None = None,
    pip_sku: str | bool | None = False,
) -> Status:
    """The verdict of nic_rdp_exposure on one NIC with optional subnet and NIC NSGs and public IP."""
    subnet_nsg = make_nsg("subnet-nsg", subnet_rules) if subnet_rules is not None else None
    nic_nsg = make_nsg("nic-nsg", nic_rules) if nic_rules is not None else None
    subnet = make_subnet(nsg=subnet_nsg)
    pip = make_pip(sku=pip_sku) if pip_sku is not False else None  # type: ignore[arg-type]
    inventory = make_inventory(
        network_security_groups=[n for n in (subnet_nsg, nic_nsg) if n],
        virtual_networks=[make_vnet(subnet)],
        public_ip_addresses=[pip] if pip else [],
        network_interfaces=[make_nic(subnet=subnet, nsg=nic_nsg, public_ip=pip)],
    )
    (result,) = nic_rdp_exposure(inventory, PARAMS)
    return result.status


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"pip_sku": "Basic"}, Status.FAIL),
        ({"pip_sku": None}, Status.FAIL),
        ({"pip_sku": "Standard"}, Status.PASS),
        ({}, Status.PASS),
        ({"subnet_rules": (ALLOW_INTERNET,)}, Status.FAIL),
        ({"nic_rules": (ALLOW_INTERNET,), "pip_sku": "Standard"}, Status.FAIL),
        ({"subnet_rules": (ALLOW_INTERNET,), "nic_rules": (DENY_INTERNET,), "pip_sku": "Basic"}, Status.PASS),
        ({"subnet_rules": (DENY_INTERNET,), "nic_rules": (ALLOW_INTERNET,), "pip_sku": "Basic"}, Status.PASS),
        ({"subnet_rules": (ALLOW_INTERNET,), "nic_rules": (ALLOW_INTERNET,)}, Status.FAIL),
        ({"subnet_rules": (), "pip_sku": "Basic"}, Status.PASS),
        (
            {
                "subnet_rules": (make_rule(sources=("198.51.100.0/24",)),),
                "nic_rules": (make_rule(sources=("198.51.100.128/25",)),),
            },
            Status.FAIL,
        ),
        (
            {
                "subnet_rules": (make_rule(sources=("198.51.100.0/25",)),),
                "nic_rules": (make_rule(sources=("198.51.100.128/25",)),),
            },
            Status.PASS,
        ),
    ],
    ids=[
        "no NSG, Basic public IP",
        "no NSG, public IP of unknown SKU",
        "no NSG, Standard public IP",
        "no NSG, no public IP",
        "subnet NSG allows, no NIC NSG",
        "NIC NSG allows, no subnet NSG",
        "subnet allows, NIC denies",
        "subnet denies, NIC allows",
        "both allow",
        "empty subnet NSG closes a Basic IP",
        "overlapping public sources in both layers",
        "disjoint public sources in the two layers",
    ],
)
def test_nic_exposure_combines_both_layers(case: dict[str, object], expected: Status) -> None:
    assert nic_status(**case) is expected  # type: ignore[arg-type]


def test_nic_referencing_an_uncollected_nsg_is_an_error() -> None:
    nsg = make_nsg("missing")
    inventory = make_inventory(network_interfaces=[make_nic(nsg=nsg)])
    (result,) = nic_rdp_exposure(inventory, PARAMS)
    assert result.status is Status.ERROR
    assert "not collected" in result.message


def test_nic_in_an_uncollected_subnet_is_an_error() -> None:
    inventory = make_inventory(network_interfaces=[make_nic(subnet=make_subnet())])
    (result,) = nic_rdp_exposure(inventory, PARAMS)
    assert result.status is Status.ERROR
