"""Backup, network security layer and key collection through the local endpoint and the real SDK clients."""

from __future__ import annotations

import json
from typing import Any

from auditor.collect import backup, firewall, keys, keyvault, network
from auditor.collect.scan import collect_inventory
from auditor.emulator import Fault, demo_estate_path
from auditor.inventory import Collection, Inventory
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_integration import rebase

EXAMPLES = "network/resource-manager/Microsoft.Network/stable/2024-07-01/examples"
FIREWALL_EXAMPLE = f"{EXAMPLES}/AzureFirewallGet.json"
GATEWAY_EXAMPLE = f"{EXAMPLES}/VirtualNetworkGatewayGet.json"
BACKUP_EXAMPLES = "recoveryservicesbackup/resource-manager/Microsoft.RecoveryServices/stable/2024-10-01/examples"
POLICY_EXAMPLE = f"{BACKUP_EXAMPLES}/AzureIaasVm/ProtectionPolicies_Get.json"
ITEMS_EXAMPLE = f"{BACKUP_EXAMPLES}/AzureIaasVm/BackupProtectedItems_List.json"

RSV = "Microsoft.RecoveryServices/vaults"
BACKUP_STEPS = backup.STEPS
NETWORK_STEPS = firewall.STEPS + network.STEPS
KEY_STEPS = keyvault.STEPS + keys.STEPS


def collect(estate: dict[str, Any], steps: Any, **options: Any) -> Inventory:
    """Collect the estate with the given steps only."""
    with serve(estate, **options) as (_, session):
        return collect_inventory(session, steps=steps)


def failures(inventory: Inventory) -> list[Collection]:
    """The collections that did not complete."""
    return [c for c in inventory.collections if not c.ok]


# --- builders: raw ARM objects as ARM returns them ----------------------------------------------


def recovery_vault(name: str, *, sub: str = e.SUB, group: str = "rg-backup", **props: Any) -> dict[str, Any]:
    """A Recovery Services vault; ``props`` replace the default properties."""
    return {
        "id": e.arm_id(RSV, name, group=group, sub=sub),
        "name": name,
        "type": RSV,
        "location": "eastus",
        "sku": {"name": "RS0", "tier": "Standard"},
        "properties": {"provisioningState": "Succeeded", **props},
    }


def storage_config(vault_id: str, storage_type: str, cross_region_restore: bool) -> dict[str, Any]:
    """The backup storage configuration of a vault."""
    return {
        "id": f"{vault_id}/backupstorageconfig/vaultstorageconfig",
        "name": "vaultstorageconfig",
        "type": f"{RSV}/backupstorageconfig",
        "properties": {
            "storageModelType": storage_type,
            "storageType": storage_type,
            "storageTypeState": "Locked",
            "crossRegionRestoreFlag": cross_region_restore,
        },
    }


def policy(vault_id: str, name: str, props: dict[str, Any]) -> dict[str, Any]:
    """A backup policy of a vault."""
    return {
        "id": f"{vault_id}/backupPolicies/{name}",
        "name": name,
        "type": f"{RSV}/backupPolicies",
        "properties": props,
    }


def duration(count: int, unit: str) -> dict[str, Any]:
    """A retention duration."""
    return {"count": count, "durationType": unit}


def daily_vm_policy(vault_id: str, name: str, days: int, protected: int) -> dict[str, Any]:
    """An Azure VM policy that runs daily and keeps daily points ``days`` days."""
    return policy(
        vault_id,
        name,
        {
            "backupManagementType": "AzureIaasVM",
            "policyType": "V1",
            "schedulePolicy": {
                "schedulePolicyType": "SimpleSchedulePolicy",
                "scheduleRunFrequency": "Daily",
                "scheduleRunTimes": ["2026-01-20T02:00:00Z"],
                "scheduleWeeklyFrequency": 0,
            },
            "retentionPolicy": {
                "retentionPolicyType": "LongTermRetentionPolicy",
                "dailySchedule": {
                    "retentionTimes": ["2026-01-20T02:00:00Z"],
                    "retentionDuration": duration(days, "Days"),
                },
            },
            "instantRpRetentionRangeInDays": 2,
            "timeZone": "UTC",
            "protectedItemsCount": protected,
        },
    )


def hourly_vm_policy(vault_id: str, name: str) -> dict[str, Any]:
    """An enhanced (V2) Azure VM policy that runs every 4 hours with weekly, monthly and yearly points."""
    times = ["2026-01-20T08:00:00Z"]
    return policy(
        vault_id,
        name,
        {
            "backupManagementType": "AzureIaasVM",
            "policyType": "V2",
            "schedulePolicy": {
                "schedulePolicyType": "SimpleSchedulePolicyV2",
                "scheduleRunFrequency": "Hourly",
                "hourlySchedule": {
                    "interval": 4,
                    "scheduleWindowStartTime": "2026-01-20T08:00:00Z",
                    "scheduleWindowDuration": 16,
                },
            },
            "retentionPolicy": {
                "retentionPolicyType": "LongTermRetentionPolicy",
                "dailySchedule": {"retentionTimes": times, "retentionDuration": duration(35, "Days")},
                "weeklySchedule": {
                    "daysOfTheWeek": ["Sunday"],
                    "retentionTimes": times,
                    "retentionDuration": duration(12, "Weeks"),
                },
                "monthlySchedule": {
                    "retentionScheduleFormatType": "Weekly",
                    "retentionScheduleWeekly": {"daysOfTheWeek": ["Sunday"], "weeksOfTheMonth": ["First"]},
                    "retentionTimes": times,
                    "retentionDuration": duration(12, "Months"),
                },
                "yearlySchedule": {
                    "retentionScheduleFormatType": "Weekly",
                    "monthsOfYear": ["January"],
                    "retentionScheduleWeekly": {"daysOfTheWeek": ["Sunday"], "weeksOfTheMonth": ["First"]},
                    "retentionTimes": times,
                    "retentionDuration": duration(7, "Years"),
                },
            },
            "instantRpRetentionRangeInDays": 5,
            "tieringPolicy": {"ArchivedRP": {"tieringMode": "DoNotTier"}},
            "protectedItemsCount": 1,
        },
    )


def enhanced_daily_vm_policy(vault_id: str, name: str) -> dict[str, Any]:
    """An enhanced (V2) Azure VM policy whose daily run time sits in its dailySchedule."""
    return policy(
        vault_id,
        name,
        {
            "backupManagementType": "AzureIaasVM",
            "policyType": "V2",
            "schedulePolicy": {
                "schedulePolicyType": "SimpleSchedulePolicyV2",
                "scheduleRunFrequency": "Daily",
                "dailySchedule": {"scheduleRunTimes": ["2026-01-20T23:30:00Z"]},
            },
            "retentionPolicy": {
                "retentionPolicyType": "LongTermRetentionPolicy",
                "dailySchedule": {
                    "retentionTimes": ["2026-01-20T23:30:00Z"],
                    "retentionDuration": duration(30, "Days"),
                },
            },
            "protectedItemsCount": 0,
        },
    )


