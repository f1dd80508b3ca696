"""IAM-01 (MFA for Azure management and for every privileged holder) and IAM-02 (few privileged principals)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from auditor.checks.identity import (
    GROUP_MEMBERS_API,
    MANAGEMENT_APP_ID,
    RESOURCE_GROUPS_API,
    ROLE_ASSIGNMENTS_API,
    ROLE_DEFINITIONS_API,
    ROLE_ELIGIBILITIES_API,
    TENANT_RESOURCE_ID,
    Privilege,
    custom_role_privilege,
    management_mfa_enforced,
    privileged_role_holders,
    privileged_user_mfa_registration,
    requires_mfa,
    scope_level,
)
from auditor.inventory import Collection, Inventory, Subscription
from auditor.model import CheckResult, Status
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
from auditor.records.unreadable import Unreadable
from tests.builders import SUB, make_inventory

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
    (result,) = management_mfa_enforced(inventory, params)
    return result


def holder_results(**records: Any) -> dict[str, CheckResult]:
    """Results of privileged_user_mfa_registration keyed by the last segment of the resource id."""
    records.setdefault("directory_role_definitions", DIRECTORY_DEFINITIONS)
    results = privileged_user_mfa_registration(make_inventory(**records), Params({}))
    return {r.resource_id.rsplit("/", 1)[-1]: r for r in results}


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
    (result,) = privileged_role_holders(inventory, params)
    return result


# --- IAM-01 (a): the tenant-wide MFA requirement ------------------------------------------------

PASSING_TENANTS: dict[str, dict[str, Any]] = {
    "security defaults enabled, no policies": {"defaults": make_defaults(True)},
    "management app for All users, break-glass excluded by id": {"policies": (make_policy(),)},
    "All apps": {"policies": (make_policy(include_applications=("All",)),)},
    "no exclusions at all": {"policies": (make_policy(exclude_users=()),)},
    "authentication strength instead of mfa": {
        "policies": (make_policy(built_in_controls=(), authentication_strength="00000000-0000-0000-0000-000000000004"),)
    },
    "mfa AND compliant device": {
        "policies": (make_policy(grant_operator="AND", built_in_controls=("mfa", "compliantDevice")),)
    },
    "every privileged role instead of All users": {
        "policies": (make_policy(include_users=(), include_roles=PRIVILEGED_TEMPLATE_IDS),)
    },
    "break-glass listed by UPN, matched case-insensitively": {
        "policies": (make_policy(),),
        "users": (make_user(BREAK_GLASS, BREAK_GLASS_UPN),),
        "params": Params({"break_glass_accounts": ("BreakGlass01@Contoso.Example",)}),
    },
    "break-glass id listed in upper case": {
        "policies": (make_policy(),),
        "params": Params({"break_glass_accounts": (BREAK_GLASS.upper(),)}),
    },
    "one enforcing policy among weaker ones": {
        "policies": (make_policy(id="p2", state="enabledForReportingButNotEnforced"), make_policy()),
    },
    "security defaults not reported, but a policy enforces": {
        "policies": (make_policy(),),
        "defaults": make_defaults(None),
    },
    "state spelled in another case": {"policies": (make_policy(state="Enabled"),)},
}

FAILING_POLICIES: dict[str, tuple[ConditionalAccessPolicy, str]] = {
    "report-only": (make_policy(state="enabledForReportingButNotEnforced"), "enabledForReportingButNotEnforced"),
    "disabled": (make_policy(state="disabled"), "state disabled"),
    "state not reported": (make_policy(state=None), "state not reported"),
    "mfa OR compliant device": (
        make_policy(built_in_controls=("mfa", "compliantDevice")),
        "grant does not require MFA",
    ),
    "block instead of mfa": (make_policy(built_in_controls=("block",)), "grant does not require MFA"),
    "no grant controls": (make_policy(built_in_controls=(), grant_operator=None), "grant does not require MFA"),
    "another app only": (
        make_policy(include_applications=("00000002-0000-0ff1-ce00-000000000000",)),
        "does not cover the Azure management app",
    ),
    "All apps but the management app excluded": (
        make_policy(include_applications=("All",), exclude_applications=(MANAGEMENT_APP_ID.upper(),)),
        "does not cover the Azure management app",
    ),
    "some privileged roles only": (
        make_policy(include_users=(), include_roles=(GLOBAL_ADMIN,)),
        "Privileged Role Administrator",
    ),
    "one user only": (make_policy(include_users=(ADMIN,)), "covers neither All users"),
    "an unlisted user excluded": (make_policy(exclude_users=(BREAK_GLASS, OTHER)), f"user {OTHER}"),
    "a group excluded": (make_policy(exclude_groups=(GROUP,)), f"group {GROUP}"),
    "a role excluded": (make_policy(exclude_roles=(GLOBAL_ADMIN,)), "role Global Administrator"),
    "guests excluded": (make_policy(exclude_users=(BREAK_GLASS, "GuestsOrExternalUsers")), "GuestsOrExternalUsers"),
}


@pytest.mark.parametrize("case", PASSING_TENANTS.values(), ids=PASSING_TENANTS.keys())
def test_tenant_passes_when_mfa_is_enforced_for_azure_management(case: dict[str, Any]) -> None:
    result = tenant_verdict(
        *case.get("policies", ()),
        defaults=case.get("defaults", make_defaults(False)),
        users=case.get("users", ()),
        params=case.get("params", TENANT_PARAMS),
    )
    assert result.status is Status.PASS, result.message
    assert result.resource_id == TENANT_RESOURCE_ID


@pytest.mark.parametrize(("policy", "reason"), FAILING_POLICIES.values(), ids=FAILING_POLICIES.keys())
def test_tenant_fails_naming_the_policy_shortfall(policy: ConditionalAccessPolicy, reason: str) -> None:
    result = tenant_verdict(policy, defaults=make_defaults(False))
    assert result.status is Status.FAIL
    (judged,) = result.evidence["policies"]
    assert any(reason in problem for problem in judged["shortfalls"]), judged["shortfalls"]
    assert result.evidence["securityDefaults.isEnabled"] is False
    if requires_mfa(policy):
        # A policy that asks for MFA is a near miss: the message names it and why it falls short.
        assert policy.display_name in result.message
        assert reason in result.message


def test_tenant_without_any_policy_fails() -> None:
    result = tenant_verdict(defaults=make_defaults(False))
    assert result.status is Status.FAIL
    assert "Security defaults are disabled" in result.message
    assert "none of 0 Conditional Access policies" in result.message


def test_excluded_user_is_named_by_upn_when_the_report_has_it() -> None:
    result = tenant_verdict(
        make_policy(exclude_users=(BREAK_GLASS, OTHER)),
        defaults=make_defaults(False),
        users=(make_user(OTHER, "lee.chen@contoso.example"),),
    )
    assert result.status is Status.FAIL
    assert f"user lee.chen@contoso.example ({OTHER})" in result.message


def test_break_glass_by_upn_cannot_be_matched_without_the_registration_report() -> None:
    params = Params({"break_glass_accounts": (BREAK_GLASS_UPN,)})
    result = tenant_verdict(make_policy(), defaults=make_defaults(False), params=params)
    assert result.status is Status.FAIL
    assert f"user {BREAK_GLASS}" in result.message


def test_empty_break_glass_list_fails_any_exclusion() -> None:
    result = tenant_verdict(make_policy(), defaults=make_defaults(False), params=Params({"break_glass_accounts": ()}))
    assert result.status is Status.FAIL


def test_pass_names_the_enforcing_policy_and_the_break_glass_exclusion() -> None:
    result = tenant_verdict(
        make_policy(), defaults=make_defaults(False), users=(make_user(BREAK_GLASS, BREAK_GLASS_UPN),)
    )
    assert result.status is Status.PASS
    assert "CA001: Require MFA for Azure management" in result.message
    assert BREAK_GLASS_UPN in result.message
    assert result.evidence["enforced_by"] == ["c5f75fec-d903-480a-b37c-12a805814def"]
    (judged,) = result.evidence["policies"]
    assert judged["state"] == "enabled"
    assert judged["grantControls.builtInControls"] == ["mfa"]
    assert judged["shortfalls"] == []


@pytest.mark.parametrize(
    ("defaults", "words"),
    [(None, "Security defaults not collected"), (make_defaults(None), "isEnabled not reported")],
    ids=["security defaults missing", "isEnabled null"],
)
def test_unknown_security_defaults_without_an_enforcing_policy_is_an_error(
    defaults: SecurityDefaults | None, words: str
) -> None:
    result = tenant_verdict(make_policy(state="disabled"), defaults=defaults)
    assert result.status is Status.ERROR
    assert words in result.message


@pytest.mark.parametrize(
    ("operator", "controls", "strength", "expected"),
    [
        ("OR", ("mfa",), None, True),
        (None, ("mfa",), None, True),
        ("OR", ("MFA",), None, True),
        ("OR", (), "strength-id", True),
        ("OR", ("mfa",), "strength-id", True),
        ("AND", ("mfa", "domainJoinedDevice"), None, True),
        ("AND", ("compliantDevice",), "strength-id", True),
        ("OR", ("mfa", "domainJoinedDevice"), None, False),
        ("OR", ("compliantDevice",), "strength-id", False),
        (None, ("mfa", "compliantDevice"), None, False),
        ("AND", ("compliantDevice", "approvedApplication"), None, False),
        ("OR", (), None, False),
    ],
)
def test_requires_mfa_reads_the_grant_operator(
    operator: str | None, controls: tuple[str, ...], strength: str | None, expected: bool
) -> None:
    policy = make_policy(grant_operator=operator, built_in_controls=controls, authentication_strength=strength)
    assert requires_mfa(policy) is expected


# --- IAM-01 (b): every privileged holder registered for MFA -------------------------------------


def test_registered_global_administrator_passes_with_methods_as_evidence() -> None:
    results = holder_results(directory_role_assignments=[make_directory_role()], user_registrations=[make_user()])
    result = results[ADMIN]
    assert result.status is Status.PASS
    assert result.resource_id == f"/users/{ADMIN}"
    assert "Global Administrator (directory)" in result.message
    assert result.evidence["isMfaRegistered"] is True
    assert result.evidence["methodsRegistered"] == ["microsoftAuthenticatorPush"]


@pytest.mark.parametrize(
    ("records", "held"),
    [
        ({"directory_role_assignments": [make_directory_role(role=SECURITY_ADMIN)]}, "Security Administrator"),
        ({"role_assignments": [make_assignment(role=OWNER)]}, f"Owner at {SUB_ID}"),
        ({"role_assignments": [make_assignment(role=CONTRIBUTOR, scope=RG_SCOPE)]}, f"Contributor at {RG_SCOPE}"),
        ({"role_assignments": [make_assignment(role=USER_ACCESS_ADMIN)]}, "User Access Administrator"),
        ({"role_assignments": [make_assignment(role=OWNER, scope=MG_SCOPE)]}, f"Owner at {MG_SCOPE}"),
        (
            {"role_assignments": [make_assignment(role=CUSTOM)], "role_definitions": [make_definition()]},
            "MUL2 Operator",
        ),
        ({"role_assignments": [make_assignment(role=OWNER, principal_type=None)]}, "Owner"),
    ],
    ids=[
        "Security Administrator",
        "subscription Owner",
        "resource group Contributor",
        "User Access Administrator",
        "Owner inherited from a management group",
        "Owner-equivalent custom role",
        "assignment without principal type, user in the report",
    ],
)
def test_unregistered_privileged_user_fails_naming_the_roles(records: dict[str, Any], held: str) -> None:
    results = holder_results(user_registrations=[make_user(mfa=False)], **records)
    result = results[ADMIN]
    assert result.status is Status.FAIL
    assert "not registered for MFA" in result.message
    assert held in result.message
    assert result.evidence["isMfaRegistered"] is False


@pytest.mark.parametrize(
    "records",
    [
        {"directory_role_assignments": [make_directory_role(role=REPORTS_READER)]},
        {
            "role_assignments": [make_assignment(role=READER)],
            "role_definitions": [make_definition(READER, "Reader", ("*/read",), role_type="BuiltInRole")],
        },
        {
            "role_assignments": [
                make_assignment(role=OWNER, scope=f"{RG_SCOPE}/providers/Microsoft.Compute/virtualMachines/vm")
            ]
        },
        {"role_assignments": [make_assignment(APP, OWNER, principal_type="ServicePrincipal")]},
        {
            "directory_role_assignments": [make_directory_role(APP)],
            "role_assignments": [make_assignment(APP, READER, principal_type="ServicePrincipal")],
        },
    ],
    ids=[
        "directory role Microsoft marks not privileged",
        "Reader",
        "Owner of one resource only",
        "service principal Owner",
        "service principal Global Administrator, typed by its Azure assignment",
    ],
)
def test_out_of_scope_holders_get_no_result(records: dict[str, Any]) -> None:
    assert (
        holder_results(user_registrations=[make_user(mfa=False), make_user(APP, "app@x", mfa=False)], **records) == {}
    )


def test_one_result_per_user_lists_every_role() -> None:
    results = holder_results(
        directory_role_assignments=[make_directory_role()],
        role_assignments=[make_assignment(role=OWNER), make_assignment(role=CONTRIBUTOR, scope=RG_SCOPE)],
        user_registrations=[make_user()],
    )
    (result,) = results.values()
    assert result.status is Status.PASS
    roles = {(r["role"], r["scope"]) for r in result.evidence["roles"]}
    assert roles == {("Global Administrator", "/"), ("Owner", SUB_ID), ("Contributor", RG_SCOPE)}


@pytest.mark.parametrize(
    ("records", "resource", "words"),
    [
        (
            {"role_assignments": [make_assignment(role=OWNER)], "user_registrations": [make_user(mfa=None)]},
            f"/users/{ADMIN}",
            "no isMfaRegistered value",
        ),
        (
            {"role_assignments": [make_assignment(OTHER, OWNER)], "user_registrations": [make_user()]},
            f"/users/{OTHER}",
            "not in the MFA registration report (1 users listed)",
        ),
        (
            {"directory_role_assignments": [make_directory_role(OTHER)]},
            f"/directoryObjects/{OTHER}",
            "neither a user in the MFA registration report nor known to be a service principal",
        ),
        (
            {"role_assignments": [make_assignment(GROUP, OWNER, principal_type="Group")]},
            f"/directoryObjects/{GROUP}",
            "its members were not collected",
        ),
    ],
    ids=["isMfaRegistered null", "user missing from the report", "directory holder of unknown type", "group Owner"],
)
def test_unverifiable_holders_are_errors(records: dict[str, Any], resource: str, words: str) -> None:
    results = privileged_user_mfa_registration(make_inventory(**records), Params({}))
    (result,) = [r for r in results if r.resource_id == resource]
    assert result.status is Status.ERROR
    assert words in result.message


# --- IAM-02: few privileged principals, no guests, no unlisted service principal Owners ----------

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


SA_OWNER_ALLOWED = Params({"max_privileged_principals": 4, "allowed_owner_principals": (APP.upper(),)})

PASSING_HOLDERS: dict[str, tuple[tuple[RoleAssignment, ...], dict[str, Any]]] = {
    "nobody": ((), {}),
    "four principals": (
        (member(0), member(1, CONTRIBUTOR), member(2, USER_ACCESS_ADMIN), member(3, scope=RG_SCOPE)),
        {},
    ),
    "one principal many assignments": (tuple(member(0, role) for role in (OWNER, CONTRIBUTOR, USER_ACCESS_ADMIN)), {}),
    "readers do not count": (
        (member(0), *(member(i, READER) for i in range(1, 6))),
        {"definitions": (make_definition(READER, "Reader", ("*/read",), role_type="BuiltInRole"),)},
    ),
    "resource-level Owner does not count": (
        (member(0), *(member(i, scope=f"{RG_SCOPE}/providers/Microsoft.Sql/servers/sql{i}") for i in range(1, 6))),
        {},
    ),
    "built-in role that assigns roles is not one of the three": (
        (member(0), member(1, RBAC_ADMIN), member(2, RBAC_ADMIN), member(3, RBAC_ADMIN), member(4, RBAC_ADMIN)),
        {
            "definitions": (
                make_definition(
                    RBAC_ADMIN,
                    "Role Based Access Control Administrator",
                    ("Microsoft.Authorization/roleAssignments/write",),
                    role_type="BuiltInRole",
                ),
            )
        },
    ),
    "custom role without wildcard or role assignment": (
        (member(0), *(member(i, CUSTOM) for i in range(1, 6))),
        {"definitions": (make_definition(actions=("Microsoft.Compute/virtualMachines/restart/action",)),)},
    ),
    "service principal Contributor": ((make_assignment(APP, CONTRIBUTOR, principal_type="ServicePrincipal"),), {}),
    "service principal Owner listed as allowed": (
        (make_assignment(APP, OWNER, principal_type="ServicePrincipal"),),
        {"params": SA_OWNER_ALLOWED},
    ),
    "service principal with Contributor-like custom role": (
        (make_assignment(APP, CUSTOM, principal_type="ServicePrincipal"),),
        {"definitions": (make_definition(not_actions=("Microsoft.Authorization/*/Write",)),)},
    ),
}

FAILING_HOLDERS: dict[str, tuple[tuple[RoleAssignment, ...], dict[str, Any], str]] = {
    "five principals": (
        (member(0), member(1), member(2, CONTRIBUTOR), member(3, scope=RG_SCOPE), member(4, USER_ACCESS_ADMIN)),
        {},
        "5 distinct principals hold privileged roles (at most 4)",
    ),
    "five principals counting management group inheritance": (
        (member(0), member(1), member(2), member(3), member(4, scope=MG_SCOPE)),
        {},
        "Owner at management group",
    ),
    "lower maximum": (
        (member(0), member(1)),
        {"params": Params({"max_privileged_principals": 1, "allowed_owner_principals": ()})},
        "(at most 1)",
    ),
    "custom Owner-equivalent role counts": (
        (member(0), member(1), member(2), member(3), member(4, CUSTOM)),
        {"definitions": (make_definition(),)},
        "MUL2 Operator (custom role, Owner-equivalent)",
    ),
    "custom role that writes role assignments counts": (
        (member(0), member(1), member(2), member(3), member(4, CUSTOM)),
        {"definitions": (make_definition(actions=("Microsoft.Authorization/roleAssignments/*",)),)},
        "User Access Administrator-equivalent",
    ),
    "guest by user type": (
        (make_assignment(GUEST_BY_TYPE.id, CONTRIBUTOR, scope=RG_SCOPE),),
        {},
        "guest user r.alvarez@contoso.example",
    ),
    "guest by #EXT# name": (
        (make_assignment(GUEST_BY_UPN.id, OWNER),),
        {},
        "guest user r.alvarez_fabrikam.example#EXT#@contoso.example",
    ),
    "service principal Owner": (
        (make_assignment(APP, OWNER, principal_type="ServicePrincipal"),),
        {},
        f"service principal {APP} (ServicePrincipal): Owner at subscription",
    ),
    "service principal with Owner-like custom role": (
        (make_assignment(APP, CUSTOM, principal_type="ServicePrincipal"),),
        {"definitions": (make_definition(),)},
        "is not in allowed_owner_principals",
    ),
    "violation wins over an unverifiable group": (
        (
            make_assignment(APP, OWNER, principal_type="ServicePrincipal"),
            make_assignment(GROUP, OWNER, principal_type="Group"),
        ),
        {},
        "is not in allowed_owner_principals",
    ),
}


@pytest.mark.parametrize(("assignments", "kwargs"), PASSING_HOLDERS.values(), ids=PASSING_HOLDERS.keys())
def test_subscription_passes_with_few_member_principals(
    assignments: tuple[RoleAssignment, ...], kwargs: dict[str, Any]
) -> None:
    result = holders_verdict(*assignments, **kwargs)
    assert result.status is Status.PASS, result.message
    assert result.resource_id == SUB_ID


@pytest.mark.parametrize(("assignments", "kwargs", "words"), FAILING_HOLDERS.values(), ids=FAILING_HOLDERS.keys())
def test_subscription_fails_naming_the_principals(
    assignments: tuple[RoleAssignment, ...], kwargs: dict[str, Any], words: str
) -> None:
    result = holders_verdict(*assignments, **kwargs)
    assert result.status is Status.FAIL
    assert words in result.message


def test_evidence_lists_each_principal_with_type_role_and_scope() -> None:
    result = holders_verdict(
        member(0), make_assignment(APP, CONTRIBUTOR, scope=RG_SCOPE, principal_type="ServicePrincipal")
    )
    assert result.evidence["privileged_principal_count"] == 2
    by_id = {p["principal_id"]: p for p in result.evidence["principals"]}
    assert by_id[MEMBERS[0].id]["principal_type"] == "User"
    assert by_id[MEMBERS[0].id]["guest"] is False
    assert by_id[MEMBERS[0].id]["grants"][0] | {"role_assignment_id": ""} == {
        "role": "Owner",
        "privilege": "Owner",
        "custom_role": False,
        "scope": SUB_ID,
        "scope_level": "subscription",
        "role_assignment_id": "",
        "eligible": False,
    }
    (grant,) = by_id[APP]["grants"]
    assert by_id[APP]["principal_type"] == "ServicePrincipal"
    assert (grant["role"], grant["scope"], grant["scope_level"]) == ("Contributor", RG_SCOPE, "resource group")


def test_custom_role_evidence_says_it_is_treated_as_owner() -> None:
    result = holders_verdict(member(0, CUSTOM), definitions=(make_definition(),))
    (principal,) = result.evidence["principals"]
    (grant,) = principal["grants"]
    assert (grant["custom_role"], grant["privilege"], grant["role"]) == (True, "Owner", "MUL2 Operator")


@pytest.mark.parametrize(
    ("assignments", "users", "definitions", "words"),
    [
        ((make_assignment(GROUP, OWNER, principal_type="Group"),), ALL_USERS, (), "members were not collected"),
        ((make_assignment(OTHER, OWNER),), ALL_USERS, (), "guest status is unknown"),
        ((make_assignment(OTHER, OWNER, principal_type=None),), ALL_USERS, (), "has no reported type"),
        ((member(0, CUSTOM),), ALL_USERS, (), "which was not collected, so it may be privileged"),
    ],
    ids=["group Owner", "user missing from the report", "untyped principal", "role definition not collected"],
)
def test_unverifiable_holders_make_the_subscription_an_error(
    assignments: tuple[RoleAssignment, ...],
    users: tuple[UserRegistration, ...],
    definitions: tuple[RoleDefinition, ...],
    words: str,
) -> None:
    result = subscription_verdict(*assignments, users=users, definitions=definitions)
    assert result.status is Status.ERROR
    assert words in result.message
    assert any(words in note for note in result.evidence["unverifiable"])


def test_failed_listing_leaves_the_verdict_to_the_collection_error() -> None:
    failure = Collection(ROLE_ASSIGNMENTS_API, SUB, SUB_ID, ok=False, status_code=403, reason="denied")
    inventory = make_inventory(subscriptions=[make_subscription()], collections=[failure])
    assert list(privileged_role_holders(inventory, HOLDER_PARAMS)) == []


def test_subscription_never_listed_is_an_error() -> None:
    other = "00000000-0000-0000-0000-000000000002"
    inventory = make_inventory(subscriptions=[make_subscription(), make_subscription(other)])
    results = {r.subscription_id: r for r in privileged_role_holders(inventory, HOLDER_PARAMS)}
    assert results[SUB].status is Status.PASS
    assert results[other].status is Status.ERROR
    assert "not collected" in results[other].message


def test_assignments_are_judged_per_subscription() -> None:
    other = "00000000-0000-0000-0000-000000000002"
    elsewhere = [
        make_assignment(m.id, OWNER, scope=f"/subscriptions/{other}", subscription_id=other) for m in MEMBERS[:5]
    ]
    collections = [
        Collection(api, sub, f"/subscriptions/{sub}", ok=True)
        for api in (ROLE_ASSIGNMENTS_API, ROLE_DEFINITIONS_API, ROLE_ELIGIBILITIES_API, RESOURCE_GROUPS_API)
        for sub in (SUB, other)
    ]
    inventory = make_inventory(
        subscriptions=[make_subscription(), make_subscription(other)],
        role_assignments=[member(0), *elsewhere],
        user_registrations=ALL_USERS,
        collections=collections,
    )
    results = {r.subscription_id: r.status for r in privileged_role_holders(inventory, HOLDER_PARAMS)}
    assert results == {SUB: Status.PASS, other: Status.FAIL}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (make_definition(actions=("*",)), Privilege.OWNER),
        (make_definition(actions=("*",), not_actions=("Microsoft.Authorization/*/Write",)), Privilege.CONTRIBUTOR),
        (make_definition(actions=("*",), not_actions=("Microsoft.Authorization/*",)), Privilege.CONTRIBUTOR),
        (make_definition(actions=("Microsoft.Authorization/*",)), Privilege.USER_ACCESS_ADMINISTRATOR),
        (
            make_definition(actions=("microsoft.authorization/roleassignments/write",)),
            Privilege.USER_ACCESS_ADMINISTRATOR,
        ),
        (make_definition(actions=("*/read",)), None),
        (make_definition(actions=("Microsoft.Compute/*",)), None),
    ],
)
def test_custom_role_privilege(definition: RoleDefinition, expected: Privilege | None) -> None:
    assert custom_role_privilege(definition) is expected


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (SUB_ID, "subscription"),
        (SUB_ID.upper(), "subscription"),
        (RG_SCOPE, "resource group"),
        (f"{RG_SCOPE}/providers/Microsoft.Compute/virtualMachines/vm", None),
        (MG_SCOPE, "management group"),
        ("/", "root"),
        ("/subscriptions/00000000-0000-0000-0000-000000000002", None),
    ],
)
def test_scope_level(scope: str, expected: str | None) -> None:
    assert scope_level(scope, SUB) == expected


# --- isPrivileged, group members and PIM eligibilities -----------------------------------------


def test_a_role_scoped_policy_without_role_definitions_is_an_error() -> None:
    result = tenant_verdict(make_policy(include_users=(), include_roles=PRIVILEGED_TEMPLATE_IDS), definitions=())
    assert result.status is Status.ERROR
    assert "directory role definitions were not collected" in result.message


def test_a_role_scoped_policy_must_also_cover_roles_whose_marking_is_unknown() -> None:
    unmarked = make_role_definition(UNMARKED_ROLE, "Teams Administrator", privileged=None)
    policy = make_policy(include_users=(), include_roles=PRIVILEGED_TEMPLATE_IDS)
    result = tenant_verdict(policy, definitions=(*DIRECTORY_DEFINITIONS, unmarked))
    assert result.status is Status.ERROR
    assert "leaves out Teams Administrator, whose isPrivileged Graph did not report" in result.message
    covered = make_policy(include_users=(), include_roles=(*PRIVILEGED_TEMPLATE_IDS, UNMARKED_ROLE))
    assert tenant_verdict(covered, definitions=(*DIRECTORY_DEFINITIONS, unmarked)).status is Status.PASS


def test_a_role_scoped_policy_need_not_cover_roles_microsoft_marks_not_privileged() -> None:
    policy = make_policy(include_users=(), include_roles=PRIVILEGED_TEMPLATE_IDS)
    assert REPORTS_READER not in PRIVILEGED_TEMPLATE_IDS
    assert tenant_verdict(policy).status is Status.PASS


def test_an_all_users_policy_needs_no_role_definitions() -> None:
    assert tenant_verdict(make_policy(), definitions=()).status is Status.PASS


@pytest.mark.parametrize(
    "definitions",
    [(make_role_definition(UNMARKED_ROLE, "Teams Administrator", privileged=None),), ()],
    ids=["isPrivileged not reported", "definition not collected"],
)
def test_a_directory_role_of_unknown_marking_cannot_fail_or_pass_an_unregistered_user(
    definitions: tuple[DirectoryRoleDefinition, ...],
) -> None:
    records: dict[str, Any] = {
        "directory_role_assignments": [make_directory_role(role=UNMARKED_ROLE)],
        "directory_role_definitions": definitions,
    }
    unregistered = holder_results(user_registrations=[make_user(mfa=False)], **records)[ADMIN]
    assert unregistered.status is Status.ERROR
    assert "did not report whether the role is privileged" in unregistered.message
    registered = holder_results(user_registrations=[make_user()], **records)[ADMIN]
    assert registered.status is Status.PASS


def test_a_known_privileged_role_decides_even_beside_one_of_unknown_marking() -> None:
    unmarked = make_role_definition(UNMARKED_ROLE, "Teams Administrator", privileged=None)
    result = holder_results(
        directory_role_assignments=[make_directory_role(role=UNMARKED_ROLE), make_directory_role()],
        directory_role_definitions=(*DIRECTORY_DEFINITIONS, unmarked),
        user_registrations=[make_user(mfa=False)],
    )[ADMIN]
    assert result.status is Status.FAIL
    assert "Teams Administrator (directory) (isPrivileged not reported)" in result.message


def test_members_of_a_privileged_directory_group_are_judged_one_by_one() -> None:
    results = holder_results(
        directory_role_assignments=[make_directory_role(GROUP, USER_ADMIN, principal_type="group")],
        group_memberships=[
            make_membership(
                GROUP,
                (ADMIN, "user"),
                (OTHER, "user"),
                (APP, "servicePrincipal"),
                ("dddddddd-0000-0000-0000-000000000001", "device"),
                ("eeeeeeee-0000-0000-0000-000000000001", "group"),
            )
        ],
        user_registrations=[make_user(), make_user(OTHER, "lee.chen@contoso.example", mfa=False)],
    )
    assert set(results) == {ADMIN, OTHER}
    assert results[ADMIN].status is Status.PASS
    assert results[OTHER].status is Status.FAIL
    assert f"User Administrator (directory) through group {GROUP}" in results[OTHER].message
    assert results[OTHER].evidence["roles"][0]["through_group"] == GROUP


def test_a_member_graph_does_not_type_is_an_error() -> None:
    results = holder_results(
        role_assignments=[make_assignment(GROUP, OWNER, principal_type="Group")],
        group_memberships=[make_membership(GROUP, (OTHER, None))],
    )
    assert results[OTHER].status is Status.ERROR
    assert "neither a user in the MFA registration report nor known to be a service principal" in results[OTHER].message


def test_a_group_whose_members_failed_to_list_names_the_failure() -> None:
    assignment = make_assignment(GROUP, OWNER, principal_type="Group")
    failure = Collection(
        GROUP_MEMBERS_API, SUB, assignment.id, ok=False, status_code=403, reason="Insufficient privileges"
    )
    records: dict[str, Any] = {"role_assignments": [assignment], "collections": [failure]}
    (result,) = holder_results(**records).values()
    assert result.status is Status.ERROR
    assert "its members were not collected (" in result.message
    assert "Insufficient privileges" in result.message
    verdict = privileged_role_holders(
        make_inventory(subscriptions=[make_subscription()], user_registrations=ALL_USERS, **records), HOLDER_PARAMS
    )
    (holders,) = verdict
    assert holders.status is Status.ERROR
    assert "Insufficient privileges" in holders.message


def test_pim_eligible_holders_count_as_holders() -> None:
    directory = holder_results(
        directory_role_eligibilities=[make_directory_eligibility()], user_registrations=[make_user(mfa=False)]
    )[ADMIN]
    assert directory.status is Status.FAIL
    assert "Global Administrator (directory) (PIM-eligible)" in directory.message
    azure = holder_results(role_eligibilities=[make_eligibility()], user_registrations=[make_user(mfa=False)])[ADMIN]
    assert azure.status is Status.FAIL
    assert f"Owner at {SUB_ID} (PIM-eligible)" in azure.message


def test_an_unreadable_eligibility_is_an_error_for_both_checks() -> None:
    broken = make_eligibility(principal_id="", unreadable=(Unreadable("properties.principalId", "absent"),))
    records: dict[str, Any] = {"role_eligibilities": [broken], "user_registrations": ALL_USERS}
    (result,) = holder_results(**records).values()
    assert result.status is Status.ERROR
    assert "properties.principalId = absent" in result.message
    (holders,) = privileged_role_holders(make_inventory(subscriptions=[make_subscription()], **records), HOLDER_PARAMS)
    assert holders.status is Status.ERROR
    assert "properties.principalId = absent" in holders.message


def eligible_verdict(*eligibilities: RoleEligibility, **records: Any) -> CheckResult:
    """privileged_role_holders over PIM eligibilities (and any other records) of the test subscription."""
    inventory = make_inventory(
        subscriptions=[make_subscription()], role_eligibilities=eligibilities, user_registrations=ALL_USERS, **records
    )
    (result,) = privileged_role_holders(inventory, HOLDER_PARAMS)
    return result


def test_an_eligible_guest_fails_the_subscription() -> None:
    result = eligible_verdict(make_eligibility(GUEST_BY_TYPE.id, CONTRIBUTOR))
    assert result.status is Status.FAIL
    assert "guest user r.alvarez@contoso.example (User): Contributor (PIM-eligible)" in result.message


def test_eligible_holders_count_towards_the_limit() -> None:
    eligible = [make_eligibility(m.id, OWNER) for m in MEMBERS[:5]]
    result = eligible_verdict(*eligible)
    assert result.status is Status.FAIL
    assert "5 distinct principals hold privileged roles (at most 4)" in result.message
    assert eligible_verdict(*eligible[:4]).status is Status.PASS


def test_a_privileged_group_counts_its_people_not_itself() -> None:
    members = make_membership(GROUP, *((m.id, "user") for m in MEMBERS[:3]))
    grant = make_assignment(GROUP, OWNER, principal_type="Group")
    passing = eligible_verdict(role_assignments=[grant, member(0)], group_memberships=[members])
    assert passing.status is Status.PASS, passing.message
    assert passing.evidence["privileged_principal_count"] == 3
    crowded = make_membership(GROUP, *((m.id, "user") for m in MEMBERS[:5]))
    failing = eligible_verdict(role_assignments=[grant], group_memberships=[crowded])
    assert failing.status is Status.FAIL
    assert f"Owner at subscription {SUB_ID} through group {GROUP}" in failing.message


def test_a_guest_in_a_privileged_group_fails_the_subscription() -> None:
    members = make_membership(GROUP, (MEMBERS[0].id, "user"), (GUEST_BY_UPN.id, "user"))
    result = eligible_verdict(
        role_assignments=[make_assignment(GROUP, CONTRIBUTOR, principal_type="Group")], group_memberships=[members]
    )
    assert result.status is Status.FAIL
    assert "guest user r.alvarez_fabrikam.example#EXT#@contoso.example (User): Contributor" in result.message


def test_a_service_principal_owner_through_a_group_is_not_allowed_unless_listed() -> None:
    members = make_membership(GROUP, (APP, "servicePrincipal"))
    grant = make_assignment(GROUP, OWNER, principal_type="Group")
    result = eligible_verdict(role_assignments=[grant], group_memberships=[members])
    assert result.status is Status.FAIL
    assert f"service principal {APP}" in result.message


def test_an_eligibility_listing_that_failed_leaves_the_verdict_to_the_collection_error() -> None:
    failure = Collection(ROLE_ELIGIBILITIES_API, SUB, SUB_ID, ok=False, status_code=403, reason="denied")
    inventory = make_inventory(subscriptions=[make_subscription()], collections=[failure])
    assert list(privileged_role_holders(inventory, HOLDER_PARAMS)) == []


# --- the demo estate ----------------------------------------------------------------------------

DEMO_PARAMS = Params(
    {
        "break_glass_accounts": (BREAK_GLASS,),
        "max_privileged_principals": 4,
        "allowed_owner_principals": (),
    }
)


@pytest.fixture(scope="module")
def demo(demo_inventory: Inventory) -> Inventory:
    """The demo estate collected through the local endpoint, judged at its pinned moment."""
    return demo_inventory


def _statuses(results: Iterator[CheckResult], names: dict[str, str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for result in results:
        key = result.resource_id.rsplit("/", 1)[-1]
        found.setdefault(result.status.value, set()).add(names.get(key, key))
    return found


def test_demo_tenant_enforces_mfa_through_ca001(demo: Inventory) -> None:
    (result,) = management_mfa_enforced(demo, DEMO_PARAMS)
    assert result.status is Status.PASS
    assert "CA001" in result.message
    assert result.evidence["securityDefaults.isEnabled"] is False
    report_only = [p for p in result.evidence["policies"] if p["displayName"].startswith("CA002")]
    assert report_only[0]["shortfalls"] == ["state enabledForReportingButNotEnforced, not enforced"]


def test_demo_tenant_fails_without_the_break_glass_parameter(demo: Inventory) -> None:
    (result,) = management_mfa_enforced(demo, Params({"break_glass_accounts": ()}))
    assert result.status is Status.FAIL
    assert "breakglass01@mul2demo.onmicrosoft.com" in result.message


def test_demo_privileged_users_mfa_registration(demo: Inventory) -> None:
    names = {u.id: u.user_principal_name.split("@")[0] for u in demo.user_registrations}
    results = list(privileged_user_mfa_registration(demo, DEMO_PARAMS))
    assert _statuses(iter(results), names) == {
        "pass": {"dana.ortiz", "sam.patel", "breakglass01", "jordan.blake", "k.novak_northwind-partners.example#EXT#"},
        # taylor.kim holds Helpdesk Administrator, which Microsoft marks privileged; morgan.reyes holds User
        # Administrator only through the MUL2 Identity Operators group.
        "fail": {"lee.chen", "r.alvarez_fabrikam-consulting.example#EXT#", "taylor.kim", "morgan.reyes"},
    }
    by_name = {names.get(r.resource_id.rsplit("/", 1)[-1]): r for r in results}
    assert "User Administrator (directory) through group 9a7ab2e4" in by_name["morgan.reyes"].message
    assert "Privileged Role Administrator (directory) (PIM-eligible)" in by_name["jordan.blake"].message
    assert "Reports Reader" not in by_name["jordan.blake"].message
    assert "User Access Administrator at /subscriptions/3f8c2a71-5d4e-4b9a-8c6f-1e2d7a9b0c43 (PIM-eligible)" in (
        by_name["dana.ortiz"].message
    )


def test_demo_privileged_role_holders(demo: Inventory) -> None:
    names = {s.subscription_id: s.display_name for s in demo.subscriptions}
    results = list(privileged_role_holders(demo, DEMO_PARAMS))
    assert _statuses(iter(results), names) == {"pass": {"MUL2 Production"}, "fail": {"MUL2 Staging"}}
    (staging,) = [r for r in results if r.status is Status.FAIL]
    assert "6 distinct principals hold privileged roles (at most 4)" in staging.message
    assert "guest user r.alvarez_fabrikam-consulting.example#EXT#" in staging.message
    assert (
        "guest user k.novak_northwind-partners.example#EXT#@mul2demo.onmicrosoft.com (User): Contributor (PIM-eligible)"
        in (staging.message)
    )
    assert "service principal e08137f3-3a08-4ec9-9f95-e90587134be1" in staging.message
    (production,) = [r for r in results if r.status is Status.PASS]
    # The operators group's Contributor grant is held by its two members, who already hold other roles.
    assert production.evidence["privileged_principal_count"] == 4
    grants = [g for p in production.evidence["principals"] for g in p["grants"]]
    assert {g.get("through_group") for g in grants} == {None, "2d5e8f1a-7b3c-4e9d-a6f0-1c8b4d7e9a32"}
    eligible = {(g["role"], g["scope_level"]) for g in grants if g["eligible"]}
    # Read from the subscription listing and from the per-group call, respectively.
    assert eligible == {("User Access Administrator", "subscription"), ("Owner", "resource group")}
