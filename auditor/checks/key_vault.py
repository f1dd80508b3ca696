"""Key vault checks: vaults protected against deletion and exposure (KV-01), and the keys that protect
disks, storage, backup vaults and databases (KV-02)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from auditor.arm_ids import name_of
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.backup import RecoveryVault
from auditor.records.compute import Disk, DiskEncryptionSet
from auditor.records.keyvault import KeyVault, KeyVaultKey
from auditor.records.sql import SqlServer
from auditor.records.storage import StorageAccount
from auditor.registry import Remediation, check


def vault_shortfalls(vault: KeyVault, min_soft_delete_days: int) -> list[str]:
    """Each way the vault falls short of the protection the policy relies on; empty when none."""
    problems: list[str] = []
    if vault.soft_delete_enabled is not True:
        state = "not reported" if vault.soft_delete_enabled is None else "disabled"
        problems.append(f"soft delete {state}")
    days = vault.soft_delete_retention_days
    if days is None:
        problems.append("soft-delete retention not reported")
    elif days < min_soft_delete_days:
        problems.append(f"soft-delete retention {days} days < {min_soft_delete_days}")
    if vault.purge_protection_enabled is not True:
        problems.append("purge protection " + ("not enabled" if vault.purge_protection_enabled is None else "disabled"))
    public = (vault.public_network_access or "").lower()
    default_action = (vault.network_default_action or "").lower()
    if public != "disabled" and default_action != "deny":
        access = vault.public_network_access or "not set"
        action = vault.network_default_action or "not set"
        problems.append(f"reachable from public networks (publicNetworkAccess {access}, default action {action})")
    if vault.rbac_authorization_enabled is not True:
        problems.append("access policies instead of Azure RBAC authorization")
    return problems


@check(
    id="key_vault_protection",
    title="Key vaults keep soft delete and purge protection, deny public networks and use RBAC",
    severity=Severity.HIGH,
    resource_types=("Microsoft.KeyVault/vaults",),
    requires=("Microsoft.KeyVault/vaults",),
    over="key_vaults",
    subject="key vaults",
    parameters=("min_soft_delete_days",),
    rationale="The vault keys protect disks and backups: a purged or publicly reachable vault loses or "
    "exposes every copy of the data at once.",
    remediation=Remediation(
        summary="Enable purge protection, keep soft delete with at least the required retention, disable "
        "public network access (private endpoint) and switch the permission model to Azure RBAC.",
        portal="Key vaults > (vault) > Properties: purge protection; Networking: Disable public access; "
        "Access configuration: Azure role-based access control",
        cli="az keyvault update -g RG -n VAULT --enable-purge-protection true --public-network-access "
        "Disabled --enable-rbac-authorization true",
        terraform="purge_protection_enabled = true\nsoft_delete_retention_days = 90\n"
        "public_network_access_enabled = false\nenable_rbac_authorization = true",
        bicep="enablePurgeProtection: true\nsoftDeleteRetentionInDays: 90\npublicNetworkAccess: 'Disabled'\n"
        "enableRbacAuthorization: true",
    ),
)
def key_vault_protection(vault: KeyVault, params: Params) -> Verdict:
    """Fail a vault with any shortfall, listing all of them."""
    evidence = {
        "enableSoftDelete": vault.soft_delete_enabled,
        "softDeleteRetentionInDays": vault.soft_delete_retention_days,
        "enablePurgeProtection": vault.purge_protection_enabled,
        "enableRbacAuthorization": vault.rbac_authorization_enabled,
        "publicNetworkAccess": vault.public_network_access,
        "networkAcls.defaultAction": vault.network_default_action,
        "private_endpoints": vault.private_endpoint_count,
    }
    problems = vault_shortfalls(vault, params.get_int("min_soft_delete_days"))
    if problems:
        return failing("Key vault falls short: " + "; ".join(problems), **evidence)
    return passing("Soft delete, purge protection, private network access and RBAC in place", **evidence)


# --- KV-02: keys that protect data ---------------------------------------------------------------

MIN_RSA_BITS = 2048
RSA_TYPES = frozenset({"rsa", "rsa-hsm"})
EC_TYPES = frozenset({"ec", "ec-hsm"})
KEY_PROTECTION_APIS = (
    "Microsoft.KeyVault/vaults",
    "Microsoft.KeyVault/vaults/keys",
    "Microsoft.Compute/diskEncryptionSets",
    "Microsoft.Compute/disks",
    "Microsoft.Storage/storageAccounts",
    "Microsoft.RecoveryServices/vaults",
    "Microsoft.Sql/servers",
    "Microsoft.Sql/servers/encryptionProtector",
)


@dataclass(frozen=True)
class KeyReference:
    """A Key Vault key named by a URL: the vault's host, the key name and the version if pinned."""

    url: str
    host: str
    key_name: str
    version: str | None

    @property
    def vault_name(self) -> str:
        """The vault name: the first label of the host (``kv-prod`` in ``kv-prod.vault.azure.net``)."""
        return self.host.split(".", 1)[0]

    @property
    def in_key_vault(self) -> bool:
        """True for a Key Vault host (``*.vault.<cloud suffix>``), False for Managed HSM or anything else."""
        return self.host.split(".", 1)[-1].startswith("vault.")

    @property
    def identity(self) -> tuple[str, str]:
        """What the reference is matched on, whatever its version."""
        return self.vault_name, self.key_name.lower()


