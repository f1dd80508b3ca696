"""IAM-02: few privileged principals per subscription, no guests, no unlisted service principal Owners."""

from __future__ import annotations

import re
from typing import Any

import pytest

from auditor.checks.roles import (
    DEPLOYMENT_SCOPE,
    RESOURCE_GROUPS_API,
    ROLE_ASSIGNMENTS_API,
    ROLE_DEFINITIONS_API,
    ROLE_ELIGIBILITIES_API,
    DeclaredAssignment,
    Privilege,
    custom_role_privilege,
    privileged_role_holders,
    scope_level,
)
from auditor.iac import arm_records as arm
from auditor.iac import terraform_records as tf
from auditor.iac.conf_values import UndecidableError
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


# --- one assignment as code declares it ---------------------------------------------------------


def declared(
    principal: str = APP, role: str = OWNER, principal_type: str | None = "ServicePrincipal", level: str | None = None
) -> DeclaredAssignment:
    """One assignment on the test subscription, judged on its own."""
    assignment = make_assignment(principal, role, principal_type=principal_type)
    return DeclaredAssignment(assignment, level) if level else DeclaredAssignment.of(assignment)


def test_one_service_principal_owner_fails_unless_allowed() -> None:
    verdict = privileged_role_holders(declared(), HOLDER_PARAMS)
    assert verdict is not None
    assert verdict.status is Status.FAIL
    assert f"service principal {APP} (ServicePrincipal): Owner is not in allowed_owner_principals" in verdict.message
    allowed = privileged_role_holders(declared(), SA_OWNER_ALLOWED)
    assert allowed is not None
    assert allowed.status is Status.PASS
    assert "judged by the live scan only" in allowed.message


def test_one_service_principal_contributor_passes_without_claiming_the_count() -> None:
    verdict = privileged_role_holders(declared(role=CONTRIBUTOR, level=DEPLOYMENT_SCOPE), HOLDER_PARAMS)
    assert verdict is not None
    assert verdict.status is Status.PASS
    assert verdict.message.startswith(f"Assignment to {APP} (ServicePrincipal): Contributor:")
    assert verdict.evidence["scope_level"] == DEPLOYMENT_SCOPE


@pytest.mark.parametrize(
    ("principal", "principal_type", "words"),
    [
        (MEMBERS[0].id, "User", "whether it is a guest is not shown by the assignment"),
        (GROUP, "Group", "the assignment does not show its members"),
        (OTHER, None, "has no principal type"),
    ],
    ids=["user", "group", "untyped"],
)
def test_one_assignment_cannot_show_a_user_group_or_untyped_principal(
    principal: str, principal_type: str | None, words: str
) -> None:
    verdict = privileged_role_holders(declared(principal, OWNER, principal_type), HOLDER_PARAMS)
    assert verdict is not None
    assert verdict.status is Status.ERROR
    assert words in verdict.message


@pytest.mark.parametrize(
    "subject",
    [
        declared(role=READER),
        declared(role=CUSTOM),
        DeclaredAssignment.of(make_assignment(APP, OWNER, scope=f"{RG_SCOPE}/providers/Microsoft.Sql/servers/sql1")),
    ],
    ids=["Reader", "custom role (its definition is not in the code)", "one resource's scope"],
)
def test_one_assignment_of_another_role_or_scope_is_not_judged(subject: DeclaredAssignment) -> None:
    assert privileged_role_holders(subject, HOLDER_PARAMS) is None


def tf_conf(**attributes: str) -> dict[str, Any]:
    """An azurerm_role_assignment as checkov's HCL parser gives it (every value wrapped in a list)."""
    values = {
        "scope": "azurerm_resource_group.app.id",
        "role_definition_name": "Owner",
        "principal_id": APP,
        "principal_type": "ServicePrincipal",
    } | attributes
    return {"__address__": "azurerm_role_assignment.deploy"} | {k: [v] for k, v in values.items() if v}


@pytest.mark.parametrize(
    ("scope", "level"),
    [
        ("azurerm_resource_group.app.id", "resource group"),
        ("${data.azurerm_resource_group.app.id}", "resource group"),
        ("data.azurerm_subscription.primary.id", "subscription"),
        ("azurerm_management_group.mul2.id", "management group"),
        (SUB_ID, "subscription"),
        (RG_SCOPE, "resource group"),
    ],
)
def test_terraform_scope_levels(scope: str, level: str) -> None:
    subject = tf.role_assignment(tf_conf(scope=scope))
    assert subject is not None
    assert subject.level == level
    assert subject.assignment.role_guid == OWNER


