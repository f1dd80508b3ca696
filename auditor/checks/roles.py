"""Privileged Azure roles (IAM-02): who holds Owner, Contributor or User Access Administrator over a
subscription, live or as one assignment declared in code; and the principal primitives IAM-01 shares
(custom roles' equivalents, scopes, group expansion, guests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from auditor.arm_ids import segments
from auditor.inventory import Inventory, Subscription
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.identity import (
    GroupMembership,
    RoleAssignment,
    RoleDefinition,
    RoleEligibility,
    UserRegistration,
)
from auditor.registry import Remediation, check

REGISTRATIONS_API = "graph:/reports/authenticationMethods/userRegistrationDetails"
GROUP_MEMBERS_API = "graph:/groups/{id}/transitiveMembers"
ROLE_ASSIGNMENTS_API = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITIONS_API = "Microsoft.Authorization/roleDefinitions"
ROLE_ELIGIBILITIES_API = "Microsoft.Authorization/roleEligibilityScheduleInstances"
# Eligibilities on resource groups are read per group: without the group listing they were not looked for.
RESOURCE_GROUPS_API = "Microsoft.Resources/resourceGroups"

ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write"


class Privilege(StrEnum):
    """The privileged Azure built-in roles, and what a custom role amounts to."""

    OWNER = "Owner"
    CONTRIBUTOR = "Contributor"
    USER_ACCESS_ADMINISTRATOR = "User Access Administrator"


BUILTIN_PRIVILEGED_ROLES: Mapping[str, Privilege] = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": Privilege.OWNER,
    "b24988ac-6180-42a0-ab88-20f7382dd24c": Privilege.CONTRIBUTOR,
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": Privilege.USER_ACCESS_ADMINISTRATOR,
}


# The same roles by the name Terraform's role_definition_name gives them.
BUILTIN_PRIVILEGED_ROLE_IDS_BY_NAME: Mapping[str, str] = {
    privilege.value.lower(): guid for guid, privilege in BUILTIN_PRIVILEGED_ROLES.items()
}


# --- shared logic: who holds what ---------------------------------------------------------------


# Transitive members that can hold an Azure or directory role in their own right. Nested groups are
# flattened by transitiveMembers; devices and organisational contacts cannot sign in to use a role.
MEMBER_PRINCIPAL_TYPES: Mapping[str, str] = {"user": "User", "serviceprincipal": "ServicePrincipal"}
NON_PRINCIPAL_MEMBER_KINDS = frozenset({"group", "device", "orgcontact"})


def memberships_by_group(memberships: Iterable[GroupMembership]) -> dict[str, GroupMembership]:
    """One membership per group (lower-case id); a group expanded for several holdings is listed once."""
    return {m.group_id.lower(): m for m in memberships}


def is_group(principal_type: str | None) -> bool:
    """True for a group principal as ARM (Group) or Graph (group) reports it."""
    return (principal_type or "").lower() == "group"


def member_principals(membership: GroupMembership) -> list[tuple[str, str]]:
    """(member id, principal type) of each member that can use a role; Unknown for an untyped member."""
    found: list[tuple[str, str]] = []
    for member in membership.members:
        kind = (member.kind or "").lower()
        if kind in NON_PRINCIPAL_MEMBER_KINDS:
            continue
        found.append((member.id, MEMBER_PRINCIPAL_TYPES.get(kind, "Unknown")))
    return found


def membership_failures(inventory: Inventory) -> dict[str, str]:
    """Why a group's members could not be listed, keyed by the lower-case id of the holding it was listed for."""
    return {c.scope.lower(): c.describe() for c in inventory.collections if c.api == GROUP_MEMBERS_API and not c.ok}


def registrations_by_id(registrations: Iterable[UserRegistration]) -> dict[str, UserRegistration]:
    """Registration details keyed by lower-case object id."""
    return {r.id.lower(): r for r in registrations}


def is_guest(user: UserRegistration) -> bool:
    """True for a guest (B2B) account: guest user type or an ``#EXT#`` user principal name."""
    return (user.user_type or "").lower() == "guest" or "#ext#" in user.user_principal_name.lower()


def user_label(user: UserRegistration) -> str:
    """The user's principal name, with the display name when Graph gave one."""
    upn = user.user_principal_name or user.id
    return f"{upn} ({user.display_name})" if user.display_name else upn


