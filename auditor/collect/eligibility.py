"""PIM eligibility collector: Azure roles a principal may activate (``roleEligibilityScheduleInstances``).

An eligible principal holds no active assignment until it activates the role, which it can do at any
time without anyone's approval unless the role's PIM policy asks for one: for counting who holds a
privileged role, an eligibility is a holding. Both calls filter with ``$filter=atScope()``, which ARM
documents as "all role eligibility schedules at or above the scope": the subscription listing gives the
eligibilities on the subscription and inherited from management groups or the root, and one call per
resource group gives those on the group itself (eligibilities on single resources are not privileged
holdings for IAM-02 and are not read).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import resource_group_of
from auditor.collect.base import (
    Field,
    Listing,
    PerParent,
    Reader,
    arm_pipeline,
    build_all,
    list_objects,
    path,
    resource_id,
)
from auditor.collect.clients import AUTHORIZATION_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.identity import RoleEligibility
from auditor.records.network import ResourceGroup

# The api-version azure-mgmt-authorization 4.0 sends for role_eligibility_schedule_instances.
API_VERSION = "2020-10-01"
ELIGIBILITIES_API = "Microsoft.Authorization/roleEligibilityScheduleInstances"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
MEMBER_TYPES = ("Direct", "Group", "Inherited")

# RoleEligibilityScheduleInstance, Microsoft.Authorization 2020-10-01
# (https://learn.microsoft.com/rest/api/authorization/role-eligibility-schedule-instances/list-for-scope).
# An eligibility without its scope, role or principal cannot be judged, and none of them has a default.
ELIGIBILITY_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.scope", True),
    Field("properties.roleDefinitionId", True),
    Field("properties.principalId", True),
    # Absent type: the principal may be a group whose members hold the role, so it stays unknown.
    Field("properties.principalType", False),
    Field("properties.memberType", False),
)


def role_eligibility(raw: Mapping[str, Any], subscription_id: str) -> RoleEligibility:
    """A PIM eligibility record from a raw ARM ``roleEligibilityScheduleInstance``."""
    item = Reader(raw)
    eligibility_id = resource_id(item, f"/subscriptions/{subscription_id}", ELIGIBILITIES_API)
    scope = item.text("properties.scope", required=True) or ""
    return RoleEligibility(
        id=eligibility_id,
        name=item.text("name") or "",
        subscription_id=subscription_id,
        scope=scope,
        role_definition_id=item.text("properties.roleDefinitionId", required=True) or "",
        principal_id=item.text("properties.principalId", required=True) or "",
        principal_type=item.choice("properties.principalType", PRINCIPAL_TYPES),
        member_type=item.choice("properties.memberType", MEMBER_TYPES),
        resource_group=resource_group_of(scope),
        unreadable=item.found(),
    )


def list_role_eligibilities(session: AzureSession, subscription_id: str) -> Iterator[RoleEligibility]:
    """Every PIM eligibility in force on the subscription, inherited ones included."""
    pipeline = arm_pipeline(session, AUTHORIZATION_CLIENT, subscription_id)
    url = path(
        "/subscriptions/{}/providers/" + ELIGIBILITIES_API,
        subscription_id,
        api_version=API_VERSION,
        **{"$filter": "atScope()"},
    )
    below = f"/subscriptions/{subscription_id}/".lower()
    for record in build_all(list_objects(pipeline, session.arm_url, url), role_eligibility, subscription_id):
        # atScope() means at or above; anything below that an endpoint returns anyway is read per group, once.
        if not record.scope.lower().startswith(below):
            yield record


def list_group_eligibilities(session: AzureSession, group: ResourceGroup) -> Iterator[RoleEligibility]:
    """The PIM eligibilities on one resource group itself (those above it come with the subscription)."""
    pipeline = arm_pipeline(session, AUTHORIZATION_CLIENT, group.subscription_id)
    url = path(
        "/subscriptions/{}/resourceGroups/{}/providers/" + ELIGIBILITIES_API,
        group.subscription_id,
        group.name,
        api_version=API_VERSION,
        **{"$filter": "atScope()"},
    )
    for record in build_all(list_objects(pipeline, session.arm_url, url), role_eligibility, group.subscription_id):
        if record.scope.rstrip("/").lower() == group.id.rstrip("/").lower():
            yield record


# One API name for both calls: a failed group call marks that group, a failed listing the subscription, and
# the identity checks treat either as eligibilities they could not see.
STEPS = (
    Listing(ELIGIBILITIES_API, "role_eligibilities", list_role_eligibilities),
    PerParent(ELIGIBILITIES_API, "resource_group_records", "role_eligibilities", list_group_eligibilities),
)
