"""Microsoft's storage account example (Microsoft.Storage 2025-06-01) through the real clients.

The GetProperties example allows HTTP (``supportsHttpsTrafficOnly false``), leaves the firewall open
(``defaultAction Allow``), reports neither ``allowBlobPublicAccess`` nor ``minimumTlsVersion`` and uses
Microsoft-managed keys: ENC-03 fails naming each. Its regions are staging names (``eastus2(stage)``), kept as
published: BAK-04 fails on them, as they are neither East US nor West US.
"""

from __future__ import annotations

from typing import Any

from auditor.collect import backup, sql, storage
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_examples_compute import rehome
from tests.test_collect_integration import judge

ACCOUNTS = "storage/resource-manager/Microsoft.Storage/stable/2025-06-01/examples/"


def account_example() -> dict[str, Any]:
    """The GetProperties example; its id's ``{subscription-id}`` placeholder becomes the test subscription."""
    return rehome(example_body(ACCOUNTS + "StorageAccountGetProperties.json"), storage.STORAGE_ACCOUNTS_API)


def scan(*resources: dict[str, Any]) -> Inventory:
    """Collect storage and what the storage checks also read (SQL VM backup targets, backup vaults)."""
    with serve(e.estate(*resources)) as (_, session):
        return collect_inventory(session, steps=storage.STEPS + sql.STEPS + backup.STEPS)


def finding(inventory: Inventory, check_id: str) -> tuple[Status, str]:
    """The one verdict of a check on the account."""
    (found,) = [f for f in judge(inventory).findings if f.check_id == check_id and f.resource_name == "sto8596"]
    return found.status, found.message


def test_the_account_example_is_collected_as_published() -> None:
    inventory = scan(account_example())
    assert not [c for c in inventory.collections if not c.ok]
    (account,) = inventory.storage_accounts
    assert account.unreadable == ()
    assert account.https_only is False and account.network_default_action == "Allow"
    assert account.allow_blob_public_access is None and account.minimum_tls_version is None
    assert account.key_source == "Microsoft.Storage" and account.sku == "Standard_GRS"
    assert (account.primary_location, account.secondary_location) == ("eastus2(stage)", "northcentralus(stage)")


def test_http_allowed_and_an_open_firewall_fail_enc03() -> None:
    status, message = finding(scan(account_example()), "storage_account_private_https")
    assert status is Status.FAIL
    assert "HTTP allowed (supportsHttpsTrafficOnly false)" in message
    assert "allowBlobPublicAccess not reported" in message and "minimumTlsVersion not reported" in message
    assert "networkAcls.defaultAction Allow" in message
    assert "not Key Vault" in message


def test_staging_regions_fail_the_geo_replication_check() -> None:
    status, message = finding(scan(account_example()), "backup_geo_redundancy")
    assert status is Status.FAIL and "eastus2(stage)" in message
