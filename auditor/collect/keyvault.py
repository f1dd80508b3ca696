"""Key vault collector: vault protection settings through the management plane."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.mgmt.keyvault import KeyVaultManagementClient

from auditor.arm_ids import resource_group_of
from auditor.collect.base import Listing, text
from auditor.collect.session import AzureSession
from auditor.records.keyvault import KeyVault


def key_vault(vault: Any, subscription_id: str) -> KeyVault:
    """A key vault record; absent settings stay None rather than assuming Azure's defaults."""
    props = vault.properties
    acls = props.network_acls
    return KeyVault(
        id=vault.id,
        name=vault.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(vault.id),
        location=vault.location or "",
        soft_delete_enabled=props.enable_soft_delete,
        soft_delete_retention_days=props.soft_delete_retention_in_days,
        purge_protection_enabled=props.enable_purge_protection,
        rbac_authorization_enabled=props.enable_rbac_authorization,
        public_network_access=text(props.public_network_access),
        network_default_action=text(acls.default_action) if acls else None,
        vault_uri=props.vault_uri,
        ip_rules=tuple(r.value for r in (acls.ip_rules or ()) if r.value) if acls else (),
        private_endpoint_count=len(props.private_endpoint_connections or ()),
    )


def list_key_vaults(session: AzureSession, subscription_id: str) -> Iterator[KeyVault]:
    """Every key vault of the subscription, with full properties."""
    client = session.client(KeyVaultManagementClient, subscription_id)
    for vault in client.vaults.list_by_subscription():
        yield key_vault(vault, subscription_id)


STEPS = (Listing("Microsoft.KeyVault/vaults", "key_vaults", list_key_vaults),)
