"""MON-02 (alert_to_email) through the live door and the IaC door: one case table, the same verdicts.

Live, MON-02 judges a subscription's alert rules with the action groups they notify. In code a resource is
judged for what it holds: an action group by its receivers, an alert rule by its own state and wiring (the
group it names is another resource, so a wired rule is an error, never a pass). Each case's live door is the
judge on the record the collector builds of that one resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import builtin_registry
from auditor.collect.monitor import action_group, activity_log_alert, metric_alert
from auditor.iac import arm_records as arm
from auditor.iac import terraform_records as tf
from auditor.iac.conf_values import UndecidableError
from auditor.model import Status
from auditor.records.monitor import ActionGroup, AlertRule
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, iac_doors
from tests.parity import params as parity_params

ADMIN = "mul2-admin@mul2demo.onmicrosoft.com"
GROUPS = "Microsoft.Insights/actionGroups"
ACTIVITY = "Microsoft.Insights/activityLogAlerts"
METRIC = "Microsoft.Insights/metricAlerts"
GROUP_ID = arm_id(GROUPS, "ag-secops")


def group_json(
    name: str, *, enabled: bool = True, emails: tuple[str, ...] = (ADMIN,), sms: bool = False
) -> dict[str, Any]:
    """An action group as ARM GET returns it (shape of Microsoft's getActionGroup example)."""
    return {
        "id": arm_id(GROUPS, name),
        "name": name,
        "type": GROUPS,
        "location": "Global",
        "properties": {
            "groupShortName": "secops",
            "enabled": enabled,
            "emailReceivers": [
                {"name": f"mail{n}", "emailAddress": a, "useCommonAlertSchema": True, "status": "Enabled"}
                for n, a in enumerate(emails)
            ],
            "smsReceivers": [{"name": "oncall", "countryCode": "1", "phoneNumber": "5555551212", "status": "Enabled"}]
            if sms
            else [],
            "webhookReceivers": [],
        },
    }


def group_terraform(name: str, *, enabled: bool = True, emails: tuple[str, ...] = (ADMIN,), sms: bool = False) -> str:
    """The azurerm_monitor_action_group declaring the same group."""
    receivers = "".join(
        f'  email_receiver {{\n    name = "mail{n}"\n    email_address = "{a}"\n'
        "    use_common_alert_schema = true\n  }\n"
        for n, a in enumerate(emails)
    )
    if sms:
        receivers += (
            '  sms_receiver {\n    name = "oncall"\n    country_code = "1"\n    phone_number = "5555551212"\n  }\n'
        )
    return (
        f'resource "azurerm_monitor_action_group" "group" {{\n  name = "{name}"\n  resource_group_name = "rg-parity"\n'
        f'  short_name = "secops"\n  enabled = {str(enabled).lower()}\n{receivers}}}\n'
    )


def group_template(name: str, **changes: Any) -> dict[str, Any]:
    """The ARM template resource of the same group (status is read-only, so templates leave it out)."""
    properties = group_json(name, **changes)["properties"]
    receivers = [{k: v for k, v in r.items() if k != "status"} for r in properties["emailReceivers"]]
    sms = [{k: v for k, v in r.items() if k != "status"} for r in properties["smsReceivers"]]
    return {
        "type": GROUPS,
        "apiVersion": "2023-01-01",
        "name": name,
        "location": "Global",
        "properties": properties | {"emailReceivers": receivers, "smsReceivers": sms},
    }


def activity_json(name: str, *, enabled: bool = True, wired: bool = True) -> dict[str, Any]:
    """An activity-log alert as ARM GET returns it (shape of Microsoft's ActivityLogAlertRule_Get example)."""
    return {
        "id": arm_id(ACTIVITY, name),
        "name": name,
        "type": ACTIVITY,
        "location": "Global",
        "properties": {
            "scopes": [f"/subscriptions/{SUBSCRIPTION}"],
            "condition": {"allOf": [{"field": "category", "equals": "Security"}]},
            "actions": {"actionGroups": [{"actionGroupId": GROUP_ID}] if wired else []},
            "enabled": enabled,
            "description": "Security operations",
        },
    }


def activity_terraform(name: str, *, enabled: bool = True, wired: bool = True) -> str:
    """The azurerm_monitor_activity_log_alert declaring the same rule, naming its group by reference."""
    action = "  action {\n    action_group_id = azurerm_monitor_action_group.secops.id\n  }\n" if wired else ""
    return (
        f'resource "azurerm_monitor_activity_log_alert" "alert" {{\n  name = "{name}"\n'
        f'  resource_group_name = "rg-parity"\n  location = "global"\n'
        f'  scopes = ["/subscriptions/{SUBSCRIPTION}"]\n  enabled = {str(enabled).lower()}\n'
        f'  criteria {{\n    category = "Security"\n  }}\n{action}}}\n'
    )


def activity_template(name: str, **changes: Any) -> dict[str, Any]:
    """The ARM template resource of the same rule, naming its group by expression."""
    properties = activity_json(name, **changes)["properties"]
    if properties["actions"]["actionGroups"]:
        reference = "[resourceId('Microsoft.Insights/actionGroups', 'ag-secops')]"
        properties = properties | {"actions": {"actionGroups": [{"actionGroupId": reference}]}}
    return {"type": ACTIVITY, "apiVersion": "2020-10-01", "name": name, "location": "Global", "properties": properties}


def metric_json(name: str) -> dict[str, Any]:
    """A metric alert as ARM GET returns it (shape of Microsoft's getMetricAlertSingleResource example)."""
    vm = arm_id("Microsoft.Compute/virtualMachines", "vm-parity")
    criterion = {
        "name": "High_CPU_80",
        "metricName": "Percentage CPU",
        "operator": "GreaterThan",
        "threshold": 80.5,
        "timeAggregation": "Average",
        "criterionType": "StaticThresholdCriterion",
    }
    return {
        "id": arm_id(METRIC, name),
        "name": name,
        "type": METRIC,
        "location": "global",
        "properties": {
            "description": "CPU above 80%",
            "severity": 3,
            "enabled": True,
            "scopes": [vm],
            "evaluationFrequency": "PT1M",
            "windowSize": "PT15M",
            "criteria": {
                "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                "allOf": [criterion],
            },
            "actions": [{"actionGroupId": GROUP_ID}],
        },
    }


METRIC_TERRAFORM = f"""resource "azurerm_monitor_metric_alert" "cpu" {{
  name = "highcpu"
  resource_group_name = "rg-parity"
  scopes = ["{arm_id("Microsoft.Compute/virtualMachines", "vm-parity")}"]
  criteria {{
    metric_namespace = "Microsoft.Compute/virtualMachines"
    metric_name = "Percentage CPU"
    aggregation = "Average"
    operator = "GreaterThan"
    threshold = 80.5
  }}
  action {{
    action_group_id = "{GROUP_ID}"
  }}
}}
"""


def metric_template(name: str) -> dict[str, Any]:
    """The ARM template resource of the same metric alert."""
    return {"type": METRIC, "apiVersion": "2018-03-01", "name": name, "location": "global"} | {
        "properties": metric_json(name)["properties"]
    }


CASES = (
    Case(
        "group-mails", Status.PASS, group_json("ag-secops"), group_terraform("ag-secops"), group_template("ag-secops")
    ),
    Case(
        "group-two-mails",
        Status.PASS,
        group_json("ag-two", emails=(ADMIN, "secops@mul2.example")),
        group_terraform("ag-two", emails=(ADMIN, "secops@mul2.example")),
        group_template("ag-two", emails=(ADMIN, "secops@mul2.example")),
    ),
    Case(
        "group-sms-only",
        Status.FAIL,
        group_json("ag-sms", emails=(), sms=True),
        group_terraform("ag-sms", emails=(), sms=True),
        group_template("ag-sms", emails=(), sms=True),
    ),
    Case(
        "group-disabled",
        Status.FAIL,
        group_json("ag-off", enabled=False),
        group_terraform("ag-off", enabled=False),
        group_template("ag-off", enabled=False),
    ),
    Case(
        "alert-disabled",
        Status.FAIL,
        activity_json("ala-off", enabled=False),
        activity_terraform("ala-off", enabled=False),
        activity_template("ala-off", enabled=False),
    ),
    Case(
        "alert-no-group",
        Status.FAIL,
        activity_json("ala-alone", wired=False),
        activity_terraform("ala-alone", wired=False),
        activity_template("ala-alone", wired=False),
    ),
    # The group a rule notifies is another resource: the rule alone never shows anyone is e-mailed.
    Case(
        "alert-wired",
        Status.ERROR,
        activity_json("ala-security"),
        activity_terraform("ala-security"),
        activity_template("ala-security"),
    ),
    Case("metric-wired", Status.ERROR, metric_json("highcpu"), METRIC_TERRAFORM, metric_template("highcpu")),
)


def build(raw: Mapping[str, Any]) -> ActionGroup | AlertRule:
    """The record a live scan builds of the group or alert rule."""
    if raw["type"] == GROUPS:
        return action_group(raw, SUBSCRIPTION)
    return (metric_alert if raw["type"] == METRIC else activity_log_alert)(raw, SUBSCRIPTION)


def test_alert_to_email_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("alert_to_email", build, CASES, tmp_path)


def test_an_e_mail_address_left_to_deployment_is_an_error(tmp_path: Path) -> None:
    terraform = (
        'variable "admin" {\n  type = string\n}\n'
        'resource "azurerm_monitor_action_group" "g" {\n  name = "ag-var"\n  resource_group_name = "rg-parity"\n'
        '  short_name = "var"\n  email_receiver {\n    name = "admin"\n    email_address = var.admin\n  }\n}\n'
    )
    template = group_template("ag-var")
    template["properties"]["emailReceivers"][0]["emailAddress"] = "[parameters('admin')]"
    cases = (Case("group-expression", Status.ERROR, {}, terraform, template),)
    said = iac_doors(builtin_registry()["alert_to_email"], cases, tmp_path)
    assert {k: v.status for k, v in said.items()} == {
        ("group-expression", "terraform"): Status.ERROR,
        ("group-expression", "arm"): Status.ERROR,
    }
    assert all("email_address" in v.message or "emailAddress" in v.message for v in said.values())


def test_plan_json_action_known_only_after_apply_still_counts_as_a_group() -> None:
    rule = tf.alert_rule("azurerm_monitor_activity_log_alert", {"name": ["ala"], "action": [{"action_group_id": [""]}]})
    verdict = builtin_registry()["alert_to_email"].decide(rule, parity_params())
    assert verdict is not None and verdict.status is Status.ERROR


@pytest.mark.parametrize(
    ("resource_type", "block"),
    [("azurerm_monitor_action_group", "email_receiver"), ("azurerm_monitor_metric_alert", "action")],
)
def test_dynamic_receivers_or_actions_are_errors(resource_type: str, block: str) -> None:
    conf = {"name": ["x"], "dynamic": [{block: {"for_each": ["${var.items}"]}}]}
    builders = {"azurerm_monitor_action_group": lambda: tf.action_group(conf)}
    with pytest.raises(UndecidableError, match="dynamically"):
        builders.get(resource_type, lambda: tf.alert_rule(resource_type, conf))()


def test_an_alert_rule_named_by_expression_in_a_template_is_an_error() -> None:
    template = activity_template("ala") | {"name": "[parameters('alertName')]"}
    with pytest.raises(UndecidableError, match="alertName"):
        arm.alert_rule(ACTIVITY, template)
