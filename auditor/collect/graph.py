"""Microsoft Graph collector: security defaults, Conditional Access, directory roles, MFA registration.

Four GETs against Graph v1.0 through the session's Graph pipeline (read-only, host-bound, retrying, with a
token for ``https://graph.microsoft.com/.default``). Every ``@odata.nextLink`` is followed as Graph gives
it: it is absolute, and the host-bound policy refuses one that points anywhere but the Graph endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from azure.core.exceptions import ClientAuthenticationError, DecodeError, HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest, HttpResponse

from auditor.collect.base import Step, TenantListing
from auditor.collect.session import AzureSession
from auditor.records.identity import (
    ConditionalAccessPolicy,
    DirectoryRoleAssignment,
    SecurityDefaults,
    UserRegistration,
)

GRAPH_VERSION = "v1.0"
SECURITY_DEFAULTS_PATH = "/policies/identitySecurityDefaultsEnforcementPolicy"
CONDITIONAL_ACCESS_PATH = "/identity/conditionalAccess/policies"
ROLE_ASSIGNMENTS_PATH = "/roleManagement/directory/roleAssignments"
USER_REGISTRATIONS_PATH = "/reports/authenticationMethods/userRegistrationDetails"

# The least-privileged application permission each call needs; a refusal names it in the failure.
PERMISSIONS = {
    SECURITY_DEFAULTS_PATH: "Policy.Read.All",
    CONDITIONAL_ACCESS_PATH: "Policy.Read.All",
    ROLE_ASSIGNMENTS_PATH: "RoleManagement.Read.Directory",
    USER_REGISTRATIONS_PATH: "AuditLog.Read.All",
}
# 403 codes Graph gives when the token lacks a permission (or a delegated user lacks the directory role).
PERMISSION_DENIED_CODES = frozenset({"authorization_requestdenied", "accessdenied", "forbidden"})
# The registration report is licensed: without Microsoft Entra ID P1/P2 Graph refuses it with this code.
UNLICENSED_CODE = "authentication_requestfromnonpremiumtenantorb2ctenant"


def api_name(path: str) -> str:
    """The ``api`` string of a Graph listing, as checks name it in ``requires``."""
    return f"graph:{path}"


def graph_error(response: HttpResponse, path: str) -> HttpResponseError:
    """The exception for a Graph error answer; a refusal says which permission or licence the call needs."""
    error_type = {401: ClientAuthenticationError, 404: ResourceNotFoundError}.get(response.status_code)
    exc = (error_type or HttpResponseError)(response=response)
    if response.status_code != 403:
        # A 401 is a token that was not accepted, not a missing permission: Graph's message says why.
        return exc
    code = (getattr(exc.error, "code", None) or "").lower()
    if code == UNLICENSED_CODE:
        hint = "the tenant needs a Microsoft Entra ID P1 or P2 licence for this report"
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
    try:
        response = session.graph_client().send_request(HttpRequest("GET", url))
    except DecodeError as exc:
        # The pipeline decodes JSON bodies itself; a body it cannot read is an error answer if the status
        # says so, and a malformed answer otherwise (not "HTTP 200: OK").
        if isinstance(exc.response, HttpResponse) and exc.response.status_code != 200:
            raise graph_error(exc.response, path) from exc
        raise ValueError(f"Graph answered {path} with a body that is not JSON: {exc.message}") from exc
    if response.status_code != 200:
        raise graph_error(response, path)
    body = response.json()
    if not isinstance(body, dict):
        raise TypeError(f"Graph answered {path} with a JSON {type(body).__name__}, not an object")
    return body


def graph_object(session: AzureSession, path: str) -> Mapping[str, Any]:
    """One Graph object, e.g. the security defaults policy."""
    return _get(session, f"{session.graph_url}/{GRAPH_VERSION}{path}", path)


def graph_list(session: AzureSession, path: str) -> Iterator[Mapping[str, Any]]:
    """Every item of a Graph collection, following ``@odata.nextLink`` page by page."""
    link: str | None = f"{session.graph_url}/{GRAPH_VERSION}{path}"
    seen: set[str] = set()
    while link is not None:
        seen.add(link)
        page = _get(session, link, path)
        items = page.get("value")
        if not isinstance(items, list):
            raise TypeError(f"Graph answered {path} without a 'value' list")
        for item in items:
            if not isinstance(item, dict):
                raise TypeError(f"an item of {path} is a JSON {type(item).__name__}, not an object")
            yield item
        following = page.get("@odata.nextLink")
        if following is not None and not isinstance(following, str):
            raise TypeError(f"the @odata.nextLink of {path} is not a string")
        if following in seen:
            # A link that repeats would page forever and count the same items twice.
            raise ValueError(f"Graph repeated the @odata.nextLink of {path}: {following}")
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


def directory_role_assignment(item: Mapping[str, Any]) -> DirectoryRoleAssignment:
    """A directory role assignment; ``roleDefinitionId`` is the role's template id for built-in roles."""
    assignment_id = _id(item, "a directory role assignment")
    where = f"role assignment {assignment_id}"
    principal = _text(item.get("principalId"), f"{where} principalId")
    role = _text(item.get("roleDefinitionId"), f"{where} roleDefinitionId")
    if not principal or not role:
        raise ValueError(f"{where} has no principalId or roleDefinitionId")
    return DirectoryRoleAssignment(
        id=assignment_id,
        principal_id=principal,
        role_definition_id=role,
        directory_scope_id=_text(item.get("directoryScopeId"), f"{where} directoryScopeId"),
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
    """Every active directory role assignment (PIM-eligible assignments are not among them)."""
    for item in graph_list(session, ROLE_ASSIGNMENTS_PATH):
        yield directory_role_assignment(item)


def list_user_registrations(session: AzureSession) -> Iterator[UserRegistration]:
    """Every user's authentication-method registration from the registration report."""
    for item in graph_list(session, USER_REGISTRATIONS_PATH):
        yield user_registration(item)


STEPS: tuple[Step, ...] = (
    TenantListing(api_name(SECURITY_DEFAULTS_PATH), "security_defaults", list_security_defaults),
    TenantListing(api_name(CONDITIONAL_ACCESS_PATH), "conditional_access_policies", list_conditional_access_policies),
    TenantListing(api_name(ROLE_ASSIGNMENTS_PATH), "directory_role_assignments", list_directory_role_assignments),
    TenantListing(api_name(USER_REGISTRATIONS_PATH), "user_registrations", list_user_registrations),
)
