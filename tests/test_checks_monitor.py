"""MON-02 (alert_to_email) judged on records built here: a subscription's alert rules and action groups, and
an action group or alert rule on its own as the IaC door hands them over."""

from __future__ import annotations

import dataclasses

import pytest

from auditor.baseline import Baseline, Control
from auditor.checks import builtin_registry
from auditor.checks.monitor import SubscriptionAlerts, alert_to_email, subscription_alerts
from auditor.evaluate import evaluate
from auditor.inventory import Collection, Subscription
from auditor.model import Severity, Status
from auditor.parameters import Params
from auditor.records.monitor import ActionGroup, AlertRule
from tests.builders import SUB, make_inventory, rid

ADMIN = "admin@mul2.example.com"
PARAMS = Params({})
SUBSCRIPTION = Subscription(SUB, "Test subscription", "Enabled")


def make_group(
    name: str = "ag-secops",
    *,
    enabled: bool | None = True,
    emails: tuple[str, ...] = (ADMIN,),
    disabled: tuple[str, ...] = (),
) -> ActionGroup:
    """An action group with e-mail receivers."""
    return ActionGroup(
        rid("Microsoft.Insights/actionGroups", name),
        name,
        SUB,
        "rg-test",
        enabled,
        emails,
        disabled_email_receivers=disabled,
    )


def make_alert(
    name: str = "ala-security", *, kind: str = "activityLog", enabled: bool | None = True, groups: tuple[str, ...] = ()
) -> AlertRule:
    """An alert rule notifying the given action groups."""
    kind_type = "Microsoft.Insights/activityLogAlerts" if kind == "activityLog" else "Microsoft.Insights/metricAlerts"
    return AlertRule(rid(kind_type, name), name, SUB, "rg-test", kind, enabled, action_group_ids=groups, type=kind_type)


def alerts(rules: tuple[AlertRule, ...], groups: tuple[ActionGroup, ...]) -> SubscriptionAlerts:
    """The test subscription with these alert rules, and these action groups collected."""
    return SubscriptionAlerts(SUBSCRIPTION.id, SUB, SUBSCRIPTION.display_name, rules, groups)


GROUP = make_group()


@pytest.mark.parametrize(
    ("rules", "groups"),
    [
        ((make_alert(groups=(GROUP.id,)),), (GROUP,)),
        ((make_alert(kind="metric", groups=(GROUP.id.upper(),)),), (GROUP,)),
        ((make_alert(enabled=False, groups=(GROUP.id,)), make_alert("ala-2", groups=(GROUP.id,))), (GROUP,)),
        ((make_alert(groups=(GROUP.id,)),), (make_group(emails=(ADMIN, "b@x.example"), disabled=(ADMIN,)),)),
    ],
    ids=["activity-log", "metric-id-case", "one-enabled-of-two", "one-receiver-still-enabled"],
)
def test_enabled_alert_to_mailing_group_passes(rules: tuple[AlertRule, ...], groups: tuple[ActionGroup, ...]) -> None:
    verdict = alert_to_email(alerts(rules, groups), PARAMS)
    assert verdict.status is Status.PASS
    assert "notifies action group ag-secops, which e-mails" in verdict.message
    assert verdict.evidence["mailing_action_groups"][0]["action_group"] == "ag-secops"


@pytest.mark.parametrize(
    ("rules", "groups", "reason"),
    [
        ((), (GROUP,), "in subscription Test subscription: no activity-log or metric alert rules"),
        ((make_alert(enabled=False, groups=(GROUP.id,)),), (GROUP,), "alert rule ala-security is disabled"),
        ((make_alert(enabled=None, groups=(GROUP.id,)),), (GROUP,), "alert rule ala-security is of unreported state"),
        ((make_alert(),), (GROUP,), "notifies no action group"),
        ((make_alert(groups=(GROUP.id,)),), (make_group(emails=()),), "has no e-mail receiver"),
        ((make_alert(groups=(GROUP.id,)),), (make_group(enabled=False),), "ag-secops of ala-security is disabled"),
        ((make_alert(groups=(GROUP.id,)),), (make_group(disabled=(ADMIN,)),), "only disabled e-mail receivers"),
    ],
    ids=["no-rules", "rule-disabled", "rule-state", "no-group", "no-email", "group-disabled", "receiver-disabled"],
)
def test_alerts_that_reach_no_mailbox_fail(
    rules: tuple[AlertRule, ...], groups: tuple[ActionGroup, ...], reason: str
) -> None:
    verdict = alert_to_email(alerts(rules, groups), PARAMS)
    assert verdict.status is Status.FAIL
    assert reason in verdict.message


