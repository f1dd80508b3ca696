"""Defender for Cloud, Monitor, Authorization and App Service collection through the local endpoint."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from typing import Any

import pytest

from auditor.collect import authorization, defender, keyvault, monitor, web
from auditor.collect.scan import collect_inventory
from auditor.emulator import Fault
from auditor.emulator.estate import demo_estate_path
from auditor.inventory import Collection, Inventory
from tests import estates as e
from tests.harness import EXAMPLES, example_body, serve

CONTACTS_EXAMPLE = (
    "security/resource-manager/Microsoft.Security/preview/2020-01-01-preview/examples/SecurityContacts/"
    "GetSecurityContactsSubscription_example.json"
)
PRICING_EXAMPLE = (
    "security/resource-manager/Microsoft.Security/stable/2024-01-01/examples/Pricings/"
    "GetPricingByNameVirtualMachines_example.json"
)
DIAGNOSTIC_EXAMPLE = (
    "monitor/resource-manager/Microsoft.Insights/preview/2021-05-01-preview/examples/getDiagnosticSetting.json"
)
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
MONITOR_STEPS = keyvault.STEPS + monitor.STEPS


# --- raw ARM builders -------------------------------------------------------------------------------


def rebase_text(text: str, sub: str = e.SUB) -> str:
    """Example text re-homed into a test subscription (Microsoft's ids use their own subscriptions)."""
    return re.sub(r"/subscriptions/[^/\"]+/", f"/subscriptions/{sub}/", text, flags=re.IGNORECASE)


def rebase(body: Any, sub: str = e.SUB) -> dict[str, Any]:
    """A parsed example re-homed into a test subscription."""
    result: dict[str, Any] = json.loads(rebase_text(json.dumps(body), sub))
    return result


def raw_example_body(relative: str) -> str:
    """The text of an example's response body, cut out by bracket matching: the file itself may not parse."""
    text = (EXAMPLES / relative).read_text(encoding="utf-8")
    start = text.index("{", text.index('"body"'))
    depth = 0
    for position in range(start, len(text)):
        if text[position] in "{[":
            depth += 1
        elif text[position] in "}]":
            depth -= 1
            if depth == 0:
                return text[start : position + 1]
    raise AssertionError(f"no balanced body in {relative}")


def sub_id(sub: str, kind: str, name: str) -> str:
    """Id of a subscription-scope resource (contacts, pricings, role assignments and definitions)."""
    return f"/subscriptions/{sub}/providers/{kind}/{name}"


def contact(sub: str, properties: dict[str, Any], name: str = "default") -> dict[str, Any]:
    """A security contact with the given properties (either API shape)."""
    return {
        "id": sub_id(sub, "Microsoft.Security/securityContacts", name),
        "name": name,
        "type": "Microsoft.Security/securityContacts",
        "properties": properties,
    }


def pricing(sub: str, name: str, tier: str, **props: Any) -> dict[str, Any]:
    """A Defender plan."""
    return {
        "id": sub_id(sub, "Microsoft.Security/pricings", name),
        "name": name,
        "type": "Microsoft.Security/pricings",
        "properties": {"pricingTier": tier, "freeTrialRemainingTime": "PT0S"} | props,
    }


def action_group(
    name: str, *, emails: tuple[tuple[str, str], ...] = (), sms: int = 0, hooks: int = 0, **props: Any
) -> dict[str, Any]:
    """An action group; ``emails`` are (address, status) pairs."""
    return {
        "id": e.arm_id("Microsoft.Insights/actionGroups", name, group="rg-ops"),
        "name": name,
        "type": "Microsoft.Insights/actionGroups",
        "location": "Global",
        "properties": {
            "groupShortName": name[:12],
            "enabled": True,
            "emailReceivers": [
                {"name": f"mail{i}", "emailAddress": address, "useCommonAlertSchema": True, "status": status}
                for i, (address, status) in enumerate(emails)
            ],
            "smsReceivers": [
                {"name": f"sms{i}", "countryCode": "1", "phoneNumber": "2015550100", "status": "Enabled"}
                for i in range(sms)
            ],
            "webhookReceivers": [
                {"name": f"hook{i}", "serviceUri": f"https://hooks.example.invalid/{i}"} for i in range(hooks)
            ],
        }
        | props,
    }


def activity_alert(
    name: str, all_of: list[dict[str, Any]], groups: tuple[str, ...], enabled: bool = True
) -> dict[str, Any]:
    """An activity-log alert rule on the test subscription."""
    return {
        "id": e.arm_id("Microsoft.Insights/activityLogAlerts", name, group="rg-ops"),
        "name": name,
        "type": "Microsoft.Insights/activityLogAlerts",
        "location": "Global",
        "properties": {
            "scopes": [f"/subscriptions/{e.SUB}"],
            "condition": {"allOf": all_of},
            "actions": {"actionGroups": [{"actionGroupId": g, "webhookProperties": {}} for g in groups]},
            "enabled": enabled,
        },
    }


def metric_alert(name: str, criteria: dict[str, Any], groups: tuple[str, ...], enabled: bool = True) -> dict[str, Any]:
    """A metric alert rule as the 2018-03-01 API returns it."""
    return {
        "id": e.arm_id("Microsoft.Insights/metricAlerts", name, group="rg-ops"),
        "name": name,
        "type": "Microsoft.Insights/metricAlerts",
        "location": "global",
        "properties": {
            "description": "",
            "severity": 2,
            "enabled": enabled,
            "scopes": [e.arm_id("Microsoft.Sql/servers", "sql1")],
            "evaluationFrequency": "PT1M",
            "windowSize": "PT5M",
            "criteria": criteria,
            "autoMitigate": True,
            "actions": [{"actionGroupId": g, "webHookProperties": {}} for g in groups],
        },
    }


def static_criteria(*names: str) -> dict[str, Any]:
    """Single-resource static-threshold criteria with one criterion per name."""
    return {
        "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
        "allOf": [
            {
                "criterionType": "StaticThresholdCriterion",
                "name": n,
                "metricName": "cpu_percent",
                "operator": "GreaterThan",
                "threshold": 80,
                "timeAggregation": "Average",
            }
            for n in names
        ],
    }


def diagnostic(resource_id: str, name: str, **props: Any) -> dict[str, Any]:
    """A diagnostic setting beneath a resource."""
    return {
        "id": f"{resource_id}/providers/Microsoft.Insights/diagnosticSettings/{name}",
        "name": name,
        "type": "Microsoft.Insights/diagnosticSettings",
        "properties": props,
    }


def assignment(sub: str, scope: str, role: str, principal: str, kind: str = "User") -> dict[str, Any]:
    """A role assignment at the given scope."""
    name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{role}|{principal}"))
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": sub_id(sub, "Microsoft.Authorization/roleDefinitions", role),
            "principalId": principal,
            "principalType": kind,
            "scope": scope,
        },
    }


