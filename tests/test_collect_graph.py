"""Microsoft Graph collection through the local endpoint: records, paging, refusals, foreign links, writes."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.rest import HttpRequest

from auditor.checks.entra import privileged_user_mfa_registration
from auditor.collect import authorization, eligibility, firewall, graph
from auditor.collect.base import PerParent
from auditor.collect.policies import ForeignHostError, WriteRefusedError
from auditor.collect.scan import collect_inventory
from auditor.collect.session import AzureSession
from auditor.emulator import Emulator, Estate, Fault, demo_estate_path
from auditor.inventory import Collection, Inventory
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.identity import (
    ConditionalAccessPolicy,
    DirectoryRoleAssignment,
    DirectoryRoleDefinition,
    DirectoryRoleEligibility,
    GroupMember,
    GroupMembership,
    SecurityDefaults,
    UserRegistration,
)
from tests import estates as e
from tests.builders import results
from tests.harness import AUDITED_REQUESTS, FAST_RETRY, serve

GRAPH_EXAMPLES = Path(__file__).parent / "data" / "graph-examples"
AZURE_MANAGEMENT_APP = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
PHISHING_RESISTANT_MFA = "00000000-0000-0000-0000-000000000004"
BREAK_GLASS = "5c22c469-63e9-48fd-a4d4-748ca3c77ebf"
ADMINS_GROUP = "9a7ab2e4-5b0f-4c1e-8d3c-2f1a6b7c8d90"

DEFAULTS_API = "graph:/policies/identitySecurityDefaultsEnforcementPolicy"
POLICIES_API = "graph:/identity/conditionalAccess/policies"
ROLES_API = "graph:/roleManagement/directory/roleAssignments"
USERS_API = "graph:/reports/authenticationMethods/userRegistrationDetails"
DEFINITIONS_API = "graph:/roleManagement/directory/roleDefinitions"
ELIGIBILITIES_API = "graph:/roleManagement/directory/roleEligibilityScheduleInstances"
MEMBERS_API = "graph:/groups/{id}/transitiveMembers"
GRAPH_APIS = (DEFAULTS_API, POLICIES_API, ROLES_API, USERS_API, DEFINITIONS_API, ELIGIBILITIES_API)
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
USERS_PATH = "/v1.0/reports/authenticationMethods/userRegistrationDetails"
ROLES_PATH = "/v1.0/roleManagement/directory/roleAssignments"


# --- builders ----------------------------------------------------------------------------------------


def graph_example(name: str) -> Any:
    """One of Microsoft's Graph example bodies (see tests/data/graph-examples/ORIGIN.md)."""
    return json.loads((GRAPH_EXAMPLES / name).read_text(encoding="utf-8"))


def ca_policy(policy_id: str, name: str, state: str = "enabled", **overrides: Any) -> dict[str, Any]:
    """A conditionalAccessPolicy as Graph v1.0 lists it, requiring MFA of all users for all apps."""
    body: dict[str, Any] = {
        "id": policy_id,
        "templateId": None,
        "displayName": name,
        "createdDateTime": "2025-06-02T09:12:44.1234567Z",
        "modifiedDateTime": None,
        "state": state,
        "sessionControls": None,
        "conditions": {
            "userRiskLevels": [],
            "signInRiskLevels": [],
            "clientAppTypes": ["all"],
            "servicePrincipalRiskLevels": [],
            "platforms": None,
            "locations": None,
            "times": None,
            "deviceStates": None,
            "devices": None,
            "clientApplications": None,
            "applications": {
                "includeApplications": ["All"],
                "excludeApplications": [],
                "includeUserActions": [],
                "includeAuthenticationContextClassReferences": [],
                "applicationFilter": None,
            },
            "users": {
                "includeUsers": ["All"],
                "excludeUsers": [],
                "includeGroups": [],
                "excludeGroups": [],
                "includeRoles": [],
                "excludeRoles": [],
                "includeGuestsOrExternalUsers": None,
                "excludeGuestsOrExternalUsers": None,
            },
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": ["mfa"],
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength@odata.context": (
                "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies"
                f"('{policy_id}')/grantControls/authenticationStrength/$entity"
            ),
            "authenticationStrength": None,
        },
    }
    return body | overrides


def phishing_resistant_strength() -> dict[str, Any]:
    """The built-in authentication strength as Graph expands it inside a policy's grant controls."""
    return {
        "id": PHISHING_RESISTANT_MFA,
        "createdDateTime": "2021-12-01T08:00:00Z",
        "modifiedDateTime": "2021-12-01T08:00:00Z",
        "displayName": "Phishing-resistant MFA",
        "description": "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 key",
        "policyType": "builtIn",
        "requirementsSatisfied": "mfa",
        "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
    }


def role_assignment(number: int, principal: str, role: str = GLOBAL_ADMINISTRATOR) -> dict[str, Any]:
    """A unifiedRoleAssignment at directory scope."""
    return {
        "id": f"lAPpYvVpN0KRkAEhdxReE{number:04d}-1",
        "principalId": principal,
        "resourceScope": "/",
        "directoryScopeId": "/",
        "roleDefinitionId": role,
    }


def registration(user_id: str, upn: str, *, mfa: bool, admin: bool = False, **overrides: Any) -> dict[str, Any]:
    """A userRegistrationDetails item as the registration report returns it."""
    methods = ["microsoftAuthenticatorPush"] if mfa else []
    body = {
        "id": user_id,
        "userPrincipalName": upn,
        "userDisplayName": upn.split("@", maxsplit=1)[0],
        "userType": "member",
        "isAdmin": admin,
        "isSsprRegistered": mfa,
        "isSsprEnabled": True,
        "isSsprCapable": mfa,
        "isMfaRegistered": mfa,
        "isMfaCapable": mfa,
        "isPasswordlessCapable": False,
        "lastUpdatedDateTime": "2025-06-01T04:12:09.7781202Z",
        "methodsRegistered": methods,
        "isSystemPreferredAuthenticationMethodEnabled": True,
        "systemPreferredAuthenticationMethods": ["push"] if mfa else [],
        "userPreferredMethodForSecondaryAuthentication": "push" if mfa else "none",
    }
    return body | overrides


