"""Microsoft's Azure Monitor examples through the real clients: metric alerts (2018-03-01, the only stable
version), action groups (2023-01-01) and activity-log alerts (2020-10-01), the api-versions the collector sends.

The metric alert list is served in its newest stored form (``PT1M``) and in the earlier one whose lower-case
durations (``Pt1m``) the SDK model rejected; both are collected whole. Its items carry no ``name`` (read from
the id, whose ``providers/providers`` is kept) and notify an action group that is not in the estate. The
action group Get example is served as the subscription's list. Alerts that notify only groups that were not
collected make MON-02 an error, never a pass; pointed at the collected group, whose John Doe address is
enabled, MON-02 passes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from auditor.collect import monitor
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_examples_compute import rehome
from tests.test_collect_integration import judge

METRIC_ALERTS = "monitor/resource-manager/Microsoft.Insights/Insights/stable/2018-03-01/examples/listMetricAlert.json"
# The earlier version of the same example, with lower-case ISO durations.
METRIC_ALERTS_LOWER_CASE = "monitor/resource-manager/Microsoft.Insights/stable/2018-03-01/examples/listMetricAlert.json"
ACTION_GROUP = "monitor/resource-manager/Microsoft.Insights/stable/2023-01-01/examples/getActionGroup.json"
MONITOR_2020 = "monitor/resource-manager/Microsoft.Insights/stable/2020-10-01/examples/"
ACTIVITY_LOG_ALERTS = MONITOR_2020 + "ActivityLogAlertRule_ListBySubscriptionId.json"


def listing(example: str) -> dict[str, Any]:
    """A list example's body, re-homed; ``rehome``'s ``type`` key is not part of a list body."""
    body = rehome(example_body(example), "")
    del body["type"]
    return body


def estate(metric_alerts: str = METRIC_ALERTS, *, notify_collected_group: bool = False) -> dict[str, Any]:
    """The three monitor listings of the test subscription, served raw as Microsoft published them."""
    groups = {"value": [rehome(example_body(ACTION_GROUP), "")]}
    activity = listing(ACTIVITY_LOG_ALERTS)
    metric = listing(metric_alerts)
    if notify_collected_group:
        group_id = groups["value"][0]["id"]
        for alert in activity["value"]:
            alert["properties"]["actions"]["actionGroups"][0]["actionGroupId"] = group_id
        for alert in metric["value"]:
            alert["properties"]["actions"][0]["actionGroupId"] = group_id.lower()
    found = e.estate()
    providers = f"/subscriptions/{e.SUB}/providers/"
    found["raw"] = [
        {"path": providers + api, "status": 200, "body": json.dumps(body)}
        for api, body in (
            (monitor.METRIC_ALERTS_API, metric),
            (monitor.ACTION_GROUPS_API, groups),
            (monitor.ACTIVITY_LOG_ALERTS_API, activity),
        )
    ]
    return found


def scan(served: dict[str, Any]) -> Inventory:
    """Collect the monitor listings."""
    with serve(served) as (_, session):
        return collect_inventory(session, steps=monitor.STEPS)


def mon02(inventory: Inventory) -> tuple[Status, str]:
    """The subscription's MON-02 verdict."""
    (found,) = [f for f in judge(inventory).findings if f.check_id == "alert_to_email"]
    return found.status, found.message


@pytest.mark.parametrize("metric_alerts", [METRIC_ALERTS, METRIC_ALERTS_LOWER_CASE])
def test_the_monitor_examples_are_collected_whole(metric_alerts: str) -> None:
    inventory = scan(estate(metric_alerts))
    assert not [c for c in inventory.collections if not c.ok]
    rules = {r.name: r for r in inventory.alert_rules}
    assert sorted(rules) == ["SampleActivityLogAlertRule1", "SampleActivityLogAlertRule2", "highcpu", "mediumcpu"]
    assert all(r.unreadable == () and r.enabled for r in rules.values())
    assert rules["highcpu"].kind == "metric" and rules["highcpu"].conditions == ("High_CPU_80",)
    assert rules["SampleActivityLogAlertRule1"].conditions == ("category=Administrative", "level=Error")
    (group,) = inventory.action_groups
    assert group.unreadable == () and group.enabled is True
    assert group.email_receivers == ("johndoe@email.com", "janesmith@email.com")
    assert group.disabled_email_receivers == ("janesmith@email.com",)
    assert (group.sms_receivers, group.webhook_receivers) == (2, 2)


def test_alerts_that_notify_only_uncollected_groups_are_an_error() -> None:
    status, message = mon02(scan(estate()))
    assert status is Status.ERROR
    assert "action groups that were not collected" in message


def test_alerts_that_notify_the_collected_group_pass() -> None:
    status, message = mon02(scan(estate(notify_collected_group=True)))
    assert status is Status.PASS
    # The rule's name comes from its id, and only the enabled address counts.
    assert "highcpu" in message and "johndoe@email.com" in message and "janesmith" not in message
