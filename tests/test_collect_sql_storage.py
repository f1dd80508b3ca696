"""SQL and storage collection through the local endpoint and the real SDK clients."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from auditor.collect import sql, storage
from auditor.collect.scan import collect_inventory
from auditor.emulator import Fault
from auditor.inventory import Collection, Inventory
from auditor.records.sql import AutomatedBackup
from tests import estates as e
from tests.harness import EXAMPLES, example_body, serve

SQL_EXAMPLES = "sql/resource-manager/Microsoft.Sql/stable/2023-08-01/examples"
SERVER_EXAMPLE = f"{SQL_EXAMPLES}/ServerGet.json"
TDE_EXAMPLE = f"{SQL_EXAMPLES}/TransparentDataEncryptionGet.json"
PROTECTOR_EXAMPLE = f"{SQL_EXAMPLES}/EncryptionProtectorGet.json"
# Microsoft's example of a SQL VM with weekly Automated Backup (see tests/data/azure-rest-examples/ORIGIN.md).
AUTOMATED_BACKUP_EXAMPLE = (
    "sqlvirtualmachine/resource-manager/Microsoft.SqlVirtualMachine/stable/2023-10-01/examples/"
    "CreateOrUpdateSqlVirtualMachineAutomatedBackupWeekly.json"
)
STORAGE_EXAMPLE = (
    "storage/resource-manager/Microsoft.Storage/stable/2023-05-01/examples/StorageAccountGetProperties.json"
)
DEMO_ESTATE = Path(__file__).parent.parent / "auditor" / "data" / "demo-estate.json"

STEPS = sql.STEPS + storage.STEPS
KEY_URI = "https://kv-data.vault.azure.net/keys/tde/0123456789abcdef0123456789abcdef"


# --- raw ARM builders ------------------------------------------------------------------------------


def rebase(body: dict[str, Any], sub: str = e.SUB) -> dict[str, Any]:
    """A Microsoft example re-homed into a test subscription (their ids use placeholders)."""
    text = re.sub(r"/subscriptions/[^/\"]+/", f"/subscriptions/{sub}/", json.dumps(body), flags=re.IGNORECASE)
    result: dict[str, Any] = json.loads(text)
    return result


def sql_server(name: str, *, sub: str = e.SUB, group: str = "rg-data", **props: Any) -> dict[str, Any]:
    """A logical server as ARM's list returns it; ``props`` replace or add properties."""
    base = {
        "administratorLogin": "sqladmin",
        "version": "12.0",
        "state": "Ready",
        "fullyQualifiedDomainName": f"{name}.database.windows.net",
        "minimalTlsVersion": "1.2",
        "publicNetworkAccess": "Disabled",
    }
    return {
        "id": e.arm_id("Microsoft.Sql/servers", name, group=group, sub=sub),
        "name": name,
        "type": "Microsoft.Sql/servers",
        "location": "eastus",
        "kind": "v12.0",
        "properties": {k: v for k, v in (base | props).items() if v is not None},
    }


def protector(
    server: dict[str, Any], key_type: str, uri: str | None = None, *, rotation: bool = False
) -> dict[str, Any]:
    """The server's ``encryptionProtector/current``."""
    props: dict[str, Any] = {"serverKeyType": key_type, "autoRotationEnabled": rotation}
    if uri:
        props |= {"uri": uri, "serverKeyName": "kv-data_tde_0123456789abcdef0123456789abcdef"}
    else:
        props["serverKeyName"] = "ServiceManaged"
    return {
        "id": f"{server['id']}/encryptionProtector/current",
        "name": "current",
        "type": "Microsoft.Sql/servers/encryptionProtector",
        "kind": "azurekeyvault" if uri else "servicemanaged",
        "location": server["location"],
        "properties": props,
    }


def sql_database(server: dict[str, Any], name: str, *, sku: str = "S2") -> dict[str, Any]:
    """A database of a server."""
    user = name.lower() != "master"
    return {
        "id": f"{server['id']}/databases/{name}",
        "name": name,
        "type": "Microsoft.Sql/servers/databases",
        "location": server["location"],
        "kind": "v12.0,user" if user else "v12.0,system",
        "sku": {"name": sku, "tier": "Standard" if user else "System"},
        "properties": {"collation": "SQL_Latin1_General_CP1_CI_AS", "status": "Online"},
    } | ({} if user else {"managedBy": server["id"]})