def sql_policy(vault_id: str, name: str) -> dict[str, Any]:
    """A SQL-in-VM workload policy: weekly full, daily differential, log every 15 minutes."""
    return policy(
        vault_id,
        name,
        {
            "backupManagementType": "AzureWorkload",
            "workLoadType": "SQLDataBase",
            "settings": {"timeZone": "UTC", "issqlcompression": False},
            "subProtectionPolicy": [
                {
                    "policyType": "Full",
                    "schedulePolicy": {
                        "schedulePolicyType": "SimpleSchedulePolicy",
                        "scheduleRunFrequency": "Weekly",
                        "scheduleRunDays": ["Sunday"],
                        "scheduleRunTimes": ["2026-01-18T01:00:00Z"],
                    },
                    "retentionPolicy": {
                        "retentionPolicyType": "LongTermRetentionPolicy",
                        "weeklySchedule": {
                            "daysOfTheWeek": ["Sunday"],
                            "retentionTimes": ["2026-01-18T01:00:00Z"],
                            "retentionDuration": duration(9, "Weeks"),
                        },
                    },
                },
                {
                    "policyType": "Differential",
                    "schedulePolicy": {
                        "schedulePolicyType": "SimpleSchedulePolicy",
                        "scheduleRunFrequency": "Weekly",
                        "scheduleRunDays": ["Monday", "Wednesday"],
                        "scheduleRunTimes": ["2026-01-18T13:00:00Z"],
                    },
                    "retentionPolicy": {
                        "retentionPolicyType": "SimpleRetentionPolicy",
                        "retentionDuration": duration(30, "Days"),
                    },
                },
                {
                    "policyType": "Log",
                    "schedulePolicy": {"schedulePolicyType": "LogSchedulePolicy", "scheduleFrequencyInMins": 15},
                    "retentionPolicy": {
                        "retentionPolicyType": "SimpleRetentionPolicy",
                        "retentionDuration": duration(60, "Days"),
                    },
                },
            ],
            "protectedItemsCount": 1,
        },
    )


def vm_item(vault_id: str, vm_id: str, policy_id: str, **props: Any) -> dict[str, Any]:
    """A protected Azure VM as the vault lists it; ``props`` replace the healthy defaults."""
    parts = vm_id.split("/")
    container = f"iaasvmcontainerv2;{parts[4]};{parts[-1]}"
    base = {
        "friendlyName": parts[-1],
        "virtualMachineId": vm_id,
        "protectionStatus": "Healthy",
        "protectionState": "Protected",
        "healthStatus": "Passed",
        "lastBackupStatus": "Completed",
        "lastBackupTime": "2026-11-28T07:03:14.4412193Z",
        "protectedItemType": "Microsoft.Compute/virtualMachines",
        "backupManagementType": "AzureIaasVM",
        "workloadType": "VM",
        "containerName": container,
        "sourceResourceId": vm_id,
        "policyId": policy_id,
    }
    return {
        "id": f"{vault_id}/backupFabrics/Azure/protectionContainers/IaasVMContainer;{container}"
        f"/protectedItems/VM;{container}",
        "name": f"VM;{container}",
        "type": f"{RSV}/backupFabrics/protectionContainers/protectedItems",
        "properties": base | props,
    }


def sql_item(vault_id: str, vm_id: str, policy_id: str) -> dict[str, Any]:
    """A protected SQL database in a VM; it reports health as ``protectedItemHealthStatus``."""
    parts = vm_id.split("/")
    group, vm = parts[4], parts[-1]
    return {
        "id": (
            f"{vault_id}/backupFabrics/Azure/protectionContainers/VMAppContainer;compute;{group};{vm}"
            "/protectedItems/SQLDataBase;mssqlserver;sales"
        ),
        "name": "SQLDataBase;mssqlserver;sales",
        "type": f"{RSV}/backupFabrics/protectionContainers/protectedItems",
        "properties": {
            "friendlyName": "SALES",
            "serverName": vm,
            "protectionStatus": "Healthy",
            "protectionState": "Protected",
            "lastBackupStatus": "Healthy",
            "lastBackupTime": "2026-11-28T18:15:31Z",
            "protectedItemHealthStatus": "Healthy",
            "protectedItemType": "AzureVmWorkloadSQLDatabase",
            "backupManagementType": "AzureWorkload",
            "workloadType": "SQLDataBase",
            "sourceResourceId": vm_id,
            "policyId": policy_id,
        },
    }


def vm_id(name: str, *, group: str = "rg-app", sub: str = e.SUB) -> str:
    """Id of a VM (the backup estate needs no VM resource, only its id)."""
    return e.arm_id("Microsoft.Compute/virtualMachines", name, group=group, sub=sub)


def backup_estate() -> dict[str, Any]:
    """A current vault with everything on it in SUB, and an older vault that needs its storage config in SUB2."""
    modern = recovery_vault(
        "rsv-prod",
        publicNetworkAccess="Disabled",
        redundancySettings={"standardTierStorageRedundancy": "GeoRedundant", "crossRegionRestore": "Enabled"},
        securitySettings={
            "softDeleteSettings": {"softDeleteState": "AlwaysON", "softDeleteRetentionPeriodInDays": 14},
            "immutabilitySettings": {"state": "Locked"},
        },
        encryption={
            "keyVaultProperties": {"keyUri": "https://kv-keys.vault.azure.net/keys/rsv/1"},
            "kekIdentity": {"useSystemAssignedIdentity": True},
            "infrastructureEncryption": "Enabled",
        },
    )
    older = recovery_vault("rsv-old", sub=e.SUB2)
    vm_policy = daily_vm_policy(modern["id"], "vm-daily-30d", 30, 2)
    sql = sql_policy(modern["id"], "sql-weekly")
    old_policy = daily_vm_policy(older["id"], "vm-daily-7d", 7, 1)
    return e.estate(
        modern,
        older,
        storage_config(modern["id"], "LocallyRedundant", False),
        storage_config(older["id"], "LocallyRedundant", False),
        vm_policy,
        sql,
        hourly_vm_policy(modern["id"], "vm-hourly"),
        enhanced_daily_vm_policy(modern["id"], "vm-enhanced-daily"),
        daily_vm_policy(modern["id"], "DefaultPolicy", 30, 0),
        old_policy,
        vm_item(modern["id"], vm_id("vm-web01"), vm_policy["id"]),
        vm_item(
            modern["id"],
            vm_id("vm-web02"),
            vm_policy["id"],
            lastBackupStatus="Failed",
            healthStatus="ActionRequired",
            # Azure sometimes reports the source VM id lower-cased; it is kept as reported.
            sourceResourceId=vm_id("vm-web02").lower(),
        ),
        sql_item(modern["id"], vm_id("sqlvm-01", group="rg-data"), sql["id"]),
        vm_item(older["id"], vm_id("vm-stg", sub=e.SUB2), old_policy["id"], protectionState="ProtectionStopped"),
        subs=(e.SUB, e.SUB2),
    )


