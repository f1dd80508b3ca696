"""Defender for Cloud collector: security contacts and plans (pricings).

Both are read through the SDK client's own pipeline (read-only, host-bound) rather than its operations:
azure-mgmt-security 7.0 reads security contacts with the 2020-01-01-preview API, which predates the
``notificationsSources`` shape the portal now writes, and its pricings list returns one unpaged
``PricingList`` that would silently drop any item behind a ``nextLink``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.security import SecurityCenter

from auditor.collect.base import Listing
from auditor.collect.session import AzureSession
from auditor.records.monitor import DefenderPlan, SecurityContact

CONTACTS_API_VERSION = "2023-12-01-preview"
PRICINGS_API_VERSION = "2024-01-01"


# --- REST through an SDK client's pipeline ---------------------------------------------------------


def arm_get(pipeline: ARMPipelineClient[Any, Any], url: str) -> dict[str, Any]:
    """One GET through the client's pipeline: the decoded JSON object, or the ARM error raised."""
    # stream=True keeps the pipeline's content decoder out of the way: an error status must surface as an
    # HttpResponseError (status and code) even when its body is not JSON, and a 200 with a broken body as
    # a malformed response rather than a decoder error.
    response = pipeline.send_request(HttpRequest("GET", url), stream=True)
    response.read()
    if response.status_code != 200:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    try:
        body = json.loads(response.text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body of GET {_path(url)} is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValueError(f"the body of GET {_path(url)} is a JSON {type(body).__name__}, not an object")
    return body


def arm_list(pipeline: ARMPipelineClient[Any, Any], base_url: str, path: str) -> Iterator[dict[str, Any]]:
    """Every item of an ARM list, following ``nextLink`` (relative links are joined to the endpoint)."""
    url: str | None = base_url + path
    while url:
        body = arm_get(pipeline, url)
        items = body.get("value")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ValueError(f"the body of GET {_path(url)} has no 'value' list of objects")
        yield from items
        link = body.get("nextLink")
        if link is not None and not isinstance(link, str):
            raise ValueError(f"the body of GET {_path(url)} has a nextLink that is not a string")
        # The host-bound policy refuses a link to any other host before the token is sent.
        url = urljoin(base_url + "/", link) if link else None


def _path(url: str) -> str:
    return url.split("?", 1)[0]


def properties_of(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``properties`` object of a raw ARM resource ({} when absent; an error when not an object)."""
    value = item.get("properties")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"'properties' of {item.get('id')!r} is not an object")
    return value


def present(value: Any) -> str | None:
    """A string Azure reported, or None when it is absent or empty (ARM sends "" for unset ids)."""
    if value is None or value == "":
        return None
    return str(value)


def flag(value: Any) -> bool | None:
    """A boolean from ARM, which sends some flags as the strings "True"/"False"."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ValueError(f"{value!r} is not a boolean")


# --- security contacts ----------------------------------------------------------------------------


def _client(session: AzureSession, subscription_id: str) -> SecurityCenter:
    # The multi-API client's untyped constructor makes the generic factory yield Any.
    client: SecurityCenter = session.client(SecurityCenter, subscription_id)
    return client


def _alert_source(properties: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Alert notification state and minimal severity, from either API shape."""
    sources = properties.get("notificationsSources")
    if sources is not None:
        # 2023-12-01-preview: alerts are notified when an Alert source is listed and the contact is enabled.
        alert = next((s for s in sources if str(s.get("sourceType", "")).lower() == "alert"), None)
        enabled = flag(properties.get("isEnabled"))
        if alert is None or enabled is False:
            return "Off", present(alert.get("minimalSeverity")) if alert else None
        return "On", present(alert.get("minimalSeverity"))
    legacy = properties.get("alertNotifications")
    if legacy is None:
        return None, None
    return present(legacy.get("state")), present(legacy.get("minimalSeverity"))


def security_contact(item: Mapping[str, Any], subscription_id: str) -> SecurityContact:
    """A security contact from either the 2020-01-01-preview or the 2023-12-01-preview shape."""
    properties = properties_of(item)
    state, severity = _alert_source(properties)
    by_role = properties.get("notificationsByRole") or {}
    emails = properties.get("emails") or ""
    return SecurityContact(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        subscription_id=subscription_id,
        emails=tuple(e.strip() for e in str(emails).replace(",", ";").split(";") if e.strip()),
        phone=present(properties.get("phone")),
        alert_notifications=state,
        alert_minimal_severity=severity,
        notify_roles_state=present(by_role.get("state")),
        notify_roles=tuple(str(r) for r in by_role.get("roles") or ()),
        is_enabled=flag(properties.get("isEnabled")),
    )


def list_security_contacts(session: AzureSession, subscription_id: str) -> Iterator[SecurityContact]:
    """The subscription's Defender for Cloud security contacts (usually one, named ``default``)."""
    path = f"/subscriptions/{subscription_id}/providers/Microsoft.Security/securityContacts"
    pipeline = _client(session, subscription_id)._client
    for item in arm_list(pipeline, session.arm_url, f"{path}?api-version={CONTACTS_API_VERSION}"):
        yield security_contact(item, subscription_id)


# --- pricings --------------------------------------------------------------------------------------


def defender_plan(item: Mapping[str, Any], subscription_id: str) -> DefenderPlan:
    """A Defender plan: tier, sub-plan and the names of its enabled extensions."""
    properties = properties_of(item)
    extensions = properties.get("extensions") or ()
    return DefenderPlan(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        subscription_id=subscription_id,
        pricing_tier=present(properties.get("pricingTier")),
        sub_plan=present(properties.get("subPlan")),
        enabled_extensions=tuple(str(x["name"]) for x in extensions if flag(x.get("isEnabled")) is True),
    )


def list_defender_plans(session: AzureSession, subscription_id: str) -> Iterator[DefenderPlan]:
    """Every Defender for Cloud plan of the subscription."""
    path = f"/subscriptions/{subscription_id}/providers/Microsoft.Security/pricings"
    pipeline = _client(session, subscription_id)._client
    for item in arm_list(pipeline, session.arm_url, f"{path}?api-version={PRICINGS_API_VERSION}"):
        yield defender_plan(item, subscription_id)


STEPS = (
    Listing("Microsoft.Security/securityContacts", "security_contacts", list_security_contacts),
    Listing("Microsoft.Security/pricings", "defender_plans", list_defender_plans),
)
