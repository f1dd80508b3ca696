"""Records and small runners for the identity rules' tests (IAM-01: test_checks_entra, IAM-02: test_checks_roles)."""

from __future__ import annotations

from typing import Any

from auditor.checks.entra import MANAGEMENT_APP_ID, management_mfa_enforced, privileged_user_mfa_registration
from auditor.checks.roles import privileged_role_holders
from auditor.inventory import Subscription
from auditor.model import CheckResult
from auditor.parameters import Params
from auditor.records.identity import (
    ConditionalAccessPolicy,
    DirectoryRoleAssignment,
    DirectoryRoleDefinition,
    DirectoryRoleEligibility,
    GroupMember,
    GroupMembership,
    RoleAssignment,
    RoleDefinition,
    RoleEligibility,
    SecurityDefaults,
    UserRegistration,
)
from tests.builders import SUB, make_inventory, results

SUB_ID = f"/subscriptions/{SUB}"
RG_SCOPE = f"{SUB_ID}/resourceGroups/rg-app"
MG_SCOPE = "/providers/Microsoft.Management/managementGroups/mul2"

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER_ACCESS_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
CUSTOM = "11111111-2222-3333-4444-555555555555"

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
SECURITY_ADMIN = "194ae4cb-b126-40b2-bd5b-6091b380977d"
HELPDESK_ADMIN = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
PRIVILEGED_ROLE_ADMIN = "e8611ab8-c189-46e8-94e1-60213ab1f814"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
REPORTS_READER = "4a5d8f65-41da-4de4-8968-e035b65339cf"
UNMARKED_ROLE = "0f971eea-41eb-4569-a71e-57bb8a3eff1e"

BREAK_GLASS = "5c22c469-63e9-48fd-a4d4-748ca3c77ebf"
BREAK_GLASS_UPN = "breakglass01@contoso.example"
ADMIN = "e2a214e8-bbe9-4675-9d52-490575ffc53d"
OTHER = "b2609a0b-dd2b-4550-8c65-6018eee38dc1"
APP = "e08137f3-3a08-4ec9-9f95-e90587134be1"
GROUP = "6b881677-6b5a-4b73-a944-72d1a7d32946"

TENANT_PARAMS = Params({"break_glass_accounts": (BREAK_GLASS,)})
HOLDER_PARAMS = Params({"max_privileged_principals": 4, "allowed_owner_principals": ()})


# --- builders -----------------------------------------------------------------------------------


def make_role_definition(role: str, name: str, privileged: bool | None = True) -> DirectoryRoleDefinition:
    """A built-in directory role definition with Microsoft's isPrivileged marking."""
    return DirectoryRoleDefinition(role, name, role, True, privileged)


# Marked as Microsoft marks them (the beta roleDefinitions listing).
DIRECTORY_DEFINITIONS = (
    make_role_definition(GLOBAL_ADMIN, "Global Administrator"),
    make_role_definition(PRIVILEGED_ROLE_ADMIN, "Privileged Role Administrator"),
    make_role_definition(SECURITY_ADMIN, "Security Administrator"),
    make_role_definition(USER_ADMIN, "User Administrator"),
    make_role_definition(HELPDESK_ADMIN, "Helpdesk Administrator"),
    make_role_definition(REPORTS_READER, "Reports Reader", privileged=False),
)
PRIVILEGED_TEMPLATE_IDS = tuple(d.id for d in DIRECTORY_DEFINITIONS if d.is_privileged)


def make_policy(**changes: Any) -> ConditionalAccessPolicy:
    """An enabled policy requiring MFA for the Azure management app for All users but the break-glass one."""
    values: dict[str, Any] = {
        "id": "c5f75fec-d903-480a-b37c-12a805814def",
        "display_name": "CA001: Require MFA for Azure management",
        "state": "enabled",
        "include_users": ("All",),
        "exclude_users": (BREAK_GLASS,),
        "include_applications": (MANAGEMENT_APP_ID,),
        "grant_operator": "OR",
        "built_in_controls": ("mfa",),
    } | changes
    return ConditionalAccessPolicy(**values)


def make_defaults(enabled: bool | None = False) -> SecurityDefaults:
    """The tenant's security defaults policy."""
    return SecurityDefaults("00000000-0000-0000-0000-000000000005", enabled)


def make_user(
    object_id: str = ADMIN,
    upn: str = "dana.ortiz@contoso.example",
    *,
    mfa: bool | None = True,
    user_type: str | None = "member",
) -> UserRegistration:
    """A user's registration details."""
    methods = ("microsoftAuthenticatorPush",) if mfa else ()
    return UserRegistration(object_id, upn, upn.split("@", maxsplit=1)[0].title(), user_type, True, mfa, methods)


def make_directory_role(
    principal: str = ADMIN, role: str = GLOBAL_ADMIN, principal_type: str | None = None
) -> DirectoryRoleAssignment:
    """An active directory role assignment at tenant scope."""
    return DirectoryRoleAssignment(f"{role}-{principal}", principal, role, "/", principal_type)


def make_directory_eligibility(principal: str = ADMIN, role: str = GLOBAL_ADMIN) -> DirectoryRoleEligibility:
    """A PIM eligibility for a directory role at tenant scope."""
    return DirectoryRoleEligibility(f"{role}-{principal}-e", principal, role, "/", "user", "Direct")