def action_allowed(definition: RoleDefinition, operation: str) -> bool:
    """True when the definition's actions grant the operation and its NotActions do not take it back."""
    wanted = operation.lower()
    granted = any(fnmatchcase(wanted, action.lower()) for action in definition.actions)
    removed = any(fnmatchcase(wanted, action.lower()) for action in definition.not_actions)
    return granted and not removed


def custom_role_privilege(definition: RoleDefinition) -> Privilege | None:
    """The built-in privileged role a custom role amounts to: ``*`` is Contributor, plus role assignment Owner."""
    everything = "*" in definition.actions
    assigns_roles = action_allowed(definition, ROLE_ASSIGNMENT_WRITE)
    if everything and assigns_roles:
        return Privilege.OWNER
    if everything:
        return Privilege.CONTRIBUTOR
    if assigns_roles:
        # Whoever can write role assignments can make themselves Owner.
        return Privilege.USER_ACCESS_ADMINISTRATOR
    return None


def scope_level(scope: str, subscription_id: str) -> str | None:
    """How a scope relates to a subscription: itself, one of its groups, or above it; None for a resource."""
    parts = [p.lower() for p in segments(scope)]
    if not parts:
        return "root"
    if parts[:2] == ["subscriptions", subscription_id.lower()]:
        if len(parts) == 2:
            return "subscription"
        if len(parts) == 4 and parts[2] == "resourcegroups":
            return "resource group"
        return None
    if len(parts) == 4 and parts[:3] == ["providers", "microsoft.management", "managementgroups"]:
        # Inherited from a management group: it holds over the whole subscription.
        return "management group"
    return None


@dataclass(frozen=True)
class PrivilegedGrant:
    """A privileged Azure role held by a principal over a subscription or a resource group in it."""

    subscription_id: str
    principal_id: str
    principal_type: str | None
    privilege: Privilege
    role_name: str
    custom: bool
    scope: str
    level: str
    assignment_id: str
    # A PIM eligibility: its holder can activate the role whenever they like, so it counts as held.
    eligible: bool = False
    # The group through which a member holds the grant; None for a grant held directly.
    through_group: str | None = None

    def describe(self) -> str:
        """Role and scope in one phrase (no scope for a grant declared in code, where it may be an expression)."""
        role = f"{self.role_name} (custom role, {self.privilege}-equivalent)" if self.custom else self.role_name
        how = " (PIM-eligible)" if self.eligible else ""
        where = f" at {self.level} {self.scope}" if self.scope else ""
        via = f" through group {self.through_group}" if self.through_group else ""
        return f"{role}{how}{where}{via}"

    def evidence(self) -> dict[str, Any]:
        """The assignment fields that make the grant privileged."""
        found: dict[str, Any] = {
            "role": self.role_name,
            "privilege": self.privilege.value,
            "custom_role": self.custom,
            "scope": self.scope,
            "scope_level": self.level,
            "role_assignment_id": self.assignment_id,
            "eligible": self.eligible,
        }
        if self.through_group:
            found["through_group"] = self.through_group
        return found

    def held_by(self, principal_id: str, principal_type: str) -> PrivilegedGrant:
        """The same grant as a member of this grant's group holds it."""
        return dataclasses.replace(
            self, principal_id=principal_id, principal_type=principal_type, through_group=self.principal_id
        )


@dataclass(frozen=True)
class UnresolvedAssignment:
    """An assignment at a privileged-relevant scope whose role definition was not collected."""

    assignment: RoleAssignment | RoleEligibility
    level: str


def privileged_grants(
    assignments: Iterable[RoleAssignment | RoleEligibility], definitions: Iterable[RoleDefinition]
) -> tuple[list[PrivilegedGrant], list[UnresolvedAssignment]]:
    """Owner, Contributor and User Access Administrator grants (built-in or custom equivalents) at sub/group scope."""
    by_guid = {d.guid: d for d in definitions}
    grants: list[PrivilegedGrant] = []
    unresolved: list[UnresolvedAssignment] = []
    for assignment in assignments:
        level = scope_level(assignment.scope, assignment.subscription_id)
        if level is None:
            continue
        guid = assignment.role_guid
        builtin = BUILTIN_PRIVILEGED_ROLES.get(guid)
        definition = by_guid.get(guid)
        if builtin is not None:
            privilege, role_name, custom = builtin, builtin.value, False
        elif definition is None:
            unresolved.append(UnresolvedAssignment(assignment, level))
            continue
        elif (definition.role_type or "").lower() == "builtinrole":
            continue
        else:
            derived = custom_role_privilege(definition)
            if derived is None:
                continue
            privilege, role_name, custom = derived, definition.role_name or guid, True
        grants.append(
            PrivilegedGrant(
                subscription_id=assignment.subscription_id,
                principal_id=assignment.principal_id,
                principal_type=assignment.principal_type,
                privilege=privilege,
                role_name=role_name,
                custom=custom,
                scope=assignment.scope,
                level=level,
                assignment_id=assignment.id,
                eligible=isinstance(assignment, RoleEligibility),
            )
        )
    return grants, unresolved


