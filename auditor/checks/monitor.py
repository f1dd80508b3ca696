"""Azure Monitor rule: alert rules wired to an action group that e-mails someone (MON-02).

Live, a subscription is judged as a whole: its alert rules with the action groups they notify. In code a
resource is judged for what it holds: an action group by its receivers, an alert rule by its own state and
wiring; the action group an alert rule names lives in another resource, so such a rule cannot be shown to
e-mail anyone from its own resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from auditor.arm_ids import key, name_of
from auditor.checks.defender import SUBSCRIPTION_TYPE, judged_subscriptions, subscription_label
from auditor.checks.index import ById
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.monitor import ActionGroup, AlertRule
from auditor.registry import Remediation, check

ALERT_APIS = (
    "Microsoft.Insights/activityLogAlerts",
    "Microsoft.Insights/metricAlerts",
    "Microsoft.Insights/actionGroups",
)


@dataclass(frozen=True)
class SubscriptionAlerts:
    """A subscription's alert rules, with every collected action group they may notify: what MON-02 judges live."""

    id: str
    subscription_id: str
    display_name: str
    rules: tuple[AlertRule, ...]
    # All collected groups, not only the subscription's: a rule may notify a group of another subscription.
    groups: tuple[ActionGroup, ...]
    type: str = SUBSCRIPTION_TYPE


def subscription_alerts(inventory: Inventory) -> Iterator[SubscriptionAlerts]:
    """Every subscription whose alert rules and action groups were listed, with its rules."""
    for subscription in judged_subscriptions(inventory, ALERT_APIS):
        rules = tuple(r for r in inventory.alert_rules if r.subscription_id == subscription.subscription_id)
        yield SubscriptionAlerts(
            subscription.id,
            subscription.subscription_id,
            subscription.display_name,
            rules,
            inventory.action_groups,
            subscription.type,
        )


def mailing_receivers(group: ActionGroup) -> list[str]:
    """E-mail addresses of an enabled action group that are not disabled; empty when none get mail."""
    if group.enabled is not True:
        return []
    disabled = {a.lower() for a in group.disabled_email_receivers}
    return [a for a in group.email_receivers if a.lower() not in disabled]


def group_gap(group: ActionGroup) -> str | None:
    """Why an action group e-mails no one (disabled, no e-mail receiver, only disabled ones); None when it does."""
    if group.enabled is not True:
        return "is disabled"
    if not group.email_receivers:
        return "has no e-mail receiver"
    if not mailing_receivers(group):
        return "has only disabled e-mail receivers"
    return None


def rule_gaps(rule: AlertRule) -> list[str]:
    """What in an alert rule itself keeps it from notifying anyone: disabled, or no action group."""
    gaps: list[str] = []
    if rule.enabled is not True:
        gaps.append(f"alert rule {rule.name} is {'disabled' if rule.enabled is False else 'of unreported state'}")
    if not rule.action_group_ids:
        gaps.append(f"alert rule {rule.name} notifies no action group")
    return gaps


def _wiring(rule: AlertRule, groups: ById[ActionGroup]) -> tuple[list[tuple[ActionGroup, list[str]]], list[str]]:
    """The action groups an alert rule notifies that e-mail someone, and group ids that were not collected."""
    mailing: list[tuple[ActionGroup, list[str]]] = []
    unknown: list[str] = []
    for group_id in rule.action_group_ids:
        group = groups.get(group_id)
        if group is None:
            unknown.append(group_id)
        elif receivers := mailing_receivers(group):
            mailing.append((group, receivers))
    return mailing, unknown


def alert_gaps(rules: tuple[AlertRule, ...], groups: ById[ActionGroup]) -> list[str]:
    """Why each alert rule fails to reach a mailbox: disabled, no action group, or groups that mail no one."""
    gaps: list[str] = []
    for rule in rules:
        gaps += rule_gaps(rule)
        for group_id in rule.action_group_ids:
            group = groups.get(group_id)
            gap = group_gap(group) if group is not None else None
            if group is not None and gap is not None:
                gaps.append(f"action group {group.name} of {rule.name} {gap}")
    return gaps


def _rule_summary(rule: AlertRule, groups: ById[ActionGroup]) -> dict[str, object]:
    found = [groups.get(g) for g in rule.action_group_ids]
    return {
        "alert": rule.name,
        "kind": rule.kind,
        "enabled": rule.enabled,
        "action_groups": [
            {
                "name": g.name if g else name_of(gid),
                "collected": g is not None,
                "enabled": g.enabled if g else None,
                "email_receivers": list(g.email_receivers) if g else [],
            }
            for gid, g in zip(rule.action_group_ids, found, strict=True)
        ],
    }