# --- backup -------------------------------------------------------------------------------------


def test_vaults_are_collected_and_only_vaults_without_redundancy_read_their_storage_config() -> None:
    with serve(backup_estate(), page_size=2) as (endpoint, session):
        inventory = collect_inventory(session, steps=BACKUP_STEPS)
        requests = [r.path for r in endpoint.requests]
    assert not failures(inventory)
    vaults = {v.name: v for v in inventory.recovery_vaults}
    prod, old = vaults["rsv-prod"], vaults["rsv-old"]
    assert (prod.subscription_id, prod.resource_group, prod.location) == (e.SUB, "rg-backup", "eastus")
    assert prod.public_network_access == "Disabled"
    assert prod.cmk_key_uri == "https://kv-keys.vault.azure.net/keys/rsv/1"
    assert prod.infrastructure_encryption == "Enabled"
    # The vault's own redundancy settings win over its (here contradictory) storage configuration.
    assert (prod.storage_redundancy, prod.cross_region_restore) == ("GeoRedundant", True)
    assert (prod.immutability, prod.soft_delete) == ("Locked", "AlwaysON")
    assert old.subscription_id == e.SUB2
    assert (old.storage_redundancy, old.cross_region_restore) == ("LocallyRedundant", False)
    # Nothing the vault did not report is assumed.
    assert (old.public_network_access, old.cmk_key_uri, old.infrastructure_encryption) == (None, None, None)
    assert (old.immutability, old.soft_delete) == (None, None)
    assert [p for p in requests if p.endswith("/vaultstorageconfig")] == [
        f"{old.id}/backupstorageconfig/vaultstorageconfig"
    ]


def test_backup_policies_of_every_shape_are_read_from_raw_properties() -> None:
    inventory = collect(backup_estate(), BACKUP_STEPS, page_size=2)
    policies = {p.name: p for p in inventory.backup_policies}
    assert set(policies) == {
        "vm-daily-30d",
        "sql-weekly",
        "vm-hourly",
        "vm-enhanced-daily",
        "DefaultPolicy",
        "vm-daily-7d",
    }
    daily = policies["vm-daily-30d"]
    assert daily.vault_id == e.arm_id(RSV, "rsv-prod", group="rg-backup")
    assert (daily.subscription_id, daily.resource_group) == (e.SUB, "rg-backup")
    assert (daily.management_type, daily.workload_type) == ("AzureIaasVM", None)
    assert (daily.schedule_frequency, daily.schedule_times) == ("Daily", ("2026-01-20T02:00:00Z",))
    assert daily.hourly_interval is None
    assert [(r.kind, r.count, r.unit, r.days) for r in daily.retention] == [("daily", 30, "Days", 30)]
    assert (daily.instant_rp_retention_days, daily.protected_items, daily.sub_policies) == (2, 2, ())
    hourly = policies["vm-hourly"]
    assert (hourly.schedule_frequency, hourly.hourly_interval, hourly.schedule_times) == ("Hourly", 4, ())
    assert [(r.kind, r.count, r.unit) for r in hourly.retention] == [
        ("daily", 35, "Days"),
        ("weekly", 12, "Weeks"),
        ("monthly", 12, "Months"),
        ("yearly", 7, "Years"),
    ]
    assert hourly.instant_rp_retention_days == 5
    enhanced = policies["vm-enhanced-daily"]
    assert (enhanced.schedule_frequency, enhanced.schedule_times) == ("Daily", ("2026-01-20T23:30:00Z",))
    assert (enhanced.instant_rp_retention_days, enhanced.protected_items) == (None, 0)
    sql = policies["sql-weekly"]
    assert (sql.management_type, sql.workload_type, sql.schedule_frequency, sql.retention) == (
        "AzureWorkload",
        "SQLDataBase",
        None,
        (),
    )
    full, differential, log = sql.sub_policies
    assert (full.policy_type, full.schedule_frequency, full.schedule_days, full.schedule_times) == (
        "Full",
        "Weekly",
        ("Sunday",),
        ("2026-01-18T01:00:00Z",),
    )
    assert [(r.kind, r.count, r.unit, r.days) for r in full.retention] == [("weekly", 9, "Weeks", 63)]
    assert (differential.policy_type, differential.schedule_days) == ("Differential", ("Monday", "Wednesday"))
    assert [(r.kind, r.count, r.unit) for r in differential.retention] == [("simple", 30, "Days")]
    assert (log.policy_type, log.schedule_frequency, log.frequency_minutes) == ("Log", None, 15)
    assert [(r.kind, r.days) for r in log.retention] == [("simple", 60)]
    assert policies["vm-daily-7d"].subscription_id == e.SUB2


def test_protected_items_keep_the_fields_the_sdk_model_drops() -> None:
    inventory = collect(backup_estate(), BACKUP_STEPS, page_size=2)
    items = {i.friendly_name: i for i in inventory.protected_items}
    assert set(items) == {"vm-web01", "vm-web02", "SALES", "vm-stg"}
    web01 = items["vm-web01"]
    assert web01.vault_id == e.arm_id(RSV, "rsv-prod", group="rg-backup")
    assert (web01.subscription_id, web01.resource_group) == (e.SUB, "rg-backup")
    assert web01.name == "VM;iaasvmcontainerv2;rg-app;vm-web01"
    assert (web01.item_type, web01.workload_type) == ("Microsoft.Compute/virtualMachines", "VM")
    assert web01.source_resource_id == vm_id("vm-web01")
    assert web01.policy_id == e.arm_id(RSV, "rsv-prod", group="rg-backup") + "/backupPolicies/vm-daily-30d"
    assert (web01.protection_state, web01.protection_status, web01.health_status) == ("Protected", "Healthy", "Passed")
    assert (web01.last_backup_status, web01.last_backup_time) == ("Completed", "2026-11-28T07:03:14.4412193Z")
    web02 = items["vm-web02"]
    assert web02.source_resource_id == vm_id("vm-web02").lower()
    assert (web02.last_backup_status, web02.health_status) == ("Failed", "ActionRequired")
    sales = items["SALES"]
    assert (sales.item_type, sales.workload_type, sales.health_status) == (
        "AzureVmWorkloadSQLDatabase",
        "SQLDataBase",
        "Healthy",
    )
    assert sales.source_resource_id == vm_id("sqlvm-01", group="rg-data")
    assert sales.policy_id is not None and sales.policy_id.endswith("/backupPolicies/sql-weekly")
    stg = items["vm-stg"]
    assert (stg.subscription_id, stg.protection_state) == (e.SUB2, "ProtectionStopped")
    assert stg.vault_id == e.arm_id(RSV, "rsv-old", group="rg-backup", sub=e.SUB2)


