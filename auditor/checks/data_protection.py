"""Data protection checks: backups (ENC-02), storage accounts (ENC-03)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.backup import SQL_VM_SETTINGS_API, SQL_VMS_API, automated_backup_targets
from auditor.checks.encryption import CUSTOMER_KEY_TYPES
from auditor.checks.index import ById
from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, errored, failed, passed
from auditor.parameters import Params
from auditor.records.backup import RecoveryVault
from auditor.records.compute import DiskEncryptionSet, Snapshot
from auditor.records.storage import StorageAccount
from auditor.registry import Remediation, check

# --- ENC-02: snapshots and Recovery Services vaults ---------------------------------------------------

# Snapshot network access policies under which no SAS export reaches the data from a public network.
PRIVATE_SNAPSHOT_POLICIES = frozenset({"denyall", "allowprivate"})


def snapshot_key_shortfall(snapshot: Snapshot, sets: ById[DiskEncryptionSet]) -> tuple[str | None, bool]:
    """Why the snapshot is not shown under a Key Vault key (None when it is), and whether data was missing."""
    enc = snapshot.encryption
    kind = (enc.encryption_type or "").lower()
    if kind in CUSTOMER_KEY_TYPES:
        if not enc.disk_encryption_set_id:
            return f"encryption type {enc.encryption_type} names no disk encryption set", False
        des = sets.get(enc.disk_encryption_set_id)
        if des is None:
            return f"disk encryption set {enc.disk_encryption_set_id} was not collected", True
        if not des.active_key_url:
            return f"disk encryption set {des.name} has no active Key Vault key", False
        return None, False
    if enc.ade_enabled and enc.ade_secret_urls:
        # A snapshot of an Azure Disk Encryption disk stays BitLocker/dm-crypt encrypted with the secret held
        # in Key Vault, the same protection ENC-01 accepts for the disk itself.
        return None, False
    if enc.encryption_type is None:
        return "encryption type not reported", True
    return f"encryption type {enc.encryption_type}, not a customer-managed key", False


def snapshot_network_shortfall(snapshot: Snapshot) -> str | None:
    """Why the snapshot can be exported over a public network, or None when it cannot."""
    if (snapshot.public_network_access or "").lower() == "disabled":
        return None
    if (snapshot.network_access_policy or "").lower() in PRIVATE_SNAPSHOT_POLICIES:
        return None
    return (
        f"public network access {snapshot.public_network_access or 'not reported'} and network access policy "
        f"{snapshot.network_access_policy or 'not reported'}"
    )


@check(
    id="snapshot_cmk_private",
    title="Disk snapshots are encrypted with a Key Vault key and cannot be exported over public networks",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Compute/snapshots",),
    requires=("Microsoft.Compute/snapshots", "Microsoft.Compute/diskEncryptionSets"),
    rationale="A snapshot is a full copy of a VM disk: with a platform key and a public SAS export it leaves "
    "the company's key and network control entirely.",
    remediation=Remediation(
        summary="Encrypt the snapshot with a customer-managed key through a disk encryption set, and set its "
        "network access policy to DenyAll (or AllowPrivate through a disk access) with public network access "
        "disabled.",
        portal="Snapshots > (snapshot) > Encryption: Customer-managed key; Networking: Disable public access "
        "and enable private access (or Disable public and private access)",
        cli="az snapshot update -g RG -n SNAPSHOT --encryption-type EncryptionAtRestWithCustomerKey "
        "--disk-encryption-set DES_ID --network-access-policy DenyAll --public-network-access Disabled",
        terraform="# azurerm_snapshot has no network settings: create snapshots with azapi_resource\n"
        'body = { properties = { encryption = { type = "EncryptionAtRestWithCustomerKey", diskEncryptionSetId = '
        'azurerm_disk_encryption_set.main.id }, networkAccessPolicy = "DenyAll", publicNetworkAccess = "Disabled" } }',
        bicep="properties: { encryption: { type: 'EncryptionAtRestWithCustomerKey', diskEncryptionSetId: des.id }\n"
        "  networkAccessPolicy: 'DenyAll', publicNetworkAccess: 'Disabled' }",
    ),
)
def snapshot_cmk_private(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Fail snapshots without a Key Vault key or open to public export; error when the key cannot be shown."""
    sets = ById(inventory.disk_encryption_sets)
    for snapshot in inventory.snapshots:
        enc = snapshot.encryption
        des = sets.get(enc.disk_encryption_set_id)
        evidence: dict[str, object] = {
            "encryption_type": enc.encryption_type,
            "disk_encryption_set_id": enc.disk_encryption_set_id,
            "key_url": des.active_key_url if des else None,
            "ade_enabled": enc.ade_enabled,
            "public_network_access": snapshot.public_network_access,
            "network_access_policy": snapshot.network_access_policy,
            "source_resource_id": snapshot.source_resource_id,
        }
        key_problem, unknown = snapshot_key_shortfall(snapshot, sets)
        network_problem = snapshot_network_shortfall(snapshot)
        problems = [p for p in (key_problem, network_problem and f"exportable: {network_problem}") if p]
        if network_problem is None and key_problem is not None and unknown:
            yield errored(snapshot, f"Key protection cannot be shown: {key_problem}", **evidence)
        elif problems:
            yield failed(snapshot, "Snapshot falls short: " + "; ".join(problems), **evidence)
        else:
            how = f"customer-managed key {des.active_key_url}" if des else "Azure Disk Encryption (Key Vault secret)"
            yield passed(snapshot, f"Encrypted with {how}; no public network export", **evidence)


