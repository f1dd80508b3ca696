"""NET-01 RDP exposure of NSGs and NICs, with every source, port and protocol form; NET-04 management ports."""

from __future__ import annotations

import pytest

from auditor.checks.nsg import nic_rdp_exposure, nsg_management_port_exposure, nsg_rdp_exposure
from auditor.model import CheckResult, Status
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
    results,
)

PARAMS = Params({"allowed_rdp_sources": ("203.0.113.0/24",)})


def nsg_status(*rules: SecurityRule, params: Params = PARAMS) -> Status:
    """The verdict of nsg_rdp_exposure on one NSG holding the rules."""
    return nsg_rdp_exposure(make_nsg(rules=rules), params).status


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
    verdict = nsg_rdp_exposure(make_nsg(rules=rules), PARAMS)
    (exposure,) = verdict.evidence["exposures"]
    assert exposure["rule"] == "open-rdp"
    assert exposure["priority"] == 310
    assert exposure["over"] == "Tcp"
    assert verdict.message == (
        "Inbound rule(s) open-rdp (Tcp) admit RDP (3389) from public sources outside the whitelist "
        "(for example 1.0.0.0/8, 2.0.0.0/7, 4.0.0.0/6)"
    )


def test_passing_nsg_says_how_many_rules_it_evaluated() -> None:
    verdict = nsg_rdp_exposure(make_nsg(rules=(make_rule(sources=("10.0.0.0/8",)),)), PARAMS)
    assert verdict.message == "No inbound rule admits RDP (3389) from a public source outside the whitelist"
    assert verdict.evidence["rules_evaluated"] == 4
    assert verdict.evidence["whitelist"] == ["203.0.113.0/24"]


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
    (result,) = results(nic_rdp_exposure, inventory, PARAMS)
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
    (result,) = results(nic_rdp_exposure, inventory, PARAMS)
    assert result.status is Status.ERROR
    assert result.message == f"NIC NSG {nsg.id} is referenced but was not collected"
    assert result.evidence == {"nsg_id": nsg.id}


def test_nic_in_an_uncollected_subnet_is_an_error() -> None:
    subnet = make_subnet()
    inventory = make_inventory(network_interfaces=[make_nic(subnet=subnet)])
    (result,) = results(nic_rdp_exposure, inventory, PARAMS)
    assert result.status is Status.ERROR
    assert result.message == f"subnet {subnet.id} is referenced but was not collected"


def test_nic_whose_public_ip_was_not_collected_is_an_error() -> None:
    inventory = make_inventory(network_interfaces=[make_nic(public_ip=make_pip())])
    (result,) = results(nic_rdp_exposure, inventory, PARAMS)
    assert result.status is Status.ERROR
    assert "public IP" in result.message and "not collected" in result.message


def test_nic_failure_names_the_deciding_rules_of_both_layers() -> None:
    subnet_nsg = make_nsg("subnet-nsg", (ALLOW_INTERNET,))
    subnet = make_subnet(nsg=subnet_nsg)
    inventory = make_inventory(
        network_security_groups=[subnet_nsg],
        virtual_networks=[make_vnet(subnet)],
        network_interfaces=[make_nic(subnet=subnet)],
    )
    (result,) = results(nic_rdp_exposure, inventory, PARAMS)
    assert result.message == (
        "RDP (3389/Tcp) reaches this NIC from public sources outside the whitelist "
        "through subnet-nsg/allow-internet-rdp (priority 100)"
    )
    assert result.evidence["deciding_rules"] == ["subnet-nsg/allow-internet-rdp (priority 100)"]


def test_no_nics_is_not_applicable_and_names_the_subject() -> None:
    assert nic_rdp_exposure.__check_spec__.subject == "network interfaces"  # type: ignore[attr-defined]
    assert results(nic_rdp_exposure, make_inventory(), PARAMS) == list[CheckResult]()


# --- NET-04: other management and database ports --------------------------------------------------------

POOL = "172.16.201.0/24"
PORT_PARAMS = Params({"exposed_ports": ("22", "5985", "5986", "1433", "1434", "3306", "5432")})

