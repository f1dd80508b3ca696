"""ARM template and Bicep resources, as checkov parses them, turned into the records the live checks judge.

checkov runs ARM checks on Bicep too, handing them the resource body with the same property names.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from auditor.arm_ids import name_of
from auditor.checks.disks import KeyedDisk, KeyedSnapshot
from auditor.checks.index import ById
from auditor.checks.key_vault import ProtectingKey
from auditor.checks.primitives import AZURE_DEFAULT_RULES
from auditor.checks.recovery import BackupAccount
from auditor.checks.roles import (
    BUILTIN_PRIVILEGED_ROLES,
    DEPLOYMENT_SCOPE,
    DeclaredAssignment,
    scope_level,
    subscription_of,
)
from auditor.checks.storage import BackupAwareAccount
from auditor.collect.backup import backup_policy as collected_backup_policy
from auditor.collect.sql import sql_virtual_machine as collected_sql_virtual_machine
from auditor.collect.sql import with_auto_backup_settings, with_long_term_retention_body
from auditor.iac.conf_values import (
    UndecidableError,
    arm_bool,
    arm_get,
    arm_int,
    arm_literal,
    arm_strings,
    is_arm_expression,
)
from auditor.iac.region_pairs import declared_backup_account
from auditor.records.backup import BackupPolicy, RecoveryVault
from auditor.records.compute import (
    Disk,
    DiskEncryption,
    DiskEncryptionSet,
    ImageReference,
    Snapshot,
    VirtualMachine,
    VmExtension,
)
from auditor.records.identity import RoleAssignment
from auditor.records.keyvault import KeyVault, KeyVaultKey
from auditor.records.monitor import ActionGroup, AlertRule, DefenderPlan, SecurityContact
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    NatRule,
    NetworkSecurityGroup,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    VirtualNetwork,
    VirtualNetworkGateway,
)
from auditor.records.sql import SqlDatabase, SqlVirtualMachine
from auditor.records.storage import StorageAccount
from auditor.records.web import WebApp

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
                name=set_name(set_id),
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


def set_name(set_id: str) -> str:
    """The name of a disk encryption set named by id in a template: the id's last segment, or the expression."""
    return name_of(set_id) if set_id.startswith("/") else set_id


def keyed_disk(conf: Mapping[str, Any]) -> KeyedDisk:
    """A ``Microsoft.Compute/disks`` resource with the disk encryption set it names, as ENC-01 judges it."""
    disk, sets = managed_disk(conf)
    return KeyedDisk(disk, ById(sets))


def snapshot(conf: Mapping[str, Any]) -> KeyedSnapshot:
    """A ``Microsoft.Compute/snapshots`` resource with ARM's defaults for what it leaves out.

    networkAccessPolicy defaults to AllowAll and publicNetworkAccess to Enabled; a snapshot that states no
    ``encryption`` takes its key at rest from what it copies, which the template does not show.
    """
    what = _name(conf)
    disk, sets = managed_disk(conf)
    encryption = disk.encryption
    if arm_get(conf, "properties/encryption") is None:
        encryption = replace(encryption, encryption_type=None)
    source = arm_get(conf, "properties/creationData/sourceResourceId")
    record = Snapshot(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        encryption=encryption,
        source_resource_id=_text(source),
        public_network_access=_text(arm_literal(conf, "properties/publicNetworkAccess", what)) or "Enabled",
        network_access_policy=_text(arm_literal(conf, "properties/networkAccessPolicy", what)) or "AllowAll",
    )
    return KeyedSnapshot(record, ById(sets))


def encrypted_recovery_vault(conf: Mapping[str, Any]) -> RecoveryVault:
    """A ``Microsoft.RecoveryServices/vaults`` resource with its public access and customer-managed key.

    publicNetworkAccess is Enabled unless the template says otherwise; a key URI left to an expression (a
    key's keyUriWithVersion, say) still names a Key Vault key, as the property requires one.
    """
    what = _name(conf)
    return RecoveryVault(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        storage_redundancy=_text(arm_get(conf, "properties/redundancySettings/standardTierStorageRedundancy")),
        cross_region_restore=None,
        public_network_access=_text(arm_literal(conf, "properties/publicNetworkAccess", what)) or "Enabled",
        cmk_key_uri=_text(arm_get(conf, "properties/encryption/keyVaultProperties/keyUri")),
        infrastructure_encryption=_text(arm_literal(conf, "properties/encryption/infrastructureEncryption", what)),
    )


