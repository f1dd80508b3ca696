"""BAK-01, BAK-02 and BAK-04 through the live door and the IaC doors: one case table per rule, the same verdicts.

The live records are built by the collectors' own builders from bodies shaped like Microsoft's examples
(ProtectionPolicies_Get, SqlVirtualMachines_Get with ``$expand=*``, StorageAccounts_GetProperties, Vaults_Get,
LongTermRetentionPolicies_Get). Values code leaves to deployment are errors through the IaC doors; the live
door never sees an expression, so those cases are judged through the doors alone at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks.recovery import BackupAccount
from auditor.collect.backup import backup_policy, recovery_vault
from auditor.collect.sql import (
    sql_database,
    sql_server,
    sql_virtual_machine,
    with_auto_backup_settings,
    with_long_term_retention_body,
    with_short_term_retention_body,
)
from auditor.collect.storage import storage_account
from auditor.iac.doors import DOORS, judge_resource, registered
from auditor.iac.runner import run_checkov
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.backup import BackupPolicy, RecoveryVault
from auditor.records.sql import SqlDatabase, SqlVirtualMachine
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, live_door, params

VAULT = "rsv-parity"
VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
POLICY_TYPE = "Microsoft.RecoveryServices/vaults/backupPolicies"
SQL_VM_TYPE = "Microsoft.SqlVirtualMachine/sqlVirtualMachines"
ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"
LTR_TYPE = "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies"
RUN_TIME = "2026-01-18T23:00:00Z"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
BACKUP_URL = "https://stparitybackup.blob.core.windows.net/"


def got(resource_type: str, name: str, properties: Mapping[str, Any], **top: Any) -> dict[str, Any]:
    """A resource as ARM GET returns it."""
    return (
        {"id": arm_id(resource_type, name), "name": name.rsplit("/", 1)[-1], "type": resource_type}
        | top
        | {"properties": dict(properties)}
    )


def declared(
    resource_type: str, api_version: str, name: str, properties: Mapping[str, Any], **top: Any
) -> dict[str, Any]:
    """The ARM template resource declaring the same resource."""
    return {"type": resource_type, "apiVersion": api_version, "name": name} | top | {"properties": dict(properties)}


def vault_record() -> RecoveryVault:
    """The vault the policies belong to, as the collector builds it."""
    return recovery_vault(got(VAULT_TYPE, VAULT, {}, location="eastus"), SUBSCRIPTION)


# --- BAK-01: VM backup policies -------------------------------------------------------------------------------


def vm_policy_properties(frequency: str, retention: Mapping[str, Any]) -> dict[str, Any]:
    """An Azure VM policy's properties: a simple schedule and long-term retention."""
    schedule: dict[str, Any] = {
        "schedulePolicyType": "SimpleSchedulePolicy",
        "scheduleRunFrequency": frequency,
        "scheduleRunTimes": [RUN_TIME],
    }
    if frequency == "Weekly":
        schedule["scheduleRunDays"] = ["Sunday"]
    return {
        "backupManagementType": "AzureIaasVM",
        "instantRpRetentionRangeInDays": 2,
        "schedulePolicy": schedule,
        "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", **retention},
        "timeZone": "UTC",
        "protectedItemsCount": 0,
    }


def daily(count: int) -> dict[str, Any]:
    """Daily recovery points kept ``count`` days."""
    return {
        "dailySchedule": {"retentionTimes": [RUN_TIME], "retentionDuration": {"count": count, "durationType": "Days"}}
    }


WEEKLY_12 = {
    "weeklySchedule": {
        "daysOfTheWeek": ["Sunday"],
        "retentionTimes": [RUN_TIME],
        "retentionDuration": {"count": 12, "durationType": "Weeks"},
    }
}


