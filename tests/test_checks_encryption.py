"""ENC-01 (disks protected by Key Vault keys) and KV-01 (vault protection)."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.encryption import disk_key_vault_encryption
from auditor.checks.key_vault import key_vault_protection
from auditor.model import CheckResult, Status
from auditor.parameters import Params
from auditor.records.storage import StorageAccount
from tests.builders import SUB, make_des, make_disk, make_inventory, make_vault, make_vm, results, rid

NO_PARAMS = Params({})
CMK = "EncryptionAtRestWithCustomerKey"


def disk_verdict(
    disk_settings: dict[str, Any], *, des_key: str | None = "https://kv/keys/k/1", with_des: bool = True
) -> CheckResult:
    des = make_des(key_url=des_key)
    settings = dict(disk_settings)
    if settings.pop("use_des", False):
        settings["disk_encryption_set_id"] = des.id
    inventory = make_inventory(disks=[make_disk(**settings)], disk_encryption_sets=[des] if with_des else [])
    (result,) = disk_key_vault_encryption(inventory, NO_PARAMS)
    return result


def test_customer_key_through_a_des_passes_with_the_key_as_evidence() -> None:
    result = disk_verdict({"encryption_type": CMK, "use_des": True})
    assert result.status is Status.PASS
    assert result.evidence["key_url"] == "https://kv/keys/k/1"


def test_ade_with_a_vault_secret_passes_and_names_bitlocker_on_windows() -> None:
    result = disk_verdict({"ade_enabled": True, "ade_secret_urls": ("https://kv.vault.azure.net/secrets/s/1",)})
    assert result.status is Status.PASS
    assert "BitLocker" in result.message


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
    result = disk_verdict({"encryption_type": CMK, "use_des": True}, with_des=False)
    assert result.status is Status.ERROR
    assert "not collected" in result.message


def test_disk_with_no_encryption_reported_is_an_error() -> None:
    assert disk_verdict({"encryption_type": None}).status is Status.ERROR


def test_unmanaged_vhd_cannot_be_shown_encrypted() -> None:
    inventory = make_inventory(virtual_machines=[make_vm(vhd_uri="https://sa.blob.core.windows.net/vhds/os.vhd")])
    (result,) = disk_key_vault_encryption(inventory, NO_PARAMS)
    assert result.status is Status.ERROR
    assert result.evidence["vhds"] == ["https://sa.blob.core.windows.net/vhds/os.vhd"]


def test_vm_with_managed_disks_yields_nothing_of_its_own() -> None:
    assert list(disk_key_vault_encryption(make_inventory(virtual_machines=[make_vm()]), NO_PARAMS)) == []


KV_PARAMS = Params({"min_soft_delete_days": 90})


def vault_verdict(**settings: Any) -> CheckResult:
    (result,) = results(key_vault_protection, make_inventory(key_vaults=[make_vault(**settings)]), KV_PARAMS)
    return result


def test_fully_protected_vault_passes() -> None:
    assert vault_verdict().status is Status.PASS


def test_public_access_enabled_but_firewall_deny_passes() -> None:
    assert vault_verdict(public_network_access="Enabled", network_default_action="Deny").status is Status.PASS


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"purge_protection_enabled": None}, "purge protection not enabled"),
        ({"purge_protection_enabled": False}, "purge protection disabled"),
        ({"soft_delete_enabled": None}, "soft delete not reported"),
        ({"soft_delete_enabled": False}, "soft delete disabled"),
        ({"soft_delete_retention_days": 7}, "retention 7 days < 90"),
        ({"soft_delete_retention_days": None}, "retention not reported"),
        ({"public_network_access": "Enabled", "network_default_action": "Allow"}, "reachable from public networks"),
        ({"public_network_access": None, "network_default_action": None}, "reachable from public networks"),
        ({"rbac_authorization_enabled": False}, "access policies"),
        ({"rbac_authorization_enabled": None}, "access policies"),
    ],
)
def test_each_shortfall_fails_and_is_named(settings: dict[str, Any], reason: str) -> None:
    result = vault_verdict(**settings)
    assert result.status is Status.FAIL
    assert reason in result.message


def test_retention_threshold_comes_from_the_parameter() -> None:
    vault = make_vault(soft_delete_retention_days=30)
    assert key_vault_protection(vault, KV_PARAMS).status is Status.FAIL
    assert key_vault_protection(vault, Params({"min_soft_delete_days": 30})).status is Status.PASS


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


@pytest.mark.parametrize(
    ("key_source", "expected"),
    [("Microsoft.Keyvault", Status.PASS), ("Microsoft.Storage", Status.FAIL), (None, Status.FAIL)],
)
def test_unmanaged_vhd_is_judged_by_its_storage_account(key_source: str | None, expected: Status) -> None:
    inventory = make_inventory(
        virtual_machines=[make_vm(vhd_uri="https://legacyvhds.blob.core.windows.net/vhds/os.vhd")],
        storage_accounts=[make_account("legacyvhds", key_source)],
    )
    (result,) = disk_key_vault_encryption(inventory, NO_PARAMS)
    assert result.status is expected
    assert result.evidence["storage_accounts"] == ["legacyvhds"]


def test_disk_naming_a_set_without_a_type_takes_the_set_type() -> None:
    result = disk_verdict({"encryption_type": None, "use_des": True})
    assert result.status is Status.PASS
