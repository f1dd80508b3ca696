"""Storage account checks: private, HTTPS-only with TLS 1.2, and Key Vault keys for backup accounts (ENC-03)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.checks.recovery import SQL_VM_SETTINGS_API, SQL_VMS_API, automated_backup_targets
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, failing, passing
from auditor.parameters import Params
from auditor.records.storage import StorageAccount
from auditor.records.unreadable import Unreadable
from auditor.registry import Remediation, check

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


@dataclass(frozen=True)
class BackupAwareAccount:
    """A storage account with the SQL VMs whose Automated Backup writes to it: what ENC-03 judges."""

    account: StorageAccount
    automated_backup_of: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The account's id."""
        return self.account.id

    @property
    def type(self) -> str:
        """The account's type."""
        return self.account.type

    @property
    def subscription_id(self) -> str:
        """The account's subscription."""
        return self.account.subscription_id

    @property
    def unreadable(self) -> tuple[Unreadable, ...]:
        """What Azure (or the code) gave for the account that could not be read."""
        return self.account.unreadable


def backup_aware_accounts(inventory: Inventory) -> Iterator[BackupAwareAccount]:
    """Every storage account with the SQL VMs whose Automated Backup targets it."""
    targets = automated_backup_targets(inventory)
    for account in inventory.storage_accounts:
        yield BackupAwareAccount(account, tuple(targets.get(account.name.lower(), ())))


@check(
    id="storage_account_private_https",
    title="Storage accounts deny public access, require HTTPS with TLS 1.2+, and backup accounts use Key Vault keys",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Storage/storageAccounts",),
    requires=("Microsoft.Storage/storageAccounts", SQL_VMS_API, SQL_VM_SETTINGS_API),
    over=backup_aware_accounts,
    subject="storage accounts",
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
def storage_account_private_https(subject: BackupAwareAccount, params: Params) -> Verdict:
    """Fail an account with any shortfall, naming each; the key source counts for backup accounts only."""
    account = subject.account
    listed = {name.lower() for name in params.get_list("backup_storage_accounts")}
    # An empty list treats every account as a backup account, per the parameter's description; the
    # accounts Automated Backup writes to hold backups whatever the list says.
    is_backup = not listed or account.name.lower() in listed or bool(subject.automated_backup_of)
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
        "automated_backup_of": list(subject.automated_backup_of),
    }
    problems = storage_shortfalls(account, require_key_vault=is_backup)
    if problems:
        return failing("Storage account falls short: " + "; ".join(problems), **evidence)
    keys = f"; Key Vault key {account.key_name} in {account.key_vault_uri}" if is_backup else ""
    return passing(f"Private, HTTPS-only with TLS 1.2 or later{keys}", **evidence)
