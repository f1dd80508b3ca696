"""Key vault collector: vault protection settings through the management plane, from raw ARM JSON."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import resource_group_of
from auditor.collect.base import (
    TAGS_FIELD,
    UNKNOWN,
    Field,
    Listing,
    Reader,
    arm_pipeline,
    build_all,
    list_objects,
    path,
    resource_id,
    tags_of,
)
from auditor.collect.clients import KEY_VAULT_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.keyvault import KeyVault

# The api-version azure-mgmt-keyvault 14.1 sends.
API_VERSION = "2026-05-15"
VAULTS_API = "Microsoft.KeyVault/vaults"

# https://learn.microsoft.com/rest/api/keyvault/keyvault/vaults/get (VaultProperties). The documented
# creation defaults (soft delete on, 90 days) describe new vaults, not what an absent value says about
# an existing one, so absence stays unknown and the checks report it.
VAULT_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.enableSoftDelete", False, UNKNOWN),
    Field("properties.softDeleteRetentionInDays", False, UNKNOWN),
    # "Enabling this functionality is irreversible": absent means it was never enabled; the check reads
    # None as "not enabled", which fails, so no default is applied.
    Field("properties.enablePurgeProtection", False, UNKNOWN),
    Field("properties.enableRbacAuthorization", False, UNKNOWN),
    Field("properties.publicNetworkAccess", False, UNKNOWN),
    Field("properties.networkAcls.defaultAction", False, UNKNOWN),
    Field("properties.networkAcls.ipRules", False, "no IP rules"),
    Field("properties.privateEndpointConnections", False, "no private endpoints"),
    Field("properties.vaultUri", True),
    TAGS_FIELD,
)


def key_vault(raw: Mapping[str, Any], subscription_id: str) -> KeyVault:
    """A key vault record; absent settings stay None rather than assuming Azure's defaults."""
    vault = Reader(raw)
    vault_id = resource_id(vault, f"/subscriptions/{subscription_id}", VAULTS_API)
    props = vault.part("properties")
    return KeyVault(
        id=vault_id,
        name=vault.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(vault_id),
        location=vault.text("location") or "",
        soft_delete_enabled=props.flag("enableSoftDelete"),
        soft_delete_retention_days=props.integer("softDeleteRetentionInDays"),
        purge_protection_enabled=props.flag("enablePurgeProtection"),
        rbac_authorization_enabled=props.flag("enableRbacAuthorization"),
        public_network_access=props.choice("publicNetworkAccess", ("Enabled", "Disabled")),
        network_default_action=props.choice("networkAcls.defaultAction", ("Allow", "Deny")),
        vault_uri=props.text("vaultUri"),
        ip_rules=tuple(v for r in props.items("networkAcls.ipRules") if (v := r.text("value"))),
        private_endpoint_count=len(props.items("privateEndpointConnections")),
        tags=tags_of(raw),
        unreadable=vault.found(),
    )


def list_key_vaults(session: AzureSession, subscription_id: str) -> Iterator[KeyVault]:
    """Every key vault of the subscription, with full properties."""
    pipeline = arm_pipeline(session, KEY_VAULT_CLIENT, subscription_id)
    url = path("/subscriptions/{}/providers/Microsoft.KeyVault/vaults", subscription_id, api_version=API_VERSION)
    return build_all(list_objects(pipeline, session.arm_url, url), key_vault, subscription_id)


STEPS = (Listing(VAULTS_API, "key_vaults", list_key_vaults),)
