"""Disk checks: managed disks and unmanaged VHDs protected by keys held in Key Vault (ENC-01), and disk
snapshots under a Key Vault key that cannot be exported over public networks (ENC-02)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from auditor.checks.index import ById
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.compute import Disk, DiskEncryptionSet, Snapshot, VirtualMachine
from auditor.records.storage import StorageAccount
from auditor.records.unreadable import Unreadable
from auditor.registry import Remediation, check

# Encryption types under which the disk's data key is wrapped by a customer key in Key Vault.
CUSTOMER_KEY_TYPES = frozenset(
    {
        "encryptionatrestwithcustomerkey",
        "encryptionatrestwithplatformandcustomerkeys",
        "confidentialvmencryptedwithcustomerkey",
    }
)
PLATFORM_KEY_TYPE = "encryptionatrestwithplatformkey"
# Confidential disk encryption whose key is the customer's, held in Key Vault through a disk encryption set.
CONFIDENTIAL_CUSTOMER_KEY = "confidentialvm_diskencryptedwithcustomerkey"


@dataclass(frozen=True)
class KeyedDisk:
    """A managed disk with the disk encryption sets it may name: what ENC-01 judges of a disk."""

    disk: Disk
    sets: ById[DiskEncryptionSet]

    @property
    def id(self) -> str:
        """The disk's id."""
        return self.disk.id

    @property
    def type(self) -> str:
        """The disk's type."""
        return self.disk.type

    @property
    def subscription_id(self) -> str:
        """The disk's subscription."""
        return self.disk.subscription_id

    @property
    def unreadable(self) -> tuple[Unreadable, ...]:
        """What Azure (or the code) gave for the disk that could not be read."""
        return self.disk.unreadable


@dataclass(frozen=True)
class UnmanagedDisks:
    """A VM's unmanaged VHDs with the storage accounts (by lower-case name) that may hold them."""

    vm: VirtualMachine
    vhds: tuple[str, ...]
    accounts: Mapping[str, StorageAccount]

    @property
    def id(self) -> str:
        """The VM's id."""
        return self.vm.id

    @property
    def type(self) -> str:
        """The VM's type."""
        return self.vm.type

    @property
    def subscription_id(self) -> str:
        """The VM's subscription."""
        return self.vm.subscription_id


def disks_and_vhds(inventory: Inventory) -> Iterator[KeyedDisk | UnmanagedDisks]:
    """Every managed disk with the collected encryption sets, and every VM that keeps unmanaged VHDs."""
    sets = ById(inventory.disk_encryption_sets)
    for disk in inventory.disks:
        yield KeyedDisk(disk, sets)
    accounts = {a.name.lower(): a for a in inventory.storage_accounts}
    for vm in inventory.virtual_machines:
        vhds = tuple(d.vhd_uri for d in ((vm.os_disk,) if vm.os_disk else ()) + vm.data_disks if d.vhd_uri)
        if vhds:
            yield UnmanagedDisks(vm, vhds, accounts)


@check(
    id="disk_key_vault_encryption",
    title="Every managed disk is encrypted with a key held in Key Vault (ADE/BitLocker or a customer key)",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Compute/disks", "Microsoft.Compute/virtualMachines"),
    requires=(
        "Microsoft.Compute/disks",
        "Microsoft.Compute/diskEncryptionSets",
        "Microsoft.Compute/virtualMachines",
        "Microsoft.Storage/storageAccounts",
    ),
    over=disks_and_vhds,
    subject="managed disks or unmanaged VHDs",
    rationale="Platform-managed keys are held by Microsoft; the policy promises disks protected with the "
    "company's own vault keys and BitLocker.",
    remediation=Remediation(
        summary="Encrypt the disk with a customer-managed key through a disk encryption set whose key lives "
        "in Key Vault, or enable Azure Disk Encryption (BitLocker on Windows) with the secret in Key Vault.",
        portal="Disks > (disk) > Encryption > Key management: Customer-managed key > select the disk encryption set",
        cli="az disk update -g RG -n DISK --encryption-type EncryptionAtRestWithCustomerKey "
        "--disk-encryption-set DES_ID",
        terraform="disk_encryption_set_id = azurerm_disk_encryption_set.main.id  # azurerm_managed_disk",
        bicep="encryption: { type: 'EncryptionAtRestWithCustomerKey', diskEncryptionSetId: des.id }",
    ),
)
def disk_key_vault_encryption(subject: KeyedDisk | UnmanagedDisks, params: Params) -> Verdict:
    """Pass disks with a vault-held customer key or ADE; fail platform-key-only disks and unmanaged VHDs."""
    if isinstance(subject, UnmanagedDisks):
        return judge_unmanaged_disks(subject.vhds, subject.accounts)
    return judge_disk(subject.disk, subject.sets)


