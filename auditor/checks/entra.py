"""Microsoft Entra ID checks (IAM-01): MFA enforced for Azure management, and every privileged holder
registered for MFA."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.checks.roles import (
    REGISTRATIONS_API,
    RESOURCE_GROUPS_API,
    ROLE_ASSIGNMENTS_API,
    ROLE_DEFINITIONS_API,
    ROLE_ELIGIBILITIES_API,
    azure_grants,
    azure_holdings,
    is_group,
    member_principals,
    membership_failures,
    memberships_by_group,
    principal_kind,
    registrations_by_id,
    unreadable_eligibility,
    user_label,
)
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.identity import (
    ConditionalAccessPolicy,
    DirectoryRoleAssignment,
    DirectoryRoleDefinition,
    DirectoryRoleEligibility,
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

# The "Windows Azure Service Management API" app: the portal, Azure CLI, PowerShell and ARM itself.
MANAGEMENT_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"

# The tenant is not an ARM resource and the inventory does not carry its id: one fixed id keeps the
# tenant-wide finding stable across runs, whichever policy happens to satisfy it.
TENANT_RESOURCE_ID = "/tenants/tenant"
TENANT_RESOURCE_TYPE = "microsoft.graph.organization"
USER_RESOURCE_TYPE = "microsoft.graph.user"
DIRECTORY_OBJECT_RESOURCE_TYPE = "microsoft.graph.directoryObject"

MFA_GRANTS = frozenset({"mfa", "authenticationstrength"})


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


@dataclass(frozen=True)
class TenantMfaPolicies:
    """The tenant's security defaults and Conditional Access policies: what IAM-01 (a) judges, once per tenant.

    The registration report is joined only to turn excluded object ids into UPNs, so that a break-glass
    account listed by UPN is recognised; the directory role definitions only for a policy that names roles
    instead of All users.
    """

    security_defaults: SecurityDefaults | None
    policies: tuple[ConditionalAccessPolicy, ...]
    upn_of: Mapping[str, str]
    roles: DirectoryRoles

    @property
    def id(self) -> str:
        """The tenant's fixed id."""
        return TENANT_RESOURCE_ID

    @property
    def type(self) -> str:
        """The tenant's type."""
        return TENANT_RESOURCE_TYPE

    @property
    def subscription_id(self) -> str:
        """None: the tenant is above every subscription."""
        return ""


def tenant_mfa_policies(inventory: Inventory) -> Iterator[TenantMfaPolicies]:
    """The one tenant the scan signed in to, with its MFA settings; every tenant has one, listed or not."""
    yield TenantMfaPolicies(
        security_defaults=next(iter(inventory.security_defaults), None),
        policies=tuple(inventory.conditional_access_policies),
        upn_of={r.id.lower(): r.user_principal_name for r in inventory.user_registrations},
        roles=DirectoryRoles.of(inventory.directory_role_definitions),
    )