def tde(database: dict[str, Any], state: str) -> dict[str, Any]:
    """The database's ``transparentDataEncryption/current``."""
    return {
        "id": f"{database['id']}/transparentDataEncryption/current",
        "name": "current",
        "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
        "properties": {"state": state},
    }


def short_term_retention(database: dict[str, Any], days: int) -> dict[str, Any]:
    """The database's ``backupShortTermRetentionPolicies/default``."""
    return {
        "id": f"{database['id']}/backupShortTermRetentionPolicies/default",
        "name": "default",
        "type": "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies",
        "properties": {"retentionDays": days, "diffBackupIntervalInHours": 12},
    }


def long_term_retention(
    database: dict[str, Any], weekly: str = "PT0S", monthly: str = "PT0S", yearly: str = "PT0S", week: int = 0
) -> dict[str, Any]:
    """The database's ``backupLongTermRetentionPolicies/default`` (``PT0S`` is ARM's "not kept")."""
    return {
        "id": f"{database['id']}/backupLongTermRetentionPolicies/default",
        "name": "default",
        "type": "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies",
        "properties": {
            "weeklyRetention": weekly,
            "monthlyRetention": monthly,
            "yearlyRetention": yearly,
            "weekOfYear": week,
        },
    }


def user_database(
    server: dict[str, Any], name: str, *, state: str = "Enabled", days: int = 7, **ltr: Any
) -> list[dict[str, Any]]:
    """A user database with its TDE and both retention policies, as separate ARM entries."""
    database = sql_database(server, name)
    return [database, tde(database, state), short_term_retention(database, days), long_term_retention(database, **ltr)]


def sql_vm(name: str, offer: str, sku: str, *, sub: str = e.SUB, **props: Any) -> dict[str, Any]:
    """A SQL virtual machine registered by the SQL IaaS extension."""
    base = {
        "virtualMachineResourceId": e.arm_id("Microsoft.Compute/virtualMachines", name, group="rg-data", sub=sub),
        "provisioningState": "Succeeded",
        "sqlImageOffer": offer,
        "sqlImageSku": sku,
        "sqlServerLicenseType": "PAYG",
        "sqlManagement": "Full",
        "leastPrivilegeMode": "NotSet",
        "osType": "Windows",
    }
    return {
        "id": e.arm_id("Microsoft.SqlVirtualMachine/sqlVirtualMachines", name, group="rg-data", sub=sub),
        "name": name,
        "type": "Microsoft.SqlVirtualMachine/sqlVirtualMachines",
        "location": "eastus",
        "properties": base | props,
    }


def storage_account(
    name: str, *, sku: str = "Standard_RAGRS", sub: str = e.SUB, key_vault_key: str | None = None, **props: Any
) -> dict[str, Any]:
    """A storage account as ARM's list returns it; ``props`` replace or add top-level properties."""
    encryption: dict[str, Any] = {
        "requireInfrastructureEncryption": True,
        "services": {"blob": {"keyType": "Account", "enabled": True}, "file": {"keyType": "Account", "enabled": True}},
        "keySource": "Microsoft.Storage",
    }
    if key_vault_key:
        encryption |= {
            "keySource": "Microsoft.Keyvault",
            "keyvaultproperties": {
                "keyname": key_vault_key,
                "keyversion": "",
                "keyvaulturi": "https://kv-data.vault.azure.net/",
            },
        }
    base = {
        "publicNetworkAccess": "Disabled",
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": False,
        "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Deny"},
        "supportsHttpsTrafficOnly": True,
        "encryption": encryption,
        "primaryLocation": "eastus",
        "secondaryLocation": "westus",
        "provisioningState": "Succeeded",
    }
    return {
        "id": e.arm_id("Microsoft.Storage/storageAccounts", name, group="rg-backup", sub=sub),
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": "eastus",
        "kind": "StorageV2",
        "sku": {"name": sku, "tier": "Standard"},
        "properties": {k: v for k, v in (base | props).items() if v is not None},
    }


