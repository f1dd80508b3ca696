"""MON-01 (security_contact_admin_email) and MON-03 (defender_plans) judged on records built here."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from auditor.baseline import Baseline, Control
from auditor.checks import builtin_registry
from auditor.checks.defender import (
    SubscriptionContacts,
    SubscriptionPlans,
    defender_plans,
    security_contact_admin_email,
    subscription_contacts,
    subscription_plans,
)
from auditor.evaluate import evaluate
from auditor.inventory import Collection, Subscription
from auditor.model import Severity, Status
from auditor.parameters import Params
from auditor.records.monitor import DefenderPlan, SecurityContact
from tests.builders import SUB, make_inventory

ADMIN = "admin@mul2.example.com"
PLANS = ("VirtualMachines", "SqlServers", "SqlServerVirtualMachines", "StorageAccounts", "KeyVaults")
PARAMS = Params({"admin_email": ADMIN, "alert_min_severity": "High", "required_defender_plans": PLANS})
SUBSCRIPTION = Subscription(SUB, "Test subscription", "Enabled")


def with_params(**changes: Any) -> Params:
    """The test parameters with some values changed."""
    return Params(dict(PARAMS.values) | changes)


def make_contact(
    *,
    emails: tuple[str, ...] = (ADMIN,),
    state: str | None = "On",
    severity: str | None = "Low",
    roles_state: str | None = "On",
    roles: tuple[str, ...] = ("Owner",),
    is_enabled: bool | None = None,
) -> SecurityContact:
    """The subscription's default security contact; mails the administrator and owners unless told otherwise."""
    return SecurityContact(
        f"/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts/default",
        "default",
        SUB,
        emails,
        None,
        state,
        severity,
        roles_state,
        roles,
        is_enabled=is_enabled,
    )


def contacts(*found: SecurityContact) -> SubscriptionContacts:
    """The test subscription with these security contacts."""
    return SubscriptionContacts(SUBSCRIPTION.id, SUB, SUBSCRIPTION.display_name, found)


def make_plan(name: str, tier: str | None = "Standard") -> DefenderPlan:
    """A Defender for Cloud plan of the test subscription."""
    return DefenderPlan(f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/{name}", name, SUB, tier)


def plans(*found: DefenderPlan) -> SubscriptionPlans:
    """The test subscription with these Defender plans."""
    return SubscriptionPlans(SUBSCRIPTION.id, SUB, SUBSCRIPTION.display_name, found)


# --- MON-01 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "params"),
    [
        (make_contact(), PARAMS),
        (make_contact(emails=("SecOps@x.example", ADMIN.upper())), PARAMS),
        (make_contact(severity="High"), PARAMS),
        (make_contact(severity="Medium", roles=("AccountAdmin", "owner")), with_params(alert_min_severity="Medium")),
    ],
    ids=["low", "case-insensitive-email", "high-at-high", "medium-at-medium"],
)
def test_contact_mailing_admin_and_owners_passes(contact: SecurityContact, params: Params) -> None:
    verdict = security_contact_admin_email(contacts(contact), params)
    assert verdict.status is Status.PASS
    assert verdict.message.startswith(f"Security contact default e-mails {ADMIN} and the Owner role")
    assert verdict.evidence["required_email"] == ADMIN
    assert verdict.evidence["subscription_name"] == "Test subscription"


def test_one_good_contact_among_several_is_enough() -> None:
    verdict = security_contact_admin_email(contacts(make_contact(state="Off"), make_contact()), PARAMS)
    assert verdict.status is Status.PASS


@pytest.mark.parametrize(
    ("found", "params", "reason"),
    [
        ((), PARAMS, "No Defender for Cloud security contact in subscription Test subscription"),
        ((make_contact(emails=("dev@x.example",)),), PARAMS, f"e-mails dev@x.example, not {ADMIN}"),
        ((make_contact(state="Off"),), PARAMS, "alert notifications Off"),
        ((make_contact(severity="High"),), with_params(alert_min_severity="Low"), "only alerts of severity High"),
        ((make_contact(roles_state="Off", roles=()),), PARAMS, "notifications by role Off"),
        ((make_contact(roles=("AccountAdmin",)),), PARAMS, "owners are not among the notified roles"),
        ((make_contact(is_enabled=False),), PARAMS, "the contact is disabled"),
        ((make_contact(severity=None),), PARAMS, "minimal alert severity not reported"),
        ((make_contact(severity="Critical"),), PARAMS, "minimal alert severity Critical is not Low, Medium or High"),
        ((make_contact(state=None),), PARAMS, "alert notification state not reported"),
    ],
    ids=["none", "other-email", "off", "too-severe", "roles-off", "no-owner", "disabled", "severity", "odd", "state"],
)
def test_contact_that_misses_admin_or_owners_fails(
    found: tuple[SecurityContact, ...], params: Params, reason: str
) -> None:
    verdict = security_contact_admin_email(contacts(*found), params)
    assert verdict.status is Status.FAIL
    assert reason in verdict.message