def test_a_vault_whose_policies_fail_is_an_error_for_that_vault_only() -> None:
    faults = (
        Fault(pattern="/vaults/rsv-prod/backupPolicies", status=500, error_code="InternalServerError"),
        Fault(pattern="/vaults/rsv-old/backupProtectedItems", status=403, error_code="AuthorizationFailed"),
    )
    inventory = collect(backup_estate(), BACKUP_STEPS, faults=faults)
    failed = {(c.api, c.scope): c for c in failures(inventory)}
    prod_id = e.arm_id(RSV, "rsv-prod", group="rg-backup")
    old_id = e.arm_id(RSV, "rsv-old", group="rg-backup", sub=e.SUB2)
    policies_failure = failed.pop((f"{RSV}/backupPolicies", prod_id))
    assert (policies_failure.subscription_id, policies_failure.status_code, policies_failure.error_code) == (
        e.SUB,
        500,
        "InternalServerError",
    )
    items_failure = failed.pop((f"{RSV}/backupFabrics/protectionContainers/protectedItems", old_id))
    assert (items_failure.subscription_id, items_failure.status_code, items_failure.error_code) == (
        e.SUB2,
        403,
        "AuthorizationFailed",
    )
    assert not failed
    assert {p.name for p in inventory.backup_policies} == {"vm-daily-7d"}
    assert {i.friendly_name for i in inventory.protected_items} == {"vm-web01", "vm-web02", "SALES"}


def test_microsoft_backup_policy_and_protected_item_examples_parse() -> None:
    redundancy = {"standardTierStorageRedundancy": "GeoRedundant", "crossRegionRestore": "Disabled"}
    vault = recovery_vault("NetSDKTestRsVault", group="SwaggerTestRg", redundancySettings=redundancy)
    example_policy = rebase(example_body(POLICY_EXAMPLE))
    example_items = [rebase(item) for item in example_body(ITEMS_EXAMPLE)["value"]]
    inventory = collect(e.estate(vault, example_policy, *example_items), BACKUP_STEPS)
    assert not failures(inventory)
    (parsed,) = inventory.backup_policies
    assert (parsed.name, parsed.vault_id, parsed.resource_group) == ("testPolicy1", vault["id"], "SwaggerTestRg")
    assert (parsed.management_type, parsed.schedule_frequency) == ("AzureIaasVM", "Daily")
    assert [(r.kind, r.count, r.unit) for r in parsed.retention] == [("daily", 1, "Days")]
    assert (parsed.protected_items, parsed.instant_rp_retention_days) == (0, None)
    (item,) = inventory.protected_items
    assert item.vault_id == vault["id"]
    assert item.item_type == "Microsoft.ClassicCompute/virtualMachines"
    assert item.source_resource_id == (
        f"/subscriptions/{e.SUB}/resourceGroups/providers/Microsoft.ClassicCompute/virtualMachines/iaasvm-1"
    )
    assert (item.protection_state, item.health_status, item.last_backup_status) == ("Protected", "Passed", "Completed")
    assert item.last_backup_time == "2018-01-22T12:25:32.048723Z"
    assert item.policy_id is not None and item.policy_id.endswith("/backupPolicies/testPolicy1")


# --- firewalls, firewall policies and route tables ----------------------------------------------


def nat_rule(name: str, sources: list[str], port: str, target: str) -> dict[str, Any]:
    """A firewall policy DNAT rule forwarding ``port`` to ``target``:3389."""
    return {
        "ruleType": "NatRule",
        "name": name,
        "ipProtocols": ["TCP"],
        "sourceAddresses": sources,
        "sourceIpGroups": [],
        "destinationAddresses": ["192.0.2.10"],
        "destinationPorts": [port],
        "translatedAddress": target,
        "translatedPort": "3389",
    }


def rule_collection_group(policy_id: str, name: str, collections: list[dict[str, Any]]) -> dict[str, Any]:
    """A rule collection group, given as an entry of its own beneath its policy."""
    return {
        "id": f"{policy_id}/ruleCollectionGroups/{name}",
        "name": name,
        "type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
        "properties": {"priority": 100, "ruleCollections": collections, "provisioningState": "Succeeded"},
    }


def firewall_policy(name: str, *, base: str | None = None, mode: str | None = "Deny") -> dict[str, Any]:
    """A firewall policy (its rule collection groups are separate entries)."""
    props: dict[str, Any] = {"provisioningState": "Succeeded", "sku": {"tier": "Standard"}}
    if mode is not None:
        props["threatIntelMode"] = mode
    if base is not None:
        props["basePolicy"] = {"id": base}
    return {
        "id": e.arm_id("Microsoft.Network/firewallPolicies", name, group="rg-hub"),
        "name": name,
        "type": "Microsoft.Network/firewallPolicies",
        "location": "eastus",
        "properties": props,
    }


def azure_firewall(name: str, policy_id: str | None, subnet_id: str, **props: Any) -> dict[str, Any]:
    """An Azure Firewall in a VNet with one IP configuration."""
    firewall_id = e.arm_id("Microsoft.Network/azureFirewalls", name, group="rg-hub")
    base: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "sku": {"name": "AZFW_VNet", "tier": "Premium"},
        "ipConfigurations": [
            {
                "name": "ipconfig",
                "id": f"{firewall_id}/ipConfigurations/ipconfig",
                "properties": {"privateIPAddress": "10.0.1.4", "subnet": {"id": subnet_id}},
            }
        ],
        "natRuleCollections": [],
    }
    if policy_id is not None:
        base["firewallPolicy"] = {"id": policy_id}
    return {
        "id": firewall_id,
        "name": name,
        "type": "Microsoft.Network/azureFirewalls",
        "location": "eastus",
        "properties": base | props,
    }


def route_table(name: str, routes: list[tuple[str, str, str | None]], subnet_ids: list[str]) -> dict[str, Any]:
    """A route table whose routes are (prefix, next hop type, next hop IP) triples."""
    table_id = e.arm_id("Microsoft.Network/routeTables", name, group="rg-hub")
    return {
        "id": table_id,
        "name": name,
        "type": "Microsoft.Network/routeTables",
        "location": "eastus",
        "properties": {
            "routes": [
                {
                    "id": f"{table_id}/routes/r{n}",
                    "name": f"r{n}",
                    "properties": {"addressPrefix": prefix, "nextHopType": hop}
                    | ({"nextHopIpAddress": ip} if ip else {}),
                }
                for n, (prefix, hop, ip) in enumerate(routes)
            ],
            "subnets": [{"id": s} for s in subnet_ids],
        },
    }