def definition(
    sub: str, guid: str, role_name: str, role_type: str, *, actions: list[str], not_actions: list[str]
) -> dict[str, Any]:
    """A role definition as the subscription-scope list returns it."""
    return {
        "id": sub_id(sub, "Microsoft.Authorization/roleDefinitions", guid),
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role_name,
            "type": role_type,
            "assignableScopes": ["/"],
            "permissions": [{"actions": actions, "notActions": not_actions, "dataActions": [], "notDataActions": []}],
        },
    }


def site(
    name: str, *, https_only: bool | None, hosts: list[str], config: dict[str, Any], **props: Any
) -> dict[str, Any]:
    """An App Service site as ``web_apps.list()`` returns it."""
    ssl_states = [{"name": h, "sslState": "Disabled", "hostType": "Standard"} for h in hosts]
    ssl_states.append({"name": f"{name}.scm.azurewebsites.net", "sslState": "Disabled", "hostType": "Repository"})
    properties: dict[str, Any] = {
        "state": "Running",
        "hostNames": hosts,
        "enabledHostNames": [*hosts, f"{name}.scm.azurewebsites.net"],
        "hostNameSslStates": ssl_states,
        "siteConfig": config,
    }
    if https_only is not None:
        properties["httpsOnly"] = https_only
    return {
        "id": e.arm_id("Microsoft.Web/sites", name, group="rg-web"),
        "name": name,
        "type": "Microsoft.Web/sites",
        "kind": "app",
        "location": "East US",
        "properties": properties | props,
    }


def site_config(site_id: str, **props: Any) -> dict[str, Any]:
    """A site's ``config/web`` resource."""
    return {"id": f"{site_id}/config/web", "name": "web", "type": "Microsoft.Web/sites/config", "properties": props}


def failures(inventory: Inventory) -> list[Collection]:
    """The failed collections."""
    return [c for c in inventory.collections if not c.ok]


