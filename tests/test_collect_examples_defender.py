"""Microsoft's Defender for Cloud examples through the real clients: pricings (2024-01-01, the newest stable
version and the one the collector sends) and security contacts (2023-12-01-preview: the collector's
api-version; contacts have no newer stable version with this shape).

Both lists are served byte for byte as published, at the test subscription's paths: eight of the pricing
ids name another subscription (d34fd44c-...), and the contact's type is ``securityContact`` (singular). Every
plan MON-03 requires is on Standard, so it passes; the contact e-mails john@ and Jane@contoso.com, not the
administrator the policy names, so MON-01 fails, and passes when the administrator is among its addresses.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.collect import defender
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_integration import judge

PRICINGS = "security/resource-manager/Microsoft.Security/stable/2024-01-01/examples/Pricings/ListPricings_example.json"
CONTACTS = (
    "security/resource-manager/Microsoft.Security/preview/2023-12-01-preview/examples/SecurityContacts/"
    "GetSecurityContactsSubscription_example.json"
)
ADMIN = "mul2-admin@mul2demo.onmicrosoft.com"  # The baseline's admin_email.


def estate(emails: str | None = None) -> dict[str, Any]:
    """The pricing and contact lists of the test subscription; ``emails`` replaces the contact's addresses."""
    contacts = example_body(CONTACTS)
    if emails is not None:
        contacts["value"][0]["properties"]["emails"] = emails
    found = e.estate()
    providers = f"/subscriptions/{e.SUB}/providers/"
    found["raw"] = [
        {"path": providers + defender.PRICINGS_API, "status": 200, "body": json.dumps(example_body(PRICINGS))},
        {"path": providers + defender.CONTACTS_API, "status": 200, "body": json.dumps(contacts)},
    ]
    return found


def scan(served: dict[str, Any]) -> Inventory:
    """Collect the Defender listings."""
    with serve(served) as (_, session):
        return collect_inventory(session, steps=defender.STEPS)


def finding(inventory: Inventory, check_id: str) -> tuple[Status, str]:
    """The subscription's one verdict of a check."""
    (found,) = [f for f in judge(inventory).findings if f.check_id == check_id]
    return found.status, found.message


def test_the_defender_examples_are_collected_whole() -> None:
    inventory = scan(estate())
    assert not [c for c in inventory.collections if not c.ok]
    plans = {p.name: p for p in inventory.defender_plans}
    assert len(plans) == 13 and all(p.unreadable == () for p in plans.values())
    # Judged as the subscription that was asked, whatever subscription the ids name.
    assert {p.subscription_id for p in plans.values()} == {e.SUB}
    assert (plans["VirtualMachines"].pricing_tier, plans["VirtualMachines"].sub_plan) == ("Standard", "P2")
    assert plans["VirtualMachines"].enabled_extensions == ("AgentlessVmScanning",)
    assert plans["AppServices"].pricing_tier == "Free"
    (contact,) = inventory.security_contacts
    assert contact.unreadable == () and contact.is_enabled is True
    assert contact.emails == ("john@contoso.com", "Jane@contoso.com")
    assert (contact.alert_notifications, contact.alert_minimal_severity) == ("On", "Medium")
    assert (contact.notify_roles_state, contact.notify_roles) == ("On", ("Owner", "Admin"))


def test_every_required_plan_on_standard_passes_mon03() -> None:
    status, message = finding(scan(estate()), "defender_plans")
    assert status is Status.PASS
    assert "VirtualMachines, SqlServers, SqlServerVirtualMachines, StorageAccounts, KeyVaults" in message


def test_a_contact_without_the_administrator_fails_mon01() -> None:
    status, message = finding(scan(estate()), "security_contact_admin_email")
    assert status is Status.FAIL and f"not {ADMIN}" in message


def test_a_contact_with_the_administrator_passes_mon01() -> None:
    status, message = finding(scan(estate(f"john@contoso.com;{ADMIN}")), "security_contact_admin_email")
    assert status is Status.PASS, message