def make_eligibility(
    principal: str = ADMIN, role: str = OWNER, *, principal_type: str | None = "User", **changes: Any
) -> RoleEligibility:
    """A PIM eligibility for an Azure role on the test subscription."""
    values: dict[str, Any] = {
        "id": f"{SUB_ID}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/{role[:8]}-{principal[:8]}",
        "name": f"{role[:8]}-{principal[:8]}",
        "subscription_id": SUB,
        "scope": SUB_ID,
        "role_definition_id": f"{SUB_ID}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        "principal_id": principal,
        "principal_type": principal_type,
        "member_type": "Direct",
    } | changes
    return RoleEligibility(**values)


def make_membership(group: str = GROUP, *members: tuple[str, str | None]) -> GroupMembership:
    """A group's transitive members as (object id, Graph kind) pairs."""
    return GroupMembership(f"/groups/{group}", group, tuple(GroupMember(m, kind) for m, kind in members))


def make_assignment(
    principal: str = ADMIN,
    role: str = OWNER,
    *,
    scope: str = SUB_ID,
    principal_type: str | None = "User",
    subscription_id: str = SUB,
) -> RoleAssignment:
    """An Azure role assignment listed for the subscription."""
    name = f"{role[:8]}-{principal[:8]}-{len(scope)}"
    return RoleAssignment(
        id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        name=name,
        subscription_id=subscription_id,
        scope=scope,
        role_definition_id=f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        principal_id=principal,
        principal_type=principal_type,
    )


def make_definition(
    guid: str = CUSTOM,
    name: str = "MUL2 Operator",
    actions: tuple[str, ...] = ("*",),
    not_actions: tuple[str, ...] = (),
    role_type: str | None = "CustomRole",
) -> RoleDefinition:
    """A role definition listed for the subscription."""
    return RoleDefinition(
        id=f"{SUB_ID}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        name=guid,
        role_name=name,
        role_type=role_type,
        subscription_id=SUB,
        actions=actions,
        not_actions=not_actions,
    )


def make_subscription(subscription_id: str = SUB) -> Subscription:
    """A subscription the scan listed."""
    return Subscription(subscription_id, "MUL2 Test", "Enabled")


def tenant_verdict(
    *policies: ConditionalAccessPolicy,
    defaults: SecurityDefaults | None = None,
    users: tuple[UserRegistration, ...] = (),
    params: Params = TENANT_PARAMS,
    definitions: tuple[DirectoryRoleDefinition, ...] = DIRECTORY_DEFINITIONS,
) -> CheckResult:
    """The one tenant result of management_mfa_enforced."""
    inventory = make_inventory(
        security_defaults=[defaults] if defaults is not None else [],
        conditional_access_policies=policies,
        user_registrations=users,
        directory_role_definitions=definitions,
    )
    (result,) = results(management_mfa_enforced, inventory, params)
    return result


def holder_results(**records: Any) -> dict[str, CheckResult]:
    """Results of privileged_user_mfa_registration keyed by the last segment of the resource id."""
    records.setdefault("directory_role_definitions", DIRECTORY_DEFINITIONS)
    found = results(privileged_user_mfa_registration, make_inventory(**records), Params({}))
    return {r.resource_id.rsplit("/", 1)[-1]: r for r in found}


def subscription_verdict(
    *assignments: RoleAssignment,
    users: tuple[UserRegistration, ...] = (),
    definitions: tuple[RoleDefinition, ...] = (),
    params: Params = HOLDER_PARAMS,
) -> CheckResult:
    """The one result of privileged_role_holders for the test subscription."""
    inventory = make_inventory(
        subscriptions=[make_subscription()],
        role_assignments=assignments,
        role_definitions=definitions,
        user_registrations=users,
    )
    (result,) = results(privileged_role_holders, inventory, params)
    return result


MEMBERS = tuple(make_user(f"0000000{i}-0000-0000-0000-00000000000{i}", f"user{i}@contoso.example") for i in range(6))
GUEST_BY_TYPE = make_user("aaaaaaaa-0000-0000-0000-000000000001", "r.alvarez@contoso.example", user_type="Guest")
GUEST_BY_UPN = make_user(
    "aaaaaaaa-0000-0000-0000-000000000002", "r.alvarez_fabrikam.example#EXT#@contoso.example", user_type=None
)
ALL_USERS = (*MEMBERS, GUEST_BY_TYPE, GUEST_BY_UPN)


def member(index: int, role: str = OWNER, **kwargs: Any) -> RoleAssignment:
    """An assignment to one of the member users."""
    return make_assignment(MEMBERS[index].id, role, **kwargs)


def holders_verdict(*assignments: RoleAssignment, **kwargs: Any) -> CheckResult:
    """privileged_role_holders with every test user in the registration report."""
    return subscription_verdict(*assignments, users=ALL_USERS, **kwargs)


def eligible_verdict(*eligibilities: RoleEligibility, **records: Any) -> CheckResult:
    """privileged_role_holders over PIM eligibilities (and any other records) of the test subscription."""
    inventory = make_inventory(
        subscriptions=[make_subscription()], role_eligibilities=eligibilities, user_registrations=ALL_USERS, **records
    )
    (result,) = results(privileged_role_holders, inventory, HOLDER_PARAMS)
    return result