# --- Defender for Cloud ---------------------------------------------------------------------------


def test_security_contacts_of_both_api_shapes_are_normalised() -> None:
    new_shape = contact(
        e.SUB,
        {
            "emails": "admin@mul2.example; secops@mul2.example",
            "phone": "+1-201-555-0143",
            "isEnabled": True,
            "notificationsByRole": {"state": "On", "roles": ["Owner", "ServiceAdmin"]},
            "notificationsSources": [
                {"sourceType": "AttackPath", "minimalRiskLevel": "Critical"},
                {"sourceType": "Alert", "minimalSeverity": "Medium"},
            ],
        },
    )
    legacy_shape = contact(
        e.SUB2,
        {
            "emails": "dev@mul2.example",
            "phone": "",
            "alertNotifications": {"state": "Off", "minimalSeverity": "High"},
            "notificationsByRole": {"state": "Off", "roles": []},
        },
    )
    with serve(e.estate(new_shape, legacy_shape, subs=(e.SUB, e.SUB2))) as (endpoint, session):
        inventory = collect_inventory(session, steps=defender.STEPS)
        queries = {r.query for r in endpoint.requests if "securityContacts" in r.path}
    assert not failures(inventory)
    assert queries == {"api-version=2023-12-01-preview"}
    by_sub = {c.subscription_id: c for c in inventory.security_contacts}
    current = by_sub[e.SUB]
    assert (current.id, current.name, current.resource_group) == (new_shape["id"], "default", "")
    assert current.emails == ("admin@mul2.example", "secops@mul2.example")
    assert current.phone == "+1-201-555-0143"
    assert (current.alert_notifications, current.alert_minimal_severity) == ("On", "Medium")
    assert (current.notify_roles_state, current.notify_roles) == ("On", ("Owner", "ServiceAdmin"))
    assert current.is_enabled is True
    legacy = by_sub[e.SUB2]
    assert legacy.emails == ("dev@mul2.example",)
    assert legacy.phone is None
    assert (legacy.alert_notifications, legacy.alert_minimal_severity) == ("Off", "High")
    assert (legacy.notify_roles_state, legacy.notify_roles) == ("Off", ())
    assert legacy.is_enabled is None


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        # A disabled contact notifies no one, whatever sources it lists.
        (
            {"isEnabled": False, "notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "Low"}]},
            ("Off", "Low", False),
        ),
        # Attack-path notifications only: no alert notifications.
        ({"isEnabled": True, "notificationsSources": [{"sourceType": "AttackPath"}]}, ("Off", None, True)),
        # Nothing reported about alerts at all.
        ({"emails": "a@mul2.example"}, (None, None, None)),
    ],
)
def test_security_contact_alert_state_follows_what_azure_reported(
    properties: dict[str, Any], expected: tuple[str | None, str | None, bool | None]
) -> None:
    with serve(e.estate(contact(e.SUB, properties))) as (_, session):
        inventory = collect_inventory(session, steps=defender.STEPS)
    (found,) = inventory.security_contacts
    assert (found.alert_notifications, found.alert_minimal_severity, found.is_enabled) == expected


def test_microsofts_invalid_contacts_example_is_a_failed_collection_not_a_crash() -> None:
    body = rebase_text(raw_example_body(CONTACTS_EXAMPLE), e.SUB2)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    estate = e.estate(
        contact(e.SUB, {"emails": "admin@mul2.example", "alertNotifications": {"state": "On"}}),
        subs=(e.SUB, e.SUB2),
    )
    estate["raw"] = [
        {"path": f"/subscriptions/{e.SUB2}/providers/Microsoft.Security/securityContacts", "status": 200, "body": body}
    ]
    with serve(estate) as (_, session):
        inventory = collect_inventory(session, steps=defender.STEPS)
    (failed,) = failures(inventory)
    assert (failed.api, failed.subscription_id, failed.status_code) == (
        "Microsoft.Security/securityContacts",
        e.SUB2,
        200,
    )
    assert failed.reason.startswith("malformed response:")
    assert "securityContacts is not valid JSON" in failed.reason
    # The other subscription is unaffected and the broken one contributes no records.
    assert [c.subscription_id for c in inventory.security_contacts] == [e.SUB]


