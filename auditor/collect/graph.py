"""Microsoft Graph collector: security defaults, Conditional Access, directory roles, MFA registration.

GETs against Graph through the session's Graph pipeline (read-only, host-bound, retrying, with a token for
``https://graph.microsoft.com/.default``). Every ``@odata.nextLink`` is followed as Graph gives it: it is
absolute, and the host-bound policy refuses one that points anywhere but the Graph endpoint.

The contract with Graph is strict: a listing's page is a JSON object with a ``value`` list, or the listing
is a malformed response; a next link that repeats, or more than ``MAX_PAGES`` pages, stop it with an error;
bodies are read as bytes (the pipeline's own decoder is bypassed) and parsed by ``base.parse_json``, with
the same size and nesting bound as ARM's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest, HttpResponse

from auditor.collect.base import (
    MAX_PAGES,
    Field,
    MalformedResponseError,
    PerParent,
    Step,
    TenantListing,
    parse_json,
)
from auditor.collect.session import AzureSession
from auditor.records.identity import (
    ConditionalAccessPolicy,
    DirectoryRoleAssignment,
    DirectoryRoleDefinition,
    DirectoryRoleEligibility,
    GroupMember,
    GroupMembership,
    RoleAssignment,
    RoleEligibility,
    SecurityDefaults,
    UserRegistration,
)

GRAPH_VERSION = "v1.0"
# isPrivileged on unifiedRoleDefinition is documented (and returned) only by the beta endpoint.
ROLE_DEFINITIONS_VERSION = "beta"
SECURITY_DEFAULTS_PATH = "/policies/identitySecurityDefaultsEnforcementPolicy"
CONDITIONAL_ACCESS_PATH = "/identity/conditionalAccess/policies"
ROLE_ASSIGNMENTS_PATH = "/roleManagement/directory/roleAssignments"
ROLE_DEFINITIONS_PATH = "/roleManagement/directory/roleDefinitions"
ROLE_ELIGIBILITIES_PATH = "/roleManagement/directory/roleEligibilityScheduleInstances"
USER_REGISTRATIONS_PATH = "/reports/authenticationMethods/userRegistrationDetails"
GROUP_MEMBERS_PATH = "/groups/{id}/transitiveMembers"
# The principal's @odata.type says whether a role is held by a user, a group or a service principal.
EXPAND_PRINCIPAL = "$expand=principal"

# The least-privileged application permission each call needs; a refusal names it in the failure.
PERMISSIONS = {
    SECURITY_DEFAULTS_PATH: "Policy.Read.All",
    CONDITIONAL_ACCESS_PATH: "Policy.Read.All",
    ROLE_ASSIGNMENTS_PATH: "RoleManagement.Read.Directory",
    ROLE_DEFINITIONS_PATH: "RoleManagement.Read.Directory",
    ROLE_ELIGIBILITIES_PATH: "RoleEligibilitySchedule.Read.Directory",
    USER_REGISTRATIONS_PATH: "AuditLog.Read.All",
    GROUP_MEMBERS_PATH: "GroupMember.Read.All",
}
# Listings that need a licence beyond the free tier, and which one.
LICENCES = {
    USER_REGISTRATIONS_PATH: "Microsoft Entra ID P1 or P2",
    ROLE_ELIGIBILITIES_PATH: "Microsoft Entra ID P2 or Microsoft Entra ID Governance",
}
GRAPH_TYPE_PREFIX = "#microsoft.graph."

# What the new identity listings read, as the ARM collectors' contract tables say it (see collect/base.py).
# https://learn.microsoft.com/graph/api/resources/unifiedroledefinition?view=graph-rest-beta
ROLE_DEFINITION_CONTRACT = (
    Field("id", True),
    Field("displayName", True),
    Field("templateId", True),
    Field("isBuiltIn", True),
    # Only the beta endpoint returns it; no default is documented, so absence is unknown, never "not privileged".
    Field("isPrivileged", False),
)
# https://learn.microsoft.com/graph/api/resources/unifiedroleassignment and
# .../unifiedroleeligibilityscheduleinstance: the expanded principal types the holder.
ROLE_HOLDING_CONTRACT = (
    Field("id", True),
    Field("principalId", True),
    Field("roleDefinitionId", True),
    Field("directoryScopeId", True),
    # Absent without $expand=principal (Microsoft's examples): the holder may be a group, so it is unknown.
    Field("principal.@odata.type", False),
    Field("memberType", False, "not read by any check"),
)
# https://learn.microsoft.com/graph/api/group-list-transitivemembers: directoryObjects of several types.
GROUP_MEMBER_CONTRACT = (
    Field("id", True),
    # Absent: a member that may be a user or a service principal, judged as unknown.
    Field("@odata.type", True),
    Field("userPrincipalName", False, "no name to show; the object id is shown"),
    Field("displayName", False, "no name to show; the object id is shown"),
)
# 403 codes Graph gives when the token lacks a permission (or a delegated user lacks the directory role).
PERMISSION_DENIED_CODES = frozenset({"authorization_requestdenied", "accessdenied", "forbidden"})
# Licensed listings: without Microsoft Entra ID P1/P2 Graph refuses the registration report with the first
# code (403), and without P2 the PIM listings with the second (400).
UNLICENSED_CODES = frozenset({"authentication_requestfromnonpremiumtenantorb2ctenant", "aadpremiumlicenserequired"})


def api_name(path: str) -> str:
    """The ``api`` string of a Graph listing, as checks name it in ``requires``."""
    return f"graph:{path}"


def graph_error(response: HttpResponse, path: str) -> HttpResponseError:
    """The exception for a Graph error answer; a refusal says which permission or licence the call needs."""
    error_type = {401: ClientAuthenticationError, 404: ResourceNotFoundError}.get(response.status_code)
    exc = (error_type or HttpResponseError)(response=response)
    code = (getattr(exc.error, "code", None) or "").lower()
    if response.status_code != 403 and code not in UNLICENSED_CODES:
        # A 401 is a token that was not accepted, not a missing permission: Graph's message says why.
        return exc
    if code in UNLICENSED_CODES:
        hint = f"the tenant needs a {LICENCES.get(path, 'Microsoft Entra ID P1 or P2')} licence for this listing"
    elif code in PERMISSION_DENIED_CODES or not code:
        hint = f"the credential needs the Microsoft Graph permission {PERMISSIONS[path]}"
    else:
        return exc
    if exc.error is not None:
        exc.error.message = f"{exc.error.message or exc.reason}; {hint}"
    else:
        exc.reason = f"{exc.reason}; {hint}"
    return exc


def _get(session: AzureSession, url: str, path: str) -> Mapping[str, Any]:
    # stream=True keeps the pipeline's decoder off the body, so only the bounded parse_json reads it.
    response = session.graph_client().send_request(HttpRequest("GET", url), stream=True)
    raw = response.read()
    if response.status_code != 200:
        raise graph_error(response, path)
    body = parse_json(raw, f"Graph {path}")
    if not isinstance(body, dict):
        raise MalformedResponseError(f"Graph answered {path} with a JSON {type(body).__name__}, not an object")
    return body


def graph_url(session: AzureSession, path: str, *, version: str = GRAPH_VERSION, query: str = "") -> str:
    """The absolute URL of a Graph path."""
    return f"{session.graph_url}/{version}{path}" + (f"?{query}" if query else "")


def graph_object(session: AzureSession, path: str) -> Mapping[str, Any]:
    """One Graph object, e.g. the security defaults policy."""
    return _get(session, graph_url(session, path), path)


def graph_list(
    session: AzureSession, path: str, *, url: str | None = None, max_pages: int = MAX_PAGES
) -> Iterator[Mapping[str, Any]]:
    """Every item of a Graph collection, following ``@odata.nextLink`` page by page.

    ``path`` names the listing (in errors and for the permission it needs); ``url`` is its first page
    when that is not the v1.0 path itself (another version, a query, an id filled in).
    """
    link: str | None = url or graph_url(session, path)
    seen: set[str] = set()
    while link is not None:
        if len(seen) >= max_pages:
            raise MalformedResponseError(f"Graph gave more than {max_pages} pages for {path}; stopped there")
        seen.add(link)
        page = _get(session, link, path)
        items = page.get("value")
        if not isinstance(items, list):
            raise MalformedResponseError(f"Graph answered {path} without a 'value' list")
        for item in items:
            if not isinstance(item, dict):
                raise MalformedResponseError(f"an item of {path} is a JSON {type(item).__name__}, not an object")
        yield from items
        following = page.get("@odata.nextLink")
        if following is not None and not isinstance(following, str):
            raise MalformedResponseError(f"the @odata.nextLink of {path} is not a string")
        if following in seen:
            # A link that repeats would page forever and count the same items twice.
            raise MalformedResponseError(f"Graph repeated the @odata.nextLink of {path}: {following}")
        link = following


def _strings(value: Any, where: str) -> tuple[str, ...]:
    """A JSON list of strings as a tuple; absent or null is an empty tuple."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"{where} is not a list of strings")
    return tuple(value)