# --- helpers -----------------------------------------------------------------------------------------


def scan(estate: dict[str, Any], **options: Any) -> Inventory:
    """Collect the SQL and storage steps of the estate through the endpoint."""
    with serve(estate, **options) as (_, session):
        return collect_inventory(session, steps=STEPS)


def failures(inventory: Inventory) -> list[Collection]:
    """Every collection that failed."""
    return [c for c in inventory.collections if not c.ok]


def sql_estate() -> dict[str, Any]:
    """Four servers in two subscriptions: master and three user databases, one database, none, none."""
    prod = sql_server("sql-prod")
    empty = sql_server("sql-empty", group="rg-spare")
    archive = sql_server("sql-archive", group="rg-spare", minimalTlsVersion="1.0")
    stg = sql_server("sql-stg", sub=e.SUB2, minimalTlsVersion=None, publicNetworkAccess="Enabled")
    return e.estate(
        prod,
        protector(prod, "AzureKeyVault", KEY_URI, rotation=True),
        sql_database(prod, "master", sku="System"),
        *user_database(prod, "db-orders", days=35, weekly="P9W", monthly="P12M", yearly="P5Y", week=16),
        *user_database(prod, "db-reports", state="Disabled", days=14),
        *user_database(prod, "db-audit", days=7, weekly="P12W"),
        stg,
        protector(stg, "ServiceManaged"),
        *user_database(stg, "db-stg", state="Disabled", days=7),
        empty,
        protector(empty, "ServiceManaged"),
        archive,
        protector(archive, "ServiceManaged"),
        sql_vm("sqlvm-2014", "SQL2014SP3-WS2012R2", "Enterprise"),
        sql_vm("sqlvm-2019", "sql2019-ws2022", "Standard", sqlServerLicenseType="AHUB"),
        sql_vm("sqlvm-2022", "sql2022-ws2022", "Enterprise"),
        sql_vm("sqlvm-stg", "SQL2016SP3-WS2016", "Developer", sub=e.SUB2, sqlManagement="LightWeight"),
        subs=(e.SUB, e.SUB2),
    )


# --- SQL -----------------------------------------------------------------------------------------------


def test_sql_servers_databases_and_their_settings_are_collected_across_pages_and_subscriptions() -> None:
    with serve(sql_estate(), page_size=2) as (endpoint, session):
        inventory = collect_inventory(session, steps=STEPS)
        requests = endpoint.requests
    paths = [r.path for r in requests]
    assert not failures(inventory)
    paged = {r.path.rsplit("/", 1)[-1] for r in requests if "$skiptoken" in r.params}
    assert paged == {"servers", "databases", "sqlVirtualMachines"}
    servers = {s.name: s for s in inventory.sql_servers}
    assert set(servers) == {"sql-prod", "sql-stg", "sql-empty", "sql-archive"}
    assert servers["sql-archive"].minimal_tls_version == "1.0"
    prod, stg = servers["sql-prod"], servers["sql-stg"]
    assert (prod.subscription_id, prod.resource_group, prod.location) == (e.SUB, "rg-data", "eastus")
    assert (prod.version, prod.public_network_access, prod.minimal_tls_version) == ("12.0", "Disabled", "1.2")
    assert (prod.protector_kind, prod.protector_key_uri, prod.protector_auto_rotation) == (
        "AzureKeyVault",
        KEY_URI,
        True,
    )
    assert (stg.subscription_id, stg.public_network_access, stg.minimal_tls_version) == (e.SUB2, "Enabled", None)
    assert (stg.protector_kind, stg.protector_key_uri, stg.protector_auto_rotation) == ("ServiceManaged", None, False)

    databases = {d.name: d for d in inventory.sql_databases}
    # Four databases on one server: the per-server list is paged, and master is kept.
    assert set(databases) == {"master", "db-orders", "db-reports", "db-audit", "db-stg"}
    orders = databases["db-orders"]
    assert (orders.server_id, orders.subscription_id, orders.resource_group, orders.location, orders.sku) == (
        prod.id,
        e.SUB,
        "rg-data",
        "eastus",
        "S2",
    )
    assert (orders.tde_state, orders.short_term_retention_days) == ("Enabled", 35)
    assert (orders.ltr_weekly, orders.ltr_monthly, orders.ltr_yearly, orders.ltr_week_of_year) == (
        "P9W",
        "P12M",
        "P5Y",
        16,
    )
    # Every per-database setting lands on every database, whatever order the calls finish in.
    assert {n: (d.tde_state, d.short_term_retention_days, d.ltr_weekly) for n, d in databases.items()} == {
        "master": (None, None, None),
        "db-orders": ("Enabled", 35, "P9W"),
        "db-reports": ("Disabled", 14, "PT0S"),
        "db-audit": ("Enabled", 7, "P12W"),
        "db-stg": ("Disabled", 7, "PT0S"),
    }
    assert databases["db-stg"].subscription_id == e.SUB2
    master = databases["master"]
    assert master.is_system and master.sku == "System"
    assert not [p for p in paths if "/databases/master/" in p.lower()]

    machines = {m.name: m for m in inventory.sql_virtual_machines}
    old = machines["sqlvm-2014"]
    assert (old.image_offer, old.image_sku, old.license_type, old.management) == (
        "SQL2014SP3-WS2012R2",
        "Enterprise",
        "PAYG",
        "Full",
    )
    assert old.vm_id == e.arm_id("Microsoft.Compute/virtualMachines", "sqlvm-2014", group="rg-data")
    assert (old.subscription_id, old.resource_group, old.location) == (e.SUB, "rg-data", "eastus")
    assert machines["sqlvm-2019"].license_type == "AHUB"
    assert (machines["sqlvm-stg"].subscription_id, machines["sqlvm-stg"].management) == (e.SUB2, "LightWeight")


