"""Authorization collector: role assignments and definitions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.mgmt.authorization import AuthorizationManagementClient

from auditor.arm_ids import resource_group_of
from auditor.collect.base import Listing, text
from auditor.collect.session import AzureSession
from auditor.records.identity import RoleAssignment, RoleDefinition


def _client(session: AzureSession, subscription_id: str) -> AuthorizationManagementClient:
    # The multi-API client's untyped constructor makes the generic factory yield Any.
    client: AuthorizationManagementClient = session.client(AuthorizationManagementClient, subscription_id)
    return client


def role_assignment(assignment: Any, subscription_id: str) -> RoleAssignment:
    """A role assignment; its scope is kept as Azure gives it (subscription, group, resource or inherited)."""
    return RoleAssignment(
        id=assignment.id,
        name=assignment.name or "",
        subscription_id=subscription_id,
        scope=assignment.scope or "",
        role_definition_id=assignment.role_definition_id or "",
        principal_id=assignment.principal_id or "",
        principal_type=text(assignment.principal_type),
        resource_group=resource_group_of(assignment.scope or ""),
    )


def role_definition(definition: Any, subscription_id: str) -> RoleDefinition:
    """A role definition with its type (BuiltInRole or CustomRole) and control-plane actions."""
    permissions = definition.permissions or ()
    return RoleDefinition(
        id=definition.id,
        name=definition.name or "",
        role_name=definition.role_name or "",
        role_type=definition.role_type,
        subscription_id=subscription_id,
        actions=tuple(a for p in permissions for a in p.actions or ()),
        not_actions=tuple(a for p in permissions for a in p.not_actions or ()),
    )


def list_role_assignments(session: AzureSession, subscription_id: str) -> Iterator[RoleAssignment]:
    """Every assignment that applies at or below the subscription, inherited ones included."""
    for assignment in _client(session, subscription_id).role_assignments.list_for_subscription():
        yield role_assignment(assignment, subscription_id)


def list_role_definitions(session: AzureSession, subscription_id: str) -> Iterator[RoleDefinition]:
    """Every role definition usable in the subscription, built-in ones included."""
    for definition in _client(session, subscription_id).role_definitions.list(
        scope=f"/subscriptions/{subscription_id}"
    ):
        yield role_definition(definition, subscription_id)


STEPS = (
    Listing("Microsoft.Authorization/roleAssignments", "role_assignments", list_role_assignments),
    Listing("Microsoft.Authorization/roleDefinitions", "role_definitions", list_role_definitions),
)
