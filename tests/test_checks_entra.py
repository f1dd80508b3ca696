"""IAM-01: MFA enforced for Azure management (one verdict per tenant) and every privileged holder registered."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.entra import (
    MANAGEMENT_APP_ID,
    TENANT_RESOURCE_ID,
    DirectoryRoles,
    TenantMfaPolicies,
    management_mfa_enforced,
    privileged_user_mfa_registration,
    requires_mfa,
)
from auditor.checks.roles import GROUP_MEMBERS_API, privileged_role_holders
from auditor.inventory import Collection
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.identity import ConditionalAccessPolicy, DirectoryRoleDefinition, SecurityDefaults
from auditor.records.unreadable import Unreadable
from tests.builders import SUB, make_inventory, results
from tests.identity_builders import (
    ADMIN,
    ALL_USERS,
    APP,
    BREAK_GLASS,
    BREAK_GLASS_UPN,
    CONTRIBUTOR,
    CUSTOM,
    DIRECTORY_DEFINITIONS,
    GLOBAL_ADMIN,
    GROUP,
    HOLDER_PARAMS,
    MG_SCOPE,
    OTHER,
    OWNER,
    PRIVILEGED_TEMPLATE_IDS,
    READER,
    REPORTS_READER,
    RG_SCOPE,
    SECURITY_ADMIN,
    SUB_ID,
    TENANT_PARAMS,
    UNMARKED_ROLE,
    USER_ACCESS_ADMIN,
    USER_ADMIN,
    holder_results,
    make_assignment,
    make_defaults,
    make_definition,
    make_directory_eligibility,
    make_directory_role,
    make_eligibility,
    make_membership,
    make_policy,
    make_role_definition,
    make_subscription,
    make_user,
    tenant_verdict,
)

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
    found = results(privileged_user_mfa_registration, make_inventory(**records), Params({}))
    (result,) = [r for r in found if r.resource_id == resource]
    assert result.status is Status.ERROR
    assert words in result.message


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
    inventory = make_inventory(subscriptions=[make_subscription()], user_registrations=ALL_USERS, **records)
    (holders,) = results(privileged_role_holders, inventory, HOLDER_PARAMS)
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
    inventory = make_inventory(subscriptions=[make_subscription()], **records)
    (holders,) = results(privileged_role_holders, inventory, HOLDER_PARAMS)
    assert holders.status is Status.ERROR
    assert "properties.principalId = absent" in holders.message


def test_the_tenant_record_is_judged_directly_by_its_settings() -> None:
    tenant = TenantMfaPolicies(make_defaults(False), (make_policy(),), {}, DirectoryRoles.of(DIRECTORY_DEFINITIONS))
    assert management_mfa_enforced(tenant, TENANT_PARAMS).status is Status.PASS
    report_only = TenantMfaPolicies(
        make_defaults(False), (make_policy(state="enabledForReportingButNotEnforced"),), {}, DirectoryRoles.of(())
    )
    verdict = management_mfa_enforced(report_only, TENANT_PARAMS)
    assert verdict.status is Status.FAIL
    assert "state enabledForReportingButNotEnforced, not enforced" in verdict.message


def test_an_empty_tenant_is_judged_not_skipped() -> None:
    # Every tenant exists: with nothing collected about it the verdict is an error, never not-applicable.
    (result,) = results(management_mfa_enforced, make_inventory(), TENANT_PARAMS)
    assert result.status is Status.ERROR
    assert result.resource_id == TENANT_RESOURCE_ID