def judge_unmanaged_disks(vhds: tuple[str, ...], accounts: Mapping[str, StorageAccount]) -> Verdict:
    """Unmanaged VHDs are page blobs: their storage account's key source decides their protection."""
    hosts = {uri: urlsplit(uri).hostname for uri in vhds}
    names = {uri: host.split(".", 1)[0].lower() for uri, host in hosts.items() if host}
    missing = sorted({name for name in names.values() if name not in accounts})
    evidence: dict[str, object] = {"vhds": list(vhds), "storage_accounts": sorted(set(names.values()))}
    if missing or len(names) < len(vhds):
        return erroring(
            f"Unmanaged VHD(s) in storage account(s) {', '.join(missing) or 'of unreadable URI'} that were not "
            "collected, so their encryption cannot be shown",
            **evidence,
        )
    weak = sorted({n for n in names.values() if (accounts[n].key_source or "").lower() != "microsoft.keyvault"})
    if weak:
        sources = {n: accounts[n].key_source for n in weak}
        return failing(
            f"Unmanaged VHD(s) in storage accounts not encrypted with a Key Vault key: {sources}", **evidence
        )
    return passing("Unmanaged VHD(s) live in storage accounts encrypted with Key Vault keys", **evidence)


def judge_disk(disk: Disk, sets: ById[DiskEncryptionSet]) -> Verdict:
    """Whether one disk's data key is wrapped by a Key Vault key, through the sets it may reference."""
    enc = disk.encryption
    kind = (enc.encryption_type or "").lower()
    evidence: dict[str, object] = {
        "encryption_type": enc.encryption_type,
        "disk_encryption_set_id": enc.disk_encryption_set_id,
        "ade_enabled": enc.ade_enabled,
        "os_type": disk.os_type,
        "attached_to": disk.managed_by,
        "confidential_type": enc.confidential_type,
    }
    # A disk that names an encryption set but no type is read as the set's own type, as Azure applies it.
    if not kind and enc.disk_encryption_set_id:
        referenced = sets.get(enc.disk_encryption_set_id)
        kind = (referenced.encryption_type or "").lower() if referenced else "encryptionatrestwithcustomerkey"
    if kind in CUSTOMER_KEY_TYPES:
        des = sets.get(enc.disk_encryption_set_id)
        if des is None:
            return erroring(
                f"Customer-key encryption names disk encryption set {enc.disk_encryption_set_id}, which was "
                "not collected, so its key cannot be shown to be in Key Vault",
                **evidence,
            )
        if not des.active_key_url:
            return failing(f"Disk encryption set {des.name} has no active Key Vault key", **evidence)
        # The message names the set, not the key URL: code names a set but not the key it holds, and the
        # live and IaC doors must say the same; the key is in the evidence.
        return passing(
            f"Encrypted with a customer-managed key in Key Vault through disk encryption set {des.name}",
            key_url=des.active_key_url,
            key_vault_id=des.source_vault_id,
            **evidence,
        )
    if (enc.confidential_type or "").lower() == CONFIDENTIAL_CUSTOMER_KEY:
        secure = sets.get(enc.secure_vm_des_id)
        if secure is None:
            return erroring(
                f"Confidential disk encryption names disk encryption set {enc.secure_vm_des_id}, which "
                f"{sets.missing(enc.secure_vm_des_id) if enc.secure_vm_des_id else 'is not named'}",
                **evidence,
            )
        if secure.active_key_url:
            return passing(
                f"Confidential disk encryption with a customer key in Key Vault through {secure.name}",
                key_url=secure.active_key_url,
                **evidence,
            )
    if enc.ade_enabled and enc.ade_secret_urls:
        method = "BitLocker" if (disk.os_type or "").lower() == "windows" else "Azure Disk Encryption"
        return passing(
            f"{method} through Azure Disk Encryption; the disk secret is held in Key Vault",
            secret_urls=list(enc.ade_secret_urls),
            key_encryption_key_urls=list(enc.ade_key_urls),
            **evidence,
        )
    if enc.encryption_type is None and enc.ade_enabled is None:
        return erroring("Azure reported no encryption settings for this disk", **evidence)
    reason = "platform-managed key only" if kind == PLATFORM_KEY_TYPE else f"encryption type {enc.encryption_type}"
    if enc.ade_enabled and not enc.ade_secret_urls:
        reason += "; Azure Disk Encryption is flagged on but names no Key Vault secret"
    return failing(f"Not protected by a Key Vault key: {reason}", **evidence)