@pytest.mark.parametrize(
    "conf",
    [
        tf_conf(role_definition_name="Reader"),
        tf_conf(
            role_definition_name="",
            role_definition_id=f"{SUB_ID}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        ),
        tf_conf(scope="azurerm_storage_account.data.id", principal_id="var.principal"),
    ],
    ids=["Reader by name", "Reader by id", "one resource, principal left open"],
)
def test_terraform_assignments_out_of_scope(conf: dict[str, Any]) -> None:
    assert tf.role_assignment(conf) is None


@pytest.mark.parametrize(
    ("conf", "words"),
    [
        (tf_conf(principal_id="var.principal"), "principal_id is the expression 'var.principal'"),
        (tf_conf(principal_id="deploy"), "not an object id the code states"),
        (tf_conf(role_definition_name="var.role"), "role_definition_name is the expression"),
        (tf_conf(scope="var.scope"), "scope is the expression 'var.scope'"),
        (tf_conf(scope="azurerm_subscription.new.id"), "scope is the expression"),
    ],
    ids=["principal variable", "principal not a GUID", "role variable", "scope variable", "subscription alias"],
)
def test_terraform_values_left_open_are_undecidable(conf: dict[str, Any], words: str) -> None:
    with pytest.raises(UndecidableError, match=re.escape(words)):
        tf.role_assignment(conf)


def arm_conf(**changes: Any) -> dict[str, Any]:
    """A Microsoft.Authorization/roleAssignments template resource."""
    properties = {
        "roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{OWNER}')]",
        "principalId": APP,
        "principalType": "ServicePrincipal",
    } | changes.pop("properties", {})
    return {"type": arm.ROLE_ASSIGNMENT, "name": "deploy", "properties": properties} | changes


BICEP_ROLE = {
    "function": {
        "type": "subscription_resource_id",
        "parameters": {"resource_type": "Microsoft.Authorization/roleDefinitions", "resource_name_1": OWNER},
    }
}


@pytest.mark.parametrize(
    ("conf", "level"),
    [
        (arm_conf(), DEPLOYMENT_SCOPE),
        (
            arm_conf(properties={"roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"}),
            DEPLOYMENT_SCOPE,
        ),
        (arm_conf(properties={"roleDefinitionId": BICEP_ROLE}), DEPLOYMENT_SCOPE),
        (arm_conf(scope={"function": {"type": "subscription", "parameters": {}}}), "subscription"),
        (arm_conf(scope=RG_SCOPE), "resource group"),
    ],
    ids=["template function", "literal id", "Bicep function", "Bicep subscription()", "literal scope"],
)
def test_arm_assignments_read_the_role_and_scope(conf: dict[str, Any], level: str) -> None:
    subject = arm.role_assignment(conf)
    assert subject is not None
    assert subject.assignment.role_guid == OWNER
    assert subject.level == level


@pytest.mark.parametrize(
    "conf",
    [
        arm_conf(properties={"roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"}),
        arm_conf(scope="Microsoft.Storage/storageAccounts/stdata"),
        arm_conf(scope="stdata", properties={"principalId": "principalId"}),
    ],
    ids=["Reader", "extension resource on a storage account", "Bicep symbolic resource scope"],
)
def test_arm_assignments_out_of_scope(conf: dict[str, Any]) -> None:
    assert arm.role_assignment(conf) is None


@pytest.mark.parametrize(
    ("conf", "words"),
    [
        (arm_conf(properties={"principalId": "[parameters('principalId')]"}), "parameters('principalId')"),
        (arm_conf(properties={"principalId": "principalId"}), "not an object id the code states"),
        (arm_conf(properties={"roleDefinitionId": "[parameters('role')]"}), "parameters('role')"),
        (arm_conf(scope="[resourceGroup().id]"), "resourceGroup().id"),
    ],
    ids=["principal parameter", "Bicep parameter without default", "role parameter", "scope expression"],
)
def test_arm_values_left_open_are_undecidable(conf: dict[str, Any], words: str) -> None:
    with pytest.raises(UndecidableError, match=re.escape(words)):
        arm.role_assignment(conf)


def test_a_principal_known_only_once_applied_is_undecidable() -> None:
    conf = tf_conf()
    del conf["principal_id"]
    with pytest.raises(UndecidableError, match="principal_id is not stated in the code"):
        tf.role_assignment(conf)
