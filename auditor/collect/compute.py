"""Compute collector: VMs with their extensions, managed disks, snapshots and disk encryption sets."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from azure.mgmt.compute import ComputeManagementClient

from auditor.arm_ids import name_of, resource_group_of
from auditor.collect.base import Enrichment, Listing, ref_id, text
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


def _client(session: AzureSession, subscription_id: str) -> ComputeManagementClient:
    return session.client(ComputeManagementClient, subscription_id)


def _vm_disk(disk: Any) -> VmDisk:
    return VmDisk(
        name=disk.name or "",
        lun=getattr(disk, "lun", None),
        managed_disk_id=ref_id(disk.managed_disk),
        vhd_uri=disk.vhd.uri if disk.vhd else None,
    )


def extension(ext: Any) -> VmExtension:
    """A VM extension record."""
    return VmExtension(
        name=ext.name or "",
        publisher=ext.publisher,
        extension_type=ext.properties.type if ext.properties else None,
        provisioning_state=text(ext.provisioning_state),
        type_handler_version=ext.type_handler_version,
    )


def virtual_machine(vm: Any, subscription_id: str) -> VirtualMachine:
    """A VM record; extensions are filled in by a per-VM call."""
    storage = vm.storage_profile
    image = storage.image_reference if storage else None
    os_disk = storage.os_disk if storage else None
    nics = vm.network_profile.network_interfaces if vm.network_profile else None
    return VirtualMachine(
        id=vm.id,
        name=vm.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(vm.id),
        location=vm.location or "",
        os_type=text(os_disk.os_type) if os_disk else None,
        image=ImageReference(
            publisher=image.publisher if image else None,
            offer=image.offer if image else None,
            sku=image.sku if image else None,
            version=image.version if image else None,
        ),
        os_disk=_vm_disk(os_disk) if os_disk else None,
        data_disks=tuple(_vm_disk(d) for d in storage.data_disks or ()) if storage else (),
        nic_ids=tuple(n.id for n in nics or () if n.id),
        # ARM embeds extensions in the VM's ``resources`` array; when it is absent they need a call per VM.
        extensions=tuple(extension(e) for e in vm.resources or ()),
        extensions_known=vm.resources is not None,
        vm_size=text(vm.hardware_profile.vm_size) if vm.hardware_profile else None,
    )


def disk_encryption(encryption: Any, settings_collection: Any) -> DiskEncryption:
    """Encryption at rest plus Azure Disk Encryption settings of a disk or snapshot."""
    settings = (settings_collection.encryption_settings or ()) if settings_collection else ()
    return DiskEncryption(
        encryption_type=text(encryption.type) if encryption else None,
        disk_encryption_set_id=encryption.disk_encryption_set_id if encryption else None,
        ade_enabled=settings_collection.enabled if settings_collection else None,
        ade_secret_urls=tuple(
            s.disk_encryption_key.secret_url
            for s in settings
            if s.disk_encryption_key and s.disk_encryption_key.secret_url
        ),
        ade_key_urls=tuple(
            s.key_encryption_key.key_url for s in settings if s.key_encryption_key and s.key_encryption_key.key_url
        ),
    )


def disk(d: Any, subscription_id: str) -> Disk:
    """A managed disk record."""
    return Disk(
        id=d.id,
        name=d.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(d.id),
        location=d.location or "",
        os_type=text(d.os_type),
        encryption=disk_encryption(d.encryption, d.encryption_settings_collection),
        managed_by=d.managed_by,
        disk_state=text(d.disk_state),
        size_gb=d.disk_size_gb,
    )


def snapshot(s: Any, subscription_id: str) -> Snapshot:
    """A snapshot record."""
    return Snapshot(
        id=s.id,
        name=s.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(s.id),
        location=s.location or "",
        encryption=disk_encryption(s.encryption, s.encryption_settings_collection),
        source_resource_id=s.creation_data.source_resource_id if s.creation_data else None,
        public_network_access=text(s.public_network_access),
        network_access_policy=text(s.network_access_policy),
    )


def disk_encryption_set(des: Any, subscription_id: str) -> DiskEncryptionSet:
    """A disk encryption set record."""
    key = des.active_key
    return DiskEncryptionSet(
        id=des.id,
        name=des.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(des.id),
        location=des.location or "",
        encryption_type=text(des.encryption_type),
        active_key_url=key.key_url if key else None,
        source_vault_id=ref_id(key.source_vault) if key else None,
        auto_rotation=des.rotation_to_latest_key_version_enabled,
    )


def list_vms(session: AzureSession, subscription_id: str) -> Iterator[VirtualMachine]:
    """Every VM of the subscription (without extensions)."""
    for vm in _client(session, subscription_id).virtual_machines.list_all():
        yield virtual_machine(vm, subscription_id)


def with_extensions(session: AzureSession, vm: VirtualMachine) -> VirtualMachine:
    """The VM with its extensions, read with one call per VM (the list API does not return them)."""
    result = _client(session, vm.subscription_id).virtual_machine_extensions.list(vm.resource_group, name_of(vm.id))
    return dataclasses.replace(vm, extensions=tuple(extension(e) for e in result.value or ()), extensions_known=True)


def list_disks(session: AzureSession, subscription_id: str) -> Iterator[Disk]:
    """Every managed disk of the subscription."""
    for d in _client(session, subscription_id).disks.list():
        yield disk(d, subscription_id)


def list_snapshots(session: AzureSession, subscription_id: str) -> Iterator[Snapshot]:
    """Every snapshot of the subscription."""
    for s in _client(session, subscription_id).snapshots.list():
        yield snapshot(s, subscription_id)


def list_disk_encryption_sets(session: AzureSession, subscription_id: str) -> Iterator[DiskEncryptionSet]:
    """Every disk encryption set of the subscription."""
    for des in _client(session, subscription_id).disk_encryption_sets.list():
        yield disk_encryption_set(des, subscription_id)


STEPS = (
    Listing("Microsoft.Compute/virtualMachines", "virtual_machines", list_vms),
    Listing("Microsoft.Compute/disks", "disks", list_disks),
    Listing("Microsoft.Compute/snapshots", "snapshots", list_snapshots),
    Listing("Microsoft.Compute/diskEncryptionSets", "disk_encryption_sets", list_disk_encryption_sets),
    Enrichment(
        "Microsoft.Compute/virtualMachines/extensions",
        "virtual_machines",
        with_extensions,
        applies=lambda vm: not vm.extensions_known,
    ),
)