def test_microsofts_pricing_example_and_a_paged_plan_list() -> None:
    example = rebase(example_body(PRICING_EXAMPLE))
    plans = [
        example,
        pricing(e.SUB, "SqlServers", "Standard"),
        pricing(e.SUB, "StorageAccounts", "Standard", subPlan="DefenderForStorageV2"),
        pricing(e.SUB, "KeyVaults", "Free"),
        pricing(
            e.SUB,
            "Containers",
            "Standard",
            extensions=[
                {"name": "ContainerRegistriesVulnerabilityAssessments", "isEnabled": "True"},
                {"name": "AgentlessDiscoveryForKubernetes", "isEnabled": "False"},
            ],
        ),
    ]
    with serve(e.estate(*plans), page_size=2) as (endpoint, session):
        inventory = collect_inventory(session, steps=defender.STEPS)
        pages = [r for r in endpoint.requests if r.path.endswith("/pricings")]
    assert not failures(inventory)
    assert len(pages) == 3
    assert all("api-version=2024-01-01" in r.query for r in pages)
    by_name = {p.name: p for p in inventory.defender_plans}
    assert set(by_name) == {"VirtualMachines", "SqlServers", "StorageAccounts", "KeyVaults", "Containers"}
    servers = by_name["VirtualMachines"]
    assert servers.id == f"/subscriptions/{e.SUB}/providers/Microsoft.Security/pricings/VirtualMachines"
    assert (servers.subscription_id, servers.pricing_tier, servers.sub_plan) == (e.SUB, "Standard", "P2")
    assert servers.enabled_extensions == ("AgentlessVmScanning",)
    assert (by_name["SqlServers"].pricing_tier, by_name["SqlServers"].sub_plan) == ("Standard", None)
    assert by_name["KeyVaults"].pricing_tier == "Free"
    assert by_name["Containers"].enabled_extensions == ("ContainerRegistriesVulnerabilityAssessments",)


def test_forbidden_pricings_fail_for_their_subscription_only() -> None:
    fault = Fault(pattern=f"/subscriptions/{e.SUB2}/providers/Microsoft.Security/pricings", status=403)
    estate = e.estate(pricing(e.SUB, "VirtualMachines", "Standard"), subs=(e.SUB, e.SUB2))
    with serve(estate, faults=(fault,)) as (_, session):
        inventory = collect_inventory(session, steps=defender.STEPS)
    (failed,) = failures(inventory)
    assert (failed.api, failed.subscription_id, failed.status_code, failed.error_code) == (
        "Microsoft.Security/pricings",
        e.SUB2,
        403,
        "AuthorizationFailed",
    )
    assert [p.subscription_id for p in inventory.defender_plans] == [e.SUB]


def test_a_plan_list_whose_next_link_leaves_the_endpoint_is_refused() -> None:
    estate = e.estate()
    page = {"value": [pricing(e.SUB, "VirtualMachines", "Standard")], "nextLink": "https://attacker.invalid/p?x=1"}
    estate["raw"] = [
        {"path": f"/subscriptions/{e.SUB}/providers/Microsoft.Security/pricings", "body": json.dumps(page)}
    ]
    with serve(estate) as (endpoint, session):
        inventory = collect_inventory(session, steps=defender.STEPS)
        paths = [r.path for r in endpoint.requests]
    (failed,) = failures(inventory)
    assert failed.api == "Microsoft.Security/pricings"
    assert "attacker.invalid" in failed.reason and "only https://127.0.0.1" in failed.reason
    # The first page alone is not reported as the subscription's plans.
    assert inventory.defender_plans == ()
    assert paths.count(f"/subscriptions/{e.SUB}/providers/Microsoft.Security/pricings") == 1


# --- Monitor --------------------------------------------------------------------------------------


