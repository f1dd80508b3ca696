"""ARM template and Bicep resources, as checkov parses them, turned into the records the live checks judge.

checkov runs ARM checks on Bicep too, handing them the resource body with the same property names.
"""

from __future__ import annotations

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
from auditor.records.backup import RecoveryVault
from auditor.records.compute import Disk, DiskEncryption, DiskEncryptionSet, ImageReference, VirtualMachine, VmExtension
from auditor.records.keyvault import KeyVault
from auditor.records.network import SecurityRule
from auditor.records.sql import SqlDatabase
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


# --- ENC-05, ENC-06, EP-01: databases, VM images and VM extensions -----------------------------------------

SQL_DATABASE = "Microsoft.Sql/servers/databases"
TDE = "Microsoft.Sql/servers/databases/transparentDataEncryption"
VM = "Microsoft.Compute/virtualMachines"
VM_EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
# Azure SQL enables TDE on every new database ("By default, TDE is enabled for all newly deployed Azure SQL
# databases", Microsoft's TDE overview), so a database that declares no TDE child has it Enabled.
SERVICE_DEFAULT_TDE = "Enabled"
# A deployment fails when an extension does not provision, so an extension in deployed code has provisioned.
DEPLOYED = "Succeeded"


def _inline(conf: Mapping[str, Any], child_type: str) -> list[Mapping[str, Any]]:
    """The child resources a resource declares in its own ``resources``, by short or full type."""
    short = child_type.rsplit("/", 1)[-1].lower()
    children = conf.get("resources") or []
    return [
        c
        for c in (children if isinstance(children, list) else [])
        if isinstance(c, dict) and str(c.get("type") or "").lower() in {short, child_type.lower()}
    ]


def _nested(conf: Mapping[str, Any]) -> bool:
    """True for a child resource checkov split out of its parent's ``resources``: judged with the parent."""
    return "parent_name" in conf


def _tde_state(tde: Mapping[str, Any], what: str) -> str:
    # API 2014-04-01 calls it properties.status; later versions properties.state (required).
    state = arm_literal(tde, "properties/state", what) or arm_literal(tde, "properties/status", what)
    if not state:
        raise UndecidableError(f"{what} declares transparentDataEncryption without properties.state")
    return str(state)


def _database(name: str, what: str, conf: Mapping[str, Any], state: str) -> SqlDatabase:
    return SqlDatabase(
        id=what,
        name=name,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        server_id="",
        sku=_text(arm_get(conf, "sku/name")),
        tde_state=state,
    )


def sql_database_tde(resource_type: str, conf: Mapping[str, Any]) -> SqlDatabase | None:
    """A database with the TDE state its inline child declares (the service default without one), or a
    top-level ``transparentDataEncryption`` child as the database it sets; None for a child judged inline."""
    what = _name(conf)
    if resource_type == TDE:
        if _nested(conf):
            return None
        # "server/database/current" in templates; Bicep names the child "current" under its parent.
        parts = what.split("/")
        return _database(parts[1] if len(parts) == 3 else what, what, conf, _tde_state(conf, what))
    inline = _inline(conf, TDE)
    state = _tde_state(inline[0], what) if inline else SERVICE_DEFAULT_TDE
    return _database(what.rsplit("/", 1)[-1], what, conf, state)


def _image_reference(conf: Mapping[str, Any], what: str) -> ImageReference:
    """The marketplace image a VM is built from; empty for a custom or gallery image or an attached OS disk."""
    reference = arm_get(conf, "properties/storageProfile/imageReference")
    if not isinstance(reference, dict) or not arm_get(reference, "publisher"):
        return ImageReference()
    here = f"{what} imageReference"
    parts = [_text(arm_literal(reference, part, here)) for part in ("publisher", "offer", "sku", "version")]
    return ImageReference(*parts)


def _vm_os_type(conf: Mapping[str, Any], what: str) -> str | None:
    declared = _text(arm_literal(conf, "properties/storageProfile/osDisk/osType", what))
    if declared:
        return declared
    if arm_get(conf, "properties/osProfile/windowsConfiguration") is not None:
        return "Windows"
    return "Linux" if arm_get(conf, "properties/osProfile/linuxConfiguration") is not None else None


def vm_extension(conf: Mapping[str, Any], what: str) -> VmExtension:
    """An extension resource (inline or a child) as its VM would list it, once deployed."""
    name = _name(conf).rsplit("/", 1)[-1]
    here = f"{what} extension {name}"
    return VmExtension(
        name=name,
        publisher=_text(arm_literal(conf, "properties/publisher", here)),
        extension_type=_text(arm_literal(conf, "properties/type", here)),
        provisioning_state=DEPLOYED,
        type_handler_version=_text(arm_get(conf, "properties/typeHandlerVersion")),
        antimalware_enabled=arm_bool(conf, "properties/settings/AntimalwareEnabled", here),
    )


def virtual_machine(conf: Mapping[str, Any]) -> VirtualMachine:
    """A ``Microsoft.Compute/virtualMachines`` resource: its image, and the extensions it declares inline."""
    what = _name(conf)
    return VirtualMachine(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        os_type=_vm_os_type(conf, what),
        image=_image_reference(conf, what),
        os_disk=None,
        extensions=tuple(vm_extension(e, what) for e in _inline(conf, VM_EXTENSION)),
        extensions_known=True,
    )


def extension_vm(conf: Mapping[str, Any]) -> VirtualMachine | None:
    """The VM a top-level extension resource is declared on, with that one extension; None for an inline one."""
    if _nested(conf):
        return None
    what = _name(conf)
    return VirtualMachine(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        os_type=None,
        image=ImageReference(),
        os_disk=None,
        extensions=(vm_extension(conf, what),),
        extensions_known=True,
    )
