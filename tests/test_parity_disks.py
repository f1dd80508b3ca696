"""ENC-01 (disk_key_vault_encryption) and ENC-02's snapshots (snapshot_cmk_private) through the live door and
the IaC door: one case table per rule, the same verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import builtin_registry
from auditor.checks.disks import KeyedDisk, KeyedSnapshot
from auditor.checks.index import ById
from auditor.collect.compute import disk, disk_encryption_set, snapshot
from auditor.iac.doors import doors, judge_resource
from auditor.model import Status
from auditor.records.compute import DiskEncryptionSet
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, live_door, params

DES_ID = arm_id("Microsoft.Compute/diskEncryptionSets", "des-parity")
VAULT_ID = arm_id("Microsoft.KeyVault/vaults", "kv-parity")
SECRET_URL = "https://kv-parity.vault.azure.net/secrets/bek/0123456789abcdef"
CMK = {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": DES_ID}
PLATFORM = {"type": "EncryptionAtRestWithPlatformKey"}
ADE = {
    "enabled": True,
    "encryptionSettings": [{"diskEncryptionKey": {"secretUrl": SECRET_URL, "sourceVault": {"id": VAULT_ID}}}],
}


def the_set() -> DiskEncryptionSet:
    """The collected disk encryption set the customer-key cases name (Microsoft's DiskEncryptionSets_Get shape)."""
    raw = {
        "id": DES_ID,
        "name": "des-parity",
        "type": "Microsoft.Compute/diskEncryptionSets",
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "encryptionType": "EncryptionAtRestWithCustomerKey",
            "activeKey": {
                "sourceVault": {"id": VAULT_ID},
                "keyUrl": "https://kv-parity.vault.azure.net/keys/des-key/0123456789abcdef",
            },
            "provisioningState": "Succeeded",
        },
    }
    return disk_encryption_set(raw, SUBSCRIPTION)


# --- ENC-01: managed disks -----------------------------------------------------------------------------


def disk_json(name: str, **properties: Any) -> dict[str, Any]:
    """A disk as ARM GET returns it (shape of Microsoft's Disks_Get example)."""
    return {
        "id": arm_id("Microsoft.Compute/disks", name),
        "name": name,
        "type": "Microsoft.Compute/disks",
        "location": "eastus",
        "sku": {"name": "Premium_LRS"},
        "properties": {
            "osType": "Windows",
            "creationData": {"createOption": "Empty"},
            "diskSizeGB": 128,
            "diskState": "Unattached",
        }
        | properties,
    }


def disk_terraform(name: str, extra: str = "") -> str:
    """An azurerm_managed_disk of the same size and OS, with the case's encryption lines."""
    return (
        f'resource "azurerm_managed_disk" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  storage_account_type = "Premium_LRS"\n'
        f'  create_option = "Empty"\n  disk_size_gb = 128\n  os_type = "Windows"\n{extra}}}\n'
    )


def disk_template(name: str, **properties: Any) -> dict[str, Any]:
    """The ARM template resource of the same disk."""
    body = disk_json(name, **properties)
    return {
        "type": "Microsoft.Compute/disks",
        "apiVersion": "2024-03-02",
        "name": name,
        "location": "eastus",
        "sku": body["sku"],
        "properties": {k: v for k, v in body["properties"].items() if k != "diskState"},
    }


ADE_TERRAFORM = (
    "  encryption_settings {\n    disk_encryption_key {\n"
    f'      secret_url = "{SECRET_URL}"\n      source_vault_id = "{VAULT_ID}"\n    }}\n  }}\n'
)
DISK_CASES = (
    Case(
        "disk-parity-cmk",
        Status.PASS,
        disk_json("disk-parity-cmk", encryption=CMK),
        disk_terraform("disk-parity-cmk", f'  disk_encryption_set_id = "{DES_ID}"\n'),
        disk_template("disk-parity-cmk", encryption=CMK),
    ),
    Case(
        "disk-parity-ade",
        Status.PASS,
        disk_json("disk-parity-ade", encryption=PLATFORM, encryptionSettingsCollection=ADE),
        disk_terraform("disk-parity-ade", ADE_TERRAFORM),
        disk_template("disk-parity-ade", encryption=PLATFORM, encryptionSettingsCollection=ADE),
    ),
    Case(
        "disk-parity-platform",
        Status.FAIL,
        disk_json("disk-parity-platform", encryption=PLATFORM),
        disk_terraform("disk-parity-platform"),
        disk_template("disk-parity-platform", encryption=PLATFORM),
    ),
)


def build_disk(raw: Mapping[str, Any]) -> KeyedDisk:
    """The subject a live scan builds of the disk, with the collected set."""
    return KeyedDisk(disk(raw, SUBSCRIPTION), ById([the_set()]))


def test_disk_key_vault_encryption_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("disk_key_vault_encryption", build_disk, DISK_CASES, tmp_path)


DISK_TERRAFORM = next(d for d in doors("terraform") if d.rule == "disk_key_vault_encryption")
DISK_ARM = next(d for d in doors("arm") if d.rule == "disk_key_vault_encryption")