def _flag(value: Any, where: str) -> bool | None:
    """A JSON boolean; absent or null stays None."""
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"{where} is not true or false")


def _text(value: Any, where: str) -> str | None:
    """A JSON string; absent or null stays None."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{where} is not a string")


def _object(value: Any, where: str) -> Mapping[str, Any]:
    """A JSON object; absent or null is empty (Graph sends null for conditions it does not use)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{where} is not an object")
    return value


def _id(item: Mapping[str, Any], where: str) -> str:
    value = item.get("id")
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where} has no id")
    return value


def security_defaults(item: Mapping[str, Any]) -> SecurityDefaults:
    """The security defaults record from ``identitySecurityDefaultsEnforcementPolicy``."""
    return SecurityDefaults(
        id=_id(item, "the security defaults policy"),
        is_enabled=_flag(item.get("isEnabled"), "isEnabled"),
    )


def conditional_access_policy(item: Mapping[str, Any]) -> ConditionalAccessPolicy:
    """A Conditional Access policy record, reduced to who, which apps and what grant it requires."""
    policy_id = _id(item, "a Conditional Access policy")
    where = f"policy {policy_id}"
    conditions = _object(item.get("conditions"), f"{where} conditions")
    users = _object(conditions.get("users"), f"{where} conditions.users")
    apps = _object(conditions.get("applications"), f"{where} conditions.applications")
    # Graph sends grantControls null for a policy with session controls only: no grant is required.
    controls = _object(item.get("grantControls"), f"{where} grantControls")
    strength = _object(controls.get("authenticationStrength"), f"{where} authenticationStrength")
    return ConditionalAccessPolicy(
        id=policy_id,
        display_name=_text(item.get("displayName"), f"{where} displayName") or "",
        state=_text(item.get("state"), f"{where} state"),
        include_users=_strings(users.get("includeUsers"), f"{where} includeUsers"),
        exclude_users=_strings(users.get("excludeUsers"), f"{where} excludeUsers"),
        include_groups=_strings(users.get("includeGroups"), f"{where} includeGroups"),
        exclude_groups=_strings(users.get("excludeGroups"), f"{where} excludeGroups"),
        include_roles=_strings(users.get("includeRoles"), f"{where} includeRoles"),
        exclude_roles=_strings(users.get("excludeRoles"), f"{where} excludeRoles"),
        include_applications=_strings(apps.get("includeApplications"), f"{where} includeApplications"),
        exclude_applications=_strings(apps.get("excludeApplications"), f"{where} excludeApplications"),
        grant_operator=_text(controls.get("operator"), f"{where} grantControls.operator"),
        built_in_controls=_strings(controls.get("builtInControls"), f"{where} builtInControls"),
        authentication_strength=_text(strength.get("id"), f"{where} authenticationStrength.id"),
    )


