"""SQL collector: logical servers, databases with TDE and backup retention, SQL virtual machines."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from auditor.arm_ids import resource_group_of
from auditor.collect.base import (
    TAGS_FIELD,
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
    tags_of,
)
from auditor.collect.clients import SQL_CLIENT, SQL_VM_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.sql import AutomatedBackup, SqlDatabase, SqlServer, SqlVirtualMachine

SERVERS_API = "Microsoft.Sql/servers"
DATABASES_API = "Microsoft.Sql/servers/databases"
PROTECTOR_API = "Microsoft.Sql/servers/encryptionProtector"
TDE_API = "Microsoft.Sql/servers/databases/transparentDataEncryption"
SHORT_TERM_RETENTION_API = "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies"
LONG_TERM_RETENTION_API = "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies"
SQL_VMS_API = "Microsoft.SqlVirtualMachine/sqlVirtualMachines"
# The per-VM GET with $expand=*: the only answer that carries autoBackupSettings (the list does not).
SQL_VM_SETTINGS_API = "Microsoft.SqlVirtualMachine/sqlVirtualMachines/autoBackupSettings"
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
    TAGS_FIELD,
)
DATABASE_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("sku.name", False, UNKNOWN),
    TAGS_FIELD,
)
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
    TAGS_FIELD,
)

# https://learn.microsoft.com/rest/api/sqlvm/sql-virtual-machines/get (AutoBackupSettings, read with $expand=*);
# ranges from the spec's descriptions, defaults from "Automated Backup for SQL Server on Azure VMs"
# (learn.microsoft.com/azure/azure-sql/virtual-machines/windows/automated-backup). Defaults that would pass
# are never assumed: every absent setting below either disables the backup or is a shortfall of the check.
AUTO_BACKUP = "properties.autoBackupSettings"
SHORT_TERM = "backupShortTermRetentionPolicies"
LONG_TERM = "backupLongTermRetentionPolicies"
AUTO_BACKUP_CONTRACT = (
    Field(AUTO_BACKUP, False, "Automated Backup not configured: its documented default is Disabled"),
    Field(f"{AUTO_BACKUP}.enable", False, "Disabled (documented default)"),
    Field(f"{AUTO_BACKUP}.backupScheduleType", False, UNKNOWN),  # Manual or Automated
    Field(f"{AUTO_BACKUP}.fullBackupFrequency", False, UNKNOWN),  # Daily or Weekly, Manual schedules only
    Field(f"{AUTO_BACKUP}.daysOfWeek", False, "no day named (Weekly full backups only)"),
    Field(f"{AUTO_BACKUP}.fullBackupStartTime", False, UNKNOWN),  # 0-23 hours
    Field(f"{AUTO_BACKUP}.logBackupFrequency", False, UNKNOWN),  # 5-60 minutes
    Field(f"{AUTO_BACKUP}.retentionPeriod", False, UNKNOWN),  # 1-90 days
    Field(f"{AUTO_BACKUP}.enableEncryption", False, "Disabled (documented default)"),
    Field(f"{AUTO_BACKUP}.storageAccountUrl", False, UNKNOWN),  # https blob endpoint
    Field(f"{AUTO_BACKUP}.backupSystemDbs", False, "Disabled (documented default)"),
    # password and storageAccessKey are write-only: ARM never returns them.
)
SCHEDULE_TYPES = ("Manual", "Automated")
FULL_FREQUENCIES = ("Daily", "Weekly")
LOG_MINUTES = range(5, 61)
RETENTION_DAYS = range(1, 91)
START_HOURS = range(24)


def _pipeline(session: AzureSession, subscription_id: str) -> Any:
    return arm_pipeline(session, SQL_CLIENT, subscription_id)


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
        tags=tags_of(raw),
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
        tags=tags_of(raw),
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
        tags=tags_of(raw),
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


def _child_body(session: AzureSession, record: SqlServer | SqlDatabase, child: str, name: str) -> Any:
    """The raw body of a fixed-name child (``transparentDataEncryption/current``)."""
    url = session.arm_url + resource_path(record.id) + path("/" + child + "/{}", name, api_version=SQL_API_VERSION)
    return get_object(_pipeline(session, record.subscription_id), url)


def _child(session: AzureSession, record: SqlServer | SqlDatabase, child: str, name: str) -> Reader:
    """The body of a fixed-name child (``transparentDataEncryption/current``), read for the record."""
    return child_reader(record, f"{child}/{name}", _child_body(session, record, child, name))


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
    url = session.arm_url + resource_path(database.id)
    url += path("/transparentDataEncryption/{}", CURRENT, api_version=SQL_API_VERSION)
    return with_tde_body(get_object(_pipeline(session, database.subscription_id), url), database)


def with_tde_body(raw: Any, database: SqlDatabase) -> SqlDatabase:
    """The database with the TDE state of its ``transparentDataEncryption/current`` body."""
    # The TDE body's ``id`` is the database's in some API versions; nothing here reads it.
    tde = child_reader(database, f"transparentDataEncryption/{CURRENT}", raw)
    state = tde.choice("properties.state", ("Enabled", "Disabled"), required=True)
    return dataclasses.replace(database, tde_state=state, unreadable=tde.found())


def with_short_term_retention(session: AzureSession, database: SqlDatabase) -> SqlDatabase:
    """The database with its point-in-time restore retention in days."""
    return with_short_term_retention_body(_child_body(session, database, SHORT_TERM, DEFAULT), database)


def with_short_term_retention_body(raw: Any, database: SqlDatabase) -> SqlDatabase:
    """The database with the point-in-time retention of its ``backupShortTermRetentionPolicies/default`` body."""
    policy = child_reader(database, f"{SHORT_TERM}/{DEFAULT}", raw)
    days = policy.integer("properties.retentionDays", required=True)
    return dataclasses.replace(database, short_term_retention_days=days, unreadable=policy.found())


def with_long_term_retention(session: AzureSession, database: SqlDatabase) -> SqlDatabase:
    """The database with its long-term retention: ISO 8601 durations as Azure reports them."""
    return with_long_term_retention_body(_child_body(session, database, LONG_TERM, DEFAULT), database)


def with_long_term_retention_body(raw: Any, database: SqlDatabase) -> SqlDatabase:
    """The database with the long-term retention of its ``backupLongTermRetentionPolicies/default`` body."""
    policy = child_reader(database, f"{LONG_TERM}/{DEFAULT}", raw)
    return dataclasses.replace(
        database,
        ltr_weekly=policy.text("properties.weeklyRetention"),
        ltr_monthly=policy.text("properties.monthlyRetention"),
        ltr_yearly=policy.text("properties.yearlyRetention"),
        ltr_week_of_year=policy.integer("properties.weekOfYear"),
        unreadable=policy.found(),
    )


def _bounded(reader: Reader, field_path: str, allowed: range) -> int | None:
    """An integer setting inside its documented range; outside it, a value the contract cannot read."""
    value = reader.integer(field_path)
    if value is not None and value not in allowed:
        reader.bad(field_path, value)
        return None
    return value


def _blob_endpoint(reader: Reader, field_path: str) -> str | None:
    """An https URL with a host; anything else is unreadable (no account can be named from it)."""
    url = reader.text(field_path)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "https" or not parts.hostname:
            reader.bad(field_path, url)
            return None
    return url


def automated_backup(settings: Reader) -> AutomatedBackup | None:
    """Automated Backup from ``autoBackupSettings``; None when the agent reports none."""
    if not settings.raw:
        return None
    return AutomatedBackup(
        enabled=bool(settings.flag("enable")),
        schedule_type=settings.choice("backupScheduleType", SCHEDULE_TYPES),
        full_frequency=settings.choice("fullBackupFrequency", FULL_FREQUENCIES),
        full_days=settings.strings("daysOfWeek"),
        full_start_hour=_bounded(settings, "fullBackupStartTime", START_HOURS),
        log_interval_minutes=_bounded(settings, "logBackupFrequency", LOG_MINUTES),
        retention_days=_bounded(settings, "retentionPeriod", RETENTION_DAYS),
        encryption=bool(settings.flag("enableEncryption")),
        storage_account_url=_blob_endpoint(settings, "storageAccountUrl"),
        system_databases=bool(settings.flag("backupSystemDbs")),
    )


def with_auto_backup(session: AzureSession, machine: SqlVirtualMachine) -> SqlVirtualMachine:
    """The SQL VM with its Automated Backup settings, read from the GET with ``$expand=*``."""
    pipeline = arm_pipeline(session, SQL_VM_CLIENT, machine.subscription_id)
    url = session.arm_url + resource_path(machine.id) + path("", api_version=SQL_VM_API_VERSION, **{"$expand": "*"})
    return with_auto_backup_settings(get_object(pipeline, url), machine)


def with_auto_backup_settings(raw: Mapping[str, Any], machine: SqlVirtualMachine) -> SqlVirtualMachine:
    """The SQL VM with the Automated Backup settings of its GET body (``$expand=*``)."""
    body = child_reader(machine, "", raw)
    return dataclasses.replace(machine, auto_backup=automated_backup(body.part(AUTO_BACKUP)), unreadable=body.found())


def list_sql_virtual_machines(session: AzureSession, subscription_id: str) -> Iterator[SqlVirtualMachine]:
    """Every SQL virtual machine registered in the subscription."""
    pipeline = arm_pipeline(session, SQL_VM_CLIENT, subscription_id)
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
    Enrichment(SQL_VM_SETTINGS_API, "sql_virtual_machines", with_auto_backup, phase=1),
    Enrichment(TDE_API, "sql_databases", with_tde, phase=2, applies=_user_database),
    Enrichment(SHORT_TERM_RETENTION_API, "sql_databases", with_short_term_retention, phase=2, applies=_user_database),
    Enrichment(LONG_TERM_RETENTION_API, "sql_databases", with_long_term_retention, phase=2, applies=_user_database),
)