def firewall_estate() -> dict[str, Any]:
    """A hub with a classic-rule firewall, a policy-managed firewall, a child policy and two route tables."""
    hub = e.vnet("vnet-hub", {"AzureFirewallSubnet": None, "servers": None})
    firewall_subnet, servers = (s["id"] for s in hub["properties"]["subnets"])
    parent = firewall_policy("afwp-base", mode=None)
    child = firewall_policy("afwp-prod", base=parent["id"])
    classic = azure_firewall(
        "afw-classic",
        None,
        firewall_subnet,
        threatIntelMode="Alert",
        natRuleCollections=[
            {
                "name": "dnat-legacy",
                "properties": {
                    "priority": 100,
                    "action": {"type": "Dnat"},
                    "rules": [
                        {
                            "name": "rdp-any",
                            "sourceAddresses": ["*"],
                            "destinationAddresses": ["20.0.0.1"],
                            "destinationPorts": ["3389"],
                            "protocols": ["TCP", "UDP"],
                            "translatedAddress": "10.0.2.4",
                            "translatedPort": "3389",
                            "sourceIpGroups": ["/subscriptions/x/ipGroups/office"],
                        }
                    ],
                },
            }
        ],
    )
    filter_collection = {
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "name": "egress",
        "priority": 200,
        "action": {"type": "Allow"},
        "rules": [
            {
                "ruleType": "NetworkRule",
                "name": "https-out",
                "ipProtocols": ["TCP"],
                "sourceAddresses": ["10.0.0.0/8"],
                "destinationAddresses": ["*"],
                "destinationPorts": ["443"],
            }
        ],
    }
    dnat_collection = {
        "ruleCollectionType": "FirewallPolicyNatRuleCollection",
        "name": "dnat-rdp",
        "priority": 100,
        "action": {"type": "DNAT"},
        "rules": [
            nat_rule("rdp-office", ["203.0.113.0/24"], "3389", "10.0.3.4"),
            nat_rule("rdp-vendor", ["198.51.100.77"], "53389", "10.0.2.4"),
        ],
    }
    return e.estate(
        hub,
        parent,
        child,
        rule_collection_group(child["id"], "dnat", [dnat_collection]),
        rule_collection_group(child["id"], "network", [filter_collection]),
        classic,
        azure_firewall("afw-prod", child["id"], firewall_subnet, threatIntelMode="Deny"),
        azure_firewall(
            "afw-hub",
            None,
            firewall_subnet,
            sku={"name": "AZFW_Hub", "tier": "Standard"},
            ipConfigurations=[],
            hubIPAddresses={"privateIPAddress": "10.100.0.132"},
        ),
        route_table("rt-servers", [("0.0.0.0/0", "VirtualAppliance", "10.0.1.4")], [servers]),
        route_table("rt-empty", [("10.9.0.0/16", "None", None), ("0.0.0.0/0", "Internet", None)], []),
    )


def test_firewalls_policies_and_route_tables_are_collected_field_by_field() -> None:
    inventory = collect(firewall_estate(), NETWORK_STEPS, page_size=2)
    assert not failures(inventory)
    hub_id = e.arm_id("Microsoft.Network/virtualNetworks", "vnet-hub")
    firewalls = {f.name: f for f in inventory.azure_firewalls}
    classic = firewalls["afw-classic"]
    assert (classic.subscription_id, classic.resource_group, classic.location) == (e.SUB, "rg-hub", "eastus")
    assert (classic.provisioning_state, classic.threat_intel_mode, classic.sku_tier) == (
        "Succeeded",
        "Alert",
        "Premium",
    )
    assert classic.firewall_policy_id is None
    assert (classic.private_ips, classic.subnet_ids) == (("10.0.1.4",), (f"{hub_id}/subnets/AzureFirewallSubnet",))
    (rule,) = classic.nat_rules
    assert (rule.name, rule.collection, rule.protocols) == ("rdp-any", "dnat-legacy", ("TCP", "UDP"))
    assert (rule.source_addresses, rule.destination_addresses, rule.destination_ports) == (
        ("*",),
        ("20.0.0.1",),
        ("3389",),
    )
    assert (rule.translated_address, rule.translated_port) == ("10.0.2.4", "3389")
    assert rule.source_ip_groups == ("/subscriptions/x/ipGroups/office",)
    prod = firewalls["afw-prod"]
    assert prod.firewall_policy_id == e.arm_id("Microsoft.Network/firewallPolicies", "afwp-prod", group="rg-hub")
    assert (prod.threat_intel_mode, prod.nat_rules) == ("Deny", ())
    # A Virtual WAN hub firewall has no IP configurations: its private address is the hub's.
    hub_firewall = firewalls["afw-hub"]
    assert (hub_firewall.private_ips, hub_firewall.subnet_ids, hub_firewall.threat_intel_mode) == (
        ("10.100.0.132",),
        (),
        None,
    )

    policies = {p.name: p for p in inventory.firewall_policies}
    child, parent = policies["afwp-prod"], policies["afwp-base"]
    assert (child.threat_intel_mode, child.base_policy_id) == ("Deny", parent.id)
    assert (parent.threat_intel_mode, parent.base_policy_id, parent.nat_rules) == (None, None, ())
    assert child.rule_collection_group_ids == (
        f"{child.id}/ruleCollectionGroups/dnat",
        f"{child.id}/ruleCollectionGroups/network",
    )
    office, vendor = child.nat_rules
    assert (office.name, office.collection, office.protocols, office.source_addresses) == (
        "rdp-office",
        "dnat-rdp",
        ("TCP",),
        ("203.0.113.0/24",),
    )
    assert (office.destination_addresses, office.destination_ports) == (("192.0.2.10",), ("3389",))
    assert (office.translated_address, office.translated_port, office.source_ip_groups) == ("10.0.3.4", "3389", ())
    assert (vendor.destination_ports, vendor.translated_address) == (("53389",), "10.0.2.4")

    tables = {t.name: t for t in inventory.route_tables}
    servers = tables["rt-servers"]
    assert (servers.subscription_id, servers.resource_group) == (e.SUB, "rg-hub")
    assert [(r.name, r.address_prefix, r.next_hop_type, r.next_hop_ip) for r in servers.routes] == [
        ("r0", "0.0.0.0/0", "VirtualAppliance", "10.0.1.4")
    ]
    assert servers.subnet_ids == (f"{hub_id}/subnets/servers",)
    assert [(r.next_hop_type, r.next_hop_ip) for r in tables["rt-empty"].routes] == [("None", None), ("Internet", None)]
    assert tables["rt-empty"].subnet_ids == ()


