"""ENC-02 (snapshots, vaults) and ENC-03 (storage)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.checks.data_protection import (
    recovery_vault_cmk_private,
    snapshot_cmk_private,
    storage_account_private_https,
)
from auditor.inventory import Inventory
from auditor.model import CheckResult, Status
from auditor.parameters import Params
from auditor.records.backup import RecoveryVault
from auditor.records.compute import DiskEncryption, Snapshot
from auditor.records.sql import AutomatedBackup, SqlVirtualMachine
from auditor.records.storage import StorageAccount
from tests.builders import SUB, CheckFunction, make_des, make_inventory, results, rid

# --- builders -----------------------------------------------------------------------------------------

CMK = "EncryptionAtRestWithCustomerKey"


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


def make_recovery_vault(**settings: Any) -> RecoveryVault:
    """A Recovery Services vault with a customer key and public access disabled unless settings say otherwise."""
    values: dict[str, Any] = {
        "public_network_access": "Disabled",
        "cmk_key_uri": "https://kv.vault.azure.net/keys/rsv/1",
        "infrastructure_encryption": "Enabled",
        "storage_redundancy": "GeoRedundant",
        "cross_region_restore": True,
    } | settings
    return RecoveryVault(rid("Microsoft.RecoveryServices/vaults", "rsv"), "rsv", SUB, "rg-test", "eastus", **values)


def make_account(name: str = "stbackup", **settings: Any) -> StorageAccount:
    """A storage account that passes ENC-03 unless settings say otherwise."""
    values: dict[str, Any] = {
        "sku": "Standard_RAGRS",
        "kind": "StorageV2",
        "allow_blob_public_access": False,
        "public_network_access": "Disabled",
        "network_default_action": "Deny",
        "https_only": True,
        "minimum_tls_version": "TLS1_2",
        "key_source": "Microsoft.Keyvault",
        "key_vault_uri": "https://kv.vault.azure.net/",
        "key_name": "storage-cmk",
    } | settings
    return StorageAccount(rid("Microsoft.Storage/storageAccounts", name), name, SUB, "rg-test", "eastus", **values)


def only(check: CheckFunction, params: Params, **records: Any) -> CheckResult:
    """The one result a check gives over an inventory of the given records."""
    (result,) = results(check, make_inventory(**records), params)
    return result


# --- ENC-02 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected", "says"),
    [
        ({}, Status.PASS, "customer-managed key https://kv.vault.azure.net/keys/disk/1"),
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
    result = only(snapshot_cmk_private, Params({}), snapshots=[snapshot], disk_encryption_sets=[make_des()])
    assert result.status is expected
    assert says in result.message
    assert result.evidence["network_access_policy"] == snapshot.network_access_policy
    assert result.evidence["encryption_type"] == snapshot.encryption.encryption_type


def test_snapshot_des_without_key_fails() -> None:
    result = only(
        snapshot_cmk_private, Params({}), snapshots=[make_snapshot()], disk_encryption_sets=[make_des(key_url=None)]
    )
    assert result.status is Status.FAIL
    assert "no active Key Vault key" in result.message


def test_snapshot_des_not_collected_is_an_error() -> None:
    result = only(snapshot_cmk_private, Params({}), snapshots=[make_snapshot()])
    assert result.status is Status.ERROR
    assert "was not collected" in result.message


@pytest.mark.parametrize(
    ("settings", "expected", "says"),
    [
        ({}, Status.PASS, "customer-managed key https://kv.vault.azure.net/keys/rsv/1"),
        ({"cmk_key_uri": None}, Status.FAIL, "no customer-managed key (encryption.keyVaultProperties.keyUri not set)"),
        ({"public_network_access": "Enabled"}, Status.FAIL, "public network access Enabled"),
        ({"public_network_access": None}, Status.FAIL, "publicNetworkAccess not reported"),
        (
            {"cmk_key_uri": None, "public_network_access": "Enabled"},
            Status.FAIL,
            "keyUri not set); public network access Enabled",
        ),
    ],
    ids=["CMK and private", "platform key", "public", "access not reported", "both"],
)
def test_recovery_vault_cmk_private(settings: dict[str, Any], expected: Status, says: str) -> None:
    vault = make_recovery_vault(**settings)
    result = only(recovery_vault_cmk_private, Params({}), recovery_vaults=[vault])
    assert result.status is expected
    assert says in result.message
    assert result.evidence == {
        "cmk_key_uri": vault.cmk_key_uri,
        "infrastructure_encryption": "Enabled",
        "public_network_access": vault.public_network_access,
    }


# --- ENC-03 ---------------------------------------------------------------------------------------------

ALL_ACCOUNTS = Params({"backup_storage_accounts": ()})


@pytest.mark.parametrize(
    ("settings", "expected", "says"),
    [
        ({}, Status.PASS, "Key Vault key storage-cmk"),
        ({"public_network_access": "Enabled", "network_default_action": "Deny"}, Status.PASS, "Private"),
        ({"public_network_access": "Disabled", "network_default_action": "Allow"}, Status.PASS, "Private"),
        ({"minimum_tls_version": "TLS1_3"}, Status.PASS, "TLS 1.2 or later"),
        ({"key_source": "microsoft.keyvault"}, Status.PASS, "Key Vault key"),
        ({"allow_blob_public_access": True}, Status.FAIL, "blob public access allowed"),
        ({"allow_blob_public_access": None}, Status.FAIL, "allowBlobPublicAccess not reported"),
        (
            {"public_network_access": "Enabled", "network_default_action": "Allow"},
            Status.FAIL,
            "reachable from public networks (publicNetworkAccess Enabled, networkAcls.defaultAction Allow)",
        ),
        (
            {"public_network_access": None, "network_default_action": None},
            Status.FAIL,
            "publicNetworkAccess not reported, networkAcls.defaultAction not reported",
        ),
        ({"https_only": False}, Status.FAIL, "HTTP allowed (supportsHttpsTrafficOnly false)"),
        ({"https_only": None}, Status.FAIL, "supportsHttpsTrafficOnly not reported"),
        ({"minimum_tls_version": "TLS1_0"}, Status.FAIL, "minimum TLS version TLS1_0, below TLS1_2"),
        ({"minimum_tls_version": "TLS1_1"}, Status.FAIL, "TLS1_1, below TLS1_2"),
        ({"minimum_tls_version": None}, Status.FAIL, "minimumTlsVersion not reported"),
        ({"minimum_tls_version": "SSL3"}, Status.FAIL, "minimumTlsVersion SSL3 not recognised"),
        ({"key_source": "Microsoft.Storage"}, Status.FAIL, "key source Microsoft.Storage, not Key Vault"),
        ({"key_source": None}, Status.FAIL, "encryption.keySource not reported"),
    ],
    ids=[
        "private CMK",
        "public endpoint behind a Deny firewall",
        "public access disabled",
        "TLS 1.3",
        "key source case",
        "blob public access",
        "blob public access not reported",
        "public",
        "network not reported",
        "HTTP",
        "HTTPS not reported",
        "TLS 1.0",
        "TLS 1.1",
        "TLS not reported",
        "TLS unknown",
        "platform key",
        "key source not reported",
    ],
)
def test_storage_account_private_https(settings: dict[str, Any], expected: Status, says: str) -> None:
    account = make_account(**settings)
    result = only(storage_account_private_https, ALL_ACCOUNTS, storage_accounts=[account])
    assert result.status is expected
    assert says in result.message
    assert result.evidence["minimumTlsVersion"] == account.minimum_tls_version
    assert result.evidence["backup_account"] is True


def test_every_shortfall_is_named() -> None:
    account = make_account(
        allow_blob_public_access=True,
        network_default_action="Allow",
        public_network_access="Enabled",
        https_only=False,
        minimum_tls_version="TLS1_0",
        key_source="Microsoft.Storage",
    )
    result = only(storage_account_private_https, ALL_ACCOUNTS, storage_accounts=[account])
    assert result.message.count(";") == 4


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ((), Status.FAIL),
        (("stbackup",), Status.PASS),
        (("STDIAG",), Status.FAIL),
        (("stdiag", "stbackup"), Status.FAIL),
    ],
    ids=["empty list means every account", "listed elsewhere", "listed, case-insensitive", "listed among others"],
)
def test_key_source_counts_for_backup_accounts_only(listed: tuple[str, ...], expected: Status) -> None:
    account = make_account("stdiag", key_source="Microsoft.Storage")
    result = only(
        storage_account_private_https, Params({"backup_storage_accounts": listed}), storage_accounts=[account]
    )
    assert result.status is expected
    assert result.evidence["backup_account"] is (expected is Status.FAIL)


@pytest.mark.parametrize(("enabled", "expected"), [(True, Status.FAIL), (False, Status.PASS)], ids=["on", "off"])
def test_automated_backup_target_is_a_backup_account_whatever_the_list_says(enabled: bool, expected: Status) -> None:
    account = make_account("stsqlbackup", key_source="Microsoft.Storage")
    machine = SqlVirtualMachine(
        rid("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "sqlvm-01"),
        "sqlvm-01",
        SUB,
        "rg-test",
        "eastus",
        rid("Microsoft.Compute/virtualMachines", "sqlvm-01"),
        "SQL2014SP3-WS2012R2",
        "Enterprise",
        auto_backup=AutomatedBackup(enabled=enabled, storage_account_url="https://stsqlbackup.blob.core.windows.net/"),
    )
    result = only(
        storage_account_private_https,
        Params({"backup_storage_accounts": ("stother",)}),
        storage_accounts=[account],
        sql_virtual_machines=[machine],
    )
    assert result.status is expected
    assert result.evidence["automated_backup_of"] == (["sqlvm-01"] if enabled else [])


# --- the demo estate ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_inventory: Inventory) -> Inventory:
    """The demo estate collected through the local endpoint, judged at its pinned moment."""
    return demo_inventory


def verdicts(check: CheckFunction, inventory: Inventory, params: Params) -> dict[Status, set[str]]:
    """Resource names by status."""
    found: dict[Status, set[str]] = {}
    for result in results(check, inventory, params):
        found.setdefault(result.status, set()).add(result.resource_id.rsplit("/", 1)[-1])
    return found


def baseline_params(**overrides: str) -> Params:
    """The shipped baseline's parameter defaults with overrides."""
    return load_baseline(default_baseline_path(), builtin_registry()).resolve_params(overrides)


