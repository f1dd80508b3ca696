"""PIM eligibilities of Azure roles through the local endpoint: Microsoft's example, the wire, bad fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.checks.roles import privileged_role_holders
from auditor.collect import authorization, eligibility, firewall
from auditor.collect.base import Listing
from auditor.collect.scan import collect_inventory
from auditor.emulator import Fault
from auditor.inventory import Collection, Inventory
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.identity import RoleEligibility
from auditor.records.unreadable import Unreadable
from tests import estates as e
from tests.builders import results
from tests.harness import serve

EXAMPLES = Path(__file__).parent / "data" / "azure-rest-examples" / "specification"
EXAMPLE = (
    EXAMPLES
    / "authorization/resource-manager/Microsoft.Authorization/stable/2020-10-01/examples"
    / "GetRoleEligibilityScheduleInstancesByScope.json"
)
EXAMPLE_SUB = "dfa2a084-766f-4003-8ae1-c4aeb893a99f"
LIST_PATH = f"/subscriptions/{e.SUB}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def example_items() -> list[dict[str, Any]]:
    """The items of Microsoft's list example (see tests/data/azure-rest-examples/ORIGIN.md, row 29)."""
    body: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))["responses"]["200"]["body"]
    items: list[dict[str, Any]] = body["value"]
    return items


GROUP = f"/subscriptions/{e.SUB}/resourceGroups/rg-app"
GROUP_LIST_PATH = f"{GROUP}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances"
RESOURCE_GROUPS = tuple(s for s in firewall.STEPS if isinstance(s, Listing) and s.field == "resource_group_records")
RESOURCE_GROUP = {"id": GROUP, "name": "rg-app", "location": "eastus"}
HOLDER_PARAMS = Params({"max_privileged_principals": 4, "allowed_owner_principals": ()})


def instance(
    name: str, principal: str | None, role: str = OWNER, *, scope: str = f"/subscriptions/{e.SUB}", **properties: Any
) -> dict[str, Any]:
    """A roleEligibilityScheduleInstance at the scope (the test subscription unless given) as ARM lists it."""
    props: dict[str, Any] = {
        "scope": scope,
        "roleDefinitionId": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        "principalId": principal,
        "principalType": "User",
        "status": "Provisioned",
        "memberType": "Direct",
    } | properties
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleEligibilityScheduleInstances",
        "properties": {k: v for k, v in props.items() if v is not None},
    }


def scan(*resources: dict[str, Any], subs: tuple[str, ...] = (e.SUB,), **options: Any) -> Inventory:
    """Collect only the eligibility listing."""
    with serve(e.estate(*resources, subs=subs), **options) as (_, session):
        return collect_inventory(session, steps=eligibility.STEPS)


def outcome(inventory: Inventory, subscription_id: str = e.SUB) -> Collection:
    """The listing's Collection for the subscription (the per-group calls add a success line of their own)."""
    found = [c for c in inventory.collections if c.api == eligibility.ELIGIBILITIES_API]
    assert found[0].subscription_id == subscription_id
    return found[0]


def test_microsoft_example_is_collected_as_its_documented_fields_say() -> None:
    inventory = scan(*example_items(), subs=(EXAMPLE_SUB,))
    scope = f"/subscriptions/{EXAMPLE_SUB}"
    assert inventory.role_eligibilities == (
        RoleEligibility(
            id=f"{scope}/providers/Microsoft.Authorization/RoleEligibilityScheduleInstances/"
            "21e4b59a-0499-4fe0-a3c3-43a3055b773a",
            name="21e4b59a-0499-4fe0-a3c3-43a3055b773a",
            subscription_id=EXAMPLE_SUB,
            scope=scope,
            # roleDefinitionId, not expandedProperties.roleDefinition.id, which names another role.
            role_definition_id=f"{scope}/providers/Microsoft.Authorization/roleDefinitions/"
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            principal_id="a3bb8764-cb92-4276-9d2a-ca1e895e55ea",
            principal_type="User",
            member_type="Direct",
        ),
    )
    assert outcome(inventory, EXAMPLE_SUB).ok


def test_microsoft_example_gives_the_verdict_its_semantics_imply() -> None:
    with serve(e.estate(*example_items(), subs=(EXAMPLE_SUB,))) as (_, session):
        inventory = collect_inventory(session, steps=RESOURCE_GROUPS + authorization.STEPS + eligibility.STEPS)
    # An eligible Contributor is a privileged holder: one principal is within the limit of 4, but it is not
    # in the registration report (none was collected), so whether it is a guest cannot be shown.
    (verdict,) = results(privileged_role_holders, inventory, HOLDER_PARAMS)
    assert verdict.status is Status.ERROR
    assert "user a3bb8764-cb92-4276-9d2a-ca1e895e55ea is not in the registration report" in verdict.message