@check(
    id="management_mfa_enforced",
    title="Security defaults or an enabled Conditional Access policy require MFA for Azure management for every admin",
    severity=Severity.CRITICAL,
    resource_types=(TENANT_RESOURCE_TYPE,),
    requires=(SECURITY_DEFAULTS_API, CONDITIONAL_ACCESS_API),
    over=tenant_mfa_policies,
    subject="Microsoft Entra tenants",
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
def management_mfa_enforced(tenant: TenantMfaPolicies, params: Params) -> Verdict:
    """Pass on security defaults or on one enforced MFA policy with only break-glass exclusions."""
    break_glass = params.get_list("break_glass_accounts")
    # The registration report is deliberately not in `requires`: without it an exclusion stays unmatched and
    # fails (never passes by absence), and the verdict of a security-defaults tenant, which lacks the licence
    # the report needs, is not lost to a collection error. Role definitions likewise: their absence leaves a
    # policy that names roles unproven (error), never passed.
    upn_of, roles, defaults = tenant.upn_of, tenant.roles, tenant.security_defaults
    enabled_defaults = defaults.is_enabled if defaults is not None else None
    judged = [(p, *policy_shortfalls(p, break_glass, upn_of, roles)) for p in tenant.policies]
    evidence: dict[str, Any] = {
        "securityDefaults.isEnabled": enabled_defaults,
        "break_glass_accounts": list(break_glass),
        "policies": [_policy_evidence(p, problems, unknown) for p, problems, unknown in judged],
    }
    if enabled_defaults is True:
        return passing("Security defaults are enabled: MFA is required for Azure management", **evidence)
    enforcing = [p for p, problems, unknown in judged if not problems and not unknown]
    if enforcing:
        names = ", ".join(f"'{p.display_name}' ({p.id})" for p in enforcing)
        excluded = sorted({upn_of.get(u.lower()) or u for p in enforcing for u in p.exclude_users})
        note = f"; excludes only break-glass {', '.join(excluded)}" if excluded else ""
        return passing(
            f"Conditional Access policy {names} requires MFA for Azure management for every administrator{note}",
            **evidence,
            enforced_by=[p.id for p in enforcing],
        )
    unproven = [(p, unknown) for p, problems, unknown in judged if not problems]
    if unproven:
        detail = "; ".join(f"'{p.display_name}': {', '.join(unknown)}" for p, unknown in unproven)
        return erroring(
            f"No Conditional Access policy is shown to enforce MFA for Azure management for every administrator: "
            f"{detail}",
            **evidence,
        )
    # Policies that ask for MFA are the near misses worth naming; the rest are in the evidence.
    near = [(p, problems) for p, problems, _ in judged if requires_mfa(p)]
    detail = "; ".join(f"'{p.display_name}': {', '.join(problems)}" for p, problems in near)
    policies = detail if near else f"none of {len(judged)} Conditional Access policies requires MFA"
    if enabled_defaults is None:
        what = "not collected" if defaults is None else "isEnabled not reported"
        return erroring(
            f"Security defaults {what}, and no Conditional Access policy enforces MFA for Azure management: {policies}",
            **evidence,
        )
    return failing(
        f"Security defaults are disabled and no enabled Conditional Access policy enforces MFA for Azure "
        f"management for every administrator: {policies}",
        **evidence,
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


@dataclass(frozen=True)
class PrivilegedUser:
    """A holder of privileged roles joined with its registration details: what IAM-01 (b) judges."""

    holder: PrivilegedHolder
    kind: str
    user: UserRegistration | None
    # Users the registration report listed, and why group member listings failed, to say why one is unknown.
    listed: int
    unlisted: Mapping[str, str]

    @property
    def id(self) -> str:
        """The user's Graph path, or a directory object's when the holder is not known to be a user."""
        if self.user is not None:
            return f"/users/{self.user.id}"
        prefix = "/users/" if self.kind == "User" else "/directoryObjects/"
        return prefix + self.holder.principal_id

    @property
    def type(self) -> str:
        """A Graph user, or a directory object of unknown kind."""
        return USER_RESOURCE_TYPE if self.user is not None or self.kind == "User" else DIRECTORY_OBJECT_RESOURCE_TYPE

    @property
    def subscription_id(self) -> str:
        """None: directory objects are above every subscription."""
        return ""


def privileged_users(inventory: Inventory) -> Iterator[PrivilegedUser | RoleEligibility]:
    """Every holder of a privileged role with its registration, and every eligibility too unreadable to say whose."""
    yield from (e for e in inventory.role_eligibilities if e.unreadable)
    users = registrations_by_id(inventory.user_registrations)
    unlisted = membership_failures(inventory)
    for holder in privileged_holders(inventory):
        user = users.get(holder.principal_id.lower())
        kind = principal_kind(holder.principal_type, user)
        yield PrivilegedUser(holder, kind, user, len(users), unlisted)


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
    over=privileged_users,
    subject="holders of privileged directory or Azure roles",
)
def privileged_user_mfa_registration(subject: PrivilegedUser | RoleEligibility, params: Params) -> Verdict | None:
    """A privileged user passes when registered for MFA; service principals are skipped as MFA does not apply."""
    if isinstance(subject, RoleEligibility):
        message = unreadable_eligibility(subject) + ", and so whether they are registered for MFA"
        return erroring(message, unreadable=[p.describe() for p in subject.unreadable])
    holder, kind, user = subject.holder, subject.kind, subject.user
    if kind == "ServicePrincipal":
        return None
    held = _role_phrase(holder.roles)
    evidence: dict[str, Any] = {
        "principal_id": holder.principal_id,
        "principal_type": holder.principal_type,
        "roles": list(holder.roles),
    }
    if user is None:
        return erroring(_unverifiable(kind, holder, held, subject.listed, subject.unlisted), **evidence)
    evidence |= {
        "userPrincipalName": user.user_principal_name,
        "userDisplayName": user.display_name,
        "userType": user.user_type,
        "isMfaRegistered": user.is_mfa_registered,
        "methodsRegistered": list(user.methods_registered),
    }
    return _registration_verdict(user, held, holder.certainly_privileged, evidence)


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


def _registration_verdict(user: UserRegistration, held: str, certain: bool, evidence: dict[str, Any]) -> Verdict:
    label = user_label(user)
    if user.is_mfa_registered is True:
        methods = ", ".join(user.methods_registered) or "methods not listed"
        return passing(f"{label} holds {held} and is registered for MFA ({methods})", **evidence)
    if user.is_mfa_registered is False and certain:
        return failing(f"{label} holds {held} but is not registered for MFA", **evidence)
    if user.is_mfa_registered is False:
        return erroring(
            f"{label} holds {held} and is not registered for MFA; Graph did not report whether the role is privileged",
            **evidence,
        )
    return erroring(f"{label} holds {held}; the registration report gives no isMfaRegistered value", **evidence)