def odata_kind(item: Mapping[str, Any], where: str) -> str | None:
    """The object's ``@odata.type`` without ``#microsoft.graph.`` (user, group, servicePrincipal); None if absent."""
    value = _text(item.get("@odata.type"), f"{where} @odata.type")
    if not value:
        return None
    return value[len(GRAPH_TYPE_PREFIX) :] if value.lower().startswith(GRAPH_TYPE_PREFIX) else value.lstrip("#")


def _principal_kind(item: Mapping[str, Any], where: str) -> str | None:
    """The kind of an expanded ``principal``; None when Graph did not expand it or did not type it."""
    principal = _object(item.get("principal"), f"{where} principal")
    return odata_kind(principal, f"{where} principal") if principal else None


def _role_holding(item: Mapping[str, Any], what: str) -> tuple[str, str, str, str | None, str | None]:
    """Id, principal, role, directory scope and principal kind shared by assignments and eligibilities."""
    holding_id = _id(item, f"a directory role {what}")
    where = f"role {what} {holding_id}"
    principal = _text(item.get("principalId"), f"{where} principalId")
    role = _text(item.get("roleDefinitionId"), f"{where} roleDefinitionId")
    if not principal or not role:
        raise ValueError(f"{where} has no principalId or roleDefinitionId")
    scope = _text(item.get("directoryScopeId"), f"{where} directoryScopeId")
    return holding_id, principal, role, scope, _principal_kind(item, where)