def test_a_policy_whose_rule_groups_fail_keeps_its_record_and_reports_the_failure() -> None:
    fault = Fault(
        pattern="/firewallPolicies/afwp-prod/ruleCollectionGroups", status=403, error_code="AuthorizationFailed"
    )
    inventory = collect(firewall_estate(), NETWORK_STEPS, faults=(fault,))
    (failed,) = failures(inventory)
    child_id = e.arm_id("Microsoft.Network/firewallPolicies", "afwp-prod", group="rg-hub")
    assert (failed.api, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
        child_id,
        403,
        "AuthorizationFailed",
    )
    policies = {p.name: p for p in inventory.firewall_policies}
    assert policies["afwp-prod"].nat_rules == ()
    assert {f.name for f in inventory.azure_firewalls} == {"afw-classic", "afw-prod", "afw-hub"}


def test_microsoft_azure_firewall_example_parses_classic_dnat_rules() -> None:
    inventory = collect(e.estate(rebase(example_body(FIREWALL_EXAMPLE))), NETWORK_STEPS)
    assert not failures(inventory)
    (parsed,) = inventory.azure_firewalls
    assert (parsed.name, parsed.resource_group, parsed.location) == ("azurefirewall", "rg1", "West US")
    assert (parsed.threat_intel_mode, parsed.sku_tier, parsed.provisioning_state) == ("Alert", "Standard", "Succeeded")
    assert parsed.private_ips == ("10.0.0.0",)
    assert parsed.subnet_ids == (
        f"/subscriptions/{e.SUB}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet2/subnets/AzureFirewallSubnet",
    )
    https, http = parsed.nat_rules
    assert (https.name, https.collection, https.source_addresses, https.destination_ports) == (
        "DNAT-HTTPS-traffic",
        "natrulecoll",
        ("*",),
        ("443",),
    )
    assert (https.translated_address, https.translated_port, https.protocols) == ("1.2.3.5", "8443", ("TCP",))
    # A rule that forwards to an FQDN has no translated address; the FQDN is where the traffic goes.
    assert (http.name, http.translated_address, http.translated_port) == (
        "DNAT-HTTP-traffic-With-FQDN",
        "internalhttpserver",
        "880",
    )


# --- resource groups, virtual network gateways and peerings -------------------------------------


def gateway(name: str, group: str, vnet_name: str, p2s: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    """A virtual network gateway in the GatewaySubnet of ``vnet_name``."""
    gateway_id = e.arm_id("Microsoft.Network/virtualNetworkGateways", name, group=group)
    vnet_id = e.arm_id("Microsoft.Network/virtualNetworks", vnet_name, group=group)
    base: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "ipConfigurations": [
            {
                "name": "gwipconfig",
                "id": f"{gateway_id}/ipConfigurations/gwipconfig",
                "properties": {"subnet": {"id": f"{vnet_id}/subnets/GatewaySubnet"}},
            }
        ],
        "sku": {"name": "VpnGw2", "tier": "VpnGw2"},
        "gatewayType": "Vpn",
        "vpnType": "RouteBased",
    }
    if p2s is not None:
        base["vpnClientConfiguration"] = p2s
    return {
        "id": gateway_id,
        "name": name,
        "type": "Microsoft.Network/virtualNetworkGateways",
        "location": "eastus",
        "properties": base | props,
    }


def gateway_estate() -> dict[str, Any]:
    """Four resource groups, one empty and given explicitly; gateways in two of them."""
    certificate_p2s = {
        "vpnClientAddressPool": {"addressPrefixes": ["172.16.201.0/24", "172.16.202.0/24"]},
        "vpnClientProtocols": ["IkeV2", "SSTP"],
        "vpnAuthenticationTypes": ["Certificate", "Radius"],
        "vpnClientRootCertificates": [
            {"name": "root1", "properties": {"publicCertData": "MIIC"}},
            {"name": "root2", "properties": {"publicCertData": "MIID"}},
        ],
        "radiusServerAddress": "10.1.0.10",
    }
    estate = e.estate(
        gateway("vgw-hub", "rg-hub", "vnet-hub", certificate_p2s),
        gateway("vgw-er", "rg-edge", "vnet-edge", None, gatewayType="ExpressRoute", vpnType=None),
        e.vnet("vnet-app", {"web": None}),
    )
    estate["resourceGroups"] = [
        {"id": f"/subscriptions/{e.SUB}/resourceGroups/rg-empty", "name": "rg-empty", "location": "westus"}
    ]
    return estate


def test_gateways_are_listed_per_resource_group_across_pages() -> None:
    with serve(gateway_estate(), page_size=2) as (endpoint, session):
        inventory = collect_inventory(session, steps=firewall.STEPS)
        requests = [r.path for r in endpoint.requests]
    assert not failures(inventory)
    groups = {g.name: g for g in inventory.resource_group_records}
    assert set(groups) == {"rg-empty", "rg-hub", "rg-edge", "rg-app"}
    empty = groups["rg-empty"]
    assert (empty.id, empty.subscription_id, empty.location) == (
        f"/subscriptions/{e.SUB}/resourceGroups/rg-empty",
        e.SUB,
        "westus",
    )
    assert empty.type == "Microsoft.Resources/resourceGroups"
    # Four groups at two a page: the listing followed nextLink.
    assert len([p for p in requests if p.lower().endswith("/resourcegroups")]) == 2
    assert len([p for p in requests if p.endswith("/virtualNetworkGateways")]) == 4
    gateways = {g.name: g for g in inventory.virtual_network_gateways}
    hub = gateways["vgw-hub"]
    assert (hub.subscription_id, hub.resource_group, hub.location) == (e.SUB, "rg-hub", "eastus")
    assert (hub.gateway_type, hub.vpn_type, hub.sku, hub.provisioning_state) == (
        "Vpn",
        "RouteBased",
        "VpnGw2",
        "Succeeded",
    )
    assert hub.vnet_id == e.arm_id("Microsoft.Network/virtualNetworks", "vnet-hub", group="rg-hub")
    assert hub.p2s_address_pools == ("172.16.201.0/24", "172.16.202.0/24")
    assert (hub.p2s_auth_types, hub.p2s_protocols) == (("Certificate", "Radius"), ("IkeV2", "SSTP"))
    assert (hub.p2s_root_certificates, hub.aad_tenant, hub.radius_server) == (2, None, "10.1.0.10")
    edge = gateways["vgw-er"]
    assert (edge.gateway_type, edge.vpn_type) == ("ExpressRoute", None)
    assert (edge.p2s_address_pools, edge.p2s_auth_types, edge.p2s_root_certificates, edge.radius_server) == (
        (),
        (),
        0,
        None,
    )


def test_a_group_whose_gateways_cannot_be_listed_is_an_error_for_that_group_only() -> None:
    fault = Fault(
        pattern="/rg-edge/providers/Microsoft.Network/virtualNetworkGateways",
        status=403,
        error_code="AuthorizationFailed",
    )
    inventory = collect(gateway_estate(), firewall.STEPS, faults=(fault,))
    (failed,) = failures(inventory)
    assert (failed.api, failed.subscription_id, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.Network/virtualNetworkGateways",
        e.SUB,
        f"/subscriptions/{e.SUB}/resourceGroups/rg-edge",
        403,
        "AuthorizationFailed",
    )
    assert {g.name for g in inventory.virtual_network_gateways} == {"vgw-hub"}