def vm_policy_terraform(name: str, frequency: str, retention: str) -> str:
    """An azurerm_backup_policy_vm."""
    weekdays = '\n    weekdays  = ["Sunday"]' if frequency == "Weekly" else ""
    return (
        f'resource "azurerm_backup_policy_vm" "{name}" {{\n  name                = "{name}"\n'
        f'  resource_group_name = "rg-parity"\n  recovery_vault_name = "{VAULT}"\n\n'
        f'  backup {{\n    frequency = "{frequency}"\n    time      = "23:00"{weekdays}\n  }}\n\n{retention}\n}}\n'
    )


def vm_policy_case(
    name: str, expected: Status, frequency: str, retention: Mapping[str, Any], hcl: str, **kw: Any
) -> Case:
    """One VM policy in the three shapes."""
    properties = vm_policy_properties(frequency, retention)
    return Case(
        name,
        expected,
        got(POLICY_TYPE, f"{VAULT}/{name}", properties),
        vm_policy_terraform(name, frequency, hcl),
        declared(POLICY_TYPE, "2023-04-01", f"{VAULT}/{name}", properties),
        **kw,
    )


VM_POLICY_CASES = (
    vm_policy_case("pol-daily-30", Status.PASS, "Daily", daily(30), "  retention_daily {\n    count = 30\n  }"),
    vm_policy_case("pol-daily-7", Status.FAIL, "Daily", daily(7), "  retention_daily {\n    count = 7\n  }"),
    vm_policy_case(
        "pol-weekly",
        Status.FAIL,
        "Weekly",
        WEEKLY_12,
        '  retention_weekly {\n    count    = 12\n    weekdays = ["Sunday"]\n  }',
    ),
    vm_policy_case(
        "pol-daily-7-relaxed",
        Status.PASS,
        "Daily",
        daily(7),
        "  retention_daily {\n    count = 7\n  }",
        params={"vm_backup_retention_days": "7"},
    ),
)


def build_policy(raw: Mapping[str, Any]) -> BackupPolicy:
    """The record a live scan builds of the policy."""
    return backup_policy(raw, vault_record())


def test_vm_daily_backup_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("vm_daily_backup", build_policy, VM_POLICY_CASES, tmp_path)


# --- BAK-02: SQL workload policies and SQL Server on VMs ------------------------------------------------------


def simple(days: int) -> dict[str, Any]:
    """Simple retention of ``days`` days."""
    return {
        "retentionPolicyType": "SimpleRetentionPolicy",
        "retentionDuration": {"count": days, "durationType": "Days"},
    }


def workload_properties(log_minutes: int, differential_days: int) -> dict[str, Any]:
    """A SQL-in-VM workload policy: weekly full kept 9 weeks, six differentials a week, logs kept 35 days."""
    return {
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
                        "retentionDuration": {"count": 9, "durationType": "Weeks"},
                    },
                },
            },
            {
                "policyType": "Differential",
                "schedulePolicy": {
                    "schedulePolicyType": "SimpleSchedulePolicy",
                    "scheduleRunFrequency": "Weekly",
                    "scheduleRunDays": WEEKDAYS,
                    "scheduleRunTimes": ["2026-01-18T13:00:00Z"],
                },
                "retentionPolicy": simple(differential_days),
            },
            {
                "policyType": "Log",
                "schedulePolicy": {"schedulePolicyType": "LogSchedulePolicy", "scheduleFrequencyInMins": log_minutes},
                "retentionPolicy": simple(35),
            },
        ],
        "protectedItemsCount": 1,
    }