def monitor_estate() -> dict[str, Any]:
    """Action groups, activity-log alerts and metric alerts in one subscription."""
    mail = action_group(
        "ag-mail",
        emails=(("admin@mul2.example", "Enabled"), ("left@mul2.example", "Disabled")),
        sms=1,
    )
    hook = action_group("ag-hook", hooks=2, enabled=False)
    quiet = action_group("ag-quiet")
    return e.estate(
        mail,
        hook,
        quiet,
        activity_alert(
            "ala-nsg",
            [
                {"field": "category", "equals": "Administrative"},
                {"field": "operationName", "equals": "Microsoft.Network/networkSecurityGroups/write"},
            ],
            (mail["id"], hook["id"]),
        ),
        activity_alert(
            "ala-health",
            [
                {"field": "category", "equals": "ServiceHealth"},
                {"field": "properties.incidentType", "containsAny": ["Incident", "Security"]},
                {
                    "anyOf": [
                        {"field": "status", "equals": "Active"},
                        {"field": "status", "equals": "Resolved"},
                    ]
                },
            ],
            (),
            enabled=False,
        ),
        activity_alert("ala-quiet", [{"field": "category", "equals": "Security"}], (quiet["id"],)),
        metric_alert("ma-cpu", static_criteria("HighCpu", "VeryHighCpu"), (mail["id"],)),
        metric_alert(
            "ma-webtest",
            {
                "odata.type": "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria",
                "webTestId": e.arm_id("Microsoft.Insights/webtests", "ping", group="rg-ops"),
                "componentId": e.arm_id("Microsoft.Insights/components", "ai", group="rg-ops"),
                "failedLocationCount": 2,
            },
            (hook["id"],),
        ),
        metric_alert("ma-disk", static_criteria("DiskFull"), (), enabled=False),
    )


def test_alert_rules_and_action_groups_across_pages() -> None:
    with serve(monitor_estate(), page_size=2) as (endpoint, session):
        inventory = collect_inventory(session, steps=MONITOR_STEPS)
        pages = Counter(r.path.rsplit("/", 1)[-1] for r in endpoint.requests)
    assert not failures(inventory)
    # Three of each at two per page: every list followed its next link.
    assert (pages["activityLogAlerts"], pages["metricAlerts"], pages["actionGroups"]) == (2, 2, 2)
    groups = {g.name: g for g in inventory.action_groups}
    mail = groups["ag-mail"]
    assert (mail.subscription_id, mail.resource_group, mail.location, mail.enabled) == (e.SUB, "rg-ops", "Global", True)
    assert mail.email_receivers == ("admin@mul2.example", "left@mul2.example")
    assert mail.disabled_email_receivers == ("left@mul2.example",)
    assert (mail.sms_receivers, mail.webhook_receivers) == (1, 0)
    hook = groups["ag-hook"]
    assert (hook.enabled, hook.email_receivers, hook.webhook_receivers) == (False, (), 2)
    assert groups["ag-quiet"].email_receivers == ()

    rules = {r.name: r for r in inventory.alert_rules}
    assert set(rules) == {"ala-nsg", "ala-health", "ala-quiet", "ma-cpu", "ma-webtest", "ma-disk"}
    nsg = rules["ala-nsg"]
    assert (nsg.kind, nsg.type, nsg.enabled) == ("activityLog", "Microsoft.Insights/activityLogAlerts", True)
    assert (nsg.subscription_id, nsg.resource_group) == (e.SUB, "rg-ops")
    assert nsg.scopes == (f"/subscriptions/{e.SUB}",)
    assert nsg.conditions == (
        "category=Administrative",
        "operationName=Microsoft.Network/networkSecurityGroups/write",
    )
    assert nsg.action_group_ids == (groups["ag-mail"].id, groups["ag-hook"].id)
    health = rules["ala-health"]
    assert health.enabled is False
    assert health.conditions == (
        "category=ServiceHealth",
        "properties.incidentType=any(Incident,Security)",
        "status=Active or status=Resolved",
    )
    assert health.action_group_ids == ()
    cpu = rules["ma-cpu"]
    assert (cpu.kind, cpu.type, cpu.enabled) == ("metric", "Microsoft.Insights/metricAlerts", True)
    assert cpu.conditions == ("HighCpu", "VeryHighCpu")
    assert cpu.scopes == (e.arm_id("Microsoft.Sql/servers", "sql1"),)
    assert cpu.action_group_ids == (groups["ag-mail"].id,)
    webtest = rules["ma-webtest"]
    assert webtest.conditions == (f"webTestId={e.arm_id('Microsoft.Insights/webtests', 'ping', group='rg-ops')}",)
    assert rules["ma-disk"].enabled is False


def test_forbidden_activity_log_alerts_do_not_hide_metric_alerts() -> None:
    fault = Fault(pattern=r"/providers/Microsoft\.Insights/activityLogAlerts$", status=403)
    with serve(monitor_estate(), faults=(fault,)) as (_, session):
        inventory = collect_inventory(session, steps=MONITOR_STEPS)
    (failed,) = failures(inventory)
    assert (failed.api, failed.status_code, failed.error_code) == (
        "Microsoft.Insights/activityLogAlerts",
        403,
        "AuthorizationFailed",
    )
    assert {r.kind for r in inventory.alert_rules} == {"metric"}