def azure_holdings(inventory: Inventory) -> list[RoleAssignment | RoleEligibility]:
    """Active Azure role assignments and the PIM eligibilities that could be read, together.

    An eligibility with unreadable fields is left out here and reported by each check as unknown.
    """
    return [*inventory.role_assignments, *(e for e in inventory.role_eligibilities if not e.unreadable)]


def unreadable_eligibility(eligibility: RoleEligibility) -> str:
    """Why an eligibility cannot be judged, naming the fields Azure returned unreadable."""
    fields = "; ".join(p.describe() for p in eligibility.unreadable)
    return f"PIM eligibility {eligibility.id} could not be read ({fields}), so its holder and role are unknown"


def azure_grants(inventory: Inventory) -> tuple[list[PrivilegedGrant], list[UnresolvedAssignment]]:
    """Privileged grants of active assignments and of PIM eligibilities alike."""
    return privileged_grants(azure_holdings(inventory), inventory.role_definitions)


def expand_groups(
    grants: Iterable[PrivilegedGrant], memberships: Mapping[str, GroupMembership]
) -> list[PrivilegedGrant]:
    """Each grant held by an expanded group becomes one grant per member; other grants stay as they are."""
    expanded: list[PrivilegedGrant] = []
    for grant in grants:
        membership = memberships.get(grant.principal_id.lower()) if is_group(grant.principal_type) else None
        if membership is None:
            expanded.append(grant)
            continue
        expanded += [grant.held_by(member, kind) for member, kind in member_principals(membership)]
    return expanded


def principal_kind(principal_type: str | None, user: UserRegistration | None) -> str:
    """User, ServicePrincipal, Group or Unknown, from the assignment's type and the registration report."""
    kind = (principal_type or "").lower()
    # The type Azure reported for the assignment wins; the report only identifies untyped principals.
    if kind == "serviceprincipal":
        return "ServicePrincipal"
    if kind in {"group", "foreigngroup"}:
        return "Group"
    if user is not None or kind == "user":
        return "User"
    return "Unknown"


# --- IAM-02: few privileged principals, no guests, no unlisted service principal Owners ----------


@dataclass(frozen=True)
class PrincipalGrants:
    """One principal's privileged grants in one subscription, with what the directory says about it."""

    principal_id: str
    kind: str
    user: UserRegistration | None
    grants: tuple[PrivilegedGrant, ...]

    @property
    def name(self) -> str:
        """UPN for users in the registration report, else the object id."""
        return self.user.user_principal_name if self.user else self.principal_id

    @property
    def holds_owner(self) -> bool:
        """True when any grant is Owner or an Owner-equivalent custom role."""
        return any(g.privilege is Privilege.OWNER for g in self.grants)

    def describe(self) -> str:
        """Name, kind and roles in one phrase."""
        roles = "; ".join(sorted({g.describe() for g in self.grants}))
        return f"{self.name} ({self.kind}): {roles}"

    def evidence(self) -> dict[str, Any]:
        """Principal, type and each grant's role and scope."""
        return {
            "principal_id": self.principal_id,
            "principal_type": self.kind,
            "userPrincipalName": self.user.user_principal_name if self.user else None,
            "userType": self.user.user_type if self.user else None,
            "guest": is_guest(self.user) if self.user else None,
            "grants": [g.evidence() for g in self.grants],
        }