def vault_shortfalls(vault: RecoveryVault) -> list[str]:
    """Each way a Recovery Services vault falls short of key-protected, private storage; empty when none."""
    problems: list[str] = []
    if not vault.cmk_key_uri:
        problems.append("no customer-managed key (encryption.keyVaultProperties.keyUri not set)")
    access = vault.public_network_access
    if access is None:
        problems.append("publicNetworkAccess not reported")
    elif access.lower() != "disabled":
        problems.append(f"public network access {access}")
    return problems


@check(
    id="recovery_vault_cmk_private",
    title="Recovery Services vaults encrypt backups with a Key Vault key and deny public network access",
    severity=Severity.HIGH,
    resource_types=("Microsoft.RecoveryServices/vaults",),
    requires=("Microsoft.RecoveryServices/vaults",),
    rationale="The vault holds every VM backup: the policy promises them private and protected with the "
    "company's vault keys, not only Microsoft-managed ones.",
    remediation=Remediation(
        summary="Give the vault a managed identity with access to a Key Vault key, set that key as the "
        "vault's encryption key, and disable public network access (reach the vault through private endpoints).",
        portal="Recovery Services vaults > (vault) > Properties > Encryption settings: Use your own key; "
        "Networking: Deny public network access",
        cli="az backup vault encryption update -g RG -n VAULT --encryption-key-id KEY_URI "
        "--mi-system-assigned; az backup vault update -g RG -n VAULT --public-network-access Disable",
        terraform="public_network_access_enabled = false\nencryption {\n  key_id = azurerm_key_vault_key.rsv.id\n"
        "  infrastructure_encryption_enabled = true\n  use_system_assigned_identity = true\n}",
        bicep="properties: { publicNetworkAccess: 'Disabled', encryption: { keyVaultProperties: {\n"
        "  keyUri: key.properties.keyUriWithVersion }, kekIdentity: { useSystemAssignedIdentity: true } } }",
    ),
)
def recovery_vault_cmk_private(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Fail vaults without a customer-managed key or with public network access."""
    for vault in inventory.recovery_vaults:
        evidence = {
            "cmk_key_uri": vault.cmk_key_uri,
            "infrastructure_encryption": vault.infrastructure_encryption,
            "public_network_access": vault.public_network_access,
        }
        problems = vault_shortfalls(vault)
        if problems:
            yield failed(vault, "Vault falls short: " + "; ".join(problems), **evidence)
        else:
            yield passed(
                vault,
                f"Backups encrypted with customer-managed key {vault.cmk_key_uri}; public access disabled",
                **evidence,
            )


# --- ENC-03: storage accounts -------------------------------------------------------------------------

MIN_TLS = (1, 2)
KEY_VAULT_SOURCE = "microsoft.keyvault"
_TLS_VERSION = re.compile(r"^tls(\d+)_(\d+)$", re.IGNORECASE)


def tls_version(value: str) -> tuple[int, int] | None:
    """``TLS1_2`` as (1, 2); None for anything else."""
    match = _TLS_VERSION.match(value.strip())
    return (int(match[1]), int(match[2])) if match else None


def storage_shortfalls(account: StorageAccount, require_key_vault: bool) -> list[str]:
    """Each way the account falls short of private, HTTPS-only, TLS 1.2 (and Key Vault key) storage."""
    problems: list[str] = []
    if account.allow_blob_public_access is None:
        problems.append("allowBlobPublicAccess not reported")
    elif account.allow_blob_public_access:
        problems.append("blob public access allowed")
    public = (account.public_network_access or "").lower()
    action = (account.network_default_action or "").lower()
    if public != "disabled" and action != "deny":
        problems.append(
            f"reachable from public networks (publicNetworkAccess {account.public_network_access or 'not reported'}, "
            f"networkAcls.defaultAction {account.network_default_action or 'not reported'})"
        )
    if account.https_only is None:
        problems.append("supportsHttpsTrafficOnly not reported")
    elif not account.https_only:
        problems.append("HTTP allowed (supportsHttpsTrafficOnly false)")
    if account.minimum_tls_version is None:
        problems.append("minimumTlsVersion not reported")
    else:
        version = tls_version(account.minimum_tls_version)
        if version is None:
            problems.append(f"minimumTlsVersion {account.minimum_tls_version} not recognised")
        elif version < MIN_TLS:
            problems.append(f"minimum TLS version {account.minimum_tls_version}, below TLS1_2")
    if require_key_vault:
        if account.key_source is None:
            problems.append("encryption.keySource not reported")
        elif account.key_source.lower() != KEY_VAULT_SOURCE:
            problems.append(f"key source {account.key_source}, not Key Vault (Microsoft.Keyvault)")
    return problems


@check(
    id="storage_account_private_https",
    title="Storage accounts deny public access, require HTTPS with TLS 1.2+, and backup accounts use Key Vault keys",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Storage/storageAccounts",),
    requires=("Microsoft.Storage/storageAccounts", SQL_VMS_API, SQL_VM_SETTINGS_API),
    parameters=("backup_storage_accounts",),
    rationale="The policy stores backups in storage accounts with private access protected with security keys; "
    "public blobs, public endpoints or weak transport expose those copies.",
    remediation=Remediation(
        summary="Disable blob public access, disable public network access (or set the firewall default action "
        "to Deny), require HTTPS with minimum TLS 1.2, and encrypt backup accounts with a customer-managed key "
        "from Key Vault.",
        portal="Storage accounts > (account) > Configuration: Allow Blob anonymous access Disabled, Secure transfer "
        "Enabled, Minimum TLS version 1.2; Networking: Disabled; Encryption: Customer-managed keys",
        cli="az storage account update -g RG -n ACCOUNT --allow-blob-public-access false --public-network-access "
        "Disabled --https-only true --min-tls-version TLS1_2 --encryption-key-source Microsoft.Keyvault "
        "--encryption-key-vault https://VAULT.vault.azure.net --encryption-key-name KEY",
        terraform="allow_nested_items_to_be_public = false\npublic_network_access_enabled = false\n"
        'https_traffic_only_enabled = true\nmin_tls_version = "TLS1_2"\ncustomer_managed_key {\n'
        "  key_vault_key_id = azurerm_key_vault_key.storage.id\n"
        "  user_assigned_identity_id = azurerm_user_assigned_identity.storage.id\n}",
        bicep="properties: { allowBlobPublicAccess: false, publicNetworkAccess: 'Disabled', supportsHttpsTrafficOnly: "
        "true, minimumTlsVersion: 'TLS1_2', encryption: { keySource: 'Microsoft.Keyvault', keyvaultproperties: "
        "{ keyvaulturi: vault.properties.vaultUri, keyname: 'storage-cmk' } } }",
    ),
)
def storage_account_private_https(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Fail accounts with any shortfall, naming each; the key source counts for backup accounts only."""
    listed = {name.lower() for name in params.get_list("backup_storage_accounts")}
    targets = automated_backup_targets(inventory)
    for account in inventory.storage_accounts:
        # An empty list treats every account as a backup account, per the parameter's description; the
        # accounts Automated Backup writes to hold backups whatever the list says.
        is_backup = not listed or account.name.lower() in listed or account.name.lower() in targets
        evidence = {
            "allowBlobPublicAccess": account.allow_blob_public_access,
            "publicNetworkAccess": account.public_network_access,
            "networkAcls.defaultAction": account.network_default_action,
            "supportsHttpsTrafficOnly": account.https_only,
            "minimumTlsVersion": account.minimum_tls_version,
            "encryption.keySource": account.key_source,
            "encryption.keyvaultproperties.keyvaulturi": account.key_vault_uri,
            "encryption.keyvaultproperties.keyname": account.key_name,
            "backup_account": is_backup,
            "automated_backup_of": targets.get(account.name.lower(), []),
        }
        problems = storage_shortfalls(account, require_key_vault=is_backup)
        if problems:
            yield failed(account, "Storage account falls short: " + "; ".join(problems), **evidence)
        else:
            keys = f"; Key Vault key {account.key_name} in {account.key_vault_uri}" if is_backup else ""
            yield passed(account, f"Private, HTTPS-only with TLS 1.2 or later{keys}", **evidence)