def test_key_vault_diagnostic_settings_per_vault_with_microsofts_example() -> None:
    logged, silent, broken = e.vault("kv-logged"), e.vault("kv-silent"), e.vault("kv-broken")
    example = rebase(example_body(DIAGNOSTIC_EXAMPLE))
    example["id"] = f"{logged['id']}/providers/microsoft.insights/diagnosticSettings/mysetting"
    audit_only = diagnostic(
        logged["id"],
        "to-workspace",
        workspaceId=e.arm_id("Microsoft.OperationalInsights/workspaces", "law", group="rg-ops"),
        logs=[
            {"category": "AuditEvent", "enabled": True},
            {"category": "AzurePolicyEvaluationDetails", "enabled": False},
        ],
        metrics=[{"category": "AllMetrics", "enabled": True}],
    )
    fault = Fault(pattern=r"/vaults/kv-broken/providers/Microsoft\.Insights/diagnosticSettings$", status=500)
    estate = e.estate(logged, silent, broken, example, audit_only)
    with serve(estate, faults=(fault,)) as (endpoint, session):
        inventory = collect_inventory(session, steps=MONITOR_STEPS)
        diagnostic_calls = {r.path for r in endpoint.requests if r.path.endswith("/diagnosticSettings")}
    assert diagnostic_calls == {
        f"{v['id']}/providers/Microsoft.Insights/diagnosticSettings" for v in (logged, silent, broken)
    }
    (failed,) = failures(inventory)
    assert (failed.api, failed.subscription_id, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.Insights/diagnosticSettings",
        e.SUB,
        broken["id"],
        500,
        "InternalServerError",
    )
    settings = {s.name: s for s in inventory.diagnostic_settings}
    assert set(settings) == {"mysetting", "to-workspace"}
    microsoft = settings["mysetting"]
    assert (microsoft.id, microsoft.resource_id, microsoft.subscription_id) == (example["id"], logged["id"], e.SUB)
    assert microsoft.resource_group == "rg-keys"
    assert microsoft.enabled_log_categories == ("allLogs",)
    # The example's workspaceId is "": no Log Analytics destination.
    assert microsoft.workspace_id is None
    assert microsoft.storage_account_id is not None and microsoft.storage_account_id.endswith("/appteststorage1")
    assert microsoft.event_hub_rule_id is not None and microsoft.event_hub_rule_id.endswith(
        "/authorizationrules/myrule"
    )
    workspace = settings["to-workspace"]
    assert workspace.enabled_log_categories == ("AuditEvent",)
    assert workspace.workspace_id == e.arm_id("Microsoft.OperationalInsights/workspaces", "law", group="rg-ops")
    assert (workspace.storage_account_id, workspace.event_hub_rule_id) == (None, None)


# --- Authorization --------------------------------------------------------------------------------


def test_role_assignments_at_every_scope_and_role_definitions() -> None:
    group_scope = f"/subscriptions/{e.SUB}/resourceGroups/rg-app"
    owner = assignment(e.SUB, f"/subscriptions/{e.SUB}", OWNER, "p-owner")
    group_contributor = assignment(e.SUB, group_scope, CONTRIBUTOR, "p-sp", "ServicePrincipal")
    reader = assignment(e.SUB, f"/subscriptions/{e.SUB}", READER, "p-group", "Group")
    custom_guid = "99999999-0000-0000-0000-000000000001"
    definitions = [
        definition(e.SUB, OWNER, "Owner", "BuiltInRole", actions=["*"], not_actions=[]),
        definition(
            e.SUB,
            CONTRIBUTOR,
            "Contributor",
            "BuiltInRole",
            actions=["*"],
            not_actions=["Microsoft.Authorization/*/Write"],
        ),
        definition(e.SUB, READER, "Reader", "BuiltInRole", actions=["*/read"], not_actions=[]),
        definition(
            e.SUB,
            custom_guid,
            "Ops Admin",
            "CustomRole",
            actions=["Microsoft.Authorization/*", "*/read"],
            not_actions=[],
        ),
    ]
    with serve(e.estate(owner, group_contributor, reader, *definitions), page_size=2) as (_, session):
        inventory = collect_inventory(session, steps=authorization.STEPS)
    assert not failures(inventory)
    by_principal = {a.principal_id: a for a in inventory.role_assignments}
    assert set(by_principal) == {"p-owner", "p-sp", "p-group"}
    top = by_principal["p-owner"]
    assert (top.id, top.name, top.subscription_id) == (owner["id"], owner["name"], e.SUB)
    assert (top.scope, top.resource_group, top.principal_type) == (f"/subscriptions/{e.SUB}", "", "User")
    assert top.role_guid == OWNER
    scoped = by_principal["p-sp"]
    assert (scoped.scope, scoped.resource_group, scoped.principal_type) == (group_scope, "rg-app", "ServicePrincipal")
    assert scoped.role_definition_id == sub_id(e.SUB, "Microsoft.Authorization/roleDefinitions", CONTRIBUTOR)
    roles = {d.guid: d for d in inventory.role_definitions}
    assert {g: (d.role_name, d.role_type) for g, d in roles.items()} == {
        OWNER: ("Owner", "BuiltInRole"),
        CONTRIBUTOR: ("Contributor", "BuiltInRole"),
        READER: ("Reader", "BuiltInRole"),
        custom_guid: ("Ops Admin", "CustomRole"),
    }
    assert roles[CONTRIBUTOR].not_actions == ("Microsoft.Authorization/*/Write",)
    assert roles[custom_guid].actions == ("Microsoft.Authorization/*", "*/read")
    assert all(d.subscription_id == e.SUB for d in roles.values())


