"""Compute collector: VMs with their extensions, managed disks, snapshots and disk encryption sets."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from auditor.arm_ids import resource_group_of
from auditor.collect.base import (
    TAGS_FIELD,
    UNKNOWN,
    Enrichment,
    Field,
    Listing,
    Reader,
    arm_pipeline,
    build_all,
    list_objects,
    path,
    resource_id,
    resource_path,
    tags_of,
)
from auditor.collect.clients import COMPUTE_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.compute import (
    Disk,
    DiskEncryption,
    DiskEncryptionSet,
    ImageReference,
    Snapshot,
    VirtualMachine,
    VmDisk,
    VmExtension,
)

# The api-versions azure-mgmt-compute 39.0 sends: ComputeRP for VMs, DiskRP for disks and their kin.
VM_API_VERSION = "2026-04-01"
DISK_API_VERSION = "2026-03-02"
VMS_API = "Microsoft.Compute/virtualMachines"
EXTENSIONS_API = "Microsoft.Compute/virtualMachines/extensions"
DISKS_API = "Microsoft.Compute/disks"
SNAPSHOTS_API = "Microsoft.Compute/snapshots"
DES_API = "Microsoft.Compute/diskEncryptionSets"

# https://learn.microsoft.com/rest/api/compute/virtual-machines/list-all
VM_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.storageProfile.osDisk.osType", False, UNKNOWN),
    Field("properties.storageProfile.imageReference", False, "not built from a marketplace or gallery image"),
    Field("properties.storageProfile.osDisk.managedDisk.id", False, "an unmanaged (VHD) OS disk"),
    Field("properties.storageProfile.dataDisks", False, "no data disks"),
    Field("properties.networkProfile.networkInterfaces", True),
    Field("properties.hardwareProfile.vmSize", False, UNKNOWN),
    # https://learn.microsoft.com/azure/virtual-machines/disk-encryption#encryption-at-host: off unless set.
    Field("properties.securityProfile.encryptionAtHost", False, UNKNOWN),
    Field("properties.securityProfile.securityType", False, "a standard VM (neither TrustedLaunch nor confidential)"),
    # ARM embeds extensions in ``resources`` when it returns them; absent means "not returned", and the
    # extensions are then read with one call per VM, never assumed to be none.
    Field("resources", False, "extensions not returned: read per VM"),
    TAGS_FIELD,
)
# https://learn.microsoft.com/rest/api/compute/virtual-machine-extensions/list
EXTENSION_CONTRACT = (
    Field("name", True),
    Field("properties.publisher", True),
    Field("properties.type", True),
    Field("properties.provisioningState", True),
    Field("properties.typeHandlerVersion", False, UNKNOWN),
    # Microsoft Antimalware's public settings (learn.microsoft.com/azure/security/fundamentals/antimalware):
    # AntimalwareEnabled false installs the extension with protection off.
    Field("properties.settings.AntimalwareEnabled", False, "not turned off by the extension's settings"),
)
# https://learn.microsoft.com/rest/api/compute/disks/list
DISK_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    # "EncryptionAtRestWithPlatformKey" is the documented default (Disk.encryption.type), but ARM always
    # returns it since 2020; its absence is not assumed to be platform keys.
    Field("properties.encryption.type", True),
    Field("properties.encryption.diskEncryptionSetId", False, "no disk encryption set"),
    Field("properties.encryptionSettingsCollection", False, "Azure Disk Encryption not enabled"),
    # Confidential disk encryption (https://learn.microsoft.com/azure/confidential-computing/confidential-vm-overview).
    Field("properties.securityProfile.securityType", False, "no confidential disk encryption"),
    Field(
        "properties.securityProfile.secureVMDiskEncryptionSetId", False, "no customer key for confidential encryption"
    ),
    Field("properties.osType", False, "a data disk (no OS)"),
    Field("managedBy", False, "not attached"),
    Field("properties.diskState", True),
    Field("properties.diskSizeGB", True),
    TAGS_FIELD,
)
SNAPSHOT_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.encryption.type", True),
    Field("properties.encryption.diskEncryptionSetId", False, "no disk encryption set"),
    Field("properties.encryptionSettingsCollection", False, "Azure Disk Encryption not enabled"),
    Field("properties.creationData.sourceResourceId", False, "not copied from a managed resource"),
    Field("properties.publicNetworkAccess", False, UNKNOWN),
    Field("properties.networkAccessPolicy", False, UNKNOWN),
    TAGS_FIELD,
)
DES_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.encryptionType", False, UNKNOWN),
    Field("properties.activeKey.keyUrl", True),
    Field("properties.activeKey.sourceVault.id", False, "the key vault is named by the key URL"),
    # https://learn.microsoft.com/rest/api/compute/disk-encryption-sets/get: rotationToLatestKeyVersionEnabled
    # "Set this flag to true to enable auto-updating ... to the latest key version"; absent means false.
    Field("properties.rotationToLatestKeyVersionEnabled", False, "false (auto key rotation off)"),
    TAGS_FIELD,
)


def _vm_disk(disk: Reader) -> VmDisk:
    return VmDisk(
        name=disk.text("name") or "",
        lun=disk.integer("lun"),
        managed_disk_id=disk.ref("managedDisk"),
        vhd_uri=disk.text("vhd.uri"),
    )


def _nic_ids(vm: Reader) -> tuple[str, ...]:
    found = tuple(
        i for r in vm.items("properties.networkProfile.networkInterfaces", required=True) if (i := r.ref_id())
    )
    if not found and vm.present("properties.networkProfile.networkInterfaces"):
        vm.missing("properties.networkProfile.networkInterfaces[0].id")
    return found


def extension(ext: Reader) -> VmExtension:
    """A VM extension record."""
    return VmExtension(
        name=ext.text("name") or "",
        publisher=ext.text("properties.publisher"),
        extension_type=ext.text("properties.type"),
        provisioning_state=ext.text("properties.provisioningState"),
        type_handler_version=ext.text("properties.typeHandlerVersion"),
        antimalware_enabled=ext.flag("properties.settings.AntimalwareEnabled"),
    )


def virtual_machine(raw: Mapping[str, Any], subscription_id: str) -> VirtualMachine:
    """A VM record; extensions come from ``resources`` or, when absent, a per-VM call."""
    vm = Reader(raw)
    vm_id = resource_id(vm, f"/subscriptions/{subscription_id}", VMS_API)
    storage = vm.part("properties.storageProfile")
    image = storage.part("imageReference")
    os_disk = storage.part("osDisk") if storage.present("osDisk") else None
    embedded = [r for r in vm.items("resources") if "/extensions/" in (r.text("id") or "/extensions/").lower()]
    return VirtualMachine(
        id=vm_id,
        name=vm.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(vm_id),
        location=vm.text("location") or "",
        os_type=storage.choice("osDisk.osType", ("Windows", "Linux")),
        image=ImageReference(
            publisher=image.text("publisher"),
            offer=image.text("offer"),
            sku=image.text("sku"),
            version=image.text("exactVersion") or image.text("version"),
        ),
        os_disk=_vm_disk(os_disk) if os_disk else None,
        data_disks=tuple(_vm_disk(d) for d in storage.items("dataDisks")),
        # Every VM has at least one NIC; a VM answer without them cannot be placed on any network.
        nic_ids=_nic_ids(vm),
        extensions=by_name(extension(e) for e in embedded),
        extensions_known=vm.present("resources"),
        vm_size=vm.text("properties.hardwareProfile.vmSize"),
        encryption_at_host=vm.flag("properties.securityProfile.encryptionAtHost"),
        security_type=vm.text("properties.securityProfile.securityType"),
        tags=tags_of(raw),
        unreadable=vm.found(),
    )


def disk_encryption(resource: Reader) -> DiskEncryption:
    """Encryption at rest plus Azure Disk Encryption settings of a disk or snapshot."""
    settings = resource.part("properties.encryptionSettingsCollection")
    entries = settings.items("encryptionSettings")
    return DiskEncryption(
        encryption_type=resource.text("properties.encryption.type"),
        disk_encryption_set_id=resource.text("properties.encryption.diskEncryptionSetId"),
        ade_enabled=settings.flag("enabled"),
        ade_secret_urls=tuple(u for s in entries if (u := s.text("diskEncryptionKey.secretUrl"))),
        ade_key_urls=tuple(u for s in entries if (u := s.text("keyEncryptionKey.keyUrl"))),
        confidential_type=resource.text("properties.securityProfile.securityType"),
        secure_vm_des_id=resource.text("properties.securityProfile.secureVMDiskEncryptionSetId"),
    )


def disk(raw: Mapping[str, Any], subscription_id: str) -> Disk:
    """A managed disk record."""
    d = Reader(raw)
    disk_id = resource_id(d, f"/subscriptions/{subscription_id}", DISKS_API)
    return Disk(
        id=disk_id,
        name=d.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(disk_id),
        location=d.text("location") or "",
        os_type=d.choice("properties.osType", ("Windows", "Linux")),
        encryption=disk_encryption(d),
        managed_by=d.text("managedBy"),
        disk_state=d.text("properties.diskState"),
        size_gb=d.integer("properties.diskSizeGB"),
        tags=tags_of(raw),
        unreadable=d.found(),
    )


def snapshot(raw: Mapping[str, Any], subscription_id: str) -> Snapshot:
    """A snapshot record."""
    s = Reader(raw)
    snapshot_id = resource_id(s, f"/subscriptions/{subscription_id}", SNAPSHOTS_API)
    return Snapshot(
        id=snapshot_id,
        name=s.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(snapshot_id),
        location=s.text("location") or "",
        encryption=disk_encryption(s),
        source_resource_id=s.text("properties.creationData.sourceResourceId"),
        public_network_access=s.text("properties.publicNetworkAccess"),
        network_access_policy=s.text("properties.networkAccessPolicy"),
        tags=tags_of(raw),
        unreadable=s.found(),
    )


def disk_encryption_set(raw: Mapping[str, Any], subscription_id: str) -> DiskEncryptionSet:
    """A disk encryption set record."""
    des = Reader(raw)
    des_id = resource_id(des, f"/subscriptions/{subscription_id}", DES_API)
    rotation = des.flag("properties.rotationToLatestKeyVersionEnabled")
    return DiskEncryptionSet(
        id=des_id,
        name=des.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(des_id),
        location=des.text("location") or "",
        encryption_type=des.text("properties.encryptionType"),
        active_key_url=des.text("properties.activeKey.keyUrl"),
        source_vault_id=des.ref("properties.activeKey.sourceVault"),
        auto_rotation=False if rotation is None else rotation,
        tags=tags_of(raw),
        unreadable=des.found(),
    )


def _list(
    session: AzureSession, subscription_id: str, resource_type: str, api_version: str
) -> Iterator[dict[str, Any]]:
    pipeline = arm_pipeline(session, COMPUTE_CLIENT, subscription_id)
    url = path("/subscriptions/{}/providers/" + resource_type, subscription_id, api_version=api_version)
    return list_objects(pipeline, session.arm_url, url)


def list_vms(session: AzureSession, subscription_id: str) -> Iterator[VirtualMachine]:
    """Every VM of the subscription, with the extensions ARM embeds."""
    return build_all(_list(session, subscription_id, VMS_API, VM_API_VERSION), virtual_machine, subscription_id)


def with_extensions(session: AzureSession, vm: VirtualMachine) -> VirtualMachine:
    """The VM with its extensions, read with one call per VM where the list did not embed them."""
    pipeline = arm_pipeline(session, COMPUTE_CLIENT, vm.subscription_id)
    url = resource_path(vm.id) + path("/extensions", api_version=VM_API_VERSION)
    problems = list(vm.unreadable)
    found = [
        extension(Reader(item, f"extensions[{i}]", problems))
        for i, item in enumerate(list_objects(pipeline, session.arm_url, url))
    ]
    return dataclasses.replace(vm, extensions=by_name(found), extensions_known=True, unreadable=tuple(problems))


def by_name(extensions: Iterable[VmExtension]) -> tuple[VmExtension, ...]:
    """Extensions in name order: ARM and Resource Graph list them in orders of their own, evidence must not."""
    return tuple(sorted(extensions, key=lambda e: (e.name.lower(), e.name)))


def list_disks(session: AzureSession, subscription_id: str) -> Iterator[Disk]:
    """Every managed disk of the subscription."""
    return build_all(_list(session, subscription_id, DISKS_API, DISK_API_VERSION), disk, subscription_id)


def list_snapshots(session: AzureSession, subscription_id: str) -> Iterator[Snapshot]:
    """Every snapshot of the subscription."""
    return build_all(_list(session, subscription_id, SNAPSHOTS_API, DISK_API_VERSION), snapshot, subscription_id)


def list_disk_encryption_sets(session: AzureSession, subscription_id: str) -> Iterator[DiskEncryptionSet]:
    """Every disk encryption set of the subscription."""
    return build_all(_list(session, subscription_id, DES_API, DISK_API_VERSION), disk_encryption_set, subscription_id)


STEPS = (
    Listing(VMS_API, "virtual_machines", list_vms),
    Listing(DISKS_API, "disks", list_disks),
    Listing(SNAPSHOTS_API, "snapshots", list_snapshots),
    Listing(DES_API, "disk_encryption_sets", list_disk_encryption_sets),
    Enrichment(EXTENSIONS_API, "virtual_machines", with_extensions, applies=lambda vm: not vm.extensions_known),
)