@pytest.mark.parametrize(
    ("door", "resource_type", "conf", "named"),
    [
        (
            DISK_TERRAFORM,
            "azurerm_managed_disk",
            {"name": ["d"], "encryption_settings": [{"enabled": ["${var.ade}"]}]},
            "enabled",
        ),
        (
            DISK_ARM,
            "Microsoft.Compute/disks",
            {"name": "d", "properties": {"encryption": {"type": "[parameters('encryptionType')]"}}},
            "properties/encryption/type",
        ),
    ],
    ids=["terraform variable", "arm parameter"],
)
def test_disk_encryption_left_to_deployment_is_an_error(
    door: Any, resource_type: str, conf: dict[str, Any], named: str
) -> None:
    verdict = judge_resource(door, resource_type, conf, params())
    assert verdict is not None
    assert verdict.status is Status.ERROR
    assert named in verdict.message


# --- ENC-02: snapshots ---------------------------------------------------------------------------------


def snapshot_json(name: str, **properties: Any) -> dict[str, Any]:
    """A snapshot as ARM GET returns it (shape of Microsoft's Snapshots_Get example)."""
    return {
        "id": arm_id("Microsoft.Compute/snapshots", name),
        "name": name,
        "type": "Microsoft.Compute/snapshots",
        "location": "eastus",
        "sku": {"name": "Standard_LRS"},
        "properties": {
            "osType": "Windows",
            "creationData": {
                "createOption": "Copy",
                "sourceResourceId": arm_id("Microsoft.Compute/disks", "disk-parity-source"),
            },
            "diskSizeGB": 128,
            "incremental": False,
        }
        | properties,
    }


def snapshot_terraform(name: str, extra: str = "") -> str:
    """An azurerm_snapshot copying the same source, with the case's lines."""
    source = arm_id("Microsoft.Compute/disks", "disk-parity-source")
    return (
        f'resource "azurerm_snapshot" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  create_option = "Copy"\n  source_uri = "{source}"\n{extra}}}\n'
    )


def snapshot_template(name: str, **properties: Any) -> dict[str, Any]:
    """The ARM template resource of the same snapshot."""
    body = snapshot_json(name, **properties)
    return {
        "type": "Microsoft.Compute/snapshots",
        "apiVersion": "2024-03-02",
        "name": name,
        "location": "eastus",
        "sku": body["sku"],
        "properties": body["properties"],
    }


PRIVATE = {"networkAccessPolicy": "DenyAll", "publicNetworkAccess": "Disabled"}
PUBLIC = {"networkAccessPolicy": "AllowAll", "publicNetworkAccess": "Enabled"}
PRIVATE_TERRAFORM = '  network_access_policy = "DenyAll"\n  public_network_access_enabled = false\n'
# Cases every language can state: azurerm_snapshot names no disk encryption set, so the customer-key case is
# judged below through the ARM door alone.
SNAPSHOT_CASES = (
    Case(
        "snap-parity-ade",
        Status.PASS,
        snapshot_json("snap-parity-ade", encryptionSettingsCollection=ADE, **PRIVATE),
        snapshot_terraform("snap-parity-ade", ADE_TERRAFORM + PRIVATE_TERRAFORM),
        snapshot_template("snap-parity-ade", encryptionSettingsCollection=ADE, **PRIVATE),
    ),
    Case(
        "snap-parity-exportable",
        Status.FAIL,
        snapshot_json("snap-parity-exportable", encryptionSettingsCollection=ADE, **PUBLIC),
        snapshot_terraform("snap-parity-exportable", ADE_TERRAFORM),
        snapshot_template("snap-parity-exportable", encryptionSettingsCollection=ADE, **PUBLIC),
    ),
    Case(
        "snap-parity-unknown-key-public",
        Status.FAIL,
        snapshot_json("snap-parity-unknown-key-public", **PUBLIC),
        snapshot_terraform("snap-parity-unknown-key-public"),
        snapshot_template("snap-parity-unknown-key-public", **PUBLIC),
    ),
    Case(
        "snap-parity-unknown-key",
        Status.ERROR,
        snapshot_json("snap-parity-unknown-key", **PRIVATE),
        snapshot_terraform("snap-parity-unknown-key", PRIVATE_TERRAFORM),
        snapshot_template("snap-parity-unknown-key", **PRIVATE),
    ),
)


def build_snapshot(raw: Mapping[str, Any]) -> KeyedSnapshot:
    """The subject a live scan builds of the snapshot, with the collected set."""
    return KeyedSnapshot(snapshot(raw, SUBSCRIPTION), ById([the_set()]))


def test_snapshot_cmk_private_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("snapshot_cmk_private", build_snapshot, SNAPSHOT_CASES, tmp_path)


SNAPSHOT_ARM = next(d for d in doors("arm") if d.rule == "snapshot_cmk_private")


@pytest.mark.parametrize(
    ("properties", "expected"),
    [({"encryption": CMK, **PRIVATE}, Status.PASS), ({"encryption": CMK, **PUBLIC}, Status.FAIL)],
    ids=["customer key, private", "customer key, exportable"],
)
def test_customer_key_snapshot_is_judged_alike_live_and_in_a_template(
    properties: dict[str, Any], expected: Status
) -> None:
    name = "snap-parity-cmk"
    live = live_door(
        builtin_registry()["snapshot_cmk_private"],
        build_snapshot,
        Case(name, expected, snapshot_json(name, **properties), "", None),
    )
    code = judge_resource(SNAPSHOT_ARM, "Microsoft.Compute/snapshots", snapshot_template(name, **properties), params())
    assert code is not None
    assert (live.status, code.status) == (expected, expected)
    assert code.message == live.message