def protected_storage_account(conf: Mapping[str, Any]) -> BackupAwareAccount:
    """A ``Microsoft.Storage/storageAccounts`` resource with every setting ENC-03 reads.

    ARM's documented defaults: supportsHttpsTrafficOnly true (API 2019-04-01 on), minimumTlsVersion read as
    TLS1_0, networkAcls.defaultAction Allow, encryption.keySource Microsoft.Storage. allowBlobPublicAccess and
    publicNetworkAccess stay unstated when absent (their defaults moved between API versions), so the rule
    never passes them. Which SQL VMs back up to the account is not in the account's template.
    """
    what = _name(conf)
    https = arm_bool(conf, "properties/supportsHttpsTrafficOnly", what)
    source = _text(arm_literal(conf, "properties/encryption/keySource", what))
    return BackupAwareAccount(
        StorageAccount(
            id=what,
            name=what,
            subscription_id="",
            resource_group="",
            location=str(conf.get("location") or ""),
            sku=_text(arm_get(conf, "sku/name")),
            kind=_text(conf.get("kind")),
            allow_blob_public_access=arm_bool(conf, "properties/allowBlobPublicAccess", what),
            public_network_access=_text(arm_literal(conf, "properties/publicNetworkAccess", what)),
            network_default_action=_text(arm_literal(conf, "properties/networkAcls/defaultAction", what)) or "Allow",
            https_only=True if https is None else https,
            minimum_tls_version=_text(arm_literal(conf, "properties/minimumTlsVersion", what)) or "TLS1_0",
            key_source=source or "Microsoft.Storage",
            key_vault_uri=_text(arm_get(conf, "properties/encryption/keyvaultproperties/keyvaulturi")),
            key_name=_text(arm_get(conf, "properties/encryption/keyvaultproperties/keyname")),
        )
    )


# --- Defender for Cloud, Azure Monitor and Key Vault keys (MON-01, MON-02, MON-03, KV-02) ------------------

DEFENDER_TIERS = ("Free", "Standard")


def _leaf_name(conf: Mapping[str, Any], what: str) -> str:
    """A child resource's own name: the last segment of ``parent/child``; an error when left to an expression."""
    name = _name(conf)
    if is_arm_expression(name):
        raise UndecidableError(f"{what} is named by the expression {name!r}, resolved only at deployment")
    return name.rsplit("/", 1)[-1]


def _on_off(value: object) -> str | None:
    """An On/Off state, from a string or the boolean the 2017-08-01-preview contact also accepts."""
    if isinstance(value, bool):
        return "On" if value else "Off"
    return _text(value)


def _addresses(text: object) -> tuple[str, ...]:
    """E-mail addresses of a field that may list several, separated by ``;`` or ``,`` as Defender accepts."""
    return tuple(a.strip() for a in str(text or "").replace(",", ";").split(";") if a.strip())


def security_contact(conf: Mapping[str, Any]) -> SecurityContact:
    """A ``Microsoft.Security/securityContacts`` resource in any of its API shapes.

    2023-12-01-preview lists ``notificationsSources`` (alerts are e-mailed while an Alert source is listed and
    the contact is enabled); 2020-01-01-preview has ``alertNotifications`` {state, minimalSeverity}; the
    2017-08-01-preview contact (``email``, ``alertNotifications`` and ``alertsToAdmins`` On/Off) e-mails
    high-severity alerts only, and alertsToAdmins e-mails the subscription owners.
    """
    what = _name(conf)
    name = _leaf_name(conf, what)
    props = arm_get(conf, "properties") or {}
    legacy = isinstance(props, dict) and ("email" in props or isinstance(props.get("alertNotifications"), str))
    if legacy:
        alerts = _on_off(arm_literal(conf, "properties/alertNotifications", what))
        admins = _on_off(arm_literal(conf, "properties/alertsToAdmins", what))
        return SecurityContact(
            id=what,
            name=name,
            subscription_id="",
            emails=_addresses(arm_literal(conf, "properties/email", what)),
            phone=_text(arm_get(conf, "properties/phone")),
            alert_notifications=alerts,
            alert_minimal_severity="High" if (alerts or "").lower() == "on" else None,
            notify_roles_state=admins,
            notify_roles=("Owner",) if (admins or "").lower() == "on" else (),
        )
    enabled = arm_bool(conf, "properties/isEnabled", what)
    sources = arm_literal(conf, "properties/notificationsSources", what)
    if isinstance(sources, list):
        alert = next(
            (s for s in sources if isinstance(s, dict) and str(s.get("sourceType", "")).lower() == "alert"), None
        )
        severity = _text(arm_literal(alert, "minimalSeverity", what)) if alert else None
        state: str | None = "Off" if alert is None or enabled is False else "On"
    else:
        state = _text(arm_literal(conf, "properties/alertNotifications/state", what))
        severity = _text(arm_literal(conf, "properties/alertNotifications/minimalSeverity", what))
    return SecurityContact(
        id=what,
        name=name,
        subscription_id="",
        emails=_addresses(arm_literal(conf, "properties/emails", what)),
        phone=_text(arm_get(conf, "properties/phone")),
        alert_notifications=state,
        alert_minimal_severity=severity,
        notify_roles_state=_text(arm_literal(conf, "properties/notificationsByRole/state", what)),
        notify_roles=arm_strings(conf, "properties/notificationsByRole/roles", what),
        is_enabled=enabled,
    )