def test_a_contact_declared_alone_is_judged_as_the_subscription_would_be() -> None:
    alone = security_contact_admin_email(make_contact(state="Off"), PARAMS)
    assert alone.status is Status.FAIL
    assert alone.message == security_contact_admin_email(contacts(make_contact(state="Off")), PARAMS).message
    assert security_contact_admin_email(make_contact(), PARAMS).status is Status.PASS


def test_unknown_severity_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="alert_min_severity"):
        security_contact_admin_email(contacts(make_contact()), with_params(alert_min_severity="Critical"))


# --- MON-03 ---------------------------------------------------------------------------------------


def test_all_required_plans_on_standard_pass() -> None:
    verdict = defender_plans(plans(*(make_plan(p) for p in PLANS), make_plan("Dns", "Free")), PARAMS)
    assert verdict is not None and verdict.status is Status.PASS
    assert verdict.message == f"Defender plans on Standard: {', '.join(PLANS)}"
    assert verdict.evidence["tiers"] == dict.fromkeys(PLANS, "Standard")


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (
            [make_plan(p, "Free" if p == "SqlServers" else "Standard") for p in PLANS],
            "off (not Standard): SqlServers (Free)",
        ),
        ([make_plan(p) for p in PLANS if p != "KeyVaults"], "not listed: KeyVaults"),
        (
            [make_plan(p, None if p == "VirtualMachines" else "Standard") for p in PLANS],
            "tier not reported: VirtualMachines",
        ),
        ([], "not listed: " + ", ".join(PLANS)),
    ],
    ids=["free", "missing", "unreported", "none"],
)
def test_missing_or_free_plan_fails(found: list[DefenderPlan], reason: str) -> None:
    verdict = defender_plans(plans(*found), PARAMS)
    assert verdict is not None and verdict.status is Status.FAIL
    assert reason in verdict.message


def test_plan_names_compare_case_insensitively() -> None:
    verdict = defender_plans(plans(*(make_plan(p.lower()) for p in PLANS)), PARAMS)
    assert verdict is not None and verdict.status is Status.PASS


@pytest.mark.parametrize(
    ("plan", "status", "message"),
    [
        (make_plan("VirtualMachines"), Status.PASS, "Defender plans on Standard: VirtualMachines"),
        (make_plan("keyvaults", "Free"), Status.FAIL, "Required Defender plans: off (not Standard): KeyVaults (Free)"),
        (make_plan("AppServices", "Free"), None, ""),
    ],
    ids=["required-standard", "required-free", "not-required"],
)
def test_a_plan_declared_alone_is_judged_only_when_required(
    plan: DefenderPlan, status: Status | None, message: str
) -> None:
    verdict = defender_plans(plan, PARAMS)
    said = (verdict.status, verdict.message) if verdict else (None, "")
    assert said == (status, message)


# --- the subscriptions judged ----------------------------------------------------------------------


def test_every_listed_subscription_is_a_subject_with_its_own_records() -> None:
    other = Subscription("00000000-0000-0000-0000-000000000002", "Other", "Enabled")
    inventory = dataclasses.replace(
        make_inventory(security_contacts=[make_contact()], defender_plans=[make_plan("KeyVaults")]),
        subscriptions=(SUBSCRIPTION, other),
    )
    assert [(s.id, len(s.contacts)) for s in subscription_contacts(inventory)] == [(SUBSCRIPTION.id, 1), (other.id, 0)]
    assert [(s.id, len(s.plans)) for s in subscription_plans(inventory)] == [(SUBSCRIPTION.id, 1), (other.id, 0)]


@pytest.mark.parametrize(
    ("check_id", "records", "api"),
    [
        ("security_contact_admin_email", {}, "Microsoft.Security/securityContacts"),
        ("defender_plans", {"defender_plans": [make_plan(p) for p in PLANS]}, "Microsoft.Security/pricings"),
    ],
)
def test_failed_listing_makes_the_subscription_an_error_and_nothing_else(
    check_id: str, records: dict[str, Any], api: str
) -> None:
    denied = Collection(api, SUB, f"/subscriptions/{SUB}", ok=False, status_code=403, reason="denied")
    control = Control("T-01", "test", "test", Severity.MEDIUM, "automated", "quote", "desc", checks=(check_id,))
    baseline = Baseline("test", "", "test", "1", "policy", {}, (control,))
    inventory = dataclasses.replace(
        make_inventory(collections=[denied], **records), subscriptions=(SUBSCRIPTION,), as_of="2026-11-28T12:00:00Z"
    )
    findings = evaluate(inventory, baseline, builtin_registry(), PARAMS).findings
    assert [(f.status, f.resource_id) for f in findings] == [(Status.ERROR, f"/subscriptions/{SUB}")]
