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
from auditor.checks.primitives import AZURE_DEFAULT_RULES
from auditor.records.backup import RecoveryVault
from auditor.records.compute import Disk, DiskEncryption, DiskEncryptionSet
from auditor.records.keyvault import KeyVault
from auditor.records.network import AzureFirewall, FirewallPolicy, NatRule, NetworkSecurityGroup, SecurityRule
from auditor.records.storage import StorageAccount

NSG = "Microsoft.Network/networkSecurityGroups"
NSG_RULE = "Microsoft.Network/networkSecurityGroups/securityRules"
RULE_COLLECTION_GROUP = "Microsoft.Network/firewallPolicies/ruleCollectionGroups"
FIREWALL = "Microsoft.Network/azureFirewalls"
NAT_RULE_COLLECTION = "FirewallPolicyNatRuleCollection"
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


def network_security_group(resource_type: str, conf: Mapping[str, Any]) -> NetworkSecurityGroup:
    """An NSG declared in a template, with the default rules Azure adds to every NSG.

    A ``securityRules`` child resource stands for its NSG as far as that one rule shows it: the rule is
    judged on its own, since the other rules of its NSG may be declared elsewhere.
    """
    what = _name(conf)
    return NetworkSecurityGroup(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        rules=security_rules(resource_type, conf) + AZURE_DEFAULT_RULES,
    )


def _arm_texts(conf: Mapping[str, Any], path: str) -> tuple[str, ...]:
    """A string or array property as written, expressions included: for values the verdict only reports."""
    value = arm_get(conf, path)
    items = value if isinstance(value, list) else [] if value is None else [value]
    return tuple(str(item) for item in items if item not in (None, ""))


def nat_rule(rule: Mapping[str, Any], collection: str, what: str, protocols: str) -> NatRule:
    """One DNAT rule of a policy's NAT rule collection (``ipProtocols``) or of a classic one (``protocols``).

    Sources, protocols and ports decide the verdict and must be literal; the destination and translated
    addresses and IP group ids are only reported, so stay as written.
    """
    here = f"{what} rule collection {collection} rule {rule.get('name') or 'unnamed'}"
    return NatRule(
        name=str(rule.get("name") or ""),
        collection=collection,
        protocols=arm_strings(rule, protocols, here),
        source_addresses=arm_strings(rule, "sourceAddresses", here),
        destination_addresses=_arm_texts(rule, "destinationAddresses"),
        destination_ports=arm_strings(rule, "destinationPorts", here),
        translated_address=_text(arm_get(rule, "translatedAddress") or arm_get(rule, "translatedFqdn")),
        translated_port=_text(arm_literal(rule, "translatedPort", here)),
        source_ip_groups=_arm_texts(rule, "sourceIpGroups"),
    )


def _objects(value: Any, what: str, path: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise UndecidableError(f"{what} {path} is {value!r}, not a list of objects")
    return value


def firewall_rule_collection_group(conf: Mapping[str, Any]) -> FirewallPolicy:
    """A ``Microsoft.Network/firewallPolicies/ruleCollectionGroups`` resource: the policy as far as this group's
    DNAT rules show it."""
    what = _name(conf)
    rules: list[NatRule] = []
    for collection in _objects(arm_literal(conf, "properties/ruleCollections", what), what, "ruleCollections"):
        kind = str(arm_literal(collection, "ruleCollectionType", what) or "")
        if kind.lower() != NAT_RULE_COLLECTION.lower():
            continue
        name = str(arm_literal(collection, "name", what) or "")
        for rule in _objects(arm_get(collection, "rules"), what, f"rule collection {name} rules"):
            if str(arm_literal(rule, "ruleType", what) or "").lower() == "natrule":
                rules.append(nat_rule(rule, name, what, "ipProtocols"))
    return FirewallPolicy(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location="",
        threat_intel_mode=None,
        nat_rules=tuple(rules),
        rule_collection_group_ids=(what,),
    )


# A template names the policy a firewall follows by an expression most of the time; its name is the last
# literal argument of resourceId(...).
_RESOURCE_ID_NAME = re.compile(r"^\[\s*resourceId\(.*'([^']+)'\s*\)\s*\]$", re.IGNORECASE)


def _policy_reference(value: object) -> str | None:
    text = _text(value)
    if text is None or not is_arm_expression(text):
        return text
    named = _RESOURCE_ID_NAME.match(text)
    return f"firewallPolicies/{named.group(1)}" if named else text


def azure_firewall(conf: Mapping[str, Any]) -> AzureFirewall:
    """A ``Microsoft.Network/azureFirewalls`` resource with its classic DNAT rules (``natRuleCollections``)."""
    what = _name(conf)
    rules: list[NatRule] = []
    for collection in _objects(arm_literal(conf, "properties/natRuleCollections", what), what, "natRuleCollections"):
        name = str(arm_literal(collection, "name", what) or "")
        rules.extend(
            nat_rule(rule, name, what, "protocols")
            for rule in _objects(arm_get(collection, "properties/rules"), what, f"NAT rule collection {name} rules")
        )
    return AzureFirewall(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        provisioning_state=None,
        threat_intel_mode=None,
        sku_tier=None,
        firewall_policy_id=_policy_reference(arm_get(conf, "properties/firewallPolicy/id")),
        nat_rules=tuple(rules),
    )