def defender_plan(conf: Mapping[str, Any]) -> DefenderPlan:
    """A ``Microsoft.Security/pricings`` resource: the plan is its name, the tier ``properties.pricingTier``."""
    what = _name(conf)
    tier = _text(arm_literal(conf, "properties/pricingTier", what))
    canonical = next((t for t in DEFENDER_TIERS if (tier or "").lower() == t.lower()), None)
    if tier is not None and canonical is None:
        raise UndecidableError(f"{what} properties.pricingTier is {tier!r}, not Free or Standard")
    return DefenderPlan(
        id=what,
        name=_leaf_name(conf, what),
        subscription_id="",
        pricing_tier=canonical,
        sub_plan=_text(arm_literal(conf, "properties/subPlan", what)),
    )


def action_group(conf: Mapping[str, Any]) -> ActionGroup:
    """A ``Microsoft.Insights/actionGroups`` resource; ``enabled`` defaults to true (ActionGroup in the
    2023-01-01 actionGroups_API.json specification)."""
    what = _name(conf)
    receivers = arm_literal(conf, "properties/emailReceivers", what) or []
    if not isinstance(receivers, list):
        raise UndecidableError(f"{what} properties.emailReceivers is {receivers!r}, not a list of receivers")
    emails = [
        str(found)
        for receiver in receivers
        if isinstance(receiver, dict) and (found := arm_literal(receiver, "emailAddress", f"{what} email receiver"))
    ]
    enabled = arm_bool(conf, "properties/enabled", what)
    return ActionGroup(
        id=what,
        name=_leaf_name(conf, what),
        subscription_id="",
        resource_group="",
        enabled=True if enabled is None else enabled,
        email_receivers=tuple(emails),
        sms_receivers=len(arm_get(conf, "properties/smsReceivers") or []),
        webhook_receivers=len(arm_get(conf, "properties/webhookReceivers") or []),
        location=str(conf.get("location") or ""),
    )


ACTIVITY_LOG_ALERT = "Microsoft.Insights/activityLogAlerts"
METRIC_ALERT = "Microsoft.Insights/metricAlerts"


def alert_rule(resource_type: str, conf: Mapping[str, Any]) -> AlertRule:
    """A ``Microsoft.Insights/activityLogAlerts`` (``enabled`` defaults to true, activityLogAlerts_API.json
    2020-10-01) or ``metricAlerts`` resource (``enabled`` is required there).

    The action group ids stay as written (usually an expression naming another resource): the rule's judge
    never follows them, so they are counted, not resolved.
    """
    what = _name(conf)
    metric = resource_type.lower() == METRIC_ALERT.lower()
    actions = arm_get(conf, "properties/actions" if metric else "properties/actions/actionGroups") or []
    groups = tuple(
        str(g)
        for a in (actions if isinstance(actions, list) else [])
        if isinstance(a, dict) and (g := a.get("actionGroupId"))
    )
    enabled = arm_bool(conf, "properties/enabled", what)
    return AlertRule(
        id=what,
        name=_leaf_name(conf, what),
        subscription_id="",
        resource_group="",
        kind="metric" if metric else "activityLog",
        enabled=enabled if metric or enabled is not None else True,
        action_group_ids=groups,
        location=str(conf.get("location") or ""),
        type=METRIC_ALERT if metric else ACTIVITY_LOG_ALERT,
    )


