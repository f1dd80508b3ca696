"""Identity records: Azure role assignments, eligibilities and definitions, and Microsoft Graph's directory data."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class RoleDefinition:
    """An Azure RBAC role definition."""

    id: str
    name: str
    role_name: str
    role_type: str | None
    subscription_id: str = ""
    resource_group: str = ""
    location: str = ""
    type: str = "Microsoft.Authorization/roleDefinitions"
    # Control-plane actions granted and excluded, over all permission blocks (custom roles can be Owner-like).
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()

    @property
    def guid(self) -> str:
        """The definition's GUID, the last segment of its id."""
        return self.id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class RoleAssignment:
    """An Azure RBAC role assignment."""

    id: str
    name: str
    subscription_id: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str | None
    resource_group: str = ""
    location: str = ""
    type: str = "Microsoft.Authorization/roleAssignments"

    @property
    def role_guid(self) -> str:
        """The GUID of the assigned role definition."""
        return self.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class RoleEligibility:
    """A PIM-eligible Azure role (a ``roleEligibilityScheduleInstance``): its holder can activate it at will."""

    id: str
    name: str
    subscription_id: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str | None
    # Direct, Group (held through a group's eligibility) or Inherited (from a parent scope), as ARM reports it.
    member_type: str | None = None
    resource_group: str = ""
    location: str = ""
    type: str = "Microsoft.Authorization/roleEligibilityScheduleInstances"
    unreadable: tuple[Unreadable, ...] = ()

    @property
    def role_guid(self) -> str:
        """The GUID of the eligible role definition."""
        return self.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class ConditionalAccessPolicy:
    """A Conditional Access policy, reduced to what decides MFA coverage."""

    id: str
    display_name: str
    state: str | None
    include_users: tuple[str, ...] = ()
    exclude_users: tuple[str, ...] = ()
    include_groups: tuple[str, ...] = ()
    exclude_groups: tuple[str, ...] = ()
    include_roles: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()
    include_applications: tuple[str, ...] = ()
    exclude_applications: tuple[str, ...] = ()
    grant_operator: str | None = None
    built_in_controls: tuple[str, ...] = ()
    authentication_strength: str | None = None
    subscription_id: str = ""
    type: str = "microsoft.graph.conditionalAccessPolicy"


@dataclass(frozen=True)
class DirectoryRoleAssignment:
    """A Microsoft Entra directory role assignment."""

    id: str
    principal_id: str
    role_definition_id: str
    directory_scope_id: str | None = None
    # user, group or servicePrincipal: the expanded principal's @odata.type; None when Graph did not say.
    principal_type: str | None = None
    subscription_id: str = ""
    type: str = "microsoft.graph.unifiedRoleAssignment"


@dataclass(frozen=True)
class DirectoryRoleEligibility:
    """A PIM-eligible directory role (a ``unifiedRoleEligibilityScheduleInstance``)."""

    id: str
    principal_id: str
    role_definition_id: str
    directory_scope_id: str | None = None
    principal_type: str | None = None
    member_type: str | None = None
    subscription_id: str = ""
    type: str = "microsoft.graph.unifiedRoleEligibilityScheduleInstance"


@dataclass(frozen=True)
class DirectoryRoleDefinition:
    """A Microsoft Entra role definition with Microsoft's own privileged marking."""

    id: str
    display_name: str
    template_id: str | None
    is_built_in: bool | None
    # Graph's isPrivileged: None when Graph did not report it, which no documented default fills.
    is_privileged: bool | None
    subscription_id: str = ""
    type: str = "microsoft.graph.unifiedRoleDefinition"


@dataclass(frozen=True)
class GroupMember:
    """One transitive member of a group: a user, service principal, device, contact or nested group."""

    id: str
    # The member's @odata.type without its "#microsoft.graph." prefix; None when Graph did not say.
    kind: str | None
    user_principal_name: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class GroupMembership:
    """Every transitive member of a group that holds a directory or Azure role."""

    id: str
    group_id: str
    members: tuple[GroupMember, ...] = ()
    subscription_id: str = ""
    type: str = "microsoft.graph.group"


@dataclass(frozen=True)
class UserRegistration:
    """A user's authentication-method registration, as Graph's registration report gives it."""

    id: str
    user_principal_name: str
    display_name: str | None
    user_type: str | None
    is_admin: bool | None
    is_mfa_registered: bool | None
    methods_registered: tuple[str, ...] = ()
    subscription_id: str = ""
    type: str = "microsoft.graph.userRegistrationDetails"


@dataclass(frozen=True)
class SecurityDefaults:
    """The tenant's security defaults enforcement policy."""

    id: str
    is_enabled: bool | None
    subscription_id: str = ""
    type: str = "microsoft.graph.identitySecurityDefaultsEnforcementPolicy"
