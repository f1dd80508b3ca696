"""Monitor collector: activity-log and metric alert rules and action groups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import name_of, resource_group_of
from auditor.collect.base import (
    TAGS_FIELD,
    UNKNOWN,
    Field,
    Listing,
    Reader,
    arm_pipeline,
    build_all,
    list_objects,
    path,
    resource_id,
    tags_of,
)
from auditor.collect.clients import MONITOR_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.monitor import ActionGroup, AlertRule

# The api-versions azure-mgmt-monitor 7.0 sends for these lists.
ACTIVITY_LOG_ALERTS_API_VERSION = "2020-10-01"
METRIC_ALERTS_API_VERSION = "2018-03-01"
ACTION_GROUPS_API_VERSION = "2023-01-01"
ACTIVITY_LOG_ALERTS_API = "Microsoft.Insights/activityLogAlerts"
METRIC_ALERTS_API = "Microsoft.Insights/metricAlerts"
ACTION_GROUPS_API = "Microsoft.Insights/actionGroups"

# https://learn.microsoft.com/rest/api/monitor/activity-log-alerts/list-by-subscription-id
ACTIVITY_LOG_ALERT_CONTRACT = (
    Field("id", True),
    Field("name", True),
    # AlertRuleProperties.enabled: "default": true in the 2020-10-01 specification
    # (monitor/resource-manager/Microsoft.Insights/stable/2020-10-01/activityLogAlerts_API.json).
    Field("properties.enabled", False, "true (activityLogAlerts_API.json 2020-10-01, AlertRuleProperties.enabled)"),
    Field("properties.scopes", True),
    Field("properties.condition.allOf", True),
    Field("properties.actions.actionGroups", False, "no action groups"),
    TAGS_FIELD,
)
# https://learn.microsoft.com/rest/api/monitor/metric-alerts/list-by-subscription. Only the fields read
# here are in the contract: evaluationFrequency and windowSize (ISO 8601, any case) are not read.
METRIC_ALERT_CONTRACT = (
    Field("id", True),
    # Microsoft's own list example (listMetricAlert.json, 2018-03-01) leaves it out: the id's last segment.
    Field("name", False, "the last segment of the id"),
    Field("properties.enabled", True),
    Field("properties.scopes", True),
    Field("properties.criteria", True),
    Field("properties.actions", False, "no actions"),
    TAGS_FIELD,
)
# https://learn.microsoft.com/rest/api/monitor/action-groups/list-by-subscription-id
ACTION_GROUP_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.enabled", True),
    Field("properties.emailReceivers", False, "no e-mail receivers"),
    Field("properties.emailReceivers[].status", False, UNKNOWN),
    Field("properties.smsReceivers", False, "no SMS receivers"),
    Field("properties.webhookReceivers", False, "no webhook receivers"),
    TAGS_FIELD,
)


def _pipeline(session: AzureSession, subscription_id: str) -> Any:
    return arm_pipeline(session, MONITOR_CLIENT, subscription_id)


def _subscription_list(
    session: AzureSession, subscription_id: str, resource_type: str, api_version: str
) -> Iterator[dict[str, Any]]:
    """A subscription-wide list read through the monitor client's pipeline, every ``nextLink`` followed."""
    url = path("/subscriptions/{}/providers/" + resource_type, subscription_id, api_version=api_version)
    return list_objects(_pipeline(session, subscription_id), session.arm_url, url)


def activity_log_condition(condition: Reader) -> str:
    """One ``allOf`` condition as text: ``field=value``, ``field=any(a,b)``, or ``anyOf`` joined by `` or ``."""
    alternatives = condition.items("anyOf")
    if alternatives:
        return " or ".join(activity_log_condition(c) for c in alternatives)
    field = condition.text("field")
    if condition.present("containsAny"):
        return f"{field}=any({','.join(condition.strings('containsAny'))})"
    return f"{field}={condition.text('equals')}"


