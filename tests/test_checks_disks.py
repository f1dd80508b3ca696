"""ENC-01 (disks and unmanaged VHDs protected by Key Vault keys) and ENC-02's snapshots."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from auditor.checks.disks import (
    KeyedDisk,
    KeyedSnapshot,
    UnmanagedDisks,
    disk_key_vault_encryption,
    disks_and_vhds,
    snapshot_cmk_private,
)
from auditor.checks.index import ById
from auditor.model import Status, Verdict
from auditor.parameters import Params
from auditor.records.compute import DiskEncryption, DiskEncryptionSet, Snapshot
from auditor.records.storage import StorageAccount
from auditor.records.unreadable import Unreadable
from tests.builders import SUB, make_des, make_disk, make_inventory, make_vm, results, rid

NO_PARAMS = Params({})
CMK = "EncryptionAtRestWithCustomerKey"


def sets(*found: DiskEncryptionSet) -> ById[DiskEncryptionSet]:
    """The collected disk encryption sets."""
    return ById(found)


def disk_verdict(
    disk_settings: dict[str, Any], *, des_key: str | None = "https://kv/keys/k/1", with_des: bool = True
) -> Verdict:
    des = make_des(key_url=des_key)
    settings = dict(disk_settings)
    if settings.pop("use_des", False):
        settings["disk_encryption_set_id"] = des.id
    return disk_key_vault_encryption(KeyedDisk(make_disk(**settings), sets(des) if with_des else sets()), NO_PARAMS)


def test_customer_key_through_a_des_passes_with_the_key_as_evidence() -> None:
    verdict = disk_verdict({"encryption_type": CMK, "use_des": True})
    assert verdict.status is Status.PASS
    assert verdict.message == "Encrypted with a customer-managed key in Key Vault through disk encryption set des"
    assert verdict.evidence["key_url"] == "https://kv/keys/k/1"


def test_ade_with_a_vault_secret_passes_and_names_bitlocker_on_windows() -> None:
    verdict = disk_verdict({"ade_enabled": True, "ade_secret_urls": ("https://kv.vault.azure.net/secrets/s/1",)})
    assert verdict.status is Status.PASS
    assert "BitLocker" in verdict.message


@pytest.mark.parametrize(
    "settings",
    [
        {"encryption_type": "EncryptionAtRestWithPlatformKey"},
        {"encryption_type": "EncryptionAtRestWithPlatformKey", "ade_enabled": False},
        {"encryption_type": "EncryptionAtRestWithPlatformKey", "ade_enabled": True},
    ],
    ids=["platform key", "platform key, ADE off", "ADE flagged without a secret"],
)
def test_platform_key_alone_fails(settings: dict[str, Any]) -> None:
    assert disk_verdict(settings).status is Status.FAIL


def test_des_without_active_key_fails() -> None:
    assert disk_verdict({"encryption_type": CMK, "use_des": True}, des_key=None).status is Status.FAIL


def test_des_that_was_not_collected_is_an_error() -> None:
    verdict = disk_verdict({"encryption_type": CMK, "use_des": True}, with_des=False)
    assert verdict.status is Status.ERROR
    assert "not collected" in verdict.message


def test_disk_with_no_encryption_reported_is_an_error() -> None:
    assert disk_verdict({"encryption_type": None}).status is Status.ERROR


def test_disk_naming_a_set_without_a_type_takes_the_set_type() -> None:
    assert disk_verdict({"encryption_type": None, "use_des": True}).status is Status.PASS


def test_confidential_disk_with_a_collected_set_passes_and_without_one_errors() -> None:
    des = make_des()
    disk = make_disk(
        encryption_type=None, confidential_type="ConfidentialVM_DiskEncryptedWithCustomerKey", secure_vm_des_id=des.id
    )
    assert disk_key_vault_encryption(KeyedDisk(disk, sets(des)), NO_PARAMS).status is Status.PASS
    missing = disk_key_vault_encryption(KeyedDisk(disk, sets()), NO_PARAMS)
    assert missing.status is Status.ERROR
    assert "was not collected" in missing.message


def make_account(name: str, key_source: str | None) -> StorageAccount:
    """A storage account with the given key source."""
    return StorageAccount(
        rid("Microsoft.Storage/storageAccounts", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        "Standard_GRS",
        "StorageV2",
        False,
        "Disabled",
        "Deny",
        True,
        "TLS1_2",
        key_source,
    )


def test_unmanaged_vhd_whose_account_was_not_collected_cannot_be_shown_encrypted() -> None:
    vm = make_vm(vhd_uri="https://sa.blob.core.windows.net/vhds/os.vhd")
    verdict = disk_key_vault_encryption(
        UnmanagedDisks(vm, ("https://sa.blob.core.windows.net/vhds/os.vhd",), {}), NO_PARAMS
    )
    assert verdict.status is Status.ERROR
    assert verdict.evidence["vhds"] == ["https://sa.blob.core.windows.net/vhds/os.vhd"]


@pytest.mark.parametrize(
    ("key_source", "expected"),
    [("Microsoft.Keyvault", Status.PASS), ("Microsoft.Storage", Status.FAIL), (None, Status.FAIL)],
)
def test_unmanaged_vhd_is_judged_by_its_storage_account(key_source: str | None, expected: Status) -> None:
    uri = "https://legacyvhds.blob.core.windows.net/vhds/os.vhd"
    accounts = {"legacyvhds": make_account("legacyvhds", key_source)}
    verdict = disk_key_vault_encryption(UnmanagedDisks(make_vm(vhd_uri=uri), (uri,), accounts), NO_PARAMS)
    assert verdict.status is expected
    assert verdict.evidence["storage_accounts"] == ["legacyvhds"]


def test_subjects_are_every_disk_and_every_vm_with_unmanaged_vhds() -> None:
    inventory = make_inventory(
        disks=[make_disk("d1"), make_disk("d2")],
        virtual_machines=[make_vm("managed"), make_vm("legacy", vhd_uri="https://sa.blob.core.windows.net/v/os.vhd")],
    )
    subjects = list(disks_and_vhds(inventory))
    assert [s.id.rsplit("/", 1)[-1] for s in subjects] == ["d1", "d2", "legacy"]
    found = results(disk_key_vault_encryption, inventory, NO_PARAMS)
    assert [r.status for r in found] == [Status.FAIL, Status.FAIL, Status.ERROR]
    assert found[2].resource_type == "Microsoft.Compute/virtualMachines"


def test_disk_with_unreadable_fields_shows_them_to_the_iac_door() -> None:
    problem = Unreadable("properties.encryption.type", "7")
    disk = dataclasses.replace(make_disk(), unreadable=(problem,))
    assert KeyedDisk(disk, sets()).unreadable == (problem,)


# --- ENC-02: snapshots ----------------------------------------------------------------------------------


def make_snapshot(**settings: Any) -> Snapshot:
    """A snapshot with a customer key through a DES and no public export unless settings say otherwise."""
    encryption: dict[str, Any] = {"encryption_type": CMK, "disk_encryption_set_id": make_des().id}
    encryption |= {
        k: settings.pop(k) for k in list(settings) if k in {f.name for f in dataclasses.fields(DiskEncryption)}
    }
    values: dict[str, Any] = {"public_network_access": "Disabled", "network_access_policy": "DenyAll"} | settings
    return Snapshot(
        rid("Microsoft.Compute/snapshots", "snap"),
        "snap",
        SUB,
        "rg-test",
        "eastus",
        DiskEncryption(**encryption),
        rid("Microsoft.Compute/disks", "disk"),
        **values,
    )


def snapshot_verdict(snapshot: Snapshot, *found: DiskEncryptionSet) -> Verdict:
    return snapshot_cmk_private(KeyedSnapshot(snapshot, sets(*found)), NO_PARAMS)


@pytest.mark.parametrize(
    ("settings", "expected", "says"),
    [
        ({}, Status.PASS, "a customer-managed key through disk encryption set des; no public network export"),
        ({"public_network_access": "Enabled", "network_access_policy": "AllowPrivate"}, Status.PASS, "no public"),
        ({"public_network_access": "Disabled", "network_access_policy": "AllowAll"}, Status.PASS, "no public"),
        ({"encryption_type": "EncryptionAtRestWithPlatformAndCustomerKeys"}, Status.PASS, "customer-managed"),
        (
            {
                "encryption_type": "EncryptionAtRestWithPlatformKey",
                "disk_encryption_set_id": None,
                "ade_enabled": True,
                "ade_secret_urls": ("https://kv.vault.azure.net/secrets/bek/1",),
            },
            Status.PASS,
            "Azure Disk Encryption",
        ),
        (
            {"encryption_type": "EncryptionAtRestWithPlatformKey", "disk_encryption_set_id": None},
            Status.FAIL,
            "EncryptionAtRestWithPlatformKey, not a customer-managed key",
        ),
        ({"disk_encryption_set_id": None}, Status.FAIL, "names no disk encryption set"),
        (
            {"public_network_access": "Enabled", "network_access_policy": "AllowAll"},
            Status.FAIL,
            "exportable: public network access Enabled and network access policy AllowAll",
        ),
        (
            {"public_network_access": None, "network_access_policy": None},
            Status.FAIL,
            "public network access not reported and network access policy not reported",
        ),
        ({"encryption_type": None, "disk_encryption_set_id": None}, Status.ERROR, "encryption type not reported"),
        (
            {
                "encryption_type": None,
                "disk_encryption_set_id": None,
                "network_access_policy": "AllowAll",
                "public_network_access": "Enabled",
            },
            Status.FAIL,
            "encryption type not reported; exportable",
        ),
    ],
    ids=[
        "CMK, DenyAll",
        "CMK, AllowPrivate",
        "CMK, public access disabled",
        "double encryption",
        "ADE with a vault secret",
        "platform key",
        "CMK without a DES",
        "public export",
        "network settings not reported",
        "encryption not reported",
        "encryption not reported but public",
    ],
)
def test_snapshot_cmk_private(settings: dict[str, Any], expected: Status, says: str) -> None:
    snapshot = make_snapshot(**settings)
    verdict = snapshot_verdict(snapshot, make_des())
    assert verdict.status is expected
    assert says in verdict.message
    assert verdict.evidence["network_access_policy"] == snapshot.network_access_policy
    assert verdict.evidence["encryption_type"] == snapshot.encryption.encryption_type


def test_snapshot_des_without_key_fails() -> None:
    verdict = snapshot_verdict(make_snapshot(), make_des(key_url=None))
    assert verdict.status is Status.FAIL
    assert "no active Key Vault key" in verdict.message


def test_snapshot_des_not_collected_is_an_error() -> None:
    verdict = snapshot_verdict(make_snapshot())
    assert verdict.status is Status.ERROR
    assert "was not collected" in verdict.message


def test_every_snapshot_is_judged_with_the_collected_sets() -> None:
    inventory = make_inventory(snapshots=[make_snapshot()], disk_encryption_sets=[make_des()])
    (result,) = results(snapshot_cmk_private, inventory, NO_PARAMS)
    assert result.status is Status.PASS
    assert result.evidence["key_url"] == "https://kv.vault.azure.net/keys/disk/1"