def test_a_failed_resource_group_listing_names_its_status_and_code() -> None:
    fault = Fault(pattern=f"/subscriptions/{e.SUB}/resourcegroups$", status=403, error_code="AuthorizationFailed")
    inventory = collect(gateway_estate(), firewall.STEPS, faults=(fault,))
    (failed,) = failures(inventory)
    assert (failed.api, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.Resources/resourceGroups",
        f"/subscriptions/{e.SUB}",
        403,
        "AuthorizationFailed",
    )
    assert inventory.resource_group_records == () and inventory.virtual_network_gateways == ()


def test_a_resource_group_page_that_is_not_a_list_is_a_failure_not_an_empty_subscription() -> None:
    estate = gateway_estate()
    estate["raw"] = [{"path": f"/subscriptions/{e.SUB}/resourcegroups", "status": 200, "body": '{"groups": []}'}]
    inventory = collect(estate, firewall.STEPS)
    (failed,) = failures(inventory)
    assert failed.api == "Microsoft.Resources/resourceGroups"
    assert "malformed response" in failed.reason


def test_a_resource_group_next_link_to_another_host_is_refused() -> None:
    estate = gateway_estate()
    body = {"value": [], "nextLink": "https://attacker.invalid/steal?api-version=1"}
    estate["raw"] = [{"path": f"/subscriptions/{e.SUB}/resourcegroups", "status": 200, "body": json.dumps(body)}]
    with serve(estate) as (endpoint, session):
        inventory = collect_inventory(session, steps=firewall.STEPS)
        paths = [r.path for r in endpoint.requests]
    (failed,) = failures(inventory)
    assert failed.api == "Microsoft.Resources/resourceGroups"
    assert "attacker.invalid" in failed.reason
    assert not [p for p in paths if "steal" in p]


def test_microsoft_gateway_example_parses_point_to_site_settings() -> None:
    inventory = collect(e.estate(rebase(example_body(GATEWAY_EXAMPLE))), firewall.STEPS)
    assert not failures(inventory)
    (parsed,) = inventory.virtual_network_gateways
    assert (parsed.name, parsed.resource_group, parsed.location) == ("vpngw", "rg1", "centralus")
    assert (parsed.gateway_type, parsed.vpn_type, parsed.sku) == ("Vpn", "RouteBased", "VpnGw1")
    assert (
        parsed.vnet_id == f"/subscriptions/{e.SUB}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1"
    )
    assert (parsed.p2s_protocols, parsed.p2s_auth_types, parsed.p2s_address_pools) == (("OpenVPN",), (), ())
    # The example lists its RADIUS server in radiusServers, not in radiusServerAddress.
    assert (parsed.radius_server, parsed.p2s_root_certificates, parsed.aad_tenant) == ("10.1.0.0", 0, None)


def peering(vnet_id: str, name: str, remote_id: str, **props: Any) -> dict[str, Any]:
    """A VNet peering embedded in its VNet."""
    return {
        "id": f"{vnet_id}/virtualNetworkPeerings/{name}",
        "name": name,
        "type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        "properties": {"remoteVirtualNetwork": {"id": remote_id}} | props,
    }


def test_vnet_peerings_are_read_from_the_vnet_listing() -> None:
    hub = e.vnet("vnet-hub", {"GatewaySubnet": None})
    spoke = e.vnet("vnet-spoke", {"web": None}, sub=e.SUB2)
    hub["properties"]["virtualNetworkPeerings"] = [
        peering(
            hub["id"],
            "to-spoke",
            spoke["id"],
            peeringState="Connected",
            allowGatewayTransit=True,
            useRemoteGateways=False,
            allowForwardedTraffic=True,
        )
    ]
    spoke["properties"]["virtualNetworkPeerings"] = [
        peering(spoke["id"], "to-hub", hub["id"], peeringState="Initiated")
    ]
    inventory = collect(e.estate(hub, spoke, subs=(e.SUB, e.SUB2)), network.STEPS)
    vnets = {v.name: v for v in inventory.virtual_networks}
    (to_spoke,) = vnets["vnet-hub"].peerings
    assert (to_spoke.name, to_spoke.remote_vnet_id, to_spoke.peering_state) == ("to-spoke", spoke["id"], "Connected")
    assert (to_spoke.allow_gateway_transit, to_spoke.use_remote_gateways, to_spoke.allow_forwarded_traffic) == (
        True,
        False,
        True,
    )
    (to_hub,) = vnets["vnet-spoke"].peerings
    assert (to_hub.remote_vnet_id, to_hub.peering_state) == (hub["id"], "Initiated")
    # Flags the peering did not report stay unknown.
    assert (to_hub.allow_gateway_transit, to_hub.use_remote_gateways, to_hub.allow_forwarded_traffic) == (
        None,
        None,
        None,
    )


# --- key vault keys -----------------------------------------------------------------------------


def key(vault_id: str, name: str, *, attributes: dict[str, Any], **props: Any) -> dict[str, Any]:
    """A key vault key as the management plane returns it."""
    host = vault_id.rsplit("/", 1)[-1]
    return {
        "id": f"{vault_id}/keys/{name}",
        "name": name,
        "type": "Microsoft.KeyVault/vaults/keys",
        "location": "eastus",
        "properties": {"attributes": attributes, "keyUri": f"https://{host}.vault.azure.net/keys/{name}"} | props,
    }


def rotation_policy(*actions: str) -> dict[str, Any]:
    """A key rotation policy with one lifetime action per type."""
    return {
        "attributes": {"expiryTime": "P1Y"},
        "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": a}} for a in actions],
    }


def key_estate() -> dict[str, Any]:
    """Two vaults with an RSA key with rotation, an EC key, a weak key and a notify-only policy."""
    good, weak = e.vault("kv-good"), e.vault("kv-weak", sub=e.SUB2)
    return e.estate(
        good,
        weak,
        key(
            good["id"],
            "disk",
            attributes={"enabled": True, "exp": 1814400000},
            kty="RSA",
            keySize=3072,
            keyUriWithVersion="https://kv-good.vault.azure.net/keys/disk/abc",
            rotationPolicy=rotation_policy("rotate", "notify"),
        ),
        key(good["id"], "signing", attributes={"enabled": True}, kty="EC", curveName="P-256"),
        key(weak["id"], "legacy", attributes={"enabled": False}, kty="RSA", keySize=1024),
        key(
            weak["id"],
            "notify-only",
            attributes={"enabled": True},
            kty="RSA",
            keySize=2048,
            rotationPolicy=rotation_policy("notify"),
        ),
        subs=(e.SUB, e.SUB2),
    )


