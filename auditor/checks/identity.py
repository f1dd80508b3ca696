"""Identity checks: MFA for Azure management (IAM-01) and few privileged principals (IAM-02)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from auditor.arm_ids import segments
from auditor.inventory import Inventory, Subscription
from auditor.model import CheckResult, Severity, Status, errored, failed, passed
from auditor.parameters import Params
from auditor.records.identity import (
    ConditionalAccessPolicy,
    DirectoryRoleAssignment,
    DirectoryRoleDefinition,
    DirectoryRoleEligibility,
    GroupMembership,
    RoleAssignment,
    RoleDefinition,
    RoleEligibility,
    SecurityDefaults,
    UserRegistration,
)
from auditor.registry import Remediation, check

SECURITY_DEFAULTS_API = "graph:/policies/identitySecurityDefaultsEnforcementPolicy"
CONDITIONAL_ACCESS_API = "graph:/identity/conditionalAccess/policies"
DIRECTORY_ROLES_API = "graph:/roleManagement/directory/roleAssignments"
DIRECTORY_ROLE_DEFINITIONS_API = "graph:/roleManagement/directory/roleDefinitions"
DIRECTORY_ELIGIBILITIES_API = "graph:/roleManagement/directory/roleEligibilityScheduleInstances"
REGISTRATIONS_API = "graph:/reports/authenticationMethods/userRegistrationDetails"
GROUP_MEMBERS_API = "graph:/groups/{id}/transitiveMembers"
ROLE_ASSIGNMENTS_API = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITIONS_API = "Microsoft.Authorization/roleDefinitions"
ROLE_ELIGIBILITIES_API = "Microsoft.Authorization/roleEligibilityScheduleInstances"
# Eligibilities on resource groups are read per group: without the group listing they were not looked for.
RESOURCE_GROUPS_API = "Microsoft.Resources/resourceGroups"

# The "Windows Azure Service Management API" app: the portal, Azure CLI, PowerShell and ARM itself.
MANAGEMENT_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"

# The tenant is not an ARM resource and the inventory does not carry its id: one fixed id keeps the
# tenant-wide finding stable across runs, whichever policy happens to satisfy it.
TENANT_RESOURCE_ID = "/tenants/tenant"
TENANT_RESOURCE_TYPE = "microsoft.graph.organization"
USER_RESOURCE_TYPE = "microsoft.graph.user"
DIRECTORY_OBJECT_RESOURCE_TYPE = "microsoft.graph.directoryObject"

ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write"
MFA_GRANTS = frozenset({"mfa", "authenticationstrength"})


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


# --- shared logic: who holds what ---------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryRoles:
    """Microsoft's own marking of privileged directory roles (``isPrivileged``), by definition or template id."""

    by_id: Mapping[str, DirectoryRoleDefinition]

    @classmethod
    def of(cls, definitions: Iterable[DirectoryRoleDefinition]) -> DirectoryRoles:
        """Index definitions by lower-case id and template id (assignments and policies name either)."""
        by_id: dict[str, DirectoryRoleDefinition] = {}
        for definition in definitions:
            by_id[definition.id.lower()] = definition
            if definition.template_id:
                by_id.setdefault(definition.template_id.lower(), definition)
        return cls(by_id)

    @property
    def collected(self) -> bool:
        """True when definitions were read: every tenant has the built-in ones, so none means not collected."""
        return bool(self.by_id)

    def privileged(self, role_id: str) -> bool | None:
        """Microsoft's marking of the role; None when the definition or its isPrivileged is missing."""
        definition = self.by_id.get(role_id.lower())
        return None if definition is None else definition.is_privileged

    def name(self, role_id: str) -> str:
        """The role's display name, or its id when the definition was not collected."""
        definition = self.by_id.get(role_id.lower())
        return definition.display_name if definition is not None else role_id

    def with_marking(self, marking: bool | None) -> dict[str, str]:
        """Roles marked so (True, False, or None for not reported), as template id (else id) to display name."""
        found: dict[str, str] = {}
        for definition in self.by_id.values():
            if definition.is_privileged is marking:
                found[(definition.template_id or definition.id).lower()] = definition.display_name
        return dict(sorted(found.items(), key=lambda item: item[1]))


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
        """Role and scope in one phrase."""
        role = f"{self.role_name} (custom role, {self.privilege}-equivalent)" if self.custom else self.role_name
        how = " (PIM-eligible)" if self.eligible else ""
        via = f" through group {self.through_group}" if self.through_group else ""
        return f"{role}{how} at {self.level} {self.scope}{via}"

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