def automated_backup_vm(**settings: Any) -> dict[str, Any]:
    """Microsoft's weekly Automated Backup example as the GET with $expand=* answers it: the 200 body with
    the settings the request sent, less the write-only password and storage key ARM never returns."""
    document = json.loads((EXAMPLES / AUTOMATED_BACKUP_EXAMPLE).read_text(encoding="utf-8"))
    sent = document["parameters"]["parameters"]["properties"]["autoBackupSettings"]
    returned = {k: v for k, v in sent.items() if k not in {"password", "storageAccessKey"}} | settings
    body = example_body(AUTOMATED_BACKUP_EXAMPLE)
    body["properties"]["autoBackupSettings"] = returned
    return rebase(body)


def test_automated_backup_settings_are_read_from_microsofts_example() -> None:
    with serve(e.estate(automated_backup_vm())) as (endpoint, session):
        inventory = collect_inventory(session, steps=STEPS)
        requests = endpoint.requests
    assert not failures(inventory)
    (machine,) = inventory.sql_virtual_machines
    assert machine.unreadable == ()
    assert machine.auto_backup == AutomatedBackup(
        enabled=True,
        schedule_type="Manual",
        full_frequency="Weekly",
        full_days=("Monday", "Friday"),
        full_start_hour=6,
        log_interval_minutes=10,
        retention_days=17,
        encryption=True,
        storage_account_url="https://teststorage.blob.core.windows.net/",
        system_databases=True,
    )
    assert machine.auto_backup.storage_account == "teststorage"
    (get,) = [r for r in requests if r.path.endswith("/sqlVirtualMachines/testvm")]
    assert get.params.get("$expand") == "*"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"logBackupFrequency": 2}, "logBackupFrequency"),
        ({"retentionPeriod": 120}, "retentionPeriod"),
        ({"fullBackupStartTime": 24}, "fullBackupStartTime"),
        ({"backupScheduleType": "Hourly"}, "backupScheduleType"),
        ({"storageAccountUrl": "http://teststorage.blob.core.windows.net/"}, "storageAccountUrl"),
        ({"enable": "yes"}, "enable"),
    ],
    ids=["log-below-5", "retention-over-90", "hour-24", "schedule", "plain-http", "enable"],
)
def test_automated_backup_values_outside_the_contract_are_unreadable(settings: dict[str, Any], field: str) -> None:
    with serve(e.estate(automated_backup_vm(**settings))) as (_, session):
        inventory = collect_inventory(session, steps=STEPS)
    (machine,) = inventory.sql_virtual_machines
    assert [u.field for u in machine.unreadable] == [f"properties.autoBackupSettings.{field}"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (None, None),
        ({"enableEncryption": True}, AutomatedBackup(enabled=False, encryption=True, system_databases=False)),
    ],
    ids=["no-settings", "no-enable"],
)
def test_absent_automated_backup_settings_read_as_documented_defaults(
    settings: dict[str, Any] | None, expected: AutomatedBackup | None
) -> None:
    body = automated_backup_vm()
    if settings is None:
        del body["properties"]["autoBackupSettings"]
    else:
        body["properties"]["autoBackupSettings"] = settings
    with serve(e.estate(body)) as (_, session):
        inventory = collect_inventory(session, steps=STEPS)
    (machine,) = inventory.sql_virtual_machines
    assert (machine.auto_backup, machine.unreadable) == (expected, ())