def test_alert_to_an_uncollected_action_group_is_an_error() -> None:
    verdict = alert_to_email(alerts((make_alert(groups=(rid("Microsoft.Insights/actionGroups", "x"),)),), ()), PARAMS)
    assert verdict.status is Status.ERROR
    assert "actiongroups/x" in verdict.message


# --- one resource, as code declares it --------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "status", "message"),
    [
        (GROUP, Status.PASS, f"Action group ag-secops e-mails {ADMIN}"),
        (
            make_group(emails=(ADMIN, "b@x.example"), disabled=(ADMIN,)),
            Status.PASS,
            "Action group ag-secops e-mails b@x.example",
        ),
        (make_group(enabled=False), Status.FAIL, "Action group ag-secops e-mails no one: it is disabled"),
        (make_group(emails=()), Status.FAIL, "Action group ag-secops e-mails no one: it has no e-mail receiver"),
        (
            make_group(disabled=(ADMIN,)),
            Status.FAIL,
            "Action group ag-secops e-mails no one: it has only disabled e-mail receivers",
        ),
    ],
    ids=["mails", "one-receiver-left", "disabled", "no-email", "receivers-disabled"],
)
def test_an_action_group_alone_is_judged_by_its_receivers(group: ActionGroup, status: Status, message: str) -> None:
    verdict = alert_to_email(group, PARAMS)
    assert (verdict.status, verdict.message) == (status, message)


@pytest.mark.parametrize(
    ("rule", "status", "message"),
    [
        (
            make_alert(enabled=False, groups=(GROUP.id,)),
            Status.FAIL,
            "Alert rule ala-security (activityLog) e-mails no one: alert rule ala-security is disabled",
        ),
        (
            make_alert(kind="metric"),
            Status.FAIL,
            "Alert rule ala-security (metric) e-mails no one: alert rule ala-security notifies no action group",
        ),
        (
            make_alert(groups=(GROUP.id,)),
            Status.ERROR,
            "Alert rule ala-security (activityLog) notifies an action group declared in another resource",
        ),
        (
            make_alert(groups=(GROUP.id, "azurerm_monitor_action_group.other.id")),
            Status.ERROR,
            "Alert rule ala-security (activityLog) notifies 2 action groups declared in another resource",
        ),
    ],
    ids=["disabled", "no-group", "wired", "wired-twice"],
)
def test_an_alert_rule_alone_fails_on_its_own_gaps_and_never_passes(
    rule: AlertRule, status: Status, message: str
) -> None:
    verdict = alert_to_email(rule, PARAMS)
    assert verdict.status is status
    assert verdict.message.startswith(message)


# --- the subscriptions judged ----------------------------------------------------------------------


def test_each_subscription_is_judged_with_its_own_rules_and_every_collected_group() -> None:
    other = Subscription("00000000-0000-0000-0000-000000000002", "Other", "Enabled")
    foreign = dataclasses.replace(make_group("ag-other"), subscription_id=other.subscription_id)
    inventory = dataclasses.replace(
        make_inventory(alert_rules=[make_alert(groups=(foreign.id,))], action_groups=[GROUP, foreign]),
        subscriptions=(SUBSCRIPTION, other),
    )
    subjects = list(subscription_alerts(inventory))
    assert [(s.id, len(s.rules), len(s.groups)) for s in subjects] == [(SUBSCRIPTION.id, 1, 2), (other.id, 0, 2)]
    assert alert_to_email(subjects[0], PARAMS).status is Status.PASS


@pytest.mark.parametrize(
    "api",
    ["Microsoft.Insights/metricAlerts", "Microsoft.Insights/activityLogAlerts", "Microsoft.Insights/actionGroups"],
)
def test_failed_listing_makes_the_subscription_an_error_and_nothing_else(api: str) -> None:
    denied = Collection(api, SUB, f"/subscriptions/{SUB}", ok=False, status_code=403, reason="denied")
    control = Control("T-01", "test", "test", Severity.MEDIUM, "automated", "quote", "desc", checks=("alert_to_email",))
    baseline = Baseline("test", "", "test", "1", "policy", {}, (control,))
    records = make_inventory(collections=[denied], action_groups=[GROUP], alert_rules=[make_alert(groups=(GROUP.id,))])
    inventory = dataclasses.replace(records, subscriptions=(SUBSCRIPTION,), as_of="2026-11-28T12:00:00Z")
    findings = evaluate(inventory, baseline, builtin_registry(), PARAMS).findings
    assert [(f.status, f.resource_id) for f in findings] == [(Status.ERROR, f"/subscriptions/{SUB}")]