def test_the_listing_asks_for_eligibilities_at_or_above_the_subscription() -> None:
    with serve(e.estate(instance("i1", "u1"))) as (endpoint, session):
        collect_inventory(session, steps=eligibility.STEPS)
        asked = [r for r in endpoint.requests if r.path == LIST_PATH]
    (request,) = asked
    assert request.params == {"api-version": eligibility.API_VERSION, "$filter": "atScope()"}


def test_every_page_is_read() -> None:
    inventory = scan(*(instance(f"i{n}", f"u{n}") for n in range(5)), page_size=2)
    assert [r.principal_id for r in inventory.role_eligibilities] == [f"u{n}" for n in range(5)]
    assert outcome(inventory).items == 5


def test_no_eligibilities_is_an_empty_success() -> None:
    inventory = scan()
    assert inventory.role_eligibilities == ()
    assert outcome(inventory).ok


def test_case_of_types_is_tolerated() -> None:
    (record,) = scan(instance("i1", "g1", principalType="group", memberType="GROUP")).role_eligibilities
    assert (record.principal_type, record.member_type, record.unreadable) == ("Group", "Group", ())


def test_an_unreadable_field_marks_that_eligibility_only() -> None:
    inventory = scan(
        instance("good", "u1"),
        instance("no-principal", None),
        instance("odd-type", "u2", principalType="Robot"),
    )
    records = {r.name: r for r in inventory.role_eligibilities}
    assert records["good"].unreadable == ()
    assert records["no-principal"].unreadable == (Unreadable("properties.principalId", "absent"),)
    assert records["odd-type"].unreadable == (Unreadable("properties.principalType", '"Robot"'),)
    assert outcome(inventory).ok


def test_an_empty_object_is_a_malformed_listing_not_an_empty_one() -> None:
    raw = [{"path": LIST_PATH, "body": "{}"}]
    with serve(e.estate() | {"raw": raw}) as (_, session):
        inventory = collect_inventory(session, steps=eligibility.STEPS)
    failed = outcome(inventory)
    assert not failed.ok
    assert failed.reason.startswith("malformed response")
    assert "no 'value' list" in failed.reason


def test_eligibilities_on_a_resource_group_are_read_per_group_without_repeating_those_above() -> None:
    on_group = instance("on-group", "u2", scope=GROUP)
    # ARM's atScope() on the group also returns what is above it: the collector keeps only the group's own.
    body = json.dumps({"value": [instance("on-sub", "u1"), on_group]})
    raw = [{"path": GROUP_LIST_PATH, "body": body}]
    with serve(e.estate(instance("on-sub", "u1")) | {"raw": raw, "resourceGroups": [RESOURCE_GROUP]}) as (
        endpoint,
        session,
    ):
        inventory = collect_inventory(session, steps=RESOURCE_GROUPS + eligibility.STEPS)
        asked = [r.params for r in endpoint.requests if r.path == GROUP_LIST_PATH]
    assert asked == [{"api-version": eligibility.API_VERSION, "$filter": "atScope()"}]
    assert sorted((r.name, r.scope, r.resource_group) for r in inventory.role_eligibilities) == [
        ("on-group", GROUP, "rg-app"),
        ("on-sub", f"/subscriptions/{e.SUB}", ""),
    ]
    assert all(c.ok for c in inventory.collections)


def test_a_failed_group_call_marks_that_group_and_no_subscription_verdict_passes() -> None:
    fault = Fault(GROUP_LIST_PATH, status=403, error_code="AuthorizationFailed")
    with serve(e.estate() | {"resourceGroups": [RESOURCE_GROUP]}, faults=(fault,)) as (_, session):
        inventory = collect_inventory(session, steps=RESOURCE_GROUPS + authorization.STEPS + eligibility.STEPS)
    (failed,) = [c for c in inventory.collections if not c.ok]
    assert (failed.api, failed.scope, failed.status_code) == (eligibility.ELIGIBILITIES_API, GROUP, 403)
    # The failure is reported by evaluation for the group; the check gives the subscription no verdict.
    assert results(privileged_role_holders, inventory, HOLDER_PARAMS) == []


def test_the_subscription_listing_keeps_what_is_at_or_above_it() -> None:
    management_group = "/providers/Microsoft.Management/managementGroups/mul2"
    inherited = instance("inherited", "u3", scope=management_group)
    # An endpoint that answers more than atScope() asks for: the group's own eligibility is read per group.
    body = json.dumps({"value": [instance("on-sub", "u1"), instance("on-group", "u2", scope=GROUP), inherited]})
    with serve(e.estate() | {"raw": [{"path": LIST_PATH, "body": body}]}) as (_, session):
        inventory = collect_inventory(session, steps=eligibility.STEPS)
    assert sorted((r.name, r.scope) for r in inventory.role_eligibilities) == [
        ("inherited", management_group),
        ("on-sub", f"/subscriptions/{e.SUB}"),
    ]
