"""NET-01 Azure Firewall DNAT: classic rules of a firewall and DNAT rules of a firewall policy that publish RDP."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.firewall import dnat_holders, firewall_rdp_dnat
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.network import AzureFirewall, FirewallPolicy, NatRule
from tests.builders import SUB, make_inventory, results, rid

PARAMS = Params({"allowed_rdp_sources": ("203.0.113.0/24",)})
POOL = "172.16.201.0/24"


def firewall(name: str = "afw", **fields: Any) -> AzureFirewall:
    """A provisioned Azure Firewall with classic rules only unless fields say otherwise."""
    values: dict[str, Any] = {
        "provisioning_state": "Succeeded",
        "threat_intel_mode": "Deny",
        "sku_tier": "Standard",
        "firewall_policy_id": None,
    } | fields
    return AzureFirewall(rid("Microsoft.Network/azureFirewalls", name), name, SUB, "rg-test", "eastus", **values)


def policy(name: str = "afwp", **fields: Any) -> FirewallPolicy:
    """A firewall policy."""
    return FirewallPolicy(
        rid("Microsoft.Network/firewallPolicies", name), name, SUB, "rg-test", "eastus", "Deny", **fields
    )


def nat(
    name: str = "rdp",
    *,
    sources: tuple[str, ...] = ("203.0.113.0/24",),
    port: str = "3389",
    translated: str | None = "3389",
    protocols: tuple[str, ...] = ("TCP",),
    ip_groups: tuple[str, ...] = (),
) -> NatRule:
    """A DNAT rule on the firewall's public address."""
    return NatRule(name, "dnat", protocols, sources, ("192.0.2.10",), (port,), "10.1.1.4", translated, ip_groups)


def judged(*rules: NatRule, params: Params = PARAMS) -> Any:
    """The verdict on a firewall policy holding the DNAT rules."""
    return firewall_rdp_dnat(policy(nat_rules=rules), params)


DNAT_FAILING = {
    "star source": nat(sources=("*",)),
    "Any keyword": nat(sources=("Any",)),
    "0.0.0.0/0": nat(sources=("0.0.0.0/0",)),
    "IPv6 ::/0": nat(sources=("::/0",)),
    "Internet keyword": nat(sources=("Internet",)),
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
    verdict = judged(rule)
    assert verdict.status is Status.FAIL
    assert verdict.message == "DNAT rule(s) dnat/rdp forward to RDP (3389) from public sources outside the whitelist"
    (evidence,) = verdict.evidence["rdp_dnat_rules"]
    assert evidence["rule"] == "rdp"
    assert evidence["public_sources_example"]


@pytest.mark.parametrize("rule", DNAT_PASSING.values(), ids=DNAT_PASSING.keys())
def test_policy_dnat_closed_to_public_sources_passes(rule: NatRule) -> None:
    assert judged(rule).status is Status.PASS


def test_classic_dnat_rules_of_a_firewall_are_judged() -> None:
    bad = firewall(nat_rules=(nat(sources=("*",)),))
    good = firewall("afw2", nat_rules=(nat(),))
    assert firewall_rdp_dnat(bad, PARAMS).status is Status.FAIL
    verdict = firewall_rdp_dnat(good, PARAMS)
    assert verdict.status is Status.PASS
    assert verdict.message == "1 DNAT rule(s) forward to RDP (3389), none from public sources outside the whitelist"
    assert verdict.evidence["source"] == "classic NAT rule collections"


def test_policy_managed_firewall_points_at_its_policy() -> None:
    attached = firewall(firewall_policy_id=policy().id)
    verdict = firewall_rdp_dnat(attached, PARAMS)
    assert verdict.status is Status.PASS
    assert verdict.message == "No classic DNAT rules; the DNAT rules of its firewall policy afwp are judged there"
    assert verdict.evidence["firewall_policy_id"] == policy().id
    judged_policy = judged(nat())
    assert judged_policy.evidence["rdp_dnat_rules"][0]["translated_port"] == "3389"


def test_rules_that_forward_elsewhere_are_counted() -> None:
    verdict = judged(nat(translated="443"), nat("web", port="80", translated="80"))
    assert verdict.message == "None of its 2 DNAT rule(s) forwards to RDP (3389)"
    assert verdict.evidence["dnat_rules_evaluated"] == 2


def test_firewalls_and_policies_are_each_judged() -> None:
    inventory = make_inventory(
        azure_firewalls=[firewall(nat_rules=(nat(sources=("*",)),))], firewall_policies=[policy(nat_rules=(nat(),))]
    )
    assert [type(s).__name__ for s in dnat_holders(inventory)] == ["AzureFirewall", "FirewallPolicy"]
    assert [r.status for r in results(firewall_rdp_dnat, inventory, PARAMS)] == [Status.FAIL, Status.PASS]
    assert results(firewall_rdp_dnat, make_inventory(), PARAMS) == []


def test_dnat_whitelist_comes_from_the_parameter() -> None:
    rule = nat(sources=("198.51.100.77",))
    assert judged(rule).status is Status.FAIL
    assert judged(rule, params=Params({"allowed_rdp_sources": ("198.51.100.0/24",)})).status is Status.PASS


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
    verdict = judged(*rules)
    assert verdict.status is expected
    if expected is Status.ERROR:
        assert "cannot resolve" in verdict.message


def test_ip_group_error_names_the_group() -> None:
    verdict = judged(nat(sources=(), ip_groups=("/ipGroups/admins",)))
    assert verdict.message == (
        "DNAT rule(s) forwarding to RDP (3389) have sources the inventory cannot resolve: "
        "dnat/rdp: IP group /ipGroups/admins"
    )
