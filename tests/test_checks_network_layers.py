"""NET-01 firewall DNAT and NET-04 management ports."""

from __future__ import annotations

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.checks.network import firewall_rdp_dnat, nsg_management_port_exposure
from auditor.inventory import Inventory
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.network import NatRule, SecurityRule
from tests.builders import CheckFunction, make_rule, results
from tests.network_estates import PARAMS, POOL, firewall, nat, nsg, only, policy, run

# --- NET-01: Azure Firewall DNAT to RDP -----------------------------------------------------------------

DNAT_FAILING = {
    "star source": nat(sources=("*",)),
    "Any keyword": nat(sources=("Any",)),
    "0.0.0.0/0": nat(sources=("0.0.0.0/0",)),
    "IPv6 ::/0": nat(sources=("::/0",)),
    "public address not whitelisted": nat(sources=("198.51.100.77",)),
    "public range not whitelisted": nat(sources=("198.51.100.1-198.51.100.9",)),
    "wider than the whitelist": nat(sources=("203.0.112.0/23",)),
    "one public among private": nat(sources=("10.0.0.0/8", "198.51.100.77")),
    "other public port translated to 3389": nat(sources=("198.51.100.77",), port="53389"),
    "no translated port, destination 3389": nat(sources=("*",), translated=None),
    "no translated port, range covering 3389": nat(sources=("*",), port="3000-4000", translated=None),
    "UDP": nat(sources=("*",), protocols=("UDP",)),
    "Any protocol": nat(sources=("*",), protocols=("Any",)),
}

DNAT_PASSING = {
    "whitelisted prefix": nat(),
    "address inside the whitelist": nat(sources=("203.0.113.7",)),
    "range inside the whitelist": nat(sources=("203.0.113.1-203.0.113.9",)),
    "private sources": nat(sources=("10.0.0.0/8", POOL)),
    "translated to another port": nat(sources=("*",), translated="443"),
    "destination 3389 translated elsewhere": nat(sources=("*",), port="3389", translated="8443"),
    "no translated port, other destination": nat(sources=("*",), port="443", translated=None),
    "ICMP only": nat(sources=("*",), protocols=("ICMP",)),
}


@pytest.mark.parametrize("rule", DNAT_FAILING.values(), ids=DNAT_FAILING.keys())
def test_policy_dnat_to_rdp_from_public_sources_fails(rule: NatRule) -> None:
    result = only(firewall_rdp_dnat, firewall_policies=[policy(nat_rules=(rule,))])
    assert result.status is Status.FAIL
    assert "dnat/rdp" in result.message
    (evidence,) = result.evidence["rdp_dnat_rules"]
    assert evidence["rule"] == "rdp"
    assert evidence["public_sources_example"]


@pytest.mark.parametrize("rule", DNAT_PASSING.values(), ids=DNAT_PASSING.keys())
def test_policy_dnat_closed_to_public_sources_passes(rule: NatRule) -> None:
    assert only(firewall_rdp_dnat, firewall_policies=[policy(nat_rules=(rule,))]).status is Status.PASS


def test_classic_dnat_rules_of_a_firewall_are_judged() -> None:
    bad = firewall(nat_rules=(nat(sources=("*",)),))
    good = firewall("afw2", nat_rules=(nat(),))
    results = run(firewall_rdp_dnat, azure_firewalls=[bad, good])
    assert [r.status for r in results] == [Status.FAIL, Status.PASS]


def test_policy_managed_firewall_points_at_its_policy() -> None:
    attached = firewall(firewall_policy_id=policy().id)
    results = run(firewall_rdp_dnat, azure_firewalls=[attached], firewall_policies=[policy(nat_rules=(nat(),))])
    assert [r.status for r in results] == [Status.PASS, Status.PASS]
    assert "afwp" in results[0].message
    assert results[1].evidence["rdp_dnat_rules"][0]["translated_port"] == "3389"


def test_dnat_whitelist_comes_from_the_parameter() -> None:
    rule = nat(sources=("198.51.100.77",))
    assert only(firewall_rdp_dnat, firewall_policies=[policy(nat_rules=(rule,))]).status is Status.FAIL
    wider = Params(dict(PARAMS.values) | {"allowed_rdp_sources": ("198.51.100.0/24",)})
    assert only(firewall_rdp_dnat, wider, firewall_policies=[policy(nat_rules=(rule,))]).status is Status.PASS


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ((nat(sources=(), ip_groups=("/ipGroups/admins",)),), Status.ERROR),
        ((nat(sources=("corp-network",)),), Status.ERROR),
        ((nat(sources=()),), Status.ERROR),
        ((nat(sources=(), ip_groups=("/ipGroups/admins",)), nat("open", sources=("*",))), Status.FAIL),
        ((nat(sources=(), ip_groups=("/ipGroups/admins",), translated="443"),), Status.PASS),
    ],
    ids=["IP group", "unreadable source", "no source", "an open rule outweighs an IP group", "IP group not to RDP"],
)
def test_dnat_sources_that_cannot_be_resolved_are_errors(rules: tuple[NatRule, ...], expected: Status) -> None:
    result = only(firewall_rdp_dnat, firewall_policies=[policy(nat_rules=rules)])
    assert result.status is expected
    if expected is Status.ERROR:
        assert "cannot resolve" in result.message


