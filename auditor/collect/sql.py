"""SQL collector: logical servers, databases with TDE and backup retention, SQL virtual machines."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from azure.mgmt.sql import SqlManagementClient
from azure.mgmt.sqlvirtualmachine import SqlVirtualMachineManagementClient

from auditor.arm_ids import resource_group_of
from auditor.collect.base import (
    UNKNOWN,
    Enrichment,
    Field,
    Listing,
    PerParent,
    Reader,
    Step,
    arm_pipeline,
    build_all,
    child_reader,
    get_object,
    list_objects,
    path,
    resource_id,
    resource_path,
)
from auditor.collect.session import AzureSession
from auditor.records.sql import SqlDatabase, SqlServer, SqlVirtualMachine

SERVERS_API = "Microsoft.Sql/servers"
DATABASES_API = "Microsoft.Sql/servers/databases"
PROTECTOR_API = "Microsoft.Sql/servers/encryptionProtector"
TDE_API = "Microsoft.Sql/servers/databases/transparentDataEncryption"
SHORT_TERM_RETENTION_API = "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies"
LONG_TERM_RETENTION_API = "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies"
SQL_VMS_API = "Microsoft.SqlVirtualMachine/sqlVirtualMachines"
# The api-versions azure-mgmt-sql 4.0 and azure-mgmt-sqlvirtualmachine 1.0 send.
SQL_API_VERSION = "2025-01-01"
SQL_VM_API_VERSION = "2023-10-01"

# Each of these ARM child resources has exactly one instance, with a fixed name.
CURRENT = "current"
DEFAULT = "default"

# https://learn.microsoft.com/rest/api/sql/servers/get
SERVER_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("properties.version", False, UNKNOWN),
    Field("properties.publicNetworkAccess", False, UNKNOWN),
    # Servers created before the setting existed report none: no minimum is enforced, so the check fails.
    Field("properties.minimalTlsVersion", False, UNKNOWN),
)
DATABASE_CONTRACT = (Field("id", True), Field("name", True), Field("location", True), Field("sku.name", False, UNKNOWN))
PROTECTOR_CONTRACT = (
    Field("properties.serverKeyType", True),
    Field("properties.uri", False, "no Key Vault key (service-managed)"),
    Field("properties.autoRotationEnabled", False, UNKNOWN),
)
TDE_CONTRACT = (Field("properties.state", True),)
SHORT_TERM_RETENTION_CONTRACT = (Field("properties.retentionDays", True),)
LONG_TERM_RETENTION_CONTRACT = (
    Field("properties.weeklyRetention", False, UNKNOWN),
    Field("properties.monthlyRetention", False, UNKNOWN),
    Field("properties.yearlyRetention", False, UNKNOWN),
    Field("properties.weekOfYear", False, UNKNOWN),
)
SQL_VM_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("properties.virtualMachineResourceId", True),
    Field("properties.sqlImageOffer", False, UNKNOWN),
    Field("properties.sqlImageSku", False, UNKNOWN),
    Field("properties.sqlServerLicenseType", False, UNKNOWN),
    Field("properties.sqlManagement", False, UNKNOWN),
)


def _pipeline(session: AzureSession, subscription_id: str) -> Any:
    return arm_pipeline(session, SqlManagementClient, subscription_id)


def sql_server(raw: Mapping[str, Any], subscription_id: str) -> SqlServer:
    """A logical server record; the encryption protector is filled in by a per-server call."""
    server = Reader(raw)
    server_id = resource_id(server, f"/subscriptions/{subscription_id}", SERVERS_API)
    return SqlServer(
        id=server_id,
        name=server.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(server_id),
        location=server.text("location") or "",
        version=server.text("properties.version"),
        public_network_access=server.text("properties.publicNetworkAccess"),
        minimal_tls_version=server.text("properties.minimalTlsVersion"),
        unreadable=server.found(),
    )


def sql_database(raw: Mapping[str, Any], server: SqlServer) -> SqlDatabase:
    """A database record; TDE and retention are filled in by per-database calls."""
    database = Reader(raw)
    database_id = resource_id(database, server.id, DATABASES_API)
    return SqlDatabase(
        id=database_id,
        name=database.text("name") or "",
        subscription_id=server.subscription_id,
        resource_group=resource_group_of(database_id),
        location=database.text("location") or "",
        server_id=server.id,
        sku=database.text("sku.name"),
        unreadable=database.found(),
    )


def sql_virtual_machine(raw: Mapping[str, Any], subscription_id: str) -> SqlVirtualMachine:
    """A SQL Server on a VM, as the SQL IaaS extension registered it."""
    machine = Reader(raw)
    machine_id = resource_id(machine, f"/subscriptions/{subscription_id}", SQL_VMS_API)
    props = machine.part("properties")
    return SqlVirtualMachine(
        id=machine_id,
        name=machine.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(machine_id),
        location=machine.text("location") or "",
        vm_id=props.text("virtualMachineResourceId", required=True),
        image_offer=props.text("sqlImageOffer"),
        image_sku=props.text("sqlImageSku"),
        license_type=props.text("sqlServerLicenseType"),
        management=props.text("sqlManagement"),
        unreadable=machine.found(),
    )


def list_servers(session: AzureSession, subscription_id: str) -> Iterator[SqlServer]:
    """Every SQL logical server of the subscription."""
    url = path("/subscriptions/{}/providers/Microsoft.Sql/servers", subscription_id, api_version=SQL_API_VERSION)
    return build_all(
        list_objects(_pipeline(session, subscription_id), session.arm_url, url), sql_server, subscription_id
    )


def list_databases(session: AzureSession, server: SqlServer) -> Iterator[SqlDatabase]:
    """Every database of one server, master included (ARM has no subscription-wide database list)."""
    url = resource_path(server.id) + path("/databases", api_version=SQL_API_VERSION)
    for item in list_objects(_pipeline(session, server.subscription_id), session.arm_url, url):
        yield sql_database(item, server)


def _child(session: AzureSession, record: SqlServer | SqlDatabase, child: str, name: str) -> Reader:
    """The body of a fixed-name child (``transparentDataEncryption/current``), read for the record."""
    url = session.arm_url + resource_path(record.id) + path("/" + child + "/{}", name, api_version=SQL_API_VERSION)
    return child_reader(record, f"{child}/{name}", get_object(_pipeline(session, record.subscription_id), url))


def with_protector(session: AzureSession, server: SqlServer) -> SqlServer:
    """The server with its TDE protector: service-managed or a Key Vault key."""
    protector = _child(session, server, "encryptionProtector", CURRENT)
    return dataclasses.replace(
        server,
        protector_kind=protector.choice("properties.serverKeyType", ("ServiceManaged", "AzureKeyVault"), required=True),
        protector_key_uri=protector.text("properties.uri"),
        protector_auto_rotation=protector.flag("properties.autoRotationEnabled"),
        unreadable=protector.found(),
    )


def with_tde(session: AzureSession, database: SqlDatabase) -> SqlDatabase:
    """The database with its transparent data encryption state."""
    # The TDE body's ``id`` is the database's in some API versions; nothing here reads it.
    tde = _child(session, database, "transparentDataEncryption", CURRENT)
    state = tde.choice("properties.state", ("Enabled", "Disabled"), required=True)
    return dataclasses.replace(database, tde_state=state, unreadable=tde.found())


def with_short_term_retention(session: AzureSession, database: SqlDatabase) -> SqlDatabase:
    """The database with its point-in-time restore retention in days."""
    policy = _child(session, database, "backupShortTermRetentionPolicies", DEFAULT)
    days = policy.integer("properties.retentionDays", required=True)
    return dataclasses.replace(database, short_term_retention_days=days, unreadable=policy.found())


def with_long_term_retention(session: AzureSession, database: SqlDatabase) -> SqlDatabase:
    """The database with its long-term retention: ISO 8601 durations as Azure reports them."""
    policy = _child(session, database, "backupLongTermRetentionPolicies", DEFAULT)
    return dataclasses.replace(
        database,
        ltr_weekly=policy.text("properties.weeklyRetention"),
        ltr_monthly=policy.text("properties.monthlyRetention"),
        ltr_yearly=policy.text("properties.yearlyRetention"),
        ltr_week_of_year=policy.integer("properties.weekOfYear"),
        unreadable=policy.found(),
    )


def list_sql_virtual_machines(session: AzureSession, subscription_id: str) -> Iterator[SqlVirtualMachine]:
    """Every SQL virtual machine registered in the subscription."""
    pipeline = arm_pipeline(session, SqlVirtualMachineManagementClient, subscription_id)
    url = path(
        "/subscriptions/{}/providers/Microsoft.SqlVirtualMachine/sqlVirtualMachines",
        subscription_id,
        api_version=SQL_VM_API_VERSION,
    )
    return build_all(list_objects(pipeline, session.arm_url, url), sql_virtual_machine, subscription_id)


def _user_database(database: SqlDatabase) -> bool:
    # master holds no user data and TDE cannot encrypt it (Microsoft's TDE overview); its TDE state and
    # retention policies mean nothing to a check, so they are not worth a call per server.
    return not database.is_system


STEPS: tuple[Step, ...] = (
    Listing(SERVERS_API, "sql_servers", list_servers),
    Listing(SQL_VMS_API, "sql_virtual_machines", list_sql_virtual_machines),
    PerParent(DATABASES_API, "sql_servers", "sql_databases", list_databases, phase=1),
    Enrichment(PROTECTOR_API, "sql_servers", with_protector, phase=1),
    Enrichment(TDE_API, "sql_databases", with_tde, phase=2, applies=_user_database),
    Enrichment(SHORT_TERM_RETENTION_API, "sql_databases", with_short_term_retention, phase=2, applies=_user_database),
    Enrichment(LONG_TERM_RETENTION_API, "sql_databases", with_long_term_retention, phase=2, applies=_user_database),
)
