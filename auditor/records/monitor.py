"""Monitoring records: Defender for Cloud contacts and plans, alerts, action groups."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.records.tags import NO_TAGS, Tags
from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class SecurityContact:
    """A Defender for Cloud security contact of a subscription."""

    id: str
    name: str
    subscription_id: str
    emails: tuple[str, ...]
    phone: str | None
    alert_notifications: str | None
    alert_minimal_severity: str | None
    notify_roles_state: str | None
    notify_roles: tuple[str, ...] = ()
    resource_group: str = ""
    location: str = ""
    type: str = "Microsoft.Security/securityContacts"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # 2023-12-01-preview's ``isEnabled``: False turns every notification of the contact off.
    is_enabled: bool | None = None


@dataclass(frozen=True)
class DefenderPlan:
    """A Defender for Cloud pricing (plan) of a subscription."""

    id: str
    name: str
    subscription_id: str
    pricing_tier: str | None
    sub_plan: str | None = None
    enabled_extensions: tuple[str, ...] = ()
    resource_group: str = ""
    location: str = ""
    type: str = "Microsoft.Security/pricings"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()


@dataclass(frozen=True)
class ActionGroup:
    """An action group and its receivers."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    enabled: bool | None
    email_receivers: tuple[str, ...] = ()
    sms_receivers: int = 0
    webhook_receivers: int = 0
    location: str = ""
    type: str = "Microsoft.Insights/actionGroups"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS
    # Addresses whose receiver Azure reports as Disabled (e.g. after an unsubscribe): they get no mail.
    disabled_email_receivers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertRule:
    """An activity-log or metric alert rule and the action groups it notifies."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    kind: str
    enabled: bool | None
    scopes: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    action_group_ids: tuple[str, ...] = ()
    location: str = ""
    type: str = "Microsoft.Insights/activityLogAlerts"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS
