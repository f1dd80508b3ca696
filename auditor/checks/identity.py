"""Identity checks: MFA for Azure management (IAM-01) and few privileged principals (IAM-02)."""

from __future__ import annotations

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
    RoleAssignment,
    RoleDefinition,
    SecurityDefaults,
    UserRegistration,
)
from auditor.registry import Remediation, check

SECURITY_DEFAULTS_API = "graph:/policies/identitySecurityDefaultsEnforcementPolicy"
CONDITIONAL_ACCESS_API = "graph:/identity/conditionalAccess/policies"
DIRECTORY_ROLES_API = "graph:/roleManagement/directory/roleAssignments"
REGISTRATIONS_API = "graph:/reports/authenticationMethods/userRegistrationDetails"
ROLE_ASSIGNMENTS_API = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITIONS_API = "Microsoft.Authorization/roleDefinitions"

# The "Windows Azure Service Management API" app: the portal, Azure CLI, PowerShell and ARM itself.
MANAGEMENT_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"

# Directory roles whose holders can take over the tenant or its Azure subscriptions (role template ids).
PRIVILEGED_DIRECTORY_ROLES: Mapping[str, str] = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
}

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

    def describe(self) -> str:
        """Role and scope in one phrase."""
        role = f"{self.role_name} (custom role, {self.privilege}-equivalent)" if self.custom else self.role_name
        return f"{role} at {self.level} {self.scope}"

    def evidence(self) -> dict[str, Any]:
        """The assignment fields that make the grant privileged."""
        return {
            "role": self.role_name,
            "privilege": self.privilege.value,
            "custom_role": self.custom,
            "scope": self.scope,
            "scope_level": self.level,
            "role_assignment_id": self.assignment_id,
        }


@dataclass(frozen=True)
class UnresolvedAssignment:
    """An assignment at a privileged-relevant scope whose role definition was not collected."""

    assignment: RoleAssignment
    level: str


def privileged_grants(
    assignments: Iterable[RoleAssignment], definitions: Iterable[RoleDefinition]
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
            )
        )
    return grants, unresolved


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


def uncovered_privileged_roles(policy: ConditionalAccessPolicy) -> list[str]:
    """Privileged directory roles the policy's users condition leaves out; empty when it covers All users."""
    if "all" in {u.lower() for u in policy.include_users}:
        return []
    included = {r.lower() for r in policy.include_roles}
    return [name for role, name in PRIVILEGED_DIRECTORY_ROLES.items() if role not in included]


def disallowed_exclusions(
    policy: ConditionalAccessPolicy, break_glass: Iterable[str], upn_of: Mapping[str, str]
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
    found += [f"role {PRIVILEGED_DIRECTORY_ROLES.get(role.lower(), role)}" for role in policy.exclude_roles]
    return found


def policy_shortfalls(
    policy: ConditionalAccessPolicy, break_glass: Iterable[str], upn_of: Mapping[str, str]
) -> list[str]:
    """Each reason the policy does not enforce MFA on Azure management for every administrator; empty when none."""
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
    missing = uncovered_privileged_roles(policy)
    if missing:
        problems.append(f"covers neither All users nor every privileged role (missing {', '.join(missing)})")
    excluded = disallowed_exclusions(policy, break_glass, upn_of)
    if excluded:
        problems.append(f"excludes {', '.join(excluded)}, which are not listed break-glass accounts")
    return problems


def _policy_evidence(policy: ConditionalAccessPolicy, problems: list[str]) -> dict[str, Any]:
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
    defaults: SecurityDefaults | None = next(iter(inventory.security_defaults), None)
    enabled_defaults = defaults.is_enabled if defaults is not None else None
    judged = [(p, policy_shortfalls(p, break_glass, upn_of)) for p in inventory.conditional_access_policies]
    evidence: dict[str, Any] = {
        "securityDefaults.isEnabled": enabled_defaults,
        "break_glass_accounts": list(break_glass),
        "policies": [_policy_evidence(p, problems) for p, problems in judged],
    }
    if enabled_defaults is True:
        yield _tenant_result(
            Status.PASS, "Security defaults are enabled: MFA is required for Azure management", evidence
        )
        return
    enforcing = [p for p, problems in judged if not problems]
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
    # Policies that ask for MFA are the near misses worth naming; the rest are in the evidence.
    near = [(p, problems) for p, problems in judged if requires_mfa(p)]
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
    """A principal holding privileged directory or Azure roles, with the type Azure reported for it."""

    principal_id: str
    principal_type: str | None
    roles: tuple[dict[str, Any], ...]


def privileged_holders(inventory: Inventory) -> list[PrivilegedHolder]:
    """Every holder of a privileged directory role or of a privileged Azure role at sub/group scope."""
    roles: dict[str, list[dict[str, Any]]] = {}
    ids: dict[str, str] = {}
    for assignment in inventory.directory_role_assignments:
        name = PRIVILEGED_DIRECTORY_ROLES.get(assignment.role_definition_id.lower())
        if name is None:
            continue
        key = assignment.principal_id.lower()
        ids.setdefault(key, assignment.principal_id)
        scope = assignment.directory_scope_id or "/"
        roles.setdefault(key, []).append({"role": name, "kind": "directory role", "scope": scope})
    grants, _ = privileged_grants(inventory.role_assignments, inventory.role_definitions)
    for grant in grants:
        key = grant.principal_id.lower()
        ids.setdefault(key, grant.principal_id)
        roles.setdefault(key, []).append({"kind": "Azure role"} | grant.evidence())
    # Azure role assignments say what kind of principal an id is; directory role assignments do not.
    types = {a.principal_id.lower(): a.principal_type for a in inventory.role_assignments if a.principal_type}
    return [PrivilegedHolder(ids[key], types.get(key), tuple(roles[key])) for key in sorted(roles)]


def _role_phrase(roles: Iterable[Mapping[str, Any]]) -> str:
    phrases = sorted(
        {f"{r['role']} (directory)" if r["kind"] == "directory role" else f"{r['role']} at {r['scope']}" for r in roles}
    )
    return ", ".join(phrases)


@check(
    id="privileged_user_mfa_registration",
    title="Every holder of a privileged directory role or of Owner, Contributor or User Access Administrator has MFA",
    severity=Severity.CRITICAL,
    resource_types=(USER_RESOURCE_TYPE,),
    requires=(DIRECTORY_ROLES_API, REGISTRATIONS_API, ROLE_ASSIGNMENTS_API, ROLE_DEFINITIONS_API),
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
                _unverifiable(kind, holder, held, len(users)),
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
        status, message = _registration_verdict(user, held)
        yield CheckResult(f"/users/{user.id}", USER_RESOURCE_TYPE, "", status, message, evidence)


def _unverifiable(kind: str, holder: PrivilegedHolder, held: str, listed: int) -> str:
    principal_id = holder.principal_id
    if kind == "User":
        return (
            f"User {principal_id} holds {held} but is not in the MFA registration report ({listed} users "
            "listed), so its MFA registration cannot be shown"
        )
    if kind == "Group":
        return (
            f"Group {principal_id} holds {held}; its members were not collected, so their MFA registration "
            "cannot be shown"
        )
    return (
        f"Principal {principal_id} (type {holder.principal_type or 'not reported'}) holds {held} but is neither a user "
        "in the MFA registration report nor known to be a service principal, so MFA cannot be shown"
    )


def _registration_verdict(user: UserRegistration, held: str) -> tuple[Status, str]:
    label = user_label(user)
    if user.is_mfa_registered is True:
        methods = ", ".join(user.methods_registered) or "methods not listed"
        return Status.PASS, f"{label} holds {held} and is registered for MFA ({methods})"
    if user.is_mfa_registered is False:
        return Status.FAIL, f"{label} holds {held} but is not registered for MFA"
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
    principals: list[PrincipalGrants], max_principals: int, allowed_owners: Iterable[str]
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
            unknown.append(
                f"group {p.principal_id} holds {'; '.join(sorted({g.describe() for g in p.grants}))}: its members "
                "were not collected, so the people holding the role cannot be counted"
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
    requires=(ROLE_ASSIGNMENTS_API, ROLE_DEFINITIONS_API, REGISTRATIONS_API),
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
    grants, unresolved = privileged_grants(inventory.role_assignments, inventory.role_definitions)
    by_subscription = principals_by_subscription(grants, registrations_by_id(inventory.user_registrations))
    subscriptions = {s.subscription_id.lower(): s for s in inventory.subscriptions}
    for assignment in inventory.role_assignments:
        # An assignment of a subscription the listing did not name still needs a verdict.
        sub_id = assignment.subscription_id
        subscriptions.setdefault(sub_id.lower(), Subscription(sub_id, "", ""))
    for key, subscription in sorted(subscriptions.items()):
        listed = [_listing_state(inventory, api, key) for api in (ROLE_ASSIGNMENTS_API, ROLE_DEFINITIONS_API)]
        if False in listed:
            # The failed listing is already reported as an error for this subscription.
            continue
        if None in listed:
            yield errored(subscription, "Role assignments or definitions were not collected for this subscription")
            continue
        principals = by_subscription.get(key, [])
        problems, unknown = privileged_principal_shortfalls(principals, maximum, allowed_owners)
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