# --- IAM-01 (a): MFA enforced for Azure management ----------------------------------------------


def requires_mfa(policy: ConditionalAccessPolicy) -> bool:
    """True when every way to satisfy the grant includes MFA or an authentication strength."""
    options = {c.lower() for c in policy.built_in_controls}
    if policy.authentication_strength:
        options.add("authenticationstrength")
    if not options & MFA_GRANTS:
        return False
    if (policy.grant_operator or "").upper() == "AND":
        return True
    # Under OR (or no operator) any one control satisfies the grant, so all of them must be MFA.
    return options <= MFA_GRANTS


def covers_management_app(policy: ConditionalAccessPolicy) -> bool:
    """True when the policy targets the Azure management app, directly or through All apps, and does not exclude it."""
    included = {a.lower() for a in policy.include_applications}
    excluded = {a.lower() for a in policy.exclude_applications}
    return bool(included & {"all", MANAGEMENT_APP_ID}) and MANAGEMENT_APP_ID not in excluded


def uncovered_privileged_roles(policy: ConditionalAccessPolicy, roles: DirectoryRoles) -> tuple[list[str], list[str]]:
    """Privileged directory roles the users condition leaves out, and what about that cannot be shown.

    A policy for All users covers every role. Otherwise it must include every role Microsoft marks
    privileged, and a role whose marking Graph did not report may be privileged, so it must be included too.
    """
    if "all" in {u.lower() for u in policy.include_users}:
        return [], []
    if not roles.collected:
        return [], ["directory role definitions were not collected, so the privileged roles it must cover are unknown"]
    included = {r.lower() for r in policy.include_roles}
    missing = [name for role, name in roles.with_marking(True).items() if role not in included]
    unmarked = [name for role, name in roles.with_marking(None).items() if role not in included]
    unknown = [f"leaves out {', '.join(unmarked)}, whose isPrivileged Graph did not report"] if unmarked else []
    return missing, unknown


def disallowed_exclusions(
    policy: ConditionalAccessPolicy, break_glass: Iterable[str], upn_of: Mapping[str, str], roles: DirectoryRoles
) -> list[str]:
    """Every exclusion other than a listed break-glass account (matched by object id or UPN), named."""
    allowed = {b.strip().lower() for b in break_glass}
    found: list[str] = []
    for user in policy.exclude_users:
        upn = upn_of.get(user.lower(), "")
        if user.lower() in allowed or (upn and upn.lower() in allowed):
            continue
        found.append(f"user {upn} ({user})" if upn else f"user {user}")
    found += [f"group {group}" for group in policy.exclude_groups]
    found += [f"role {roles.name(role)}" for role in policy.exclude_roles]
    return found


def policy_shortfalls(
    policy: ConditionalAccessPolicy, break_glass: Iterable[str], upn_of: Mapping[str, str], roles: DirectoryRoles
) -> tuple[list[str], list[str]]:
    """Each reason the policy does not enforce MFA on Azure management for every administrator, and each
    fact about it that cannot be shown; both empty when it does."""
    problems: list[str] = []
    if (policy.state or "").lower() != "enabled":
        state = policy.state or "not reported"
        problems.append(f"state {state}, not enforced")
    if not requires_mfa(policy):
        controls = list(policy.built_in_controls) + (
            ["authenticationStrength"] if policy.authentication_strength else []
        )
        problems.append(f"grant does not require MFA (operator {policy.grant_operator}, controls {controls})")
    if not covers_management_app(policy):
        problems.append(
            f"does not cover the Azure management app (include {list(policy.include_applications)}, "
            f"exclude {list(policy.exclude_applications)})"
        )
    missing, unknown = uncovered_privileged_roles(policy, roles)
    if missing:
        problems.append(f"covers neither All users nor every privileged role (missing {', '.join(missing)})")
    excluded = disallowed_exclusions(policy, break_glass, upn_of, roles)
    if excluded:
        problems.append(f"excludes {', '.join(excluded)}, which are not listed break-glass accounts")
    return problems, unknown