def principals_by_subscription(
    grants: Iterable[PrivilegedGrant], users: Mapping[str, UserRegistration]
) -> dict[str, list[PrincipalGrants]]:
    """Grants grouped by subscription (lower-case id) and then by principal."""
    grouped: dict[str, dict[str, list[PrivilegedGrant]]] = {}
    for grant in grants:
        per_sub = grouped.setdefault(grant.subscription_id.lower(), {})
        per_sub.setdefault(grant.principal_id.lower(), []).append(grant)
    result: dict[str, list[PrincipalGrants]] = {}
    for sub, principals in grouped.items():
        rows = []
        for key, own in sorted(principals.items()):
            user = users.get(key)
            kind = principal_kind(next((g.principal_type for g in own if g.principal_type), None), user)
            rows.append(PrincipalGrants(own[0].principal_id, kind, user, tuple(own)))
        result[sub] = rows
    return result


def privileged_principal_shortfalls(
    principals: Iterable[PrincipalGrants],
    max_principals: int | None,
    allowed_owners: Iterable[str],
    unlisted: Mapping[str, str] | None = None,
    *,
    directory_read: bool = True,
) -> tuple[list[str], list[str]]:
    """Violations (fail) and facts that cannot be shown (error) for privileged principals.

    ``max_principals`` None: the principals are not all of a subscription's (one assignment in code), so
    they are not counted. ``directory_read`` False: no registration report or group listing was read, so a
    user's guest status and a group's members are unknown for that reason.
    """
    principals = list(principals)
    allowed = {a.strip().lower() for a in allowed_owners}
    problems: list[str] = []
    unknown: list[str] = []
    if max_principals is not None and len(principals) > max_principals:
        problems.append(
            f"{len(principals)} distinct principals hold privileged roles (at most {max_principals}): "
            + "; ".join(p.describe() for p in principals)
        )
    for p in principals:
        if p.user is not None and is_guest(p.user):
            problems.append(f"guest user {p.describe()}")
        elif p.kind == "User" and p.user is None:
            unknown.append(
                f"user {p.principal_id} is not in the registration report, so guest status is unknown"
                if directory_read
                else f"user {p.describe()}: whether it is a guest is not shown by the assignment"
            )
        if p.kind == "ServicePrincipal" and p.holds_owner and p.principal_id.lower() not in allowed:
            problems.append(f"service principal {p.describe()} is not in allowed_owner_principals")
        if p.kind == "Group":
            failed = unlisted or {}
            reasons = sorted({failed[g.assignment_id.lower()] for g in p.grants if g.assignment_id.lower() in failed})
            why = f" ({'; '.join(reasons)})" if reasons else ""
            roles = "; ".join(sorted({g.describe() for g in p.grants}))
            unknown.append(
                f"group {p.principal_id} holds {roles}: its members were not collected{why}, so the people "
                "holding the role cannot be counted"
                if directory_read
                else f"group {p.principal_id} holds {roles}: the assignment does not show its members, so they "
                "cannot be shown to be members rather than guests"
            )
        if p.kind == "Unknown":
            unknown.append(
                f"principal {p.principal_id} has no reported type and is not in the registration report, so "
                "it cannot be shown to be a member user or an allowed service principal"
                if directory_read
                else f"principal {p.principal_id} has no principal type, so it cannot be shown to be a member "
                "user or an allowed service principal"
            )
    return problems, unknown


def _listing_state(inventory: Inventory, api: str, subscription_id: str) -> bool | None:
    """True when the API was listed for the subscription, False when that listing failed, None when never tried."""
    states = [c.ok for c in inventory.collections if c.api == api and c.subscription_id.lower() == subscription_id]
    if not states:
        return None
    return all(states)


HOLDER_LISTINGS = (ROLE_ASSIGNMENTS_API, ROLE_DEFINITIONS_API, ROLE_ELIGIBILITIES_API, RESOURCE_GROUPS_API)


@dataclass(frozen=True)
class SubscriptionHolders:
    """Every principal holding a privileged role over one subscription, members of groups expanded: what the
    live scan judges for IAM-02."""

    subscription: Subscription
    principals: tuple[PrincipalGrants, ...]
    # What about the subscription's holders cannot be shown: unreadable eligibilities, definitions not collected.
    unknown: tuple[str, ...]
    # Why a group's members could not be listed, by the holding they were listed for.
    unlisted: Mapping[str, str]
    # False when a listing the verdict needs was never made for the subscription.
    collected: bool = True

    @property
    def id(self) -> str:
        """The subscription's id."""
        return self.subscription.id

    @property
    def type(self) -> str:
        """The subscription's type."""
        return self.subscription.type

    @property
    def subscription_id(self) -> str:
        """The subscription's GUID."""
        return self.subscription.subscription_id


