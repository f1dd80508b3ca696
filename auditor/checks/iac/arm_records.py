"""ARM template and Bicep resources, as checkov parses them, turned into the records the live checks judge.

checkov runs ARM checks on Bicep too, handing them the resource body with the same property names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from auditor.checks.iac.conf_values import (
    UndecidableError,
    arm_bool,
    arm_get,
    arm_int,
    arm_literal,
    arm_strings,
    is_arm_expression,
)
from auditor.checks.roles import (
    BUILTIN_PRIVILEGED_ROLES,
    DEPLOYMENT_SCOPE,
    DeclaredAssignment,
    scope_level,
    subscription_of,
)
from auditor.records.backup import RecoveryVault
from auditor.records.compute import Disk, DiskEncryption, DiskEncryptionSet
from auditor.records.identity import RoleAssignment
from auditor.records.keyvault import KeyVault
from auditor.records.network import SecurityRule
from auditor.records.storage import StorageAccount

NSG = "Microsoft.Network/networkSecurityGroups"
NSG_RULE = "Microsoft.Network/networkSecurityGroups/securityRules"
CUSTOMER_KEY = "EncryptionAtRestWithCustomerKey"
PLATFORM_KEY = "EncryptionAtRestWithPlatformKey"


def _name(conf: Mapping[str, Any]) -> str:
    return str(conf.get("name") or "")


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def security_rule(rule: Mapping[str, Any], what: str) -> SecurityRule:
    """One rule: an element of ``properties.securityRules`` or a ``securityRules`` child resource."""
    if not isinstance(rule, dict):
        raise UndecidableError(f"{what} has a security rule that is not an object ({rule!r})")
    name = _name(rule) or "unnamed"
    here = f"{what} rule {name}"
    priority = arm_int(rule, "properties/priority", here)
    direction = arm_literal(rule, "properties/direction", here)
    access = arm_literal(rule, "properties/access", here)
    protocol = arm_literal(rule, "properties/protocol", here)
    if priority is None or direction is None or access is None or protocol is None:
        raise UndecidableError(f"{here} lacks priority, direction, access or protocol")
    groups = arm_get(rule, "properties/sourceApplicationSecurityGroups") or []
    return SecurityRule(
        name=name,
        priority=priority,
        direction=str(direction),
        access=str(access),
        protocol=str(protocol),
        source_prefixes=arm_strings(rule, "properties/sourceAddressPrefix", here)
        + arm_strings(rule, "properties/sourceAddressPrefixes", here),
        destination_ports=arm_strings(rule, "properties/destinationPortRange", here)
        + arm_strings(rule, "properties/destinationPortRanges", here),
        source_asg_ids=tuple(str(g.get("id")) for g in groups if isinstance(g, dict)),
        destination_prefixes=arm_strings(rule, "properties/destinationAddressPrefix", here)
        + arm_strings(rule, "properties/destinationAddressPrefixes", here),
        description=str(arm_get(rule, "properties/description") or ""),
    )


def security_rules(resource_type: str, conf: Mapping[str, Any]) -> tuple[SecurityRule, ...]:
    """The rules an NSG declares in ``properties.securityRules``, or the one rule a child resource is."""
    what = _name(conf)
    if resource_type == NSG_RULE:
        return (security_rule(conf, what),)
    rules = arm_literal(conf, "properties/securityRules", what) or []
    if not isinstance(rules, list):
        raise UndecidableError(f"{what} properties.securityRules is {rules!r}, not a list of rules")
    return tuple(security_rule(rule, what) for rule in rules)


def key_vault(conf: Mapping[str, Any]) -> KeyVault:
    """A ``Microsoft.KeyVault/vaults`` resource with the platform defaults for what it leaves out."""
    what = _name(conf)
    soft_delete = arm_bool(conf, "properties/enableSoftDelete", what)
    retention = arm_int(conf, "properties/softDeleteRetentionInDays", what)
    return KeyVault(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        # Soft delete is on unless the template turns it off, with 90 days' retention.
        soft_delete_enabled=True if soft_delete is None else soft_delete,
        soft_delete_retention_days=90 if retention is None else retention,
        purge_protection_enabled=arm_bool(conf, "properties/enablePurgeProtection", what),
        rbac_authorization_enabled=arm_bool(conf, "properties/enableRbacAuthorization", what),
        public_network_access=_text(arm_literal(conf, "properties/publicNetworkAccess", what)),
        network_default_action=_text(arm_literal(conf, "properties/networkAcls/defaultAction", what)),
    )


def managed_disk(conf: Mapping[str, Any]) -> tuple[Disk, tuple[DiskEncryptionSet, ...]]:
    """A ``Microsoft.Compute/disks`` resource and the disk encryption set it names, if any."""
    what = _name(conf)
    set_id = _text(arm_get(conf, "properties/encryption/diskEncryptionSetId"))
    kind = _text(arm_literal(conf, "properties/encryption/type", what)) or (CUSTOMER_KEY if set_id else PLATFORM_KEY)
    collection = arm_get(conf, "properties/encryptionSettingsCollection") or {}
    settings = [s for s in (arm_get(collection, "encryptionSettings") or []) if isinstance(s, dict)]
    ade = arm_bool(collection, "enabled", what) if collection else False
    disk = Disk(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        os_type=_text(arm_get(conf, "properties/osType")),
        encryption=DiskEncryption(
            encryption_type=kind,
            disk_encryption_set_id=set_id,
            ade_enabled=ade,
            ade_secret_urls=tuple(str(url) for s in settings if (url := arm_get(s, "diskEncryptionKey/secretUrl"))),
            ade_key_urls=tuple(str(url) for s in settings if (url := arm_get(s, "keyEncryptionKey/keyUrl"))),
        ),
    )
    # A disk encryption set always names its Key Vault key (activeKey), so one named here stands for it.
    sets = (
        (
            DiskEncryptionSet(
                id=set_id,
                name=set_id,
                subscription_id="",
                resource_group="",
                location="",
                encryption_type=kind,
                active_key_url=f"the activeKey of {set_id}",
            ),
        )
        if set_id
        else ()
    )
    return disk, sets


def storage_account(conf: Mapping[str, Any]) -> tuple[StorageAccount, bool]:
    """A ``Microsoft.Storage/storageAccounts`` resource, and whether its location is known from the code."""
    what = _name(conf)
    location = conf.get("location")
    known = isinstance(location, str) and bool(location) and not is_arm_expression(location)
    return (
        StorageAccount(
            id=what,
            name=what,
            subscription_id="",
            resource_group="",
            location=str(location) if known else "",
            sku=_text(arm_literal(conf, "sku/name", what)),
            kind=_text(conf.get("kind")),
            allow_blob_public_access=None,
            public_network_access=None,
            network_default_action=None,
            https_only=None,
            minimum_tls_version=None,
            key_source=None,
        ),
        known,
    )


def recovery_vault(conf: Mapping[str, Any]) -> RecoveryVault:
    """A ``Microsoft.RecoveryServices/vaults`` resource; its storage is geo-redundant unless it says otherwise."""
    what = _name(conf)
    redundancy = arm_literal(conf, "properties/redundancySettings/standardTierStorageRedundancy", what)
    return RecoveryVault(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        public_network_access=_text(arm_get(conf, "properties/publicNetworkAccess")),
        cmk_key_uri=None,
        infrastructure_encryption=None,
        storage_redundancy=_text(redundancy) or "GeoRedundant",
        cross_region_restore=None,
    )


ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITIONS = "Microsoft.Authorization/roleDefinitions"
# Templates name a built-in role by its GUID inside an id function; the GUID is literal even though the id
# is an expression: [subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '<guid>')].
_ROLE_DEFINITION_FUNCTION = re.compile(
    r"^\[\s*(?:subscription|tenant|extension|)resourceId\(.*'Microsoft\.Authorization/roleDefinitions'\s*,"
    r"\s*'([0-9a-fA-F-]{36})'\s*\)\s*\]$",
    re.IGNORECASE,
)
# checkov gives Bicep's function calls as {"function": {"type": ..., "parameters": {...}}}.
_BICEP_ID_FUNCTIONS = frozenset(
    {"subscription_resource_id", "tenant_resource_id", "resource_id", "extension_resource_id"}
)
# Bicep's scope: a function naming a scope above resources; a symbolic name (a string) names a resource.
_BICEP_SCOPE_FUNCTIONS = {
    "resource_group": "resource group",
    "subscription": "subscription",
    "management_group": "management group",
    "tenant": "root",
}
_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _bicep_function(value: object) -> tuple[str, Mapping[str, Any]] | None:
    function = value.get("function") if isinstance(value, dict) else None
    if not isinstance(function, dict):
        return None
    parameters = function.get("parameters")
    return str(function.get("type")), parameters if isinstance(parameters, dict) else {}


def _role_definition_guid(conf: Mapping[str, Any], what: str) -> str:
    value = arm_get(conf, "properties/roleDefinitionId")
    bicep = _bicep_function(value)
    if bicep is not None:
        kind, parameters = bicep
        guid = parameters.get("resource_name_1")
        named = str(parameters.get("resource_type") or "").lower() == ROLE_DEFINITIONS.lower()
        if kind in _BICEP_ID_FUNCTIONS and named and isinstance(guid, str) and _OBJECT_ID.match(guid):
            return guid.lower()
    elif isinstance(value, str) and value.strip() and not is_arm_expression(value):
        return value.rstrip("/").rsplit("/", 1)[-1].lower()
    elif isinstance(value, str) and (function := _ROLE_DEFINITION_FUNCTION.match(value.strip())):
        return function.group(1).lower()
    raise UndecidableError(f"{what} properties.roleDefinitionId is {value!r}, not a role the code states")


def _role_assignment_scope(conf: Mapping[str, Any], what: str) -> tuple[str, str | None]:
    """The scope as the code gives it, and its level (None: one resource)."""
    scope = conf.get("scope")
    if scope is None:
        return "", DEPLOYMENT_SCOPE
    bicep = _bicep_function(scope)
    if bicep is not None and bicep[0] in _BICEP_SCOPE_FUNCTIONS and not any(bicep[1].values()):
        return "", _BICEP_SCOPE_FUNCTIONS[bicep[0]]
    if not isinstance(scope, str) or is_arm_expression(scope):
        raise UndecidableError(f"{what} scope is {scope!r}, resolved only at deployment")
    # A literal id, or (Bicep) the symbolic name of a resource in the file, which scope_level calls a resource.
    return scope, scope_level(scope, subscription_of(scope))


def role_assignment(conf: Mapping[str, Any]) -> DeclaredAssignment | None:
    """A ``Microsoft.Authorization/roleAssignments`` resource of a privileged built-in role; None for another
    role, or for one at a single resource's scope.

    Without a ``scope`` the assignment applies to what the template deploys to (a resource group or a
    subscription); an extension resource's ``scope`` names one resource, which IAM-02 does not count.
    """
    name = conf.get("name")
    what = name if isinstance(name, str) and name else "role assignment"
    guid = _role_definition_guid(conf, what)
    if guid not in BUILTIN_PRIVILEGED_ROLES:
        return None
    scope, level = _role_assignment_scope(conf, what)
    if level is None:
        return None
    principal = arm_literal(conf, "properties/principalId", what)
    # Object ids are GUIDs: anything else is a parameter or reference the code leaves to deployment.
    if not isinstance(principal, str) or not _OBJECT_ID.match(principal.strip()):
        raise UndecidableError(f"{what} properties.principalId is {principal!r}, not an object id the code states")
    assignment = RoleAssignment(
        id=what,
        name=what,
        subscription_id=subscription_of(scope),
        scope=scope,
        role_definition_id=f"/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        principal_id=principal.strip(),
        principal_type=_text(arm_literal(conf, "properties/principalType", what)),
    )
    return DeclaredAssignment(assignment, level)