def test_a_failed_automated_backup_read_is_scoped_to_its_sql_vm() -> None:
    body = automated_backup_vm()
    fault = Fault(pattern=re.escape(body["id"]) + "$", status=403)
    with serve(e.estate(body), faults=(fault,)) as (_, session):
        inventory = collect_inventory(session, steps=STEPS)
    (failed,) = failures(inventory)
    assert (failed.api, failed.scope, failed.status_code) == (sql.SQL_VM_SETTINGS_API, body["id"], 403)


def test_a_failed_database_listing_is_scoped_to_its_server() -> None:
    stg_server = e.arm_id("Microsoft.Sql/servers", "sql-stg", group="rg-data", sub=e.SUB2)
    fault = Fault(pattern=re.escape(stg_server) + "/databases$", status=403, error_code="AuthorizationFailed")
    inventory = scan(sql_estate(), faults=(fault,))
    (failed,) = failures(inventory)
    assert (failed.api, failed.subscription_id, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.Sql/servers/databases",
        e.SUB2,
        stg_server,
        403,
        "AuthorizationFailed",
    )
    assert {d.name for d in inventory.sql_databases} == {"master", "db-orders", "db-reports", "db-audit"}
    assert {d.tde_state for d in inventory.sql_databases if not d.is_system} == {"Enabled", "Disabled"}
    # The server itself and its protector are still known.
    assert {s.name: s.protector_kind for s in inventory.sql_servers} == {
        "sql-prod": "AzureKeyVault",
        "sql-stg": "ServiceManaged",
        "sql-empty": "ServiceManaged",
        "sql-archive": "ServiceManaged",
    }


def test_a_failed_tde_call_leaves_that_database_unknown_and_records_why() -> None:
    reports = e.arm_id("Microsoft.Sql/servers", "sql-prod", group="rg-data") + "/databases/db-reports"
    fault = Fault(pattern=re.escape(reports) + "/transparentDataEncryption/", status=500, error_code="InternalError")
    inventory = scan(sql_estate(), faults=(fault,))
    (failed,) = failures(inventory)
    assert (failed.api, failed.subscription_id, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.Sql/servers/databases/transparentDataEncryption",
        e.SUB,
        reports,
        500,
        "InternalError",
    )
    databases = {d.name: d for d in inventory.sql_databases}
    # Unknown, not assumed: Azure's default would be Enabled, the estate says Disabled.
    assert databases["db-reports"].tde_state is None
    assert (databases["db-reports"].short_term_retention_days, databases["db-reports"].ltr_weekly) == (14, "PT0S")
    assert {databases[n].tde_state for n in ("db-orders", "db-audit")} == {"Enabled"}


def test_a_forbidden_protector_leaves_the_server_collected_without_it() -> None:
    prod = e.arm_id("Microsoft.Sql/servers", "sql-prod", group="rg-data")
    fault = Fault(pattern=re.escape(prod) + "/encryptionProtector/", status=403, error_code="AuthorizationFailed")
    inventory = scan(sql_estate(), faults=(fault,))
    (failed,) = failures(inventory)
    assert (failed.api, failed.scope, failed.status_code, failed.error_code) == (
        "Microsoft.Sql/servers/encryptionProtector",
        prod,
        403,
        "AuthorizationFailed",
    )
    servers = {s.name: s for s in inventory.sql_servers}
    assert (servers["sql-prod"].protector_kind, servers["sql-prod"].minimal_tls_version) == (None, "1.2")
    assert servers["sql-stg"].protector_kind == "ServiceManaged"
    assert len(inventory.sql_databases) == 5


