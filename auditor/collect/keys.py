"""Key collector: key vault keys through the management plane, from raw ARM JSON."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import name_of, resource_group_of
from auditor.collect.base import (
    UNKNOWN,
    Enrichment,
    Field,
    PerParent,
    Reader,
    arm_pipeline,
    get_object,
    list_objects,
    path,
    resource_id,
    resource_path,
)
from auditor.collect.clients import KEY_VAULT_CLIENT
from auditor.collect.keyvault import API_VERSION
from auditor.collect.session import AzureSession
from auditor.records.keyvault import KeyVault, KeyVaultKey

KEYS_API = "Microsoft.KeyVault/vaults/keys"

# https://learn.microsoft.com/rest/api/keyvault/keyvault/keys/get (KeyProperties).
KEY_CONTRACT = (
    Field("id", True),
    Field("name", True),
    # The list may give only attributes and the URI; a key without kty is read again with its own GET.
    Field("properties.kty", False, "not in the list answer: read with the key's GET"),
    Field("properties.keySize", False, UNKNOWN),
    Field("properties.curveName", False, "not an EC key"),
    Field("properties.attributes.enabled", False, UNKNOWN),
    Field("properties.attributes.exp", False, "the key never expires"),
    Field("properties.keyUri", True),
    Field("properties.keyUriWithVersion", False, UNKNOWN),
    Field("properties.rotationPolicy", False, "no rotation policy"),
    Field("properties.rotationPolicy.attributes.expiryTime", False, "no expiry set by the policy"),
    Field("properties.rotationPolicy.lifetimeActions", False, "no lifetime actions"),
)


def key_vault_key(raw: Mapping[str, Any], vault_id: str, subscription_id: str) -> KeyVaultKey:
    """A key record: type, size, expiry and rotation policy, never key material."""
    key = Reader(raw)
    key_id = resource_id(key, vault_id, KEYS_API)
    props = key.part("properties")
    rotation = props.part("rotationPolicy")
    return KeyVaultKey(
        id=key_id,
        name=key.text("name") or name_of(key_id),
        subscription_id=subscription_id,
        resource_group=resource_group_of(key_id),
        vault_id=vault_id,
        kty=props.text("kty"),
        key_size=props.integer("keySize"),
        curve=props.text("curveName"),
        enabled=props.flag("attributes.enabled"),
        expires=props.integer("attributes.exp"),
        key_uri=props.text("keyUri"),
        key_uri_with_version=props.text("keyUriWithVersion"),
        rotation_policy=props.present("rotationPolicy"),
        rotation_expiry_time=rotation.text("attributes.expiryTime"),
        location=key.text("location") or "",
        rotation_actions=tuple(t for a in rotation.items("lifetimeActions") if (t := a.text("action.type"))),
        unreadable=key.found(),
    )


def list_keys(session: AzureSession, vault: KeyVault) -> Iterator[KeyVaultKey]:
    """Every key of one vault, as the management plane lists it."""
    pipeline = arm_pipeline(session, KEY_VAULT_CLIENT, vault.subscription_id)
    url = resource_path(vault.id) + path("/keys", api_version=API_VERSION)
    for item in list_objects(pipeline, session.arm_url, url):
        yield key_vault_key(item, vault.id, vault.subscription_id)


def with_key_details(session: AzureSession, key: KeyVaultKey) -> KeyVaultKey:
    """The key as its own GET returns it: the list may give only attributes and the key URI."""
    pipeline = arm_pipeline(session, KEY_VAULT_CLIENT, key.subscription_id)
    url = session.arm_url + resource_path(key.id) + path("", api_version=API_VERSION)
    return key_vault_key(get_object(pipeline, url), key.vault_id, key.subscription_id)


STEPS = (
    PerParent(KEYS_API, "key_vaults", "key_vault_keys", list_keys),
    # Keys exist only after the phase-1 listing per vault, so their completion runs in phase 2.
    Enrichment(KEYS_API, "key_vault_keys", with_key_details, phase=2, applies=lambda key: key.kty is None),
)