def workload_terraform(name: str, log_minutes: int, differential_days: int) -> str:
    """An azurerm_backup_policy_vm_workload of the same schedules."""
    days = ", ".join(f'"{d}"' for d in WEEKDAYS)
    return f'''resource "azurerm_backup_policy_vm_workload" "{name}" {{
  name                = "{name}"
  resource_group_name = "rg-parity"
  recovery_vault_name = "{VAULT}"
  workload_type       = "SQLDataBase"

  settings {{
    time_zone           = "UTC"
    compression_enabled = false
  }}

  protection_policy {{
    policy_type = "Full"
    backup {{
      frequency = "Weekly"
      weekdays  = ["Sunday"]
      time      = "01:00"
    }}
    retention_weekly {{
      count    = 9
      weekdays = ["Sunday"]
    }}
  }}

  protection_policy {{
    policy_type = "Differential"
    backup {{
      frequency = "Weekly"
      weekdays  = [{days}]
      time      = "13:00"
    }}
    simple_retention {{
      count = {differential_days}
    }}
  }}

  protection_policy {{
    policy_type = "Log"
    backup {{
      frequency_in_minutes = {log_minutes}
    }}
    simple_retention {{
      count = 35
    }}
  }}
}}
'''


def workload_case(name: str, expected: Status, log_minutes: int, differential_days: int, **kw: Any) -> Case:
    """One SQL workload policy in the three shapes."""
    properties = workload_properties(log_minutes, differential_days)
    return Case(
        name,
        expected,
        got(POLICY_TYPE, f"{VAULT}/{name}", properties),
        workload_terraform(name, log_minutes, differential_days),
        declared(POLICY_TYPE, "2023-04-01", f"{VAULT}/{name}", properties),
        **kw,
    )


def auto_backup_settings(**changes: Any) -> dict[str, Any]:
    """Automated Backup with a manual weekly schedule, 5-minute logs, kept 60 days, encrypted."""
    return {
        "enable": True,
        "enableEncryption": True,
        "retentionPeriod": 60,
        "storageAccountUrl": BACKUP_URL,
        "backupSystemDbs": True,
        "backupScheduleType": "Manual",
        "fullBackupFrequency": "Weekly",
        "daysOfWeek": ["Sunday"],
        "fullBackupStartTime": 1,
        "fullBackupWindowHours": 4,
        "logBackupFrequency": 5,
    } | changes