def test_microsoft_sql_examples_are_parsed() -> None:
    server = rebase(example_body(SERVER_EXAMPLE))
    tde_body = rebase(example_body(TDE_EXAMPLE))
    # The TDE example's id is its database's, not its own: serve it at the path the SDK asks for, and
    # build its server and database around that id.
    database_id = tde_body["id"]
    tde_server = sql_server("securitytde", group="security-tde-resourcegroup")
    tde_server["id"] = database_id.rsplit("/databases/", 1)[0]
    testdb = sql_database(tde_server, "testdb")
    estate = e.estate(
        server,
        rebase(example_body(PROTECTOR_EXAMPLE)),
        tde_server,
        protector(tde_server, "ServiceManaged"),
        testdb,
        short_term_retention(testdb, 7),
        long_term_retention(testdb),
    )
    estate["raw"] = [
        {"path": f"{database_id}/transparentDataEncryption/current", "status": 200, "body": json.dumps(tde_body)}
    ]
    inventory = scan(estate)
    assert not failures(inventory)
    servers = {s.name: s for s in inventory.sql_servers}
    example = servers["sqlcrudtest-4645"]
    assert (example.subscription_id, example.resource_group, example.location) == (
        e.SUB,
        "sqlcrudtest-7398",
        "japaneast",
    )
    assert (example.version, example.public_network_access, example.minimal_tls_version) == ("12.0", "Enabled", None)
    assert (example.protector_kind, example.protector_key_uri, example.protector_auto_rotation) == (
        "AzureKeyVault",
        "https://someVault.vault.azure.net/keys/someKey/01234567890123456789012345678901",
        False,
    )
    (database,) = inventory.sql_databases
    assert (database.id, database.server_id, database.tde_state) == (database_id, tde_server["id"], "Enabled")


# --- storage ---------------------------------------------------------------------------------------------


def test_storage_accounts_are_collected_across_pages_and_subscriptions() -> None:
    estate = e.estate(
        storage_account("stbackup", key_vault_key="storage-cmk"),
        storage_account("stdiag", sku="Standard_LRS", secondaryLocation=None, publicNetworkAccess="Enabled"),
        storage_account(
            "stlegacy",
            sku="Standard_LRS",
            minimumTlsVersion="TLS1_0",
            allowBlobPublicAccess=True,
            allowSharedKeyAccess=True,
            supportsHttpsTrafficOnly=False,
            networkAcls={"bypass": "None", "defaultAction": "Allow"},
        ),
        storage_account("stother", sub=e.SUB2, sku="Standard_GZRS"),
        subs=(e.SUB, e.SUB2),
    )
    inventory = scan(estate, page_size=2)
    assert not failures(inventory)
    accounts = {a.name: a for a in inventory.storage_accounts}
    assert set(accounts) == {"stbackup", "stdiag", "stlegacy", "stother"}
    backup = accounts["stbackup"]
    assert (backup.subscription_id, backup.resource_group, backup.location, backup.sku, backup.kind) == (
        e.SUB,
        "rg-backup",
        "eastus",
        "Standard_RAGRS",
        "StorageV2",
    )
    assert (backup.allow_blob_public_access, backup.public_network_access, backup.network_default_action) == (
        False,
        "Disabled",
        "Deny",
    )
    assert (backup.https_only, backup.minimum_tls_version, backup.allow_shared_key_access) == (True, "TLS1_2", False)
    assert (backup.key_source, backup.key_vault_uri, backup.key_name, backup.infrastructure_encryption) == (
        "Microsoft.Keyvault",
        "https://kv-data.vault.azure.net/",
        "storage-cmk",
        True,
    )
    assert (backup.primary_location, backup.secondary_location) == ("eastus", "westus")
    diag = accounts["stdiag"]
    assert (diag.key_source, diag.key_vault_uri, diag.key_name) == ("Microsoft.Storage", None, None)
    assert (diag.public_network_access, diag.secondary_location) == ("Enabled", None)
    legacy = accounts["stlegacy"]
    assert (legacy.minimum_tls_version, legacy.allow_blob_public_access, legacy.allow_shared_key_access) == (
        "TLS1_0",
        True,
        True,
    )
    assert (legacy.https_only, legacy.network_default_action) == (False, "Allow")
    assert (accounts["stother"].subscription_id, accounts["stother"].sku) == (e.SUB2, "Standard_GZRS")