DEMO_EXPECTED: dict[str, tuple[CheckFunction, dict[str, str], dict[Status, set[str]]]] = {
    "ENC-02 snapshots": (
        snapshot_cmk_private,
        {},
        {Status.PASS: {"snap-sqlvm-mul2-01-osdisk-20261120"}, Status.FAIL: {"snap-vm-mul2-stg-web01-data-20261015"}},
    ),
    "ENC-02 vaults": (recovery_vault_cmk_private, {}, {Status.PASS: {"rsv-mul2-prod"}, Status.FAIL: {"rsv-mul2-stg"}}),
    "ENC-03 all accounts": (
        storage_account_private_https,
        {"backup_storage_accounts": ""},
        {Status.PASS: {"stmul2prodbackup"}, Status.FAIL: {"stmul2stgbackup", "stmul2proddiag"}},
    ),
    "ENC-03 backup accounts listed": (
        storage_account_private_https,
        {"backup_storage_accounts": "stmul2prodbackup,stmul2stgbackup"},
        {Status.PASS: {"stmul2prodbackup", "stmul2proddiag"}, Status.FAIL: {"stmul2stgbackup"}},
    ),
}


@pytest.mark.parametrize("case", list(DEMO_EXPECTED))
def test_demo_estate(demo: Inventory, case: str) -> None:
    check, overrides, expected = DEMO_EXPECTED[case]
    assert verdicts(check, demo, baseline_params(**overrides)) == expected


def test_demo_estate_collects_every_api_these_checks_require(demo: Inventory) -> None:
    registry = builtin_registry()
    ids = (
        "snapshot_cmk_private",
        "recovery_vault_cmk_private",
        "storage_account_private_https",
    )
    needed = {api for check_id in ids for api in registry[check_id].spec.requires}
    collected = {c.api for c in demo.collections if c.ok}
    assert needed <= collected