def subscription_holders(inventory: Inventory) -> Iterator[SubscriptionHolders]:
    """Each subscription with its privileged principals, unless one of its listings failed (already an error)."""
    grants, unresolved = azure_grants(inventory)
    # A group's grant is held by each of its members: they are the people counted, and judged as guests.
    grants = expand_groups(grants, memberships_by_group(inventory.group_memberships))
    unlisted = membership_failures(inventory)
    by_subscription = principals_by_subscription(grants, registrations_by_id(inventory.user_registrations))
    subscriptions = {s.subscription_id.lower(): s for s in inventory.subscriptions}
    for assignment in azure_holdings(inventory):
        # An assignment of a subscription the listing did not name still needs a verdict.
        sub_id = assignment.subscription_id
        subscriptions.setdefault(sub_id.lower(), Subscription(sub_id, "", ""))
    for key, subscription in sorted(subscriptions.items()):
        listed = [_listing_state(inventory, api, key) for api in HOLDER_LISTINGS]
        if False in listed:
            # The failed listing is already reported as an error for this subscription.
            continue
        unknown = [
            unreadable_eligibility(e)
            for e in inventory.role_eligibilities
            if e.unreadable and e.subscription_id.lower() == key
        ]
        unknown += [
            f"assignment {u.assignment.id} at {u.level} scope names role definition "
            f"{u.assignment.role_definition_id}, which was not collected, so it may be privileged"
            for u in unresolved
            if u.assignment.subscription_id.lower() == key
        ]
        principals = tuple(by_subscription.get(key, []))
        yield SubscriptionHolders(subscription, principals, tuple(unknown), unlisted, collected=None not in listed)


# How a role assignment in code relates to the subscription it lands in, when the code does not name its
# scope literally (an ARM template's assignment deploys to the template's resource group or subscription).
DEPLOYMENT_SCOPE = "deployment scope"


@dataclass(frozen=True)
class DeclaredAssignment:
    """One role assignment judged on its own, as code declares it: IAM-02's door for code.

    One assignment shows its role, its principal's id and type and its scope, not who else holds privileged
    roles nor whether a user is a guest: the count per subscription and guest status stay with the live scan.
    """

    assignment: RoleAssignment
    # The scope's level as scope_level gives it, or DEPLOYMENT_SCOPE; None for a single resource (out of scope).
    level: str | None

    @classmethod
    def of(cls, assignment: RoleAssignment) -> DeclaredAssignment:
        """An assignment whose scope is a literal ARM id (as Azure lists it)."""
        subscription = assignment.subscription_id or subscription_of(assignment.scope)
        return cls(assignment, scope_level(assignment.scope, subscription))

    @property
    def id(self) -> str:
        """The assignment's id (its address in code)."""
        return self.assignment.id

    @property
    def type(self) -> str:
        """The role assignment type."""
        return self.assignment.type

    @property
    def subscription_id(self) -> str:
        """The assignment's subscription, when known."""
        return self.assignment.subscription_id

    def grant(self) -> PrivilegedGrant | None:
        """The privileged built-in role it gives, or None: another role, or one resource's scope.

        Only the three built-in roles are known by their id or name alone; a custom role is judged by the
        live scan, which reads its definition.
        """
        privilege = BUILTIN_PRIVILEGED_ROLES.get(self.assignment.role_guid)
        if privilege is None or self.level is None:
            return None
        a = self.assignment
        return PrivilegedGrant(
            a.subscription_id, a.principal_id, a.principal_type, privilege, privilege.value, False, "", "", a.id
        )


def subscription_of(scope: str) -> str:
    """The subscription a scope lies in; empty above subscriptions or for a relative id."""
    parts = segments(scope)
    return parts[1] if len(parts) >= 2 and parts[0].lower() == "subscriptions" else ""