def _policy_evidence(policy: ConditionalAccessPolicy, problems: list[str], unknown: list[str]) -> dict[str, Any]:
    return {
        "id": policy.id,
        "displayName": policy.display_name,
        "state": policy.state,
        "grantControls.operator": policy.grant_operator,
        "grantControls.builtInControls": list(policy.built_in_controls),
        "grantControls.authenticationStrength": policy.authentication_strength,
        "includeApplications": list(policy.include_applications),
        "excludeApplications": list(policy.exclude_applications),
        "includeUsers": list(policy.include_users),
        "includeRoles": list(policy.include_roles),
        "excludeUsers": list(policy.exclude_users),
        "excludeGroups": list(policy.exclude_groups),
        "excludeRoles": list(policy.exclude_roles),
        "shortfalls": problems,
        "unverifiable": unknown,
    }


def _tenant_result(status: Status, message: str, evidence: Mapping[str, Any]) -> CheckResult:
    return CheckResult(TENANT_RESOURCE_ID, TENANT_RESOURCE_TYPE, "", status, message, evidence)


@check(
    id="management_mfa_enforced",
    title="Security defaults or an enabled Conditional Access policy require MFA for Azure management for every admin",
    severity=Severity.CRITICAL,
    resource_types=(TENANT_RESOURCE_TYPE,),
    requires=(SECURITY_DEFAULTS_API, CONDITIONAL_ACCESS_API),
    parameters=("break_glass_accounts",),
    rationale="A stolen or sprayed administrator password opens the portal, CLI and ARM to every subscription "
    "unless sign-in to Azure management demands a second factor.",
    remediation=Remediation(
        summary="Create (or switch on) a Conditional Access policy that requires multifactor authentication "
        "or an authentication strength for the Windows Azure Service Management API (or All cloud apps), for "
        "All users, excluding only the break-glass accounts; or enable security defaults when the tenant "
        "has no Conditional Access.",
        portal="Microsoft Entra admin center > Protection > Conditional Access > Policies > New policy: Users: "
        "All users, exclude the break-glass accounts only; Target resources: Windows Azure Service Management "
        "API; Grant: Require multifactor authentication; Enable policy: On",
        cli="az rest --method post --url https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies "
        "--body @require-mfa-azure-management.json  # state 'enabled', grantControls.builtInControls ['mfa']",
        terraform='resource "azuread_conditional_access_policy" "mfa_azure_management" {\n'
        '  display_name = "Require MFA for Azure management"\n  state        = "enabled"\n'
        "  conditions {\n"
        '    client_app_types = ["all"]\n'
        '    applications { included_applications = ["797f4846-ba00-4fd7-ba43-dac1f8f63013"] }\n'
        '    users {\n      included_users = ["All"]\n      excluded_users = [var.break_glass_object_id]\n    }\n'
        "  }\n"
        '  grant_controls {\n    operator          = "OR"\n    built_in_controls = ["mfa"]\n  }\n}',
    ),
)
def management_mfa_enforced(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """One tenant result: pass on security defaults or on one enforced MFA policy with only break-glass exclusions."""
    break_glass = params.get_list("break_glass_accounts")
    # The registration report is read only to turn excluded object ids into UPNs, so that a break-glass
    # account listed by UPN is recognised. It is deliberately not in `requires`: without it an exclusion
    # stays unmatched and fails (never passes by absence), and the verdict of a security-defaults tenant,
    # which lacks the licence the report needs, is not lost to a collection error.
    upn_of = {r.id.lower(): r.user_principal_name for r in inventory.user_registrations}
    # Role definitions matter only to a policy that names roles instead of All users; likewise not in
    # `requires`, and their absence leaves such a policy unproven (error), never passed.
    roles = DirectoryRoles.of(inventory.directory_role_definitions)
    defaults: SecurityDefaults | None = next(iter(inventory.security_defaults), None)
    enabled_defaults = defaults.is_enabled if defaults is not None else None
    judged = [(p, *policy_shortfalls(p, break_glass, upn_of, roles)) for p in inventory.conditional_access_policies]
    evidence: dict[str, Any] = {
        "securityDefaults.isEnabled": enabled_defaults,
        "break_glass_accounts": list(break_glass),
        "policies": [_policy_evidence(p, problems, unknown) for p, problems, unknown in judged],
    }
    if enabled_defaults is True:
        yield _tenant_result(
            Status.PASS, "Security defaults are enabled: MFA is required for Azure management", evidence
        )
        return
    enforcing = [p for p, problems, unknown in judged if not problems and not unknown]
    if enforcing:
        names = ", ".join(f"'{p.display_name}' ({p.id})" for p in enforcing)
        excluded = sorted({upn_of.get(u.lower()) or u for p in enforcing for u in p.exclude_users})
        note = f"; excludes only break-glass {', '.join(excluded)}" if excluded else ""
        yield _tenant_result(
            Status.PASS,
            f"Conditional Access policy {names} requires MFA for Azure management for every administrator{note}",
            evidence | {"enforced_by": [p.id for p in enforcing]},
        )
        return
    unproven = [(p, unknown) for p, problems, unknown in judged if not problems]
    if unproven:
        detail = "; ".join(f"'{p.display_name}': {', '.join(unknown)}" for p, unknown in unproven)
        yield _tenant_result(
            Status.ERROR,
            f"No Conditional Access policy is shown to enforce MFA for Azure management for every administrator: "
            f"{detail}",
            evidence,
        )
        return
    # Policies that ask for MFA are the near misses worth naming; the rest are in the evidence.
    near = [(p, problems) for p, problems, _ in judged if requires_mfa(p)]
    detail = "; ".join(f"'{p.display_name}': {', '.join(problems)}" for p, problems in near)
    policies = detail if near else f"none of {len(judged)} Conditional Access policies requires MFA"
    if enabled_defaults is None:
        what = "not collected" if defaults is None else "isEnabled not reported"
        yield _tenant_result(
            Status.ERROR,
            f"Security defaults {what}, and no Conditional Access policy enforces MFA for Azure management: {policies}",
            evidence,
        )
        return
    yield _tenant_result(
        Status.FAIL,
        f"Security defaults are disabled and no enabled Conditional Access policy enforces MFA for Azure "
        f"management for every administrator: {policies}",
        evidence,
    )


# --- IAM-01 (b): every privileged holder registered for MFA -------------------------------------


@dataclass(frozen=True)
class PrivilegedHolder:
    """A principal holding privileged directory or Azure roles, with the type Azure or Graph reported for it."""

    principal_id: str
    principal_type: str | None
    roles: tuple[dict[str, Any], ...]
    # The assignments and eligibilities behind the roles, to name a failed member listing of a group.
    holdings: tuple[str, ...] = ()

    @property
    def certainly_privileged(self) -> bool:
        """True when a role is known to be privileged, not only possibly (isPrivileged not reported)."""
        return any(r["privileged"] is True for r in self.roles)


class _Holdings:
    """Roles gathered per principal (lower-case id), with the type reported for each principal."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.types: dict[str, str] = {}
        self.roles: dict[str, list[dict[str, Any]]] = {}
        self.holdings: dict[str, list[str]] = {}

    def add(self, principal_id: str, principal_type: str | None, role: dict[str, Any], holding: str) -> None:
        key = principal_id.lower()
        self.ids.setdefault(key, principal_id)
        if principal_type:
            self.types.setdefault(key, principal_type)
        self.roles.setdefault(key, []).append(role)
        self.holdings.setdefault(key, []).append(holding)


def privileged_holders(inventory: Inventory) -> list[PrivilegedHolder]:
    """Every holder of a privileged directory role or of a privileged Azure role at sub/group scope.

    PIM-eligible holders count as holders. A group's role is held by each of its transitive members;
    a group whose members were not collected stays a holder of its own, which cannot be judged.
    """
    directory = DirectoryRoles.of(inventory.directory_role_definitions)
    found = _Holdings()
    directory_holdings: list[DirectoryRoleAssignment | DirectoryRoleEligibility] = [
        *inventory.directory_role_assignments,
        *inventory.directory_role_eligibilities,
    ]
    for holding in directory_holdings:
        marking = directory.privileged(holding.role_definition_id)
        if marking is False:
            continue
        role = {
            "role": directory.name(holding.role_definition_id),
            "kind": "directory role",
            "scope": holding.directory_scope_id or "/",
            "eligible": isinstance(holding, DirectoryRoleEligibility),
            "privileged": marking,
        }
        found.add(holding.principal_id, holding.principal_type, role, holding.id)
    grants, _ = azure_grants(inventory)
    for grant in grants:
        found.add(
            grant.principal_id,
            grant.principal_type,
            {"kind": "Azure role", "privileged": True} | grant.evidence(),
            grant.assignment_id,
        )
    for assignment in azure_holdings(inventory):
        # Azure says what kind of principal an id is, also for ids Graph left untyped.
        if assignment.principal_type:
            found.types.setdefault(assignment.principal_id.lower(), assignment.principal_type)
    memberships = memberships_by_group(inventory.group_memberships)
    expanded = _Holdings()
    for key, roles in found.roles.items():
        membership = memberships.get(key) if is_group(found.types.get(key)) else None
        if membership is None:
            for role, held_by in zip(roles, found.holdings[key], strict=True):
                expanded.add(found.ids[key], found.types.get(key), role, held_by)
            continue
        for member, kind in member_principals(membership):
            for role, held_by in zip(roles, found.holdings[key], strict=True):
                expanded.add(member, kind, role | {"through_group": found.ids[key]}, held_by)
    return [
        PrivilegedHolder(
            expanded.ids[key], expanded.types.get(key), tuple(expanded.roles[key]), tuple(expanded.holdings[key])
        )
        for key in sorted(expanded.roles)
    ]


def _role_phrase(roles: Iterable[Mapping[str, Any]]) -> str:
    phrases = set()
    for r in roles:
        phrase = f"{r['role']} (directory)" if r["kind"] == "directory role" else f"{r['role']} at {r['scope']}"
        if r.get("eligible"):
            phrase += " (PIM-eligible)"
        if r.get("through_group"):
            phrase += f" through group {r['through_group']}"
        if r["privileged"] is None:
            phrase += " (isPrivileged not reported)"
        phrases.add(phrase)
    return ", ".join(sorted(phrases))


@check(
    id="privileged_user_mfa_registration",
    title="Every holder of a privileged directory role or of Owner, Contributor or User Access Administrator has MFA",
    severity=Severity.CRITICAL,
    resource_types=(USER_RESOURCE_TYPE,),
    requires=(
        DIRECTORY_ROLES_API,
        DIRECTORY_ROLE_DEFINITIONS_API,
        DIRECTORY_ELIGIBILITIES_API,
        REGISTRATIONS_API,
        ROLE_ASSIGNMENTS_API,
        ROLE_DEFINITIONS_API,
        ROLE_ELIGIBILITIES_API,
        RESOURCE_GROUPS_API,
    ),
    rationale="A policy that requires MFA protects an administrator only once a second factor is registered; "
    "until then the first sign-in registers whatever the holder of the password chooses.",
    remediation=Remediation(
        summary="Have each privileged user register a phishing-resistant method (Microsoft Authenticator, "
        "FIDO2 key) at https://aka.ms/mysecurityinfo, enforce registration with a Conditional Access "
        "'Register security information' policy or the registration campaign, and remove the role from "
        "anyone who does not need it.",
        portal="Microsoft Entra admin center > Protection > Authentication methods > User registration details "
        "(filter: admins, not MFA registered); Users > (user) > Authentication methods > Require re-register MFA",
        cli='az rest --method get --url "https://graph.microsoft.com/v1.0/reports/authenticationMethods/'
        'userRegistrationDetails?\\$filter=isMfaRegistered eq false"; '
        "az role assignment delete --assignee USER_OBJECT_ID --role Owner --scope /subscriptions/SUB",
    ),
)
def privileged_user_mfa_registration(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """One result per privileged user; service principals are skipped as MFA does not apply to them."""
    users = registrations_by_id(inventory.user_registrations)
    unlisted = membership_failures(inventory)
    for eligibility in inventory.role_eligibilities:
        if eligibility.unreadable:
            message = unreadable_eligibility(eligibility) + ", and so whether they are registered for MFA"
            unread = {"unreadable": [p.describe() for p in eligibility.unreadable]}
            yield CheckResult(
                eligibility.id, eligibility.type, eligibility.subscription_id, Status.ERROR, message, unread
            )
    for holder in privileged_holders(inventory):
        user = users.get(holder.principal_id.lower())
        kind = principal_kind(holder.principal_type, user)
        if kind == "ServicePrincipal":
            continue
        held = _role_phrase(holder.roles)
        evidence: dict[str, Any] = {
            "principal_id": holder.principal_id,
            "principal_type": holder.principal_type,
            "roles": list(holder.roles),
        }
        if user is None:
            yield CheckResult(
                f"/users/{holder.principal_id}" if kind == "User" else f"/directoryObjects/{holder.principal_id}",
                USER_RESOURCE_TYPE if kind == "User" else DIRECTORY_OBJECT_RESOURCE_TYPE,
                "",
                Status.ERROR,
                _unverifiable(kind, holder, held, len(users), unlisted),
                evidence,
            )
            continue
        evidence |= {
            "userPrincipalName": user.user_principal_name,
            "userDisplayName": user.display_name,
            "userType": user.user_type,
            "isMfaRegistered": user.is_mfa_registered,
            "methodsRegistered": list(user.methods_registered),
        }
        status, message = _registration_verdict(user, held, holder.certainly_privileged)
        yield CheckResult(f"/users/{user.id}", USER_RESOURCE_TYPE, "", status, message, evidence)


def _unverifiable(kind: str, holder: PrivilegedHolder, held: str, listed: int, unlisted: Mapping[str, str]) -> str:
    principal_id = holder.principal_id
    if kind == "User":
        return (
            f"User {principal_id} holds {held} but is not in the MFA registration report ({listed} users "
            "listed), so its MFA registration cannot be shown"
        )
    if kind == "Group":
        reasons = sorted({unlisted[h.lower()] for h in holder.holdings if h.lower() in unlisted})
        why = f" ({'; '.join(reasons)})" if reasons else ""
        return (
            f"Group {principal_id} holds {held}; its members were not collected{why}, so their MFA registration "
            "cannot be shown"
        )
    return (
        f"Principal {principal_id} (type {holder.principal_type or 'not reported'}) holds {held} but is neither a user "
        "in the MFA registration report nor known to be a service principal, so MFA cannot be shown"
    )


def _registration_verdict(user: UserRegistration, held: str, certain: bool) -> tuple[Status, str]:
    label = user_label(user)
    if user.is_mfa_registered is True:
        methods = ", ".join(user.methods_registered) or "methods not listed"
        return Status.PASS, f"{label} holds {held} and is registered for MFA ({methods})"
    if user.is_mfa_registered is False and certain:
        return Status.FAIL, f"{label} holds {held} but is not registered for MFA"
    if user.is_mfa_registered is False:
        return (
            Status.ERROR,
            f"{label} holds {held} and is not registered for MFA; Graph did not report whether the role is privileged",
        )
    return Status.ERROR, f"{label} holds {held}; the registration report gives no isMfaRegistered value"


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
    principals: list[PrincipalGrants],
    max_principals: int,
    allowed_owners: Iterable[str],
    unlisted: Mapping[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Violations (fail) and facts that cannot be shown (error) for one subscription's privileged principals."""
    allowed = {a.strip().lower() for a in allowed_owners}
    problems: list[str] = []
    unknown: list[str] = []
    if len(principals) > max_principals:
        problems.append(
            f"{len(principals)} distinct principals hold privileged roles (at most {max_principals}): "
            + "; ".join(p.describe() for p in principals)
        )
    for p in principals:
        if p.user is not None and is_guest(p.user):
            problems.append(f"guest user {p.describe()}")
        elif p.kind == "User" and p.user is None:
            unknown.append(f"user {p.principal_id} is not in the registration report, so guest status is unknown")
        if p.kind == "ServicePrincipal" and p.holds_owner and p.principal_id.lower() not in allowed:
            problems.append(f"service principal {p.describe()} is not in allowed_owner_principals")
        if p.kind == "Group":
            failed = unlisted or {}
            reasons = sorted({failed[g.assignment_id.lower()] for g in p.grants if g.assignment_id.lower() in failed})
            why = f" ({'; '.join(reasons)})" if reasons else ""
            unknown.append(
                f"group {p.principal_id} holds {'; '.join(sorted({g.describe() for g in p.grants}))}: its members "
                f"were not collected{why}, so the people holding the role cannot be counted"
            )
        if p.kind == "Unknown":
            unknown.append(
                f"principal {p.principal_id} has no reported type and is not in the registration report, so "
                "it cannot be shown to be a member user or an allowed service principal"
            )
    return problems, unknown


def _listing_state(inventory: Inventory, api: str, subscription_id: str) -> bool | None:
    """True when the API was listed for the subscription, False when that listing failed, None when never tried."""
    states = [c.ok for c in inventory.collections if c.api == api and c.subscription_id.lower() == subscription_id]
    if not states:
        return None
    return all(states)


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
def privileged_role_holders(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """One result per subscription: count, guests and service principal Owners of privileged Azure roles."""
    maximum = params.get_int("max_privileged_principals")
    allowed_owners = params.get_list("allowed_owner_principals")
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
        listed = [
            _listing_state(inventory, api, key)
            for api in (ROLE_ASSIGNMENTS_API, ROLE_DEFINITIONS_API, ROLE_ELIGIBILITIES_API, RESOURCE_GROUPS_API)
        ]
        if False in listed:
            # The failed listing is already reported as an error for this subscription.
            continue
        if None in listed:
            yield errored(
                subscription,
                "Role assignments, eligibilities, definitions or resource groups were not collected for this "
                "subscription",
            )
            continue
        principals = by_subscription.get(key, [])
        problems, unknown = privileged_principal_shortfalls(principals, maximum, allowed_owners, unlisted)
        unknown += [
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
        evidence: dict[str, Any] = {
            "max_privileged_principals": maximum,
            "allowed_owner_principals": list(allowed_owners),
            "privileged_principal_count": len(principals),
            "principals": [p.evidence() for p in principals],
        }
        if unknown:
            evidence["unverifiable"] = unknown
        if problems:
            yield failed(subscription, "Privileged roles too widely held: " + " | ".join(problems), **evidence)
        elif unknown:
            yield errored(
                subscription, "Privileged role holders cannot be fully shown: " + " | ".join(unknown), **evidence
            )
        else:
            names = ", ".join(p.name for p in principals) or "none"
            yield passed(
                subscription,
                f"{len(principals)} privileged principal(s) (at most {maximum}), no guests, no unlisted service "
                f"principal Owners: {names}",
                **evidence,
            )
