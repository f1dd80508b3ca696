"""Defender for Cloud rules: security alerts e-mailed to the administrator (MON-01) and the plans that raise
them (MON-03). Each judges a subscription as a whole live, and in code the one contact or plan a resource
declares (a per-resource check cannot see the rest of the subscription)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from auditor.inventory import Inventory, Subscription
from auditor.model import Severity, Verdict, failing, passing
from auditor.parameters import Params
from auditor.records.monitor import DefenderPlan, SecurityContact
from auditor.registry import Remediation, check

CONTACTS_API = "Microsoft.Security/securityContacts"
PRICINGS_API = "Microsoft.Security/pricings"
SUBSCRIPTION_TYPE = "Microsoft.Resources/subscriptions"

# Defender for Cloud's alert severities, least severe first: a threshold notifies at it and above.
ALERT_SEVERITIES = ("low", "medium", "high")
OWNER_ROLE = "owner"


def judged_subscriptions(inventory: Inventory, apis: tuple[str, ...]) -> Iterator[Subscription]:
    """Subscriptions whose listings of these APIs succeeded; the others are already reported as errors."""
    broken = {c.subscription_id for c in inventory.failed_collections() if c.api in apis}
    for subscription in inventory.subscriptions:
        if subscription.subscription_id not in broken:
            yield subscription


def subscription_label(subscription_id: str, display_name: str) -> str:
    """How messages name a subscription: its display name, else its id."""
    return f"subscription {display_name or subscription_id}"


def severity_rank(name: str) -> int | None:
    """Position of a Defender alert severity in low < medium < high; None for an unknown name."""
    lowered = name.strip().lower()
    return ALERT_SEVERITIES.index(lowered) if lowered in ALERT_SEVERITIES else None


# --- MON-01 --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionContacts:
    """A subscription with its Defender for Cloud security contacts: what MON-01 judges live."""

    id: str
    subscription_id: str
    display_name: str
    contacts: tuple[SecurityContact, ...]
    type: str = SUBSCRIPTION_TYPE


def subscription_contacts(inventory: Inventory) -> Iterator[SubscriptionContacts]:
    """Every subscription whose contacts were listed, with its contacts (none: no one is e-mailed)."""
    for subscription in judged_subscriptions(inventory, (CONTACTS_API,)):
        contacts = tuple(c for c in inventory.security_contacts if c.subscription_id == subscription.subscription_id)
        yield SubscriptionContacts(
            subscription.id, subscription.subscription_id, subscription.display_name, contacts, subscription.type
        )


def contact_shortfalls(contact: SecurityContact, admin_email: str, min_severity: str) -> list[str]:
    """Each way a security contact fails to e-mail the administrator and owners; empty when none."""
    problems: list[str] = []
    if admin_email.strip().lower() not in {e.strip().lower() for e in contact.emails}:
        listed = ", ".join(contact.emails) or "no address"
        problems.append(f"e-mails {listed}, not {admin_email}")
    if contact.is_enabled is False:
        problems.append("the contact is disabled (isEnabled false)")
    state = contact.alert_notifications
    if state is None:
        problems.append("alert notification state not reported")
    elif state.lower() != "on":
        problems.append(f"alert notifications {state}")
    wanted = severity_rank(min_severity)
    if wanted is None:
        raise ValueError(f"parameter alert_min_severity {min_severity!r} is not Low, Medium or High")
    configured = contact.alert_minimal_severity
    rank = severity_rank(configured) if configured else None
    if configured is None:
        problems.append("minimal alert severity not reported")
    elif rank is None:
        problems.append(f"minimal alert severity {configured} is not Low, Medium or High")
    elif rank > wanted:
        problems.append(f"only alerts of severity {configured} or higher are e-mailed, not from {min_severity}")
    roles = {r.strip().lower() for r in contact.notify_roles}
    if (contact.notify_roles_state or "").lower() != "on":
        problems.append(f"notifications by role {contact.notify_roles_state or 'not reported'}")
    elif OWNER_ROLE not in roles:
        problems.append("subscription owners are not among the notified roles")
    return problems


def _contact_evidence(contact: SecurityContact) -> dict[str, object]:
    return {
        "contact": contact.name,
        "emails": list(contact.emails),
        "alert_notifications": contact.alert_notifications,
        "minimal_severity": contact.alert_minimal_severity,
        "notify_roles_state": contact.notify_roles_state,
        "notify_roles": list(contact.notify_roles),
        "is_enabled": contact.is_enabled,
    }


@check(
    id="security_contact_admin_email",
    title="Defender for Cloud e-mails security alerts to the main administrator and subscription owners",
    severity=Severity.MEDIUM,
    resource_types=(SUBSCRIPTION_TYPE,),
    requires=(CONTACTS_API,),
    over=subscription_contacts,
    subject="subscriptions",
    parameters=("admin_email", "alert_min_severity"),
    rationale="The policy promises that the main administrator is alerted immediately by e-mail; Defender for "
    "Cloud sends that mail only to the addresses and roles its security contact lists.",
    remediation=Remediation(
        summary="Set the subscription's Defender for Cloud security contact to the administrator's address, turn "
        "alert notifications on from the required severity, and notify the Owner role.",
        portal="Microsoft Defender for Cloud > Environment settings > (subscription) > Email notifications: "
        "add the address, All users with the following roles: Owner, Notify about alerts with severity: Low",
        cli="az security contact create -n default --emails admin@example.com "
        '--alert-notifications \'{"state":"On","minimalSeverity":"Low"}\' '
        '--notifications-by-role \'{"state":"On","roles":["Owner"]}\'',
        terraform='resource "azurerm_security_center_contact" "admin" {\n  name = "default"\n'
        '  email = "admin@example.com"\n  alert_notifications = true\n  alerts_to_admins = true\n}',
        bicep="resource contact 'Microsoft.Security/securityContacts@2023-12-01-preview' = { name: 'default', "
        "properties: { emails: 'admin@example.com', isEnabled: true, notificationsByRole: { state: 'On', roles: "
        "[ 'Owner' ] }, notificationsSources: [ { sourceType: 'Alert', minimalSeverity: 'Low' } ] } }",
    ),
)
def security_contact_admin_email(subject: SubscriptionContacts | SecurityContact, params: Params) -> Verdict:
    """Pass a subscription with a contact that e-mails the administrator and owners at the severity; in code,
    judge the one contact a resource declares."""
    admin = params.get_str("admin_email")
    minimum = params.get_str("alert_min_severity")
    if isinstance(subject, SecurityContact):
        named: dict[str, object] = {}
        contacts: tuple[SecurityContact, ...] = (subject,)
    else:
        named = {"subscription_name": subject.display_name}
        contacts = subject.contacts
        if not contacts:
            label = subscription_label(subject.subscription_id, subject.display_name)
            return failing(
                f"No Defender for Cloud security contact in {label}: no one is e-mailed about alerts", **named
            )
    verdicts = [(c, contact_shortfalls(c, admin, minimum)) for c in contacts]
    good = next((c for c, problems in verdicts if not problems), None)
    if good is not None:
        return passing(
            f"Security contact {good.name} e-mails {admin} and the Owner role about alerts from "
            f"{good.alert_minimal_severity} severity",
            **named,
            required_email=admin,
            required_min_severity=minimum,
            **_contact_evidence(good),
        )
    contact, problems = verdicts[0]
    return failing(
        f"Security contact {contact.name} falls short: " + "; ".join(problems),
        **named,
        required_email=admin,
        required_min_severity=minimum,
        problems=problems,
        **_contact_evidence(contact),
    )


# --- MON-03 --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionPlans:
    """A subscription with its Defender for Cloud plans: what MON-03 judges live."""

    id: str
    subscription_id: str
    display_name: str
    plans: tuple[DefenderPlan, ...]
    type: str = SUBSCRIPTION_TYPE


def subscription_plans(inventory: Inventory) -> Iterator[SubscriptionPlans]:
    """Every subscription whose plans were listed, with all its plans."""
    for subscription in judged_subscriptions(inventory, (PRICINGS_API,)):
        plans = tuple(p for p in inventory.defender_plans if p.subscription_id == subscription.subscription_id)
        yield SubscriptionPlans(
            subscription.id, subscription.subscription_id, subscription.display_name, plans, type=subscription.type
        )


@check(
    id="defender_plans",
    title="Defender for Cloud plans for servers, SQL, storage and key vaults are on the Standard tier",
    severity=Severity.MEDIUM,
    resource_types=(SUBSCRIPTION_TYPE,),
    requires=(PRICINGS_API,),
    over=subscription_plans,
    subject="subscriptions",
    parameters=("required_defender_plans",),
    rationale="Without the Defender plans, threats against VMs, databases, storage and key vaults raise no "
    "security alerts, so nothing reaches the administrator.",
    remediation=Remediation(
        summary="Turn each required Defender for Cloud plan to the Standard tier on the subscription.",
        portal="Microsoft Defender for Cloud > Environment settings > (subscription) > Defender plans: Servers, "
        "Databases, Storage, Key Vault: On",
        cli="for plan in VirtualMachines SqlServers SqlServerVirtualMachines StorageAccounts KeyVaults; do "
        "az security pricing create -n $plan --tier Standard; done",
        terraform='resource "azurerm_security_center_subscription_pricing" "vms" {\n  tier = "Standard"\n'
        '  resource_type = "VirtualMachines"\n}',
        bicep="resource vms 'Microsoft.Security/pricings@2024-01-01' = { name: 'VirtualMachines', properties: "
        "{ pricingTier: 'Standard' } }",
    ),
)
def defender_plans(subject: SubscriptionPlans | DefenderPlan, params: Params) -> Verdict | None:
    """Fail a subscription naming the required plans that are missing or not Standard; in code, judge the one
    plan a resource declares when it is required (None when it is not: the others may be declared elsewhere)."""
    required = params.get_list("required_defender_plans")
    if isinstance(subject, DefenderPlan):
        plans = {subject.name.lower(): subject}
        judged = [n for n in required if n.lower() in plans]
        if not judged:
            return None
        display_name = ""
    else:
        plans = {p.name.lower(): p for p in subject.plans}
        judged = list(required)
        display_name = subject.display_name
    tiers = {name: plans[name.lower()].pricing_tier if name.lower() in plans else None for name in judged}
    missing = [name for name in judged if name.lower() not in plans]
    unreported = [name for name in judged if name.lower() in plans and tiers[name] is None]
    off = [f"{n} ({tiers[n]})" for n in judged if tiers[n] is not None and str(tiers[n]).lower() != "standard"]
    evidence = {"subscription_name": display_name, "required": list(judged), "tiers": tiers}
    problems = (
        ([f"off (not Standard): {', '.join(off)}"] if off else [])
        + ([f"not listed: {', '.join(missing)}"] if missing else [])
        + ([f"tier not reported: {', '.join(unreported)}"] if unreported else [])
    )
    if problems:
        return failing("Required Defender plans: " + "; ".join(problems), **evidence)
    return passing(f"Defender plans on Standard: {', '.join(judged)}", **evidence)
