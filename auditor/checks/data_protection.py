"""Data protection checks: backups (ENC-02), storage accounts (ENC-03), TDE (ENC-05), end of support (ENC-06)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from auditor.arm_ids import key, name_of
from auditor.checks.encryption import CUSTOMER_KEY_TYPES
from auditor.checks.index import ById
from auditor.checks.recovery import SQL_VM_SETTINGS_API, SQL_VMS_API, automated_backup_targets
from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, Status, errored, failed, manual, passed
from auditor.parameters import Params
from auditor.records.backup import RecoveryVault
from auditor.records.compute import DiskEncryptionSet, ImageReference, Snapshot, VirtualMachine
from auditor.records.sql import SqlVirtualMachine
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


# --- ENC-05: transparent data encryption --------------------------------------------------------------

SQL_IMAGE_PUBLISHER = "microsoftsqlserver"


@check(
    id="sql_database_tde",
    title="Every Azure SQL user database has Transparent Data Encryption enabled",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Sql/servers/databases",),
    requires=(
        "Microsoft.Sql/servers",
        "Microsoft.Sql/servers/databases",
        "Microsoft.Sql/servers/databases/transparentDataEncryption",
    ),
    rationale="The policy promises the data is encrypted at rest with TDE; a database with TDE off stores its "
    "data, logs and backups in clear.",
    remediation=Remediation(
        summary="Enable Transparent Data Encryption on the database (Azure SQL uses AES-256 for the database "
        "encryption key).",
        portal="SQL databases > (database) > Security > Transparent data encryption: On",
        cli="az sql db tde set -g RG -s SERVER -d DATABASE --status Enabled",
        terraform="# TDE is on by default; re-enable it if it was turned off:\n"
        'resource "azapi_update_resource" "tde" {\n  type = "Microsoft.Sql/servers/databases/'
        'transparentDataEncryption@2023-05-01-preview"\n  name = "current"\n  parent_id = azurerm_mssql_database.'
        'db.id\n  body = { properties = { state = "Enabled" } }\n}',
        bicep="resource tde 'Microsoft.Sql/servers/databases/transparentDataEncryption@2023-05-01-preview' = "
        "{ parent: db\n  name: 'current'\n  properties: { state: 'Enabled' } }",
    ),
)
def sql_database_tde(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Pass user databases with TDE Enabled; error when the TDE state was not collected."""
    for database in inventory.sql_databases:
        if database.is_system:
            continue
        evidence = {"server": name_of(database.server_id), "tde_state": database.tde_state, "sku": database.sku}
        if database.tde_state is None:
            yield errored(database, "TDE state not collected", **evidence)
        elif database.tde_state.lower() == "enabled":
            yield passed(database, f"Transparent Data Encryption is {database.tde_state}", **evidence)
        else:
            yield failed(database, f"Transparent Data Encryption is {database.tde_state}", **evidence)