def parse_key_url(url: str) -> KeyReference | None:
    """A key URL (``https://VAULT.vault.azure.net/keys/NAME[/VERSION]``) split up; None when it is not one."""
    parsed = urlsplit(url.strip())
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.scheme.lower() != "https" or not parsed.hostname or len(parts) not in {2, 3} or parts[0] != "keys":
        return None
    return KeyReference(url, parsed.hostname.lower(), parts[1], parts[2] if len(parts) == 3 else None)


def storage_key_url(account: StorageAccount) -> str | None:
    """The key URL a storage account's customer-managed key settings name, or None when incomplete."""
    if not account.key_vault_uri or not account.key_name:
        return None
    return f"{account.key_vault_uri.rstrip('/')}/keys/{account.key_name}"


@dataclass(frozen=True)
class KeyUse:
    """One resource's use of a key to protect data."""

    resource: StorageAccount | DiskEncryptionSet | Disk | RecoveryVault | SqlServer
    role: str
    url: str | None


def key_uses(inventory: Inventory) -> Iterator[KeyUse]:
    """Every reference from a data-holding resource to a Key Vault key (url None: settings incomplete)."""
    for des in inventory.disk_encryption_sets:
        if des.active_key_url:
            yield KeyUse(des, "disk encryption set active key", des.active_key_url)
    for account in inventory.storage_accounts:
        if (account.key_source or "").lower() == "microsoft.keyvault":
            yield KeyUse(account, "storage account customer-managed key", storage_key_url(account))
    for vault in inventory.recovery_vaults:
        if vault.cmk_key_uri:
            yield KeyUse(vault, "Recovery Services vault customer-managed key", vault.cmk_key_uri)
    for server in inventory.sql_servers:
        if (server.protector_kind or "").lower() == "azurekeyvault":
            yield KeyUse(server, "SQL TDE protector", server.protector_key_uri)
    for disk in inventory.disks:
        for url in disk.encryption.ade_key_urls:
            yield KeyUse(disk, "Azure Disk Encryption key-encryption key", url)


def key_shortfalls(key: KeyVaultKey, reference: datetime) -> list[str]:
    """Each way a data-protecting key is disabled, weak, or neither expires nor rotates; empty when none."""
    problems: list[str] = []
    if key.enabled is not True:
        problems.append("disabled" if key.enabled is False else "enabled state not reported")
    kty = (key.kty or "").lower()
    if not kty:
        problems.append("key type not reported")
    elif kty in RSA_TYPES:
        if key.key_size is None:
            problems.append(f"{key.kty} key size not reported")
        elif key.key_size < MIN_RSA_BITS:
            problems.append(f"{key.kty} {key.key_size} bits < {MIN_RSA_BITS}")
    elif kty not in EC_TYPES:
        problems.append(f"key type {key.kty} is neither RSA nor EC")
    rotates = key.rotation_policy and "rotate" in {a.lower() for a in key.rotation_actions}
    if key.expires is not None:
        expiry = datetime.fromtimestamp(key.expires, UTC)
        if expiry <= reference:
            problems.append(f"expired on {expiry.date().isoformat()}")
    elif not rotates:
        problems.append(
            "no expiry date and its rotation policy only notifies (no rotate action)"
            if key.rotation_policy
            else "no expiry date and no rotation policy"
        )
    return problems


def _key_evidence(key: KeyVaultKey, uses: tuple[KeyUse, ...]) -> dict[str, object]:
    return {
        "key_id": key.id,
        "key_uri": key.key_uri,
        "kty": key.kty,
        "key_size": key.key_size,
        "curve": key.curve,
        "enabled": key.enabled,
        "expires": datetime.fromtimestamp(key.expires, UTC).isoformat() if key.expires is not None else None,
        "rotation_policy": key.rotation_policy,
        "rotation_actions": list(key.rotation_actions),
        "rotation_expiry_time": key.rotation_expiry_time,
        "protects": [{"role": u.role, "resource": u.resource.name, "id": u.resource.id, "url": u.url} for u in uses],
    }


@dataclass(frozen=True)
class ProtectingKey:
    """A collected key together with every reference that makes it protect data: what KV-02 judges."""

    key: KeyVaultKey
    uses: tuple[KeyUse, ...]

    @property
    def id(self) -> str:
        """The key's id."""
        return self.key.id

    @property
    def type(self) -> str:
        """The key's type."""
        return self.key.type

    @property
    def subscription_id(self) -> str:
        """The key's subscription."""
        return self.key.subscription_id


@dataclass(frozen=True)
class UnresolvedKeyUse:
    """A reference to a key this scan cannot show: incomplete settings, not a key URL, or a key not collected."""

    use: KeyUse
    reference: KeyReference | None

    @property
    def id(self) -> str:
        """The id of the resource holding the reference."""
        return self.use.resource.id

    @property
    def type(self) -> str:
        """The type of the resource holding the reference."""
        return self.use.resource.type

    @property
    def subscription_id(self) -> str:
        """The subscription of the resource holding the reference."""
        return self.use.resource.subscription_id


