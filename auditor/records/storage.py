"""Storage records: storage accounts' access, transport and encryption settings."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.records.tags import NO_TAGS, Tags
from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class StorageAccount:
    """A storage account."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    sku: str | None
    kind: str | None
    allow_blob_public_access: bool | None
    public_network_access: str | None
    network_default_action: str | None
    https_only: bool | None
    minimum_tls_version: str | None
    key_source: str | None
    key_vault_uri: str | None = None
    key_name: str | None = None
    primary_location: str | None = None
    secondary_location: str | None = None
    allow_shared_key_access: bool | None = None
    infrastructure_encryption: bool | None = None
    type: str = "Microsoft.Storage/storageAccounts"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS
