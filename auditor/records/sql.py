"""SQL records: logical servers and their databases, TDE, protectors, backup retention, SQL VMs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from auditor.records.tags import NO_TAGS, Tags
from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class SqlDatabase:
    """An Azure SQL database with its TDE state and backup retention."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    server_id: str
    sku: str | None
    tde_state: str | None = None
    short_term_retention_days: int | None = None
    ltr_weekly: str | None = None
    ltr_monthly: str | None = None
    ltr_yearly: str | None = None
    ltr_week_of_year: int | None = None
    type: str = "Microsoft.Sql/servers/databases"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS

    @property
    def is_system(self) -> bool:
        """True for the master database, which has no user data and no TDE switch."""
        return self.name.lower() == "master"


@dataclass(frozen=True)
class SqlServer:
    """An Azure SQL logical server."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    version: str | None
    public_network_access: str | None
    minimal_tls_version: str | None
    protector_kind: str | None = None
    protector_key_uri: str | None = None
    protector_auto_rotation: bool | None = None
    type: str = "Microsoft.Sql/servers"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS


@dataclass(frozen=True)
class AutomatedBackup:
    """The SQL IaaS Agent's Automated Backup of one SQL Server instance (``autoBackupSettings``)."""

    enabled: bool | None
    schedule_type: str | None = None
    full_frequency: str | None = None
    full_days: tuple[str, ...] = ()
    full_start_hour: int | None = None
    log_interval_minutes: int | None = None
    retention_days: int | None = None
    encryption: bool | None = None
    storage_account_url: str | None = None
    system_databases: bool | None = None

    @property
    def storage_account(self) -> str | None:
        """The target storage account's name: the first label of the blob endpoint's host."""
        if not self.storage_account_url:
            return None
        host = urlsplit(self.storage_account_url).hostname or ""
        return host.split(".", 1)[0] or None


@dataclass(frozen=True)
class SqlVirtualMachine:
    """A SQL Server running on a VM, as the SQL IaaS extension registers it."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    vm_id: str | None
    image_offer: str | None
    image_sku: str | None
    license_type: str | None = None
    management: str | None = None
    # None: the agent reports no Automated Backup settings, so Automated Backup does not protect it.
    auto_backup: AutomatedBackup | None = None
    type: str = "Microsoft.SqlVirtualMachine/sqlVirtualMachines"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS
