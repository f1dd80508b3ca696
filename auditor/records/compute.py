"""Compute records: VMs, extensions, managed disks, snapshots, disk encryption sets."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.records.tags import NO_TAGS, Tags
from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class ImageReference:
    """The marketplace image a VM was built from."""

    publisher: str | None = None
    offer: str | None = None
    sku: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class VmDisk:
    """A disk as the VM's storage profile names it."""

    name: str
    lun: int | None = None
    managed_disk_id: str | None = None
    vhd_uri: str | None = None


@dataclass(frozen=True)
class VmExtension:
    """A VM extension."""

    name: str
    publisher: str | None
    extension_type: str | None
    provisioning_state: str | None = None
    type_handler_version: str | None = None
    # settings.AntimalwareEnabled of the public settings (Microsoft Antimalware); None where they do not say.
    antimalware_enabled: bool | None = None


@dataclass(frozen=True)
class VirtualMachine:
    """A virtual machine with what the controls need of it."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    os_type: str | None
    image: ImageReference
    os_disk: VmDisk | None
    data_disks: tuple[VmDisk, ...] = ()
    nic_ids: tuple[str, ...] = ()
    extensions: tuple[VmExtension, ...] = ()
    extensions_known: bool = False
    vm_size: str | None = None
    type: str = "Microsoft.Compute/virtualMachines"
    # securityProfile.encryptionAtHost: caches and temp disks are encrypted on the host with the disks' keys.
    encryption_at_host: bool | None = None
    # securityProfile.securityType: TrustedLaunch, ConfidentialVM or none.
    security_type: str | None = None
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class DiskEncryption:
    """Encryption of a managed disk or snapshot at rest and through Azure Disk Encryption."""

    encryption_type: str | None
    disk_encryption_set_id: str | None = None
    ade_enabled: bool | None = None
    ade_secret_urls: tuple[str, ...] = ()
    ade_key_urls: tuple[str, ...] = ()
    # Confidential disk encryption: the disk's securityProfile.securityType (e.g.
    # ConfidentialVM_DiskEncryptedWithCustomerKey) and the set whose key encrypts the disk and VM state.
    confidential_type: str | None = None
    secure_vm_des_id: str | None = None


@dataclass(frozen=True)
class Disk:
    """A managed disk."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    os_type: str | None
    encryption: DiskEncryption
    managed_by: str | None = None
    disk_state: str | None = None
    size_gb: int | None = None
    type: str = "Microsoft.Compute/disks"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class Snapshot:
    """A managed disk snapshot."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    encryption: DiskEncryption
    source_resource_id: str | None = None
    public_network_access: str | None = None
    network_access_policy: str | None = None
    type: str = "Microsoft.Compute/snapshots"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class DiskEncryptionSet:
    """A disk encryption set: the link from disks to a customer-managed key."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    encryption_type: str | None
    active_key_url: str | None
    source_vault_id: str | None = None
    auto_rotation: bool | None = None
    type: str = "Microsoft.Compute/diskEncryptionSets"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS
