"""Typed, frozen inventory records: what collectors produce and checks read.

Fields are snake_case and hold values as Azure reported them; ``None`` means Azure did not report the
value, which checks must never read as compliant.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.records.backup import BackupPolicy, ProtectedItem, RecoveryVault
from auditor.records.compute import Disk, DiskEncryptionSet, Snapshot, VirtualMachine
from auditor.records.identity import (
    ConditionalAccessPolicy,
    DirectoryRoleAssignment,
    DirectoryRoleDefinition,
    DirectoryRoleEligibility,
    GroupMembership,
    RoleAssignment,
    RoleDefinition,
    RoleEligibility,
    SecurityDefaults,
    UserRegistration,
)
from auditor.records.keyvault import KeyVault, KeyVaultKey
from auditor.records.monitor import ActionGroup, AlertRule, DefenderPlan, SecurityContact
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    NetworkInterface,
    NetworkSecurityGroup,
    PublicIpAddress,
    ResourceGroup,
    RouteTable,
    VirtualNetwork,
    VirtualNetworkGateway,
)
from auditor.records.sql import SqlDatabase, SqlServer, SqlVirtualMachine
from auditor.records.storage import StorageAccount
from auditor.records.tls import TlsEndpoint
from auditor.records.web import WebApp


@dataclass(frozen=True)
class Subscription:
    """A subscription the credential can see."""

    subscription_id: str
    display_name: str
    state: str

    @property
    def id(self) -> str:
        """ARM id of the subscription."""
        return f"/subscriptions/{self.subscription_id}"

    type = "Microsoft.Resources/subscriptions"


@dataclass(frozen=True)
class Collection:
    """The outcome of one listing: which API, over which scope, and why it failed if it did."""

    api: str
    subscription_id: str
    scope: str
    ok: bool
    status_code: int | None = None
    error_code: str = ""
    reason: str = ""
    items: int = 0

    def describe(self) -> str:
        """One line naming the API, the status and the reason."""
        status = f"HTTP {self.status_code}" if self.status_code else "no HTTP status"
        code = f" {self.error_code}" if self.error_code else ""
        return f"{self.api} not collected for {self.scope}: {status}{code}: {self.reason}"


# --- the inventory ------------------------------------------------------------------------------


_METADATA_FIELDS = frozenset(
    {
        "source",
        "started_at",
        "finished_at",
        "subscriptions",
        "collections",
        "resource_groups",
        "as_of",
        "field_sources",
        "tls_scope",
    }
)
# What ``Inventory.field_sources`` names: the record field came from ARM ("arm"), Microsoft Graph
# ("microsoft-graph"), Azure Resource Graph ("resource-graph"), or Resource Graph rows completed by ARM
# per-parent calls ("resource-graph+arm").
RESOURCE_GRAPH_SOURCE = "resource-graph"
RESOURCE_GRAPH_NOTE = (
    "Collected through Azure Resource Graph, whose data follows ARM with a delay (usually seconds to minutes)."
)


@dataclass(frozen=True)
class Inventory:
    """Everything one scan collected, with a record of what it could not collect."""

    source: str
    started_at: str
    finished_at: str
    subscriptions: tuple[Subscription, ...] = ()
    collections: tuple[Collection, ...] = ()
    resource_groups: tuple[str, ...] = ()
    # Which source each record field came from, as (field, source); see RESOURCE_GRAPH_SOURCE above.
    field_sources: tuple[tuple[str, str], ...] = ()
    # The moment ages and expiries are judged against: collection time unless the estate pins one.
    as_of: str = ""
    # The TLS endpoints the scan was asked to probe (--tls-endpoint), as given: the probe's scope, beside the
    # App Service custom host names it adds. Empty in snapshots written before the field existed.
    tls_scope: tuple[str, ...] = ()
    network_security_groups: tuple[NetworkSecurityGroup, ...] = ()
    virtual_networks: tuple[VirtualNetwork, ...] = ()
    network_interfaces: tuple[NetworkInterface, ...] = ()
    public_ip_addresses: tuple[PublicIpAddress, ...] = ()
    virtual_machines: tuple[VirtualMachine, ...] = ()
    disks: tuple[Disk, ...] = ()
    snapshots: tuple[Snapshot, ...] = ()
    disk_encryption_sets: tuple[DiskEncryptionSet, ...] = ()
    key_vaults: tuple[KeyVault, ...] = ()
    key_vault_keys: tuple[KeyVaultKey, ...] = ()
    resource_group_records: tuple[ResourceGroup, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    azure_firewalls: tuple[AzureFirewall, ...] = ()
    firewall_policies: tuple[FirewallPolicy, ...] = ()
    virtual_network_gateways: tuple[VirtualNetworkGateway, ...] = ()
    sql_servers: tuple[SqlServer, ...] = ()
    sql_databases: tuple[SqlDatabase, ...] = ()
    sql_virtual_machines: tuple[SqlVirtualMachine, ...] = ()
    storage_accounts: tuple[StorageAccount, ...] = ()
    recovery_vaults: tuple[RecoveryVault, ...] = ()
    backup_policies: tuple[BackupPolicy, ...] = ()
    protected_items: tuple[ProtectedItem, ...] = ()
    security_contacts: tuple[SecurityContact, ...] = ()
    defender_plans: tuple[DefenderPlan, ...] = ()
    action_groups: tuple[ActionGroup, ...] = ()
    alert_rules: tuple[AlertRule, ...] = ()
    role_assignments: tuple[RoleAssignment, ...] = ()
    role_definitions: tuple[RoleDefinition, ...] = ()
    web_apps: tuple[WebApp, ...] = ()
    security_defaults: tuple[SecurityDefaults, ...] = ()
    conditional_access_policies: tuple[ConditionalAccessPolicy, ...] = ()
    directory_role_assignments: tuple[DirectoryRoleAssignment, ...] = ()
    user_registrations: tuple[UserRegistration, ...] = ()
    directory_role_definitions: tuple[DirectoryRoleDefinition, ...] = ()
    directory_role_eligibilities: tuple[DirectoryRoleEligibility, ...] = ()
    group_memberships: tuple[GroupMembership, ...] = ()
    role_eligibilities: tuple[RoleEligibility, ...] = ()
    tls_endpoints: tuple[TlsEndpoint, ...] = ()

    @property
    def reference_time(self) -> datetime:
        """The time checks judge ages and expiries against (timezone-aware UTC)."""
        moment = datetime.fromisoformat((self.as_of or self.finished_at).replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def collection_sources(self) -> tuple[str, ...]:
        """The sources the records came from ("arm", "resource-graph"), sorted; empty when not recorded."""
        return tuple(sorted({part for _, source in self.field_sources for part in source.split("+")}))

    def failed_collections(self) -> tuple[Collection, ...]:
        """Listings that did not complete."""
        return tuple(c for c in self.collections if not c.ok)

    def resource_fields(self) -> tuple[str, ...]:
        """Names of the fields that hold resource records (each record has a subscription_id)."""
        return self.resource_field_names()

    @classmethod
    def resource_field_names(cls) -> tuple[str, ...]:
        """Names of the fields that hold resource records, known without an instance."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in _METADATA_FIELDS)

    def without_scopes(self, subscriptions: frozenset[str], parents: frozenset[str]) -> Inventory:
        """The inventory without the resources of failed scopes: whole subscriptions, or single parents.

        ``parents`` are ARM ids compared case-insensitively; a parent's children (ids under it) go with it.
        """
        if not subscriptions and not parents:
            return self
        prefixes = tuple(p.rstrip("/").lower() + "/" for p in parents)

        def kept(record: object) -> bool:
            if getattr(record, "subscription_id", "") in subscriptions:
                return False
            key = str(getattr(record, "id", "")).rstrip("/").lower() + "/"
            return not key.startswith(prefixes)

        changes = {name: tuple(r for r in getattr(self, name) if kept(r)) for name in self.resource_fields()}
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def without_subscriptions(self, excluded: frozenset[str]) -> Inventory:
        """The same inventory with every resource of the excluded subscriptions removed."""
        if not excluded:
            return self
        changes = {
            name: tuple(r for r in getattr(self, name) if r.subscription_id not in excluded)
            for name in self.resource_fields()
        }
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
