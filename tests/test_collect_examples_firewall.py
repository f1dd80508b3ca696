"""Microsoft's Azure Firewall examples (Microsoft.Network 2025-05-01) through the real clients.

The firewall's classic DNAT collection spells its action ``Dnat``, the policy's rule collection group ``DNAT``;
both are read as DNAT. Neither forwards to RDP (443 to 8443, 80 to 880, 8080 to 8080), so NET-01's DNAT
check passes; moved to 3389, the same rules fail it. The policy itself has no published Get example for this
version, so the test builds one around the rule collection group example's id and serves the group, unchanged,
as the policy's ``ruleCollectionGroups`` list.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.collect import firewall
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_examples_compute import rehome
from tests.test_collect_integration import judge

NETWORK = "network/resource-manager/Microsoft.Network/Network/stable/2025-05-01/examples/"


def estate(*, firewall_to_rdp: bool = False, policy_to_rdp: bool = False) -> dict[str, Any]:
    """The firewall as published, and a policy holding the published NAT rule collection group."""
    found_firewall = rehome(example_body(NETWORK + "AzureFirewallGet.json"), firewall.FIREWALLS_API)
    if firewall_to_rdp:
        found_firewall["properties"]["natRuleCollections"][0]["properties"]["rules"][0]["translatedPort"] = "3389"
    group = rehome(example_body(NETWORK + "FirewallPolicyNatRuleCollectionGroupGet.json"), "")
    del group["type"]  # Added by rehome; the published group has none.
    if policy_to_rdp:
        group["properties"]["ruleCollections"][0]["rules"][0]["translatedPort"] = "3389"
    policy_id = group["id"].rsplit("/ruleCollectionGroups/", 1)[0]
    policy = {
        "id": policy_id,
        "name": "firewallPolicy",
        "type": firewall.POLICIES_API,
        "location": "westus",
        "properties": {"threatIntelMode": "Alert", "ruleCollectionGroups": [{"id": group["id"]}]},
    }
    found = e.estate(found_firewall, policy)
    found["raw"] = [
        {"path": f"{policy_id}/ruleCollectionGroups", "status": 200, "body": json.dumps({"value": [group]})}
    ]
    return found


def scan(served: dict[str, Any]) -> Inventory:
    """Collect firewalls, policies, route tables and gateways."""
    with serve(served) as (_, session):
        return collect_inventory(session, steps=firewall.STEPS)


def dnat_verdicts(inventory: Inventory) -> dict[str, tuple[Status, str]]:
    """The DNAT-to-RDP verdict by firewall or policy name."""
    return {
        f.resource_name: (f.status, f.message) for f in judge(inventory).findings if f.check_id == "firewall_rdp_dnat"
    }


def test_the_firewall_examples_are_collected_whole() -> None:
    inventory = scan(estate())
    assert not [c for c in inventory.collections if not c.ok]
    (found,) = inventory.azure_firewalls
    assert found.unreadable == ()
    assert (found.threat_intel_mode, found.sku_tier, found.private_ips) == ("Alert", "Standard", ("10.0.0.0",))
    rules = {r.name: r for r in found.nat_rules}
    assert sorted(rules) == ["DNAT-HTTP-traffic-With-FQDN", "DNAT-HTTPS-traffic"]
    assert rules["DNAT-HTTPS-traffic"].source_addresses == ("*",)
    assert (rules["DNAT-HTTPS-traffic"].destination_ports, rules["DNAT-HTTPS-traffic"].translated_port) == (
        ("443",),
        "8443",
    )
    # A translated FQDN stands where the address would.
    assert rules["DNAT-HTTP-traffic-With-FQDN"].translated_address == "internalhttpserver"
    (policy,) = inventory.firewall_policies
    assert policy.unreadable == ()
    (nat,) = policy.nat_rules
    assert (nat.name, nat.collection, nat.protocols, nat.source_addresses) == (
        "NatRule1",
        "NatRC",
        ("TCP", "UDP"),
        ("2.2.2.2",),
    )


def test_dnat_rules_that_do_not_reach_rdp_pass() -> None:
    found = dnat_verdicts(scan(estate()))
    assert {name: status for name, (status, _) in found.items()} == {
        "azurefirewall": Status.PASS,
        "firewallPolicy": Status.PASS,
    }


def test_the_same_dnat_rules_forwarding_to_rdp_fail() -> None:
    found = dnat_verdicts(scan(estate(firewall_to_rdp=True, policy_to_rdp=True)))
    assert found["azurefirewall"][0] is Status.FAIL and "DNAT-HTTPS-traffic" in found["azurefirewall"][1]
    assert found["firewallPolicy"][0] is Status.FAIL and "NatRule1" in found["firewallPolicy"][1]