def test_keys_are_listed_per_vault_with_type_size_expiry_and_rotation() -> None:
    with serve(key_estate(), page_size=1) as (endpoint, session):
        inventory = collect_inventory(session, steps=KEY_STEPS)
        requests = [r.path for r in endpoint.requests]
    assert not failures(inventory)
    found = {k.name: k for k in inventory.key_vault_keys}
    assert set(found) == {"disk", "signing", "legacy", "notify-only"}
    disk = found["disk"]
    assert disk.vault_id == e.arm_id("Microsoft.KeyVault/vaults", "kv-good", group="rg-keys")
    assert (disk.subscription_id, disk.resource_group, disk.location) == (e.SUB, "rg-keys", "eastus")
    assert (disk.kty, disk.key_size, disk.curve, disk.enabled, disk.expires) == ("RSA", 3072, None, True, 1814400000)
    assert (disk.key_uri, disk.key_uri_with_version) == (
        "https://kv-good.vault.azure.net/keys/disk",
        "https://kv-good.vault.azure.net/keys/disk/abc",
    )
    assert (disk.rotation_policy, disk.rotation_expiry_time, disk.rotation_actions) == (
        True,
        "P1Y",
        ("rotate", "notify"),
    )
    signing = found["signing"]
    assert (signing.kty, signing.key_size, signing.curve, signing.expires, signing.rotation_policy) == (
        "EC",
        None,
        "P-256",
        None,
        False,
    )
    legacy = found["legacy"]
    assert (legacy.subscription_id, legacy.enabled, legacy.key_size, legacy.key_uri_with_version) == (
        e.SUB2,
        False,
        1024,
        None,
    )
    assert found["notify-only"].rotation_actions == ("notify",)
    # Every key came complete in its vault's list: no key needed its own GET.
    assert not [p for p in requests if "/keys/" in p]


def test_a_sparse_key_list_is_completed_by_one_get_per_key() -> None:
    estate = key_estate()
    good_id = e.arm_id("Microsoft.KeyVault/vaults", "kv-good", group="rg-keys")
    # Microsoft's own Keys_List example returns only attributes and keyUri.
    sparse = {
        "value": [
            {
                "id": f"{good_id}/keys/disk",
                "name": "disk",
                "type": "Microsoft.KeyVault/vaults/keys",
                "location": "eastus",
                "properties": {
                    "attributes": {"enabled": True, "recoveryLevel": "Purgeable"},
                    "keyUri": "https://kv-good.vault.azure.net/keys/disk",
                },
            }
        ]
    }
    estate["raw"] = [{"path": f"{good_id}/keys", "status": 200, "body": json.dumps(sparse)}]
    with serve(estate) as (endpoint, session):
        inventory = collect_inventory(session, steps=KEY_STEPS)
        requests = [r.path for r in endpoint.requests]
    assert not failures(inventory)
    found = {k.name: k for k in inventory.key_vault_keys}
    assert set(found) == {"disk", "legacy", "notify-only"}
    disk = found["disk"]
    assert (disk.kty, disk.key_size, disk.expires, disk.rotation_actions) == (
        "RSA",
        3072,
        1814400000,
        ("rotate", "notify"),
    )
    assert disk.vault_id == good_id
    assert [p for p in requests if "/keys/" in p] == [f"{good_id}/keys/disk"]


def test_a_vault_whose_keys_cannot_be_listed_is_an_error_for_that_vault_only() -> None:
    fault = Fault(pattern="/vaults/kv-weak/keys", status=403, error_code="AuthorizationFailed")
    inventory = collect(key_estate(), KEY_STEPS, faults=(fault,))
    (failed,) = failures(inventory)
    assert (failed.api, failed.subscription_id, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.KeyVault/vaults/keys",
        e.SUB2,
        e.arm_id("Microsoft.KeyVault/vaults", "kv-weak", group="rg-keys", sub=e.SUB2),
        403,
        "AuthorizationFailed",
    )
    assert {k.name for k in inventory.key_vault_keys} == {"disk", "signing"}


# --- the demo estate ----------------------------------------------------------------------------


def test_the_demo_estate_is_read_by_every_collector_here() -> None:
    estate = json.loads(demo_estate_path().read_text(encoding="utf-8"))
    inventory = collect(estate, BACKUP_STEPS + NETWORK_STEPS + KEY_STEPS, page_size=3)
    assert not failures(inventory)
    vaults = {v.name: v for v in inventory.recovery_vaults}
    assert (vaults["rsv-mul2-prod"].storage_redundancy, vaults["rsv-mul2-prod"].cross_region_restore) == (
        "GeoRedundant",
        True,
    )
    assert vaults["rsv-mul2-prod"].cmk_key_uri is not None
    assert (vaults["rsv-mul2-stg"].storage_redundancy, vaults["rsv-mul2-stg"].public_network_access) == (
        "LocallyRedundant",
        "Enabled",
    )
    assert len(inventory.backup_policies) == 5 and len(inventory.protected_items) == 9
    sql = next(p for p in inventory.backup_policies if p.workload_type == "SQLDataBase")
    assert [(s.policy_type, s.frequency_minutes) for s in sql.sub_policies] == [
        ("Full", None),
        ("Differential", None),
        ("Log", 15),
    ]
    (policy_record,) = inventory.firewall_policies
    assert {r.name for r in policy_record.nat_rules} == {"rdp-sqlvm-whitelisted", "rdp-web01-vendor"}
    (firewall_record,) = inventory.azure_firewalls
    assert (firewall_record.threat_intel_mode, firewall_record.private_ips) == ("Deny", ("10.0.1.4",))
    assert {t.name for t in inventory.route_tables} == {"rt-mul2-prod-servers", "rt-mul2-prod-spoke"}
    gateways = {g.name: g for g in inventory.virtual_network_gateways}
    assert set(gateways) == {"vgw-mul2-prod-hub", "vgw-mul2-stg-partner"}
    assert gateways["vgw-mul2-stg-partner"].p2s_auth_types == ("Radius",)
    vpn = gateways["vgw-mul2-prod-hub"]
    assert (vpn.p2s_auth_types, vpn.p2s_address_pools) == (("AAD",), ("172.16.201.0/24",))
    assert vpn.vnet_id is not None and vpn.vnet_id.endswith("/virtualNetworks/vnet-mul2-prod-hub")
    assert len(inventory.resource_group_records) == 7
    assert len(inventory.key_vault_keys) == 7
    assert {k.name for k in inventory.key_vault_keys if k.rotation_policy} == {
        "des-key-prod",
        "sql-tde-key",
        "rsv-cmk-prod",
    }
    peerings = {p.name: p for v in inventory.virtual_networks for p in v.peerings}
    assert peerings["peer-spoke-to-hub"].use_remote_gateways is True