def sql_vm_properties(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """A SQL virtual machine's properties, with Automated Backup settings when given."""
    properties: dict[str, Any] = {
        "virtualMachineResourceId": arm_id("Microsoft.Compute/virtualMachines", "sqlvm-parity"),
        "sqlImageOffer": "SQL2019-WS2022",
        "sqlImageSku": "Enterprise",
        "sqlServerLicenseType": "PAYG",
        "sqlManagement": "Full",
    }
    if settings is not None:
        properties["autoBackupSettings"] = dict(settings)
    return properties


def sql_vm_terraform(name: str, auto_backup: str) -> str:
    """An azurerm_mssql_virtual_machine with the case's auto_backup block (none when empty)."""
    return (
        f'variable "backup_password" {{\n  type      = string\n  sensitive = true\n}}\n\n'
        f'resource "azurerm_mssql_virtual_machine" "{name}" {{\n'
        f'  virtual_machine_id = "{arm_id("Microsoft.Compute/virtualMachines", "sqlvm-parity")}"\n'
        f'  sql_license_type   = "PAYG"\n{auto_backup}}}\n'
    )


AUTO_BACKUP_HCL = """  auto_backup {
    encryption_password             = var.backup_password
    retention_period_in_days        = 60
    storage_blob_endpoint           = "https://stparitybackup.blob.core.windows.net/"
    storage_account_access_key      = "not-a-real-key"
    system_databases_backup_enabled = true

    manual_schedule {
      full_backup_frequency           = "Weekly"
      full_backup_start_hour          = 1
      full_backup_window_in_hours     = 4
      log_backup_frequency_in_minutes = 5
      days_of_week                    = ["Sunday"]
    }
  }
"""


def sql_vm_case(name: str, expected: Status, settings: Mapping[str, Any] | None, hcl: str, **kw: Any) -> Case:
    """One SQL virtual machine in the three shapes."""
    properties = sql_vm_properties(settings)
    return Case(
        name,
        expected,
        got(SQL_VM_TYPE, name, properties, location="eastus"),
        sql_vm_terraform(name, hcl),
        declared(SQL_VM_TYPE, "2023-10-01", name, properties, location="eastus"),
        **kw,
    )


AZURE_BACKUP_AS_OFFERED = {
    "log_backup_interval_minutes": "15",
    "differential_backups_per_day": "1",
    "db_backup_retention_days": "35",
}
SQL_CASES = (
    workload_case("pol-sql-15min", Status.FAIL, 15, 30),
    workload_case("pol-sql-offered", Status.PASS, 15, 60, params=AZURE_BACKUP_AS_OFFERED),
    sql_vm_case("sqlvm-auto-as-written", Status.FAIL, auto_backup_settings(), AUTO_BACKUP_HCL),
    sql_vm_case(
        "sqlvm-auto-clear",
        Status.FAIL,
        auto_backup_settings(enableEncryption=False),
        AUTO_BACKUP_HCL.replace("    encryption_password             = var.backup_password\n", ""),
    ),
    sql_vm_case(
        "sqlvm-auto-short",
        Status.FAIL,
        auto_backup_settings(retentionPeriod=30, logBackupFrequency=60),
        AUTO_BACKUP_HCL.replace("= 60", "= 30").replace("in_minutes = 5", "in_minutes = 60"),
    ),
    sql_vm_case("sqlvm-no-auto", Status.ERROR, None, ""),
)


def build_sql(raw: Mapping[str, Any]) -> BackupPolicy | SqlVirtualMachine:
    """The record a live scan builds of the policy or of the SQL VM (read with ``$expand=*``)."""
    if raw["type"] == POLICY_TYPE:
        return backup_policy(raw, vault_record())
    return with_auto_backup_settings(raw, sql_virtual_machine(raw, SUBSCRIPTION))


def test_sql_backup_policy_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("sql_backup_policy", build_sql, SQL_CASES, tmp_path)


# --- BAK-02: Azure SQL database retention -----------------------------------------------------------------------
# Terraform declares a database's retention inline; ARM as child resources, of which the long-term one decides
# (point-in-time retention is at most 35 days), so the ARM door is over that child.

SERVER = "sql-parity"


def database_got(name: str, weekly: str | None, short_days: int) -> dict[str, Any]:
    """The database with its two retention policy bodies, as the collector reads them."""
    database = got("Microsoft.Sql/servers/databases", f"{SERVER}/{name}", {"status": "Online"}, location="eastus")
    ltr = got(LTR_TYPE, f"{SERVER}/{name}/default", {"weeklyRetention": weekly or "PT0S"})
    short = got(
        "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies",
        f"{SERVER}/{name}/default",
        {"retentionDays": short_days},
    )
    return {"database": database, "ltr": ltr, "str": short}


def database_terraform(name: str, weekly: str | None, short_days: int | None) -> str:
    """An azurerm_mssql_database with the case's retention blocks."""
    blocks = f'\n  long_term_retention_policy {{\n    weekly_retention = "{weekly}"\n  }}\n' if weekly else ""
    if short_days is not None:
        blocks += f"\n  short_term_retention_policy {{\n    retention_days = {short_days}\n  }}\n"
    server = arm_id("Microsoft.Sql/servers", SERVER)
    return (
        f'resource "azurerm_mssql_database" "{name}" {{\n  name      = "{name}"\n  server_id = "{server}"\n{blocks}}}\n'
    )


def ltr_template(name: str, weekly: str) -> dict[str, Any]:
    """The database's long-term retention policy as a child resource of the template."""
    return declared(LTR_TYPE, "2023-05-01-preview", f"{SERVER}/{name}/default", {"weeklyRetention": weekly})


DATABASE_CASES = (
    Case(
        "sqldb-p9w",
        Status.PASS,
        database_got("sqldb-p9w", "P9W", 35),
        database_terraform("sqldb-p9w", "P9W", 35),
        ltr_template("sqldb-p9w", "P9W"),
    ),
    Case(
        "sqldb-p8w-relaxed",
        Status.PASS,
        database_got("sqldb-p8w-relaxed", "P8W", 35),
        database_terraform("sqldb-p8w-relaxed", "P8W", 35),
        ltr_template("sqldb-p8w-relaxed", "P8W"),
        params={"db_backup_retention_days": "56"},
    ),
    # Azure keeps point-in-time backups 7 days unless told otherwise (the provider's default too).
    Case(
        "sqldb-no-ltr",
        Status.FAIL,
        database_got("sqldb-no-ltr", None, 7),
        database_terraform("sqldb-no-ltr", None, None),
        None,
    ),
)


def build_database(raw: Mapping[str, Any]) -> SqlDatabase:
    """The record a live scan builds of the database and its two retention policies."""
    server = sql_server(got("Microsoft.Sql/servers", SERVER, {}, location="eastus"), SUBSCRIPTION)
    database = sql_database(raw["database"], server)
    return with_long_term_retention_body(raw["ltr"], with_short_term_retention_body(raw["str"], database))


def test_sql_database_retention_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("sql_database_retention", build_database, DATABASE_CASES, tmp_path)


# --- BAK-04: backup storage accounts and vaults -----------------------------------------------------------------


def account_case(name: str, expected: Status, sku: str, location: str | None, secondary: str | None) -> Case:
    """One storage account: what ARM reports (primary and secondary regions) and what code declares."""
    properties: dict[str, Any] = {"supportsHttpsTrafficOnly": True, "statusOfPrimary": "available"}
    top: dict[str, Any] = {"kind": "StorageV2", "sku": {"name": sku, "tier": "Standard"}}
    if location is not None:
        properties["primaryLocation"] = location
        top["location"] = location
    if secondary is not None:
        properties["secondaryLocation"] = secondary
    tier, replication = sku.split("_", 1)
    where = f'"{location}"' if location is not None else "var.location"
    terraform = (
        'variable "location" {\n  type = string\n}\n\n'
        f'resource "azurerm_storage_account" "{name}" {{\n  name                     = "{name}"\n'
        f"  location                 = {where}\n"
        f'  resource_group_name      = "rg-parity"\n  account_tier             = "{tier}"\n'
        f'  account_replication_type = "{replication}"\n}}\n'
    )
    template = declared(
        ACCOUNT_TYPE,
        "2023-05-01",
        name,
        {"supportsHttpsTrafficOnly": True},
        location=location if location is not None else "[resourceGroup().location]",
        kind="StorageV2",
        sku={"name": sku},
    )
    return Case(name, expected, got(ACCOUNT_TYPE, name, properties, **top), terraform, template)


def vault_case(name: str, expected: Status, redundancy: str) -> Case:
    """One Recovery Services vault and its storage redundancy."""
    settings = {"standardTierStorageRedundancy": redundancy, "crossRegionRestore": "Disabled"}
    properties = {"provisioningState": "Succeeded", "redundancySettings": settings}
    terraform = (
        f'resource "azurerm_recovery_services_vault" "{name}" {{\n  name                = "{name}"\n'
        f'  location            = "eastus"\n  resource_group_name = "rg-parity"\n  sku                 = "Standard"\n'
        f'  storage_mode_type   = "{redundancy}"\n}}\n'
    )
    sku = {"name": "RS0", "tier": "Standard"}
    return Case(
        name,
        expected,
        got(VAULT_TYPE, name, properties, location="eastus", sku=sku),
        terraform,
        declared(VAULT_TYPE, "2023-04-01", name, properties, location="eastus", sku=sku),
    )


STORAGE_CASES = (
    account_case("stparityragrs", Status.PASS, "Standard_RAGRS", "eastus", "westus"),
    account_case("stparitylrs", Status.FAIL, "Standard_LRS", "eastus", None),
    account_case("stparityweu", Status.FAIL, "Standard_GRS", "westeurope", "northeurope"),
    account_case("stparitywhere", Status.ERROR, "Standard_GZRS", None, None),
    vault_case("rsv-parity-geo", Status.PASS, "GeoRedundant"),
    vault_case("rsv-parity-local", Status.FAIL, "LocallyRedundant"),
)


def build_storage(raw: Mapping[str, Any]) -> BackupAccount | RecoveryVault:
    """The record a live scan builds of the account (as backup storage) or of the vault."""
    if raw["type"] == VAULT_TYPE:
        return recovery_vault(raw, SUBSCRIPTION)
    return BackupAccount(storage_account(raw, SUBSCRIPTION))


def test_backup_geo_redundancy_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("backup_geo_redundancy", build_storage, STORAGE_CASES, tmp_path)


# --- what only code can leave open: expressions decided at deployment ----------------------------------------


def door(rule: str, language: str) -> Any:
    """The rule's door for one language."""
    [found] = [d for d in DOORS if d.rule == rule and d.language == language]
    return found


@pytest.mark.parametrize(
    ("rule", "language", "resource_type", "conf", "named"),
    [
        (
            "vm_daily_backup",
            "terraform",
            "azurerm_backup_policy_vm",
            {
                "name": ["pol"],
                "backup": [{"frequency": ["Daily"], "time": ["23:00"]}],
                "retention_daily": [{"count": ["${var.days}"]}],
            },
            "${var.days}",
        ),
        (
            "vm_daily_backup",
            "arm",
            POLICY_TYPE,
            declared(POLICY_TYPE, "2023-04-01", f"{VAULT}/pol", vm_policy_properties("Daily", daily(30)))
            | {
                "properties": vm_policy_properties(
                    "Daily",
                    {"dailySchedule": {"retentionDuration": {"count": "[parameters('days')]", "durationType": "Days"}}},
                )
            },
            "[parameters('days')]",
        ),
        (
            "sql_backup_policy",
            "terraform",
            "azurerm_mssql_virtual_machine",
            {"auto_backup": [{"retention_period_in_days": ["var.days"], "storage_blob_endpoint": [BACKUP_URL]}]},
            "var.days",
        ),
        (
            "sql_backup_policy",
            "arm",
            SQL_VM_TYPE,
            declared(
                SQL_VM_TYPE,
                "2023-10-01",
                "sqlvm",
                sql_vm_properties(auto_backup_settings(storageAccountUrl="[reference('st').primaryEndpoints.blob]")),
            ),
            "primaryEndpoints.blob",
        ),
        (
            "sql_database_retention",
            "arm",
            LTR_TYPE,
            declared(LTR_TYPE, "2023-05-01-preview", f"{SERVER}/db/default", {"weeklyRetention": "[parameters('w')]"}),
            "parameters('w')",
        ),
    ],
    ids=["tf-vm-policy", "arm-vm-policy", "tf-sql-vm", "arm-sql-vm", "arm-ltr"],
)
def test_a_value_left_to_deployment_is_an_error_naming_it(
    rule: str, language: str, resource_type: str, conf: dict[str, Any], named: str
) -> None:
    verdict = judge_resource(door(rule, language), resource_type, conf, params())
    assert verdict is not None and verdict.status is Status.ERROR
    assert named in verdict.message


def test_a_vault_storage_configuration_child_decides_the_vault_redundancy() -> None:
    config = declared(
        "Microsoft.RecoveryServices/vaults/backupstorageconfig",
        "2023-04-01",
        f"{VAULT}/vaultstorageconfig",
        {"storageModelType": "LocallyRedundant", "crossRegionRestoreFlag": False},
    )
    verdict = judge_resource(door("backup_geo_redundancy", "arm"), config["type"], config, params())
    assert verdict is not None and verdict.status is Status.FAIL
    assert verdict.message == "Vault stores backups LocallyRedundant, not GeoRedundant"


def test_a_policy_of_the_other_kind_is_not_the_rule_subject() -> None:
    workload = declared(POLICY_TYPE, "2023-04-01", f"{VAULT}/pol-sql", workload_properties(15, 60))
    assert judge_resource(door("vm_daily_backup", "arm"), POLICY_TYPE, workload, params()) is None
    vm = declared(POLICY_TYPE, "2023-04-01", f"{VAULT}/pol-vm", vm_policy_properties("Daily", daily(30)))
    assert judge_resource(door("sql_backup_policy", "arm"), POLICY_TYPE, vm, params()) is None


def test_automated_backup_passes_through_either_door_once_differentials_are_not_promised() -> None:
    """The baseline asks for at least one differential a day, which Automated Backup never takes; a policy
    without that promise passes the same SQL VM through both doors with the live message."""
    relaxed = Params(dict(params().values) | {"differential_backups_per_day": 0}).at(params().moment)
    [case] = [c for c in SQL_CASES if c.name == "sqlvm-auto-as-written"]
    live = registered("sql_backup_policy").decide(build_sql(case.arm), relaxed)
    assert live is not None and live.status is Status.PASS
    hcl = {
        "auto_backup": [
            {
                "encryption_password": ["${var.backup_password}"],
                "retention_period_in_days": [60],
                "storage_blob_endpoint": [BACKUP_URL],
                "manual_schedule": [
                    {
                        "full_backup_frequency": ["Weekly"],
                        "full_backup_start_hour": [1],
                        "log_backup_frequency_in_minutes": [5],
                        "days_of_week": [["Sunday"]],
                    }
                ],
            }
        ]
    }
    for language, resource_type, conf in (
        ("terraform", "azurerm_mssql_virtual_machine", hcl),
        ("arm", SQL_VM_TYPE, case.template),
    ):
        assert conf is not None
        verdict = judge_resource(door("sql_backup_policy", language), resource_type, conf, relaxed)
        assert verdict is not None
        assert (verdict.status, verdict.message) == (Status.PASS, live.message)


# --- Bicep: checkov gives the ARM doors Bicep resources in the same shape -------------------------------------

BICEP = Path(__file__).parent / "data" / "iac" / "recovery" / "main.bicep"


def test_bicep_resources_get_the_verdicts_and_messages_of_the_live_door(tmp_path: Path) -> None:
    pytest.importorskip("checkov")
    tables = {
        "vm_daily_backup": (build_policy, VM_POLICY_CASES, "daily", "pol-daily-7"),
        "sql_backup_policy": (build_sql, SQL_CASES, "sqlvm", "sqlvm-auto-as-written"),
        "sql_database_retention": (build_database, DATABASE_CASES, "ltr", "sqldb-p9w"),
        "backup_geo_redundancy": (build_storage, STORAGE_CASES, "account", "stparityragrs"),
    }
    rules = {rule: registered(rule) for rule in tables}
    run = run_checkov([BICEP], [r.spec.iac_id for r in rules.values()], params())
    said = {(r.check_id, r.resource.rsplit(".", 1)[-1]): (r.verdict_status, r.verdict_message) for r in run.records}
    for rule, (build, cases, symbol, case_name) in tables.items():
        [case] = [c for c in cases if c.name == case_name]
        live = live_door(rules[rule], build, case)
        assert live.status is not None
        assert said[(rules[rule].spec.iac_id, symbol)] == (live.status.value, live.message), rule
    [vault_case_] = [c for c in STORAGE_CASES if c.name == "rsv-parity-local"]
    live = live_door(rules["backup_geo_redundancy"], build_storage, vault_case_)
    assert live.status is not None
    assert said[(rules["backup_geo_redundancy"].spec.iac_id, "vault")] == (live.status.value, live.message)