# --- ENC-02: snapshots --------------------------------------------------------------------------------

# Snapshot network access policies under which no SAS export reaches the data from a public network.
PRIVATE_SNAPSHOT_POLICIES = frozenset({"denyall", "allowprivate"})


@dataclass(frozen=True)
class KeyedSnapshot:
    """A snapshot with the disk encryption sets it may name: what ENC-02 judges of a snapshot."""

    snapshot: Snapshot
    sets: ById[DiskEncryptionSet]

    @property
    def id(self) -> str:
        """The snapshot's id."""
        return self.snapshot.id

    @property
    def type(self) -> str:
        """The snapshot's type."""
        return self.snapshot.type

    @property
    def subscription_id(self) -> str:
        """The snapshot's subscription."""
        return self.snapshot.subscription_id

    @property
    def unreadable(self) -> tuple[Unreadable, ...]:
        """What Azure (or the code) gave for the snapshot that could not be read."""
        return self.snapshot.unreadable


def keyed_snapshots(inventory: Inventory) -> Iterator[KeyedSnapshot]:
    """Every snapshot with the collected disk encryption sets."""
    sets = ById(inventory.disk_encryption_sets)
    for snapshot in inventory.snapshots:
        yield KeyedSnapshot(snapshot, sets)


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
    over=keyed_snapshots,
    subject="disk snapshots",
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
        terraform='network_access_policy = "DenyAll"\npublic_network_access_enabled = false\n'
        "# azurerm_snapshot names no disk encryption set: to name one, create the snapshot with azapi_resource\n"
        'body = { properties = { encryption = { type = "EncryptionAtRestWithCustomerKey", diskEncryptionSetId = '
        'azurerm_disk_encryption_set.main.id }, networkAccessPolicy = "DenyAll", publicNetworkAccess = "Disabled" } }',
        bicep="properties: { encryption: { type: 'EncryptionAtRestWithCustomerKey', diskEncryptionSetId: des.id }\n"
        "  networkAccessPolicy: 'DenyAll', publicNetworkAccess: 'Disabled' }",
    ),
)
def snapshot_cmk_private(subject: KeyedSnapshot, params: Params) -> Verdict:
    """Fail snapshots without a Key Vault key or open to public export; error when the key cannot be shown."""
    snapshot, sets = subject.snapshot, subject.sets
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
        return erroring(f"Key protection cannot be shown: {key_problem}", **evidence)
    if problems:
        return failing("Snapshot falls short: " + "; ".join(problems), **evidence)
    # The set is named rather than its key URL, which code does not state; the key is in the evidence.
    how = (
        f"a customer-managed key through disk encryption set {des.name}"
        if des
        else "Azure Disk Encryption (Key Vault secret)"
    )
    return passing(f"Encrypted with {how}; no public network export", **evidence)