def test_ip_group_error_names_the_group() -> None:
    rule = nat(sources=(), ip_groups=("/ipGroups/admins",))
    result = only(firewall_rdp_dnat, firewall_policies=[policy(nat_rules=(rule,))])
    assert "IP group /ipGroups/admins" in result.message


# --- NET-04: other management and database ports --------------------------------------------------------

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
    assert only(nsg_management_port_exposure, network_security_groups=[nsg("nsg", *rules)]).status is Status.FAIL


@pytest.mark.parametrize("rules", PORTS_PASSING.values(), ids=PORTS_PASSING.keys())
def test_management_ports_closed_to_the_internet_pass(rules: tuple[SecurityRule, ...]) -> None:
    assert only(nsg_management_port_exposure, network_security_groups=[nsg("nsg", *rules)]).status is Status.PASS


def test_management_port_evidence_is_per_port() -> None:
    rules = (make_rule("open-admin", priority=150, sources=("Internet",), ports=("22", "1433")),)
    result = only(nsg_management_port_exposure, network_security_groups=[nsg("nsg", *rules)])
    assert set(result.evidence["exposed_ports"]) == {"22", "1433"}
    assert result.evidence["exposed_ports"]["22"][0]["rule"] == "open-admin"
    assert result.evidence["exposed_ports"]["22"][0]["priority"] == 150
    assert "22 through open-admin" in result.message


def test_port_ranges_in_the_parameter_are_judged_port_by_port() -> None:
    ranged = Params(dict(PARAMS.values) | {"exposed_ports": ("5985-5986",)})
    rules = (
        make_rule("deny-5985", priority=100, access="Deny", protocol="*", sources=("*",), ports=("5985",)),
        make_rule("allow-winrm", priority=200, sources=("Internet",), ports=("5985-5986",)),
    )
    result = only(nsg_management_port_exposure, ranged, network_security_groups=[nsg("nsg", *rules)])
    assert result.status is Status.FAIL
    assert [e["port"] for e in result.evidence["exposed_ports"]["5985-5986"]] == [5986]
    closed = (make_rule("allow-5985", sources=("Internet",), ports=("5985",)),)
    ssh_only = Params(dict(PARAMS.values) | {"exposed_ports": ("5986-5990",)})
    assert only(nsg_management_port_exposure, ssh_only, network_security_groups=[nsg("nsg", *closed)]).status is (
        Status.PASS
    )


def test_unreadable_port_parameter_is_an_error() -> None:
    bad = Params(dict(PARAMS.values) | {"exposed_ports": ("ssh",)})
    with pytest.raises(ValueError, match="'ssh' is not a port"):
        run(nsg_management_port_exposure, bad, network_security_groups=[nsg()])


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
    "NET-01 DNAT": (
        firewall_rdp_dnat,
        {Status.PASS: {"afw-mul2-prod-hub"}, Status.FAIL: {"afwp-mul2-prod"}},
    ),
    "NET-04 ports": (
        nsg_management_port_exposure,
        {
            Status.PASS: {
                "nsg-mul2-prod-web",
                "nsg-vm-mul2-web02-nic",
                "nsg-mul2-prod-data",
                "nsg-mul2-prod-fgt-ext",
                "nsg-mul2-prod-fgt-int",
                "nsg-mul2-prod-servers",
                "nsg-mul2-stg-web",
                "nsg-sqlvm-mul2-stg-01-nic",
            },
            Status.FAIL: {"nsg-vm-mul2-stg-jump01-nic"},
        },
    ),
}


@pytest.mark.parametrize("case", DEMO_EXPECTED.values(), ids=DEMO_EXPECTED.keys())
def test_demo_estate_verdicts(demo: Inventory, case: tuple[CheckFunction, dict[Status, set[str]]]) -> None:
    check, expected = case
    assert verdicts(check, demo) == expected


def test_demo_dnat_failure_names_the_vendor_rule(demo: Inventory) -> None:
    params = load_baseline(default_baseline_path(), builtin_registry()).resolve_params()
    failing = [r for r in firewall_rdp_dnat(demo, params) if r.status is Status.FAIL]
    (result,) = failing
    exposed = [e for e in result.evidence["rdp_dnat_rules"] if e["public_sources_example"]]
    assert [(e["rule"], e["destination_ports"], e["translated_port"]) for e in exposed] == [
        ("rdp-web01-vendor", ["53389"], "3389")
    ]