def test_a_forbidden_storage_listing_fails_only_its_subscription() -> None:
    estate = e.estate(storage_account("stone"), storage_account("sttwo", sub=e.SUB2), subs=(e.SUB, e.SUB2))
    fault = Fault(
        pattern=f"/subscriptions/{e.SUB2}/providers/Microsoft.Storage/storageAccounts$",
        status=403,
        error_code="AuthorizationFailed",
    )
    inventory = scan(estate, faults=(fault,))
    (failed,) = failures(inventory)
    assert (failed.api, failed.subscription_id, failed.status_code, failed.error_code) == (
        "Microsoft.Storage/storageAccounts",
        e.SUB2,
        403,
        "AuthorizationFailed",
    )
    assert [a.name for a in inventory.storage_accounts] == ["stone"]


def test_microsoft_storage_example_keeps_unreported_settings_unknown() -> None:
    inventory = scan(e.estate(rebase(example_body(STORAGE_EXAMPLE))))
    assert not failures(inventory)
    (account,) = inventory.storage_accounts
    assert (account.name, account.subscription_id, account.resource_group) == ("sto8596", e.SUB, "res9407")
    assert (account.sku, account.kind, account.location) == ("Standard_GRS", "Storage", "eastus2(stage)")
    assert (account.https_only, account.network_default_action, account.key_source) == (
        False,
        "Allow",
        "Microsoft.Storage",
    )
    assert (account.primary_location, account.secondary_location) == ("eastus2(stage)", "northcentralus(stage)")
    # The example reports none of these, so none may read as compliant.
    assert account.minimum_tls_version is None
    assert account.allow_blob_public_access is None
    assert account.allow_shared_key_access is None
    assert account.public_network_access is None
    assert account.infrastructure_encryption is None
    assert (account.key_vault_uri, account.key_name) == (None, None)


# --- the demo estate ---------------------------------------------------------------------------------------


def test_demo_estate_sql_and_storage_entries_are_read() -> None:
    inventory = scan(json.loads(DEMO_ESTATE.read_text(encoding="utf-8")))
    assert not failures(inventory)
    servers = {s.name: s for s in inventory.sql_servers}
    assert (servers["sql-mul2-prod"].protector_kind, servers["sql-mul2-prod"].protector_auto_rotation) == (
        "AzureKeyVault",
        True,
    )
    assert servers["sql-mul2-stg"].protector_kind == "ServiceManaged"
    databases = {d.name: d for d in inventory.sql_databases}
    assert {n: (d.tde_state, d.short_term_retention_days, d.ltr_weekly) for n, d in databases.items()} == {
        "sqldb-mul2-reporting": ("Enabled", 35, "P9W"),
        "sqldb-mul2-stg-reporting": ("Disabled", 7, "PT0S"),
    }
    machines = {m.name: (m.image_offer, m.image_sku) for m in inventory.sql_virtual_machines}
    assert machines == {
        "sqlvm-mul2-01": ("SQL2014SP3-WS2012R2", "Enterprise"),
        "sqlvm-mul2-stg-01": ("sql2019-ws2022", "Standard"),
    }
    accounts = {a.name: a for a in inventory.storage_accounts}
    backup = accounts["stmul2prodbackup"]
    assert (backup.sku, backup.key_source, backup.key_name, backup.secondary_location) == (
        "Standard_RAGRS",
        "Microsoft.Keyvault",
        "storage-cmk-prod",
        "westus",
    )
    stg = accounts["stmul2stgbackup"]
    assert (stg.minimum_tls_version, stg.allow_blob_public_access, stg.network_default_action) == (
        "TLS1_0",
        True,
        "Allow",
    )
