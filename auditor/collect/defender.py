"""Defender for Cloud collector: security contacts and plans (pricings).

Both are read as raw JSON through the SDK client's own pipeline (auditor.collect.base), not its models:
azure-mgmt-security 7.0 reads security contacts with the 2020-01-01-preview API, which predates the
``notificationsSources`` shape the portal now writes, and its pricings list returns one unpaged
``PricingList`` that would silently drop any item behind a ``nextLink``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.collect.base import UNKNOWN, Field, Listing, Reader, arm_pipeline, list_objects, path, resource_id
from auditor.collect.clients import SECURITY_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.monitor import DefenderPlan, SecurityContact

CONTACTS_API_VERSION = "2023-12-01-preview"
PRICINGS_API_VERSION = "2024-01-01"
CONTACTS_API = "Microsoft.Security/securityContacts"
PRICINGS_API = "Microsoft.Security/pricings"


# https://learn.microsoft.com/rest/api/defenderforcloud/security-contacts/list (2023-12-01-preview);
# the 2020-01-01-preview shape (alertNotifications, notificationsByRole) is read too.
SECURITY_CONTACT_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.emails", False, "no e-mail addresses"),
    Field("properties.phone", False, "no phone number"),
    Field("properties.notificationsSources", False, "the 2020-01-01-preview shape: alertNotifications"),
    Field("properties.isEnabled", False, UNKNOWN),
    Field("properties.alertNotifications.state", False, UNKNOWN),
    Field("properties.notificationsByRole.state", False, UNKNOWN),
    Field("properties.notificationsByRole.roles", False, "no roles notified"),
)
# https://learn.microsoft.com/rest/api/defenderforcloud/pricings/list
PRICING_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.pricingTier", True),
    Field("properties.subPlan", False, "the plan's only sub-plan"),
    Field("properties.extensions", False, "no extensions"),
)


def _list(
    session: AzureSession, subscription_id: str, resource_type: str, api_version: str
) -> Iterator[dict[str, Any]]:
    """A subscription-wide Microsoft.Security list through the security client's pipeline."""
    url = path("/subscriptions/{}/providers/" + resource_type, subscription_id, api_version=api_version)
    return list_objects(arm_pipeline(session, SECURITY_CLIENT, subscription_id), session.arm_url, url)


def _alert_source(props: Reader) -> tuple[str | None, str | None]:
    """Alert notification state and minimal severity, from either API shape."""
    if props.present("notificationsSources"):
        # 2023-12-01-preview: alerts are notified when an Alert source is listed and the contact is enabled.
        sources = props.items("notificationsSources")
        alert = next((s for s in sources if (s.text("sourceType") or "").lower() == "alert"), None)
        enabled = props.flag("isEnabled")
        if alert is None or enabled is False:
            return "Off", alert.text("minimalSeverity") if alert else None
        return "On", alert.text("minimalSeverity")
    if not props.present("alertNotifications"):
        return None, None
    return props.text("alertNotifications.state"), props.text("alertNotifications.minimalSeverity")


def security_contact(raw: Mapping[str, Any], subscription_id: str) -> SecurityContact:
    """A security contact from either the 2020-01-01-preview or the 2023-12-01-preview shape."""
    contact = Reader(raw)
    props = contact.part("properties")
    state, severity = _alert_source(props)
    emails = props.text("emails") or ""
    return SecurityContact(
        id=resource_id(contact, f"/subscriptions/{subscription_id}", CONTACTS_API),
        name=contact.text("name") or "",
        subscription_id=subscription_id,
        emails=tuple(e.strip() for e in emails.replace(",", ";").split(";") if e.strip()),
        phone=props.text("phone"),
        alert_notifications=state,
        alert_minimal_severity=severity,
        notify_roles_state=props.text("notificationsByRole.state"),
        notify_roles=props.strings("notificationsByRole.roles"),
        is_enabled=props.flag("isEnabled"),
        unreadable=contact.found(),
    )


def list_security_contacts(session: AzureSession, subscription_id: str) -> Iterator[SecurityContact]:
    """The subscription's Defender for Cloud security contacts (usually one, named ``default``)."""
    for item in _list(session, subscription_id, CONTACTS_API, CONTACTS_API_VERSION):
        yield security_contact(item, subscription_id)


# --- pricings --------------------------------------------------------------------------------------


def defender_plan(raw: Mapping[str, Any], subscription_id: str) -> DefenderPlan:
    """A Defender plan: tier, sub-plan and the names of its enabled extensions."""
    plan = Reader(raw)
    props = plan.part("properties")
    return DefenderPlan(
        id=resource_id(plan, f"/subscriptions/{subscription_id}", PRICINGS_API),
        name=plan.text("name") or "",
        subscription_id=subscription_id,
        pricing_tier=props.choice("pricingTier", ("Free", "Standard"), required=True),
        sub_plan=props.text("subPlan"),
        enabled_extensions=tuple(
            name for x in props.items("extensions") if x.flag("isEnabled") is True and (name := x.text("name"))
        ),
        unreadable=plan.found(),
    )


def list_defender_plans(session: AzureSession, subscription_id: str) -> Iterator[DefenderPlan]:
    """Every Defender for Cloud plan of the subscription."""
    for item in _list(session, subscription_id, PRICINGS_API, PRICINGS_API_VERSION):
        yield defender_plan(item, subscription_id)


STEPS = (
    Listing(CONTACTS_API, "security_contacts", list_security_contacts),
    Listing(PRICINGS_API, "defender_plans", list_defender_plans),
)
