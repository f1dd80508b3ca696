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
from auditor.records.compute import Disk, DiskEncryption, DiskEncryptionSet
from auditor.records.keyvault import KeyVault
from auditor.records.network import SecurityRule
from auditor.records.storage import StorageAccount
from auditor.records.web import WebApp

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


# --- App Service sites (ENC-04 app_service_https_tls) --------------------------------------------------

SITE = "Microsoft.Web/sites"
SITE_CONFIG = "Microsoft.Web/sites/config"
# ARM's default for a site that leaves httpsOnly out is false (HTTP is answered); App Service gives new sites
# a minimum TLS version of 1.2 when siteConfig.minTlsVersion is left out
# (learn.microsoft.com/azure/app-service/overview-tls: "TLS 1.2 is the default minimum TLS version").
SITE_DEFAULT_HTTPS_ONLY = False
SITE_DEFAULT_MIN_TLS_VERSION = "1.2"


def _site_web_config(conf: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The properties of a ``config`` child named ``web`` nested in the site's own resources, if any."""
    for child in conf.get("resources") or []:
        if not isinstance(child, dict):
            continue
        kind = str(child.get("type") or "")
        name = str(child.get("name") or "").rsplit("/", 1)[-1]
        if kind in {"config", SITE_CONFIG} and name == "web":
            properties = child.get("properties")
            return properties if isinstance(properties, dict) else {}
    return None


def web_app(conf: Mapping[str, Any]) -> WebApp:
    """A ``Microsoft.Web/sites`` resource with the platform defaults; a value left to an expression is unknown.

    A ``config`` child named ``web`` nested in the site sets the minimum TLS version over ``siteConfig``.
    """
    what = _name(conf)
    try:
        stated = arm_bool(conf, "properties/httpsOnly", what)
        https_only: bool | None = SITE_DEFAULT_HTTPS_ONLY if stated is None else stated
    except UndecidableError:
        https_only = None
    web = _site_web_config(conf)
    version = arm_get(web, "minTlsVersion") if web is not None else None
    if version is None:
        version = arm_get(conf, "properties/siteConfig/minTlsVersion")
    if version is None:
        min_tls: str | None = SITE_DEFAULT_MIN_TLS_VERSION
    else:
        min_tls = None if is_arm_expression(version) else str(version)
    return WebApp(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        kind=_text(conf.get("kind")),
        https_only=https_only,
        min_tls_version=min_tls,
    )
