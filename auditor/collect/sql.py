"""SQL collector: logical servers, databases with TDE and backup retention, SQL virtual machines."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from azure.mgmt.sql import SqlManagementClient
from azure.mgmt.sqlvirtualmachine import SqlVirtualMachineManagementClient

from auditor.arm_ids import name_of, resource_group_of
from auditor.collect.base import Enrichment, Listing, PerParent, Step, text
from auditor.collect.session import AzureSession
from auditor.records.sql import SqlDatabase, SqlServer, SqlVirtualMachine

SERVERS_API = "Microsoft.Sql/servers"
DATABASES_API = "Microsoft.Sql/servers/databases"
PROTECTOR_API = "Microsoft.Sql/servers/encryptionProtector"
TDE_API = "Microsoft.Sql/servers/databases/transparentDataEncryption"
SHORT_TERM_RETENTION_API = "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies"
LONG_TERM_RETENTION_API = "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies"
SQL_VMS_API = "Microsoft.SqlVirtualMachine/sqlVirtualMachines"

# Each of these ARM child resources has exactly one instance, with a fixed name.
CURRENT = "current"
DEFAULT = "default"


def _client(session: AzureSession, subscription_id: str) -> SqlManagementClient:
    return session.client(SqlManagementClient, subscription_id)


def _database_path(database: SqlDatabase) -> tuple[str, str, str]:
    """Resource group, server name and database name: the arguments of every per-database call."""
    return resource_group_of(database.id), name_of(database.server_id), database.name


def sql_server(server: Any, subscription_id: str) -> SqlServer:
    """A logical server record; the encryption protector is filled in by a per-server call."""
    props = server.properties
    return SqlServer(
        id=server.id,
        name=server.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(server.id),
        location=server.location or "",
        version=props.version if props else None,
        public_network_access=text(props.public_network_access) if props else None,
        minimal_tls_version=text(props.minimal_tls_version) if props else None,
    )


def sql_database(database: Any, server: SqlServer) -> SqlDatabase:
    """A database record; TDE and retention are filled in by per-database calls."""
    return SqlDatabase(
        id=database.id,
        name=database.name,
        subscription_id=server.subscription_id,
        resource_group=resource_group_of(database.id),
        location=database.location or "",
        server_id=server.id,
        sku=text(database.sku.name) if database.sku else None,
    )


def sql_virtual_machine(machine: Any, subscription_id: str) -> SqlVirtualMachine:
    """A SQL Server on a VM, as the SQL IaaS extension registered it."""
    props = machine.properties
    return SqlVirtualMachine(
        id=machine.id,
        name=machine.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(machine.id),
        location=machine.location or "",
        vm_id=props.virtual_machine_resource_id if props else None,
        image_offer=props.sql_image_offer if props else None,
        image_sku=text(props.sql_image_sku) if props else None,
        license_type=text(props.sql_server_license_type) if props else None,
        management=text(props.sql_management) if props else None,
    )


def list_servers(session: AzureSession, subscription_id: str) -> Iterator[SqlServer]:
    """Every SQL logical server of the subscription."""
    for server in _client(session, subscription_id).servers.list():
        yield sql_server(server, subscription_id)


def list_databases(session: AzureSession, server: SqlServer) -> Iterator[SqlDatabase]:
    """Every database of one server, master included (ARM has no subscription-wide database list)."""
    client = _client(session, server.subscription_id)
    for database in client.databases.list_by_server(server.resource_group, server.name):
        yield sql_database(database, server)


def with_protector(session: AzureSession, server: SqlServer) -> SqlServer:
    """The server with its TDE protector: service-managed or a Key Vault key."""
    protector = _client(session, server.subscription_id).encryption_protectors.get(
        server.resource_group, server.name, CURRENT
    )
    props = protector.properties
    return dataclasses.replace(
        server,
        protector_kind=text(props.server_key_type) if props else None,
        protector_key_uri=props.uri if props else None,
        protector_auto_rotation=props.auto_rotation_enabled if props else None,
    )


def with_tde(session: AzureSession, database: SqlDatabase) -> SqlDatabase:
    """The database with its transparent data encryption state."""
    # The TDE body's ``id`` is the database's in some API versions; nothing here reads it.
    tde = _client(session, database.subscription_id).transparent_data_encryptions.get(
        *_database_path(database), CURRENT
    )
    return dataclasses.replace(database, tde_state=text(tde.properties.state) if tde.properties else None)


def with_short_term_retention(session: AzureSession, database: SqlDatabase) -> SqlDatabase:
    """The database with its point-in-time restore retention in days."""
    policy = _client(session, database.subscription_id).backup_short_term_retention_policies.get(
        *_database_path(database), DEFAULT
    )
    days = policy.properties.retention_days if policy.properties else None
    return dataclasses.replace(database, short_term_retention_days=days)


def with_long_term_retention(session: AzureSession, database: SqlDatabase) -> SqlDatabase:
    """The database with its long-term retention: ISO 8601 durations as Azure reports them."""
    policy = _client(session, database.subscription_id).long_term_retention_policies.get(
        *_database_path(database), DEFAULT
    )
    props = policy.properties
    return dataclasses.replace(
        database,
        ltr_weekly=props.weekly_retention if props else None,
        ltr_monthly=props.monthly_retention if props else None,
        ltr_yearly=props.yearly_retention if props else None,
        ltr_week_of_year=props.week_of_year if props else None,
    )


def list_sql_virtual_machines(session: AzureSession, subscription_id: str) -> Iterator[SqlVirtualMachine]:
    """Every SQL virtual machine registered in the subscription."""
    client = session.client(SqlVirtualMachineManagementClient, subscription_id)
    for machine in client.sql_virtual_machines.list():
        yield sql_virtual_machine(machine, subscription_id)


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
