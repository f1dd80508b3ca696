"""IAM-02 (privileged_role_holders) through the live door and the IaC door: one case table, the same verdicts.

In code the rule judges one role assignment on what it alone shows (its role, principal and scope); the
live door here judges the same single assignment, built by the collector from the JSON ARM lists. How many
principals hold privileged roles per subscription, and whether a user is a guest, stay with the live scan
of the whole subscription (tests/test_checks_roles.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import builtin_registry
from auditor.checks.roles import DeclaredAssignment
from auditor.collect.authorization import role_assignment
from auditor.iac.runner import run_checkov
from auditor.model import Status
from tests.parity import RESOURCE_GROUP, SUBSCRIPTION, Case, assert_parity, iac_doors, live_door, params

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER_ACCESS_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CUSTOM = "11111111-2222-3333-4444-555555555555"
APP = "e08137f3-3a08-4ec9-9f95-e90587134be1"
USER = "e2a214e8-bbe9-4675-9d52-490575ffc53d"
GROUP = "6b881677-6b5a-4b73-a944-72d1a7d32946"

GROUP_SCOPE = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
ROLE_NAMES = {OWNER: "Owner", CONTRIBUTOR: "Contributor", USER_ACCESS_ADMIN: "User Access Administrator"}


def role_definition_id(role: str) -> str:
    """The subscription-scoped id ARM gives an assignment's role definition."""
    return f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def assignment_json(name: str, role: str, principal: str, principal_type: str | None) -> dict[str, Any]:
    """An assignment as ARM lists it (shape of Microsoft's RoleAssignments_ListForSubscription example)."""
    properties: dict[str, Any] = {
        "roleDefinitionId": role_definition_id(role),
        "principalId": principal,
        "scope": GROUP_SCOPE,
    }
    if principal_type is not None:
        properties["principalType"] = principal_type
    return {
        "id": f"{GROUP_SCOPE}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": properties,
    }


def terraform(name: str, role: str, principal: str, principal_type: str | None, *, by_name: bool = True) -> str:
    """An azurerm_role_assignment on the parity resource group (the role by name, or by id)."""
    role_line = (
        f'role_definition_name = "{ROLE_NAMES[role]}"'
        if by_name and role in ROLE_NAMES
        else f'role_definition_id = "{role_definition_id(role)}"'
    )
    type_line = f'\n  principal_type = "{principal_type}"' if principal_type else ""
    return (
        f'resource "azurerm_resource_group" "parity" {{\n  name = "{RESOURCE_GROUP}"\n  location = "eastus"\n}}\n'
        f'resource "azurerm_role_assignment" "{name}" {{\n  scope = azurerm_resource_group.parity.id\n'
        f'  {role_line}\n  principal_id = "{principal}"{type_line}\n}}\n'
    )


def template(name: str, role: str, principal: str, principal_type: str | None) -> dict[str, Any]:
    """The ARM template resource of the same assignment, deployed to the resource group (no scope property)."""
    properties: dict[str, Any] = {
        "roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{role}')]",
        "principalId": principal,
    }
    if principal_type is not None:
        properties["principalType"] = principal_type
    return {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": name,
        "properties": properties,
    }


def case(
    name: str,
    expected: Status,
    role: str,
    principal: str,
    principal_type: str | None,
    *,
    by_name: bool = True,
    params: Mapping[str, str] | None = None,
) -> Case:
    """One assignment written the three ways."""
    return Case(
        name,
        expected,
        assignment_json(name, role, principal, principal_type),
        terraform(name, role, principal, principal_type, by_name=by_name),
        template(name, role, principal, principal_type),
        params=params or {},
    )


CASES = (
    case("sp-contributor", Status.PASS, CONTRIBUTOR, APP, "ServicePrincipal"),
    case("sp-user-access-admin-by-id", Status.PASS, USER_ACCESS_ADMIN, APP, "ServicePrincipal", by_name=False),
    case("sp-owner", Status.FAIL, OWNER, APP, "ServicePrincipal"),
    case("sp-owner-by-id", Status.FAIL, OWNER, APP, "ServicePrincipal", by_name=False),
    case(
        "sp-owner-allowed",
        Status.PASS,
        OWNER,
        APP,
        "ServicePrincipal",
        params={"allowed_owner_principals": APP.upper()},
    ),
    # One assignment cannot show whether a user is a guest, nor who a group's members are.
    case("user-owner", Status.ERROR, OWNER, USER, "User"),
    case("group-contributor", Status.ERROR, CONTRIBUTOR, GROUP, "Group"),
    case("untyped-owner", Status.ERROR, OWNER, APP, None),
)


def build(raw: Mapping[str, Any]) -> DeclaredAssignment:
    """The record a live scan builds of the assignment, judged on its own."""
    return DeclaredAssignment.of(role_assignment(raw, SUBSCRIPTION))


def test_privileged_role_holders_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("privileged_role_holders", build, CASES, tmp_path)


def test_every_verdict_in_code_says_the_count_is_left_to_the_live_scan() -> None:
    rule = builtin_registry()["privileged_role_holders"]
    for each in CASES:
        said = live_door(rule, build, each)
        if said.status is not Status.FAIL:
            assert "judged by the live scan only" in said.message, each.name