def test_inherited_management_group_assignment_keeps_its_scope() -> None:
    group_scope = "/providers/Microsoft.Management/managementGroups/mg-root"
    inherited = assignment(e.SUB, group_scope, OWNER, "p-mg")
    local = assignment(e.SUB, f"/subscriptions/{e.SUB}", READER, "p-local")
    estate = e.estate(definition(e.SUB, OWNER, "Owner", "BuiltInRole", actions=["*"], not_actions=[]))
    # ARM answers the subscription's list with inherited assignments too; the endpoint serves that body as is.
    estate["raw"] = [
        {
            "path": f"/subscriptions/{e.SUB}/providers/Microsoft.Authorization/roleAssignments",
            "status": 200,
            "body": json.dumps({"value": [inherited, local]}),
        }
    ]
    with serve(estate) as (_, session):
        inventory = collect_inventory(session, steps=authorization.STEPS)
    assert not failures(inventory)
    by_principal = {a.principal_id: a for a in inventory.role_assignments}
    mg = by_principal["p-mg"]
    assert (mg.scope, mg.subscription_id, mg.resource_group) == (group_scope, e.SUB, "")
    assert mg.id == inherited["id"]
    assert by_principal["p-local"].scope == f"/subscriptions/{e.SUB}"


def test_forbidden_role_definitions_are_a_failed_collection() -> None:
    fault = Fault(pattern="/roleDefinitions", status=403)
    estate = e.estate(assignment(e.SUB, f"/subscriptions/{e.SUB}", OWNER, "p-owner"))
    with serve(estate, faults=(fault,)) as (_, session):
        inventory = collect_inventory(session, steps=authorization.STEPS)
    (failed,) = failures(inventory)
    assert (failed.api, failed.status_code, failed.error_code) == (
        "Microsoft.Authorization/roleDefinitions",
        403,
        "AuthorizationFailed",
    )
    assert len(inventory.role_assignments) == 1


# --- App Service ----------------------------------------------------------------------------------


