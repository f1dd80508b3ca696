"""Storage collector: storage accounts' access, transport, encryption and replication settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.mgmt.storage import StorageManagementClient

from auditor.arm_ids import resource_group_of
from auditor.collect.base import Listing, Step, text
from auditor.collect.session import AzureSession
from auditor.records.storage import StorageAccount

STORAGE_ACCOUNTS_API = "Microsoft.Storage/storageAccounts"


def storage_account(account: Any, subscription_id: str) -> StorageAccount:
    """A storage account record; settings Azure did not report stay None."""
    props = account.properties
    acls = props.network_rule_set if props else None
    encryption = props.encryption if props else None
    vault_key = encryption.key_vault_properties if encryption else None
    return StorageAccount(
        id=account.id,
        name=account.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(account.id),
        location=account.location or "",
        sku=text(account.sku.name) if account.sku else None,
        kind=text(account.kind),
        allow_blob_public_access=props.allow_blob_public_access if props else None,
        public_network_access=text(props.public_network_access) if props else None,
        network_default_action=text(acls.default_action) if acls else None,
        https_only=props.enable_https_traffic_only if props else None,
        minimum_tls_version=text(props.minimum_tls_version) if props else None,
        key_source=text(encryption.key_source) if encryption else None,
        key_vault_uri=vault_key.key_vault_uri if vault_key else None,
        key_name=vault_key.key_name if vault_key else None,
        primary_location=props.primary_location if props else None,
        secondary_location=props.secondary_location if props else None,
        allow_shared_key_access=props.allow_shared_key_access if props else None,
        infrastructure_encryption=encryption.require_infrastructure_encryption if encryption else None,
    )


def list_storage_accounts(session: AzureSession, subscription_id: str) -> Iterator[StorageAccount]:
    """Every storage account of the subscription, with its properties."""
    client = session.client(StorageManagementClient, subscription_id)
    for account in client.storage_accounts.list():
        yield storage_account(account, subscription_id)


STEPS: tuple[Step, ...] = (Listing(STORAGE_ACCOUNTS_API, "storage_accounts", list_storage_accounts),)