def graph_error_body(code: str, message: str) -> str:
    """An error body as Graph sends it, with its innerError."""
    inner = {"date": "2025-06-02T09:30:11", "request-id": "5e0b7d6c-1f2a-4c3b-9d8e-7f6a5b4c3d2e"}
    return json.dumps({"error": {"code": code, "message": message, "innerError": inner}})


def tenant(users: int = 3) -> dict[str, Any]:
    """The Graph map of a small tenant: defaults off, three policies, two role holders, some users."""
    return {
        "/policies/identitySecurityDefaultsEnforcementPolicy": {
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "isEnabled": False,
        },
        "/identity/conditionalAccess/policies": [
            ca_policy("p1", "MFA for all"),
            ca_policy("p2", "MFA report-only", state="enabledForReportingButNotEnforced"),
            ca_policy("p3", "Disabled", state="disabled"),
        ],
        "/roleManagement/directory/roleAssignments": [
            role_assignment(1, "u0"),
            role_assignment(2, "u1", PRIVILEGED_ROLE_ADMINISTRATOR),
        ],
        "/reports/authenticationMethods/userRegistrationDetails": [
            registration(f"u{n}", f"user{n}@contoso.example", mfa=n % 2 == 0, admin=n < 2) for n in range(users)
        ],
        "/roleManagement/directory/roleDefinitions": [
            role_definition(GLOBAL_ADMINISTRATOR, "Global Administrator", privileged=True),
            role_definition(PRIVILEGED_ROLE_ADMINISTRATOR, "Privileged Role Administrator", privileged=True),
        ],
        "/roleManagement/directory/roleEligibilityScheduleInstances": [],
    }


def role_definition(role: str, name: str, *, privileged: bool | None) -> dict[str, Any]:
    """A built-in unifiedRoleDefinition as the beta listing gives it (isPrivileged left out when None)."""
    body: dict[str, Any] = {
        "id": role,
        "description": f"{name} role",
        "displayName": name,
        "isBuiltIn": True,
        "isEnabled": True,
        "templateId": role,
        "version": "1",
        "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/users/standard/read"], "condition": None}],
    }
    if privileged is not None:
        body["isPrivileged"] = privileged
    return body


def expanded(kind: str, object_id: str) -> dict[str, Any]:
    """The ``principal`` Graph embeds in an assignment or eligibility under ``$expand=principal``."""
    return {"@odata.type": f"#microsoft.graph.{kind}", "id": object_id, "displayName": f"{kind} {object_id}"}


def scan(graph_map: dict[str, Any], **options: Any) -> Inventory:
    """Collect only the Graph steps over an estate with this Graph map."""
    with serve(e.estate(graph=graph_map), **options) as (_, session):
        return collect_inventory(session, steps=graph.STEPS)


def outcome(inventory: Inventory, api: str) -> Collection:
    """The one Collection of a tenant-wide listing."""
    (found,) = [c for c in inventory.collections if c.api == api]
    return found


def members_listed(inventory: Inventory) -> bool:
    """True when every group-member call of the scan succeeded (one outcome per step and scope)."""
    found = [c for c in inventory.collections if c.api == MEMBERS_API]
    return bool(found) and all(c.ok for c in found)