def activity_log_alert(raw: Mapping[str, Any], subscription_id: str) -> AlertRule:
    """An activity-log alert rule with its conditions as ``field=value`` strings."""
    alert = Reader(raw)
    alert_id = resource_id(alert, f"/subscriptions/{subscription_id}", ACTIVITY_LOG_ALERTS_API)
    props = alert.part("properties")
    enabled = props.flag("enabled")
    return AlertRule(
        id=alert_id,
        name=alert.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(alert_id),
        kind="activityLog",
        enabled=True if enabled is None else enabled,
        scopes=props.strings("scopes"),
        conditions=tuple(activity_log_condition(c) for c in props.items("condition.allOf", required=True)),
        action_group_ids=tuple(g for a in props.items("actions.actionGroups") if (g := a.text("actionGroupId"))),
        location=alert.text("location") or "",
        type=ACTIVITY_LOG_ALERTS_API,
        tags=tags_of(raw),
        unreadable=alert.found(),
    )


def _metric_criteria(criteria: Reader) -> tuple[str, ...]:
    """Names of a metric alert's criteria (the metric's name when a criterion has none)."""
    if criteria.present("allOf"):
        return tuple(c.text("name") or c.text("metricName") or "" for c in criteria.items("allOf"))
    # A web-test availability criterion has no list of criteria, only the test it watches.
    web_test = criteria.text("webTestId")
    return (f"webTestId={web_test}",) if web_test else ()


def metric_alert(raw: Mapping[str, Any], subscription_id: str) -> AlertRule:
    """A metric alert rule with its criteria names."""
    alert = Reader(raw)
    alert_id = resource_id(alert, f"/subscriptions/{subscription_id}", METRIC_ALERTS_API)
    props = alert.part("properties")
    return AlertRule(
        id=alert_id,
        name=alert.text("name") or name_of(alert_id),
        subscription_id=subscription_id,
        resource_group=resource_group_of(alert_id),
        kind="metric",
        enabled=props.flag("enabled", required=True),
        scopes=props.strings("scopes"),
        conditions=_metric_criteria(props.part("criteria")),
        action_group_ids=tuple(g for a in props.items("actions") if (g := a.text("actionGroupId"))),
        location=alert.text("location") or "",
        type=METRIC_ALERTS_API,
        tags=tags_of(raw),
        unreadable=alert.found(),
    )


def action_group(raw: Mapping[str, Any], subscription_id: str) -> ActionGroup:
    """An action group: whether it is enabled, its e-mail addresses and how many SMS and webhook receivers."""
    group = Reader(raw)
    group_id = resource_id(group, f"/subscriptions/{subscription_id}", ACTION_GROUPS_API)
    props = group.part("properties")
    emails = [(r.text("emailAddress"), r.text("status")) for r in props.items("emailReceivers")]
    return ActionGroup(
        id=group_id,
        name=group.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(group_id),
        enabled=props.flag("enabled", required=True),
        email_receivers=tuple(address for address, _ in emails if address),
        sms_receivers=len(props.items("smsReceivers")),
        webhook_receivers=len(props.items("webhookReceivers")),
        location=group.text("location") or "",
        disabled_email_receivers=tuple(
            address for address, status in emails if address and (status or "").lower() == "disabled"
        ),
        tags=tags_of(raw),
        unreadable=group.found(),
    )


def list_activity_log_alerts(session: AzureSession, subscription_id: str) -> Iterator[AlertRule]:
    """Every activity-log alert rule of the subscription."""
    items = _subscription_list(session, subscription_id, ACTIVITY_LOG_ALERTS_API, ACTIVITY_LOG_ALERTS_API_VERSION)
    return build_all(items, activity_log_alert, subscription_id)


def list_metric_alerts(session: AzureSession, subscription_id: str) -> Iterator[AlertRule]:
    """Every metric alert rule of the subscription."""
    items = _subscription_list(session, subscription_id, METRIC_ALERTS_API, METRIC_ALERTS_API_VERSION)
    return build_all(items, metric_alert, subscription_id)


def list_action_groups(session: AzureSession, subscription_id: str) -> Iterator[ActionGroup]:
    """Every action group of the subscription."""
    items = _subscription_list(session, subscription_id, ACTION_GROUPS_API, ACTION_GROUPS_API_VERSION)
    return build_all(items, action_group, subscription_id)


STEPS = (
    Listing(ACTIVITY_LOG_ALERTS_API, "alert_rules", list_activity_log_alerts),
    Listing(METRIC_ALERTS_API, "alert_rules", list_metric_alerts),
    Listing(ACTION_GROUPS_API, "action_groups", list_action_groups),
)
