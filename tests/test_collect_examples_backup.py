"""Microsoft's Recovery Services examples (vaults and backup 2025-08-01) through the real clients.

The vault answer is served as a resource; the policy and protected-item listings of another vault
(NetSDKTestRsVault) are served unchanged at this vault's paths, with their ``/Subscriptions/`` ids in capitals.
The vault is geo-redundant (BAK-04 passes) but has no customer key and a public endpoint (ENC-02 fails). The
protected item backs up a classic VM; pointed at a collected VM, its policy keeps daily points for one day and
its last backup is from 2018, so BAK-01 fails.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.collect import backup, compute, sql, storage
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_examples_compute import VMS, rehome
from tests.test_collect_integration import judge

VAULTS = "recoveryservices/resource-manager/Microsoft.RecoveryServices/stable/2025-08-01/examples/"
BACKUP = "recoveryservicesbackup/resource-manager/Microsoft.RecoveryServices/stable/2025-08-01/examples/AzureIaasVm/"


def estate(*others: dict[str, Any], source_vm: str | None = None) -> dict[str, Any]:
    """The vault, with Microsoft's policy and protected-item listings served raw at its paths.

    ``source_vm`` replaces the protected item's source (a classic VM) with a collected VM's id.
    """
    vault = rehome(example_body(VAULTS + "GETVault.json"), backup.VAULTS_API)
    policies = rehome(example_body(BACKUP + "BackupPolicies_List.json"), "")
    items = rehome(example_body(BACKUP + "BackupProtectedItems_List.json"), "")
    if source_vm:
        for item in items["value"]:
            item["properties"] |= {"sourceResourceId": source_vm, "virtualMachineId": source_vm}
    found = e.estate(vault, *others)
    found["raw"] = [
        {"path": f"{vault['id']}/{child}", "status": 200, "body": json.dumps({"value": body["value"]})}
        for child, body in (("backupPolicies", policies), ("backupProtectedItems", items))
    ]
    return found


def scan(served: dict[str, Any]) -> Inventory:
    """Collect backup and what its checks also read (VMs, storage accounts, SQL VMs)."""
    with serve(served) as (_, session):
        return collect_inventory(session, steps=backup.STEPS + compute.STEPS + storage.STEPS + sql.STEPS)


def finding(inventory: Inventory, check_id: str) -> tuple[Status, str]:
    """The one verdict of a check on a named resource."""
    (found,) = [f for f in judge(inventory).findings if f.check_id == check_id and f.resource_name]
    return found.status, found.message


def test_the_backup_examples_are_collected_whole() -> None:
    inventory = scan(estate())
    assert not [c for c in inventory.collections if not c.ok]
    (vault,) = inventory.recovery_vaults
    assert vault.unreadable == ()
    assert (vault.storage_redundancy, vault.cross_region_restore) == ("GeoRedundant", True)
    assert (vault.immutability, vault.soft_delete, vault.cmk_key_uri) == ("Disabled", "Enabled", None)
    policies = {p.name: p for p in inventory.backup_policies}
    assert sorted(policies) == ["DefaultPolicy", "testPolicy1"]
    assert all(p.unreadable == () and p.vault_id == vault.id for p in policies.values())
    assert policies["testPolicy1"].schedule_frequency == "Daily"
    (item,) = inventory.protected_items
    assert item.unreadable == () and item.vault_id == vault.id
    assert (item.protection_state, item.health_status, item.last_backup_status) == ("Protected", "Passed", "Completed")
    # The capitalised /Subscriptions/ of the policy id still names the collected policy.
    assert item.policy_id is not None and item.policy_id.lower() == policies["testPolicy1"].id.lower()


def test_a_geo_redundant_vault_passes_bak04() -> None:
    status, message = finding(scan(estate()), "backup_geo_redundancy")
    assert status is Status.PASS and "GeoRedundant" in message


def test_a_public_vault_without_a_customer_key_fails_enc02() -> None:
    status, message = finding(scan(estate()), "recovery_vault_cmk_private")
    assert status is Status.FAIL
    assert "no customer-managed key" in message and "public network access Enabled" in message


def test_one_day_retention_and_a_2018_backup_fail_bak01() -> None:
    vm = rehome(example_body(VMS + "VirtualMachine_Create_WithEncryptionAtHost.json"), compute.VMS_API)
    status, message = finding(scan(estate(vm, source_vm=vm["id"])), "vm_daily_backup")
    assert status is Status.FAIL
    assert "policy testPolicy1 keeps daily recovery points 1 days < 30" in message
    assert "last backup 2018-01-22T12:25:32.048723Z is older than" in message


def test_a_classic_vm_item_does_not_protect_an_arm_vm() -> None:
    vm = rehome(example_body(VMS + "VirtualMachine_Create_WithEncryptionAtHost.json"), compute.VMS_API)
    status, message = finding(scan(estate(vm)), "vm_daily_backup")
    assert status is Status.FAIL and "not backed up" in message