@check(
    id="sql_vm_tde_attestation",
    title="TDE of SQL Server on VMs, invisible to Azure Resource Manager, is attested",
    severity=Severity.HIGH,
    resource_types=("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "Microsoft.Compute/virtualMachines"),
    requires=("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "Microsoft.Compute/virtualMachines"),
    parameters=("min_tde_key_bits",),
    rationale="Inside a VM, TDE is a setting of each database that only the SQL engine reports; the policy's "
    "AES-128 TDE promise needs that evidence.",
    remediation=Remediation(
        summary="Attest, per instance, that every user database shows encryption_state 3 (encrypted) in "
        "sys.dm_database_encryption_keys with an AES key of at least the required length, or enable TDE: "
        "CREATE DATABASE ENCRYPTION KEY WITH ALGORITHM = AES_256 ENCRYPTION BY SERVER CERTIFICATE cert; "
        "ALTER DATABASE db SET ENCRYPTION ON.",
        portal="SQL virtual machines > (SQL VM) > Security configuration shows Azure Key Vault integration only; "
        "verify TDE from SQL Server Management Studio > database > Tasks > Manage Database Encryption",
        cli='sqlcmd -S HOST -Q "SELECT DB_NAME(database_id), encryption_state, key_algorithm, key_length FROM '
        'sys.dm_database_encryption_keys"',
    ),
)
def sql_vm_tde_attestation(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """A manual result per SQL Server VM (registered, or built from a SQL Server image), with what to attest."""
    bits = params.get_int("min_tde_key_bits")
    needed = (
        f"needs an attestation or the SQL connection: sys.dm_database_encryption_keys encryption_state 3 and "
        f"AES key >= {bits} bits for every user database"
    )
    registered = {key(m.vm_id) for m in inventory.sql_virtual_machines if m.vm_id}
    for machine in inventory.sql_virtual_machines:
        yield manual(
            machine,
            f"TDE of SQL Server on a VM is invisible to Azure Resource Manager: {needed}",
            image_offer=machine.image_offer,
            image_sku=machine.image_sku,
            vm_id=machine.vm_id,
            min_tde_key_bits=bits,
        )
    for vm in inventory.virtual_machines:
        if (vm.image.publisher or "").lower() == SQL_IMAGE_PUBLISHER and key(vm.id) not in registered:
            # Not registered with the SQL IaaS extension, yet built from a SQL Server image: it holds databases too.
            yield manual(
                vm,
                f"SQL Server image without a SQL virtual machine registration; its TDE is invisible to Azure "
                f"Resource Manager: {needed}",
                image_publisher=vm.image.publisher,
                image_offer=vm.image.offer,
                image_sku=vm.image.sku,
                min_tde_key_bits=bits,
            )


# --- ENC-06: end of support ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Lifecycle:
    """A Microsoft product version and the last day of its extended (security) support."""

    product: str
    extended_support_ends: date
    page: str

    def ended_by(self, day: date) -> bool:
        """True when support ended before this day."""
        return day > self.extended_support_ends


_LIFECYCLE_PAGE = "https://learn.microsoft.com/lifecycle/products/"

# Extended End Dates as Microsoft's lifecycle pages give them (learn.microsoft.com/lifecycle/products/...):
# the last day of security updates outside a paid or Azure-granted Extended Security Updates programme,
# which delays patches but does not restore support. Keyed by the version as images name it.
SQL_SERVER_LIFECYCLE: Mapping[str, Lifecycle] = {
    version: Lifecycle(f"SQL Server {version}", ends, _LIFECYCLE_PAGE + page)
    for version, ends, page in (
        ("2008", date(2019, 7, 9), "microsoft-sql-server-2008"),
        ("2008 R2", date(2019, 7, 9), "microsoft-sql-server-2008-r2"),
        ("2012", date(2022, 7, 12), "microsoft-sql-server-2012"),
        ("2014", date(2024, 7, 9), "sql-server-2014"),
        ("2016", date(2026, 7, 14), "sql-server-2016"),
        ("2017", date(2027, 10, 12), "sql-server-2017"),
        ("2019", date(2030, 1, 8), "sql-server-2019"),
        ("2022", date(2033, 1, 11), "sql-server-2022"),
    )
}
WINDOWS_SERVER_LIFECYCLE: Mapping[str, Lifecycle] = {
    version: Lifecycle(f"Windows Server {version}", ends, _LIFECYCLE_PAGE + page)
    for version, ends, page in (
        ("2008", date(2020, 1, 14), "windows-server-2008"),
        ("2008 R2", date(2020, 1, 14), "windows-server-2008-r2"),
        ("2012", date(2023, 10, 10), "windows-server-2012"),
        ("2012 R2", date(2023, 10, 10), "windows-server-2012-r2"),
        ("2016", date(2027, 1, 12), "windows-server-2016"),
        ("2019", date(2029, 1, 9), "windows-server-2019"),
        ("2022", date(2031, 10, 14), "windows-server-2022"),
        ("2025", date(2034, 11, 14), "windows-server-2025"),
    )
}

WINDOWS_IMAGE_PUBLISHER = "microsoftwindowsserver"
# Marketplace offers "SQL2014SP3-WS2012R2", "sql2019-ws2022", "sql2019-ubuntu2004": engine, then OS.
_SQL_IN_OFFER = re.compile(r"^sql(\d{4})(r2)?", re.IGNORECASE)
_WS_IN_OFFER = re.compile(r"-ws(\d{4})(r2)?", re.IGNORECASE)
_LINUX_IN_OFFER = re.compile(r"-(ubuntu|rhel|sles)", re.IGNORECASE)
# Windows Server SKUs "2012-R2-Datacenter", "2022-datacenter-azure-edition", "2008-R2-SP1", and SKUs or
# offers that carry the year elsewhere: "datacenter-core-2019-with-containers", "windows-server-2025".
_WS_SKU = re.compile(r"(?:^|[-_])(20\d\d)(-?r2)?(?=[-_]|$)", re.IGNORECASE)
# Where the name holds no year, the image version does: Windows images are versioned by OS build
# (20348.2227.240104 is Windows Server 2022), SQL Server images by engine major (15.0.240213 is 2019).
WINDOWS_BUILDS = {
    "6002": "2008",
    "7601": "2008 R2",
    "9200": "2012",
    "9600": "2012 R2",
    "14393": "2016",
    "17763": "2019",
    "20348": "2022",
    "26100": "2025",
}
SQL_MAJORS = {"10": "2008", "11": "2012", "12": "2014", "13": "2016", "14": "2017", "15": "2019", "16": "2022"}


def _version(year: str, r2: str | None) -> str:
    return f"{year} R2" if r2 else year


def sql_server_in_offer(offer: str | None) -> Lifecycle | None:
    """The SQL Server version a SQL Server image offer names, if it is one the table knows."""
    match = _SQL_IN_OFFER.match(offer or "")
    return SQL_SERVER_LIFECYCLE.get(_version(match[1], match[2])) if match else None


def windows_server_in_offer(offer: str | None) -> Lifecycle | None:
    """The Windows Server version a SQL Server image offer names as its OS, if the table knows it."""
    match = _WS_IN_OFFER.search(offer or "")
    return WINDOWS_SERVER_LIFECYCLE.get(_version(match[1], match[2])) if match else None


def windows_server_in_sku(sku: str | None) -> Lifecycle | None:
    """The Windows Server version a MicrosoftWindowsServer image SKU (or offer) names, if the table knows it."""
    match = _WS_SKU.search(sku or "")
    return WINDOWS_SERVER_LIFECYCLE.get(_version(match[1], match[2])) if match else None


def _version_part(version: str | None, index: int) -> str:
    parts = (version or "").split(".")
    return parts[index] if len(parts) > index else ""


def windows_server_in_version(version: str | None) -> Lifecycle | None:
    """The Windows Server version an image version's OS build names (``20348.x.y``), if known."""
    name = WINDOWS_BUILDS.get(_version_part(version, 0))
    return WINDOWS_SERVER_LIFECYCLE.get(name) if name else None


def sql_server_in_version(version: str | None) -> Lifecycle | None:
    """The SQL Server version a SQL Server image version's engine major names (``15.0.x``), if known."""
    name = SQL_MAJORS.get(_version_part(version, 0))
    return SQL_SERVER_LIFECYCLE.get(name) if name else None


@dataclass(frozen=True)
class SupportFacts:
    """What the image references say about a machine's engine and OS, and what they leave unknown."""

    products: tuple[Lifecycle, ...]
    unknown: tuple[str, ...]


def identify_products(
    image: ImageReference | None, os_type: str | None, registration: SqlVirtualMachine | None
) -> SupportFacts:
    """The SQL Server and Windows Server versions a VM image and its SQL registration name."""
    # ``image`` is None when the VM itself was not collected and only the registration speaks for it.
    products: dict[str, Lifecycle] = {}
    unknown: list[str] = []
    publisher = ((image.publisher if image else None) or "").lower()
    offers = [image.offer if image and publisher == SQL_IMAGE_PUBLISHER else None]
    offers.append(registration.image_offer if registration else None)
    for offer in offers:
        for found in (sql_server_in_offer(offer), windows_server_in_offer(offer)):
            if found:
                products[found.product] = found
    if image and publisher == WINDOWS_IMAGE_PUBLISHER:
        # The SKU names the version most often, then the offer, then the OS build in the image version.
        found = windows_server_in_sku(image.sku) or windows_server_in_sku(image.offer)
        found = found or windows_server_in_version(image.version)
        if found:
            products[found.product] = found
    if image and publisher == SQL_IMAGE_PUBLISHER and not any(p.startswith("SQL Server") for p in products):
        found = sql_server_in_version(image.version)
        if found:
            products[found.product] = found
    has_sql = any(p.product.startswith("SQL Server") for p in products.values())
    has_windows = any(p.product.startswith("Windows Server") for p in products.values())
    runs_sql = registration is not None or publisher == SQL_IMAGE_PUBLISHER
    if runs_sql and not has_sql:
        named = [o for o in offers if o]
        unknown.append(
            f"SQL Server version not recognised in image offer {' / '.join(named)}"
            if named
            else "SQL Server registered but no image offer reported, so its version is unknown"
        )
    linux_sql = any(_LINUX_IN_OFFER.search(o or "") for o in offers)
    if not has_windows and not linux_sql:
        reason = _unknown_os(image, publisher, os_type)
        if reason:
            unknown.append(reason)
    return SupportFacts(tuple(products.values()), tuple(unknown))


def _unknown_os(image: ImageReference | None, publisher: str, os_type: str | None) -> str | None:
    """Why the OS version cannot be told, or None when the OS is not a Windows one this check covers."""
    if image is None:
        return "the VM was not collected and the SQL registration's image offer names no OS"
    if not publisher:
        return "cannot tell the OS version from the image reference (custom or gallery image, no marketplace reference)"
    if publisher in {WINDOWS_IMAGE_PUBLISHER, SQL_IMAGE_PUBLISHER}:
        return f"cannot tell the Windows Server version from image offer {image.offer} sku {image.sku}"
    if os_type is None:
        return f"cannot tell the OS from image publisher {image.publisher}: OS type not reported"
    if os_type.lower() == "windows":
        return f"cannot tell the Windows version of a Windows image from publisher {image.publisher}"
    return None


def judge_support(facts: SupportFacts, today: date) -> tuple[Status, str]:
    """The verdict (fail, manual or pass) and message for the identified products on a day."""
    ended = [p for p in facts.products if p.ended_by(today)]
    if ended:
        return Status.FAIL, "Past end of support: " + "; ".join(
            f"{p.product} extended support ended {p.extended_support_ends.isoformat()}" for p in ended
        )
    if facts.unknown:
        return Status.MANUAL, "; ".join(facts.unknown)
    if facts.products:
        return Status.PASS, "Supported: " + "; ".join(
            f"{p.product} until {p.extended_support_ends.isoformat()}" for p in facts.products
        )
    return Status.PASS, "Not a Microsoft Windows or SQL Server image"


@check(
    id="supported_engine_and_os",
    title="No SQL Server engine or Windows Server OS is past Microsoft's end of extended support",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Compute/virtualMachines", "Microsoft.SqlVirtualMachine/sqlVirtualMachines"),
    requires=("Microsoft.Compute/virtualMachines", "Microsoft.SqlVirtualMachine/sqlVirtualMachines"),
    rationale="An engine or OS past end of support receives no security fixes, so TDE and every other control "
    "on it rest on unpatched code; SQL Server 2014, which the policy names, ended support on 2024-07-09.",
    remediation=Remediation(
        summary="Upgrade SQL Server and Windows Server to supported versions (in place or by migrating the "
        "databases to a VM from a current image such as sql2022-ws2022, or to Azure SQL), and retire the old VM.",
        portal="Virtual machines > Create > Image: SQL Server 2022 on Windows Server 2022; then migrate the "
        "databases (Azure Database Migration Service or backup/restore)",
        cli="az vm create -g RG -n VM --image MicrosoftSQLServer:sql2022-ws2022:enterprise-gen2:latest",
        terraform='source_image_reference {\n  publisher = "MicrosoftSQLServer"\n  offer = "sql2022-ws2022"\n'
        '  sku = "enterprise-gen2"\n  version = "latest"\n}',
        bicep="imageReference: { publisher: 'MicrosoftSQLServer', offer: 'sql2022-ws2022', sku: 'enterprise-gen2', "
        "version: 'latest' }",
    ),
)
def supported_engine_and_os(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """One result per VM (with its SQL registration), plus SQL registrations whose VM was not collected."""
    # An image that names no version (a custom or gallery image) is ``manual``, not ``error``: the data was
    # collected completely, it just cannot show the OS version, which an attestation can.
    today = inventory.reference_time.date()
    registrations = {key(m.vm_id): m for m in inventory.sql_virtual_machines if m.vm_id}
    seen: set[str] = set()
    for vm in inventory.virtual_machines:
        registration = registrations.get(key(vm.id))
        seen.add(key(vm.id))
        facts = identify_products(vm.image, vm.os_type, registration)
        evidence = _support_evidence(facts, today) | {
            "image": {
                "publisher": vm.image.publisher,
                "offer": vm.image.offer,
                "sku": vm.image.sku,
                "version": vm.image.version,
            },
            "os_type": vm.os_type,
            "sql_virtual_machine": _registration_evidence(registration),
        }
        yield _support_result(vm, facts, today, evidence)
    for machine in inventory.sql_virtual_machines:
        if machine.vm_id and key(machine.vm_id) in seen:
            continue
        # Without the VM only the registration's offer speaks for the OS.
        facts = identify_products(None, None, machine)
        evidence = _support_evidence(facts, today) | {"sql_virtual_machine": _registration_evidence(machine)}
        yield _support_result(machine, facts, today, evidence)


def _support_result(
    resource: VirtualMachine | SqlVirtualMachine, facts: SupportFacts, today: date, evidence: dict[str, object]
) -> CheckResult:
    status, message = judge_support(facts, today)
    verdict = {Status.FAIL: failed, Status.MANUAL: manual}.get(status, passed)
    return verdict(resource, message, **evidence)


def _support_evidence(facts: SupportFacts, today: date) -> dict[str, object]:
    return {
        "reference_date": today.isoformat(),
        "products": [
            {
                "product": p.product,
                "extended_support_ends": p.extended_support_ends.isoformat(),
                "ended": p.ended_by(today),
                "lifecycle_page": p.page,
            }
            for p in facts.products
        ],
        "unknown": list(facts.unknown),
    }


def _registration_evidence(machine: SqlVirtualMachine | None) -> dict[str, str | None] | None:
    if machine is None:
        return None
    return {"id": machine.id, "image_offer": machine.image_offer, "image_sku": machine.image_sku}
