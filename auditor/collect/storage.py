"""Storage collector: storage accounts' access, transport, encryption and replication settings."""

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
    Step,
    arm_pipeline,
    build_all,
    list_objects,
    path,
    resource_id,
    tags_of,
)
from auditor.collect.clients import STORAGE_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.storage import StorageAccount

STORAGE_ACCOUNTS_API = "Microsoft.Storage/storageAccounts"
# The api-version azure-mgmt-storage 25.3 sends.
API_VERSION = "2026-09-01"

# https://learn.microsoft.com/rest/api/storagerp/storage-accounts/list (StorageAccountProperties).
# Several settings are omitted on accounts that never set them; their creation defaults changed over
# time (allowBlobPublicAccess, minimumTlsVersion), so absence is unknown rather than a default.
STORAGE_ACCOUNT_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("sku.name", True),
    Field("kind", True),
    Field("properties.allowBlobPublicAccess", False, UNKNOWN),
    Field("properties.publicNetworkAccess", False, UNKNOWN),
    Field("properties.networkAcls.defaultAction", False, UNKNOWN),
    Field("properties.supportsHttpsTrafficOnly", False, UNKNOWN),
    Field("properties.minimumTlsVersion", False, UNKNOWN),
    Field("properties.encryption.keySource", False, UNKNOWN),
    Field("properties.encryption.keyvaultproperties.keyvaulturi", False, "no customer-managed key"),
    Field("properties.encryption.keyvaultproperties.keyname", False, "no customer-managed key"),
    Field("properties.primaryLocation", False, UNKNOWN),
    Field("properties.secondaryLocation", False, "no secondary region"),
    Field("properties.allowSharedKeyAccess", False, UNKNOWN),
    Field("properties.encryption.requireInfrastructureEncryption", False, UNKNOWN),
    TAGS_FIELD,
)


def storage_account(raw: Mapping[str, Any], subscription_id: str) -> StorageAccount:
    """A storage account record; settings Azure did not report stay None."""
    account = Reader(raw)
    account_id = resource_id(account, f"/subscriptions/{subscription_id}", STORAGE_ACCOUNTS_API)
    props = account.part("properties")
    encryption = props.part("encryption")
    # The REST shape spells the key vault block in lower case (keyvaultproperties, keyvaulturi).
    vault_key = encryption.part("keyvaultproperties")
    return StorageAccount(
        id=account_id,
        name=account.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(account_id),
        location=account.text("location") or "",
        sku=account.text("sku.name"),
        kind=account.text("kind"),
        allow_blob_public_access=props.flag("allowBlobPublicAccess"),
        public_network_access=props.text("publicNetworkAccess"),
        network_default_action=props.choice("networkAcls.defaultAction", ("Allow", "Deny")),
        https_only=props.flag("supportsHttpsTrafficOnly"),
        minimum_tls_version=props.text("minimumTlsVersion"),
        key_source=encryption.text("keySource"),
        key_vault_uri=vault_key.text("keyvaulturi"),
        key_name=vault_key.text("keyname"),
        primary_location=props.text("primaryLocation"),
        secondary_location=props.text("secondaryLocation"),
        allow_shared_key_access=props.flag("allowSharedKeyAccess"),
        infrastructure_encryption=encryption.flag("requireInfrastructureEncryption"),
        tags=tags_of(raw),
        unreadable=account.found(),
    )


def list_storage_accounts(session: AzureSession, subscription_id: str) -> Iterator[StorageAccount]:
    """Every storage account of the subscription, with its properties."""
    pipeline = arm_pipeline(session, STORAGE_CLIENT, subscription_id)
    url = path("/subscriptions/{}/providers/" + STORAGE_ACCOUNTS_API, subscription_id, api_version=API_VERSION)
    return build_all(list_objects(pipeline, session.arm_url, url), storage_account, subscription_id)


STEPS: tuple[Step, ...] = (Listing(STORAGE_ACCOUNTS_API, "storage_accounts", list_storage_accounts),)
