"""Microsoft's network examples (Microsoft.Network 2025-05-01) through the real clients.

The NSG example allows HTTP (80) from any source: not RDP and not a management port, so NET-01, NET-02 and
NET-04 pass, and none of the six default rules (AllowVnetInBound ... DenyAllOutBound) is flagged. The same
rule moved to 3389 fails NET-01, as an inbound Allow from ``*`` to RDP is what the control forbids.
"""

from __future__ import annotations

from typing import Any

from auditor.collect import compute, firewall, network, sql
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_examples_compute import rehome
from tests.test_collect_integration import judge

NETWORK = "network/resource-manager/Microsoft.Network/Network/stable/2025-05-01/examples/"


def nsg_example() -> dict[str, Any]:
    """The NSG Get example, re-homed into the test subscription."""
    return rehome(example_body(NETWORK + "NetworkSecurityGroupGet.json"), network.NSGS_API)


def scan(*resources: dict[str, Any]) -> Inventory:
    """Collect network and what the network checks also read (VMs, gateways, SQL) from an estate of these."""
    with serve(e.estate(*resources)) as (_, session):
        return collect_inventory(session, steps=network.STEPS + compute.STEPS + firewall.STEPS + sql.STEPS)


def verdicts(inventory: Inventory) -> dict[str, Status]:
    """Each NSG finding's status by control, for the one NSG."""
    return {f.control_id: f.status for f in judge(inventory).findings if f.resource_name == "testnsg"}


def test_the_nsg_example_is_collected_whole() -> None:
    inventory = scan(nsg_example())
    assert not [c for c in inventory.collections if not c.ok]
    (collected,) = inventory.network_security_groups
    assert collected.unreadable == ()
    (custom,) = [r for r in collected.rules if not r.is_default]
    assert custom.name == "rule1" and custom.destination_ports == ("80",) and custom.priority == 130
    assert sorted(r.name for r in collected.rules if r.is_default) == [
        "AllowAzureLoadBalancerInBound",
        "AllowInternetOutBound",
        "AllowVnetInBound",
        "AllowVnetOutBound",
        "DenyAllInBound",
        "DenyAllOutBound",
    ]


def test_http_open_to_any_source_is_neither_rdp_nor_a_management_port() -> None:
    found = verdicts(scan(nsg_example()))
    assert found["NET-01"] is Status.PASS
    assert found["NET-02"] is Status.PASS
    assert found["NET-04"] is Status.PASS


def test_the_same_rule_on_rdp_fails_net01() -> None:
    body = nsg_example()
    body["properties"]["securityRules"][0]["properties"]["destinationPortRange"] = "3389"
    found = verdicts(scan(body))
    assert found["NET-01"] is Status.FAIL
    assert found["NET-02"] is Status.FAIL
