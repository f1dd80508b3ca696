"""Key collector: key vault keys through the management plane."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.mgmt.keyvault import KeyVaultManagementClient

from auditor.arm_ids import name_of, resource_group_of
from auditor.collect.base import Enrichment, PerParent, text
from auditor.collect.session import AzureSession
from auditor.records.keyvault import KeyVault, KeyVaultKey

KEYS_API = "Microsoft.KeyVault/vaults/keys"


def _client(session: AzureSession, subscription_id: str) -> KeyVaultManagementClient:
    return session.client(KeyVaultManagementClient, subscription_id)


def key_vault_key(key: Any, vault_id: str, subscription_id: str) -> KeyVaultKey:
    """A key record: type, size, expiry and rotation policy, never key material."""
    props = key.properties
    attributes = props.attributes if props else None
    rotation = props.rotation_policy if props else None
    rotation_attributes = rotation.attributes if rotation else None
    actions = (rotation.lifetime_actions or ()) if rotation else ()
    return KeyVaultKey(
        id=key.id,
        name=key.name or name_of(key.id),
        subscription_id=subscription_id,
        resource_group=resource_group_of(key.id),
        vault_id=vault_id,
        kty=text(props.kty) if props else None,
        key_size=props.key_size if props else None,
        curve=text(props.curve_name) if props else None,
        enabled=attributes.enabled if attributes else None,
        expires=attributes.expires if attributes else None,
        key_uri=props.key_uri if props else None,
        key_uri_with_version=props.key_uri_with_version if props else None,
        rotation_policy=rotation is not None,
        rotation_expiry_time=rotation_attributes.expiry_time if rotation_attributes else None,
        location=key.location or "",
        rotation_actions=tuple(text(a.action.type) or "" for a in actions if a.action),
    )


def list_keys(session: AzureSession, vault: KeyVault) -> Iterator[KeyVaultKey]:
    """Every key of one vault, as the management plane lists it."""
    for key in _client(session, vault.subscription_id).keys.list(vault.resource_group, vault.name):
        yield key_vault_key(key, vault.id, vault.subscription_id)


def with_key_details(session: AzureSession, key: KeyVaultKey) -> KeyVaultKey:
    """The key as its own GET returns it: the list may give only attributes and the key URI."""
    found = _client(session, key.subscription_id).keys.get(key.resource_group, name_of(key.vault_id), key.name)
    return key_vault_key(found, key.vault_id, key.subscription_id)


STEPS = (
    PerParent(KEYS_API, "key_vaults", "key_vault_keys", list_keys),
    # Keys exist only after the phase-1 listing per vault, so their completion runs in phase 2.
    Enrichment(KEYS_API, "key_vault_keys", with_key_details, phase=2, applies=lambda key: key.kty is None),
)
