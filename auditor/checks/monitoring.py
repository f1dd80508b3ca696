"""Monitoring checks: security alerts e-mailed to the administrator (MON-01), alert rules wired to e-mail
(MON-02) and Defender for Cloud plans (MON-03). Each judges a subscription as a whole."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.arm_ids import key, name_of
from auditor.checks.index import ById
from auditor.inventory import Inventory, Subscription
from auditor.model import CheckResult, Severity, errored, failed, passed
from auditor.parameters import Params
from auditor.records.monitor import ActionGroup, AlertRule, SecurityContact
from auditor.registry import Remediation, check

CONTACTS_API = "Microsoft.Security/securityContacts"
PRICINGS_API = "Microsoft.Security/pricings"
ALERT_APIS = (
    "Microsoft.Insights/activityLogAlerts",
    "Microsoft.Insights/metricAlerts",
    "Microsoft.Insights/actionGroups",
)

# Defender for Cloud's alert severities, least severe first: a threshold notifies at it and above.
ALERT_SEVERITIES = ("low", "medium", "high")
OWNER_ROLE = "owner"


def judged_subscriptions(inventory: Inventory, apis: tuple[str, ...]) -> Iterator[Subscription]:
    """Subscriptions whose listings of these APIs succeeded; the others are already reported as errors."""
    broken = {c.subscription_id for c in inventory.failed_collections() if c.api in apis}
    for subscription in inventory.subscriptions:
        if subscription.subscription_id not in broken:
            yield subscription


def severity_rank(name: str) -> int | None:
    """Position of a Defender alert severity in low < medium < high; None for an unknown name."""
    lowered = name.strip().lower()
    return ALERT_SEVERITIES.index(lowered) if lowered in ALERT_SEVERITIES else None


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
    resource_types=("Microsoft.Resources/subscriptions",),
    requires=(CONTACTS_API,),
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
def security_contact_admin_email(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Pass each subscription with a contact that e-mails the administrator and owners at the severity."""
    admin = params.get_str("admin_email")
    minimum = params.get_str("alert_min_severity")
    for subscription in judged_subscriptions(inventory, (CONTACTS_API,)):
        contacts = [c for c in inventory.security_contacts if c.subscription_id == subscription.subscription_id]
        if not contacts:
            yield failed(
                subscription,
                f"No Defender for Cloud security contact in {_label(subscription)}: no one is e-mailed about alerts",
                subscription_name=subscription.display_name,
            )
            continue
        verdicts = [(c, contact_shortfalls(c, admin, minimum)) for c in contacts]
        good = next((c for c, problems in verdicts if not problems), None)
        if good is not None:
            yield passed(
                subscription,
                f"Security contact {good.name} of {_label(subscription)} e-mails {admin} and the Owner role about "
                f"alerts from {good.alert_minimal_severity} severity",
                subscription_name=subscription.display_name,
                required_email=admin,
                required_min_severity=minimum,
                **_contact_evidence(good),
            )
            continue
        contact, problems = verdicts[0]
        yield failed(
            subscription,
            f"Security contact {contact.name} of {_label(subscription)} falls short: " + "; ".join(problems),
            subscription_name=subscription.display_name,
            required_email=admin,
            required_min_severity=minimum,
            problems=problems,
            **_contact_evidence(contact),
        )


# --- MON-02 --------------------------------------------------------------------------------------


def mailing_receivers(group: ActionGroup) -> list[str]:
    """E-mail addresses of an enabled action group that are not disabled; empty when none get mail."""
    if group.enabled is not True:
        return []
    disabled = {a.lower() for a in group.disabled_email_receivers}
    return [a for a in group.email_receivers if a.lower() not in disabled]


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


