"""IAM-02: few privileged principals per subscription, no guests, no unlisted service principal Owners."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.roles import (
    RESOURCE_GROUPS_API,
    ROLE_ASSIGNMENTS_API,
    ROLE_DEFINITIONS_API,
    ROLE_ELIGIBILITIES_API,
    Privilege,
    custom_role_privilege,
    privileged_role_holders,
    scope_level,
)
from auditor.inventory import Collection
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.identity import RoleAssignment, RoleDefinition, UserRegistration
from tests.builders import SUB, make_inventory, results
from tests.identity_builders import (
    ALL_USERS,
    APP,
    CONTRIBUTOR,
    CUSTOM,
    GROUP,
    GUEST_BY_TYPE,
    GUEST_BY_UPN,
    HOLDER_PARAMS,
    MEMBERS,
    MG_SCOPE,
    OTHER,
    OWNER,
    RBAC_ADMIN,
    READER,
    RG_SCOPE,
    SUB_ID,
    USER_ACCESS_ADMIN,
    eligible_verdict,
    holders_verdict,
    make_assignment,
    make_definition,
    make_eligibility,
    make_membership,
    make_subscription,
    member,
    subscription_verdict,
)

# --- IAM-02: few privileged principals, no guests, no unlisted service principal Owners ----------

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
    assert results(privileged_role_holders, inventory, HOLDER_PARAMS) == []


def test_subscription_never_listed_is_an_error() -> None:
    other = "00000000-0000-0000-0000-000000000002"
    inventory = make_inventory(subscriptions=[make_subscription(), make_subscription(other)])
    found = {r.subscription_id: r for r in results(privileged_role_holders, inventory, HOLDER_PARAMS)}
    assert found[SUB].status is Status.PASS
    assert found[other].status is Status.ERROR
    assert "not collected" in found[other].message


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
    found = {r.subscription_id: r.status for r in results(privileged_role_holders, inventory, HOLDER_PARAMS)}
    assert found == {SUB: Status.PASS, other: Status.FAIL}


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
    assert results(privileged_role_holders, inventory, HOLDER_PARAMS) == []
