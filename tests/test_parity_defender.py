"""MON-01 (security_contact_admin_email) and MON-03 (defender_plans) through the live door and the IaC door.

Live, both judge a subscription; in code a resource declares one contact or one plan, so each table's live
door is the judge on the record the collector builds of that one resource, as the IaC door judges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import builtin_registry
from auditor.collect.defender import defender_plan, security_contact
from auditor.iac import arm_records as arm
from auditor.iac import terraform_records as tf
from auditor.iac.conf_values import UndecidableError
from auditor.model import Status
from auditor.records.monitor import DefenderPlan, SecurityContact
from tests.parity import SUBSCRIPTION, Case, assert_parity, iac_doors
from tests.parity import params as parity_params

ADMIN = "mul2-admin@mul2demo.onmicrosoft.com"  # the shipped baseline's admin_email
CONTACTS = "Microsoft.Security/securityContacts"
PRICINGS = "Microsoft.Security/pricings"


def contact_json(*, emails: str = ADMIN, alerts: bool = True, owners: bool = True) -> dict[str, Any]:
    """A security contact as ARM GET returns it in 2023-12-01-preview (shape of Microsoft's
    SecurityContacts_Get example): high-severity alerts from an Alert source, owners by role."""
    return {
        "id": f"/subscriptions/{SUBSCRIPTION}/providers/{CONTACTS}/default",
        "name": "default",
        "type": CONTACTS,
        "properties": {
            "emails": emails,
            "phone": "",
            "isEnabled": True,
            "notificationsByRole": {"state": "On", "roles": ["Owner"]} if owners else {"state": "Off", "roles": []},
            "notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "High"}] if alerts else [],
        },
    }


def contact_terraform(name: str, *, email: str = ADMIN, alerts: bool = True, owners: bool = True) -> str:
    """The azurerm_security_center_contact declaring the same contact."""
    return (
        f'resource "azurerm_security_center_contact" "{name}" {{\n  name = "default"\n  email = "{email}"\n'
        f"  alert_notifications = {str(alerts).lower()}\n  alerts_to_admins = {str(owners).lower()}\n}}\n"
    )


def contact_template(**changes: Any) -> dict[str, Any]:
    """The ARM template resource of the same contact."""
    body = contact_json(**changes)
    return {"type": CONTACTS, "apiVersion": "2023-12-01-preview", "name": "default", "properties": body["properties"]}


CONTACT_CASES = (
    Case("contact-admin", Status.PASS, contact_json(), contact_terraform("admin"), contact_template()),
    Case(
        "contact-two-addresses",
        Status.PASS,
        contact_json(emails=f"secops@mul2.example;{ADMIN}"),
        contact_terraform("two", email=f"secops@mul2.example;{ADMIN}"),
        contact_template(emails=f"secops@mul2.example;{ADMIN}"),
    ),
    Case(
        "contact-other-address",
        Status.FAIL,
        contact_json(emails="dev@mul2.example"),
        contact_terraform("other", email="dev@mul2.example"),
        contact_template(emails="dev@mul2.example"),
    ),
    Case(
        "contact-alerts-off",
        Status.FAIL,
        contact_json(alerts=False),
        contact_terraform("off", alerts=False),
        contact_template(alerts=False),
    ),
    Case(
        "contact-no-owners",
        Status.FAIL,
        contact_json(owners=False),
        contact_terraform("owners", owners=False),
        contact_template(owners=False),
    ),
    # Only high-severity alerts are e-mailed: short of a policy asking for every alert from Low.
    Case(
        "contact-low-wanted",
        Status.FAIL,
        contact_json(),
        contact_terraform("low"),
        contact_template(),
        params={"alert_min_severity": "Low"},
    ),
)


def build_contact(raw: Mapping[str, Any]) -> SecurityContact:
    """The record a live scan builds of the contact."""
    return security_contact(raw, SUBSCRIPTION)


def test_security_contact_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("security_contact_admin_email", build_contact, CONTACT_CASES, tmp_path)


def plan_json(name: str, tier: str) -> dict[str, Any]:
    """A Defender plan as ARM GET returns it (shape of Microsoft's GetPricingByNameVirtualMachines example)."""
    return {
        "id": f"/subscriptions/{SUBSCRIPTION}/providers/{PRICINGS}/{name}",
        "name": name,
        "type": PRICINGS,
        "properties": {"pricingTier": tier, "freeTrialRemainingTime": "PT0S"},
    }


def plan_terraform(name: str, tier: str, *, declared_type: bool = True) -> str:
    """The azurerm_security_center_subscription_pricing declaring the same plan."""
    kind = f'  resource_type = "{name}"\n' if declared_type else ""
    return f'resource "azurerm_security_center_subscription_pricing" "plan" {{\n  tier = "{tier}"\n{kind}}}\n'


def plan_template(name: str, tier: str) -> dict[str, Any]:
    """The ARM template resource of the same plan."""
    return {"type": PRICINGS, "apiVersion": "2024-01-01", "name": name, "properties": {"pricingTier": tier}}


PLAN_CASES = (
    Case(
        "plan-servers",
        Status.PASS,
        plan_json("VirtualMachines", "Standard"),
        plan_terraform("VirtualMachines", "Standard"),
        plan_template("VirtualMachines", "Standard"),
    ),
    # azurerm's resource_type defaults to VirtualMachines.
    Case(
        "plan-default-type",
        Status.PASS,
        plan_json("VirtualMachines", "Standard"),
        plan_terraform("VirtualMachines", "Standard", declared_type=False),
        plan_template("VirtualMachines", "Standard"),
    ),
    Case(
        "plan-sql-free",
        Status.FAIL,
        plan_json("SqlServers", "Free"),
        plan_terraform("SqlServers", "Free"),
        plan_template("SqlServers", "Free"),
    ),
    Case(
        "plan-keyvaults",
        Status.PASS,
        plan_json("KeyVaults", "Standard"),
        plan_terraform("KeyVaults", "Standard"),
        plan_template("KeyVaults", "Standard"),
    ),
    # A plan the shipped baseline does not require is judged once the parameter requires it.
    Case(
        "plan-app-services-required",
        Status.FAIL,
        plan_json("AppServices", "Free"),
        plan_terraform("AppServices", "Free"),
        plan_template("AppServices", "Free"),
        params={"required_defender_plans": "AppServices,VirtualMachines"},
    ),
)


def build_plan(raw: Mapping[str, Any]) -> DefenderPlan:
    """The record a live scan builds of the plan."""
    return defender_plan(raw, SUBSCRIPTION)


def test_defender_plans_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("defender_plans", build_plan, PLAN_CASES, tmp_path)


def test_what_the_code_leaves_to_deployment_is_an_error_and_unrequired_plans_are_not_judged(tmp_path: Path) -> None:
    registry = builtin_registry()
    variable = 'variable "admin" {\n  type = string\n}\n'
    contact = (
        variable + 'resource "azurerm_security_center_contact" "c" {\n  name = "default"\n  email = var.admin\n'
        "  alert_notifications = true\n  alerts_to_admins = true\n}\n"
    )
    properties = contact_json()["properties"] | {"emails": "[parameters('admin')]"}
    contact_arm = contact_template() | {"properties": properties}
    cases = (Case("contact-expression", Status.ERROR, {}, contact, contact_arm),)
    said = iac_doors(registry["security_contact_admin_email"], cases, tmp_path / "contact")
    assert {k: v.status for k, v in said.items()} == {
        ("contact-expression", "terraform"): Status.ERROR,
        ("contact-expression", "arm"): Status.ERROR,
    }
    assert all("expression" in v.message for v in said.values())
    tier = 'variable "tier" {\n  type = string\n}\n'
    plans = (
        Case(
            "plan-expression",
            Status.ERROR,
            {},
            tier + 'resource "azurerm_security_center_subscription_pricing" "p" {\n  tier = var.tier\n'
            '  resource_type = "StorageAccounts"\n}\n',
            plan_template("StorageAccounts", "[parameters('tier')]"),
        ),
        Case(
            "plan-not-required",
            Status.PASS,
            {},
            plan_terraform("Dns", "Free"),
            plan_template("Dns", "Free"),
        ),
    )
    said = iac_doors(registry["defender_plans"], plans, tmp_path / "plans")
    assert {k: v.status for k, v in said.items()} == {
        ("plan-expression", "terraform"): Status.ERROR,
        ("plan-expression", "arm"): Status.ERROR,
    }
    live = registry["defender_plans"].decide(build_plan(plan_json("Dns", "Free")), parity_params())
    assert live is None


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (
            {"email": ADMIN, "alertNotifications": "On", "alertsToAdmins": "On"},
            f"Security contact default1 e-mails {ADMIN} and the Owner role about alerts from High severity",
        ),
        (
            {"email": ADMIN, "alertNotifications": "On", "alertsToAdmins": "Off"},
            "Security contact default1 falls short: notifications by role Off",
        ),
        (
            {"emails": ADMIN, "alertNotifications": {"state": "On", "minimalSeverity": "Low"}},
            "Security contact default1 falls short: notifications by role not reported",
        ),
    ],
    ids=["2017-preview", "2017-preview-no-owners", "2020-preview"],
)
def test_older_contact_shapes_in_templates(properties: dict[str, Any], message: str) -> None:
    contact = arm.security_contact({"type": CONTACTS, "name": "default1", "properties": properties})
    verdict = builtin_registry()["security_contact_admin_email"].decide(contact, parity_params())
    assert verdict is not None and verdict.message == message


def test_a_plan_named_by_expression_or_of_an_unknown_tier_is_an_error() -> None:
    with pytest.raises(UndecidableError, match="plan"):
        arm.defender_plan(plan_template("[parameters('plan')]", "Standard"))
    with pytest.raises(UndecidableError, match="not Free or Standard"):
        tf.defender_plan({"tier": ["Premium"], "resource_type": ["KeyVaults"]})