def alert_gaps(rules: list[AlertRule], groups: ById[ActionGroup]) -> list[str]:
    """Why each alert rule fails to reach a mailbox: disabled, no action group, or groups that mail no one."""
    gaps: list[str] = []
    for rule in rules:
        if rule.enabled is not True:
            gaps.append(f"alert rule {rule.name} is {'disabled' if rule.enabled is False else 'of unreported state'}")
        if not rule.action_group_ids:
            gaps.append(f"alert rule {rule.name} notifies no action group")
        for group_id in rule.action_group_ids:
            group = groups.get(group_id)
            if group is None:
                continue
            if group.enabled is not True:
                gaps.append(f"action group {group.name} of {rule.name} is disabled")
            elif not group.email_receivers:
                gaps.append(f"action group {group.name} of {rule.name} has no e-mail receiver")
            elif not mailing_receivers(group):
                gaps.append(f"action group {group.name} of {rule.name} has only disabled e-mail receivers")
    return gaps


def _label(subscription: Subscription) -> str:
    return f"subscription {subscription.display_name or subscription.subscription_id}"


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
    resource_types=("Microsoft.Resources/subscriptions",),
    requires=ALERT_APIS,
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
def alert_to_email(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Pass subscriptions with an enabled alert rule notifying an enabled action group that e-mails someone."""
    groups = ById(inventory.action_groups)
    for subscription in judged_subscriptions(inventory, ALERT_APIS):
        rules = [r for r in inventory.alert_rules if r.subscription_id == subscription.subscription_id]
        summaries = [_rule_summary(r, groups) for r in rules]
        unresolved: list[str] = []
        wired: tuple[AlertRule, list[tuple[ActionGroup, list[str]]]] | None = None
        for rule in rules:
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
            yield passed(
                subscription,
                f"Alert rule {rule.name} ({rule.kind}) notifies action group {names}, which e-mails {addresses}",
                subscription_name=subscription.display_name,
                alert=rule.name,
                alert_id=rule.id,
                mailing_action_groups=[
                    {"action_group": group.name, "id": group.id, "email_receivers": receivers}
                    for group, receivers in mailing
                ],
                alert_rules=summaries,
            )
        elif unresolved:
            yield errored(
                subscription,
                "No enabled alert rule is shown to e-mail anyone, and enabled rules notify action groups that were "
                f"not collected: {', '.join(sorted({key(u) for u in unresolved}))}",
                subscription_name=subscription.display_name,
                unresolved_action_groups=sorted(set(unresolved)),
                alert_rules=summaries,
            )
        else:
            reasons = alert_gaps(rules, groups) if rules else ["no activity-log or metric alert rules"]
            yield failed(
                subscription,
                f"No alert rule e-mails anyone in {_label(subscription)}: " + "; ".join(reasons),
                subscription_name=subscription.display_name,
                alert_rules=summaries,
            )


# --- MON-03 --------------------------------------------------------------------------------------


@check(
    id="defender_plans",
    title="Defender for Cloud plans for servers, SQL, storage and key vaults are on the Standard tier",
    severity=Severity.MEDIUM,
    resource_types=("Microsoft.Resources/subscriptions",),
    requires=(PRICINGS_API,),
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
def defender_plans(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """One result per subscription, listing the required plans that are missing or not Standard."""
    required = params.get_list("required_defender_plans")
    for subscription in judged_subscriptions(inventory, (PRICINGS_API,)):
        plans = {
            p.name.lower(): p for p in inventory.defender_plans if p.subscription_id == subscription.subscription_id
        }
        tiers = {name: plans[name.lower()].pricing_tier if name.lower() in plans else None for name in required}
        missing = [name for name in required if name.lower() not in plans]
        unreported = [name for name in required if name.lower() in plans and tiers[name] is None]
        off = [f"{n} ({tiers[n]})" for n in required if tiers[n] is not None and str(tiers[n]).lower() != "standard"]
        evidence = {"subscription_name": subscription.display_name, "required": list(required), "tiers": tiers}
        problems = (
            ([f"off (not Standard): {', '.join(off)}"] if off else [])
            + ([f"not listed: {', '.join(missing)}"] if missing else [])
            + ([f"tier not reported: {', '.join(unreported)}"] if unreported else [])
        )
        if problems:
            yield failed(
                subscription, f"Required Defender plans of {_label(subscription)}: " + "; ".join(problems), **evidence
            )
        else:
            yield passed(
                subscription, f"Defender plans on Standard in {_label(subscription)}: {', '.join(required)}", **evidence
            )