def test_web_apps_read_configuration_only_where_the_list_lacks_tls() -> None:
    listed = site(
        "app-listed",
        https_only=True,
        hosts=["app-listed.azurewebsites.net"],
        config={"minTlsVersion": "1.2", "ftpsState": "Disabled"},
    )
    custom = site(
        "app-custom",
        https_only=False,
        hosts=["app-custom.azurewebsites.net", "www.mul2.example", "api.mul2.example"],
        config={"numberOfWorkers": 1},
    )
    unreported = site("app-bare", https_only=None, hosts=["app-bare.azurewebsites.net"], config={})
    denied = site("app-denied", https_only=True, hosts=["denied.mul2.example"], config={})
    estate = e.estate(
        listed,
        custom,
        unreported,
        denied,
        site_config(custom["id"], minTlsVersion="1.0", ftpsState="AllAllowed"),
        site_config(unreported["id"], numberOfWorkers=1),
        site_config(denied["id"], minTlsVersion="1.2"),
    )
    fault = Fault(pattern=r"/sites/app-denied/config/web$", status=403)
    with serve(estate, page_size=2, faults=(fault,)) as (endpoint, session):
        inventory = collect_inventory(session, steps=web.STEPS)
        config_calls = sorted(r.path for r in endpoint.requests if r.path.endswith("/config/web"))
    assert config_calls == sorted(f"{s['id']}/config/web" for s in (custom, unreported, denied))
    (failed,) = failures(inventory)
    assert (failed.api, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.Web/sites/config",
        denied["id"],
        403,
        "AuthorizationFailed",
    )
    apps = {a.name: a for a in inventory.web_apps}
    assert set(apps) == {"app-listed", "app-custom", "app-bare", "app-denied"}
    first = apps["app-listed"]
    assert (first.subscription_id, first.resource_group, first.location, first.kind) == (
        e.SUB,
        "rg-web",
        "East US",
        "app",
    )
    assert (first.https_only, first.min_tls_version, first.ftps_state) == (True, "1.2", "Disabled")
    assert (first.host_names, first.custom_host_names) == (("app-listed.azurewebsites.net",), ())
    second = apps["app-custom"]
    assert (second.https_only, second.min_tls_version, second.ftps_state) == (False, "1.0", "AllAllowed")
    assert second.host_names == ("app-custom.azurewebsites.net", "www.mul2.example", "api.mul2.example")
    assert second.custom_host_names == ("www.mul2.example", "api.mul2.example")
    bare = apps["app-bare"]
    assert (bare.https_only, bare.min_tls_version, bare.ftps_state) == (None, None, None)
    # The configuration could not be read: the site stays, its TLS settings unknown.
    assert (apps["app-denied"].min_tls_version, apps["app-denied"].custom_host_names) == (
        None,
        ("denied.mul2.example",),
    )


# --- the demo estate ------------------------------------------------------------------------------


def test_demo_estate_records() -> None:
    estate = json.loads(demo_estate_path().read_text(encoding="utf-8"))
    steps = keyvault.STEPS + defender.STEPS + monitor.STEPS + authorization.STEPS + web.STEPS
    with serve(estate, page_size=3) as (_, session):
        inventory = collect_inventory(session, steps=steps)
    assert not failures(inventory)
    prod, staging = (s["subscriptionId"] for s in estate["subscriptions"])
    contacts = {c.subscription_id: c for c in inventory.security_contacts}
    assert contacts[prod].emails == ("mul2-admin@mul2demo.onmicrosoft.com", "secops@mul2demo.onmicrosoft.com")
    assert (contacts[prod].alert_notifications, contacts[prod].alert_minimal_severity) == ("On", "Low")
    assert (contacts[prod].notify_roles_state, contacts[prod].notify_roles) == ("On", ("Owner",))
    assert (contacts[staging].alert_minimal_severity, contacts[staging].notify_roles_state) == ("High", "Off")
    tiers = {(p.subscription_id, p.name): p.pricing_tier for p in inventory.defender_plans}
    assert len(tiers) == 10
    assert (tiers[(prod, "VirtualMachines")], tiers[(staging, "VirtualMachines")]) == ("Standard", "Free")
    assert {(r.name, r.enabled) for r in inventory.alert_rules} == {
        ("ala-mul2-prod-nsg-rule-change", True),
        ("ala-mul2-prod-security-alerts", True),
        ("ala-mul2-stg-service-health", False),
    }
    groups = {g.name: g for g in inventory.action_groups}
    assert groups["ag-mul2-prod-secops"].email_receivers == (
        "mul2-admin@mul2demo.onmicrosoft.com",
        "secops@mul2demo.onmicrosoft.com",
    )
    assert (groups["ag-mul2-stg-devops"].email_receivers, groups["ag-mul2-stg-devops"].webhook_receivers) == ((), 1)
    assert len(inventory.role_assignments) == 12
    assert {a.resource_group for a in inventory.role_assignments} == {
        "",
        "rg-mul2-backup",
        "rg-mul2-prod-app",
        "rg-mul2-stg-app",
    }
    assert {(d.subscription_id, d.role_name) for d in inventory.role_definitions} == {
        (sub, name)
        for sub in (prod, staging)
        for name in ("Owner", "Contributor", "Reader", "User Access Administrator")
    }
    assert {a.name for a in inventory.web_apps} == {"app-mul2-prod-portal", "app-mul2-stg-portal"}
    assert inventory.diagnostic_settings == ()
