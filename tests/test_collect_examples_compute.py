"""Microsoft's compute examples (DiskRP 2025-01-02, ComputeRP 2024-11-01) through the real clients.

Each disk encryption mode Azure offers gets the ENC-01 verdict its documented semantics imply: Azure Disk
Encryption with the secret in Key Vault passes, a customer key through a disk encryption set passes,
double encryption (platform and customer keys) passes, confidential disk encryption with a customer key
passes, platform keys alone fail, and a disk whose answer carries no encryption settings is an error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from auditor.collect import compute, keyvault, storage
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_integration import judge

DISKS = "compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/examples/diskExamples/"
SETS = "compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/examples/diskEncryptionSetExamples/"
VMS = "compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-11-01/examples/virtualMachineExamples/"
SET_NAME = "myDiskEncryptionSet"


def rehome(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """An example re-homed into the test subscription, with its placeholder set names made concrete.

    Create answers leave out ``type``; the estate needs it to serve the resource in its list.
    """
    text = re.sub(r"/subscriptions/[^/\"]+/", f"/subscriptions/{e.SUB}/", json.dumps(body), flags=re.IGNORECASE)
    text = text.replace("{diskEncryptionSetName}", SET_NAME).replace("{existing-diskEncryptionSet-name}", SET_NAME)
    found: dict[str, Any] = json.loads(text)
    return {"type": kind} | found


def encryption_sets() -> list[dict[str, Any]]:
    """The two sets of Microsoft's list example, with customer keys in Key Vault."""
    return [
        rehome(s, compute.DES_API) for s in example_body(SETS + "DiskEncryptionSet_ListBySubscription.json")["value"]
    ]


def disk(name: str) -> dict[str, Any]:
    """One of Microsoft's disk examples, re-homed."""
    return rehome(example_body(DISKS + name), compute.DISKS_API)


def scan(*resources: dict[str, Any]) -> Inventory:
    """Collect compute, key vault and storage from an estate of these resources."""
    with serve(e.estate(*resources)) as (_, session):
        return collect_inventory(session, steps=compute.STEPS + keyvault.STEPS + storage.STEPS)


def verdict(inventory: Inventory) -> tuple[Status, str]:
    """The ENC-01 disk verdict of the one disk."""
    (finding,) = [
        f for f in judge(inventory).findings if f.check_id == "disk_key_vault_encryption" and "/disks/" in f.resource_id
    ]
    return finding.status, finding.message


def test_the_examples_are_collected_without_unreadable_fields() -> None:
    names = [
        "Disk_Get.json",
        "Disk_Create_WithDiskEncryptionSet.json",
        "Disk_Create_ConfidentialVMSupportedDiskEncryptedWithCMK.json",
        "Disk_Create_FromAPlatformImage.json",
    ]
    disks = []
    for index, name in enumerate(names):
        # The examples share one disk id; each gets its own here.
        found = disk(name)
        found["id"] = found["id"].rsplit("/", 1)[0] + f"/disk{index}"
        disks.append(found)
    inventory = scan(*encryption_sets(), *disks)
    assert not [c for c in inventory.collections if not c.ok]
    assert len(inventory.disks) == 4 and len(inventory.disk_encryption_sets) == 2
    assert all(d.unreadable == () for d in inventory.disks)


def test_azure_disk_encryption_with_a_vault_secret_passes() -> None:
    status, message = verdict(scan(disk("Disk_Get.json")))
    # A Windows disk: Azure Disk Encryption is BitLocker there.
    assert status is Status.PASS
    assert "BitLocker" in message and "Key Vault" in message


def test_a_customer_key_through_a_disk_encryption_set_passes() -> None:
    # The answer names the set but no type: Azure applies the set's own type, a customer key.
    inventory = scan(*encryption_sets(), disk("Disk_Create_WithDiskEncryptionSet.json"))
    (collected,) = inventory.disks
    assert collected.encryption.encryption_type is None
    assert collected.encryption.disk_encryption_set_id is not None
    status, message = verdict(inventory)
    assert status is Status.PASS and "customer-managed key" in message


def test_double_encryption_with_platform_and_customer_keys_passes() -> None:
    double = disk("Disk_Create_WithDiskEncryptionSet.json")
    double["properties"]["encryption"]["type"] = "EncryptionAtRestWithPlatformAndCustomerKeys"
    sets = encryption_sets()
    for s in sets:
        s["properties"]["encryptionType"] = "EncryptionAtRestWithPlatformAndCustomerKeys"
    status, _ = verdict(scan(*sets, double))
    assert status is Status.PASS


def test_confidential_disk_encryption_with_a_customer_key_passes() -> None:
    inventory = scan(*encryption_sets(), disk("Disk_Create_ConfidentialVMSupportedDiskEncryptedWithCMK.json"))
    (collected,) = inventory.disks
    assert collected.encryption.confidential_type == "ConfidentialVM_DiskEncryptedWithCustomerKey"
    status, message = verdict(inventory)
    assert status is Status.PASS and "Confidential disk encryption" in message


def test_confidential_disk_encryption_whose_set_was_not_collected_is_an_error() -> None:
    status, message = verdict(scan(disk("Disk_Create_ConfidentialVMSupportedDiskEncryptedWithCMK.json")))
    assert status is Status.ERROR and "was not collected" in message


def test_platform_keys_alone_fail() -> None:
    pmk = disk("Disk_Get.json")
    del pmk["properties"]["encryptionSettingsCollection"]
    status, message = verdict(scan(pmk))
    assert status is Status.FAIL and "platform-managed key only" in message


def test_a_disk_answer_without_encryption_settings_is_an_error() -> None:
    status, _ = verdict(scan(disk("Disk_Create_FromAPlatformImage.json")))
    assert status is Status.ERROR


def test_encryption_at_host_is_recorded_from_the_vm_example() -> None:
    vm = rehome(example_body(VMS + "VirtualMachine_Create_WithEncryptionAtHost.json"), compute.VMS_API)
    inventory = scan(vm)
    (collected,) = inventory.virtual_machines
    assert collected.encryption_at_host is True
    assert collected.os_type == "Windows" and collected.vm_size == "Standard_DS1_v2"
    # A VM still being created has a managed OS disk without an id yet: that one field is unreadable.
    assert [p.field for p in collected.unreadable] == ["properties.storageProfile.osDisk.managedDisk.id"]
    # The example has no ``resources``, so the extensions were read with the VM's own call.
    assert collected.extensions_known is True