def protecting_keys(inventory: Inventory) -> Iterator[ProtectingKey | UnresolvedKeyUse]:
    """Every key a data-holding resource references, with its uses, and every reference that resolves to none."""
    keys = {(name_of(k.vault_id).lower(), k.name.lower()): k for k in inventory.key_vault_keys}
    uses_by_key: dict[tuple[str, str], list[KeyUse]] = {}
    for use in key_uses(inventory):
        reference = parse_key_url(use.url) if use.url else None
        if reference is not None and reference.in_key_vault and reference.identity in keys:
            uses_by_key.setdefault(reference.identity, []).append(use)
        else:
            yield UnresolvedKeyUse(use, reference)
    for identity, uses in uses_by_key.items():
        yield ProtectingKey(keys[identity], tuple(uses))


@check(
    id="protecting_keys_hygiene",
    title="Keys protecting disks, storage, backup vaults and SQL are enabled, RSA 2048+ or EC, and expire or rotate",
    severity=Severity.MEDIUM,
    resource_types=("Microsoft.KeyVault/vaults/keys",),
    requires=KEY_PROTECTION_APIS,
    over=protecting_keys,
    subject="keys protecting disks, storage, backup vaults or SQL servers",
    rationale="These keys wrap the data keys of disks, backups and databases: a weak key weakens every copy, "
    "and a key that never expires or rotates stays exposed for as long as it was ever exposed.",
    remediation=Remediation(
        summary="Give each data-protecting key an expiry date and a rotation policy with a rotate action; replace "
        "keys shorter than RSA 2048 (or not RSA/EC) with a new RSA 3072/RSA-HSM key and point the disk encryption "
        "set, storage account, vault, SQL server or Azure Disk Encryption at it; re-enable disabled keys.",
        portal="Key vaults > (vault) > Keys > (key) > Rotation policy: Enable auto rotation, set expiry; "
        "new key: Generate, RSA-HSM 3072",
        cli="az keyvault key rotation-policy update --vault-name VAULT -n KEY --value policy.json\n"
        "az keyvault key set-attributes --vault-name VAULT -n KEY --expires 2027-12-31T00:00:00Z\n"
        "az keyvault key create --vault-name VAULT -n KEY --kty RSA-HSM --size 3072",
        terraform='resource "azurerm_key_vault_key" "cmk" {\n  key_type = "RSA-HSM"\n  key_size = 3072\n'
        '  key_opts = ["wrapKey", "unwrapKey"]\n  rotation_policy {\n    automatic { time_before_expiry = "P30D" }\n'
        '    expire_after = "P1Y"\n    notify_before_expiry = "P29D"\n  }\n}',
        bicep="properties: { kty: 'RSA-HSM', keySize: 3072, rotationPolicy: { attributes: { expiryTime: 'P1Y' }, "
        "lifetimeActions: [ { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'rotate' } } ] } }",
    ),
)
def protecting_keys_hygiene(subject: ProtectingKey | UnresolvedKeyUse, params: Params) -> Verdict:
    """A data-protecting key falls short when disabled, weak, or neither expiring nor rotating; a reference
    to a key the scan cannot see is an error on the resource holding it."""
    if isinstance(subject, UnresolvedKeyUse):
        return unresolved_use_verdict(subject)
    key, uses = subject.key, subject.uses
    evidence = _key_evidence(key, uses)
    roles = "; ".join(sorted({f"{u.role} of {u.resource.name}" for u in uses}))
    # A key declared in code has no uses of its own: the resources it protects are other resources.
    named = f"Key protecting {roles}" if uses else f"Key {key.name}"
    protects = f"; protects {roles}" if uses else ""
    problems = key_shortfalls(key, params.moment)
    if problems:
        return failing(f"{named} falls short: " + "; ".join(problems), **evidence)
    guard = "expires " + str(evidence["expires"])[:10] if key.expires is not None else "rotates by policy"
    lead = "" if uses else f"Key {key.name}: "
    return passing(f"{lead}{key.kty} {key.key_size or key.curve} key, enabled, {guard}{protects}", **evidence)


def unresolved_use_verdict(subject: UnresolvedKeyUse) -> Verdict:
    """Why a key reference cannot be judged, named on the resource that holds it."""
    use, reference = subject.use, subject.reference
    if use.url is None:
        return erroring(f"{use.role} is configured but its key vault URI or key name was not reported", role=use.role)
    if reference is None:
        return erroring(f"{use.role} names {use.url}, which is not a Key Vault key URL", url=use.url)
    where = (
        "which is not among the collected keys (its vault or subscription was not scanned, or its keys "
        "could not be listed)"
        if reference.in_key_vault
        else "which is in a Managed HSM or another key store this scan does not read"
    )
    return erroring(
        f"{use.role} references key {use.url}, {where}, so its type, size, state and expiry cannot be shown",
        role=use.role,
        url=use.url,
        vault=reference.vault_name,
        key=reference.key_name,
    )