def directory_role_assignment(item: Mapping[str, Any]) -> DirectoryRoleAssignment:
    """A directory role assignment; ``roleDefinitionId`` is the role's template id for built-in roles."""
    assignment_id, principal, role, scope, kind = _role_holding(item, "assignment")
    return DirectoryRoleAssignment(
        id=assignment_id,
        principal_id=principal,
        role_definition_id=role,
        directory_scope_id=scope,
        principal_type=kind,
    )


def directory_role_eligibility(item: Mapping[str, Any]) -> DirectoryRoleEligibility:
    """A PIM eligibility for a directory role (an instance: the eligibility as it holds now)."""
    eligibility_id, principal, role, scope, kind = _role_holding(item, "eligibility")
    return DirectoryRoleEligibility(
        id=eligibility_id,
        principal_id=principal,
        role_definition_id=role,
        directory_scope_id=scope,
        principal_type=kind,
        member_type=_text(item.get("memberType"), f"role eligibility {eligibility_id} memberType"),
    )


def directory_role_definition(item: Mapping[str, Any]) -> DirectoryRoleDefinition:
    """A directory role definition with ``isPrivileged``, Microsoft's own marking of privileged roles."""
    definition_id = _id(item, "a directory role definition")
    where = f"role definition {definition_id}"
    return DirectoryRoleDefinition(
        id=definition_id,
        display_name=_text(item.get("displayName"), f"{where} displayName") or definition_id,
        template_id=_text(item.get("templateId"), f"{where} templateId"),
        is_built_in=_flag(item.get("isBuiltIn"), f"{where} isBuiltIn"),
        # No documented default: an absent isPrivileged stays None, which checks judge as unknown.
        is_privileged=_flag(item.get("isPrivileged"), f"{where} isPrivileged"),
    )


def group_member(item: Mapping[str, Any], group_id: str) -> GroupMember:
    """One transitive member of a group, typed by its ``@odata.type``."""
    member_id = _id(item, f"a member of group {group_id}")
    where = f"member {member_id} of group {group_id}"
    return GroupMember(
        id=member_id,
        kind=odata_kind(item, where),
        user_principal_name=_text(item.get("userPrincipalName"), f"{where} userPrincipalName"),
        display_name=_text(item.get("displayName"), f"{where} displayName"),
    )


def user_registration(item: Mapping[str, Any]) -> UserRegistration:
    """A user's registration details; MFA evidence is ``isMfaRegistered`` (``isMfaCapable`` also needs policy)."""
    user_id = _id(item, "a user registration")
    where = f"user registration {user_id}"
    return UserRegistration(
        id=user_id,
        user_principal_name=_text(item.get("userPrincipalName"), f"{where} userPrincipalName") or "",
        display_name=_text(item.get("userDisplayName"), f"{where} userDisplayName"),
        user_type=_text(item.get("userType"), f"{where} userType"),
        is_admin=_flag(item.get("isAdmin"), f"{where} isAdmin"),
        is_mfa_registered=_flag(item.get("isMfaRegistered"), f"{where} isMfaRegistered"),
        methods_registered=_strings(item.get("methodsRegistered"), f"{where} methodsRegistered"),
    )


def list_security_defaults(session: AzureSession) -> Iterator[SecurityDefaults]:
    """The tenant's security defaults policy (one record)."""
    yield security_defaults(graph_object(session, SECURITY_DEFAULTS_PATH))


def list_conditional_access_policies(session: AzureSession) -> Iterator[ConditionalAccessPolicy]:
    """Every Conditional Access policy of the tenant, whatever its state."""
    for item in graph_list(session, CONDITIONAL_ACCESS_PATH):
        yield conditional_access_policy(item)


