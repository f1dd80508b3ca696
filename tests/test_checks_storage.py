"""ENC-03: storage accounts private, HTTPS-only with TLS 1.2, and Key Vault keys for backup accounts."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.storage import BackupAwareAccount, backup_aware_accounts, storage_account_private_https, tls_version
from auditor.model import Status, Verdict
from auditor.parameters import Params
from auditor.records.sql import AutomatedBackup, SqlVirtualMachine
from auditor.records.storage import StorageAccount
from tests.builders import SUB, make_inventory, results, rid


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


def judged(account: StorageAccount, params: Params, *writers: str) -> Verdict:
    """The verdict on one account, with the SQL VMs whose Automated Backup writes to it."""
    return storage_account_private_https(BackupAwareAccount(account, writers), params)


def make_sql_vm(enabled: bool, target: str) -> SqlVirtualMachine:
    """A SQL VM registration whose Automated Backup (on or off) writes to the given account."""
    return SqlVirtualMachine(
        rid("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "sqlvm-01"),
        "sqlvm-01",
        SUB,
        "rg-test",
        "eastus",
        rid("Microsoft.Compute/virtualMachines", "sqlvm-01"),
        "SQL2014SP3-WS2012R2",
        "Enterprise",
        auto_backup=AutomatedBackup(enabled=enabled, storage_account_url=f"https://{target}.blob.core.windows.net/"),
    )


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
    result = judged(account, ALL_ACCOUNTS)
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
    result = judged(account, ALL_ACCOUNTS)
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
    result = judged(account, Params({"backup_storage_accounts": listed}))
    assert result.status is expected
    assert result.evidence["backup_account"] is (expected is Status.FAIL)


@pytest.mark.parametrize(("enabled", "expected"), [(True, Status.FAIL), (False, Status.PASS)], ids=["on", "off"])
def test_automated_backup_target_is_a_backup_account_whatever_the_list_says(enabled: bool, expected: Status) -> None:
    inventory = make_inventory(
        storage_accounts=[make_account("stsqlbackup", key_source="Microsoft.Storage")],
        sql_virtual_machines=[make_sql_vm(enabled, "stsqlbackup")],
    )
    (result,) = results(storage_account_private_https, inventory, Params({"backup_storage_accounts": ("stother",)}))
    assert result.status is expected
    assert result.evidence["automated_backup_of"] == (["sqlvm-01"] if enabled else [])


def test_each_account_is_joined_with_the_sql_vms_backing_up_to_it() -> None:
    inventory = make_inventory(
        storage_accounts=[make_account("stsqlbackup"), make_account("stdiag")],
        sql_virtual_machines=[make_sql_vm(True, "STSQLBACKUP")],
    )
    assert [(s.account.name, s.automated_backup_of) for s in backup_aware_accounts(inventory)] == [
        ("stsqlbackup", ("sqlvm-01",)),
        ("stdiag", ()),
    ]


@pytest.mark.parametrize(("text", "version"), [("TLS1_2", (1, 2)), ("tls1_0", (1, 0)), ("SSL3", None)])
def test_tls_version_reads_the_storage_spelling(text: str, version: tuple[int, int] | None) -> None:
    assert tls_version(text) == version
