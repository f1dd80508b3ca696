"""Key vault records: vault protection settings and keys."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.records.tags import NO_TAGS, Tags
from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class KeyVault:
    """A key vault's protection settings."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    soft_delete_enabled: bool | None
    soft_delete_retention_days: int | None
    purge_protection_enabled: bool | None
    rbac_authorization_enabled: bool | None
    public_network_access: str | None
    network_default_action: str | None
    vault_uri: str | None = None
    ip_rules: tuple[str, ...] = ()
    private_endpoint_count: int = 0
    type: str = "Microsoft.KeyVault/vaults"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class KeyVaultKey:
    """A key in a vault, as the management plane reports it (no key material)."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    vault_id: str
    kty: str | None
    key_size: int | None
    curve: str | None
    enabled: bool | None
    expires: int | None
    key_uri: str | None
    key_uri_with_version: str | None = None
    rotation_policy: bool = False
    rotation_expiry_time: str | None = None
    location: str = ""
    type: str = "Microsoft.KeyVault/vaults/keys"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # The rotation policy's lifetime action types (``rotate``, ``notify``): a policy may only notify.
    rotation_actions: tuple[str, ...] = ()