def list_directory_role_assignments(session: AzureSession) -> Iterator[DirectoryRoleAssignment]:
    """Every active directory role assignment, with its principal's type (PIM eligibilities are listed apart)."""
    url = graph_url(session, ROLE_ASSIGNMENTS_PATH, query=EXPAND_PRINCIPAL)
    for item in graph_list(session, ROLE_ASSIGNMENTS_PATH, url=url):
        yield directory_role_assignment(item)


def list_directory_role_eligibilities(session: AzureSession) -> Iterator[DirectoryRoleEligibility]:
    """Every PIM-eligible directory role holding in force now, with its principal's type."""
    url = graph_url(session, ROLE_ELIGIBILITIES_PATH, query=EXPAND_PRINCIPAL)
    for item in graph_list(session, ROLE_ELIGIBILITIES_PATH, url=url):
        yield directory_role_eligibility(item)


def list_directory_role_definitions(session: AzureSession) -> Iterator[DirectoryRoleDefinition]:
    """Every directory role definition, built-in and custom, with ``isPrivileged`` (from the beta endpoint)."""
    url = graph_url(session, ROLE_DEFINITIONS_PATH, version=ROLE_DEFINITIONS_VERSION)
    for item in graph_list(session, ROLE_DEFINITIONS_PATH, url=url):
        yield directory_role_definition(item)


def list_group_members(session: AzureSession, group_id: str, subscription_id: str = "") -> GroupMembership:
    """Every transitive member of one group (nested groups flattened by Graph)."""
    if not group_id.strip(". "):
        raise ValueError(f"group id {group_id!r} cannot name a Graph group")
    # The id comes from an answer: escaped, it stays one path segment whatever it holds.
    url = graph_url(session, GROUP_MEMBERS_PATH.replace("{id}", quote(group_id, safe="")))
    members = tuple(group_member(item, group_id) for item in graph_list(session, GROUP_MEMBERS_PATH, url=url))
    return GroupMembership(
        id=f"/groups/{group_id}", group_id=group_id, members=members, subscription_id=subscription_id
    )


# Azure reports a group principal as Group; a group of another tenant (ForeignGroup) cannot be listed here.
_GROUP_KINDS = frozenset({"group"})


def members_of_group_holder(
    session: AzureSession,
    holder: DirectoryRoleAssignment | DirectoryRoleEligibility | RoleAssignment | RoleEligibility,
) -> Iterator[GroupMembership]:
    """The transitive members of the holder when it is a group; nothing (and no call) otherwise."""
    if (holder.principal_type or "").lower() in _GROUP_KINDS:
        yield list_group_members(session, holder.principal_id, holder.subscription_id)


def list_user_registrations(session: AzureSession) -> Iterator[UserRegistration]:
    """Every user's authentication-method registration from the registration report."""
    for item in graph_list(session, USER_REGISTRATIONS_PATH):
        yield user_registration(item)


GROUP_MEMBERS_API = api_name(GROUP_MEMBERS_PATH)

STEPS: tuple[Step, ...] = (
    TenantListing(api_name(SECURITY_DEFAULTS_PATH), "security_defaults", list_security_defaults),
    TenantListing(api_name(CONDITIONAL_ACCESS_PATH), "conditional_access_policies", list_conditional_access_policies),
    TenantListing(api_name(ROLE_ASSIGNMENTS_PATH), "directory_role_assignments", list_directory_role_assignments),
    TenantListing(api_name(USER_REGISTRATIONS_PATH), "user_registrations", list_user_registrations),
    TenantListing(api_name(ROLE_DEFINITIONS_PATH), "directory_role_definitions", list_directory_role_definitions),
    TenantListing(api_name(ROLE_ELIGIBILITIES_PATH), "directory_role_eligibilities", list_directory_role_eligibilities),
    # A group holding a role is expanded, so its members are judged as the holders they are. Directory
    # holders are expanded once for the tenant; Azure holders with their subscription.
    PerParent(GROUP_MEMBERS_API, "directory_role_assignments", "group_memberships", members_of_group_holder),
    PerParent(GROUP_MEMBERS_API, "directory_role_eligibilities", "group_memberships", members_of_group_holder),
    PerParent(GROUP_MEMBERS_API, "role_assignments", "group_memberships", members_of_group_holder),
    # Phase 2: eligibilities on resource groups are themselves read per group, in phase 1.
    PerParent(GROUP_MEMBERS_API, "role_eligibilities", "group_memberships", members_of_group_holder, phase=2),
)