@check(
    id="privileged_role_holders",
    title="At most max_privileged_principals hold Owner, Contributor or User Access Administrator; no guests",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Resources/subscriptions",),
    requires=(
        ROLE_ASSIGNMENTS_API,
        ROLE_DEFINITIONS_API,
        ROLE_ELIGIBILITIES_API,
        RESOURCE_GROUPS_API,
        REGISTRATIONS_API,
    ),
    over=subscription_holders,
    subject="subscriptions",
    parameters=("max_privileged_principals", "allowed_owner_principals"),
    rationale="Every Owner, Contributor or User Access Administrator can read or hand out MUL2 data; the "
    "policy limits that power to a few of the company's own authorised people.",
    remediation=Remediation(
        summary="Remove privileged role assignments until only the few named administrators hold them, "
        "replace guest holders with member accounts under the company's control, and move service "
        "principals from Owner to the least-privileged role they need (or list them in "
        "allowed_owner_principals when Owner is justified).",
        portal="Subscriptions > (subscription) > Access control (IAM) > Role assignments > Privileged "
        "administrator roles > select the assignment > Remove",
        cli='az role assignment list --subscription SUB --include-inherited --query "[?roleDefinitionName=='
        "'Owner' || roleDefinitionName=='Contributor' || roleDefinitionName=='User Access Administrator']\"; "
        "az role assignment delete --ids ASSIGNMENT_ID",
        terraform='resource "azurerm_role_assignment" "deploy" {\n'
        "  scope                = azurerm_resource_group.app.id\n"
        '  role_definition_name = "Website Contributor"  # least privilege instead of Owner\n'
        "  principal_id         = var.deploy_principal_id\n}",
        bicep="resource deploy 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n"
        "  name: guid(resourceGroup().id, principalId, 'de139f84-1756-47ae-9be6-808fbbe84772')\n"
        "  properties: {\n"
        "    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
        "'de139f84-1756-47ae-9be6-808fbbe84772') // Website Contributor\n"
        "    principalId: principalId\n  }\n}",
    ),
)
def privileged_role_holders(subject: SubscriptionHolders | DeclaredAssignment, params: Params) -> Verdict | None:
    """A subscription: count, guests and service principal Owners of privileged Azure roles; an assignment in
    code: what it alone shows (no count, no guest status)."""
    allowed_owners = params.get_list("allowed_owner_principals")
    if isinstance(subject, DeclaredAssignment):
        return declared_assignment_verdict(subject, allowed_owners)
    if not subject.collected:
        return erroring(
            "Role assignments, eligibilities, definitions or resource groups were not collected for this subscription"
        )
    maximum = params.get_int("max_privileged_principals")
    principals = subject.principals
    problems, unknown = privileged_principal_shortfalls(principals, maximum, allowed_owners, subject.unlisted)
    unknown += subject.unknown
    evidence: dict[str, Any] = {
        "max_privileged_principals": maximum,
        "allowed_owner_principals": list(allowed_owners),
        "privileged_principal_count": len(principals),
        "principals": [p.evidence() for p in principals],
    }
    if unknown:
        evidence["unverifiable"] = unknown
    if problems:
        return failing("Privileged roles too widely held: " + " | ".join(problems), **evidence)
    if unknown:
        return erroring("Privileged role holders cannot be fully shown: " + " | ".join(unknown), **evidence)
    names = ", ".join(p.name for p in principals) or "none"
    return passing(
        f"{len(principals)} privileged principal(s) (at most {maximum}), no guests, no unlisted service "
        f"principal Owners: {names}",
        **evidence,
    )


# Said of every verdict on one assignment, so that a pass in code is never read as the whole control's.
NOT_COUNTED = "how many principals hold privileged roles per subscription is judged by the live scan only"


def declared_assignment_verdict(subject: DeclaredAssignment, allowed_owners: Iterable[str]) -> Verdict | None:
    """One assignment of a privileged built-in role: an unlisted service principal as Owner fails; a user, a
    group or an untyped principal cannot be shown to be no guest (error); other roles are out of scope."""
    grant = subject.grant()
    if grant is None:
        return None
    a = subject.assignment
    principal = PrincipalGrants(a.principal_id, principal_kind(a.principal_type, None), None, (grant,))
    problems, unknown = privileged_principal_shortfalls([principal], None, allowed_owners, directory_read=False)
    evidence: dict[str, Any] = {
        "allowed_owner_principals": list(allowed_owners),
        "scope": a.scope or None,
        "scope_level": subject.level,
        "role_definition_id": a.role_definition_id,
    } | principal.evidence()
    if problems:
        return failing(
            f"Privileged role given to a principal that must not hold it: {' | '.join(problems)}", **evidence
        )
    if unknown:
        return erroring(
            f"Privileged role assignment cannot be shown compliant: {' | '.join(unknown)}; {NOT_COUNTED}", **evidence
        )
    summary = f"Assignment to {principal.describe()}: not a guest, not an unlisted service principal Owner"
    return passing(f"{summary}; {NOT_COUNTED}", **evidence)
