"""Monitor collector: activity-log and metric alert rules, action groups and key vault diagnostic settings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.monitor.models import ActionGroupResource, MetricAlertResource

from auditor.arm_ids import resource_group_of
from auditor.collect.base import Listing, PerParent, text
from auditor.collect.defender import arm_list, present, properties_of
from auditor.collect.session import AzureSession
from auditor.records.keyvault import KeyVault
from auditor.records.monitor import ActionGroup, AlertRule, DiagnosticSetting

# The api-versions azure-mgmt-monitor 7.0 sends for these lists.
METRIC_ALERTS_API_VERSION = "2018-03-01"
ACTION_GROUPS_API_VERSION = "2023-01-01"
DIAGNOSTIC_SETTINGS_API_VERSION = "2021-05-01-preview"


def _client(session: AzureSession, subscription_id: str) -> MonitorManagementClient:
    return session.client(MonitorManagementClient, subscription_id)


def _subscription_list(
    session: AzureSession, subscription_id: str, resource_type: str, api_version: str
) -> Iterator[dict[str, Any]]:
    """A subscription-wide list read through the monitor client's pipeline, every ``nextLink`` followed.

    monitor 7.0's ``metric_alerts.list_by_subscription()`` and ``action_groups.list_by_subscription_id()``
    stop after the first page (their pagers never return the ``nextLink``); items are still parsed with
    the SDK's own models.
    """
    path = f"/subscriptions/{subscription_id}/providers/{resource_type}?api-version={api_version}"
    return arm_list(_client(session, subscription_id)._client, session.arm_url, path)


def activity_log_condition(condition: Any) -> str:
    """One ``allOf`` condition as text: ``field=value``, ``field=any(a,b)``, or ``anyOf`` joined by `` or ``."""
    # Leaves inside ``anyOf`` are a model without ``any_of`` of their own.
    alternatives = getattr(condition, "any_of", None)
    if alternatives:
        return " or ".join(activity_log_condition(c) for c in alternatives)
    if condition.contains_any is not None:
        return f"{condition.field}=any({','.join(condition.contains_any)})"
    return f"{condition.field}={condition.equals}"


def activity_log_alert(alert: Any, subscription_id: str) -> AlertRule:
    """An activity-log alert rule with its conditions as ``field=value`` strings."""
    conditions = alert.condition.all_of if alert.condition else None
    groups = alert.actions.action_groups if alert.actions else None
    return AlertRule(
        id=alert.id,
        name=alert.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(alert.id),
        kind="activityLog",
        enabled=alert.enabled,
        scopes=tuple(alert.scopes or ()),
        conditions=tuple(activity_log_condition(c) for c in conditions or ()),
        action_group_ids=tuple(g.action_group_id for g in groups or () if g.action_group_id),
        location=alert.location or "",
        type="Microsoft.Insights/activityLogAlerts",
    )


def _metric_criteria(criteria: Any) -> tuple[str, ...]:
    """Names of a metric alert's criteria (the metric's name when a criterion has none)."""
    if criteria is None:
        return ()
    all_of = getattr(criteria, "all_of", None)
    if all_of is not None:
        return tuple(c.name or c.metric_name or "" for c in all_of)
    # A web-test availability criterion has no list of criteria, only the test it watches.
    web_test = getattr(criteria, "web_test_id", None)
    return (f"webTestId={web_test}",) if web_test else ()


def metric_alert(alert: MetricAlertResource, subscription_id: str) -> AlertRule:
    """A metric alert rule with its criteria names."""
    return AlertRule(
        id=alert.id or "",
        name=alert.name or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(alert.id or ""),
        kind="metric",
        enabled=alert.enabled,
        scopes=tuple(alert.scopes or ()),
        conditions=_metric_criteria(alert.criteria),
        action_group_ids=tuple(a.action_group_id for a in alert.actions or () if a.action_group_id),
        location=alert.location or "",
        type="Microsoft.Insights/metricAlerts",
    )


def action_group(group: Any, subscription_id: str) -> ActionGroup:
    """An action group: whether it is enabled, its e-mail addresses and how many SMS and webhook receivers."""
    emails = group.email_receivers or ()
    return ActionGroup(
        id=group.id,
        name=group.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(group.id),
        enabled=group.enabled,
        email_receivers=tuple(r.email_address for r in emails if r.email_address),
        sms_receivers=len(group.sms_receivers or ()),
        webhook_receivers=len(group.webhook_receivers or ()),
        location=group.location or "",
        disabled_email_receivers=tuple(
            r.email_address for r in emails if r.email_address and (text(r.status) or "").lower() == "disabled"
        ),
    )


def diagnostic_setting(item: Mapping[str, Any], resource: KeyVault) -> DiagnosticSetting:
    """A diagnostic setting of a resource: enabled log categories (or groups) and destinations."""
    properties = properties_of(item)
    logs = properties.get("logs") or ()
    return DiagnosticSetting(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        subscription_id=resource.subscription_id,
        resource_id=resource.id,
        enabled_log_categories=tuple(
            str(log.get("category") or log.get("categoryGroup"))
            for log in logs
            if log.get("enabled") is True and (log.get("category") or log.get("categoryGroup"))
        ),
        workspace_id=present(properties.get("workspaceId")),
        storage_account_id=present(properties.get("storageAccountId")),
        event_hub_rule_id=present(properties.get("eventHubAuthorizationRuleId")),
        resource_group=resource_group_of(resource.id),
    )


def list_activity_log_alerts(session: AzureSession, subscription_id: str) -> Iterator[AlertRule]:
    """Every activity-log alert rule of the subscription."""
    for alert in _client(session, subscription_id).activity_log_alerts.list_by_subscription_id():
        yield activity_log_alert(alert, subscription_id)


def list_metric_alerts(session: AzureSession, subscription_id: str) -> Iterator[AlertRule]:
    """Every metric alert rule of the subscription."""
    items = _subscription_list(session, subscription_id, "Microsoft.Insights/metricAlerts", METRIC_ALERTS_API_VERSION)
    for item in items:
        yield metric_alert(MetricAlertResource.deserialize(item), subscription_id)


def list_action_groups(session: AzureSession, subscription_id: str) -> Iterator[ActionGroup]:
    """Every action group of the subscription."""
    items = _subscription_list(session, subscription_id, "Microsoft.Insights/actionGroups", ACTION_GROUPS_API_VERSION)
    for item in items:
        yield action_group(ActionGroupResource.deserialize(item), subscription_id)


def key_vault_diagnostic_settings(session: AzureSession, vault: KeyVault) -> Iterator[DiagnosticSetting]:
    """The diagnostic settings of one key vault (monitor 7.0 has no diagnostic-settings operations)."""
    client = _client(session, vault.subscription_id)
    path = f"{quote(vault.id, safe='/')}/providers/Microsoft.Insights/diagnosticSettings"
    for item in arm_list(client._client, session.arm_url, f"{path}?api-version={DIAGNOSTIC_SETTINGS_API_VERSION}"):
        yield diagnostic_setting(item, vault)


STEPS = (
    Listing("Microsoft.Insights/activityLogAlerts", "alert_rules", list_activity_log_alerts),
    Listing("Microsoft.Insights/metricAlerts", "alert_rules", list_metric_alerts),
    Listing("Microsoft.Insights/actionGroups", "action_groups", list_action_groups),
    # Diagnostic settings live on each resource; there is no subscription-wide list (nor Resource Graph).
    PerParent(
        "Microsoft.Insights/diagnosticSettings",
        "key_vaults",
        "diagnostic_settings",
        key_vault_diagnostic_settings,
    ),
)