@check(
    id="alert_to_email",
    title="Each subscription has an enabled alert rule that notifies an action group with an e-mail receiver",
    severity=Severity.MEDIUM,
    resource_types=(SUBSCRIPTION_TYPE,),
    requires=ALERT_APIS,
    over=subscription_alerts,
    subject="subscriptions",
    rationale="The disaster-recovery plan starts with alerts reaching people; an alert rule that is disabled or "
    "notifies no mailbox raises nothing anyone reads.",
    remediation=Remediation(
        summary="Create an action group with an e-mail receiver for the administrator, and an enabled activity-log "
        "alert (e.g. category Security or Administrative) or metric alert that notifies it.",
        portal="Monitor > Alerts > Action groups > Create: Notifications: Email; Monitor > Alerts > Create > "
        "Alert rule: Signal: Activity log (All security operations), Actions: the action group, Enable upon creation",
        cli="az monitor action-group create -g RG -n ag-secops --short-name secops --action email admin "
        "admin@example.com\naz monitor activity-log alert create -g RG -n ala-security --condition "
        "category=Security --action-group AG_ID",
        terraform='resource "azurerm_monitor_action_group" "secops" {\n  name = "ag-secops"\n'
        '  short_name = "secops"\n  email_receiver { name = "admin"  email_address = "admin@example.com" }\n}\n'
        'resource "azurerm_monitor_activity_log_alert" "security" {\n  criteria { category = "Security" }\n'
        "  action { action_group_id = azurerm_monitor_action_group.secops.id }\n}",
        bicep="properties: { enabled: true, scopes: [ subscription().id ], condition: { allOf: [ { field: "
        "'category', equals: 'Security' } ] }, actions: { actionGroups: [ { actionGroupId: ag.id } ] } }",
    ),
)
def alert_to_email(subject: SubscriptionAlerts | AlertRule | ActionGroup, params: Params) -> Verdict:
    """Pass a subscription with an enabled alert rule notifying an enabled action group that e-mails someone;
    in code, judge an action group by its receivers and an alert rule by what the rule itself holds."""
    if isinstance(subject, ActionGroup):
        return declared_group_verdict(subject)
    if isinstance(subject, AlertRule):
        return declared_rule_verdict(subject)
    groups = ById(subject.groups)
    summaries = [_rule_summary(r, groups) for r in subject.rules]
    unresolved: list[str] = []
    wired: tuple[AlertRule, list[tuple[ActionGroup, list[str]]]] | None = None
    for rule in subject.rules:
        if rule.enabled is not True:
            continue
        mailing, unknown = _wiring(rule, groups)
        unresolved += unknown
        if mailing and wired is None:
            wired = (rule, mailing)
    if wired is not None:
        rule, mailing = wired
        names = ", ".join(group.name for group, _ in mailing)
        addresses = ", ".join(address for _, receivers in mailing for address in receivers)
        return passing(
            f"Alert rule {rule.name} ({rule.kind}) notifies action group {names}, which e-mails {addresses}",
            subscription_name=subject.display_name,
            alert=rule.name,
            alert_id=rule.id,
            mailing_action_groups=[
                {"action_group": group.name, "id": group.id, "email_receivers": receivers}
                for group, receivers in mailing
            ],
            alert_rules=summaries,
        )
    if unresolved:
        return erroring(
            "No enabled alert rule is shown to e-mail anyone, and enabled rules notify action groups that were "
            f"not collected: {', '.join(sorted({key(u) for u in unresolved}))}",
            subscription_name=subject.display_name,
            unresolved_action_groups=sorted(set(unresolved)),
            alert_rules=summaries,
        )
    reasons = alert_gaps(subject.rules, groups) if subject.rules else ["no activity-log or metric alert rules"]
    label = subscription_label(subject.subscription_id, subject.display_name)
    return failing(
        f"No alert rule e-mails anyone in {label}: " + "; ".join(reasons),
        subscription_name=subject.display_name,
        alert_rules=summaries,
    )


def declared_group_verdict(group: ActionGroup) -> Verdict:
    """An action group on its own: it passes when enabled with an e-mail receiver that is not disabled."""
    evidence = {
        "action_group": group.name,
        "enabled": group.enabled,
        "email_receivers": list(group.email_receivers),
        "sms_receivers": group.sms_receivers,
        "webhook_receivers": group.webhook_receivers,
    }
    gap = group_gap(group)
    if gap is not None:
        return failing(f"Action group {group.name} e-mails no one: it {gap}", **evidence)
    return passing(f"Action group {group.name} e-mails {', '.join(mailing_receivers(group))}", **evidence)


def declared_rule_verdict(rule: AlertRule) -> Verdict:
    """An alert rule on its own: disabled or without an action group it fails; otherwise the groups it names
    are other resources, so whether anyone is e-mailed cannot be shown from the rule (error, never pass)."""
    evidence = {
        "alert": rule.name,
        "kind": rule.kind,
        "enabled": rule.enabled,
        "action_groups": len(rule.action_group_ids),
    }
    gaps = rule_gaps(rule)
    if gaps:
        return failing(f"Alert rule {rule.name} ({rule.kind}) e-mails no one: " + "; ".join(gaps), **evidence)
    count = len(rule.action_group_ids)
    groups = "an action group" if count == 1 else f"{count} action groups"
    return erroring(
        f"Alert rule {rule.name} ({rule.kind}) notifies {groups} declared in another resource: whether anyone is "
        "e-mailed is not shown by the rule itself (the action group's own check judges its receivers)",
        **evidence,
    )