OUT_OF_SCOPE = (
    case("reader", Status.NOT_APPLICABLE, READER, USER, "User", by_name=False),
    case("custom-role", Status.NOT_APPLICABLE, CUSTOM, APP, "ServicePrincipal", by_name=False),
)


def test_other_roles_are_out_of_scope_through_every_door(tmp_path: Path) -> None:
    pytest.importorskip("checkov")
    rule = builtin_registry()["privileged_role_holders"]
    for each in OUT_OF_SCOPE:
        assert live_door(rule, build, each).status is None, each.name
    assert iac_doors(rule, OUT_OF_SCOPE, tmp_path) == {}


def test_one_resource_is_not_a_subscription_or_group_scope(tmp_path: Path) -> None:
    pytest.importorskip("checkov")
    rule = builtin_registry()["privileged_role_holders"]
    storage = f"{GROUP_SCOPE}/providers/Microsoft.Storage/storageAccounts/stparity"
    raw = assignment_json("on-storage", OWNER, APP, "ServicePrincipal")
    raw["properties"]["scope"] = storage
    code = (
        'resource "azurerm_role_assignment" "on-storage" {\n  scope = azurerm_storage_account.parity.id\n'
        f'  role_definition_name = "Owner"\n  principal_id = "{APP}"\n  principal_type = "ServicePrincipal"\n}}\n'
    )
    resource = template("on-storage", OWNER, APP, "ServicePrincipal") | {
        "scope": "Microsoft.Storage/storageAccounts/stparity"
    }
    each = Case("on-storage", Status.NOT_APPLICABLE, raw, code, resource)
    assert live_door(rule, build, each).status is None
    assert iac_doors(rule, [each], tmp_path) == {}


def test_values_left_to_deployment_are_errors_in_code(tmp_path: Path) -> None:
    pytest.importorskip("checkov")
    rule = builtin_registry()["privileged_role_holders"]
    identity = "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-app')).principalId]"
    left_open = (
        Case(
            "principal-variable",
            Status.ERROR,
            {},
            terraform("principal-variable", OWNER, APP, "ServicePrincipal").replace(f'"{APP}"', "var.principal_id"),
            template("principal-variable", OWNER, identity, "ServicePrincipal"),
        ),
        Case(
            "role-variable",
            Status.ERROR,
            {},
            terraform("role-variable", OWNER, APP, "ServicePrincipal").replace('"Owner"', "var.role"),
            template("role-variable", OWNER, APP, "ServicePrincipal")
            | {"properties": {"roleDefinitionId": "[parameters('role')]", "principalId": APP}},
        ),
    )
    found = iac_doors(rule, left_open, tmp_path)
    assert {(name, door.status) for (name, _), door in found.items()} == {
        ("principal-variable", Status.ERROR),
        ("role-variable", Status.ERROR),
    }
    assert len(found) == 4
    messages = json.dumps({f"{name} {language}": door.message for (name, language), door in found.items()})
    assert "var.principal_id" in messages
    assert "userAssignedIdentities" in messages
    assert "var.role" in messages
    assert "parameters('role')" in messages


BICEP = f"""
param app string = '{APP}'
param admin string
resource stg 'Microsoft.Storage/storageAccounts@2023-01-01' existing = {{
  name: 'stparity'
}}
resource spOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {{
  name: guid(resourceGroup().id, app, 'owner')
  properties: {{
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{OWNER}')
    principalId: app
    principalType: 'ServicePrincipal'
  }}
}}
resource spContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {{
  name: guid(resourceGroup().id, app, 'contributor')
  properties: {{
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{CONTRIBUTOR}')
    principalId: app
    principalType: 'ServicePrincipal'
  }}
}}
resource adminOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {{
  name: guid(resourceGroup().id, admin, 'owner')
  properties: {{
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{OWNER}')
    principalId: admin
  }}
}}
resource onStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {{
  name: guid(stg.id, app, 'owner')
  scope: stg
  properties: {{
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{OWNER}')
    principalId: app
    principalType: 'ServicePrincipal'
  }}
}}
"""


def test_bicep_assignments_get_the_verdicts_of_the_same_assignments_live(tmp_path: Path) -> None:
    pytest.importorskip("checkov")
    rule = builtin_registry()["privileged_role_holders"]
    (tmp_path / "main.bicep").write_text(BICEP, encoding="utf-8")
    run = run_checkov([tmp_path], [rule.spec.iac_id], params())
    found = {r.resource.rsplit(".", 1)[-1]: (r.verdict_status, r.verdict_message) for r in run.records}
    cases = {c.name: c for c in CASES}
    live = {
        name: live_door(rule, build, cases[case])
        for name, case in (("spOwner", "sp-owner"), ("spContributor", "sp-contributor"))
    }
    assert found["spOwner"] == (Status.FAIL.value, live["spOwner"].message)
    assert found["spContributor"] == (Status.PASS.value, live["spContributor"].message)
    # A parameter without a default is a name, not an object id; a single resource's scope is not counted.
    assert found["adminOwner"][0] == Status.ERROR.value
    assert "not an object id the code states" in str(found["adminOwner"][1])
    assert set(found) == {"spOwner", "spContributor", "adminOwner"}