def key_vault_key(conf: Mapping[str, Any]) -> ProtectingKey:
    """A ``Microsoft.KeyVault/vaults/keys`` resource as the key KV-02 judges, with no uses: the resources it
    protects name it. ``attributes.enabled`` defaults to true; ``attributes.exp`` is in seconds since 1970."""
    what = _name(conf)
    enabled = arm_bool(conf, "properties/attributes/enabled", what)
    policy = arm_literal(conf, "properties/rotationPolicy", what)
    actions = arm_literal(conf, "properties/rotationPolicy/lifetimeActions", what) or []
    return ProtectingKey(
        KeyVaultKey(
            id=what,
            name=_leaf_name(conf, what),
            subscription_id="",
            resource_group="",
            vault_id=what.split("/", 1)[0] if "/" in what else "",
            kty=_text(arm_literal(conf, "properties/kty", what)),
            key_size=arm_int(conf, "properties/keySize", what),
            curve=_text(arm_literal(conf, "properties/curveName", what)),
            enabled=True if enabled is None else enabled,
            expires=arm_int(conf, "properties/attributes/exp", what),
            key_uri=None,
            rotation_policy=policy is not None,
            rotation_expiry_time=_text(arm_literal(conf, "properties/rotationPolicy/attributes/expiryTime", what)),
            rotation_actions=tuple(
                str(kind)
                for a in (actions if isinstance(actions, list) else [])
                if isinstance(a, dict) and (kind := arm_literal(a, "action/type", what))
            ),
        ),
        (),
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


# --- recovery (BAK-01, BAK-02, BAK-04) -------------------------------------------------------------
BACKUP_POLICY = "Microsoft.RecoveryServices/vaults/backupPolicies"
RECOVERY_VAULT = "Microsoft.RecoveryServices/vaults"
VAULT_STORAGE_CONFIG = "Microsoft.RecoveryServices/vaults/backupstorageconfig"
STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
SQL_VIRTUAL_MACHINE = "Microsoft.SqlVirtualMachine/sqlVirtualMachines"
LONG_TERM_RETENTION = "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies"
# A template resource's body is the body ARM GET returns, so the live collectors' builders read it; only the
# id (which ARM assigns) is stood in for, and an expression anywhere in the properties is not known.


def _no_expressions(value: object, where: str, what: str) -> None:
    """UndecidableError naming the first template expression in a body, which only deployment resolves."""
    if is_arm_expression(value):
        raise UndecidableError(f"{what} {where} is the expression {value!r}, resolved only at deployment")
    if isinstance(value, dict):
        for name, item in value.items():
            _no_expressions(item, f"{where}/{name}", what)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_expressions(item, f"{where}/{index}", what)


def _child_name(conf: Mapping[str, Any]) -> str:
    """The resource's own name: a child's last segment (``vault/policy`` -> ``policy``)."""
    return _name(conf).rsplit("/", 1)[-1]


def _as_got(conf: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    """The template resource as ARM GET would return it: its own name, and an id standing in for ARM's."""
    name = _name(conf)
    return dict(conf) | {"name": _child_name(conf), "id": f"/template/providers/{resource_type}/{name}"}


def _vault(vault_id: str, name: str, conf: Mapping[str, Any]) -> RecoveryVault:
    """The vault a child resource belongs to, as far as the child names it."""
    return RecoveryVault(
        id=vault_id,
        name=name,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        public_network_access=None,
        cmk_key_uri=None,
        infrastructure_encryption=None,
        storage_redundancy=None,
        cross_region_restore=None,
    )


def backup_storage_account(conf: Mapping[str, Any]) -> BackupAccount:
    """A ``Microsoft.Storage/storageAccounts`` resource as backup storage, with the regions Azure will report."""
    account, _ = storage_account(conf)
    return declared_backup_account(account)


def vault_storage_config(conf: Mapping[str, Any]) -> RecoveryVault:
    """A vault's ``backupstorageconfig`` child: the vault's storage redundancy as that resource sets it."""
    what = _name(conf)
    _no_expressions(conf.get("properties"), "properties", what)
    vault = what.split("/", 1)[0]
    redundancy = _text(arm_get(conf, "properties/storageModelType")) or _text(arm_get(conf, "properties/storageType"))
    return dataclasses.replace(
        _vault(vault, vault, conf),
        storage_redundancy=redundancy,
        cross_region_restore=arm_bool(conf, "properties/crossRegionRestoreFlag", what),
    )


def backup_policy(conf: Mapping[str, Any]) -> BackupPolicy:
    """A ``Microsoft.RecoveryServices/vaults/backupPolicies`` resource (Azure VM or SQL workload policy),
    read by the live collector's own builder."""
    what = _name(conf)
    _no_expressions(conf.get("properties"), "properties", what)
    vault_name = what.split("/", 1)[0] if "/" in what else ""
    vault = _vault(f"/template/providers/{RECOVERY_VAULT}/{vault_name}", vault_name, conf)
    return collected_backup_policy(_as_got(conf, "Microsoft.RecoveryServices/vaults/backupPolicies"), vault)


def long_term_retention(conf: Mapping[str, Any]) -> SqlDatabase:
    """A database's ``backupLongTermRetentionPolicies`` child, read by the live collector's own builder: the
    database's long-term retention as that resource sets it.

    A weekly retention the resource leaves out is none, which Azure reports as ``PT0S``; point-in-time
    retention is another resource's, so it is not known here.
    """
    what = _name(conf)
    _no_expressions(conf.get("properties"), "properties", what)
    parts = what.split("/")
    database = SqlDatabase(
        id=what,
        name=parts[1] if len(parts) >= 2 else what,
        subscription_id="",
        resource_group="",
        location="",
        server_id=parts[0] if len(parts) >= 2 else "",
        sku=None,
    )
    read = with_long_term_retention_body(conf, database)
    return dataclasses.replace(read, ltr_weekly=read.ltr_weekly or "PT0S")


def sql_virtual_machine(conf: Mapping[str, Any]) -> SqlVirtualMachine:
    """A ``Microsoft.SqlVirtualMachine/sqlVirtualMachines`` resource with its ``autoBackupSettings``, read by
    the live collector's own builders."""
    what = _name(conf)
    _no_expressions(arm_get(conf, "properties/autoBackupSettings"), "properties/autoBackupSettings", what)
    body = _as_got(conf, "Microsoft.SqlVirtualMachine/sqlVirtualMachines")
    return with_auto_backup_settings(body, collected_sql_virtual_machine(body, ""))


P2S = "properties/vpnClientConfiguration"


def _radius_server(conf: Mapping[str, Any]) -> str | None:
    single = _text(arm_get(conf, f"{P2S}/radiusServerAddress"))
    if single:
        return single
    # Gateways with several RADIUS servers list them instead of the single address.
    servers = arm_get(conf, f"{P2S}/radiusServers")
    listed = servers if isinstance(servers, list) else []
    return next((str(a) for s in listed if isinstance(s, dict) and (a := s.get("radiusServerAddress"))), None)


def virtual_network_gateway(conf: Mapping[str, Any]) -> VirtualNetworkGateway:
    """A ``Microsoft.Network/virtualNetworkGateways`` resource with its point-to-site settings.

    Without vpnAuthenticationTypes Azure infers the types from the settings given (root certificates, RADIUS
    server, AAD tenant), and so does the rule. Settings that only need to be present (the tenant, the RADIUS
    address) may be expressions; the authentication types, the gateway type and the root certificates may not.
    """
    what = _name(conf)
    kind = arm_literal(conf, "properties/gatewayType", what)
    if kind is None:
        raise UndecidableError(f"{what} states no gatewayType")
    roots = arm_literal(conf, f"{P2S}/vpnClientRootCertificates", what)
    if roots is not None and not isinstance(roots, list):
        raise UndecidableError(f"{what} {P2S}/vpnClientRootCertificates is {roots!r}, not a list")
    return VirtualNetworkGateway(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        gateway_type=str(kind),
        vpn_type=_text(arm_literal(conf, "properties/vpnType", what)),
        sku=_text(arm_get(conf, "properties/sku/name")),
        vnet_id=None,
        p2s_address_pools=arm_strings(conf, f"{P2S}/vpnClientAddressPool/addressPrefixes", what),
        p2s_auth_types=arm_strings(conf, f"{P2S}/vpnAuthenticationTypes", what),
        p2s_protocols=arm_strings(conf, f"{P2S}/vpnClientProtocols", what),
        p2s_root_certificates=len(roots or []),
        aad_tenant=_text(arm_get(conf, f"{P2S}/aadTenant")),
        radius_server=_radius_server(conf),
    )


# Threat-intelligence-based filtering is on in Alert mode unless a firewall or policy says otherwise
# (Azure Firewall documentation, "Threat intelligence-based filtering").
ARM_DEFAULT_THREAT_INTEL = "Alert"


def threat_intel_firewall(conf: Mapping[str, Any]) -> AzureFirewall | None:
    """A ``Microsoft.Network/azureFirewalls`` resource and its threat-intelligence mode; None when a firewall
    policy manages it (the mode in force is then judged on the policy)."""
    what = _name(conf)
    if arm_get(conf, "properties/firewallPolicy"):
        return None
    mode = arm_literal(conf, "properties/threatIntelMode", what)
    return AzureFirewall(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        provisioning_state=None,
        threat_intel_mode=_text(mode) or ARM_DEFAULT_THREAT_INTEL,
        sku_tier=_text(arm_get(conf, "properties/sku/tier")),
        firewall_policy_id=None,
    )


def firewall_policy(conf: Mapping[str, Any]) -> FirewallPolicy | None:
    """A ``Microsoft.Network/firewallPolicies`` resource and its threat-intelligence mode; None when it leaves
    the mode to its base policy (judged on that policy)."""
    what = _name(conf)
    mode = _text(arm_literal(conf, "properties/threatIntelMode", what))
    if mode is None and arm_get(conf, "properties/basePolicy"):
        return None
    return FirewallPolicy(
        id=what,
        name=what,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        threat_intel_mode=mode or ARM_DEFAULT_THREAT_INTEL,
    )


VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"


def _subnet(body: Mapping[str, Any], vnet: str, what: str) -> Subnet:
    if not isinstance(body, dict):
        raise UndecidableError(f"{what} has a subnet that is not an object ({body!r})")
    name = _name(body).rsplit("/", 1)[-1] or "unnamed"
    nsg = arm_get(body, "properties/networkSecurityGroup")
    nsg_id = nsg.get("id") if isinstance(nsg, dict) else nsg
    return Subnet(
        id=f"{vnet}/subnets/{name}",
        name=name,
        address_prefixes=arm_strings(body, "properties/addressPrefix", what)
        + arm_strings(body, "properties/addressPrefixes", what),
        nsg_id=str(nsg_id) if nsg_id else None,
    )


def virtual_network(resource_type: str, conf: Mapping[str, Any]) -> VirtualNetwork | None:
    """A ``Microsoft.Network/virtualNetworks`` resource with its inline subnets, or a ``subnets`` child resource
    as its network's one subnet; each with the NSG it names. None for a network declaring no subnet inline
    (its subnets are judged as their own child resources)."""
    what = _name(conf)
    if resource_type == SUBNET:
        vnet = what.split("/", 1)[0]
        subnets: tuple[Subnet, ...] = (_subnet(conf, vnet, what),)
    else:
        vnet = what
        listed = arm_literal(conf, "properties/subnets", what)
        if listed is None or listed == []:
            return None
        if not isinstance(listed, list):
            raise UndecidableError(f"{what} properties.subnets is {listed!r}, not a list of subnets")
        subnets = tuple(_subnet(body, vnet, what) for body in listed)
    return VirtualNetwork(
        id=what,
        name=vnet,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        address_prefixes=(),
        subnets=subnets,
    )


ROUTE_TABLE = "Microsoft.Network/routeTables"
ROUTE = "Microsoft.Network/routeTables/routes"


def _route(body: Mapping[str, Any], what: str) -> Route:
    if not isinstance(body, dict):
        raise UndecidableError(f"{what} has a route that is not an object ({body!r})")
    name = _name(body).rsplit("/", 1)[-1] or "unnamed"
    here = f"{what} route {name}"
    return Route(
        name=name,
        address_prefix=_text(arm_literal(body, "properties/addressPrefix", here)),
        next_hop_type=_text(arm_literal(body, "properties/nextHopType", here)),
        next_hop_ip=_text(arm_get(body, "properties/nextHopIpAddress")),
    )


def route_table(resource_type: str, conf: Mapping[str, Any]) -> RouteTable:
    """A ``Microsoft.Network/routeTables`` resource with its routes, or a ``routes`` child as its table's route."""
    what = _name(conf)
    if resource_type == ROUTE:
        routes: tuple[Route, ...] = (_route(conf, what),)
        name = what.split("/", 1)[0]
    else:
        listed = arm_literal(conf, "properties/routes", what) or []
        if not isinstance(listed, list):
            raise UndecidableError(f"{what} properties.routes is {listed!r}, not a list of routes")
        routes = tuple(_route(body, what) for body in listed)
        name = what
    return RouteTable(
        id=what,
        name=name,
        subscription_id="",
        resource_group="",
        location=str(conf.get("location") or ""),
        routes=routes,
    )


def names_a_firewall(value: str) -> bool:
    """True for a next hop that is an expression reading an Azure Firewall's (private) address."""
    return is_arm_expression(value) and "microsoft.network/azurefirewalls" in value.lower()


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
