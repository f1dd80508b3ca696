"""Authorization collector: role assignments and definitions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import resource_group_of
from auditor.collect.base import (
    UNKNOWN,
    Field,
    Listing,
    Reader,
    arm_pipeline,
    build_all,
    list_objects,
    path,
    resource_id,
)
from auditor.collect.clients import AUTHORIZATION_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.identity import RoleAssignment, RoleDefinition

# The api-version azure-mgmt-authorization 4.0 sends for both lists.
API_VERSION = "2022-04-01"
ASSIGNMENTS_API = "Microsoft.Authorization/roleAssignments"
DEFINITIONS_API = "Microsoft.Authorization/roleDefinitions"

# https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-subscription
ASSIGNMENT_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.scope", True),
    Field("properties.roleDefinitionId", True),
    Field("properties.principalId", True),
    Field("properties.principalType", False, UNKNOWN),
)
# https://learn.microsoft.com/rest/api/authorization/role-definitions/list
DEFINITION_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.roleName", True),
    Field("properties.type", True),
    Field("properties.permissions[].actions", False, "no actions"),
    Field("properties.permissions[].notActions", False, "no exclusions"),
)


def _pipeline(session: AzureSession, subscription_id: str) -> Any:
    return arm_pipeline(session, AUTHORIZATION_CLIENT, subscription_id)


def role_assignment(raw: Mapping[str, Any], subscription_id: str) -> RoleAssignment:
    """A role assignment; its scope is kept as Azure gives it (subscription, group, resource or inherited)."""
    assignment = Reader(raw)
    scope = assignment.text("properties.scope") or ""
    return RoleAssignment(
        id=resource_id(assignment, f"/subscriptions/{subscription_id}", ASSIGNMENTS_API),
        name=assignment.text("name") or "",
        subscription_id=subscription_id,
        scope=scope,
        role_definition_id=assignment.text("properties.roleDefinitionId") or "",
        principal_id=assignment.text("properties.principalId") or "",
        principal_type=assignment.text("properties.principalType"),
        resource_group=resource_group_of(scope),
    )


def role_definition(raw: Mapping[str, Any], subscription_id: str) -> RoleDefinition:
    """A role definition with its type (BuiltInRole or CustomRole) and control-plane actions."""
    definition = Reader(raw)
    permissions = definition.items("properties.permissions")
    return RoleDefinition(
        id=resource_id(definition, f"/subscriptions/{subscription_id}", DEFINITIONS_API),
        name=definition.text("name") or "",
        role_name=definition.text("properties.roleName") or "",
        role_type=definition.text("properties.type"),
        subscription_id=subscription_id,
        actions=tuple(a for p in permissions for a in p.strings("actions")),
        not_actions=tuple(a for p in permissions for a in p.strings("notActions")),
    )


def list_role_assignments(session: AzureSession, subscription_id: str) -> Iterator[RoleAssignment]:
    """Every assignment that applies at or below the subscription, inherited ones included."""
    url = path("/subscriptions/{}/providers/" + ASSIGNMENTS_API, subscription_id, api_version=API_VERSION)
    return build_all(
        list_objects(_pipeline(session, subscription_id), session.arm_url, url), role_assignment, subscription_id
    )


def list_role_definitions(session: AzureSession, subscription_id: str) -> Iterator[RoleDefinition]:
    """Every role definition usable in the subscription, built-in ones included."""
    url = path("/subscriptions/{}/providers/" + DEFINITIONS_API, subscription_id, api_version=API_VERSION)
    return build_all(
        list_objects(_pipeline(session, subscription_id), session.arm_url, url), role_definition, subscription_id
    )


STEPS = (
    Listing(ASSIGNMENTS_API, "role_assignments", list_role_assignments),
    Listing(DEFINITIONS_API, "role_definitions", list_role_definitions),
)
