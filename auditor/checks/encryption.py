"""Encryption checks: disks protected by keys held in Key Vault (ENC-01)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from auditor.checks.index import ById
from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, errored, failed, passed
from auditor.parameters import Params
from auditor.records.compute import Disk, DiskEncryptionSet, VirtualMachine
from auditor.records.storage import StorageAccount
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
def disk_key_vault_encryption(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Pass disks with a vault-held customer key or ADE; fail platform-key-only disks and unmanaged VHDs."""
    sets = ById(inventory.disk_encryption_sets)
    for disk in inventory.disks:
        yield judge_disk(disk, sets)
    accounts = {a.name.lower(): a for a in inventory.storage_accounts}
    for vm in inventory.virtual_machines:
        vhds = [d.vhd_uri for d in ((vm.os_disk,) if vm.os_disk else ()) + vm.data_disks if d.vhd_uri]
        if vhds:
            yield judge_unmanaged_disks(vm, vhds, accounts)


def judge_unmanaged_disks(vm: VirtualMachine, vhds: list[str], accounts: dict[str, StorageAccount]) -> CheckResult:
    """Unmanaged VHDs are page blobs: their storage account's key source decides their protection."""
    hosts = {uri: urlsplit(uri).hostname for uri in vhds}
    names = {uri: host.split(".", 1)[0].lower() for uri, host in hosts.items() if host}
    missing = sorted({name for name in names.values() if name not in accounts})
    evidence: dict[str, object] = {"vhds": vhds, "storage_accounts": sorted(set(names.values()))}
    if missing or len(names) < len(vhds):
        return errored(
            vm,
            f"Unmanaged VHD(s) in storage account(s) {', '.join(missing) or 'of unreadable URI'} that were not "
            "collected, so their encryption cannot be shown",
            **evidence,
        )
    weak = sorted({n for n in names.values() if (accounts[n].key_source or "").lower() != "microsoft.keyvault"})
    if weak:
        sources = {n: accounts[n].key_source for n in weak}
        return failed(
            vm, f"Unmanaged VHD(s) in storage accounts not encrypted with a Key Vault key: {sources}", **evidence
        )
    return passed(vm, "Unmanaged VHD(s) live in storage accounts encrypted with Key Vault keys", **evidence)


def judge_disk(disk: Disk, sets: ById[DiskEncryptionSet]) -> CheckResult:
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
            return errored(
                disk,
                f"Customer-key encryption names disk encryption set {enc.disk_encryption_set_id}, which was "
                "not collected, so its key cannot be shown to be in Key Vault",
                **evidence,
            )
        if not des.active_key_url:
            return failed(disk, f"Disk encryption set {des.name} has no active Key Vault key", **evidence)
        return passed(
            disk,
            f"Encrypted with customer-managed key {des.active_key_url} through disk encryption set {des.name}",
            key_url=des.active_key_url,
            key_vault_id=des.source_vault_id,
            **evidence,
        )
    if (enc.confidential_type or "").lower() == CONFIDENTIAL_CUSTOMER_KEY:
        secure = sets.get(enc.secure_vm_des_id)
        if secure is None:
            return errored(
                disk,
                f"Confidential disk encryption names disk encryption set {enc.secure_vm_des_id}, which "
                f"{sets.missing(enc.secure_vm_des_id) if enc.secure_vm_des_id else 'is not named'}",
                **evidence,
            )
        if secure.active_key_url:
            return passed(
                disk,
                f"Confidential disk encryption with customer key {secure.active_key_url} through {secure.name}",
                key_url=secure.active_key_url,
                **evidence,
            )
    if enc.ade_enabled and enc.ade_secret_urls:
        method = "BitLocker" if (disk.os_type or "").lower() == "windows" else "Azure Disk Encryption"
        return passed(
            disk,
            f"{method} through Azure Disk Encryption; the disk secret is held in Key Vault",
            secret_urls=list(enc.ade_secret_urls),
            key_encryption_key_urls=list(enc.ade_key_urls),
            **evidence,
        )
    if enc.encryption_type is None and enc.ade_enabled is None:
        return errored(disk, "Azure reported no encryption settings for this disk", **evidence)
    reason = "platform-managed key only" if kind == PLATFORM_KEY_TYPE else f"encryption type {enc.encryption_type}"
    if enc.ade_enabled and not enc.ade_secret_urls:
        reason += "; Azure Disk Encryption is flagged on but names no Key Vault secret"
    return failed(disk, f"Not protected by a Key Vault key: {reason}", **evidence)