PORTS_FAILING = {
    "SSH from Internet": (make_rule(sources=("Internet",), ports=("22",)),),
    "SQL from star": (make_rule(sources=("*",), ports=("1433",)),),
    "range covering 1433": (make_rule(sources=("Internet",), ports=("1000-2000",)),),
    "star port": (make_rule(sources=("0.0.0.0/0",), ports=("*",)),),
    "SQL Browser over UDP": (make_rule(protocol="Udp", sources=("Internet",), ports=("1434",)),),
    "public prefix": (make_rule(sources=("198.51.100.0/24",), ports=("5432",)),),
    "RDP whitelist does not apply": (make_rule(sources=("203.0.113.0/24",), ports=("22",)),),
    "deny covers part of the public sources": (
        make_rule("deny", priority=100, access="Deny", sources=("198.51.100.0/25",), ports=("3306",)),
        make_rule("allow", priority=200, sources=("198.51.100.0/24",), ports=("3306",)),
    ),
}

PORTS_PASSING = {
    "no custom rules": (),
    "SSH from the VPN pool": (make_rule(sources=(POOL,), ports=("22",)),),
    "SQL from the VNet": (make_rule(sources=("VirtualNetwork",), ports=("1433",)),),
    "RDP is judged elsewhere": (make_rule(sources=("Internet",), ports=("3389",)),),
    "web ports": (make_rule(sources=("Internet",), ports=("80", "443")),),
    "shadowed by a deny": (
        make_rule("deny", priority=100, access="Deny", protocol="*", sources=("Internet",), ports=("*",)),
        make_rule("allow", priority=200, sources=("Internet",), ports=("22", "1433")),
    ),
}


@pytest.mark.parametrize("rules", PORTS_FAILING.values(), ids=PORTS_FAILING.keys())
def test_management_port_from_the_internet_fails(rules: tuple[SecurityRule, ...]) -> None:
    assert nsg_management_port_exposure(make_nsg(rules=rules), PORT_PARAMS).status is Status.FAIL


@pytest.mark.parametrize("rules", PORTS_PASSING.values(), ids=PORTS_PASSING.keys())
def test_management_ports_closed_to_the_internet_pass(rules: tuple[SecurityRule, ...]) -> None:
    verdict = nsg_management_port_exposure(make_nsg(rules=rules), PORT_PARAMS)
    assert verdict.status is Status.PASS
    assert verdict.message == "No inbound rule admits ports 22, 5985, 5986, 1433, 1434, 3306, 5432 from a public source"


def test_management_port_evidence_is_per_port() -> None:
    rules = (make_rule("open-admin", priority=150, sources=("Internet",), ports=("22", "1433")),)
    verdict = nsg_management_port_exposure(make_nsg(rules=rules), PORT_PARAMS)
    assert set(verdict.evidence["exposed_ports"]) == {"22", "1433"}
    assert verdict.evidence["exposed_ports"]["22"][0]["rule"] == "open-admin"
    assert verdict.evidence["exposed_ports"]["22"][0]["priority"] == 150
    assert verdict.message == (
        "Management or database port(s) reachable from the Internet: 22 through open-admin; 1433 through open-admin"
    )


def test_port_ranges_in_the_parameter_are_judged_port_by_port() -> None:
    ranged = Params({"exposed_ports": ("5985-5986",)})
    rules = (
        make_rule("deny-5985", priority=100, access="Deny", protocol="*", sources=("*",), ports=("5985",)),
        make_rule("allow-winrm", priority=200, sources=("Internet",), ports=("5985-5986",)),
    )
    verdict = nsg_management_port_exposure(make_nsg(rules=rules), ranged)
    assert verdict.status is Status.FAIL
    assert [e["port"] for e in verdict.evidence["exposed_ports"]["5985-5986"]] == [5986]
    closed = (make_rule("allow-5985", sources=("Internet",), ports=("5985",)),)
    ssh_only = Params({"exposed_ports": ("5986-5990",)})
    assert nsg_management_port_exposure(make_nsg(rules=closed), ssh_only).status is Status.PASS


def test_unreadable_port_parameter_is_an_error() -> None:
    verdict = nsg_management_port_exposure(make_nsg(), Params({"exposed_ports": ("22", "ssh")}))
    assert verdict.status is Status.ERROR
    assert verdict.message == "exposed_ports entry 'ssh' is not a port or a port range"