@contextmanager
def serve_at_known_url(build: Callable[[str], dict[str, Any]]) -> Iterator[tuple[Emulator, AzureSession]]:
    """Like ``serve``, for an estate whose raw bodies must name the endpoint's own URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    endpoint = Emulator(Estate.from_dict(build(f"https://127.0.0.1:{port}"), source="test-estate"), port=port)
    with (
        endpoint,
        AzureSession.for_emulator(endpoint.url, str(endpoint.ca_file), endpoint.token, retry=FAST_RETRY) as session,
    ):
        try:
            yield endpoint, session
        finally:
            AUDITED_REQUESTS.extend(endpoint.requests)


# --- Microsoft's examples ------------------------------------------------------------------------------


def test_microsoft_graph_examples_are_collected() -> None:
    graph_map = {
        "/policies/identitySecurityDefaultsEnforcementPolicy": graph_example(
            "identitysecuritydefaultsenforcementpolicy-get.json"
        ),
        "/identity/conditionalAccess/policies": graph_example("conditionalaccessroot-list-policies.json")["value"],
        "/roleManagement/directory/roleAssignments": graph_example("rbacapplication-list-roleassignments.json")[
            "value"
        ],
        "/reports/authenticationMethods/userRegistrationDetails": graph_example(
            "authenticationmethodsroot-list-userregistrationdetails.json"
        )["value"],
        "/roleManagement/directory/roleDefinitions": graph_example("rbacapplication-list-roledefinitions-beta.json")[
            "value"
        ],
        "/roleManagement/directory/roleEligibilityScheduleInstances": graph_example(
            "rbacapplication-list-roleeligibilityscheduleinstances.json"
        )["value"],
    }
    inventory = scan(graph_map, page_size=1)

    assert inventory.security_defaults == (
        SecurityDefaults(id="00000000-0000-0000-0000-000000000005", is_enabled=True),
    )
    assert inventory.conditional_access_policies == (
        ConditionalAccessPolicy(
            id="ad8d2b4a-8d30-413f-88b8-144c6c8d98d9",
            display_name="SimplePolicy1",
            state="disabled",
            include_users=("None",),
            include_applications=("None",),
            grant_operator="OR",
            built_in_controls=("block",),
        ),
        ConditionalAccessPolicy(
            id="c558e346-969d-40a7-a64e-2df6c2c88490",
            display_name="SimplePolicy2",
            state="disabled",
            include_users=("None",),
            include_applications=("None",),
            grant_operator="OR",
            built_in_controls=("mfa",),
        ),
    )
    # The collection sorts by id, case-insensitively.
    assert inventory.directory_role_assignments == (
        DirectoryRoleAssignment(
            id="lAPpYvVpN0KRkAEhdxReEHJ1hPGqSKpHlqMuxhkE9B8-1",
            principal_id="f1847572-48aa-47aa-96a3-2ec61904f41f",
            role_definition_id=GLOBAL_ADMINISTRATOR,
            directory_scope_id="/",
        ),
        DirectoryRoleAssignment(
            id="LJnv8vs6uUa3z6Em7nTEUXJ1hPGqSKpHlqMuxhkE9B8-1",
            principal_id="f1847572-48aa-47aa-96a3-2ec61904f41f",
            role_definition_id="f2ef992c-3afb-46b9-b7cf-a126ee74c451",
            directory_scope_id="/",
        ),
    )
    alex, allan, bianca = inventory.user_registrations
    assert alex == UserRegistration(
        id="86462606-fde0-4fc4-9e0c-a20eb73e54c6",
        user_principal_name="AlexW@Contoso.com",
        display_name="Alex Wilber",
        user_type="member",
        is_admin=False,
        is_mfa_registered=True,
        methods_registered=("microsoftAuthenticatorPush", "softwareOneTimePasscode"),
    )
    assert (allan.user_type, allan.is_mfa_registered, allan.methods_registered) == ("guest", False, ())
    assert bianca.methods_registered == ("mobilePhone", "microsoftAuthenticatorPush", "softwareOneTimePasscode")
    assert inventory.directory_role_definitions == (
        DirectoryRoleDefinition(HELPDESK_ADMINISTRATOR, "Helpdesk Administrator", HELPDESK_ADMINISTRATOR, True, True),
        DirectoryRoleDefinition(
            "b0f54661-2d74-4c50-afa3-1ec803f12efe",
            "Billing Administrator",
            "b0f54661-2d74-4c50-afa3-1ec803f12efe",
            True,
            False,
        ),
        DirectoryRoleDefinition(
            "f023fd81-a637-4b56-95fd-791ac0226033",
            "Service Support Administrator",
            "f023fd81-a637-4b56-95fd-791ac0226033",
            True,
            False,
        ),
    )
    assert inventory.directory_role_eligibilities == (
        DirectoryRoleEligibility(
            id="8MYkhImhnkm70CbBdTyW1BbHHAdHgZdDpbqyEFlRzAs-1-e",
            principal_id="071cc716-8147-4397-a5ba-b2105951cc0b",
            role_definition_id="8424c6f0-a189-499e-bbd0-26c1753c96d4",
            directory_scope_id="/",
            principal_type=None,
            member_type="Direct",
        ),
    )
    # Neither example expands its principal: no group is known, so none is expanded.
    assert inventory.group_memberships == ()
    for api in GRAPH_APIS:
        assert outcome(inventory, api).ok
        assert (outcome(inventory, api).subscription_id, outcome(inventory, api).scope) == ("", "/tenants/tenant")
    # Microsoft's examples, judged: the Global Administrator holder is not in the registration report, and
    # the eligible principal's role is not among the listed definitions, so neither can be shown.
    verdicts = {r.resource_id: r for r in results(privileged_user_mfa_registration, inventory, Params({}))}
    assert verdicts["/directoryObjects/f1847572-48aa-47aa-96a3-2ec61904f41f"].status is Status.ERROR
    assert "isPrivileged not reported" in verdicts["/directoryObjects/071cc716-8147-4397-a5ba-b2105951cc0b"].message


def test_microsoft_transitive_members_example_expands_a_privileged_group() -> None:
    group = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
    member = "11111111-2222-3333-4444-555555555555"
    assignment = role_assignment(7, group, HELPDESK_ADMINISTRATOR) | {"principal": expanded("group", group)}
    graph_map = tenant() | {
        "/roleManagement/directory/roleAssignments": [assignment],
        "/roleManagement/directory/roleDefinitions": graph_example("rbacapplication-list-roledefinitions-beta.json")[
            "value"
        ],
        f"/groups/{group}/transitiveMembers": graph_example("group-list-transitivemembers.json")["value"],
        "/reports/authenticationMethods/userRegistrationDetails": [
            registration(member, "group1@contoso.com", mfa=False, admin=True)
        ],
    }
    with serve(e.estate(graph=graph_map)) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        paths = [r.path for r in endpoint.requests if "transitiveMembers" in r.path]
    assert paths == [f"/v1.0/groups/{group}/transitiveMembers"]
    assert inventory.group_memberships == (GroupMembership(f"/groups/{group}", group, (GroupMember(member, "user"),)),)
    assert members_listed(inventory)
    (verdict,) = results(privileged_user_mfa_registration, inventory, Params({}))
    assert (verdict.resource_id, verdict.status) == (f"/users/{member}", Status.FAIL)
    assert f"Helpdesk Administrator (directory) through group {group}" in verdict.message


# --- records field by field ----------------------------------------------------------------------------


def test_conditional_access_policies_field_by_field() -> None:
    admins = ca_policy(
        "a1",
        "Phishing-resistant MFA for admins on Azure management",
        grantControls={
            "operator": "AND",
            "builtInControls": ["compliantDevice"],
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#...",
            "authenticationStrength": phishing_resistant_strength(),
        },
    )
    admins["conditions"]["users"] |= {
        "includeUsers": [],
        "includeGroups": [ADMINS_GROUP],
        "includeRoles": [GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR],
        "excludeUsers": [BREAK_GLASS],
        "excludeGroups": ["0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f"],
        "excludeRoles": ["d29b2b05-8046-44ba-8758-1e26182fcf32"],
    }
    admins["conditions"]["applications"] |= {
        "includeApplications": [AZURE_MANAGEMENT_APP],
        "excludeApplications": ["00000002-0000-0ff1-ce00-000000000000"],
    }
    # A policy with session controls only: Graph sends grantControls null.
    session_only = ca_policy("s1", "Sign-in frequency", grantControls=None)
    session_only["sessionControls"] = {"signInFrequency": {"value": 4, "type": "hours", "isEnabled": True}}
    # Conditions Graph leaves out entirely.
    sparse = {"id": "z1", "displayName": "Sparse", "state": "enabled", "conditions": {"users": None}}
    graph_map = tenant() | {"/identity/conditionalAccess/policies": [admins, session_only, sparse]}

    first, second, third = scan(graph_map).conditional_access_policies

    assert first == ConditionalAccessPolicy(
        id="a1",
        display_name="Phishing-resistant MFA for admins on Azure management",
        state="enabled",
        include_users=(),
        exclude_users=(BREAK_GLASS,),
        include_groups=(ADMINS_GROUP,),
        exclude_groups=("0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f",),
        include_roles=(GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR),
        exclude_roles=("d29b2b05-8046-44ba-8758-1e26182fcf32",),
        include_applications=(AZURE_MANAGEMENT_APP,),
        exclude_applications=("00000002-0000-0ff1-ce00-000000000000",),
        grant_operator="AND",
        built_in_controls=("compliantDevice",),
        authentication_strength=PHISHING_RESISTANT_MFA,
    )
    assert (second.id, second.grant_operator, second.built_in_controls, second.authentication_strength) == (
        "s1",
        None,
        (),
        None,
    )
    assert second.include_users == ("All",)
    assert third == ConditionalAccessPolicy(id="z1", display_name="Sparse", state="enabled")


def test_states_roles_and_registrations_as_graph_reports_them() -> None:
    inventory = scan(tenant(users=4))
    assert [(p.id, p.state) for p in inventory.conditional_access_policies] == [
        ("p1", "enabled"),
        ("p2", "enabledForReportingButNotEnforced"),
        ("p3", "disabled"),
    ]
    assert inventory.directory_role_assignments[1] == DirectoryRoleAssignment(
        id="lAPpYvVpN0KRkAEhdxReE0002-1",
        principal_id="u1",
        role_definition_id=PRIVILEGED_ROLE_ADMINISTRATOR,
        directory_scope_id="/",
    )
    assert [(u.id, u.is_admin, u.is_mfa_registered) for u in inventory.user_registrations] == [
        ("u0", True, True),
        ("u1", True, False),
        ("u2", False, True),
        ("u3", False, False),
    ]
    assert inventory.security_defaults[0].is_enabled is False


def test_values_graph_did_not_report_stay_none() -> None:
    # isMfaCapable true must never stand in for isMfaRegistered.
    bare = {"id": "u9", "userPrincipalName": "bare@contoso.example", "isMfaCapable": True}
    graph_map = tenant() | {
        "/reports/authenticationMethods/userRegistrationDetails": [bare],
        "/policies/identitySecurityDefaultsEnforcementPolicy": {"id": "00000000-0000-0000-0000-000000000005"},
        "/roleManagement/directory/roleAssignments": [{"id": "r1", "principalId": "u9", "roleDefinitionId": "x"}],
    }
    inventory = scan(graph_map)
    assert inventory.user_registrations == (
        UserRegistration(
            id="u9",
            user_principal_name="bare@contoso.example",
            display_name=None,
            user_type=None,
            is_admin=None,
            is_mfa_registered=None,
        ),
    )
    assert inventory.security_defaults[0].is_enabled is None
    assert inventory.directory_role_assignments[0].directory_scope_id is None


def test_demo_estate_graph_section_is_read() -> None:
    estate = json.loads(demo_estate_path().read_text(encoding="utf-8"))
    with serve(estate, page_size=2) as (_, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
    assert all(outcome(inventory, api).ok for api in GRAPH_APIS)
    assert inventory.security_defaults == (SecurityDefaults("00000000-0000-0000-0000-000000000005", False),)
    policies = {p.display_name: p for p in inventory.conditional_access_policies}
    management = policies["CA001: Require MFA for Azure management"]
    assert (management.state, management.include_applications, management.exclude_users) == (
        "enabled",
        (AZURE_MANAGEMENT_APP,),
        (BREAK_GLASS,),
    )
    assert management.built_in_controls == ("mfa",)
    assert policies["CA002: Require MFA for all users and apps"].state == "enabledForReportingButNotEnforced"
    assert policies["CA003: Block legacy authentication"].built_in_controls == ("block",)
    assert len(inventory.directory_role_assignments) == 7
    holders = {
        a.principal_id for a in inventory.directory_role_assignments if a.role_definition_id == GLOBAL_ADMINISTRATOR
    }
    assert holders == {"e2a214e8-bbe9-4675-9d52-490575ffc53d", BREAK_GLASS}
    assert {a.principal_type for a in inventory.directory_role_assignments} == {"user", "group"}
    marked = {d.display_name: d.is_privileged for d in inventory.directory_role_definitions}
    assert (marked["Helpdesk Administrator"], marked["Reports Reader"]) == (True, False)
    (eligible,) = inventory.directory_role_eligibilities
    assert (eligible.role_definition_id, eligible.principal_type) == (PRIVILEGED_ROLE_ADMINISTRATOR, "user")
    (operators,) = inventory.group_memberships
    assert [(m.user_principal_name or m.display_name, m.kind) for m in operators.members] == [
        ("sam.patel@mul2demo.onmicrosoft.com", "user"),
        ("MUL2 Identity Operators (on call)", "group"),
        ("morgan.reyes@mul2demo.onmicrosoft.com", "user"),
    ]
    assert members_listed(inventory)
    users = {u.user_principal_name.split("@")[0]: u for u in inventory.user_registrations}
    assert len(users) == 9
    assert (users["taylor.kim"].is_admin, users["taylor.kim"].is_mfa_registered) == (True, False)
    assert users["taylor.kim"].methods_registered == ("mobilePhone",)
    assert users["r.alvarez_fabrikam-consulting.example#EXT#"].user_type == "guest"


# --- paging --------------------------------------------------------------------------------------------


def test_every_page_is_followed_with_absolute_next_links() -> None:
    graph_map = tenant(users=7)
    with serve(e.estate(graph=graph_map), page_size=2) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        requests = [(r.path, r.query) for r in endpoint.requests if r.path.startswith("/v1.0/reports")]
    assert [u.id for u in inventory.user_registrations] == [f"u{n}" for n in range(7)]
    assert outcome(inventory, USERS_API).items == 7
    assert len(inventory.conditional_access_policies) == 3
    assert requests == [
        ("/v1.0/reports/authenticationMethods/userRegistrationDetails", ""),
        ("/v1.0/reports/authenticationMethods/userRegistrationDetails", "$skiptoken=2"),
        ("/v1.0/reports/authenticationMethods/userRegistrationDetails", "$skiptoken=4"),
        ("/v1.0/reports/authenticationMethods/userRegistrationDetails", "$skiptoken=6"),
    ]


def test_a_next_link_to_another_host_is_refused_before_the_token_leaves() -> None:
    first_page = {
        "value": [ca_policy("p1", "MFA for all")],
        "@odata.nextLink": "https://graph.example.net/v1.0/identity/conditionalAccess/policies?$skiptoken=X1",
    }
    raw = [{"path": "/v1.0/identity/conditionalAccess/policies", "status": 200, "body": json.dumps(first_page)}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        asked = [r for r in endpoint.requests if "conditionalAccess" in r.path]
    failed = outcome(inventory, POLICIES_API)
    assert not failed.ok
    assert failed.status_code is None
    assert "refused request to https://graph.example.net" in failed.reason
    assert inventory.conditional_access_policies == (), "a half-read listing yields no records"
    assert len(asked) == 1
    assert outcome(inventory, USERS_API).ok


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:{port}", "https://127.0.0.1:{other_port}", "https://localhost:{port}", ""],
)
def test_a_next_link_on_another_scheme_port_or_name_is_refused(origin: str) -> None:
    def with_link(url: str) -> dict[str, Any]:
        port = int(url.rsplit(":", 1)[1])
        link = origin.format(port=port, other_port=port + 1) + f"{USERS_PATH}?$skiptoken=2"
        page = {"value": [registration("u0", "u0@contoso.example", mfa=True)], "@odata.nextLink": link}
        return e.estate(graph=tenant()) | {"raw": [{"path": USERS_PATH, "body": json.dumps(page)}]}

    with serve_at_known_url(with_link) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        asked = [r for r in endpoint.requests if r.path == USERS_PATH]
    failed = outcome(inventory, USERS_API)
    assert not failed.ok
    assert "refused request to" in failed.reason
    assert inventory.user_registrations == ()
    assert len(asked) == 1


def test_a_next_link_that_repeats_is_a_failure_not_a_loop() -> None:
    def looping(url: str) -> dict[str, Any]:
        # Raw bodies ignore the query, so this page links to itself forever.
        page = {"value": [role_assignment(1, "u0")], "@odata.nextLink": f"{url}{ROLES_PATH}?$skiptoken=1"}
        return e.estate(graph=tenant()) | {"raw": [{"path": ROLES_PATH, "body": json.dumps(page)}]}

    with serve_at_known_url(looping) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        asked = [(r.path, r.query) for r in endpoint.requests if r.path == ROLES_PATH]
    failed = outcome(inventory, ROLES_API)
    assert not failed.ok
    assert "repeated the @odata.nextLink" in failed.reason
    assert inventory.directory_role_assignments == ()
    assert asked == [(ROLES_PATH, "$expand=principal"), (ROLES_PATH, "$skiptoken=1")]


# --- the Graph contract: shapes, bounds, pages ------------------------------------------------------------

DEFINITIONS_PATH = "/beta/roleManagement/directory/roleDefinitions"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{}", "without a 'value' list"),
        ('{"value": {}}', "without a 'value' list"),
        ('{"value": null}', "without a 'value' list"),
        ('{"value": [], "@odata.nextLink": 7}', "@odata.nextLink of /roleManagement/directory/roleDefinitions is not"),
        ("[]", "a JSON list, not an object"),
        ('{"value": [' + "[" * 100_000 + "]" * 100_000 + "]}", "nests deeper than 64 levels"),
        ('{"value": [' + "[" * 63 + "]" * 63 + "]}", "nests deeper than 64 levels"),
        ('{"value": [{"id": "r1"' + "," * 3 + "}]}", "is not valid JSON"),
    ],
    ids=[
        "empty object",
        "value an object",
        "value null",
        "link not a string",
        "a list",
        "100,000 deep",
        "65 deep",
        "bad",
    ],
)
def test_a_malformed_listing_is_named_as_such_and_never_empty(body: str, reason: str) -> None:
    raw = [{"path": DEFINITIONS_PATH, "body": body}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (_, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
    failed = outcome(inventory, DEFINITIONS_API)
    assert not failed.ok
    assert failed.reason.startswith("malformed response")
    assert reason in failed.reason
    assert inventory.directory_role_definitions == ()
    # The other listings of the tenant are untouched.
    assert outcome(inventory, ROLES_API).ok


def test_a_deep_body_fails_its_listing_without_recursion() -> None:
    body = '{"value": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    raw = [{"path": "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances", "body": body}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (_, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
    failed = outcome(inventory, ELIGIBILITIES_API)
    assert (failed.ok, failed.status_code) == (False, 200)
    assert "nests deeper than 64 levels" in failed.reason
    assert all(outcome(inventory, api).ok for api in GRAPH_APIS if api != ELIGIBILITIES_API)


def test_paging_stops_with_an_error_after_the_page_limit() -> None:
    with serve(e.estate(graph=tenant(users=5)), page_size=1) as (endpoint, session):
        url = graph.graph_url(session, graph.USER_REGISTRATIONS_PATH)
        pages = graph.graph_list(session, graph.USER_REGISTRATIONS_PATH, url=url, max_pages=3)
        with pytest.raises(ValueError, match="more than 3 pages for /reports/authenticationMethods"):
            list(pages)
        asked = [r for r in endpoint.requests if r.path == USERS_PATH]
    assert len(asked) == 3


def test_role_definitions_come_from_beta_and_holdings_expand_their_principal() -> None:
    with serve(e.estate(graph=tenant())) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        asked = {r.path: r.params for r in endpoint.requests if "/roleManagement/" in r.path}
    assert set(asked) == {
        DEFINITIONS_PATH,
        "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances",
        ROLES_PATH,
    }
    assert asked[ROLES_PATH] == {"$expand": "principal"}
    assert asked["/v1.0/roleManagement/directory/roleEligibilityScheduleInstances"] == {"$expand": "principal"}
    assert all(outcome(inventory, api).ok for api in GRAPH_APIS)


def test_is_privileged_absent_stays_unknown_and_a_wrong_type_is_malformed() -> None:
    unmarked = role_definition("0f971eea-41eb-4569-a71e-57bb8a3eff1e", "Teams Administrator", privileged=None)
    graph_map = tenant() | {"/roleManagement/directory/roleDefinitions": [unmarked]}
    (definition,) = scan(graph_map).directory_role_definitions
    assert (definition.display_name, definition.is_privileged) == ("Teams Administrator", None)
    wrong = unmarked | {"isPrivileged": "yes"}
    failed = outcome(scan(tenant() | {"/roleManagement/directory/roleDefinitions": [wrong]}), DEFINITIONS_API)
    assert not failed.ok
    assert "isPrivileged is not true or false" in failed.reason


def test_eligibilities_and_their_principals_are_read() -> None:
    eligibility = {
        "id": "e1",
        "principalId": ADMINS_GROUP,
        "roleDefinitionId": GLOBAL_ADMINISTRATOR,
        "directoryScopeId": "/",
        "appScopeId": None,
        "memberType": "Direct",
        "principal": expanded("group", ADMINS_GROUP),
    }
    graph_map = tenant() | {
        "/roleManagement/directory/roleEligibilityScheduleInstances": [eligibility],
        f"/groups/{ADMINS_GROUP}/transitiveMembers": [
            {"@odata.type": "#microsoft.graph.user", "id": "u1", "userPrincipalName": "user1@contoso.example"},
            {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp1", "displayName": "deploy"},
            {"id": "x1"},
        ],
    }
    inventory = scan(graph_map)
    assert inventory.directory_role_eligibilities == (
        DirectoryRoleEligibility("e1", ADMINS_GROUP, GLOBAL_ADMINISTRATOR, "/", "group", "Direct"),
    )
    (membership,) = inventory.group_memberships
    assert membership.members == (
        GroupMember("u1", "user", "user1@contoso.example"),
        GroupMember("sp1", "servicePrincipal", None, "deploy"),
        GroupMember("x1", None),
    )


def test_only_group_principals_are_expanded_and_a_failed_expansion_names_its_holding() -> None:
    group_holding = role_assignment(3, ADMINS_GROUP) | {"principal": expanded("group", ADMINS_GROUP)}
    user_holding = role_assignment(4, "u0") | {"principal": expanded("user", "u0")}
    graph_map = tenant() | {"/roleManagement/directory/roleAssignments": [group_holding, user_holding]}
    with serve(e.estate(graph=graph_map)) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        expansions = [r.path for r in endpoint.requests if r.path.startswith("/v1.0/groups/")]
    assert expansions == [f"/v1.0/groups/{ADMINS_GROUP}/transitiveMembers"]
    (failed,) = [c for c in inventory.collections if c.api == MEMBERS_API and not c.ok]
    assert (failed.scope, failed.status_code, failed.subscription_id) == (group_holding["id"], 404, "")
    assert inventory.group_memberships == ()
    # The failure is the group's alone: the directory listing itself stands.
    assert outcome(inventory, ROLES_API).ok
    assert len(inventory.directory_role_assignments) == 2


def test_a_group_holding_an_azure_role_is_expanded_with_its_subscription() -> None:
    assignment_id = f"/subscriptions/{e.SUB}/providers/Microsoft.Authorization/roleAssignments/a1"
    assignment = {
        "id": assignment_id,
        "name": "a1",
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": f"/subscriptions/{e.SUB}/providers/Microsoft.Authorization/roleDefinitions/"
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            "principalId": ADMINS_GROUP,
            "principalType": "Group",
            "scope": f"/subscriptions/{e.SUB}",
        },
    }
    members = [{"@odata.type": "#microsoft.graph.user", "id": "u1", "userPrincipalName": "user1@contoso.example"}]
    graph_map = tenant() | {f"/groups/{ADMINS_GROUP}/transitiveMembers": members}
    with serve(e.estate(assignment, graph=graph_map)) as (_, session):
        inventory = collect_inventory(session, steps=authorization.STEPS + graph.STEPS)
    assert inventory.group_memberships == (
        GroupMembership(
            f"/groups/{ADMINS_GROUP}", ADMINS_GROUP, (GroupMember("u1", "user", "user1@contoso.example"),), e.SUB
        ),
    )
    assert members_listed(inventory)


# --- refusals and errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "api", "code", "permission"),
    [
        (
            "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
            DEFAULTS_API,
            "Authorization_RequestDenied",
            "Policy.Read.All",
        ),
        ("/v1.0/identity/conditionalAccess/policies", POLICIES_API, "AccessDenied", "Policy.Read.All"),
        (
            "/v1.0/roleManagement/directory/roleAssignments",
            ROLES_API,
            "Authorization_RequestDenied",
            "RoleManagement.Read.Directory",
        ),
        (
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            USERS_API,
            "Authorization_RequestDenied",
            "AuditLog.Read.All",
        ),
    ],
)
def test_a_403_names_status_code_and_the_permission_needed(path: str, api: str, code: str, permission: str) -> None:
    body = graph_error_body(code, "Insufficient privileges to complete the operation.")
    raw = [{"path": path, "status": 403, "body": body}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        attempts = [r for r in endpoint.requests if r.path == path]
    failed = outcome(inventory, api)
    assert (failed.ok, failed.status_code, failed.error_code, failed.scope) == (False, 403, code, "/tenants/tenant")
    needs = f"the credential needs the Microsoft Graph permission {permission}"
    assert failed.reason == f"Insufficient privileges to complete the operation.; {needs}"
    assert permission in failed.describe()
    assert len(attempts) == 1, "a refusal is not retried"
    assert all(outcome(inventory, other).ok for other in GRAPH_APIS if other != api)


def test_a_403_from_an_injected_fault_also_names_the_permission() -> None:
    fault = Fault("/identity/conditionalAccess/policies", status=403, error_code="Authorization_RequestDenied")
    failed = outcome(scan(tenant(), faults=(fault,)), POLICIES_API)
    assert (failed.status_code, failed.error_code) == (403, "Authorization_RequestDenied")
    assert failed.reason.endswith("needs the Microsoft Graph permission Policy.Read.All")


def test_an_unlicensed_tenant_is_told_apart_from_a_missing_permission() -> None:
    body = graph_error_body(
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Neither tenant is B2C or tenant doesn't have premium license",
    )
    raw = [{"path": "/v1.0/reports/authenticationMethods/userRegistrationDetails", "status": 403, "body": body}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (_, session):
        failed = outcome(collect_inventory(session, steps=graph.STEPS), USERS_API)
    assert (failed.status_code, failed.error_code) == (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")
    assert "P1 or P2 licence" in failed.reason
    assert "AuditLog.Read.All" not in failed.reason


def test_a_tenant_without_pim_licences_is_named_as_such_for_eligibilities() -> None:
    body = graph_error_body(
        "AadPremiumLicenseRequired",
        "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
    )
    path = "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances"
    with serve(e.estate(graph=tenant()) | {"raw": [{"path": path, "status": 400, "body": body}]}) as (_, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
    failed = outcome(inventory, ELIGIBILITIES_API)
    assert (failed.ok, failed.status_code, failed.error_code) == (False, 400, "AadPremiumLicenseRequired")
    assert "needs a Microsoft Entra ID P2 or Microsoft Entra ID Governance licence" in failed.reason
    assert "RoleEligibilitySchedule.Read.Directory" not in failed.reason


def test_a_403_with_an_unknown_code_keeps_graph_s_message_as_it_is() -> None:
    raw = [
        {
            "path": "/v1.0/roleManagement/directory/roleAssignments",
            "status": 403,
            "body": graph_error_body("Directory_QuotaExceeded", "Something else entirely."),
        }
    ]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (_, session):
        failed = outcome(collect_inventory(session, steps=graph.STEPS), ROLES_API)
    assert (failed.status_code, failed.error_code, failed.reason) == (
        403,
        "Directory_QuotaExceeded",
        "Something else entirely.",
    )


def test_a_403_without_an_error_body_still_names_the_permission() -> None:
    raw = [{"path": "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy", "status": 403, "body": ""}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (_, session):
        failed = outcome(collect_inventory(session, steps=graph.STEPS), DEFAULTS_API)
    assert (failed.status_code, failed.error_code) == (403, "")
    assert failed.reason == "Forbidden; the credential needs the Microsoft Graph permission Policy.Read.All"


def test_a_403_with_a_body_that_is_not_json_keeps_its_status() -> None:
    raw = [{"path": USERS_PATH, "status": 403, "body": "<html><body>Forbidden</body></html>"}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (_, session):
        failed = outcome(collect_inventory(session, steps=graph.STEPS), USERS_API)
    assert (failed.status_code, failed.error_code) == (403, "")
    assert failed.reason == "Forbidden; the credential needs the Microsoft Graph permission AuditLog.Read.All"


def test_a_401_names_no_permission() -> None:
    body = graph_error_body("InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
    raw = [{"path": "/v1.0/reports/authenticationMethods/userRegistrationDetails", "status": 401, "body": body}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (_, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
    failed = outcome(inventory, USERS_API)
    assert (failed.ok, failed.status_code, failed.error_code) == (False, 401, "InvalidAuthenticationToken")
    assert failed.reason == "Access token validation failure. Invalid audience."
    assert "permission" not in failed.reason
    assert outcome(inventory, POLICIES_API).ok


def test_a_token_the_endpoint_rejects_fails_every_graph_listing() -> None:
    with serve(e.estate(graph=tenant())) as (endpoint, _):
        wrong = AzureSession.for_emulator(endpoint.url, str(endpoint.ca_file), "not-the-token", retry=FAST_RETRY)
        with wrong:
            inventory = collect_inventory(wrong, steps=graph.STEPS)
    for api in GRAPH_APIS:
        failed = outcome(inventory, api)
        assert (failed.ok, failed.status_code, failed.error_code) == (False, 401, "InvalidAuthenticationToken")
    assert inventory.user_registrations == ()


def test_an_empty_tenant_map_is_a_404_not_an_empty_success() -> None:
    inventory = scan({})
    for api in GRAPH_APIS:
        failed = outcome(inventory, api)
        assert (failed.ok, failed.status_code, failed.error_code) == (False, 404, "Request_ResourceNotFound")


def test_throttling_is_retried_and_then_collected() -> None:
    fault = Fault("/reports/authenticationMethods", status=429, retry_after="0", times=2)
    inventory = scan(tenant(), faults=(fault,))
    assert outcome(inventory, USERS_API).ok
    assert len(inventory.user_registrations) == 3


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"value": {"id": "p1"}}', "without a 'value' list"),
        ('{"value": ["p1"]}', "not an object"),
        ('{"value": [{"displayName": "no id"}]}', "has no id"),
        ('{"value": [{"id": "p1", "conditions": {"users": {"includeUsers": "All"}}}]}', "is not a list of strings"),
        ('{"value": [{"id": "p1", "state": 1}]}', "state is not a string"),
        ('[{"id": "p1"}]', "not an object"),
        ("{ not json", "is not valid JSON (Expecting property name"),
    ],
)
def test_malformed_answers_are_failures(body: str, reason: str) -> None:
    raw = [{"path": "/v1.0/identity/conditionalAccess/policies", "body": body}]
    with serve(e.estate(graph=tenant()) | {"raw": raw}) as (_, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
    failed = outcome(inventory, POLICIES_API)
    assert not failed.ok
    assert failed.reason.startswith("malformed response")
    assert reason in failed.reason
    assert inventory.conditional_access_policies == ()


def test_a_user_flag_that_is_not_a_boolean_is_malformed() -> None:
    bad = registration("u1", "u1@contoso.example", mfa=True) | {"isMfaRegistered": "true"}
    graph_map = tenant() | {"/reports/authenticationMethods/userRegistrationDetails": [bad]}
    failed = outcome(scan(graph_map), USERS_API)
    assert not failed.ok
    assert "isMfaRegistered is not true or false" in failed.reason


# --- the Graph client ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_the_graph_client_refuses_writes_before_they_reach_the_endpoint(method: str) -> None:
    with serve(e.estate(graph=tenant())) as (endpoint, session):
        client = session.graph_client()
        for path in ("/v1.0/identity/conditionalAccess/policies", "/providers/Microsoft.ResourceGraph/resources"):
            request = HttpRequest(method, f"{session.graph_url}{path}", json={"displayName": "x", "state": "disabled"})
            with pytest.raises(WriteRefusedError):
                client.send_request(request)
        assert endpoint.requests == []


def test_the_graph_client_refuses_other_hosts_and_is_shared() -> None:
    with serve(e.estate(graph=tenant())) as (endpoint, session):
        client = session.graph_client()
        assert session.graph_client() is client
        with pytest.raises(ForeignHostError):
            client.send_request(HttpRequest("GET", "https://graph.microsoft.com/v1.0/users"))
        assert endpoint.requests == []
        answer = client.send_request(
            HttpRequest("GET", f"{session.graph_url}/v1.0/identity/conditionalAccess/policies")
        )
        assert answer.status_code == 200


class RecordingCredential:
    """Hands out the endpoint's token and remembers the scopes it was asked for."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The endpoint's token, valid for an hour."""
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


def test_the_graph_token_is_asked_for_with_the_graph_scope() -> None:
    with serve(e.estate(graph=tenant())) as (endpoint, _):
        credential = RecordingCredential(endpoint.token)
        session = AzureSession(
            credential, arm_url=endpoint.url, graph_url=endpoint.url, ca_bundle=str(endpoint.ca_file), retry=FAST_RETRY
        )
        with session:
            inventory = collect_inventory(session, steps=graph.STEPS)
    assert all(outcome(inventory, api).ok for api in GRAPH_APIS)
    assert ("https://graph.microsoft.com/.default",) in credential.scopes
    assert ("https://management.azure.com/.default",) in credential.scopes, "the subscription listing is ARM's"


def test_steps_are_tenant_listings_named_after_their_graph_paths() -> None:
    assert [(s.api, s.field) for s in graph.STEPS] == [
        (DEFAULTS_API, "security_defaults"),
        (POLICIES_API, "conditional_access_policies"),
        (ROLES_API, "directory_role_assignments"),
        (USERS_API, "user_registrations"),
        (DEFINITIONS_API, "directory_role_definitions"),
        (ELIGIBILITIES_API, "directory_role_eligibilities"),
        (MEMBERS_API, "group_memberships"),
        (MEMBERS_API, "group_memberships"),
        (MEMBERS_API, "group_memberships"),
        (MEMBERS_API, "group_memberships"),
    ]
    assert [(s.parent_field, s.phase) for s in graph.STEPS if isinstance(s, PerParent)] == [
        ("directory_role_assignments", 1),
        ("directory_role_eligibilities", 1),
        ("role_assignments", 1),
        ("role_eligibilities", 2),
    ]


def test_a_group_id_from_an_answer_stays_one_path_segment() -> None:
    odd = "../../reports/authenticationMethods/userRegistrationDetails?x="
    holding = role_assignment(5, odd) | {"principal": expanded("group", odd)}
    graph_map = tenant() | {"/roleManagement/directory/roleAssignments": [holding]}
    with serve(e.estate(graph=graph_map)) as (endpoint, session):
        inventory = collect_inventory(session, steps=graph.STEPS)
        asked = [r.path for r in endpoint.requests if r.path.startswith("/v1.0/groups/")]
    assert asked == [f"/v1.0/groups/{odd}/transitiveMembers"]
    (failed,) = [c for c in inventory.collections if c.api == MEMBERS_API and not c.ok]
    assert failed.status_code == 404
    assert inventory.group_memberships == ()


def test_a_group_eligible_for_an_azure_role_on_a_resource_group_is_expanded() -> None:
    group_scope = f"/subscriptions/{e.SUB}/resourceGroups/rg-app"
    eligibility_item = {
        "id": f"{group_scope}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/i1",
        "name": "i1",
        "type": "Microsoft.Authorization/roleEligibilityScheduleInstances",
        "properties": {
            "scope": group_scope,
            "roleDefinitionId": f"/subscriptions/{e.SUB}/providers/Microsoft.Authorization/roleDefinitions/"
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            "principalId": ADMINS_GROUP,
            "principalType": "Group",
            "memberType": "Direct",
        },
    }
    members = [{"@odata.type": "#microsoft.graph.user", "id": "u1", "userPrincipalName": "user1@contoso.example"}]
    estate = e.estate(eligibility_item, graph=tenant() | {f"/groups/{ADMINS_GROUP}/transitiveMembers": members})
    estate["resourceGroups"] = [{"id": group_scope, "name": "rg-app", "location": "eastus"}]
    groups = tuple(s for s in firewall.STEPS if getattr(s, "field", "") == "resource_group_records")
    with serve(estate) as (_, session):
        inventory = collect_inventory(session, steps=groups + eligibility.STEPS + graph.STEPS)
    (record,) = inventory.role_eligibilities
    assert (record.principal_id, record.scope) == (ADMINS_GROUP, group_scope)
    (membership,) = inventory.group_memberships
    assert (membership.group_id, membership.subscription_id, [m.id for m in membership.members]) == (
        ADMINS_GROUP,
        e.SUB,
        ["u1"],
    )
    assert members_listed(inventory)


def test_the_endpoint_expands_a_principal_only_when_asked() -> None:
    holding = role_assignment(6, ADMINS_GROUP) | {"principal": expanded("group", ADMINS_GROUP)}
    graph_map = tenant() | {"/roleManagement/directory/roleAssignments": [holding]}
    with serve(e.estate(graph=graph_map)) as (_, session):
        plain = list(graph.graph_list(session, graph.ROLE_ASSIGNMENTS_PATH))
        url = graph.graph_url(session, graph.ROLE_ASSIGNMENTS_PATH, query="$expand=principal")
        wanted = list(graph.graph_list(session, graph.ROLE_ASSIGNMENTS_PATH, url=url))
    assert "principal" not in plain[0]
    assert wanted[0]["principal"]["@odata.type"] == "#microsoft.graph.group"
    assert graph.directory_role_assignment(plain[0]).principal_type is None
    assert graph.directory_role_assignment(wanted[0]).principal_type == "group"
